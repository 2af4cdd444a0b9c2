package tree

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// What the Builder keeps per group is compact and pointer-free: fixed-size
// group and variant records in chunked arrays, their strings in a byte arena.
// The garbage collector has almost nothing to scan, no string the Builder
// keeps pins a parser's buffer, and growing never copies the whole set.

// sref is a string stored in the arena: chunk (24 bits), offset (20 bits)
// and length (20 bits). The zero sref is the empty string.
type sref uint64

func (r sref) chunk() int { return int(r >> 40) }
func (r sref) off() int   { return int(r>>20) & (1<<20 - 1) }
func (r sref) len() int   { return int(r) & (1<<20 - 1) }

// withLen returns r shortened to n bytes.
func (r sref) withLen(n int) sref { return r&^(1<<20-1) | sref(n) }

// arena stores strings in 1 MiB chunks. A string longer than maxArenaString
// is cut on a rune boundary: only titles, ids, prices and variant values are
// kept, and none of them is sent that long.
type arena struct{ chunks [][]byte }

const (
	arenaChunk     = 1 << 20
	maxArenaString = arenaChunk - 1
)

func (a *arena) add(s string) sref {
	if s == "" {
		return 0
	}
	if len(s) > maxArenaString {
		n := maxArenaString
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n]
	}
	if len(a.chunks) == 0 || len(a.chunks[len(a.chunks)-1])+len(s) > cap(a.chunks[len(a.chunks)-1]) {
		// Small feeds get small chunks: 4 KiB, doubling up to 1 MiB.
		size := arenaChunk
		if len(a.chunks) < 8 {
			size = max(4<<10<<len(a.chunks), len(s))
			size = min(size, arenaChunk)
		}
		a.chunks = append(a.chunks, make([]byte, 0, size))
	}
	c := len(a.chunks) - 1
	off := len(a.chunks[c])
	a.chunks[c] = append(a.chunks[c], s...)
	return sref(c)<<40 | sref(off)<<20 | sref(len(s))
}

func (a *arena) bytes(r sref) []byte {
	if r.len() == 0 {
		return nil
	}
	c, off, n := r.chunk(), r.off(), r.len()
	return a.chunks[c][off : off+n : off+n]
}

func (a *arena) str(r sref) string { return string(a.bytes(r)) }

// chunked is a growable array that never moves its elements.
type chunked[T any] struct {
	chunks [][]T
	n      int
}

const chunkLen = 4096

func (c *chunked[T]) add(v T) int32 {
	if c.n%chunkLen == 0 {
		c.chunks = append(c.chunks, make([]T, 0, chunkLen))
	}
	k := c.n / chunkLen
	c.chunks[k] = append(c.chunks[k], v)
	c.n++
	return int32(c.n - 1)
}

func (c *chunked[T]) at(i int32) *T { return &c.chunks[i/chunkLen][i%chunkLen] }

func (c *chunked[T]) len() int { return c.n }

// group is the compact record of one item_group_id: running aggregates from
// which the parent's fields follow, and the list of its variants. Every
// aggregate is order-independent.
type group struct {
	id      sref // the byte-wise smallest spelling of the item_group_id
	repID   sref // the representative: lowest (availability rank, id)
	title   sref // common prefix of the variants' titles (parent policy)
	repOff  int64
	head    int32 // first variant, -1 for none
	n       uint32
	inStock uint32   // variants in stock
	mask    uint32   // inheritable fields that some variant has
	values  [4]int32 // distinct colors, sizes, materials, patterns: list heads
	priced  priceAgg // prices of the best tier in its first currency
	repCur  uint16   // the representative's currency (index into Builder.curs)
	cur1    uint16   // currency of the first priced variant seen, for mixed-currency reports
	repRank uint8
	flags   uint8
	input   Input // of its records, in feed order (see input.go)
	raw     Input // RawFold of its records' Raws, in feed order
	expires int64 // the earliest saleNext of its records (0: none)
}

const (
	gRepPriced uint8 = 1 << iota // the representative has a price
	gTitleEnd                    // every title ends or reaches a separator where the prefix ends
	gMixed                       // prices in more than one currency
	gEmitted                     // Finish emitted the parent
	gHasCur1
	gOverflow // priced variants of the best tier in a second currency: see Builder.overflow
	gNoRaws   // a record cannot be recognised by its bytes: the group's products have no Raws
)

