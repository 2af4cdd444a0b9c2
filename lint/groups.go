package lint

import (
	"fmt"
	"hash/maphash"
	"strings"

	"github.com/feedsync/feedsync/tree"
)

// groupRec is what the group checks remember of one item_group_id: a few
// strings, never the items.
type groupRec struct {
	spelling  string // the id as first written
	product   string // the parent's custom_id, as tree's: the least spelling in byte order of the items it keeps; "" without one
	firstID   string
	firstLine int32
	n         int32
	brand     string
	currency  string
	flags     uint8
}

const (
	gBrandReported uint8 = 1 << iota
	gCurrencyReported
	gCaseReported
	gVariantAttr
	gBrandSet
)

// variantKey identifies a variant by its group and the hash of its variant
// attributes; variantRec is the first item seen with them.
type variantKey struct {
	group int32
	sig   uint64
}

type variantRec struct {
	line int32
	id   textRef // in fileState.text
}

// textRef is a string kept in fileState.text: one buffer holds them all,
// so that a record per item costs no allocation and holds no pointer for
// the garbage collector to follow.
type textRef struct {
	off int
	n   int32
}

// keep copies s into the feed's text buffer.
func (f *fileState) keep(s string) textRef {
	r := textRef{off: len(f.text), n: int32(len(s))}
	f.text = append(f.text, s...)
	return r
}

// kept returns a string that keep copied.
func (f *fileState) kept(r textRef) string { return string(f.text[r.off : r.off+int(r.n)]) }

// feedWide updates the duplicate-id, GTIN and group records with one item
// and reports what they show at once.
func (l *Linter) feedWide(line int, id string, v *itemView) {
	f := l.f
	var groupHash uint64
	if v.itemGroupID != "" {
		groupHash = l.foldHash(v.itemGroupID)
	}
	// member: tree keeps the item (it has an id, not an earlier item's, and
	// ids of a length it takes), so its group has a product under parent.
	member := id != "" && len(id) <= tree.MaxIDBytes && len(v.itemGroupID) <= tree.MaxIDBytes
	// duplicate-variants needs member exact too: tree compares only the
	// variants it keeps.
	if id != "" && (l.on[rDuplicateID] || l.on[rDuplicateIDCase] || l.on[rParentIDCollision] || l.on[rSharedCustomID] || l.on[rDuplicateVariants]) {
		key := l.foldHash(id)
		exact := uint32(maphash.String(l.seed, id))
		p := l.probeID(key, exact)
		if p.hasMine {
			// A later item with this id: tree skips it, so it is no
			// product and shares no custom_id.
			member = false
			if p.mine.exact == exact {
				l.reportf(rDuplicateID, line, id, "id", "id %q is also the id of the item on line %d", id, p.mine.line)
			} else {
				l.reportf(rDuplicateIDCase, line, id, "id", "id %q differs only in letter case from the id of the item on line %d", id, p.mine.line)
			}
		} else {
			rec := idRec{line: int32(line), exact: exact, group: group32(groupHash), file: f.index}
			l.ids[p.free] = rec
			if p.hasPrior && l.isProduct(rec) && member {
				l.sharedCustomID(line, id, "id", fmt.Sprintf("custom_id %q", id), p.prior)
			}
		}
	}
	if v.gtin != "" && isDigits(v.gtin) {
		if l.on[rGTINReused] {
			key := maphash.String(l.seed, strings.TrimLeft(v.gtin, "0"))
			if prev, ok := f.gtins[key]; ok {
				if prev.group != group32(groupHash) || groupHash == 0 {
					l.reportf(rGTINReused, line, id, "gtin", "gtin %s is also on the item on line %d, which is not a variant of the same group", v.gtin, prev.line)
				}
			} else {
				f.gtins[key] = gtinRec{line: int32(line), group: group32(groupHash)}
			}
		}
		if l.on[rGTINTruncated] {
			switch len(v.gtin) {
			case 13:
				if len(f.prefix13) < maxPrefix13 {
					f.prefix13[prefix7(v.gtin)] = struct{}{}
				}
			case 12:
				if len(f.gtin12) < maxPending12 && gs1CheckDigit(v.gtin) {
					f.gtin12 = append(f.gtin12, pendingGTIN{line: int32(line), id: strings.Clone(id), gtin: strings.Clone(v.gtin)})
				}
			}
		}
	}
	if v.itemGroupID != "" {
		l.group(line, id, v, groupHash, member)
	}
}

