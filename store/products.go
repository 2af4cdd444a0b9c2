package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// State is what feedsync last did with a product.
type State uint8

// Product states.
const (
	// Live: the catalog acknowledged the product as the feed has it.
	Live State = 1
	// Unavailable: the product left the feed and was marked out of stock.
	Unavailable State = 2
	// Failed: never acknowledged; the catalog rejected it (LastError says why).
	Failed State = 3
	// Pending: an operation was sent by a run that never learnt its outcome
	// (killed, or the sink stopped), and the catalog never acknowledged
	// anything else for it: the catalog may or may not hold it.
	Pending State = 4
)

func (s State) String() string {
	switch s {
	case Live:
		return "live"
	case Unavailable:
		return "unavailable"
	case Failed:
		return "failed"
	case Pending:
		return "pending"
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// Record is what the state keeps for one product.
type Record struct {
	Hash       [32]byte // of the last acknowledged payload; zero when never acknowledged
	FirstSeen  time.Time
	LastPushed time.Time
	State      State
	LastError  string
	// Uncertain: an operation on this product reached the sink but its
	// outcome was never recorded (a kill, a crash, a run that stopped), or a
	// later attempt to settle it was rejected. The catalog may hold anything
	// for it, so the next run sends what the feed says — an upsert, a delete
	// or an unavailable mark — whatever the hashes say, and only an
	// acknowledgement clears the flag.
	Uncertain bool
	// seq is the journal entry (see Intend) of the last operation whose
	// outcome was recorded: an entry at or below it is settled for this
	// product, whatever became of the entry's other operations.
	seq uint64
	// Input identifies what the acknowledged payload was made from (see
	// tree.Input); zero when unknown. A product of the same Input has the
	// same payload, so a run can tell it unchanged without shaping it.
	Input [16]byte
	// Raws says what the acknowledged payload's items were, byte for byte
	// (see tree.Raws); nil when unknown.
	Raws *Raws
	// Payload is the last acknowledged payload, used to mark a product that left
	// the feed as unavailable with its last known fields, and by plan to say
	// which fields change. It is stored compressed (see encodePayload), in a
	// bucket of its own, so that the diff's lookups read only the compact
	// records.
	Payload []byte
}

// Raws is what the items of a product were, byte for byte: the hashes
// tree.Raws holds. A run whose feed has exactly the items of the settled
// products' Raws, each unit in the same order, holds nothing new
// (KnownRaws).
type Raws struct {
	Unit    [16]byte   // the fold of its unit's items (its group, or itself)
	Items   [][16]byte // its own items
	Expires int64      // when it changes by the clock alone (UnixNano; 0: never)
	Keys    []uint64   // what a parse compares case-insensitively (tree.Raws.Keys)
}

// Acknowledged reports whether the catalog ever accepted this product.
func (r *Record) Acknowledged() bool { return r.Hash != [32]byte{} }

// Record layouts: version 2 had no flags byte; version 3 (format version 3)
// has one after the state. Both are read; version 3 is written.
const (
	recordV2      = 2
	recordVersion = 3

	flagUncertain = 1 << 0
)

func (r *Record) marshal() []byte {
	b := make([]byte, 0, 1+32+8+8+2+2*binary.MaxVarintLen64+len(r.LastError))
	b = append(b, recordVersion)
	b = append(b, r.Hash[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(r.FirstSeen.Unix()))
	b = binary.BigEndian.AppendUint64(b, uint64(r.LastPushed.Unix()))
	b = append(b, byte(r.State))
	var flags byte
	if r.Uncertain {
		flags |= flagUncertain
	}
	b = append(b, flags)
	b = binary.AppendUvarint(b, r.seq)
	b = binary.AppendUvarint(b, uint64(len(r.LastError)))
	b = append(b, r.LastError...)
	if r.Input != ([16]byte{}) || r.Raws != nil {
		// After the fields every reader knows: a binary that predates it
		// ignores it, and drops it when it rewrites the record. The Raws
		// follow the Input, which readers before them take alone.
		b = append(b, r.Input[:]...)
	}
	if x := r.Raws; x != nil {
		b = append(b, x.Unit[:]...)
		b = binary.AppendVarint(b, x.Expires)
		b = binary.AppendUvarint(b, uint64(len(x.Items)))
		for _, it := range x.Items {
			b = append(b, it[:]...)
		}
		b = binary.AppendUvarint(b, uint64(len(x.Keys)))
		for _, k := range x.Keys {
			b = binary.LittleEndian.AppendUint64(b, k)
		}
	}
	return b
}

var errCorrupt = errors.New("corrupt product record")

func (r *Record) unmarshal(b []byte) error {
	tail, err := r.unmarshalHead(b)
	if err == nil {
		r.Raws = unmarshalRaws(tail)
	}
	return err
}

// unmarshalHead is unmarshal without the Raws: it returns their bytes.
func (r *Record) unmarshalHead(b []byte) (rawTail []byte, err error) {
	if len(b) < 1+32+8+8+1 || (b[0] != recordVersion && b[0] != recordV2) {
		return nil, errCorrupt
	}
	v := b[0]
	copy(r.Hash[:], b[1:33])
	r.FirstSeen = time.Unix(int64(binary.BigEndian.Uint64(b[33:41])), 0).UTC()
	r.LastPushed = time.Unix(int64(binary.BigEndian.Uint64(b[41:49])), 0).UTC()
	r.State = State(b[49])
	b = b[50:]
	r.Uncertain, r.seq = false, 0
	if v == recordVersion {
		if len(b) < 1 {
			return nil, errCorrupt
		}
		r.Uncertain = b[0]&flagUncertain != 0
		b = b[1:]
		seq, k := binary.Uvarint(b)
		if k <= 0 {
			return nil, errCorrupt
		}
		r.seq = seq
		b = b[k:]
	}
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return nil, errCorrupt
	}
	r.LastError = string(b[k : k+int(n)])
	r.Input, r.Raws = [16]byte{}, nil
	if rest := b[k+int(n):]; len(rest) >= 16 {
		copy(r.Input[:], rest)
		return rest[16:], nil
	}
	return nil, nil
}

// unmarshalRaws reads a record's Raws; nil for none, or for a tail it
// cannot read (the product is then simply not recognised by its bytes).
func unmarshalRaws(b []byte) *Raws {
	unit, expires, items, keys, ok := rawsView(b)
	if !ok {
		return nil
	}
	x := &Raws{Unit: unit, Expires: expires, Items: make([][16]byte, len(items)/16), Keys: make([]uint64, len(keys)/8)}
	for i := range x.Items {
		copy(x.Items[i][:], items[16*i:])
	}
	for i := range x.Keys {
		x.Keys[i] = binary.LittleEndian.Uint64(keys[8*i:])
	}
	return x
}

// rawsView reads a record's Raws in place: items holds the items' hashes,
// 16 bytes each, keys the Keys, 8 bytes each (little-endian).
func rawsView(b []byte) (unit [16]byte, expires int64, items, keys []byte, ok bool) {
	if len(b) < 16 {
		return unit, 0, nil, nil, false
	}
	copy(unit[:], b)
	b = b[16:]
	expires, k := binary.Varint(b)
	if k <= 0 {
		return unit, 0, nil, nil, false
	}
	b = b[k:]
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < 16*n {
		return unit, 0, nil, nil, false
	}
	items, b = b[k:k+16*int(n)], b[k+16*int(n):]
	m, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) != 8*m {
		return unit, 0, nil, nil, false
	}
	return unit, expires, items, b[k:], true
}

// Lookup reads product records of one feed in short read transactions,
// renewed every few thousand reads so that a long diff never pins old pages.
// A Lookup is not safe for concurrent use; Close it when done, and before
// anything that may wait on a commit (a read transaction held open blocks a
// commit that needs to grow the file's memory map).
type Lookup struct {
	db    *DB
	feed  []byte
	tx    *bolt.Tx
	b     *bolt.Bucket
	reads int // in this transaction
}

const lookupRenew = 4096

// lookupRelease is after how many of a Lookup's reads the state file's
// pages leave the mapping: at most 32 MB mapped by each Lookup.
const lookupRelease = 512

// Lookup starts reading a feed's product records.
func (db *DB) Lookup(feed string) *Lookup { return &Lookup{db: db, feed: []byte(feed)} }

// Get returns the record of a product, without its payload. On a damaged
// file it returns an error wrapping ErrDamaged (see guard) and ends the read
// transaction.
func (l *Lookup) Get(id string) (r Record, found bool, err error) {
	if l.db.bolt == nil {
		return Record{}, false, nil
	}
	if err := l.db.failed(); err != nil {
		l.Close()
		return Record{}, false, err
	}
	finished := false
	defer func() {
		if !finished {
			l.Close() // it panicked: the transaction is no use
		}
	}()
	defer l.db.guard(&err)
	defer restoreFaults(faultsPanic())
	r, found, err = l.get(id)
	finished = true
	return r, found, err
}

func (l *Lookup) get(id string) (Record, bool, error) {
	if l.tx == nil || l.reads >= lookupRenew {
		l.Close()
		tx, err := l.db.bolt.Begin(false)
		if err != nil {
			return Record{}, false, err
		}
		l.tx, l.reads = tx, 0
		l.b = nil
		if fs := tx.Bucket(bucketFeeds); fs != nil {
			if fb := fs.Bucket(l.feed); fb != nil {
				l.b = fb.Bucket(bucketProducts)
			}
		}
	}
	l.reads++
	// Lookups land all over the file, and each maps 64 KiB around the
	// page it reads (see release): now and then, and at Close, they leave
	// the mapping.
	if l.reads%lookupRelease == 0 {
		releaseMapped(l.db.bolt, l.tx)
	}
	if l.b == nil {
		return Record{}, false, nil
	}
	v := l.b.Get([]byte(id))
	if v == nil {
		return Record{}, false, nil
	}
	var r Record
	if err := r.unmarshal(v); err != nil {
		return Record{}, false, fmt.Errorf("product %q: %w", id, err)
	}
	return r, true, nil
}

// Close ends the current read transaction; the next Get starts a new one.
// On a DB broken by a damaged file it waits for bbolt only a moment (see
// DB.Close).
func (l *Lookup) Close() {
	if l.tx != nil {
		tx := l.tx
		l.tx, l.b = nil, nil
		l.db.within(func() {
			if l.reads%lookupRelease != 0 { // read since the last release
				releaseMapped(l.db.bolt, tx)
			}
			_ = tx.Rollback()
		})
	}
}

// Ack is the outcome of one operation, to be written by Commit.
type Ack struct {
	ID      string
	At      time.Time
	Delete  bool     // the product was deleted: forget it
	Forget  bool     // forget the product without any catalog operation (it never reached the catalog, or another feed owns it)
	Hash    [32]byte // the acknowledged payload's hash (not for Err)
	Input   [16]byte // what the payload was made from (Record.Input), zero when unknown
	Raws    *Raws    // what its items were (Record.Raws), nil when unknown
	Payload []byte
	State   State  // Live or Unavailable (not for Err)
	Err     string // the catalog rejected the product: keep the old hash, record why
	Seq     uint64 // the journal entry of the operation (Intend), 0 for none

	// stored is the payload as CommitBatch stores it, once Prepare made it.
	stored   []byte
	prepared bool
}

// writesPayload reports whether CommitBatch stores the ack's payload.
func (a *Ack) writesPayload() bool { return a.Err == "" && !a.Delete && !a.Forget }

// Prepare compresses the payloads of acks, which CommitBatch does otherwise:
// a caller can prepare a batch while the one before is written. The acks
// must not change after.
func Prepare(acks []Ack) {
	inParallel(len(acks), func(lo, hi int) {
		var arena payloadArena
		for i := lo; i < hi; i++ {
			if a := &acks[i]; a.writesPayload() && !a.prepared {
				a.stored, a.prepared = arena.store(a.Payload), true
			}
		}
	})
}

// inParallel calls fn on parts of [0, n), at least 256 long, on as many
// goroutines as there are CPUs: compressing is most of a first sync's commit
// work.
func inParallel(n int, fn func(lo, hi int)) {
	k := min(runtime.GOMAXPROCS(0), n/256)
	if k < 2 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for j := range k {
		wg.Go(func() { fn(j*n/k, (j+1)*n/k) })
	}
	wg.Wait()
}

// How full a commit packs the pages it splits (bbolt's FillPercent, read
// as the transaction commits). bbolt's default, half, is meant for keys
// that come in no order. A sync acknowledges products in the feed's order,
// and a feed's ids come mostly in their own order, which bbolt's byte
// order interleaves (P10, P100 and P1000 sort before P11): a commit's keys
// then fill runs of pages that later commits rarely revisit, and at half
// these stay half empty. So a commit whose keys are dense packs its pages
// full: after the first sync of a generated 200k-item feed, payload pages
// are 87% full and record pages 92%, against 45% and 52% at half. Packing
// full when keys are sparse would split a full page into a full one and a
// nearly empty one, which random keys rarely refill (record pages ended up
// 20% full, payload branch pages 13%). Sparse keys fill payload pages
// slightly better at 0.9 than at half (67% against 64%); records, some
// fifty a page, keep the default (69% full, against 38% at 0.9).
const (
	denseFill         = 1.0
	sparsePayloadFill = 0.9
)

// dense reports whether sorted (ids in key order) leave few of b's keys
// between them: half the neighbours, of up to 128 pairs sampled, have none
// between them. Random keys have some between nearly all once b holds a few
// batches.
func dense(b *bolt.Bucket, sorted []*Ack) bool {
	if len(sorted) < 2 {
		return false
	}
	step := max(1, (len(sorted)-1)/128)
	c := b.Cursor()
	n, adjacent := 0, 0
	for i := 0; i+1 < len(sorted); i += step {
		key := []byte(sorted[i].ID)
		k, _ := c.Seek(key)
		if bytes.Equal(k, key) {
			k, _ = c.Next()
		}
		n++
		if k == nil || bytes.Compare(k, []byte(sorted[i+1].ID)) >= 0 {
			adjacent++
		}
	}
	return adjacent*2 >= n
}

// CommitBatch writes a batch of acknowledgements and, in the same
// transaction, drops the journal entries (see Intend) whose every operation
// is acknowledged by now: resolved. A deleted or forgotten product's record
// goes, and with it the feed's claim on its custom_id (see Owners). An
// acknowledgement clears the product's Uncertain flag; a
// rejection keeps it (the catalog may still hold what an earlier run sent).
func (db *DB) CommitBatch(feed string, acks []Ack, resolved []uint64) error {
	if len(acks) == 0 && len(resolved) == 0 {
		return nil
	}
	// Keys in order touch each page once.
	sorted := make([]*Ack, len(acks))
	for i := range acks {
		sorted[i] = &acks[i]
	}
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	// Compressed before the transaction, which then only writes, unless
	// Prepare did it.
	stored := make([][]byte, len(sorted))
	inParallel(len(sorted), func(lo, hi int) {
		var arena payloadArena
		for i := lo; i < hi; i++ {
			switch a := sorted[i]; {
			case a.prepared:
				stored[i] = a.stored
			case a.writesPayload():
				stored[i] = arena.store(a.Payload)
			}
		}
	})
	// A batch of updates lands all over the file: its pages leave the
	// mapping once written (releaseMapped). A dense batch (a first sync's
	// appends) reads a few pages at the file's end: one in denseRelease
	// releases what they add up to.
	appends := false
	defer func() {
		if !appends || db.denseCommits.Add(1)%denseRelease == 0 {
			db.release()
		}
	}()
	return db.updateTx(feed, func(tx *bolt.Tx, fb *bolt.Bucket) error {
		pb, yb := fb.Bucket(bucketProducts), fb.Bucket(bucketPayloads)
		if dense(pb, sorted) {
			appends = true
			pb.FillPercent, yb.FillPercent = denseFill, denseFill
		} else {
			yb.FillPercent = sparsePayloadFill
		}
		for i, a := range sorted {
			key := []byte(a.ID)
			if (a.Delete || a.Forget) && a.Err == "" {
				if err := pb.Delete(key); err != nil {
					return err
				}
				if err := yb.Delete(key); err != nil {
					return err
				}
				continue
			}
			var r Record
			if v := pb.Get(key); v != nil {
				if err := r.unmarshal(v); err != nil {
					r = Record{} // rewrite a corrupt record from this ack
				}
			}
			if r.FirstSeen.IsZero() {
				r.FirstSeen = a.At
			}
			r.seq = max(r.seq, a.Seq)
			if a.Err != "" {
				r.LastError = a.Err
				if !r.Acknowledged() {
					r.State = Failed
				}
			} else {
				r.Hash, r.State, r.LastError, r.LastPushed = a.Hash, a.State, "", a.At
				r.Input, r.Raws = a.Input, a.Raws
				r.Uncertain = false
				if err := yb.Put(key, stored[i]); err != nil {
					return err
				}
			}
			if err := pb.Put(key, r.marshal()); err != nil {
				return err
			}
		}
		if len(resolved) > 0 {
			jb := fb.Bucket(bucketJournal)
			for _, seq := range resolved {
				if err := jb.Delete(seqKey(seq)); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Entry is a product record with its id.
type Entry struct {
	ID string
	Record
}

// Missing returns the records of a feed whose ids seen reports false, with
// their payloads. It reads in one short transaction and holds no lock after.
func (db *DB) Missing(feed string, seen func(id string) bool) ([]Entry, error) {
	var out []Entry
	err := db.scan(feed, func(fb *bolt.Bucket, counted func()) error {
		if fb == nil {
			return nil
		}
		yb := fb.Bucket(bucketPayloads)
		return fb.Bucket(bucketProducts).ForEach(func(k, v []byte) error {
			counted()
			if seen(string(k)) {
				return nil
			}
			e := Entry{ID: string(k)}
			if err := e.unmarshal(v); err != nil {
				return fmt.Errorf("product %q: %w", k, err)
			}
			e.Payload = decodePayload(yb.Get(k))
			out = append(out, e)
			return nil
		})
	})
	return out, err
}

// Counts is how many products of a feed are in each state.
type Counts struct {
	Total       int `json:"total"`
	Live        int `json:"live"`
	Unavailable int `json:"unavailable"`
	Failed      int `json:"failed"`
	WithErrors  int `json:"with_errors"`
	// Pending: sent by a run that never learnt the outcome, never
	// acknowledged; Uncertain: every product the next run re-sends whatever
	// the hashes say (Pending ones included).
	Pending   int `json:"pending"`
	Uncertain int `json:"uncertain"`
}

// Count tallies a feed's products by state.
func (db *DB) Count(feed string) (Counts, error) {
	var c Counts
	err := db.Each(feed, func(e Entry) error {
		c.Total++
		switch e.State {
		case Live:
			c.Live++
		case Unavailable:
			c.Unavailable++
		case Failed:
			c.Failed++
		case Pending:
			c.Pending++
		}
		if e.Uncertain {
			c.Uncertain++
		}
		if e.LastError != "" {
			c.WithErrors++
		}
		return nil
	})
	return c, err
}

// Each calls fn for every product record of a feed, in id order, without payloads.
func (db *DB) Each(feed string, fn func(Entry) error) error {
	return db.scan(feed, func(fb *bolt.Bucket, counted func()) error {
		if fb == nil {
			return nil
		}
		return fb.Bucket(bucketProducts).ForEach(func(k, v []byte) error {
			counted()
			e := Entry{ID: string(k)}
			if err := e.unmarshal(v); err != nil {
				return fmt.Errorf("product %q: %w", k, err)
			}
			return fn(e)
		})
	})
}

// Stored is the number of product records a feed has.
func (db *DB) Stored(feed string) (int, error) {
	n := 0
	// Counted one by one rather than with Bucket.Stats, which reads every
	// page as well, but all of them in one go: the scan releases the pages
	// it read as it goes (releaseMapped).
	err := db.scan(feed, func(fb *bolt.Bucket, counted func()) error {
		if fb == nil {
			return nil
		}
		return fb.Bucket(bucketProducts).ForEach(func(_, _ []byte) error {
			counted()
			n++
			return nil
		})
	})
	return n, err
}

// HasProducts reports whether a feed has any product record, at the cost
// of one read.
func (db *DB) HasProducts(feed string) (bool, error) {
	has := false
	err := db.view(feed, func(fb *bolt.Bucket) error {
		if fb != nil {
			if pb := fb.Bucket(bucketProducts); pb != nil {
				k, _ := pb.Cursor().First()
				has = k != nil
			}
		}
		return nil
	})
	return has, err
}

// Get returns one product's record with its last acknowledged payload.
func (db *DB) Get(feed, id string) (Record, bool, error) {
	var r Record
	found := false
	err := db.view(feed, func(fb *bolt.Bucket) error {
		if fb == nil {
			return nil
		}
		v := fb.Bucket(bucketProducts).Get([]byte(id))
		if v == nil {
			return nil
		}
		found = true
		if err := r.unmarshal(v); err != nil {
			return err
		}
		r.Payload = decodePayload(fb.Bucket(bucketPayloads).Get([]byte(id)))
		return nil
	})
	return r, found, err
}

// KnownInputs calls fn with the id and Input of every product of feed that
// is settled live in the catalog with a known Input: acknowledged, live, not
// uncertain; raws says whether its record holds Raws too. A product of the
// feed with the same Input now needs nothing sent. The id is fn's only
// during the call.
func (db *DB) KnownInputs(feed string, fn func(id []byte, input [16]byte, raws bool)) error {
	return db.eachSettled(feed, func(id []byte, r *Record, tail []byte) {
		_, _, _, _, raws := rawsView(tail) // as Get reads them: unreadable Raws are none
		fn(id, r.Input, raws)
	})
}

// KnownRaws calls fn with the id and Raws of every product of feed that is
// settled live in the catalog with known Raws and Input: acknowledged, live,
// not uncertain (see KnownInputs). The Raws' items come as one slice of 16
// bytes per item, their Keys as one of 8 bytes (little-endian) per key.
// fn's arguments are its only during the call.
func (db *DB) KnownRaws(feed string, fn func(id []byte, unit [16]byte, expires int64, items, keys []byte)) error {
	return db.eachSettled(feed, func(id []byte, _ *Record, tail []byte) {
		if unit, expires, items, keys, ok := rawsView(tail); ok {
			fn(id, unit, expires, items, keys)
		}
	})
}

// eachSettled calls fn with every product of feed that is settled live in
// the catalog with a known Input, its record without the Raws, and the
// bytes of its Raws (empty for none). A damaged record is simply not known.
// The arguments are fn's only during the call.
func (db *DB) eachSettled(feed string, fn func(id []byte, r *Record, rawTail []byte)) error {
	return db.scan(feed, func(fb *bolt.Bucket, counted func()) error {
		if fb == nil {
			return nil
		}
		pb := fb.Bucket(bucketProducts)
		if pb == nil {
			return nil
		}
		var r Record
		return pb.ForEach(func(k, v []byte) error {
			counted()
			tail, err := r.unmarshalHead(v)
			if err == nil && r.Input != ([16]byte{}) && r.Acknowledged() && r.State == Live && !r.Uncertain {
				fn(k, &r, tail)
			}
			return nil
		})
	})
}

// InputFix records the Input of a product whose payload, as acknowledged
// with Hash, turned out to be made from it.
type InputFix struct {
	ID    string
	Hash  [32]byte
	Input [16]byte
	Raws  *Raws
}

// SetInputs records Inputs learnt by a run that found the products
// unchanged by their payload's hash. A record whose hash is no longer the
// one the Input was learnt with (an acknowledgement came in between) is
// left as it is. It changes nothing the catalog holds: losing it to a crash
// costs only the shaping it would have saved.
func (db *DB) SetInputs(feed string, fixes []InputFix) error {
	if len(fixes) == 0 {
		return nil
	}
	sort.Slice(fixes, func(i, j int) bool { return fixes[i].ID < fixes[j].ID })
	defer db.release() // as CommitBatch
	return db.update(feed, func(fb *bolt.Bucket) error {
		pb := fb.Bucket(bucketProducts)
		if pb == nil {
			return nil
		}
		for _, f := range fixes {
			key := []byte(f.ID)
			v := pb.Get(key)
			if v == nil {
				continue
			}
			var r Record
			if err := r.unmarshal(v); err != nil || r.Hash != f.Hash || r.State != Live || r.Uncertain {
				continue
			}
			r.Input, r.Raws = f.Input, f.Raws
			if err := pb.Put(key, r.marshal()); err != nil {
				return err
			}
		}
		return nil
	})
}
