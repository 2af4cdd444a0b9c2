package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Intent before effect.
//
// Before a batch of operations reaches a sink, Intend writes the batch's
// product ids to the feed's journal, durably, in one small transaction: one
// key per batch, whatever its size. Once every operation of a batch is
// acknowledged, the CommitBatch that records the last acknowledgement drops
// the batch's journal entry in the same transaction. A journal entry that
// survives is therefore a batch whose outcome was never fully recorded: the
// process was killed, the sink stopped, a commit failed. The next run folds
// such entries into the product records (Recover) by marking each product
// Uncertain, and an uncertain product is sent again — as the feed has it,
// or removed as on_missing says — whatever the hashes say.
//
// The first Intend of a run also clears the feed's fetch shortcuts (ETag,
// Last-Modified, body hash) in the same transaction: from the moment the
// catalog may differ from the last finished run, "the same bytes as last
// time" no longer means "nothing to do". A finished run sets them again.

var (
	bucketJournal = []byte("journal")
	// bucketOldOwners held an owner index in early v3 files; Open drops it.
	bucketOldOwners = []byte("owners")
)

func seqKey(seq uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return k[:]
}

// updateTx is update with the transaction at hand (for buckets outside the
// feed's own) and the journal bucket created.
func (db *DB) updateTx(feed string, fn func(tx *bolt.Tx, fb *bolt.Bucket) error) error {
	return db.update(feed, func(fb *bolt.Bucket) error {
		if _, err := fb.CreateBucketIfNotExists(bucketJournal); err != nil {
			return err
		}
		return fn(fb.Tx(), fb)
	})
}

// Intent is one operation a run is about to send: an upsert, an
// unavailable mark or a delete of the product ID.
type Intent struct {
	ID string
}

// Intend journals a batch of operations before they are sent (see above),
// which claims their custom_ids in target for feed, and clears the feed's
// fetch shortcuts. An id that another feed owns in target is not
// journaled: owners[i] names that feed, and the caller must not send the
// operation. seq identifies the journal entry for CommitBatch (0 when
// nothing was journaled).
func (db *DB) Intend(feed, target string, intents []Intent) (seq uint64, owners []string, err error) {
	if len(intents) == 0 {
		return 0, nil, nil
	}
	owners = make([]string, len(intents))
	// Ids in key order touch each page of the other feeds' records once.
	order := make([]int, len(intents))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return intents[order[a]].ID < intents[order[b]].ID })
	err = db.updateTx(feed, func(tx *bolt.Tx, fb *bolt.Bucket) error {
		others, err := sharersOf(tx, feed, target)
		if err != nil {
			return err
		}
		var entry []byte
		for _, i := range order {
			key := []byte(intents[i].ID)
			if len(key) == 0 || len(key) > bolt.MaxKeySize {
				return fmt.Errorf("product id of %d bytes cannot be a state key", len(key))
			}
			if o := others.owner(key); o != "" {
				owners[i] = o
				continue
			}
			entry = binary.AppendUvarint(entry, uint64(len(key)))
			entry = append(entry, key...)
		}
		if err := clearShortcuts(fb); err != nil {
			return err
		}
		if len(entry) == 0 {
			return nil
		}
		jb := fb.Bucket(bucketJournal)
		s, err := jb.NextSequence()
		if err != nil {
			return err
		}
		seq = s
		return jb.Put(seqKey(seq), entry)
	})
	if err != nil {
		return 0, nil, err
	}
	return seq, owners, nil
}

// clearShortcuts drops the fetch metadata that lets a run skip its work.
func clearShortcuts(fb *bolt.Bucket) error {
	v := fb.Get(keyFeedMeta)
	if v == nil {
		return nil
	}
	m, err := decodeMeta(v)
	if err != nil {
		return err
	}
	if m.ETag == "" && m.LastModified == "" && m.BodyHash == "" {
		return nil
	}
	m.ETag, m.LastModified, m.BodyHash = "", "", ""
	nv, err := encodeMeta(m)
	if err != nil {
		return err
	}
	return fb.Put(keyFeedMeta, nv)
}

