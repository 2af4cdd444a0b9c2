package engine

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/zeebo/xxh3"

	"github.com/feedsync/feedsync/feed"
	"github.com/feedsync/feedsync/store"
	"github.com/feedsync/feedsync/tree"
)

// A feed recognised by its items' bytes.
//
// The state keeps, beside each settled product's Input, the hashes of the
// bytes of the items it was made from (store.Raws, from tree.Raws): its own
// items, and a fold of its unit's (its group, or the standalone item) in
// feed order. Before a product feed is parsed, recognise reads it with
// feed.ScanItems, which finds each item's bytes and hashes them without
// parsing them. When
//
//   - every item of the feed is an item of a settled live product, no item
//     twice,
//   - each unit that has any item in the feed has all of them, in the same
//     order (its fold is the one recorded), and
//   - no sale window of those units started or ended since (Raws.Expires),
//
// the products of the feed are exactly those units' products, each with
// the payload the catalog acknowledged: the run sends nothing for them. It
// then goes on as any run does with the products it found — the guards,
// the removals of the products the feed no longer has, the commit — without
// parsing, shaping or diffing a single item. At the first item it does not
// know, or a unit changed, it reads the feed again from its start, in full.
//
// The items' hashes are seeded like the Inputs (inputSeed: the settings
// and the program), so a change of either recognises nothing. A product
// that was reported when it was built (a problem, a warning, a value cut)
// has no Raws (see tree.Raws), nor has any product the reader reported a
// problem on, nor any product of a run whose reader reported a problem on
// no item: a run that recognised them would not report them again. Units
// that share a key a parse compares case-insensitively (an id, a product
// id, an item_group_id: tree.Raws.Keys) are never recognised: a parse of a
// feed with both would merge them or skip one.
//
// Only a sync of a product feed whose body can be read twice (a file, or a
// download kept while it was hashed) tries it; not a plan, a resync, a run
// that needs every product (publish) or that keeps the feed's ids (orders
// map their lines through them).

// errUnrecognised stops the scan at an item that is not known.
var errUnrecognised = errors.New("an item not known by its bytes")

// unitMemo is what the state says of one unit, and what the scan found.
type unitMemo struct {
	fold     tree.Input // recorded: RawFold of its items, in feed order
	want     int32      // items recorded
	got      int32      // items the scan found
	seen     tree.Input // RawFold of the items the scan found
	expires  int64      // UnixNano; 0: never
	products int32      // its products (records)
	bad      bool       // an item is claimed twice: never recognised
}

// rawMemo is the state's Raws, indexed for the scan.
type rawMemo struct {
	units    []unitMemo
	byItem   *hashTable // item hash → unit
	byID     *hashTable // XXH3-128 of a product's custom_id → unit
	idClash  bool       // two custom_ids share a hash: give up
	items    int        // items the scan recognised
	products int        // products of the units found
}

// loadRawMemo reads the Raws of the feed's settled products.
func (r *run) loadRawMemo() (*rawMemo, error) {
	m := &rawMemo{units: make([]unitMemo, 0, r.meta.Products), byItem: newHashTable(r.meta.Items), byID: newHashTable(r.meta.Products)}
	// Under the parent policy a unit is one product; under the variant
	// policy the variants of a group share their unit's fold.
	var byFold *hashTable
	if r.fc.Policy != tree.PolicyParent {
		byFold = newHashTable(r.meta.Products)
	}
	type unitKey struct {
		key  uint64
		unit int32
	}
	keyed := make([]unitKey, 0, r.meta.Items+r.meta.Items/4) // an item's id, and a group's
	err := r.s.DB.KnownRaws(r.fc.Name, func(id []byte, unit [16]byte, expires int64, items, keys []byte) {
		if unit == ([16]byte{}) {
			return // not a fold any unit can have: never recognised
		}
		u, ok := int32(0), false
		if byFold != nil {
			u, ok = byFold.get(unit)
		}
		if !ok {
			u = int32(len(m.units))
			m.units = append(m.units, unitMemo{fold: unit})
			if byFold != nil {
				byFold.put(unit, u)
			}
		}
		um := &m.units[u]
		um.want += int32(len(items) / 16)
		um.products++
		if expires != 0 && (um.expires == 0 || expires < um.expires) {
			um.expires = expires
		}
		for i := 0; i+16 <= len(items); i += 16 {
			it := [16]byte(items[i : i+16])
			if it == ([16]byte{}) {
				um.bad = true
				continue
			}
			if v, dup := m.byItem.put(it, u); dup {
				m.units[v].bad, um.bad = true, true
			}
		}
		if _, dup := m.byID.put(xxh3.Hash128(id).Bytes(), u); dup {
			m.idClash = true
		}
		for i := 0; i+8 <= len(keys); i += 8 {
			keyed = append(keyed, unitKey{binary.LittleEndian.Uint64(keys[i:]), u})
		}
	})
	// Two units that share an id, a product id or an item_group_id, as a
	// parse compares them (case-insensitively), would not be two units in
	// a parse of a feed that has both: never recognised. (Sorted, the keys
	// take a third of the memory a table of them would.)
	slices.SortFunc(keyed, func(a, b unitKey) int { return cmp.Compare(a.key, b.key) })
	for i := 1; i < len(keyed); i++ {
		if a, b := keyed[i-1], keyed[i]; a.key == b.key && a.unit != b.unit {
			m.units[a.unit].bad, m.units[b.unit].bad = true, true
		}
	}
	return m, err
}

