package tree

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/feedsync/feedsync/feed"
)

func TestFlatTable(t *testing.T) {
	for _, hint := range []int{0, 5000} {
		tab := newFlatTable(hint)
		ref := map[uint64]int64{}
		r := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < 20000; i++ {
			// Few distinct keys, neighbours and 0 among them: overwrites,
			// runs of probes and wrap-around at the end of the array.
			k := r.Uint64() % 30000
			if i%3 == 0 {
				k = ^uint64(0) - k%8
			}
			if v, ok := tab.get(k); ok != (ref[k] != 0) || ok && v != ref[k]-1 {
				t.Fatalf("hint %d, get(%d) = %d, %v; want %d", hint, k, v, ok, ref[k]-1)
			}
			v := int64(r.Uint64() >> 2)
			tab.put(k, v)
			ref[k] = v + 1
		}
		if tab.n != len(ref) {
			t.Fatalf("hint %d: len %d, want %d", hint, tab.n, len(ref))
		}
		for k, v := range ref {
			if got, ok := tab.get(k); !ok || got != v-1 {
				t.Fatalf("hint %d: get(%d) = %d, %v; want %d", hint, k, got, ok, v-1)
			}
		}
	}
}

// BenchmarkIDTable compares a Go map with flatTable on the Builder's use of
// its seen tables and group index, at 1M and 3M distinct keys (hashes):
// "add" looks each key up (a miss) and puts it, growing from empty as the
// Builder does without a size hint ("add-hint": presized); "get" looks every
// key up again in another order (hits), as HasProduct and the engine's known
// Inputs do. ns/key is the time per key. Run with
//
//	go test ./tree -run '^$' -bench IDTable -benchtime 3x -count 3
func BenchmarkIDTable(b *testing.B) {
	for _, n := range []int{1_000_000, 3_000_000} {
		r := rand.New(rand.NewPCG(uint64(n), 1))
		keys := make([]uint64, n)
		for i := range keys {
			keys[i] = r.Uint64()
		}
		order := r.Perm(n)
		name := fmt.Sprintf("%dM", n/1_000_000)
		b.Run(name+"/add/map", func(b *testing.B) {
			for b.Loop() {
				m := make(map[uint64]int64)
				for i, k := range keys {
					if _, ok := m[k]; !ok {
						m[k] = int64(i)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/key")
		})
		b.Run(name+"/add/flat", func(b *testing.B) {
			for b.Loop() {
				t := newFlatTable(0)
				for i, k := range keys {
					if _, ok := t.get(k); !ok {
						t.put(k, int64(i))
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/key")
		})
		b.Run(name+"/add-hint/map", func(b *testing.B) {
			for b.Loop() {
				m := make(map[uint64]int64, n)
				for i, k := range keys {
					if _, ok := m[k]; !ok {
						m[k] = int64(i)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/key")
		})
		b.Run(name+"/add-hint/flat", func(b *testing.B) {
			for b.Loop() {
				t := newFlatTable(n)
				for i, k := range keys {
					if _, ok := t.get(k); !ok {
						t.put(k, int64(i))
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/key")
		})
		m := make(map[uint64]int64)
		t := newFlatTable(0)
		for i, k := range keys {
			m[k] = int64(i)
			t.put(k, int64(i))
		}
		var sink int64
		b.Run(name+"/get/map", func(b *testing.B) {
			for b.Loop() {
				for _, i := range order {
					sink += m[keys[i]]
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/key")
		})
		b.Run(name+"/get/flat", func(b *testing.B) {
			for b.Loop() {
				for _, i := range order {
					v, _ := t.get(keys[i])
					sink += v
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/key")
		})
		_ = sink
	}
}

// A collision of two ids' hashes never makes one a duplicate of the other,
// nor puts two groups together: with the keys narrowed to two bits (or to
// one value), every id shares its key, or its neighbour's, with others, and
// the Builder must make what it makes with full keys.
func TestHashCollisions(t *testing.T) {
	var items []*feed.Item
	line := 2
	add := func(kv ...string) {
		items = append(items, item(line, kv...))
		line++
	}
	for i := 0; i < 60; i++ {
		id := fmt.Sprintf("Id-%d", i)
		kv := []string{"id", id, "title", "T " + id, "price", fmt.Sprintf("%d.00 EUR", 10+i), "sku", fmt.Sprintf("S%d", i%45), "color", fmt.Sprint("c", i%3)}
		if i%4 != 0 {
			kv = append(kv, "item_group_id", fmt.Sprintf("G%d", i%7))
		}
		add(kv...)
		if i%9 == 0 { // a duplicate id in other case, and a group in other case
			add("id", strings.ToUpper(id), "title", "dup", "price", "1.00 EUR", "sku", "X"+id, "item_group_id", fmt.Sprintf("g%d", i%7))
		}
	}
	probe := []string{"Id-1", "id-1", "G1", "g1", "G3", "S3", "Id-99", "G99", "S99", "x"}
	run := func(opts Options, mask uint64) (string, []bool, int) {
		opts.Now = now
		b := NewBuilder(opts)
		defer b.Close()
		b.keyMask = mask
		for _, it := range items {
			b.Add(it)
		}
		var out []string
		if err := b.Finish(func(p *Product) error {
			out = append(out, p.ID+" "+string(p.JSON()))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		var has []bool
		for _, id := range probe {
			has = append(has, b.HasProduct(id))
		}
		return strings.Join(out, "\n") + "\n" + problemsText(b) + fmt.Sprintf("\nskipped %d", b.Skipped()), has, b.ProductIDs()
	}
	for _, opts := range []Options{{Policy: PolicyParent}, {Policy: PolicyVariant}, {Policy: PolicyParent, ProductID: "sku"}, {Policy: PolicyVariant, ProductID: "sku"}} {
		want, wantHas, wantN := run(opts, ^uint64(0))
		for _, mask := range []uint64{3, 0} {
			got, has, n := run(opts, mask)
			if got != want {
				t.Errorf("%s/%s, keys masked to %#x: made\n%s\nwant\n%s", opts.Policy, opts.ProductID, mask, got, want)
			}
			if fmt.Sprint(has) != fmt.Sprint(wantHas) || n != wantN {
				t.Errorf("%s/%s, keys masked to %#x: HasProduct %v, ProductIDs %d; want %v, %d", opts.Policy, opts.ProductID, mask, has, n, wantHas, wantN)
			}
		}
	}
}
