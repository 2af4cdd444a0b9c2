package engine

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/zeebo/xxh3"

	"github.com/feedsync/feedsync/tree"
)

// knownInputs answers as the map it replaced: the same keys, the last Input
// put under a key, growth past its hint, probes that wrap around the end;
// and a product that carries Raws is known only if its record holds some.
func TestKnownInputsTable(t *testing.T) {
	type entry struct {
		in   tree.Input
		raws bool
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, hint := range []int{0, 100, 5000} {
		k := newKnownInputs(hint)
		ref := map[uint64]entry{} // by key, its Raws bit set
		for i := 0; i < 3000; i++ {
			// Keys are hashes: spread over 64 bits (a table places keys by
			// their high bits), some repeated.
			key := (r.Uint64()%4000 + 1) * 0x9E3779B97F4A7C15
			switch i % 4 {
			case 0:
				key = ^uint64(0) - key%16 // the last slots: probes wrap
			case 1:
				key = xxh3.HashString(fmt.Sprint("id-", key)) // a real id
			}
			var in tree.Input
			in[i%16] = byte(1 + r.IntN(255))
			raws := r.IntN(2) == 0
			k = k.put(key, in, raws)
			ref[key|keyRaws] = entry{in, raws}
		}
		k = k.put(7, tree.Input{}, true) // no Input: not kept
		if len(k) != len(ref) || k == nil {
			t.Fatalf("hint %d: len %d, want %d", hint, len(k), len(ref))
		}
		for key, e := range ref {
			tab := k[:cap(k)]
			found := false
			for _, s := range tab {
				if s.key|keyRaws == key && s.in == e.in && (s.key&keyRaws != 0) == e.raws {
					found = true
				}
			}
			if !found {
				t.Fatalf("hint %d: key %d not held with its last Input and Raws bit", hint, key)
			}
		}
		for i := 0; i < 4000; i++ {
			id := fmt.Sprint("id-", i)
			e, ok := ref[xxh3.HashString(id)|keyRaws]
			if got := k.has(id, e.in, false); got != ok {
				t.Fatalf("hint %d: has(%q, its Input, no Raws) = %v, want %v", hint, id, got, ok)
			}
			if got := k.has(id, e.in, true); got != (ok && e.raws) {
				t.Fatalf("hint %d: has(%q, its Input, Raws) = %v, want %v (record's Raws %v)", hint, id, got, ok && e.raws, e.raws)
			}
			e.in[0]++
			if k.has(id, e.in, false) {
				t.Fatalf("hint %d: has(%q) true for another Input", hint, id)
			}
		}
	}
	for n := 1; n < 3000; n += 1 + n/8 { // the hint holds: n Inputs, no growth
		k := newKnownInputs(n)
		c := cap(k)
		for i := 0; i < n; i++ {
			k = k.put(uint64(i+1)*0x9E3779B97F4A7C15, tree.Input{1}, true)
		}
		if cap(k) != c || len(k) != n {
			t.Fatalf("newKnownInputs(%d) grew to hold %d Inputs", n, n)
		}
	}
	if (knownInputs)(nil).has("x", tree.Input{1}, false) {
		t.Fatal("a nil table knows an Input")
	}
	if k := newKnownInputs(0); k == nil || len(k) != 0 || k.has("x", tree.Input{}, false) {
		t.Fatal("an empty table is not nil, has length 0 and knows nothing")
	}
}

// BenchmarkKnownInputs compares the Go map knownInputs was with the flat
// table, presized from the count as loadKnown does: "load" puts n Inputs,
// "has" looks each up once, in another order. Run with
//
//	go test ./engine -run '^$' -bench KnownInputs -benchtime 3x -count 3
func BenchmarkKnownInputs(b *testing.B) {
	for _, n := range []int{1_000_000, 3_000_000} {
		r := rand.New(rand.NewPCG(uint64(n), 2))
		ids := make([]string, n)
		ins := make([]tree.Input, n)
		for i := range ids {
			ids[i] = fmt.Sprintf("SKU-%08d", i)
			binary.LittleEndian.PutUint64(ins[i][:], r.Uint64()|1)
			binary.LittleEndian.PutUint64(ins[i][8:], r.Uint64())
		}
		order := r.Perm(n)
		perKey := func(b *testing.B) {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/key")
		}
		name := fmt.Sprintf("%dM", n/1_000_000)
		b.Run(name+"/load/map", func(b *testing.B) {
			for b.Loop() {
				m := make(map[uint64]tree.Input, n)
				for i, id := range ids {
					m[xxh3.HashString(id)] = ins[i]
				}
			}
			perKey(b)
		})
		b.Run(name+"/load/flat", func(b *testing.B) {
			for b.Loop() {
				k := newKnownInputs(n)
				for i, id := range ids {
					k = k.put(xxh3.HashString(id), ins[i], true)
				}
			}
			perKey(b)
		})
		m := make(map[uint64]tree.Input, n)
		k := newKnownInputs(n)
		for i, id := range ids {
			m[xxh3.HashString(id)] = ins[i]
			k = k.put(xxh3.HashString(id), ins[i], true)
		}
		hits := 0
		b.Run(name+"/has/map", func(b *testing.B) {
			for b.Loop() {
				for _, i := range order {
					if v, ok := m[xxh3.HashString(ids[i])]; ok && v == ins[i] {
						hits++
					}
				}
			}
			perKey(b)
		})
		b.Run(name+"/has/flat", func(b *testing.B) {
			for b.Loop() {
				for _, i := range order {
					if k.has(ids[i], ins[i], true) {
						hits++
					}
				}
			}
			perKey(b)
		})
	}
}
