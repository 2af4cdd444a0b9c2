package store

import (
	"crypto/sha256"
	"encoding/binary"
	"path/filepath"
	"testing"
	"time"
)

// A record keeps the Input of its acknowledged payload; KnownInputs lists
// only settled live products; SetInputs fills in a missing Input only
// while the record still has the hash it was learnt with.
func TestRecordInputs(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "s.db"))
	in := [16]byte{1, 2, 3}
	h := sha256.Sum256([]byte("p"))
	now := time.Now()
	if err := db.Commit("shop", []Ack{
		{ID: "A", At: now, Hash: h, Input: in, Payload: []byte(`{}`), State: Live},
		{ID: "B", At: now, Hash: h, Payload: []byte(`{}`), State: Live},
		{ID: "C", At: now, Hash: h, Input: in, Payload: []byte(`{}`), State: Unavailable},
	}); err != nil {
		t.Fatal(err)
	}
	known := func() map[string][16]byte {
		m := map[string][16]byte{}
		if err := db.KnownInputs("shop", func(id []byte, v [16]byte, _ bool) { m[string(id)] = v }); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := known(); len(m) != 1 || m["A"] != in {
		t.Fatalf("known inputs: %v; want only A's", m)
	}
	in2 := [16]byte{9}
	other := sha256.Sum256([]byte("q"))
	if err := db.SetInputs("shop", []InputFix{{ID: "B", Hash: h, Input: in2}, {ID: "A", Hash: other, Input: in2}, {ID: "gone", Hash: h, Input: in2}}); err != nil {
		t.Fatal(err)
	}
	if m := known(); len(m) != 2 || m["A"] != in || m["B"] != in2 {
		t.Fatalf("after SetInputs: %v; want A unchanged (other hash) and B learnt", m)
	}
	// A new acknowledgement without an Input forgets the old one.
	if err := db.Commit("shop", []Ack{{ID: "A", At: now, Hash: other, Payload: []byte(`{}`), State: Live}}); err != nil {
		t.Fatal(err)
	}
	if m := known(); len(m) != 1 || m["B"] != in2 {
		t.Fatalf("after a new ack: %v; want only B", m)
	}
}

// A record keeps the Raws of its acknowledged payload beside its Input;
// KnownRaws lists only settled live products with both; an acknowledgement
// or an Input learnt replaces them; an uncertain product is not known; a
// reader of the layout before Raws still finds the Input.
func TestRecordRaws(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "s.db"))
	in := [16]byte{1, 2, 3}
	h := sha256.Sum256([]byte("p"))
	now := time.Now()
	raws := &Raws{Unit: [16]byte{7}, Items: [][16]byte{{1}, {2}, {3}}, Expires: now.Add(time.Hour).UnixNano(), Keys: []uint64{11, 12}}
	if err := db.Commit("shop", []Ack{
		{ID: "A", At: now, Hash: h, Input: in, Raws: raws, Payload: []byte(`{}`), State: Live},
		{ID: "B", At: now, Hash: h, Input: in, Payload: []byte(`{}`), State: Live},
		{ID: "C", At: now, Hash: h, Input: in, Raws: raws, Payload: []byte(`{}`), State: Unavailable},
		{ID: "D", At: now, Hash: h, Raws: raws, Payload: []byte(`{}`), State: Live}, // no Input: not known
	}); err != nil {
		t.Fatal(err)
	}
	known := func() map[string]Raws {
		m := map[string]Raws{}
		if err := db.KnownRaws("shop", func(id []byte, unit [16]byte, expires int64, items, keys []byte) {
			x := Raws{Unit: unit, Expires: expires}
			for i := 0; i < len(items); i += 16 {
				x.Items = append(x.Items, [16]byte(items[i:i+16]))
			}
			for i := 0; i < len(keys); i += 8 {
				x.Keys = append(x.Keys, binary.LittleEndian.Uint64(keys[i:]))
			}
			m[string(id)] = x
		}); err != nil {
			t.Fatal(err)
		}
		return m
	}
	m := known()
	if len(m) != 1 || m["A"].Unit != raws.Unit || len(m["A"].Items) != 3 || m["A"].Items[2] != raws.Items[2] || m["A"].Expires != raws.Expires ||
		len(m["A"].Keys) != 2 || m["A"].Keys[1] != 12 {
		t.Fatalf("known raws: %+v; want only A's %+v", m, raws)
	}
	inputs, withRaws := map[string][16]byte{}, map[string]bool{}
	if err := db.KnownInputs("shop", func(id []byte, v [16]byte, raws bool) { inputs[string(id)], withRaws[string(id)] = v, raws }); err != nil {
		t.Fatal(err)
	}
	if inputs["A"] != in || inputs["B"] != in || !withRaws["A"] || withRaws["B"] {
		t.Fatalf("known inputs beside raws: %v, with Raws %v; want A's and B's, A with Raws", inputs, withRaws)
	}
	// The layout before Raws: the Input is the tail's first 16 bytes.
	var r Record
	r.Input, r.Raws, r.Hash, r.State = in, raws, h, Live
	b := r.marshal()
	var old Record
	if err := old.unmarshal(b); err != nil || old.Input != in || old.Raws == nil || len(old.Raws.Items) != 3 {
		t.Fatalf("round trip: %v %+v", err, old)
	}
	if got := b[len(b)-(16+binaryLen(raws)):][:16]; [16]byte(got) != in {
		t.Fatalf("the Input does not come first in the tail: %x", got)
	}
	// SetInputs replaces the Raws with the ones learnt; a new
	// acknowledgement without Raws forgets them.
	raws2 := &Raws{Unit: [16]byte{8}, Items: [][16]byte{{4}}}
	if err := db.SetInputs("shop", []InputFix{{ID: "B", Hash: h, Input: in, Raws: raws2}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Commit("shop", []Ack{{ID: "A", At: now, Hash: h, Input: in, Payload: []byte(`{}`), State: Live}}); err != nil {
		t.Fatal(err)
	}
	if m := known(); len(m) != 1 || m["B"].Unit != raws2.Unit || len(m["B"].Items) != 1 {
		t.Fatalf("after SetInputs and a new ack: %+v; want only B's learnt raws", m)
	}
	// An unfinished run makes B uncertain: not known.
	if _, _, err := db.Intend("shop", "memory", []Intent{{ID: "B"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Recover("shop", now); err != nil {
		t.Fatal(err)
	}
	if m := known(); len(m) != 0 {
		t.Fatalf("after an unfinished run: %+v; want none known", m)
	}
}

// binaryLen is the length of the Raws part of a record's tail.
func binaryLen(x *Raws) int {
	var b []byte
	b = binary.AppendVarint(b, x.Expires)
	b = binary.AppendUvarint(b, uint64(len(x.Items)))
	b = binary.AppendUvarint(b, uint64(len(x.Keys)))
	return 16 + len(b) + 16*len(x.Items) + 8*len(x.Keys)
}
