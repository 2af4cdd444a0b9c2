package store

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func open(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(path, Options{Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Commit writes a batch of acknowledgements that resolves no journal entry.
func (db *DB) Commit(feed string, acks []Ack) error {
	return db.CommitBatch(feed, acks, nil)
}

func get(t *testing.T, db *DB, feed, id string) Record {
	t.Helper()
	l := db.Lookup(feed)
	defer l.Close()
	r, _, err := l.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCommitThenLookup(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "s.db"))
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	h := sha256.Sum256([]byte("payload"))
	err := db.Commit("shop", []Ack{
		{ID: "A", At: at, Hash: h, Payload: []byte(`{"custom_id":"A"}`), State: Live},
		{ID: "B", At: at, Err: "rejected by the catalog (400): name too long"},
	})
	if err != nil {
		t.Fatal(err)
	}
	l := db.Lookup("shop")
	defer l.Close()
	a, ok, err := l.Get("A")
	if err != nil || !ok || a.Hash != h || a.State != Live || !a.LastPushed.Equal(at) || !a.FirstSeen.Equal(at) {
		t.Errorf("A: got %+v %v %v", a, ok, err)
	}
	b, ok, _ := l.Get("B")
	if !ok || b.Acknowledged() || b.State != Failed || !strings.Contains(b.LastError, "name too long") {
		t.Errorf("B: got %+v, want an unacknowledged failed record with its error", b)
	}
	if _, ok, _ := l.Get("C"); ok {
		t.Error("C: found a record never written")
	}
	other := db.Lookup("other")
	defer other.Close()
	if _, ok, _ := other.Get("A"); ok {
		t.Error("feeds share records")
	}
}

func TestRejectedUpdateKeepsTheOldHash(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "s.db"))
	h := sha256.Sum256([]byte("v1"))
	db.Commit("shop", []Ack{{ID: "A", At: time.Now(), Hash: h, State: Live}})
	db.Commit("shop", []Ack{{ID: "A", At: time.Now(), Err: "boom"}})
	r := get(t, db, "shop", "A")
	if r.Hash != h || r.State != Live || r.LastError != "boom" {
		t.Errorf("got %+v, want the old hash kept, state live, error recorded", r)
	}
	db.Commit("shop", []Ack{{ID: "A", At: time.Now(), Hash: sha256.Sum256([]byte("v2")), State: Live}})
	r = get(t, db, "shop", "A")
	if r.LastError != "" {
		t.Errorf("a later ack did not clear the error: %+v", r)
	}
}

func TestMissingAndDelete(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "s.db"))
	var acks []Ack
	for i := 0; i < 10; i++ {
		acks = append(acks, Ack{ID: fmt.Sprintf("P%d", i), At: time.Now(), Hash: sha256.Sum256([]byte{byte(i)}), Payload: []byte(fmt.Sprintf(`{"i":%d}`, i)), State: Live})
	}
	db.Commit("shop", acks)
	seen := map[string]bool{"P0": true, "P1": true, "P2": true, "P3": true, "P4": true, "P5": true, "P6": true}
	miss, err := db.Missing("shop", func(id string) bool { return seen[id] })
	if err != nil {
		t.Fatal(err)
	}
	if len(miss) != 3 || miss[0].ID != "P7" || string(miss[0].Payload) != `{"i":7}` {
		t.Fatalf("missing: got %+v", miss)
	}
	db.Commit("shop", []Ack{{ID: "P7", Delete: true}})
	if n, _ := db.Stored("shop"); n != 9 {
		t.Errorf("stored after a delete: %d, want 9", n)
	}
	c, _ := db.Count("shop")
	if c.Total != 9 || c.Live != 9 {
		t.Errorf("counts: %+v", c)
	}
}

func TestRunsKeepTheLast100(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "s.db"))
	for i := 0; i < 130; i++ {
		if err := db.AddRun("shop", map[string]int{"n": i}); err != nil {
			t.Fatal(err)
		}
	}
	runs, _ := db.Runs("shop", 1000)
	if len(runs) != MaxRuns || string(runs[0]) != `{"n":129}` || string(runs[99]) != `{"n":30}` {
		t.Errorf("got %d runs, newest %s, oldest %s", len(runs), runs[0], runs[len(runs)-1])
	}
}

func TestSecondProcessFailsFast(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	open(t, path)
	start := time.Now()
	_, err := Open(path, Options{Timeout: 300 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("got %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "state file "+path+" is in use by another feedsync process") {
		t.Errorf("message: %q", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v to fail", d)
	}
}

func TestReadOnlyOfMissingFileCreatesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.db")
	db, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := db.Meta("shop"); err != nil || m.ETag != "" {
		t.Errorf("meta of an empty state: %+v %v", m, err)
	}
	if r := get(t, db, "shop", "A"); r.State != 0 {
		t.Error("found a product in an empty state")
	}
	db.Close()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Error("a read-only open created the file")
	}
}

func TestOpeningAnExistingFileWritesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	db := open(t, path)
	db.Commit("shop", []Ack{{ID: "A", At: time.Now(), Hash: sha256.Sum256(nil), State: Live}})
	db.Close()
	before, _ := os.ReadFile(path)
	db2 := open(t, path)
	db2.Close()
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Error("opening and closing the state file changed it")
	}
}