// item takes the next item of the feed: false when it is not recognised.
func (m *rawMemo) item(raw [16]byte) bool {
	u, ok := m.byItem.get(raw)
	if !ok || m.units[u].bad {
		return false
	}
	um := &m.units[u]
	um.seen = tree.RawFold(um.seen, raw)
	um.got++
	m.items++
	return true
}

// complete checks the units found after the whole feed was scanned, at the
// run's clock; it returns the earliest sale edge among them (0: none).
func (m *rawMemo) complete(now time.Time) (expires int64, ok bool) {
	for i := range m.units {
		u := &m.units[i]
		if u.got == 0 {
			continue
		}
		if u.got != u.want || u.seen != u.fold || (u.expires != 0 && now.UnixNano() >= u.expires) {
			return 0, false
		}
		m.products += int(u.products)
		if u.expires != 0 && (expires == 0 || u.expires < expires) {
			expires = u.expires
		}
	}
	return expires, true
}

// recognise tries to end the run on a feed recognised by its items' bytes
// (see above). done is false when the feed must be parsed: its body is
// then at its start again.
func (r *run) recognise(ctx context.Context) (done bool, err error) {
	body := r.resp.Body
	if r.orders != nil || r.opts.Mode != ModeSync || r.opts.Parse || r.opts.EveryProduct || r.opts.KeepIDs ||
		r.meta.ConfigSHA256 != r.fingerprint || !body.Rewindable() {
		return false, nil
	}
	start := time.Now()
	// The first items must be among those the last parse began with
	// before the state's Raws are read: a feed that changed near its start
	// costs a few items' scan, not a read of every record.
	sample, err := r.s.DB.RawSample(r.fc.Name)
	if err != nil {
		return false, fmt.Errorf("read state: %w", err)
	}
	inSample := make(map[[16]byte]bool, len(sample)/16)
	for i := 0; i+16 <= len(sample); i += 16 {
		inSample[[16]byte(sample[i:i+16])] = true
	}
	var m *rawMemo
	var first [][16]byte // the items scanned before m was read
	load := func() error {
		var err error
		if m, err = r.loadRawMemo(); err != nil {
			return fmt.Errorf("read state: %w", err)
		}
		if len(m.units) == 0 || m.idClash {
			return errUnrecognised
		}
		for _, raw := range first {
			if !m.item(raw) {
				return errUnrecognised
			}
		}
		return nil
	}
	var in io.Reader = body
	if r.opts.WrapScan != nil {
		in = r.opts.WrapScan(body)
	}
	err = feed.ScanItems(in, r.fc.URL, r.fc.Format, r.inputSeed, func(_ int, raw [16]byte) error {
		if m == nil {
			if len(first) < len(inSample) {
				if !inSample[raw] {
					return errUnrecognised
				}
				first = append(first, raw)
				return ctx.Err()
			}
			if err := load(); err != nil {
				return err
			}
		}
		if !m.item(raw) {
			return errUnrecognised
		}
		return ctx.Err()
	}, feed.MaxDecompressedBytes(int64(r.fc.MaxSize)))
	if err == nil && m == nil {
		err = load() // fewer items than the sample
	}
	if err == nil {
		_, err = io.Copy(io.Discard, body) // the hash covers every byte
	}
	var expires int64
	ok := false
	if err == nil {
		expires, ok = m.complete(r.now())
	}
	if !ok || m.items == 0 {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		items := len(first)
		if m != nil {
			items = m.items
		}
		r.log.Debug().AnErr("why", err).Int("recognised", items).Str("took", took(start)).Msg("the feed is read in full: not every item was recognised by its bytes")
		if err := body.Rewind(); err != nil {
			r.sum.Fetch = FetchFailed
			return false, err
		}
		return false, nil
	}
	r.log.Debug().Int("items", m.items).Int("products", m.products).Str("took", took(start)).Msg("every item recognised by its bytes: no product changed")
	h := body.Sum()
	r.bodyHex = hex.EncodeToString(h[:])
	r.sum.Fetch = FetchChanged
	r.sum.Bytes = body.BytesRead()
	r.sum.Items, r.sum.Recognised = m.items, m.items
	r.expires = expiresAt(time.Time{})
	if expires != 0 {
		r.expires = expiresAt(time.Unix(0, expires))
	}
	r.obs.Read(m.items)
	src := &recognisedSource{m: m}
	known := func() (knownInputs, error) { return nil, nil }
	rm, err := r.guard(src)
	if err != nil {
		return true, err
	}
	return true, r.push(ctx, src, rm, known)
}

