package tree

import (
	"cmp"
	"hash/maphash"
	"math/bits"
	"slices"
)

// idSet is a set of ids kept as 128-bit keyed hashes: 16 bytes an id
// instead of the id itself (about 18 with the slack of a growing slice,
// against some 50 for a map of the same keys). For a million ids, the
// chance that any two collide is below 2^-88; a collision makes has true
// for an id that was never added, and len one short.
//
// Adding is an append; the first lookup after an add sorts the keys and
// drops the repeated ones (seal), and indexes them by their top bits so a
// lookup touches a bucket of a few keys.
type idSet struct {
	seeds  [2]maphash.Seed
	keys   [][2]uint64
	sealed bool     // keys are sorted, unique and indexed by dir
	shift  uint     // dir's bucket of a key: k[0] >> shift
	dir    []uint32 // dir[i] is the first key of bucket i; dir[len(dir)-1] = len(keys)
}

func newIDSet() *idSet {
	return &idSet{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, sealed: true}
}

// key is the set's key of id. It reads only the seeds: safe to call from
// several goroutines at once (Prepare).
func (s *idSet) key(id string) [2]uint64 {
	return [2]uint64{maphash.String(s.seeds[0], id), maphash.String(s.seeds[1], id)}
}

func (s *idSet) keyBytes(id []byte) [2]uint64 {
	return [2]uint64{maphash.Bytes(s.seeds[0], id), maphash.Bytes(s.seeds[1], id)}
}

// add adds the id whose key is k.
func (s *idSet) add(k [2]uint64) {
	s.keys = append(s.keys, k)
	s.sealed = false
}

// seal sorts the keys, drops repeats and builds the directory.
func (s *idSet) seal() {
	if s.sealed {
		return
	}
	slices.SortFunc(s.keys, func(a, b [2]uint64) int {
		if c := cmp.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return cmp.Compare(a[1], b[1])
	})
	s.keys = slices.Compact(s.keys)
	// About eight keys a bucket: the directory costs half a byte a key.
	// (Fewer than eight keys: one bucket, as x>>64 is 0.)
	b := max(bits.Len(uint(len(s.keys)))-3, 0)
	s.shift = uint(64 - b)
	s.dir = slices.Grow(s.dir[:0], 1<<b+1)[:1<<b+1]
	i := 0
	for bucket := range s.dir {
		for i < len(s.keys) && int(s.keys[i][0]>>s.shift) < bucket {
			i++
		}
		s.dir[bucket] = uint32(i)
	}
	s.sealed = true
}

// hasKey reports whether k was added. The set must be sealed.
func (s *idSet) hasKey(k [2]uint64) bool {
	if len(s.keys) == 0 {
		return false
	}
	bucket := k[0] >> s.shift
	lo, hi := s.dir[bucket], s.dir[bucket+1]
	for _, x := range s.keys[lo:hi] {
		if x == k {
			return true
		}
		if x[0] > k[0] {
			break
		}
	}
	return false
}

// has reports whether id was added, sealing the set first.
func (s *idSet) has(id string) bool {
	s.seal()
	return len(s.keys) > 0 && s.hasKey(s.key(id))
}

// len is the number of distinct keys, sealing the set first.
func (s *idSet) len() int {
	s.seal()
	return len(s.keys)
}
