package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// FormatVersion is the layout of the state file. Open refuses a file written
// with another version rather than misreading it.
//
// Version 3 added the intent journal, the uncertain flag of product records
// (ownership was an index in early v3 files, dropped on open). Version 4
// stores payloads zstd-compressed, version 5 S2-compressed against a
// dictionary (payload.go). Files of versions 2, 3 and 4 are upgraded in
// place when opened for writing: their records and their raw or zstd
// payloads read as they are. A feedsync that reads an older version
// refuses the upgraded file, saying so, instead of ignoring its journal or
// taking its compressed payloads for damaged ones.
const FormatVersion = 5

// Older layouts, upgraded on open.
const (
	formatV2 = 2 // before the journal
	formatV3 = 3 // payloads stored as raw JSON
	formatV4 = 4 // payloads stored as zstd frames
)

// ErrLocked means another process holds the state file.
var ErrLocked = errors.New("in use by another feedsync process")

// ErrNotFound is returned for an unknown feed.
var ErrNotFound = errors.New("not found")

var (
	bucketMeta     = []byte("meta")
	bucketFeeds    = []byte("feeds")
	bucketProducts = []byte("products")
	bucketPayloads = []byte("payloads")
	bucketRuns     = []byte("runs")
	keyVersion     = []byte("format_version")
	keyFeedMeta    = []byte("meta")
	keyRawSample   = []byte("raw_sample")
)

// MaxRuns is how many run summaries each feed keeps.
const MaxRuns = 100

// DB is an open state file.
type DB struct {
	bolt     *bolt.DB
	path     string
	readOnly bool
	// broken is the ErrDamaged error that broke the DB (see guard).
	broken atomic.Pointer[error]
	// denseCommits counts the dense batches CommitBatch wrote (denseRelease).
	denseCommits atomic.Int64
}

// Options for Open.
type Options struct {
	// Timeout is how long to wait for another process to release the file.
	Timeout time.Duration
	// ReadOnly opens the file shared, for plan and state; a missing file is
	// then an empty state and is not created.
	ReadOnly bool
}

// Open opens or creates the state file at path.
func Open(path string, opts Options) (*DB, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	if opts.ReadOnly {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return &DB{path: path, readOnly: true}, nil
		}
	}
	// Mapping a truncated file would fault, reading a bad meta panic.
	if err := checkFile(path); err != nil {
		return nil, err
	}
	db := &DB{path: path, readOnly: opts.ReadOnly}
	// A large initial mmap makes remaps (which wait for every open read
	// transaction) rare; it reserves address space, not memory. bbolt reads
	// the freelist as it opens: guarded all the same, though a panic there
	// leaves the file mapped and locked until the process exits.
	var b *bolt.DB
	err := db.guarded(func() (err error) {
		b, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout, ReadOnly: opts.ReadOnly, InitialMmapSize: 256 << 20})
		return err
	})
	switch {
	case errors.Is(err, ErrDamaged):
		return nil, err
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("state file %s is %w (wait for it to finish, or point this one at another state file)", path, ErrLocked)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch):
		return nil, damaged(path, err.Error()) // checkFile missed it: a write in between
	case err != nil:
		return nil, fmt.Errorf("open state file %s: %w", path, err)
	}
	db.bolt = b
	if err := db.guarded(db.checkVersion); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func (db *DB) checkVersion() error {
	upgrade := false
	check := func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if m == nil {
			return nil
		}
		v := m.Get(keyVersion)
		if v == nil {
			return nil
		}
		if len(v) == 4 {
			switch binary.BigEndian.Uint32(v) {
			case formatV2, formatV3, formatV4:
				upgrade = true
				return nil
			}
		}
		if len(v) != 4 || binary.BigEndian.Uint32(v) != FormatVersion {
			return fmt.Errorf("state file %s has format version %v, this feedsync reads version %d: use the matching feedsync release, or move the file aside to start afresh", db.path, v, FormatVersion)
		}
		return nil
	}
	if db.readOnly {
		return db.bolt.View(check)
	}
	if err := db.bolt.View(check); err != nil {
		return err
	}
	initialised, index := false, false
	_ = db.bolt.View(func(tx *bolt.Tx) error {
		initialised = tx.Bucket(bucketMeta) != nil && tx.Bucket(bucketFeeds) != nil
		index = tx.Bucket(bucketOldOwners) != nil
		return nil
	})
	if initialised && !upgrade && !index {
		return nil // opening an existing file writes nothing
	}
	return db.bolt.Update(func(tx *bolt.Tx) error {
		if index {
			// An owner index of early v3 files: ownership is read from
			// the records now.
			if err := tx.DeleteBucket(bucketOldOwners); err != nil {
				return err
			}
		}
		m, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		var v [4]byte
		binary.BigEndian.PutUint32(v[:], FormatVersion)
		if err := m.Put(keyVersion, v[:]); err != nil {
			return err
		}
		_, err = tx.CreateBucketIfNotExists(bucketFeeds)
		return err
	})
}

