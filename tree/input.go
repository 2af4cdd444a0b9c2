package tree

import (
	"encoding/binary"
	"strings"
	"unicode/utf8"

	"github.com/zeebo/xxh3"
)

// What a product is made from.
//
// Finish builds a product's payload from its items' records (the shaped
// fields, and what the run's clock made of a sale window), its group's
// records (a parent's aggregates, a variant's donors), the group's
// item_group_id spellings and the Builder's options. Input is a 128-bit
// hash of exactly those records and spellings, in feed order, seeded by
// Options.InputSeed, which the caller derives from everything else a
// payload depends on (the mapping, the policy, the program itself). Two
// products with the same Input have the same payload, so a caller that
// kept the Input of the payload the catalog holds can tell an unchanged
// product without shaping it, encoding it or hashing its JSON
// (FinishKnown).
//
// A record's line and group index are left out: an item that moves in the
// feed, or a group that another one's arrival renumbers, makes the same
// product. A sale window is in: the record holds its state at the run's
// clock, so a window that opens or closes between two runs changes it.

// Input identifies what a product was made from (see above). The zero
// Input is none.
type Input [16]byte

// recordInput is the Input of one record: its bytes after the group index
// and the line, and the item_group_id as the item spelled it.
func (b *Builder) recordInput(enc []byte, gid string) Input {
	in := Input(xxh3.Hash128Seed(recordBody(enc), b.opts.InputSeed).Bytes())
	if gid != "" {
		in = pair(in, xxh3.HashString128Seed(gid, b.opts.InputSeed).Bytes())
	}
	return in
}

// recordBody is an encoded record without its group index and line.
func recordBody(enc []byte) []byte {
	_, n := binary.Varint(enc)
	if n <= 0 {
		return enc
	}
	_, m := binary.Uvarint(enc[n:])
	if m <= 0 {
		return enc
	}
	return enc[n+m:]
}

// addInput folds the next record of a group into the group's Input, in
// feed order.
func (g *group) addInput(in Input) { g.input = pair(g.input, in) }

// variantInput is a grouped variant's Input under the variant policy: its
// group's (donors) and its own.
func variantInput(g *group, own Input) Input { return pair(g.input, own) }

// What a product's items were, byte for byte.
//
// When the reader hashes items (feed.WithItemHash), each record keeps its
// item's Raw, and a product carries Raws: the Raw of its own items, and the
// fold of the Raws of its unit — its group (a parent, or every variant of
// it), or the standalone item itself — in feed order. A caller that kept
// them beside the Input can recognise a whole feed as unchanged without
// parsing it (feed.ScanItems): every item's Raw known, each unit's fold
// the same, and no sale window's edge passed (Raws.Expires).
//
// A product that was reported (a problem or a warning on any of its items,
// a duplicate variant, mixed currencies) has no Raws: a run that skipped
// it by its bytes would not report it again.

// Raws is what a product's items were (see above).
type Raws struct {
	Unit  Input      // fold (RawFold) of the Raws of the product's unit, in feed order
	Items [][16]byte // the product's own items' Raws, in feed order
	// Expires is when the product changes by the clock alone, its items
	// being the same (a sale window's start or end in its unit; UnixNano,
	// 0: never).
	Expires int64
	// Keys are StableKeys of what the Builder compares case-insensitively
	// across the feed: its items' ids and product ids, and its group's
	// item_group_id. A caller must not recognise two products of other
	// units that share one: a parse would merge their groups or skip one
	// as a duplicate.
	Keys []uint64
}

// StableKey is an XXH3 hash of the lower-cased s, the same in every run
// (never 0).
func StableKey(s string) uint64 {
	var buf [64]byte
	var k uint64
	if lower, ok := lowerASCII(&buf, s); ok {
		k = xxh3.Hash(lower)
	} else {
		k = xxh3.HashString(strings.ToLower(s))
	}
	if k == 0 {
		k = 1
	}
	return k
}

// lowerASCII lower-cases s into buf when s is ASCII and fits: the common
// id costs no allocation. ok is false otherwise.
func lowerASCII(buf *[64]byte, s string) (lower []byte, ok bool) {
	if len(s) > len(buf) {
		return nil, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return nil, false
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return buf[:len(s)], true
}

// RawFold folds the next item's Raw into a unit's fold, in feed order; the
// fold of a unit starts at the zero Input.
func RawFold(fold Input, raw [16]byte) Input { return pair(fold, raw) }

// pair is the hash of a followed by b: order counts.
func pair(a, b Input) Input {
	var buf [32]byte
	copy(buf[:16], a[:])
	copy(buf[16:], b[:])
	return xxh3.Hash128(buf[:]).Bytes()
}

// recognisable reports whether a product of group g can carry Raws. A
// field cut to the catalog's limit (Product.Truncated) is no report: a
// sync sends the product cut, and only a plan lists such fields.
func (b *Builder) recognisable(g *group) bool {
	return g.flags&(gNoRaws|gMixed) == 0
}

// rawsOf is the Raws of a group's records, in feed order, and the Keys
// of the group and its records.
func (b *Builder) rawsOf(g *group) ([][16]byte, []uint64) {
	out := make([][16]byte, g.n)
	keys := make([]uint64, 0, 2*g.n+1)
	keys = append(keys, StableKey(b.groupID(g)))
	i := len(out)
	for vi := g.head; vi >= 0 && i > 0; { // the list runs newest first
		v := b.variants.at(vi)
		i--
		out[i] = v.raw
		keys = appendKeys(keys, v.keys)
		vi = v.next
	}
	return out[i:], keys
}

// appendKeys appends an item's keys (id, product id), leaving out a second
// equal one and zeros.
func appendKeys(keys []uint64, k [2]uint64) []uint64 {
	if k[0] != 0 {
		keys = append(keys, k[0])
	}
	if k[1] != 0 && k[1] != k[0] {
		keys = append(keys, k[1])
	}
	return keys
}

// itemKeys are the keys (id, product id) of an item.
func itemKeys(id, pid string) (k [2]uint64) {
	if id != "" {
		k[0] = StableKey(id)
	}
	if pid != "" {
		k[1] = StableKey(pid)
	}
	return k
}