// recognisedSource is the source of a recognised feed: the products of the
// units found, each unchanged.
type recognisedSource struct{ m *rawMemo }

func (s *recognisedSource) Items() int                             { return s.m.items }
func (s *recognisedSource) Problems() []feed.Problem               { return nil }
func (s *recognisedSource) Skipped() int                           { return 0 }
func (s *recognisedSource) Warnings() []feed.Problem               { return nil }
func (s *recognisedSource) WarningCount() int                      { return 0 }
func (s *recognisedSource) ProductIDs() int                        { return s.m.products }
func (s *recognisedSource) Close() error                           { return nil }
func (s *recognisedSource) Finish(func(*tree.Product) error) error { return nil }

// HasProduct reports whether id is a product of a unit the feed has.
func (s *recognisedSource) HasProduct(id string) bool {
	u, ok := s.m.byID.get(xxh3.HashString128(id).Bytes())
	return ok && s.m.units[u].got > 0
}

// problemLines are the lines of problems (see run.readProbLines). A
// problem that names no item and skipped none — a text feed's header, say —
// might be anyone's: it counts as line 0.
func problemLines(ps []feed.Problem) map[int]bool {
	if len(ps) == 0 {
		return nil
	}
	m := make(map[int]bool, len(ps))
	for _, p := range ps {
		if p.ItemID == "" && p.Kind != feed.ProblemSkippedItem {
			m[0] = true
		}
		m[p.Line] = true
	}
	return m
}

// readerReported reports whether the reader reported a problem on one of
// p's items — or one without a line, which might be anyone's.
func (r *run) readerReported(p *tree.Product) bool {
	if r.readProbLines == nil {
		return false
	}
	if r.readProbLines[0] {
		return true
	}
	for _, l := range p.Lines {
		if r.readProbLines[l] {
			return true
		}
	}
	return false
}

// storeRaws is a product's Raws as the state keeps them.
func storeRaws(p *tree.Product) *store.Raws {
	if p.Raws == nil {
		return nil
	}
	return &store.Raws{Unit: p.Raws.Unit, Items: p.Raws.Items, Expires: p.Raws.Expires, Keys: p.Raws.Keys}
}

// sampleItems is how many of a parse's first items' Raws are kept: a feed
// with 1% of its products changed has one among them all but about once in
// a thousand runs.
const sampleItems = 1024

// sampler keeps the Raws of the first items a reader hands out.
type sampler struct {
	feed.Reader
	sample []byte
	off    bool // an item was not hashed: the sample is empty
}

func (s *sampler) Next() (*feed.Item, error) {
	it, err := s.Reader.Next()
	if err == nil && len(s.sample) < 16*sampleItems && !s.off {
		if s.sample == nil {
			s.sample = make([]byte, 0, 16*sampleItems)
		}
		if it.Raw == ([16]byte{}) { // not hashed: nothing to keep
			s.sample, s.off = s.sample[:0], true
		} else {
			s.sample = append(s.sample, it.Raw[:]...)
		}
	}
	return it, err
}