// priceAgg aggregates the prices of one currency in the best tier.
type priceAgg struct {
	min, max, sale sref
	n              uint32
	cur            uint16
	set            bool
}

// variant is what a group keeps of each of its items.
type variant struct {
	off  int64  // spill offset of the record
	sig  uint64 // hash of the variant attributes, for duplicate variants
	line int32
	next int32
	mask uint32 // inheritable fields the item has
	rank uint8
	raw  [16]byte  // the record's raw
	keys [2]uint64 // StableKeys of its id and product id (0: none)
}

// valueNode is one distinct value of a parent's colors, sizes… list.
type valueNode struct {
	v    sref
	next int32
}

// lessID orders item ids: case-insensitively, then byte-wise.
func lessID(a, b string) bool {
	la, lb := strings.ToLower(a), strings.ToLower(b)
	if la != lb {
		return la < lb
	}
	return a < b
}

// curIndex interns a currency code.
func (b *Builder) curIndex(c string) uint16 {
	if i, ok := b.curIdx[c]; ok {
		return i
	}
	if len(b.curs) >= 1<<16-1 {
		return 0
	}
	c = strings.Clone(c)
	b.curs = append(b.curs, c)
	b.curIdx[c] = uint16(len(b.curs) - 1)
	return uint16(len(b.curs) - 1)
}

func (b *Builder) newGroup() int32 {
	return b.groups.add(group{head: -1, values: [4]int32{-1, -1, -1, -1}})
}

// addToGroup folds one accepted item into its group.
func (b *Builder) addToGroup(gi int32, rec *record, off int64, gid string, sig uint64, mask uint32) {
	g := b.groups.at(gi)
	a := &b.arena
	if g.n == 0 || gid < string(a.bytes(g.id)) {
		g.id = a.add(gid)
	}
	first := g.n == 0
	better := first || rec.rank < g.repRank || (rec.rank == g.repRank && lessID(rec.itemID, string(a.bytes(g.repID))))
	if !first && rec.rank < g.repRank {
		// A better availability tier: prices of the old tier no longer count.
		g.priced = priceAgg{}
		if g.flags&gOverflow != 0 {
			delete(b.overflow, gi)
			g.flags &^= gOverflow
		}
	}
	if better {
		g.repOff, g.repRank = off, rec.rank
		g.repID = a.add(rec.itemID)
		g.flags &^= gRepPriced
		if rec.price != "" {
			g.flags |= gRepPriced
			g.repCur = b.curIndex(rec.currency)
		}
	}
	if rec.rank == rankInStock {
		g.inStock++
	}
	g.mask |= mask
	g.n++
	vi := b.variants.add(variant{off: off, sig: sig, line: rec.line, next: g.head, mask: mask, rank: rec.rank, raw: rec.raw,
		keys: itemKeys(rec.itemID, rec.productID)})
	g.head = vi
	if b.opts.Policy != PolicyParent {
		return
	}
	b.addTitle(g, rec.title, first)
	if rec.price != "" {
		cur := b.curIndex(rec.currency)
		switch {
		case g.flags&gHasCur1 == 0:
			g.cur1, g.flags = cur, g.flags|gHasCur1
		case cur != g.cur1:
			g.flags |= gMixed
		}
		if rec.rank == g.repRank {
			b.addPrice(gi, g, rec, cur)
		}
	}
	for i, v := range rec.plural {
		if v != "" {
			g.values[i] = b.addValue(g.values[i], v)
		}
	}
}

func (b *Builder) addPrice(gi int32, g *group, rec *record, cur uint16) {
	agg := &g.priced
	if agg.set && agg.cur != cur {
		if b.overflow == nil {
			b.overflow = map[int32][]priceAgg{}
		}
		list := b.overflow[gi]
		agg = nil
		for i := range list {
			if list[i].cur == cur {
				agg = &list[i]
			}
		}
		if agg == nil {
			list = append(list, priceAgg{})
			agg = &list[len(list)-1]
		}
		b.overflow[gi] = list
		g.flags |= gOverflow
	}
	a := &b.arena
	if !agg.set {
		*agg = priceAgg{set: true, cur: cur, min: a.add(rec.price), max: a.add(rec.price)}
	} else {
		if decLess(rec.price, string(a.bytes(agg.min))) {
			agg.min = a.add(rec.price)
		}
		if decLess(string(a.bytes(agg.max)), rec.price) {
			agg.max = a.add(rec.price)
		}
	}
	agg.n++
	if rec.saleState == saleInForce && rec.sale != "" && (agg.sale == 0 || decLess(rec.sale, string(a.bytes(agg.sale)))) {
		agg.sale = a.add(rec.sale)
	}
}

