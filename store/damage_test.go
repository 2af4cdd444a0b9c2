package store

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// damageIDs are the products of the state damageState writes: enough for the
// products bucket to span a branch page and several leaves.
var damageIDs = func() []string {
	ids := make([]string, 400)
	for i := range ids {
		ids[i] = fmt.Sprintf("SKU-%04d", i)
	}
	return ids
}()

// damageState writes a state file with two feeds through the public API and
// closes it.
func damageState(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := Open(path, Options{Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	if err := db.SetMeta("shop", Meta{ETag: `"v1"`, LastSuccess: at}); err != nil {
		t.Fatal(err)
	}
	acks := make([]Ack, len(damageIDs))
	for i, id := range damageIDs {
		payload := fmt.Appendf(nil, `{"custom_id":%q,"name":"%s"}`, id, strings.Repeat("x", 200))
		acks[i] = Ack{ID: id, At: at, Hash: sha256.Sum256(payload), Payload: payload, State: Live}
	}
	if err := db.Commit("shop", acks); err != nil {
		t.Fatal(err)
	}
	if err := db.Commit("books", acks[:3]); err != nil {
		t.Fatal(err)
	}
	if err := db.AddRun("shop", map[string]int{"created": len(acks)}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// layout is the page size, high water mark and freelist page of a closed
// state file, from its newest valid meta.
func layout(t *testing.T, path string) fileMeta {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m0, err0 := readMeta(f, 0)
	if err0 != nil {
		t.Fatal(err0)
	}
	m1, err1 := readMeta(f, int64(m0.pageSize))
	if err1 == nil && m1.txid > m0.txid {
		return m1
	}
	return m0
}

// productsRoot is the page of the shop feed's products bucket: a branch page
// in the middle of the file, read by every lookup.
func productsRoot(t *testing.T, path string) uint64 {
	t.Helper()
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var root uint64
	err = b.View(func(tx *bolt.Tx) error {
		pb := tx.Bucket(bucketFeeds).Bucket([]byte("shop")).Bucket(bucketProducts)
		root = uint64(pb.Root())
		if p, err := tx.Page(int(root)); err != nil || p == nil || p.Type != "branch" {
			return fmt.Errorf("products root page %d is %+v (%v), want a branch page: make the state bigger", root, p, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// overwrite writes data at page id of the file.
func overwrite(t *testing.T, path string, pageSize uint32, id uint64, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(data, int64(id)*int64(pageSize)); err != nil {
		t.Fatal(err)
	}
}

func zeroPage(t *testing.T, path string, id uint64) {
	t.Helper()
	m := layout(t, path)
	overwrite(t, path, m.pageSize, id, make([]byte, m.pageSize))
}

// stateBytes is the state file at path without the unused tail bbolt grows
// files by (16 MB).
func stateBytes(t *testing.T, path string) []byte {
	t.Helper()
	m := layout(t, path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data := make([]byte, m.pgid*uint64(m.pageSize))
	if _, err := f.ReadAt(data, 0); err != nil {
		t.Fatal(err)
	}
	return data
}

// writeState writes a state file into a new temp dir.
func writeState(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// copyFile copies the state at src into a new temp dir.
func copyFile(t *testing.T, src string) string {
	t.Helper()
	return writeState(t, stateBytes(t, src))
}

// wantDamaged fails unless err wraps ErrDamaged, names path and says what
// to do, and each of the words.
func wantDamaged(t *testing.T, what string, err error, path string, words ...string) {
	t.Helper()
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("%s: got %v, want an error wrapping ErrDamaged", what, err)
	}
	msg := err.Error()
	for _, w := range append([]string{"state file " + path + " is damaged (", "restore it from a backup", "move it aside to start afresh"}, words...) {
		if !strings.Contains(msg, w) {
			t.Errorf("%s: error %q does not say %q", what, msg, w)
		}
	}
	if strings.Contains(msg, "goroutine ") {
		t.Errorf("%s: error carries a stack:\n%s", what, msg)
	}
}

// closeSoon closes db, failing if that takes much longer than closeWait.
func closeSoon(t *testing.T, db *DB) {
	t.Helper()
	done := make(chan struct{})
	go func() { db.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * closeWait):
		t.Fatal("Close of a damaged state file hangs")
	}
}

// bbolt grows the file 16 MB at a time, ahead of the pages in use (the meta's
// high water mark): a truncation is damage when it cuts into those.
func TestTruncatedStateIsDamaged(t *testing.T) {
	path := damageState(t)
	m := layout(t, path)
	data := int64(m.pgid) * int64(m.pageSize)
	if err := os.Truncate(path, data); err != nil {
		t.Fatal(err)
	}
	db := open(t, path) // all the data is there
	if n, err := db.Stored("shop"); err != nil || n != len(damageIDs) {
		t.Fatalf("Stored after cutting the unused tail: %d, %v", n, err)
	}
	db.Close()

	if err := os.Truncate(path, data/2); err != nil {
		t.Fatal(err)
	}
	for _, ro := range []bool{false, true} {
		db, err := Open(path, Options{Timeout: 200 * time.Millisecond, ReadOnly: ro})
		if err == nil {
			db.Close()
		}
		wantDamaged(t, fmt.Sprintf("Open(ReadOnly: %v)", ro), err, path, fmt.Sprintf("truncated: %d bytes, where its last transaction wrote %d", data/2, data))
	}
	// Cut into the first meta, the file has none.
	if err := os.Truncate(path, 40); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path, Options{Timeout: 200 * time.Millisecond})
	wantDamaged(t, "Open of 40 bytes", err, path, "neither meta page is valid: meta page 0 is missing, meta page 1 is missing")
}

// A file truncated under an open DB faults on the next read that maps a page
// past its end: without SetPanicOnFault that is a fatal SIGBUS.
func TestTruncatedWhileOpenIsDamaged(t *testing.T) {
	path := damageState(t)
	m := layout(t, path)
	db, err := Open(path, Options{Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer closeSoon(t, db)
	if err := os.Truncate(path, 2*int64(m.pageSize)); err != nil {
		t.Fatal(err)
	}
	_, err = db.Count("shop")
	wantDamaged(t, "Count", err, path, "memory fault")
	first := err.Error()

	// Broken: everything fails at once with the same error, writes included.
	l := db.Lookup("shop")
	_, _, err = l.Get(damageIDs[0])
	l.Close()
	if err == nil || err.Error() != first {
		t.Errorf("Lookup.Get after the fault: %v, want %q", err, first)
	}
	if err := db.Commit("shop", []Ack{{ID: "NEW", At: time.Now(), Hash: sha256.Sum256(nil), State: Live}}); err == nil || err.Error() != first {
		t.Errorf("Commit after the fault: %v, want %q", err, first)
	}
	if _, err := db.Feeds(); err == nil || err.Error() != first {
		t.Errorf("Feeds after the fault: %v, want %q", err, first)
	}
	if err := db.Reset("books"); err == nil || err.Error() != first {
		t.Errorf("Reset after the fault: %v, want %q", err, first)
	}
}

// A zeroed page in the middle (the products bucket's root) opens fine, and
// bbolt panics reading it ("Page expected to be: N, but self identifies as
// 0").
func TestZeroedPageIsDamaged(t *testing.T) {
	orig := damageState(t)
	root := productsRoot(t, orig)
	for _, tc := range []struct {
		name string
		read func(db *DB) error
	}{
		{"Count", func(db *DB) error { _, err := db.Count("shop"); return err }},
		{"Get", func(db *DB) error { _, _, err := db.Get("shop", damageIDs[7]); return err }},
		{"Missing", func(db *DB) error {
			_, err := db.Missing("shop", func(string) bool { return false })
			return err
		}},
		// Forgetting the feed reads its pages too: no way out of the damage.
		{"Reset", func(db *DB) error { return db.Reset("shop") }},
		{"Commit", func(db *DB) error {
			return db.Commit("shop", []Ack{{ID: damageIDs[9], At: time.Now(), Hash: sha256.Sum256(nil), Payload: []byte("{}"), State: Live}})
		}},
		{"Lookup", func(db *DB) error {
			// The sync engine's differ: several goroutines, a Lookup each.
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for w := range errs {
				wg.Go(func() {
					l := db.Lookup("shop")
					defer l.Close()
					for _, id := range damageIDs {
						if _, _, err := l.Get(id); err != nil {
							errs[w] = err
							return
						}
					}
				})
			}
			wg.Wait()
			for _, err := range errs {
				if !errors.Is(err, ErrDamaged) {
					return fmt.Errorf("a differ got %v", err)
				}
			}
			return errs[0]
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := copyFile(t, orig)
			zeroPage(t, path, root)
			db, err := Open(path, Options{Timeout: 200 * time.Millisecond})
			if err != nil {
				t.Fatalf("Open: %v (the meta pages and the freelist are intact)", err)
			}
			defer closeSoon(t, db)
			err = tc.read(db)
			wantDamaged(t, tc.name, err, path, "bbolt: ")
			if _, err2 := db.Meta("books"); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("Meta after the damage: %v, want the same error", err2)
			}
		})
	}
}

// bbolt reads the freelist page as it opens, and panics on a bad one with
// the file mapped and locked: Open checks it first.
func TestZeroedFreelistIsDamaged(t *testing.T) {
	path := damageState(t)
	m := layout(t, path)
	zeroPage(t, path, m.freelist)
	for _, ro := range []bool{false, true} {
		_, err := Open(path, Options{Timeout: 200 * time.Millisecond, ReadOnly: ro})
		wantDamaged(t, fmt.Sprintf("Open(ReadOnly: %v)", ro), err, path, fmt.Sprintf("its freelist page %d has page flags 0", m.freelist))
	}
}

func TestCorruptMetaChecksums(t *testing.T) {
	orig := damageState(t)
	m := layout(t, orig)
	flip := func(t *testing.T, path string, page uint64) {
		overwrite(t, path, m.pageSize, page, nil) // no-op write: the page exists
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		off := int64(page)*int64(m.pageSize) + pageHeaderSize + offChecksum
		b := make([]byte, 1)
		if _, err := f.ReadAt(b, off); err != nil {
			t.Fatal(err)
		}
		b[0] ^= 0xff
		if _, err := f.WriteAt(b, off); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("Both", func(t *testing.T) {
		path := copyFile(t, orig)
		flip(t, path, 0)
		flip(t, path, 1)
		for _, ro := range []bool{false, true} {
			_, err := Open(path, Options{Timeout: 200 * time.Millisecond, ReadOnly: ro})
			wantDamaged(t, fmt.Sprintf("Open(ReadOnly: %v)", ro), err, path, "neither meta page is valid: meta page 0 fails its checksum, meta page 1 fails its checksum")
		}
	})
	// One bad meta is what a crash mid-commit leaves: bbolt uses the other.
	t.Run("Newest", func(t *testing.T) {
		path := copyFile(t, orig)
		flip(t, path, m.txid%2)
		db := open(t, path)
		if n, err := db.Stored("shop"); err != nil || n != len(damageIDs) {
			t.Errorf("Stored with the older meta: %d, %v; want %d", n, err, len(damageIDs))
		}
	})
}

// Whatever page is zeroed or filled with garbage, every call returns (an
// error or not) and the process lives; a panic is reported as damage, never
// as a bug.
func TestEveryDamagedPageIsAnErrorNotACrash(t *testing.T) {
	orig := damageState(t)
	m := layout(t, orig)
	state := stateBytes(t, orig)
	rnd := rand.New(rand.NewPCG(1, 2))
	damagedSeen := 0
	for page := uint64(2); page < m.pgid; page++ {
		for _, kind := range []string{"zero", "garbage"} {
			data := make([]byte, m.pageSize)
			if kind == "garbage" {
				for i := range data {
					data[i] = byte(rnd.Uint32())
				}
			}
			damaged := slices.Clone(state)
			copy(damaged[page*uint64(m.pageSize):], data)
			path := writeState(t, damaged)
			what := fmt.Sprintf("page %d (%s)", page, kind)
			var errs []error
			db, err := Open(path, Options{Timeout: 200 * time.Millisecond})
			errs = append(errs, err)
			if err == nil {
				_, err = db.Feeds()
				errs = append(errs, err)
				for _, feed := range []string{"shop", "books"} {
					_, err = db.Count(feed)
					errs = append(errs, err)
					_, err = db.Meta(feed)
					errs = append(errs, err)
					_, err = db.Runs(feed, 5)
					errs = append(errs, err)
					_, err = db.Missing(feed, func(string) bool { return false })
					errs = append(errs, err)
					l := db.Lookup(feed)
					for _, id := range damageIDs[:50] {
						if _, _, err := l.Get(id); err != nil {
							errs = append(errs, err)
							break
						}
					}
					l.Close()
					errs = append(errs, db.Commit(feed, []Ack{{ID: damageIDs[3], At: time.Now(), Hash: sha256.Sum256(nil), Payload: []byte("{}"), State: Live}}))
				}
				closeSoon(t, db)
			}
			for _, err := range errs {
				if err != nil && strings.Contains(err.Error(), "a bug in feedsync") {
					t.Errorf("%s: a panic taken for a bug: %v", what, err)
				}
				if errors.Is(err, ErrDamaged) {
					damagedSeen++
					if !strings.Contains(err.Error(), path) {
						t.Errorf("%s: %v does not name the file", what, err)
					}
				}
			}
		}
	}
	if damagedSeen == 0 {
		t.Error("no damaged page was reported as damaged")
	}
}

// A panic of the code a transaction runs is a bug, not damage: the DB stays
// usable.
func TestCallbackPanicIsNotDamage(t *testing.T) {
	db := open(t, damageState(t))
	var m map[string]int
	err := db.Each("shop", func(e Entry) error {
		m[e.ID]++ // nil map
		return nil
	})
	if err == nil || errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "assignment to entry in nil map") || !strings.Contains(err.Error(), "a bug in feedsync") {
		t.Fatalf("Each with a panicking callback: %v, want a bug error naming the panic", err)
	}
	if n, err := db.Stored("shop"); err != nil || n != len(damageIDs) {
		t.Errorf("Stored after the callback panic: %d, %v", n, err)
	}
}

// The guard turns faults into panics only while it runs.
func TestDamageGuardRestoresPanicOnFault(t *testing.T) {
	db := open(t, damageState(t))
	for _, before := range []bool{false, true} {
		debug.SetPanicOnFault(before)
		if _, err := db.Count("shop"); err != nil {
			t.Fatal(err)
		}
		l := db.Lookup("shop")
		if _, _, err := l.Get(damageIDs[1]); err != nil {
			t.Fatal(err)
		}
		l.Close()
		if after := debug.SetPanicOnFault(false); after != before {
			t.Errorf("panic on fault %v before a read, %v after", before, after)
		}
	}
}
