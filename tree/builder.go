package tree

import (
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"runtime"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/feedsync/feedsync/feed"
)

// Builder collects a feed's items and emits its products. Add every item,
// then read Problems, Explain any product, and call Finish; Close releases the
// temporary spill file (a Builder that is dropped without Close releases it
// when garbage-collected).
//
// Memory: the Builder keeps one compact group record per item_group_id,
// a hash of each lower-cased id for duplicate detection and a 128-bit hash
// of the custom_id of each standalone item or variant (HasProduct); the
// shaped fields of each item go to a spill that moves from memory to an
// unlinked temporary file once it passes a few megabytes.
type Builder struct {
	opts  Options
	m     *mapping
	spill *spill
	// Keys are hashes of lower-cased ids: no id is kept twice. A hit is
	// confirmed against the record (or the group's id); a collision probes
	// the next key. The tables are flat open-addressing arrays (flat.go),
	// not Go maps: at millions of ids a probe is one cache miss.
	seed   maphash.Seed
	seen   *flatTable // item id → spill offset of its first item
	seenID *flatTable // product id → spill offset (product_id other than id)
	index  *flatTable // item_group_id → group
	// keyMask is ANDed into every key (hash): all ones, but a test narrows
	// it to make distinct ids collide.
	keyMask uint64

	// The custom_ids of the items that are products of their own:
	// standalone items, and every item under the variant policy. A parent's
	// custom_id is its group's id, found through index.
	products *idSet
	// ProductIDs' answer, and the Items count it was computed at (-1: none).
	productIDs, productIDsAt int

	arena      arena
	groups     chunked[group]
	variants   chunked[variant]
	valueNodes chunked[valueNode]
	curs       []string // interned currency codes
	curIdx     map[string]uint16
	overflow   map[int32][]priceAgg // best-tier prices in a second currency (rare)
	bigSigs    map[variantSig]int32 // variant attributes → first line, for big groups
	donorCache map[int32][]donorRef // variant policy: donors found during Finish

	problems []feed.Problem
	warned   []feed.Problem // see Warnings
	nWarned  int
	// dupFrom is len(problems) when Finish began (-1 before), dupSkipped
	// the products it skipped for a taken custom_id (see dedup.go).
	dupFrom, dupSkipped int
	finalized           int // len(problems) before the group problems were appended; -1 when not finalized
	items               int
	skipped             int
	expires             int64 // see Expires (UnixNano; 0: never)
	err                 error
	buf                 []byte
}

type variantSig struct {
	group int32
	sig   uint64
}

// ErrUnknownProduct is returned by Explain for an id that is not a product.
var ErrUnknownProduct = errors.New("no such product")

