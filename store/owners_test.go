package store

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Ownership is read from the other feeds' records and journals: an id
// journaled by one feed is refused to another even before the first one's
// acknowledgement is committed, and released when its record goes.
func TestOwnershipFollowsJournalsAndRecords(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "s.db"))
	const target = "https://shop.user.com/api/public"
	for _, f := range []string{"a", "b"} {
		if _, err := db.Adopt(f, target); err != nil {
			t.Fatal(err)
		}
	}
	seqA, owners, err := db.Intend("a", target, []Intent{{ID: "X"}, {ID: "Y"}})
	if err != nil || seqA == 0 || slices.ContainsFunc(owners, func(o string) bool { return o != "" }) {
		t.Fatalf("a's first claim: seq %d owners %q err %v", seqA, owners, err)
	}
	// In flight: only a's journal holds X.
	_, owners, err = db.Intend("b", target, []Intent{{ID: "X"}, {ID: "Z"}})
	if err != nil || owners[0] != "a" || owners[1] != "" {
		t.Fatalf("b's claim on a's in-flight X: owners %q err %v", owners, err)
	}
	if o, _ := db.Owners("b", target, []string{"X", "Y", "Z", "W"}); !slices.Equal(o, []string{"a", "a", "", ""}) {
		t.Errorf("Owners seen by b: %q", o)
	}
	// Acknowledged: a's record holds X.
	at := time.Now().UTC()
	if err := db.CommitBatch("a", []Ack{{ID: "X", At: at, State: Live, Seq: seqA}, {ID: "Y", At: at, State: Live, Seq: seqA}}, []uint64{seqA}); err != nil {
		t.Fatal(err)
	}
	if o, _ := owner(db, target, "X"); o != "a" {
		t.Errorf("owner of X after a's commit: %q", o)
	}
	// Another catalog is another namespace.
	if o, _ := db.Owners("b", "file:///other.jsonl", []string{"X"}); o[0] != "" {
		t.Errorf("X is owned in an unrelated target: %q", o)
	}
	// a deletes X: b may claim it.
	if err := db.CommitBatch("a", []Ack{{ID: "X", At: at, Delete: true}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, owners, _ := db.Intend("b", target, []Intent{{ID: "X"}}); owners[0] != "" {
		t.Errorf("b's claim on the released X: owner %q", owners[0])
	}
	// Reset gives up every claim.
	if o, _ := owner(db, target, "Y"); o != "a" {
		t.Fatalf("owner of Y: %q", o)
	}
	if err := db.Reset("a"); err != nil {
		t.Fatal(err)
	}
	if o, _ := owner(db, target, "Y"); o != "" {
		t.Errorf("owner of Y after a's reset: %q", o)
	}
}

// A feed that joins a target keeps none of the records another feed of the
// target holds: it must neither update nor delete them.
func TestAdoptDropsRecordsAnotherFeedOwns(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "s.db"))
	at := time.Now().UTC()
	for _, f := range []string{"a", "b"} {
		if err := db.Commit(f, []Ack{{ID: "shared", At: at, State: Live}, {ID: f + "-own", At: at, State: Live}}); err != nil {
			t.Fatal(err)
		}
	}
	if c, err := db.Adopt("a", "t"); err != nil || len(c) != 0 {
		t.Fatalf("a adopts first: conflicts %q err %v", c, err)
	}
	c, err := db.Adopt("b", "t")
	if err != nil || !slices.Equal(c, []string{"shared"}) {
		t.Fatalf("b adopts second: conflicts %q err %v", c, err)
	}
	if r := get(t, db, "b", "shared"); r.State != 0 || !r.FirstSeen.IsZero() {
		t.Errorf("b kept a record of a's product: %+v", r)
	}
	if o, _ := db.Owners("b", "t", []string{"shared", "b-own", "a-own"}); !slices.Equal(o, []string{"a", "", "a"}) {
		t.Errorf("owners: %q", o)
	}
	// Adopting the same target again changes nothing.
	if c, err := db.Adopt("b", "t"); err != nil || c != nil {
		t.Errorf("second adopt: %q %v", c, err)
	}
}

// Early v3 files kept an owner index; opening one drops it.
func TestOldOwnerIndexIsDropped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	db := open(t, path)
	if err := db.Commit("a", []Ack{{ID: "X", At: time.Now(), State: Live}}); err != nil {
		t.Fatal(err)
	}
	if err := db.bolt.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(bucketOldOwners)
		if err != nil {
			return err
		}
		return b.Put([]byte("t"), []byte("a"))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = open(t, path)
	_ = db.bolt.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketOldOwners) != nil {
			t.Error("the old owner index is still there")
		}
		return nil
	})
	if r := get(t, db, "a", "X"); r.State != Live {
		t.Errorf("record lost with the index: %+v", r)
	}
}

// owner is the feed that owns id in target ("" when none does).
func owner(db *DB, target, id string) (string, error) {
	o, err := db.Owners("", target, []string{id})
	if err != nil {
		return "", err
	}
	return o[0], nil
}