// addTitle folds a title into the group's common prefix. The prefix only
// shrinks, so it stays where it was first stored in the arena.
func (b *Builder) addTitle(g *group, title string, first bool) {
	if first {
		g.title = b.arena.add(title)
		g.flags |= gTitleEnd
		return
	}
	p := b.arena.bytes(g.title)
	n := 0
	for n < len(p) && n < len(title) {
		r1, s1 := utf8.DecodeRune(p[n:])
		r2, s2 := utf8.DecodeRuneInString(title[n:])
		if r1 != r2 || s1 != s2 {
			break
		}
		n += s1
	}
	boundary := n == len(title)
	if !boundary {
		r, _ := utf8.DecodeRuneInString(title[n:])
		boundary = isSep(r)
	}
	if n < len(p) {
		// Every earlier title continues with the prefix's next rune.
		r, _ := utf8.DecodeRune(p[n:])
		if isSep(r) {
			g.flags |= gTitleEnd
		} else {
			g.flags &^= gTitleEnd
		}
		g.title = g.title.withLen(n)
	}
	if !boundary {
		g.flags &^= gTitleEnd
	}
}

// name is the parent's name: the common title prefix cut on a word boundary,
// trailing separators removed, if at least minNameLen runes long; ok false
// means the representative's title is used instead.
func (b *Builder) name(g *group) (string, bool) {
	p := b.arena.str(g.title)
	if g.flags&gTitleEnd == 0 {
		if i := strings.LastIndexFunc(p, isSep); i >= 0 {
			p = p[:i]
		} else {
			p = ""
		}
	}
	p = strings.TrimRightFunc(p, isSep)
	if g.n < 2 || utf8.RuneCountInString(p) < minNameLen {
		return "", false
	}
	return p, true
}

// addValue adds v to a list of values compared case-insensitively, keeping
// the byte-wise smallest spelling so the result does not depend on order.
func (b *Builder) addValue(head int32, v string) int32 {
	for i := head; i >= 0; {
		node := b.valueNodes.at(i)
		old := b.arena.bytes(node.v)
		if bytes.EqualFold(old, []byte(v)) {
			if v < string(old) {
				node.v = b.arena.add(v)
			}
			return head
		}
		i = node.next
	}
	return b.valueNodes.add(valueNode{v: b.arena.add(v), next: head})
}

func (b *Builder) valuesOf(head int32) []string {
	var out []string
	for i := head; i >= 0; {
		node := b.valueNodes.at(i)
		out = append(out, b.arena.str(node.v))
		i = node.next
	}
	return out
}