// NewBuilder returns a Builder for one feed.
func NewBuilder(opts Options) *Builder {
	if strings.TrimSpace(opts.ProductID) == "" {
		opts.ProductID = "id"
	}
	opts.ProductID = feed.NormalizeName(opts.ProductID)
	if opts.Policy == "" {
		opts.Policy = PolicyVariant
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	b := &Builder{
		opts:         opts,
		m:            newMapping(opts.Fields, opts.Policy, opts.ProductID),
		spill:        &spill{dir: opts.SpillDir},
		seed:         maphash.MakeSeed(),
		seen:         newFlatTable(opts.Items),
		index:        newFlatTable(opts.Items / 2), // groups: fewer than items
		keyMask:      ^uint64(0),
		products:     newIDSet(),
		productIDsAt: -1,
		curIdx:       map[string]uint16{},
		finalized:    -1,
		dupFrom:      -1,
	}
	b.curIndex("")
	if opts.ProductID != "id" {
		b.seenID = newFlatTable(opts.Items)
	}
	runtime.AddCleanup(b, func(s *spill) { s.close() }, b.spill)
	return b
}

// Close releases the spill file. The Builder cannot be used afterwards.
func (b *Builder) Close() error { return b.spill.close() }

// Problems lists the items that were skipped and the defects noticed (mixed
// currencies, duplicate variants, unreadable sale dates), each with its line.
// Call it after the last Add.
func (b *Builder) Problems() []feed.Problem {
	b.finalize()
	return b.problems
}

// Skipped is the number of items that were not turned into products
// (duplicates, no product id, an id over MaxIDBytes). Problems also holds
// reports that skip nothing.
func (b *Builder) Skipped() int { return b.skipped }

// Items is the number of items added, skipped ones included.
func (b *Builder) Items() int { return b.items }

// Expires is the first moment after Options.Now at which the products
// Finish emits would differ, the items being the same: the start or end of
// a sale window (sale_price_effective_date) of an item added, whichever
// comes first. The zero Time: the products do not depend on the clock. A
// caller that skips unchanged feeds by their bytes must read the feed
// again from then on.
func (b *Builder) Expires() time.Time {
	if b.expires == 0 {
		return time.Time{}
	}
	return time.Unix(0, b.expires).UTC()
}

func (b *Builder) report(it *feed.Item, id, format string, args ...any) {
	b.problems = append(b.problems, feed.Problem{Line: it.Line, ItemID: strings.Clone(id), Msg: fmt.Sprintf(format, args...)})
}

func (b *Builder) skip(it *feed.Item, id, format string, args ...any) {
	b.skipped++
	b.report(it, id, format+": item skipped", args...)
}

// Add takes one item. Items without a product id, items whose id, product
// id or item_group_id is longer than MaxIDBytes, and duplicates of an id
// seen before (compared case-insensitively, as Google does), are reported
// and skipped; the first occurrence wins.
func (b *Builder) Add(it *feed.Item) { b.AddPrepared(b.Prepare(it)) }

// Prepared is an item with the part of Add that needs no builder state done
// ahead: its ids, and the fields the policy sends, shaped.
type Prepared struct {
	it       *feed.Item
	id, pid  string
	rec      *record   // nil when the item has no product id or an id is too long
	reports  []string  // problems found while shaping, reported by AddPrepared
	warnings []warning // defects the product is sent with (see warnings.go)
	gid      string    // item_group_id, trimmed
	long     string    // the attribute longer than MaxIDBytes, if any
	sig      uint64    // VariantValues.Hash of the item (grouped items)
	// Hashes of the lower-cased id, product id and item_group_id: the
	// first keys to probe in the seen tables and the group index.
	idKey, pidKey, gidKey uint64
	// The products set's key of pid, when the item is a product of its own
	// (standalone, or any item under the variant policy).
	pidSum [2]uint64
}

// Prepare does the part of Add that reads only the builder's options and
// mapping. It is safe to call from several goroutines at once, while Add or
// AddPrepared run; AddPrepared must then take the results in feed order.
func (b *Builder) Prepare(it *feed.Item) *Prepared {
	p := &Prepared{it: it, id: strings.TrimSpace(it.ID())}
	p.pid = p.id
	if b.opts.ProductID != "id" {
		p.pid = strings.TrimSpace(it.Get(b.opts.ProductID))
	}
	if p.pid == "" {
		return p
	}
	p.gid = strings.TrimSpace(it.Get("item_group_id"))
	switch {
	case len(p.id) > MaxIDBytes:
		p.long = "id"
	case len(p.pid) > MaxIDBytes:
		p.long = b.opts.ProductID
	case len(p.gid) > MaxIDBytes:
		p.long = "item_group_id"
	}
	if p.long != "" {
		return p
	}
	id := p.id
	if id == "" {
		id = p.pid
	}
	p.rec = b.record(it, id, p.pid, func(format string, args ...any) {
		p.reports = append(p.reports, fmt.Sprintf(format, args...))
	})
	p.warnings = b.warnings(it, p.rec, p.warnings)
	if p.id != "" {
		p.idKey = b.hash(p.id)
	}
	if b.seenID != nil {
		p.pidKey = b.hash(p.pid)
	}
	if p.gid != "" {
		p.gidKey = b.hash(p.gid)
		vals := ItemVariantValues(it)
		p.sig = vals.Hash(b.seed)
	}
	if p.gid == "" || b.opts.Policy != PolicyParent {
		p.pidSum = b.products.key(p.pid)
	}
	return p
}

// MaxIDBytes is the longest item id, product id (Options.ProductID) or
// item_group_id, in bytes after trimming, that a Builder accepts; an item
// with a longer one is reported and skipped (Problems, Skipped). The limit
// is there for where ids go: a product's custom_id (its product id, or a
// parent's item_group_id) is sent to the catalog as it is, and it is the
// product's key in feedsync's state, where bbolt refuses keys over 32 KiB —
// an id past that would make every state commit of the feed fail, and the
// run retry it forever. Real ids are far shorter than 1,000 bytes.
const MaxIDBytes = 1000

// clipID shortens an id for a problem report: its first 60 bytes or so,
// cut on a rune boundary, and "…".
func clipID(s string) string {
	const n = 60
	if len(s) <= n+len("…") {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// AddPrepared finishes Add for an item Prepare took.
func (b *Builder) AddPrepared(p *Prepared) {
	it := p.it
	b.items++
	if b.finalized >= 0 { // an Add after Problems or Explain: recompute group problems
		b.problems = b.problems[:b.finalized]
		b.finalized = -1
	}
	id, pid := p.id, p.pid
	if pid == "" {
		b.skip(it, id, "no %s (the product id source)", b.opts.ProductID)
		return
	}
	switch p.long {
	case "":
	case "id":
		b.skip(it, clipID(id), "id is %d bytes long, above the limit of %d bytes", len(id), MaxIDBytes)
		return
	case "item_group_id":
		b.skip(it, id, "item_group_id %q is %d bytes long, above the limit of %d bytes", clipID(p.gid), len(p.gid), MaxIDBytes)
		return
	default:
		b.skip(it, id, "%s %q is %d bytes long, above the limit of %d bytes", p.long, clipID(pid), len(pid), MaxIDBytes)
		return
	}
	var idKey, pidKey uint64
	if id != "" {
		k, first, dup, err := b.lookupItem(b.seen, id, p.idKey, func(r *record) string { return r.itemID })
		if err != nil {
			b.fail(err)
			return
		}
		if dup {
			b.skip(it, id, "duplicate id (ids compare case-insensitively; first seen on line %d)", first)
			return
		}
		idKey = k
	}
	if b.seenID != nil {
		k, first, dup, err := b.lookupItem(b.seenID, pid, p.pidKey, func(r *record) string { return r.productID })
		if err != nil {
			b.fail(err)
			return
		}
		if dup {
			b.skip(it, id, "duplicate %s %q (first seen on line %d)", b.opts.ProductID, pid, first)
			return
		}
		pidKey = k
	}
	if id == "" {
		id = pid
	}
	rec := p.rec
	for _, msg := range p.reports {
		b.report(it, id, "%s", msg)
	}
	for _, w := range p.warnings {
		if b.nWarned++; len(b.warned) < MaxWarnings {
			b.warned = append(b.warned, feed.Problem{Line: it.Line, ItemID: strings.Clone(id), Msg: w.code + ": " + w.msg, Code: w.code})
		}
	}

	if len(p.reports) > 0 || len(p.warnings) > 0 {
		rec.raw = [16]byte{} // reported: never recognised by its bytes (see Raws)
	}
	gid, sig := p.gid, p.sig
	if gid != "" {
		rec.group = b.groupOf(gid, p.gidKey)
		b.checkVariant(it, id, rec.group, gid, sig)
		g := b.groups.at(rec.group)
		if rec.raw == ([16]byte{}) {
			g.flags |= gNoRaws
		}
		g.raw = RawFold(g.raw, rec.raw)
		if rec.saleNext != 0 && (g.expires == 0 || rec.saleNext < g.expires) {
			g.expires = rec.saleNext
		}
	}
	if rec.saleNext != 0 && (b.expires == 0 || rec.saleNext < b.expires) {
		b.expires = rec.saleNext
	}
	b.buf = rec.encode(b.buf[:0])
	if rec.group >= 0 {
		b.groups.at(rec.group).addInput(b.recordInput(b.buf, gid))
	}
	off, err := b.spill.append(b.buf)
	if err != nil {
		b.fail(err)
		return
	}
	if id != "" && strings.TrimSpace(it.ID()) != "" {
		b.seen.put(idKey, off)
	}
	if b.seenID != nil {
		b.seenID.put(pidKey, off)
	}
	if rec.group < 0 || b.opts.Policy != PolicyParent {
		b.products.add(p.pidSum) // the item is a product of its own, with custom_id pid
	}
	if rec.group >= 0 {
		var mask uint32
		for _, f := range rec.fields {
			mask |= b.m.inheritBit[f.spec]
		}
		b.addToGroup(rec.group, rec, off, gid, sig, mask)
		b.noteSig(rec.group, sig, rec.line)
	}
}

// HasProduct reports whether Finish will emit a product with exactly this
// custom_id (case-sensitive, exact bytes). Call it after the last Add (or
// after Finish); it reads no spill. The first call after an Add sorts the
// set of ids: HasProduct and ProductIDs must not run concurrently with each
// other or with Add.
//
// The custom_ids of standalone items and variants are kept as 128-bit
// keyed hashes (16 bytes each), not as ids. A collision — for a million
// ids, the chance that any two collide is below 2^-88 — makes HasProduct
// err towards true (and ProductIDs count one fewer); it never makes it
// false for an id Finish emits. A parent's id is checked exactly, against
// its group.
func (b *Builder) HasProduct(id string) bool {
	if b.products.has(id) {
		return true
	}
	if b.opts.Policy != PolicyParent || id == "" || len(id) > MaxIDBytes {
		return false
	}
	gi, _, ok := b.findGroup(id)
	if !ok {
		return false
	}
	g := b.groups.at(gi)
	return g.n > 0 && b.groupID(g) == id
}

// ProductIDs is the number of distinct custom_ids Finish will emit (a
// product that shares its custom_id with an earlier one — e.g. a group id
// equal to another item's id — counts once). Call it after the last Add
// (or after Finish); see HasProduct on hash collisions and concurrency.
// Under the parent policy its first call after an Add looks every group's
// id up in the set of ids (memory only, no spill).
func (b *Builder) ProductIDs() int {
	if b.productIDsAt == b.items {
		return b.productIDs
	}
	n := b.products.len()
	if b.opts.Policy == PolicyParent {
		for gi := int32(0); int(gi) < b.groups.len(); gi++ {
			g := b.groups.at(gi)
			if g.n > 0 && !b.products.hasKey(b.products.keyBytes(b.arena.bytes(g.id))) {
				n++ // no standalone item has the parent's id
			}
		}
	}
	b.productIDs, b.productIDsAt = n, b.items
	return n
}

func (b *Builder) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

// hash is the key of an id in the seen tables and the group index: the hash
// of its lower-cased form. Short ASCII ids, nearly all of them, are
// lower-cased on the stack.
func (b *Builder) hash(s string) uint64 { return b.lowerHash(s) & b.keyMask }

func (b *Builder) lowerHash(s string) uint64 {
	var buf [64]byte
	if lower, ok := lowerASCII(&buf, s); ok {
		return maphash.Bytes(b.seed, lower)
	}
	return maphash.String(b.seed, strings.ToLower(s))
}

// lookupItem finds an id in one of the seen tables, probing from key (b.hash
// of id): whether an earlier item had it and that item's line, or else the
// free key to register it under.
func (b *Builder) lookupItem(seen *flatTable, id string, key uint64, idOf func(*record) string) (_ uint64, first int32, dup bool, err error) {
	var lower string
	for ; ; key++ {
		off, ok := seen.get(key)
		if !ok {
			return key, 0, false, nil
		}
		if lower == "" {
			lower = strings.ToLower(id)
		}
		if err := b.spill.flush(); err != nil {
			return 0, 0, false, err
		}
		r, err := b.spill.at(off)
		if err != nil {
			return 0, 0, false, err
		}
		if strings.ToLower(idOf(r)) == lower {
			return key, r.line, true, nil
		}
	}
}

// groupOf returns the group of an item_group_id (key: b.hash(gid)),
// creating it if new.
func (b *Builder) groupOf(gid string, key uint64) int32 {
	gi, key, ok := b.findGroupFrom(gid, key)
	if !ok {
		gi = b.newGroup()
		b.index.put(key, int64(gi))
	}
	return gi
}

// findGroup looks an item_group_id up, case-insensitively.
func (b *Builder) findGroup(gid string) (gi int32, key uint64, ok bool) {
	return b.findGroupFrom(gid, b.hash(gid))
}

// findGroupFrom is findGroup probing from key, b.hash(gid).
func (b *Builder) findGroupFrom(gid string, key uint64) (gi int32, _ uint64, ok bool) {
	var lower string
	for ; ; key++ {
		v, ok := b.index.get(key)
		gi := int32(v)
		if !ok {
			return 0, key, false
		}
		if lower == "" {
			lower = strings.ToLower(gid)
		}
		if strings.ToLower(b.groupID(b.groups.at(gi))) == lower {
			return gi, key, true
		}
	}
}

// record shapes an item into what the Builder keeps of it.
// record shapes an item; report is told of problems found on the way. It
// reads only the mapping and options, so Prepare may run it concurrently.
func (b *Builder) record(it *feed.Item, id, pid string, report func(format string, args ...any)) *record {
	m := b.m
	rec := &record{group: -1, line: int32(it.Line), itemID: id, productID: pid, raw: it.Raw}
	av, ok := feed.NormalizeAvailability(it.Get(m.availAttr))
	rec.rank = rankOf(av, ok)
	if ok {
		rec.avail = av
	}
	if p, err := feed.ParsePrice(it.Get(m.priceAttr)); err == nil {
		rec.price, rec.currency = p.Amount, p.Currency
	}
	if raw := strings.TrimSpace(it.Get(m.saleAttr)); raw != "" {
		sp, err := feed.ParsePrice(raw)
		switch {
		case err != nil:
			rec.saleState, rec.saleNote = saleUnusable, err.Error()
			report("%s: sale price ignored", err)
		case rec.price != "" && sp.Currency != rec.currency:
			rec.saleState = saleUnusable
			rec.saleNote = fmt.Sprintf("sale price in %q, price in %q", sp.Currency, rec.currency)
			report("%s: sale price ignored", rec.saleNote)
		default:
			rec.sale = sp.Amount
			var next time.Time
			rec.saleState, rec.saleNote, next = saleAt(it.Get("sale_price_effective_date"), b.opts.Now)
			if !next.IsZero() {
				rec.saleNext = next.UnixNano()
			}
			if rec.saleState == saleMalformed {
				report("%s: sale price not in force", rec.saleNote)
			}
		}
	}
	rec.title = collapse(it.Get(m.titleAttr))
	for i, a := range m.plural {
		if a != "" {
			rec.plural[i] = collapse(it.Get(a))
		}
	}
	rec.fields = make([]fieldValue, 0, m.shaped)
	for i := range m.specs {
		s := &m.specs[i]
		switch s.kind {
		case kindText, kindURL, kindLower:
		default:
			continue
		}
		if v, trunc, ok := shape(s.kind, s.value(it)); ok {
			rec.fields = append(rec.fields, fieldValue{spec: i, value: v, truncated: trunc})
		}
	}
	return rec
}

// checkVariant reports an item whose variant attributes (sig, the Hash of
// its VariantValues; see VariantAttributes) equal those of an earlier item
// of its group (Google's ITEM_GROUP_DUPLICATE_VARIANTS).
func (b *Builder) checkVariant(it *feed.Item, id string, gi int32, gid string, sig uint64) {
	first, dup := b.duplicateOf(gi, sig)
	if !dup {
		return
	}
	b.groups.at(gi).flags |= gNoRaws
	vals := ItemVariantValues(it)
	what := "no " + VariantAttributeList()
	if desc := vals.Describe(); desc != "" {
		what = "the same " + desc
	}
	b.report(it, id, "duplicate variant in item_group_id %q: %s as the item on line %d; give each variant distinct variant attributes", gid, what, first)
}

// finalize adds the problems that need whole groups (mixed currencies).
func (b *Builder) finalize() {
	if b.finalized >= 0 {
		return
	}
	b.finalized = len(b.problems)
	if b.opts.Policy != PolicyParent {
		return
	}
	if err := b.spill.flush(); err != nil {
		b.err = err
		return
	}
	for gi := int32(0); int(gi) < b.groups.len(); gi++ {
		g := b.groups.at(gi)
		if g.flags&gMixed == 0 {
			continue
		}
		curs, err := b.currencies(g)
		if err != nil {
			b.err = err
			return
		}
		for j, c := range curs {
			curs[j] = orNone(c)
		}
		_, cur := b.priceSet(gi, g)
		id := b.groupID(g)
		b.problems = append(b.problems, feed.Problem{Line: int(b.linesOf(g)[0]), ItemID: id,
			Msg: fmt.Sprintf("item_group_id %q mixes currencies (%s): the representative %s's currency %s wins, prices in other currencies are left out of price and price_max",
				id, strings.Join(curs, ", "), b.arena.str(g.repID), orNone(cur))})
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// Finish emits every product in feed order: a standalone item or a variant
// where it stands, a parent where its group first appears. It stops at the
// first error emit returns, or at a spill read or write error.
func (b *Builder) Finish(emit func(*Product) error) error {
	_, err := b.FinishKnown(nil, emit)
	return err
}

// FinishKnown is Finish that first asks known, when it is not nil, about
// each product, with its custom_id, its Input (see input.go) and whether it
// carries Raws: a product known is neither shaped nor emitted, only counted
// in the number returned. (A caller that holds the Input but not the Raws
// does better to say unknown: the product emitted brings its Raws.) Every
// product emitted carries its Input. Which products exist, and which are
// skipped for a custom_id taken, is decided as by Finish.
func (b *Builder) FinishKnown(known func(id string, in Input, raws bool) bool, emit func(*Product) error) (int, error) {
	b.finalize()
	if b.err != nil {
		return 0, b.err
	}
	if err := b.spill.flush(); err != nil {
		return 0, err
	}
	cache := &recordCache{}
	for i := int32(0); int(i) < b.groups.len(); i++ {
		b.groups.at(i).flags &^= gEmitted | gTaken
	}
	b.resetDuplicates()
	skipped := 0
	decode := func(enc []byte) (*record, error) { return decodeRecord(bytes.Clone(enc)) }
	err := b.spill.eachRaw(func(_ int64, enc []byte) error {
		group, id, raw, err := peekRecord(enc)
		if err != nil {
			return err
		}
		if group < 0 {
			taken := b.standaloneTaken(id)
			in := b.recordInput(enc, "")
			if !taken && known != nil && known(id, in, raw != ([16]byte{})) {
				skipped++
				return nil
			}
			r, err := decode(enc)
			if err != nil {
				return err
			}
			p, err := b.variantProduct(r, nil, nil)
			if err != nil {
				return err
			}
			if taken {
				b.duplicate(p)
				return nil
			}
			p.Input = in
			if r.raw != ([16]byte{}) {
				p.Raws = &Raws{Unit: RawFold(Input{}, r.raw), Items: [][16]byte{r.raw}, Expires: r.saleNext, Keys: appendKeys(nil, itemKeys(r.itemID, r.productID))}
			}
			return emit(p)
		}
		g := b.groups.at(group)
		if b.opts.Policy == PolicyParent {
			if g.flags&gEmitted != 0 {
				return nil
			}
			g.flags |= gEmitted
			taken := g.flags&gTaken != 0
			if !taken && known != nil && known(b.groupID(g), g.input, b.recognisable(g)) {
				skipped++
				return nil
			}
			p, _, err := b.parentProduct(group, cache)
			if err != nil {
				return err
			}
			if taken {
				b.duplicate(p)
				return nil
			}
			p.Input = g.input
			if b.recognisable(g) {
				items, keys := b.rawsOf(g)
				p.Raws = &Raws{Unit: g.raw, Items: items, Expires: g.expires, Keys: keys}
			}
			return emit(p)
		}
		in := variantInput(g, b.recordInput(enc, ""))
		if known != nil && known(id, in, b.recognisable(g)) {
			skipped++
			return nil
		}
		r, err := decode(enc)
		if err != nil {
			return err
		}
		p, err := b.variantProduct(r, g, cache)
		if err != nil {
			return err
		}
		p.Input = in
		if b.recognisable(g) {
			keys := appendKeys([]uint64{StableKey(b.groupID(g))}, itemKeys(r.itemID, r.productID))
			p.Raws = &Raws{Unit: g.raw, Items: [][16]byte{r.raw}, Expires: g.expires, Keys: keys}
		}
		return emit(p)
	})
	return skipped, err
}

// recordCache keeps the last few donor records read back from the spill:
// the variants of one group usually share one donor.
type recordCache struct {
	offs [4]int64
	recs [4]*record
	next int
}

func (b *Builder) donorRecord(off int64, c *recordCache) (*record, error) {
	for i, o := range c.offs {
		if o == off && c.recs[i] != nil {
			return c.recs[i], nil
		}
	}
	r, err := b.spill.at(off)
	if err != nil {
		return nil, err
	}
	c.offs[c.next], c.recs[c.next] = off, r
	c.next = (c.next + 1) % len(c.offs)
	return r, nil
}

// inherit fills the inheritable fields p lacks (need, a bit mask) from the
// group's donors, and returns, per field, the id of the variant that gave it.
func (b *Builder) inherit(p *payload, gi int32, g *group, need uint32, c *recordCache) (map[string]string, error) {
	if need == 0 {
		return nil, nil
	}
	var ds []donorRef
	var err error
	if b.opts.Policy == PolicyParent || g.n <= bigGroup {
		ds, err = b.donors(g, need)
	} else {
		// The variants of a big group: find its donors once.
		var ok bool
		if ds, ok = b.donorCache[gi]; !ok {
			ds, err = b.donors(g, g.mask)
			if b.donorCache == nil {
				b.donorCache = map[int32][]donorRef{}
			}
			b.donorCache[gi] = ds
		}
	}
	if err != nil {
		return nil, err
	}
	from := map[string]string{}
	for _, d := range ds {
		if need&b.m.inheritBit[d.spec] == 0 {
			continue
		}
		dr, err := b.donorRecord(d.off, c)
		if err != nil {
			return nil, err
		}
		for _, f := range dr.fields {
			if f.spec == d.spec {
				key := b.m.specs[f.spec].key
				p.set(key, f.value, f.truncated)
				from[key] = d.id
			}
		}
	}
	return from, nil
}

// payload is a product payload under construction.
type payload struct {
	fields    []payloadField
	truncated []string
}

func newPayload(n int) *payload { return &payload{fields: make([]payloadField, 0, n)} }

func (p *payload) set(key, v string, truncated bool) {
	p.fields = append(p.fields, payloadField{key: key, str: v})
	if truncated {
		p.truncated = append(p.truncated, key)
	}
}

// number sets a decimal, written bare in JSON.
func (p *payload) number(key, v string) {
	p.fields = append(p.fields, payloadField{key: key, str: v, kind: fieldNumber})
}

func (p *payload) int(key string, n int) {
	p.fields = append(p.fields, payloadField{key: key, n: n, kind: fieldInt})
}

func (p *payload) text(key, v string) {
	v, trunc := cut(v)
	if v != "" {
		p.set(key, v, trunc)
	}
}

func (p *payload) product(id string, lines []int32) *Product {
	sort.Strings(p.truncated)
	ls := make([]int, len(lines))
	for i, l := range lines {
		ls[i] = int(l)
	}
	sort.Ints(ls)
	// Sort the fields by key (insertion sort: a payload has a couple of
	// dozen at most, and it is stable); a key set twice keeps its last value.
	fs := p.fields
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && fs[j-1].key > fs[j].key; j-- {
			fs[j-1], fs[j] = fs[j], fs[j-1]
		}
	}
	out := fs[:0]
	for i := range fs {
		if i+1 < len(fs) && fs[i+1].key == fs[i].key {
			continue
		}
		out = append(out, fs[i])
	}
	// The id is copied: a record's strings share one buffer, and callers
	// keep ids (sets, maps) long after the payload is gone.
	return &Product{ID: strings.Clone(id), fields: out, Lines: ls, Truncated: p.truncated}
}

// variantProduct is the product of a standalone item (g nil), or of one
// variant under the variant policy; inherited says which fields came from
// which other variant.
func (b *Builder) variantProduct(r *record, g *group, c *recordCache) (p *Product, err error) {
	p, _, err = b.variantProductFrom(r, g, c)
	return p, err
}

func (b *Builder) variantProductFrom(r *record, g *group, c *recordCache) (*Product, map[string]string, error) {
	m := b.m
	p := newPayload(len(r.fields) + 6) // its fields, custom_id, prices, availability, group
	p.set(FieldCustomID, r.productID, false)
	for _, f := range r.fields {
		p.set(m.specs[f.spec].key, f.value, f.truncated)
	}
	var from map[string]string
	if g != nil {
		var own uint32
		for _, f := range r.fields {
			own |= b.m.inheritBit[f.spec]
		}
		var err error
		if from, err = b.inherit(p, r.group, g, g.mask&^own, c); err != nil {
			return nil, nil, err
		}
	}
	if m.send[FieldPrice] && r.price != "" {
		p.number(FieldPrice, r.price)
	}
	if m.send[FieldCurrency] && r.currency != "" {
		p.set(FieldCurrency, r.currency, false)
	}
	if m.send[FieldSalePrice] && r.saleState == saleInForce {
		p.number(FieldSalePrice, r.sale)
	}
	if m.send[FieldAvailability] && r.avail != "" {
		p.set(FieldAvailability, r.avail, false)
	}
	if m.send[FieldItemGroupID] && g != nil {
		p.text(FieldItemGroupID, b.groupID(g))
	}
	return p.product(r.productID, []int32{r.line}), from, nil
}

// parentProduct collapses a group into one product (parent policy). Fields
// that are not derived are the representative's; inherited says which ones
// came from another variant because the representative lacks them.
func (b *Builder) parentProduct(gi int32, c *recordCache) (*Product, map[string]string, error) {
	g := b.groups.at(gi)
	rep, err := b.spill.at(g.repOff)
	if err != nil {
		return nil, nil, groupError(b.groupID(g), err)
	}
	m := b.m
	p := newPayload(len(rep.fields) + 14) // the representative's, then the derived fields
	id := b.groupID(g)
	p.set(FieldCustomID, id, false)
	var own uint32
	for _, f := range rep.fields {
		s := &m.specs[f.spec]
		own |= m.inheritBit[f.spec]
		if s.perVariant || s.key == FieldName {
			continue
		}
		p.set(s.key, f.value, f.truncated)
	}
	var perVariant uint32
	for bit, spec := range m.inheritSpecs {
		if m.specs[spec].perVariant { // never taken from another variant either
			perVariant |= 1 << bit
		}
	}
	inherited, err := b.inherit(p, gi, g, g.mask&^own&^perVariant, c)
	if err != nil {
		return nil, nil, groupError(id, err)
	}
	if m.send[FieldName] {
		if name, ok := b.name(g); ok {
			p.text(FieldName, name)
		} else {
			p.text(FieldName, rep.title)
		}
	}
	if m.send[FieldAvailability] {
		p.set(FieldAvailability, rankNames[g.repRank], false)
	}
	if agg, cur := b.priceSet(gi, g); agg != nil {
		if m.send[FieldPrice] {
			p.number(FieldPrice, b.arena.str(agg.min))
		}
		if m.send[FieldPriceMax] {
			p.number(FieldPriceMax, b.arena.str(agg.max))
		}
		if m.send[FieldSalePrice] && agg.sale != 0 {
			p.number(FieldSalePrice, b.arena.str(agg.sale))
		}
		if m.send[FieldCurrency] && cur != "" {
			p.set(FieldCurrency, cur, false)
		}
	}
	for i, f := range pluralFields {
		if m.send[f] && g.values[i] >= 0 {
			p.text(f, joinNatural(b.valuesOf(g.values[i])))
		}
	}
	if m.send[FieldVariantCount] {
		p.int(FieldVariantCount, int(g.n))
	}
	if m.send[FieldInStockCount] {
		p.int(FieldInStockCount, int(g.inStock))
	}
	return p.product(id, b.linesOf(g)), inherited, nil
}
