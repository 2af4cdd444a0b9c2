package engine

import "encoding/binary"

// hashTable maps 128-bit hashes to int32 values: an open-addressing table
// with linear probing, sized once. Its keys are hashes already (XXH3), so a
// key's first 8 bytes place it; the zero key marks an empty slot and cannot
// be stored. A million keys take 40 MB in two flat arrays, and a lookup
// touches one or two cache lines — a Go map of the same keys spends most of
// a recognised run probing.
type hashTable struct {
	keys []([16]byte)
	vals []int32
	mask uint64
	n    int
}

// newHashTable returns a table for up to n keys (more keys make it grow).
func newHashTable(n int) *hashTable {
	t := &hashTable{}
	t.init(n)
	return t
}

func (t *hashTable) init(n int) {
	size := 16
	for size < n+n/4 { // load ≤ 4/5
		size <<= 1
	}
	t.keys, t.vals, t.mask, t.n = make([][16]byte, size), make([]int32, size), uint64(size-1), 0
}

// slot is where key is, or the empty slot where it would go.
func (t *hashTable) slot(key [16]byte) uint64 {
	i := binary.LittleEndian.Uint64(key[:8]) & t.mask
	for t.keys[i] != key && t.keys[i] != ([16]byte{}) {
		i = (i + 1) & t.mask
	}
	return i
}

// get returns the value of key.
func (t *hashTable) get(key [16]byte) (int32, bool) {
	i := t.slot(key)
	return t.vals[i], t.keys[i] == key && key != ([16]byte{})
}

// put sets the value of key, and reports whether key was there already
// (its old value is then returned, and replaced).
func (t *hashTable) put(key [16]byte, v int32) (old int32, had bool) {
	if key == ([16]byte{}) {
		panic("engine: hashTable: zero key")
	}
	i := t.slot(key)
	if t.keys[i] == key {
		old, t.vals[i] = t.vals[i], v
		return old, true
	}
	if (t.n+1)*5 > len(t.keys)*4 {
		t.grow()
		i = t.slot(key)
	}
	t.keys[i], t.vals[i] = key, v
	t.n++
	return 0, false
}

func (t *hashTable) grow() {
	keys, vals := t.keys, t.vals
	t.init(2 * len(keys))
	for i, k := range keys {
		if k != ([16]byte{}) {
			j := t.slot(k)
			t.keys[j], t.vals[j] = k, vals[i]
			t.n++
		}
	}
}