// Close closes the file. Closing a DB broken by a damaged file waits for
// bbolt only a moment: the file stays open and locked until the process
// exits when a failed transaction left a lock held.
func (db *DB) Close() error {
	if db.bolt == nil {
		return nil
	}
	var err error
	if !db.within(func() { err = db.bolt.Close() }) {
		return fmt.Errorf("close state file %s: left open, its failed transaction holds a lock: %w", db.path, db.failed())
	}
	return err
}

// view runs fn in a read transaction on the feed's bucket; fn gets nil when
// the feed has no state yet.
func (db *DB) view(feed string, fn func(fb *bolt.Bucket) error) error {
	if db.bolt == nil {
		return fn(nil)
	}
	return db.guarded(func() error {
		return db.bolt.View(func(tx *bolt.Tx) error {
			return fn(feedBucket(tx, feed))
		})
	})
}

// scan is view for a read of every record of a feed: the pages it read
// leave the process's mapping (releaseMapped) as it goes — fn calls
// counted once per record — and at its end.
func (db *DB) scan(feed string, fn func(fb *bolt.Bucket, counted func()) error) error {
	if db.bolt == nil {
		return fn(nil, func() {})
	}
	return db.guarded(func() error {
		return db.bolt.View(func(tx *bolt.Tx) error {
			defer releaseMapped(db.bolt, tx)
			n := 0
			return fn(feedBucket(tx, feed), func() {
				if n++; n%scanRelease == 0 {
					releaseMapped(db.bolt, tx)
				}
			})
		})
	})
}

// scanRelease is after how many records a scan releases the pages it read.
const scanRelease = 65536

// denseRelease is after how many dense batches CommitBatch releases the
// pages they read.
const denseRelease = 16

// release drops the state file's pages from the mapping (releaseMapped)
// after a write: its page reads (a search for each key, then the commit's
// copy of each page it rewrites) map 64 KiB of the file around each page
// they touch (the kernel's fault-around), so 6,000 updates spread over a
// 1M-product state kept some 400 MB of it mapped. A read transaction holds
// the mapping still.
func (db *DB) release() {
	if db.bolt == nil || db.readOnly {
		return
	}
	_ = db.guarded(func() error {
		return db.bolt.View(func(tx *bolt.Tx) error {
			releaseMapped(db.bolt, tx)
			return nil
		})
	})
}

func feedBucket(tx *bolt.Tx, feed string) *bolt.Bucket {
	fs := tx.Bucket(bucketFeeds)
	if fs == nil {
		return nil
	}
	return fs.Bucket([]byte(feed))
}

func (db *DB) update(feed string, fn func(fb *bolt.Bucket) error) error {
	if db.readOnly {
		return errors.New("state file opened read-only")
	}
	return db.guarded(func() error {
		return db.bolt.Update(func(tx *bolt.Tx) error {
			fs, err := tx.CreateBucketIfNotExists(bucketFeeds)
			if err != nil {
				return err
			}
			fb, err := fs.CreateBucketIfNotExists([]byte(feed))
			if err != nil {
				return err
			}
			if _, err := fb.CreateBucketIfNotExists(bucketProducts); err != nil {
				return err
			}
			if _, err := fb.CreateBucketIfNotExists(bucketPayloads); err != nil {
				return err
			}
			if _, err := fb.CreateBucketIfNotExists(bucketRuns); err != nil {
				return err
			}
			return fn(fb)
		})
	})
}

// Feeds lists the feeds that have state, in name order.
func (db *DB) Feeds() ([]string, error) {
	var names []string
	if db.bolt == nil {
		return nil, nil
	}
	err := db.guarded(func() error {
		return db.bolt.View(func(tx *bolt.Tx) error {
			fs := tx.Bucket(bucketFeeds)
			if fs == nil {
				return nil
			}
			return fs.ForEachBucket(func(k []byte) error {
				names = append(names, string(k))
				return nil
			})
		})
	})
	return names, err
}

// Reset forgets everything about a feed, and gives up its custom_ids in
// every catalog.
func (db *DB) Reset(feed string) error {
	if db.readOnly {
		return errors.New("state file opened read-only")
	}
	return db.guarded(func() error {
		return db.bolt.Update(func(tx *bolt.Tx) error {
			fs := tx.Bucket(bucketFeeds)
			if fs == nil || fs.Bucket([]byte(feed)) == nil {
				return fmt.Errorf("feed %q: %w in %s", feed, ErrNotFound, db.path)
			}
			return fs.DeleteBucket([]byte(feed))
		})
	})
}