// prefix7 is the number the first seven digits of a GTIN spell: a key that
// tells prefixes apart as well as the digits do, and costs no allocation.
func prefix7(gtin string) uint32 {
	n := uint32(0)
	for i := 0; i < 7; i++ {
		n = n*10 + uint32(gtin[i]-'0')
	}
	return n
}

// idProbe is what probeID found of one id.
type idProbe struct {
	mine     idRec // this feed's first item with the lower-cased id
	hasMine  bool
	prior    idRec // an earlier feed's product with exactly the id
	hasPrior bool
	free     uint64 // the first free key from the id's
}

// probeID looks an id up in l.ids from key, the hash of the lower-cased id,
// up to the first free key; exact is 32 bits of the id's own hash. Entries
// of the feed being linted answer mine; entries of earlier feeds (there are
// some only with shared-custom-id on) answer prior when they are products
// with the same exact hash: the sync engine's owner index compares
// custom_ids byte for byte, so ids that differ in case are not shared.
func (l *Linter) probeID(key uint64, exact uint32) idProbe {
	var p idProbe
	for ; ; key++ {
		r, ok := l.ids[key]
		if !ok {
			p.free = key
			return p
		}
		switch {
		case r.file == l.f.index:
			if !p.hasMine {
				p.mine, p.hasMine = r, true
			}
		case !p.hasPrior && r.exact == exact && l.isProduct(r):
			p.prior, p.hasPrior = r, true
		}
	}
}

// isProduct reports whether the item (or parent) of r is a product of its
// own, its id a custom_id: every item under --policy variant; items outside
// variant groups, and parents, under --policy parent; items outside groups
// without a policy, the ids that are custom_ids under either policy.
func (l *Linter) isProduct(r idRec) bool {
	return r.group == 0 || l.opts.Policy == tree.PolicyVariant
}

// sharedCustomID reports a custom_id that an earlier feed's product (prior)
// has too; the sync refuses this feed's product.
func (l *Linter) sharedCustomID(line int, itemID, attr, what string, prior idRec) {
	if !l.hit(rSharedCustomID) {
		return
	}
	l.add(rSharedCustomID, line, itemID, attr, fmt.Sprintf("%s is also a product of %s (line %d): feeds that share a catalog must not share a custom_id; sync skips this feed's product",
		what, l.files[prior.file].File, prior.line))
}

// group32 keeps 32 bits of a group hash, never 0 for a group.
func group32(h uint64) uint32 {
	if h == 0 {
		return 0
	}
	return uint32(h>>32) | 1
}

// foldHash hashes s lower-cased, without allocating for ASCII.
func (l *Linter) foldHash(s string) uint64 {
	var buf [64]byte
	if len(s) <= len(buf) {
		ascii := true
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c >= 0x80 {
				ascii = false
				break
			}
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf[i] = c
		}
		if ascii {
			return maphash.Bytes(l.seed, buf[:len(s)])
		}
	}
	return maphash.String(l.seed, strings.ToLower(s))
}

