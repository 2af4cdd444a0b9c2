package engine

import (
	"encoding/binary"
	"testing"
)

// The table agrees with a map through growth, for keys that collide on
// their first 8 bytes (the slot) and keys that do not.
func TestHashTable(t *testing.T) {
	tab := newHashTable(4)
	ref := map[[16]byte]int32{}
	key := func(i int, sameSlot bool) (k [16]byte) {
		if !sameSlot {
			binary.LittleEndian.PutUint64(k[:8], uint64(i)*0x9e3779b97f4a7c15)
		}
		binary.LittleEndian.PutUint64(k[8:], uint64(i)+1)
		return k
	}
	for i := 0; i < 5000; i++ {
		k := key(i, i%7 == 0)
		if _, had := tab.put(k, int32(i)); had {
			t.Fatalf("put %d: already there", i)
		}
		ref[k] = int32(i)
		if i%3 == 0 { // a second put replaces, and says so
			old, had := tab.put(k, int32(-i))
			if !had || old != int32(i) {
				t.Fatalf("second put %d: %d, %v", i, old, had)
			}
			ref[k] = int32(-i)
		}
	}
	if tab.n != len(ref) {
		t.Fatalf("len %d, want %d", tab.n, len(ref))
	}
	for k, v := range ref {
		if got, ok := tab.get(k); !ok || got != v {
			t.Fatalf("get %x: %d, %v; want %d", k, got, ok, v)
		}
	}
	for i := 5000; i < 6000; i++ {
		if _, ok := tab.get(key(i, i%2 == 0)); ok {
			t.Fatalf("get of a key never put (%d) found it", i)
		}
	}
	if _, ok := tab.get([16]byte{}); ok {
		t.Fatal("the zero key is found")
	}
}
