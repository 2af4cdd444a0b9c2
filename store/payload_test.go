package store

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// storedPayload is the value the payloads bucket holds for id.
func storedPayload(t *testing.T, db *DB, feed, id string) []byte {
	t.Helper()
	var v []byte
	if err := db.bolt.View(func(tx *bolt.Tx) error {
		v = bytes.Clone(feedBucket(tx, feed).Bucket(bucketPayloads).Get([]byte(id)))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return v
}

// putStoredPayload writes v as id's stored payload, bypassing encodePayload.
func putStoredPayload(t *testing.T, db *DB, feed, id string, v []byte) {
	t.Helper()
	if err := db.bolt.Update(func(tx *bolt.Tx) error {
		return feedBucket(tx, feed).Bucket(bucketPayloads).Put([]byte(id), v)
	}); err != nil {
		t.Fatal(err)
	}
}

func missingPayload(t *testing.T, db *DB, feed, id string) []byte {
	t.Helper()
	miss, err := db.Missing(feed, func(got string) bool { return got != id })
	if err != nil || len(miss) != 1 || miss[0].ID != id {
		t.Fatalf("missing: got %+v, %v; want only %s", miss, err, id)
	}
	return miss[0].Payload
}

func TestPayloadsAreStoredCompressed(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "s.db"))
	p := sizePayload(rand.New(rand.NewPCG(1, 2)), "A", 1)
	if err := db.Commit("shop", []Ack{{ID: "A", At: time.Now(), Hash: sha256.Sum256(p), Payload: p, State: Live}}); err != nil {
		t.Fatal(err)
	}
	v := storedPayload(t, db, "shop", "A")
	if !bytes.HasPrefix(v, zstdMagic) || len(v) >= len(p)*85/100 {
		t.Errorf("stored %d bytes starting %x for a payload of %d: want a zstd frame, 15%% smaller at least", len(v), v[:min(4, len(v))], len(p))
	}
	if r, _, err := db.Get("shop", "A"); err != nil || !bytes.Equal(r.Payload, p) {
		t.Errorf("Get: payload %q, %v; want %q", r.Payload, err, p)
	}
	if got := missingPayload(t, db, "shop", "A"); !bytes.Equal(got, p) {
		t.Errorf("Missing: payload %q, want %q", got, p)
	}
}

// A state file written before payloads were compressed holds them as they
// are: they read as they are, and the next acknowledgement compresses them.
func TestUncompressedPayloadsOfEarlierStatesRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	db := open(t, path)
	old := []byte(`{"availability":"in_stock","custom_id":"A","name":"Tee"}`)
	if err := db.Commit("shop", []Ack{{ID: "A", At: time.Now(), Hash: sha256.Sum256(old), Payload: old, State: Live}}); err != nil {
		t.Fatal(err)
	}
	putStoredPayload(t, db, "shop", "A", old) // as an earlier feedsync wrote it
	db.Close()

	db = open(t, path)
	if r, ok, err := db.Get("shop", "A"); err != nil || !ok || !bytes.Equal(r.Payload, old) {
		t.Errorf("Get: payload %q, %v, %v; want %q", r.Payload, ok, err, old)
	}
	if got := missingPayload(t, db, "shop", "A"); !bytes.Equal(got, old) {
		t.Errorf("Missing: payload %q, want %q", got, old)
	}
	p := []byte(`{"availability":"out_of_stock","custom_id":"A","name":"Tee"}`)
	if err := db.Commit("shop", []Ack{{ID: "A", At: time.Now(), Hash: sha256.Sum256(p), Payload: p, State: Unavailable}}); err != nil {
		t.Fatal(err)
	}
	if v := storedPayload(t, db, "shop", "A"); !bytes.HasPrefix(v, zstdMagic) {
		t.Errorf("an acknowledged payload was stored as %q, want a zstd frame", v)
	}
	if r, _, _ := db.Get("shop", "A"); !bytes.Equal(r.Payload, p) {
		t.Errorf("Get after the ack: payload %q, want %q", r.Payload, p)
	}
}

func TestEmptyPayloadIsStoredEmpty(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "s.db"))
	if err := db.Commit("shop", []Ack{{ID: "A", At: time.Now(), Hash: sha256.Sum256(nil), State: Live}}); err != nil {
		t.Fatal(err)
	}
	if v := storedPayload(t, db, "shop", "A"); len(v) != 0 {
		t.Errorf("stored %x for no payload", v)
	}
	if r, _, err := db.Get("shop", "A"); err != nil || len(r.Payload) != 0 {
		t.Errorf("Get: payload %q, %v; want none", r.Payload, err)
	}
}

// A damaged frame reads as it is stored, which is no JSON: the engine then
// marks the product unavailable by its id alone, as it did a damaged JSON
// payload, and no read fails for it.
func TestDamagedFrameReadsAsStored(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "s.db"))
	p := []byte(`{"custom_id":"A","name":"Tee","description":"a tee, a tee, a tee, a tee"}`)
	if err := db.Commit("shop", []Ack{{ID: "A", At: time.Now(), Hash: sha256.Sum256(p), Payload: p, State: Live}}); err != nil {
		t.Fatal(err)
	}
	v := storedPayload(t, db, "shop", "A")
	v[len(v)/2] ^= 0xff
	putStoredPayload(t, db, "shop", "A", v)
	if got := missingPayload(t, db, "shop", "A"); !bytes.Equal(got, v) {
		t.Errorf("Missing: payload %x, want the stored %x", got, v)
	}
	if r, _, err := db.Get("shop", "A"); err != nil || !bytes.Equal(r.Payload, v) {
		t.Errorf("Get: payload %x, %v; want the stored %x", r.Payload, err, v)
	}
}

func TestPreparedAcksCommitAsOthers(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "s.db"))
	p := []byte(`{"custom_id":"A","name":"Tee"}`)
	db.Commit("shop", []Ack{{ID: "C", At: time.Now(), Hash: sha256.Sum256(p), Payload: p, State: Live}})
	acks := []Ack{
		{ID: "A", At: time.Now(), Hash: sha256.Sum256(p), Payload: p, State: Live},
		{ID: "B", At: time.Now(), Err: "rejected"},
		{ID: "C", Delete: true},
	}
	Prepare(acks)
	if err := db.Commit("shop", acks); err != nil {
		t.Fatal(err)
	}
	if v := storedPayload(t, db, "shop", "A"); !bytes.HasPrefix(v, zstdMagic) {
		t.Errorf("stored %q, want a zstd frame", v)
	}
	if r, _, _ := db.Get("shop", "A"); !bytes.Equal(r.Payload, p) || r.State != Live {
		t.Errorf("A: %+v, want live with its payload", r)
	}
	if r, ok, _ := db.Get("shop", "B"); !ok || r.State != Failed || r.Payload != nil {
		t.Errorf("B: %+v %v, want failed without a payload", r, ok)
	}
	if _, ok, _ := db.Get("shop", "C"); ok {
		t.Error("C: deleted, still there")
	}
}
