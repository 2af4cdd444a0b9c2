package store

import (
	"crypto/sha256"
	"path/filepath"
	"testing"
	"time"
)

// A record keeps the Input of its acknowledged payload; KnownInputs lists
// only settled live products; SetInputs fills in a missing Input only
// while the record still has the hash it was learnt with.
func TestRecordInputs(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "s.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
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
		if err := db.KnownInputs("shop", func(id []byte, v [16]byte) { m[string(id)] = v }); err != nil {
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
