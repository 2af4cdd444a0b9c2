package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// stateData is the page size of a state file and how many of its bytes hold
// data (bbolt grows the file ahead of that).
func stateData(t *testing.T, path string) (pageSize int, size int64) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		size = tx.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return db.Info().PageSize, size
}

// noCrash fails when stderr holds a Go crash rather than an error message.
func noCrash(t *testing.T, what, stderr string) {
	t.Helper()
	for _, s := range []string{"panic", "SIGBUS", "SIGSEGV", "goroutine ", "fatal error"} {
		if strings.Contains(stderr, s) {
			t.Errorf("%s: stderr has %q:\n%s", what, s, stderr)
		}
	}
}

func TestTruncatedStateFileExits2(t *testing.T) {
	dir := workspace(t, map[string]string{"books": "books.csv:variant"}, "")
	cfg := filepath.Join(dir, "feedsync.yaml")
	if r := runBinary(t, nil, "sync", "-c", cfg); r.code != 0 {
		t.Fatalf("first sync: exit %d\n%s", r.code, r.stderr)
	}
	statePath := filepath.Join(dir, "state", "feedsync.db")
	_, size := stateData(t, statePath)
	if err := os.Truncate(statePath, size/2); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"sync"}, {"plan"}, {"state"}, {"state", "--reset", "--yes", "books"}} {
		what := strings.Join(args, " ")
		r := runBinary(t, nil, append(args, "-c", cfg)...)
		want := fmt.Sprintf("feedsync: state file %s is damaged (truncated: %d bytes", statePath, size/2)
		if r.code != 2 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "restore it from a backup, or move it aside to start afresh") {
			t.Errorf("%s on a truncated state file: exit %d, stderr:\n%s\nwant exit 2 and %q", what, r.code, r.stderr, want)
		}
		noCrash(t, what, r.stderr)
	}
}

// A page zeroed in the middle of the products bucket opens fine and makes
// bbolt panic when a sync reads the products (on the calling goroutine or
// the diff's workers): the feed fails with the message, and the process
// does not crash.
func TestDamagedStatePageFailsTheSyncWithoutACrash(t *testing.T) {
	dir := workspace(t, map[string]string{}, "  - {name: big, url: big.csv, policy: variant}\n")
	var feed strings.Builder
	feed.WriteString("id,title,description,availability,condition,price,link,image_link,brand\n")
	for i := range 400 {
		fmt.Fprintf(&feed, "SKU-%04d,Thing %d,A thing.,in stock,new,%d.00 USD,https://shop.example.com/p/%d,https://shop.example.com/i/%d.jpg,Acme\n", i, i, 10+i%50, i, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "big.csv"), []byte(feed.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "feedsync.yaml")
	if r := runBinary(t, nil, "sync", "-c", cfg); r.code != 0 {
		t.Fatalf("first sync: exit %d\n%s", r.code, r.stderr)
	}
	statePath := filepath.Join(dir, "state", "feedsync.db")
	pageSize, _ := stateData(t, statePath)
	db, err := bolt.Open(statePath, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var root uint64
	err = db.View(func(tx *bolt.Tx) error {
		root = uint64(tx.Bucket([]byte("feeds")).Bucket([]byte("big")).Bucket([]byte("products")).Root())
		return nil
	})
	db.Close()
	if err != nil || root == 0 {
		t.Fatalf("products bucket root %d (%v): want a page of its own", root, err)
	}
	f, err := os.OpenFile(statePath, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteAt(make([]byte, pageSize), int64(root)*int64(pageSize))
	f.Close()
	if err != nil {
		t.Fatal(err)
	}

	r := runBinary(t, nil, "sync", "-c", cfg, "--full-scan")
	// Exit 2, like a damaged file found at open: the sync stops at once,
	// every other feed would meet the same damage.
	if r.code != 2 || !strings.Contains(r.stderr, "state file "+statePath+" is damaged (") {
		t.Errorf("sync over a zeroed page: exit %d, stderr:\n%s\nwant a failure naming the damaged file", r.code, r.stderr)
	}
	noCrash(t, "sync", r.stderr)
}
