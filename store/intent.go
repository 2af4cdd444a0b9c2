package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
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
	bucketOwners  = []byte("owners")
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

// Intent is one operation a run is about to send.
type Intent struct {
	ID string
	// Claim: the operation puts the product in the catalog (an upsert or an
	// unavailable mark), so the feed claims its custom_id in the target.
	// A delete claims nothing; it is refused all the same when another feed
	// owns the id.
	Claim bool
}

// Intend journals a batch of operations before they are sent (see above),
// claims the custom_ids of the upserts in target for feed, and clears the
// feed's fetch shortcuts. An id that another feed owns in target is not
// journaled: owners[i] names that feed, and the caller must not send the
// operation. seq identifies the journal entry for CommitBatch (0 when
// nothing was journaled).
func (db *DB) Intend(feed, target string, intents []Intent) (seq uint64, owners []string, err error) {
	if len(intents) == 0 {
		return 0, nil, nil
	}
	owners = make([]string, len(intents))
	// Claims in key order touch each page of the owner index once.
	order := make([]int, len(intents))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return intents[order[a]].ID < intents[order[b]].ID })
	err = db.updateTx(feed, func(tx *bolt.Tx, fb *bolt.Bucket) error {
		ob := ownersBucket(tx, target, true)
		var entry []byte
		for _, i := range order {
			in := intents[i]
			key := []byte(in.ID)
			if len(key) == 0 || len(key) > bolt.MaxKeySize {
				return fmt.Errorf("product id of %d bytes cannot be a state key", len(key))
			}
			if ob != nil {
				if o := ob.Get(key); o != nil && string(o) != feed {
					owners[i] = string(o)
					continue
				}
				if in.Claim {
					if err := ob.Put(key, []byte(feed)); err != nil {
						return err
					}
				}
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
// the id. The owners bucket maps, per catalog target, each claimed id to the
// feed that claimed it first. Intend claims; a delete or a forget
// (CommitBatch) and Reset release.

// ownersBucket is the bucket of target's claims; nil when it does not exist
// and create is false.
func ownersBucket(tx *bolt.Tx, target string, create bool) *bolt.Bucket {
	if target == "" {
		return nil
	}
	name := targetKey(target)
	if !create {
		ob := tx.Bucket(bucketOwners)
		if ob == nil {
			return nil
		}
		return ob.Bucket(name)
	}
	ob, err := tx.CreateBucketIfNotExists(bucketOwners)
	if err != nil {
		return nil
	}
	b, err := ob.CreateBucketIfNotExists(name)
	if err != nil {
		return nil
	}
	return b
}

// targetKey is the bucket name of a target: the target itself when short, a
// hash of it otherwise (a catalog file's path has no length limit).
func targetKey(target string) []byte {
	if len(target) <= 256 {
		return []byte(target)
	}
	h := sha256.Sum256([]byte(target))
	return []byte("sha256:" + hex.EncodeToString(h[:]))
}

func release(ob *bolt.Bucket, feed string, key []byte) error {
	if ob == nil {
		return nil
	}
	if o := ob.Get(key); o != nil && string(o) == feed {
		return ob.Delete(key)
	}
	return nil
}

// Owner is the feed that owns id in target ("" when none does).
func (db *DB) Owner(target, id string) (string, error) {
	if db.bolt == nil {
		return "", nil
	}
	var owner string
	err := db.viewTx(func(tx *bolt.Tx) error {
		if ob := ownersBucket(tx, target, false); ob != nil {
			owner = string(ob.Get([]byte(id)))
		}
		return nil
	})
	return owner, err
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

// Adopt makes the state's owner index hold feed's products for target: a
// feed whose state predates the index, or whose catalog target changed,
// claims every product it has a record of (the claims of its old target
// are released). Ids another feed claimed first are returned; they stay
// that feed's. It records the target in the feed's metadata, so it runs
// once per target.
func (db *DB) Adopt(feed, target string) (conflicts []string, err error) {
	m, err := db.Meta(feed)
	if err != nil || m.OwnerTarget == target {
		return nil, err
	}
	err = db.updateTx(feed, func(tx *bolt.Tx, fb *bolt.Bucket) error {
		conflicts = conflicts[:0]
		var old *bolt.Bucket
		if m.OwnerTarget != "" {
			old = ownersBucket(tx, m.OwnerTarget, false)
		}
		ob := ownersBucket(tx, target, true)
		err := fb.Bucket(bucketProducts).ForEach(func(k, _ []byte) error {
			if err := release(old, feed, k); err != nil {
				return err
			}
			if o := ob.Get(k); o != nil && string(o) != feed {
				conflicts = append(conflicts, string(k))
				return nil
			}
			return ob.Put(bytes.Clone(k), []byte(feed))
		})
		if err != nil {
			return err
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

// releaseAll drops every claim feed holds, in every target (Reset).
func releaseAll(tx *bolt.Tx, feed string) error {
	ob := tx.Bucket(bucketOwners)
	if ob == nil {
		return nil
	}
	return ob.ForEachBucket(func(name []byte) error {
		b := ob.Bucket(name)
		var mine [][]byte
		if err := b.ForEach(func(k, v []byte) error {
			if string(v) == feed {
				mine = append(mine, bytes.Clone(k))
			}
			return nil
		}); err != nil {
			return err
		}
		for _, k := range mine {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}