// linesOf lists the lines of a group's items, ascending.
func (b *Builder) linesOf(g *group) []int32 {
	out := make([]int32, 0, g.n)
	for i := g.head; i >= 0; {
		v := b.variants.at(i)
		out = append(out, v.line)
		i = v.next
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// bigGroup is the size from which duplicate variants are found through a map
// rather than by walking the group's list.
const bigGroup = 32

// duplicateOf finds an earlier variant of the group with the same variant
// attributes and returns its line. Call it before adding the variant.
func (b *Builder) duplicateOf(gi int32, sig uint64) (line int32, ok bool) {
	g := b.groups.at(gi)
	if g.n < bigGroup {
		// The list runs newest first: the last match is the first variant.
		for i := g.head; i >= 0; {
			v := b.variants.at(i)
			if v.sig == sig {
				line, ok = v.line, true
			}
			i = v.next
		}
		return line, ok
	}
	if g.n == bigGroup { // the group just became big: index what it has
		if b.bigSigs == nil {
			b.bigSigs = map[variantSig]int32{}
		}
		for i := g.head; i >= 0; {
			v := b.variants.at(i)
			k := variantSig{gi, v.sig}
			if old, ok := b.bigSigs[k]; !ok || v.line < old {
				b.bigSigs[k] = v.line
			}
			i = v.next
		}
	}
	line, ok = b.bigSigs[variantSig{gi, sig}]
	return line, ok
}

// noteSig records a variant of a big group after it was added.
func (b *Builder) noteSig(gi int32, sig uint64, line int32) {
	if b.groups.at(gi).n > bigGroup {
		if _, ok := b.bigSigs[variantSig{gi, sig}]; !ok {
			b.bigSigs[variantSig{gi, sig}] = line
		}
	}
}

// priceSet returns the aggregate the parent's price, price_max and
// sale_price come from: the best tier's prices in the parent's currency.
func (b *Builder) priceSet(gi int32, g *group) (agg *priceAgg, cur string) {
	aggs := []*priceAgg{}
	if g.priced.set {
		aggs = append(aggs, &g.priced)
	}
	if g.flags&gOverflow != 0 {
		list := b.overflow[gi]
		for i := range list {
			aggs = append(aggs, &list[i])
		}
	}
	if g.flags&gRepPriced != 0 {
		for _, a := range aggs {
			if a.cur == g.repCur {
				return a, b.curs[a.cur]
			}
		}
		return nil, b.curs[g.repCur]
	}
	// The representative has no price: the currency most priced variants of
	// the tier share (ties: alphabetical).
	var best *priceAgg
	for _, a := range aggs {
		if best == nil || a.n > best.n || (a.n == best.n && b.curs[a.cur] < b.curs[best.cur]) {
			best = a
		}
	}
	if best == nil {
		return nil, ""
	}
	return best, b.curs[best.cur]
}

// currencies lists the currencies of a mixed group's prices, read back from
// its records (rare: only for the problem report).
func (b *Builder) currencies(g *group) ([]string, error) {
	var out []string
	for i := g.head; i >= 0; {
		v := b.variants.at(i)
		r, err := b.spill.at(v.off)
		if err != nil {
			return nil, err
		}
		if r.price != "" && !contains(out, r.currency) {
			out = append(out, r.currency)
		}
		i = v.next
	}
	sort.Strings(out)
	return out, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// donorRef names the variant that gives an inheritable field to variants
// (and a parent) that lack it: the first in representative order
// (availability, then id) that has the field.
type donorRef struct {
	spec int
	off  int64
	id   string
}

// donors finds, for each inheritable field in need (a bit mask), its donor.
// It reads the records of the candidates that tie on availability.
func (b *Builder) donors(g *group, need uint32) ([]donorRef, error) {
	var out []donorRef
	var repMask uint32
	for i := g.head; i >= 0; {
		v := b.variants.at(i)
		if v.off == g.repOff {
			repMask = v.mask
			break
		}
		i = v.next
	}
	for bit, spec := range b.m.inheritSpecs {
		if need&(1<<bit) == 0 {
			continue
		}
		if repMask&(1<<bit) != 0 {
			// The representative comes first in representative order.
			out = append(out, donorRef{spec: spec, off: g.repOff, id: b.arena.str(g.repID)})
			continue
		}
		bestRank := uint8(255)
		var cands []*variant
		for i := g.head; i >= 0; {
			v := b.variants.at(i)
			if v.mask&(1<<bit) != 0 {
				if v.rank < bestRank {
					bestRank, cands = v.rank, cands[:0]
				}
				if v.rank == bestRank {
					cands = append(cands, v)
				}
			}
			i = v.next
		}
		var best *record
		var bestOff int64
		for _, v := range cands {
			r, err := b.spill.at(v.off)
			if err != nil {
				return nil, err
			}
			if best == nil || lessID(r.itemID, best.itemID) {
				best, bestOff = r, v.off
			}
		}
		if best != nil {
			out = append(out, donorRef{spec: spec, off: bestOff, id: strings.Clone(best.itemID)}) // not the whole record: big groups cache donors
		}
	}
	return out, nil
}

func (b *Builder) groupID(g *group) string { return b.arena.str(g.id) }

// groupError wraps what goes wrong reading a group back.
func groupError(g string, err error) error { return fmt.Errorf("group %q: %w", g, err) }