// group adds an item to its variant group's record.
// Groups are keyed by a 64-bit hash of the lower-cased id: two ids that
// collide would be taken for one group, a chance of about 1 in 10^8 for a
// million groups.
//
// member says tree keeps the item; only those name the parent.
func (l *Linter) group(line int, id string, v *itemView, key uint64, member bool) {
	f := l.f
	gi, ok := f.groups[key]
	if !ok {
		gi = int32(len(f.recs))
		f.groups[key] = gi
		f.recs = append(f.recs, groupRec{spelling: strings.Clone(v.itemGroupID), firstID: strings.Clone(id), firstLine: int32(line)})
	}
	g := &f.recs[gi]
	g.n++
	if member && (g.product == "" || v.itemGroupID < g.product) {
		g.product = v.itemGroupID
		if g.product == g.spelling {
			g.product = g.spelling // shares its bytes
		} else {
			g.product = strings.Clone(g.product)
		}
	}
	if g.spelling != v.itemGroupID && g.flags&gCaseReported == 0 && l.on[rGroupIDCase] {
		g.flags |= gCaseReported
		l.reportf(rGroupIDCase, line, id, "item_group_id", "item_group_id %q and %q (line %d) differ only in letter case: they are one group", v.itemGroupID, g.spelling, g.firstLine)
	}
	if v.brand != "" {
		if g.flags&gBrandSet == 0 {
			g.brand, g.flags = strings.Clone(v.brand), g.flags|gBrandSet
		} else if !strings.EqualFold(g.brand, v.brand) && g.flags&gBrandReported == 0 && l.on[rGroupBrandMismatch] {
			g.flags |= gBrandReported
			l.reportf(rGroupBrandMismatch, line, id, "brand", "brand %q differs from %q, the brand of other variants of group %q", v.brand, g.brand, g.spelling)
		}
	}
	if cur := v.currency; cur != "" {
		if g.currency == "" {
			g.currency = cur // feed.CheckPrice returns the currency table's string: no feed memory kept
		} else if cur != g.currency && g.flags&gCurrencyReported == 0 && l.on[rGroupMixedCurrency] {
			g.flags |= gCurrencyReported
			l.reportf(rGroupMixedCurrency, line, id, "price", "price is in %s, other variants of group %q in %s", cur, g.spelling, g.currency)
		}
	}
	// The variant attributes and how they compare are tree's
	// (tree.VariantAttributes), so lint finds the duplicate variants the
	// Builder reports: among the items it keeps (member).
	if v.variants.Any() {
		g.flags |= gVariantAttr
	}
	if !l.on[rDuplicateVariants] || !member {
		return
	}
	vk := variantKey{group: gi, sig: v.variants.Hash(l.seed)}
	if prev, ok := f.variants[vk]; ok {
		if l.hit(rDuplicateVariants) {
			desc := v.variants.Describe()
			if desc == "" {
				desc = "none given"
			}
			l.add(rDuplicateVariants, line, id, "item_group_id", fmt.Sprintf("variant of group %q identical to item %q (line %d) in every variant attribute (%s)", g.spelling, f.kept(prev.id), prev.line, desc))
		}
		return
	}
	f.variants[vk] = variantRec{line: int32(line), id: f.keep(id)}
}

// finishGroups reports what needs every group complete.
func (l *Linter) finishGroups() {
	parent := l.opts.Policy == tree.PolicyParent && l.on[rParentIDCollision]
	for i := range l.f.recs {
		g := &l.f.recs[i]
		if parent {
			key := l.foldHash(g.spelling)
			if it := l.probeID(key, 0); it.hasMine && it.mine.group != group32(key) {
				l.reportf(rParentIDCollision, int(g.firstLine), g.firstID, "item_group_id", "group %q becomes product %q under the parent policy, but the item on line %d, outside the group, has that id", g.spelling, g.spelling, it.mine.line)
			}
		}
		switch {
		case g.n == 1:
			l.reportf(rGroupOfOne, int(g.firstLine), g.firstID, "item_group_id", "group %q has a single item", g.spelling)
		case g.flags&gVariantAttr == 0:
			l.reportf(rGroupNoVariantAttribute, int(g.firstLine), g.firstID, "item_group_id", "none of the %d items of group %q has %s", g.n, g.spelling, tree.VariantAttributeList())
		}
	}
	l.parentClaims()
}

// parentClaims checks, under --policy parent, each group's custom_id (its
// item_group_id) against the earlier feeds' products, and records it for
// the later feeds' — after every other look-up of this feed's ids, which
// the records would otherwise answer.
func (l *Linter) parentClaims() {
	if l.opts.Policy != tree.PolicyParent || !l.on[rSharedCustomID] {
		return
	}
	for i := range l.f.recs {
		g := &l.f.recs[i]
		if g.product == "" {
			continue // tree skips every item of the group: no parent
		}
		exact := uint32(maphash.String(l.seed, g.product))
		p := l.probeID(l.foldHash(g.product), exact)
		if p.hasMine && p.mine.group == 0 && p.mine.exact == exact {
			continue // an item outside the group has the id: one custom_id (parent-id-collision), checked with the item
		}
		if p.hasPrior {
			l.sharedCustomID(int(g.firstLine), g.firstID, "item_group_id", fmt.Sprintf("custom_id %q (the parent of group %q)", g.product, g.spelling), p.prior)
		}
		l.ids[p.free] = idRec{line: g.firstLine, exact: exact, file: l.f.index}
	}
}