// Meta is a feed's fetch metadata.
type Meta struct {
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	// BodyHash is the XXH3-128 of the last successful run's raw body, in hex
	// (the unchanged-body shortcut). States written before it kept a
	// body_sha256 instead, which is ignored: their next run diffs in full.
	BodyHash string `json:"body_hash,omitempty"`
	// BodySize, Items and Products are those of the body of the last
	// finished run: a file of another size changed, and a run that finds
	// the same bytes by their hash reports these without reading them.
	BodySize int64 `json:"body_size,omitempty"`
	Items    int   `json:"items,omitempty"`
	Products int   `json:"products,omitempty"`
	// Expires is when the products of the last body read would change by
	// the clock alone, the bytes being the same (a sale window of one of
	// its items starts or ends): RFC 3339 in UTC, "never", or "" when
	// unknown (a state of an older feedsync). The fetch shortcuts apply only
	// before it.
	Expires string `json:"expires,omitempty"`
	// ConfigSHA256 fingerprints the settings that shape payloads; the fetch
	// shortcuts (304, unchanged body) apply only while it is unchanged.
	ConfigSHA256 string    `json:"config_sha256,omitempty"`
	LastSuccess  time.Time `json:"last_success,omitzero"`
	LastError    string    `json:"last_error,omitempty"`
	LastErrorAt  time.Time `json:"last_error_at,omitzero"`
	// Attributes is set once the catalog's typed attributes were declared.
	Attributes bool `json:"attributes,omitempty"`
	// Policy is the tree policy of the last finished run (plan names a
	// switch of policy as such).
	Policy string `json:"policy,omitempty"`
	// OwnerTarget is the catalog target in which this feed's records claim
	// their custom_ids (see Adopt).
	OwnerTarget string `json:"owner_target,omitempty"`
}

// Meta returns a feed's metadata; the zero Meta for a new feed.
func (db *DB) Meta(feed string) (Meta, error) {
	var m Meta
	err := db.view(feed, func(fb *bolt.Bucket) error {
		if fb == nil {
			return nil
		}
		if v := fb.Get(keyFeedMeta); v != nil {
			return json.Unmarshal(v, &m)
		}
		return nil
	})
	return m, err
}

// SetMeta replaces a feed's metadata.
func (db *DB) SetMeta(feed string, m Meta) error {
	v, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return db.update(feed, func(fb *bolt.Bucket) error { return fb.Put(keyFeedMeta, v) })
}

// RawSample returns the item hashes SetRawSample kept for feed (nil for
// none), 16 bytes each.
func (db *DB) RawSample(feed string) ([]byte, error) {
	var out []byte
	err := db.view(feed, func(fb *bolt.Bucket) error {
		if fb != nil {
			out = bytes.Clone(fb.Get(keyRawSample))
		}
		return nil
	})
	return out, err
}

// SetRawSample keeps the hashes of the first items of a feed's last parse
// (feed.Item.Raw, 16 bytes each): a run that finds others at the start of
// the feed need not look further for a feed it would recognise. It is a
// hint: nothing else depends on it.
func (db *DB) SetRawSample(feed string, sample []byte) error {
	return db.update(feed, func(fb *bolt.Bucket) error {
		if len(sample) == 0 {
			return fb.Delete(keyRawSample)
		}
		return fb.Put(keyRawSample, sample)
	})
}

// AddRun appends a run summary (any JSON value) and keeps the last MaxRuns.
func (db *DB) AddRun(feed string, summary any) error {
	v, err := json.Marshal(summary)
	if err != nil {
		return err
	}
	return db.update(feed, func(fb *bolt.Bucket) error {
		rb := fb.Bucket(bucketRuns)
		seq, err := rb.NextSequence()
		if err != nil {
			return err
		}
		var k [8]byte
		binary.BigEndian.PutUint64(k[:], seq)
		if err := rb.Put(k[:], v); err != nil {
			return err
		}
		// Sequence numbers are dense: everything at or below seq-MaxRuns goes.
		if seq <= MaxRuns {
			return nil
		}
		c := rb.Cursor()
		for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) <= seq-MaxRuns; k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
}

// Runs returns up to n of the latest run summaries, newest first.
func (db *DB) Runs(feed string, n int) ([]json.RawMessage, error) {
	var out []json.RawMessage
	err := db.view(feed, func(fb *bolt.Bucket) error {
		if fb == nil {
			return nil
		}
		c := fb.Bucket(bucketRuns).Cursor()
		for k, v := c.Last(); k != nil && len(out) < n; k, v = c.Prev() {
			out = append(out, bytes.Clone(v))
		}
		return nil
	})
	return out, err
}
