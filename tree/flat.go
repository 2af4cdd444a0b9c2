package tree

// flatTable maps uint64 keys — hashes, already well mixed — to values in
// [0, 2^63-1): the Builder's seen tables (id hash → spill offset) and group
// index (item_group_id hash → group). It is one power-of-two array of
// 16-byte slots with linear probing from the key's low bits: a lookup
// reads one slot, or a few neighbours on the same cache line, where a Go
// map at millions of keys makes several dependent loads (directory, table,
// control word, slot), more of them cache misses once the map outgrows
// the caches (see BenchmarkIDTable).
//
// A slot holds its value plus one, so a zero slot is free and the array
// needs no filling. The table starts small and doubles when three
// quarters full (the Builder is told no item count); it has no deletion:
// the Builder never forgets an id.
//
// It is a plain key → value table: a hash collision between two ids is the
// caller's to resolve, by confirming the id behind a hit and probing the
// next key (lookupItem, findGroupFrom), exactly as over a map.
type flatTable struct {
	slots []flatSlot
	mask  uint64 // len(slots)-1
	n     int    // keys held
	grow  int    // n at which the table doubles
}

type flatSlot struct {
	key uint64
	val int64 // value+1; 0: free
}

// flatTableMin is the slots a table starts with: 16 KiB.
const flatTableMin = 1 << 10

// newFlatTable returns a table that holds hint keys without growing.
func newFlatTable(hint int) *flatTable {
	t := &flatTable{}
	n := flatTableMin
	for n/4*3 < hint {
		n *= 2
	}
	t.alloc(n)
	return t
}

func (t *flatTable) alloc(n int) {
	t.slots = make([]flatSlot, n)
	t.mask = uint64(n - 1)
	t.grow = n / 4 * 3
}

// get returns the value of key, and whether the table holds it.
func (t *flatTable) get(key uint64) (int64, bool) {
	slots, mask := t.slots, t.mask
	for i := key & mask; ; i = (i + 1) & mask {
		s := &slots[i]
		if s.val == 0 {
			return 0, false
		}
		if s.key == key {
			return s.val - 1, true
		}
	}
}

// put sets the value of key (val ≥ 0).
func (t *flatTable) put(key uint64, val int64) {
	if t.n >= t.grow {
		t.double()
	}
	slots, mask := t.slots, t.mask
	for i := key & mask; ; i = (i + 1) & mask {
		s := &slots[i]
		if s.val == 0 {
			*s = flatSlot{key, val + 1}
			t.n++
			return
		}
		if s.key == key {
			s.val = val + 1
			return
		}
	}
}

func (t *flatTable) double() {
	old := t.slots
	t.alloc(2 * len(old))
	slots, mask := t.slots, t.mask
	for _, s := range old {
		if s.val == 0 {
			continue
		}
		i := s.key & mask
		for slots[i].val != 0 {
			i = (i + 1) & mask
		}
		slots[i] = s
	}
}