func TestFormatVersionIsChecked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	open(t, path).Close()
	b, _ := bolt.Open(path, 0o600, nil)
	b.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyVersion, []byte{0, 0, 0, 9}) })
	b.Close()
	_, err := Open(path, Options{})
	if err == nil || !strings.Contains(err.Error(), "format version") {
		t.Errorf("got %v, want a format version error", err)
	}
}

func TestMetaRoundTripAndReset(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "s.db"))
	m := Meta{ETag: `"abc"`, LastModified: "Tue, 01 Dec 2026 10:00:00 GMT", BodyHash: "ff", LastSuccess: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	if err := db.SetMeta("shop", m); err != nil {
		t.Fatal(err)
	}
	got, _ := db.Meta("shop")
	if got != m {
		t.Errorf("got %+v, want %+v", got, m)
	}
	feeds, _ := db.Feeds()
	if len(feeds) != 1 || feeds[0] != "shop" {
		t.Errorf("feeds: %v", feeds)
	}
	if err := db.Reset("shop"); err != nil {
		t.Fatal(err)
	}
	if err := db.Reset("shop"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second reset: %v, want ErrNotFound", err)
	}
}

// A version 3 file (raw JSON payloads) or 4 (zstd frames) is upgraded to
// version 5 when opened for writing: its payloads read as before, new ones
// are stored S2-compressed, and the file says version 5, which an older
// feedsync refuses by name.
func TestOlderVersionFilesAreUpgraded(t *testing.T) {
	p := []byte(`{"custom_id":"A","name":"Tee"}`)
	for version, stored := range map[byte][]byte{3: p, 4: payloadEncoderV4().EncodeAll(p, nil)} {
		path := filepath.Join(t.TempDir(), "s.db")
		open(t, path).Close()
		b, _ := bolt.Open(path, 0o600, nil)
		err := b.Update(func(tx *bolt.Tx) error {
			if err := tx.Bucket(bucketMeta).Put(keyVersion, []byte{0, 0, 0, version}); err != nil {
				return err
			}
			fb, err := tx.Bucket(bucketFeeds).CreateBucketIfNotExists([]byte("shop"))
			if err != nil {
				return err
			}
			pb, _ := fb.CreateBucketIfNotExists(bucketProducts)
			yb, _ := fb.CreateBucketIfNotExists(bucketPayloads)
			r := Record{Hash: sha256.Sum256(p), State: Live, FirstSeen: time.Unix(1, 0), LastPushed: time.Unix(1, 0)}
			if err := pb.Put([]byte("A"), r.marshal()); err != nil {
				return err
			}
			return yb.Put([]byte("A"), stored) // as that version wrote it
		})
		b.Close()
		if err != nil {
			t.Fatal(err)
		}
		db := open(t, path)
		r, ok, err := db.Get("shop", "A")
		if err != nil || !ok || string(r.Payload) != string(p) {
			t.Errorf("the v%d payload after the upgrade: %q %v %v", version, r.Payload, ok, err)
		}
		db.Close()
		b, _ = bolt.Open(path, 0o600, nil)
		var v []byte
		b.View(func(tx *bolt.Tx) error { v = append(v, tx.Bucket(bucketMeta).Get(keyVersion)...); return nil })
		b.Close()
		if string(v) != "\x00\x00\x00\x05" {
			t.Errorf("version %d after the upgrade: %x, want 5", version, v)
		}
	}
}

func TestHasProducts(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "s.db"))
	if has, err := db.HasProducts("shop"); err != nil || has {
		t.Errorf("a new feed: %v, %v; want no products", has, err)
	}
	if err := db.SetMeta("shop", Meta{ETag: "x"}); err != nil {
		t.Fatal(err)
	}
	if has, err := db.HasProducts("shop"); err != nil || has {
		t.Errorf("a feed with metadata only: %v, %v; want no products", has, err)
	}
	p := []byte(`{"custom_id":"A"}`)
	if err := db.Commit("shop", []Ack{{ID: "A", At: time.Now(), Hash: sha256.Sum256(p), Payload: p, State: Live}}); err != nil {
		t.Fatal(err)
	}
	if has, err := db.HasProducts("shop"); err != nil || !has {
		t.Errorf("after a commit: %v, %v; want products", has, err)
	}
}