// decodeJournalEntry calls fn with each id of a journal entry.
func decodeJournalEntry(v []byte, fn func(id []byte) error) error {
	for len(v) > 0 {
		n, k := binary.Uvarint(v)
		if k <= 0 || uint64(len(v)-k) < n {
			return errCorrupt
		}
		if err := fn(v[k : k+int(n)]); err != nil {
			return err
		}
		v = v[k+int(n):]
	}
	return nil
}

// Recover folds the journal entries of runs that did not finish into the
// product records: every product they name whose outcome was not recorded
// since becomes Uncertain (a product the
// state had no record of gets one in state Pending), and the entries go, all
// in one transaction. It returns how many products it marked. A run calls it
// before it diffs.
func (db *DB) Recover(feed string, at time.Time) (int, error) {
	n := 0
	has := false
	if err := db.view(feed, func(fb *bolt.Bucket) error {
		has = fb != nil && fb.Bucket(bucketJournal) != nil && fb.Bucket(bucketJournal).Stats().KeyN > 0
		return nil
	}); err != nil || !has {
		return 0, err
	}
	err := db.updateTx(feed, func(tx *bolt.Tx, fb *bolt.Bucket) error {
		n = 0
		pb, jb := fb.Bucket(bucketProducts), fb.Bucket(bucketJournal)
		marked := map[string]bool{}
		c := jb.Cursor()
		for k, v := c.First(); k != nil; k, v = c.First() {
			seq := binary.BigEndian.Uint64(k)
			err := decodeJournalEntry(v, func(id []byte) error {
				if marked[string(id)] {
					return nil
				}
				var r Record
				if v := pb.Get(id); v != nil {
					if err := r.unmarshal(v); err != nil {
						r = Record{}
					} else if r.seq >= seq {
						return nil // its outcome was recorded
					}
				}
				marked[string(id)] = true
				if r.FirstSeen.IsZero() {
					r.FirstSeen = at
				}
				if !r.Acknowledged() {
					r.State = Pending
				}
				r.Uncertain = true
				n++
				return pb.Put(bytes.Clone(id), r.marshal())
			})
			if err != nil {
				return fmt.Errorf("journal entry %x: %w", k, err)
			}
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// Unresolved returns the ids named by journal entries that were never
// resolved, without changing anything (plan reads it; a sync calls Recover).
func (db *DB) Unresolved(feed string) (map[string]bool, error) {
	out := map[string]bool{}
	err := db.view(feed, func(fb *bolt.Bucket) error {
		if fb == nil || fb.Bucket(bucketJournal) == nil {
			return nil
		}
		return fb.Bucket(bucketJournal).ForEach(func(k, v []byte) error {
			return decodeJournalEntry(v, func(id []byte) error {
				out[string(id)] = true
				return nil
			})
		})
	})
	return out, err
}

// One owner per custom_id per catalog.
//
// Feeds that share a catalog must not claim the same custom_id: the second
// feed would overwrite the first one's product, and delete it when it drops
// the id. A feed owns, in the catalog target its metadata names
// (Meta.OwnerTarget, set by Adopt), every id it has a record of or has
// journaled: an id is claimed by the Intend that first journals it and
// released when its record goes (a delete or a forget in CommitBatch, or
// Reset). There is no index to keep: a run looks the ids up in the records
// and journals of the other feeds of its target, and a catalog that one
// feed owns alone costs nothing per id. bbolt runs one writer at a time, so
// two feeds that claim the same new id at once cannot both win: the later
// Intend finds the earlier one's journal entry.

// sharer is another feed of the same catalog target.
type sharer struct {
	name     string
	products *bolt.Bucket
	inflight map[string]struct{} // ids of its journal entries
}

// owners are the other feeds of a target, as one transaction sees them.
type owners []sharer

// sharersOf returns the feeds other than feed whose records belong to target.
func sharersOf(tx *bolt.Tx, feed, target string) (owners, error) {
	fs := tx.Bucket(bucketFeeds)
	if fs == nil || target == "" {
		return nil, nil
	}
	var out owners
	err := fs.ForEachBucket(func(name []byte) error {
		if string(name) == feed {
			return nil
		}
		fb := fs.Bucket(name)
		v := fb.Get(keyFeedMeta)
		if v == nil {
			return nil
		}
		m, err := decodeMeta(v)
		if err != nil || m.OwnerTarget != target {
			return nil // a feed whose metadata cannot be read claims nothing
		}
		s := sharer{name: string(name), products: fb.Bucket(bucketProducts)}
		if jb := fb.Bucket(bucketJournal); jb != nil {
			s.inflight = map[string]struct{}{}
			if err := jb.ForEach(func(_, v []byte) error {
				return decodeJournalEntry(v, func(id []byte) error {
					s.inflight[string(id)] = struct{}{}
					return nil
				})
			}); err != nil {
				return fmt.Errorf("feed %s: journal: %w", name, err)
			}
		}
		out = append(out, s)
		return nil
	})
	return out, err
}

// owner is the other feed that owns id, or "".
func (o owners) owner(id []byte) string {
	for _, s := range o {
		if s.products != nil && s.products.Get(id) != nil {
			return s.name
		}
		if _, ok := s.inflight[string(id)]; ok {
			return s.name
		}
	}
	return ""
}

// Owners returns, for each id, the feed other than feed that owns it in
// target ("" when none does), in one read transaction (plan asks it).
func (db *DB) Owners(feed, target string, ids []string) ([]string, error) {
	out := make([]string, len(ids))
	if db.bolt == nil || target == "" {
		return out, nil
	}
	err := db.viewTx(func(tx *bolt.Tx) error {
		o, err := sharersOf(tx, feed, target)
		if err != nil || len(o) == 0 {
			return err
		}
		for i, id := range ids {
			out[i] = o.owner([]byte(id))
		}
		return nil
	})
	return out, err
}

// viewTx runs fn in a read transaction.
func (db *DB) viewTx(fn func(tx *bolt.Tx) error) error {
	return db.guarded(func() error { return db.bolt.View(fn) })
}

func decodeMeta(v []byte) (Meta, error) {
	var m Meta
	err := json.Unmarshal(v, &m)
	return m, err
}

func encodeMeta(m Meta) ([]byte, error) { return json.Marshal(m) }

// ErrOwnedElsewhere is wrapped by the errors of an id another feed owns.
var ErrOwnedElsewhere = errors.New("owned by another feed")

// Adopt makes feed's records count for target: a feed whose state predates
// ownership, or whose catalog target changed, claims every product it has a
// record of. A record of an id that another feed of target holds already is
// dropped, and its id returned: the product stays that feed's, and this
// feed neither updates nor deletes it. It records the target in the feed's
// metadata, so it runs once per target.
func (db *DB) Adopt(feed, target string) (conflicts []string, err error) {
	m, err := db.Meta(feed)
	if err != nil || m.OwnerTarget == target {
		return nil, err
	}
	err = db.updateTx(feed, func(tx *bolt.Tx, fb *bolt.Bucket) error {
		conflicts = conflicts[:0]
		others, err := sharersOf(tx, feed, target)
		if err != nil {
			return err
		}
		if len(others) > 0 {
			pb, yb := fb.Bucket(bucketProducts), fb.Bucket(bucketPayloads)
			if err := pb.ForEach(func(k, _ []byte) error {
				if others.owner(k) != "" {
					conflicts = append(conflicts, string(k))
				}
				return nil
			}); err != nil {
				return err
			}
			for _, id := range conflicts {
				if err := pb.Delete([]byte(id)); err != nil {
					return err
				}
				if err := yb.Delete([]byte(id)); err != nil {
					return err
				}
			}
		}
		cur := m
		if v := fb.Get(keyFeedMeta); v != nil {
			if cur, err = decodeMeta(v); err != nil {
				return err
			}
		}
		cur.OwnerTarget = target
		v, err := encodeMeta(cur)
		if err != nil {
			return err
		}
		return fb.Put(keyFeedMeta, v)
	})
	return conflicts, err
}
