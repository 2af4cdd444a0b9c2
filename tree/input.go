package tree

import (
	"encoding/binary"

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

// pair is the hash of a followed by b: order counts.
func pair(a, b Input) Input {
	var buf [32]byte
	copy(buf[:16], a[:])
	copy(buf[16:], b[:])
	return xxh3.Hash128(buf[:]).Bytes()
}
