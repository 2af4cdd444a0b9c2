package store

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
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
	if len(v) == 0 || v[0] != payloadS2 || len(v) >= len(p)*75/100 {
		t.Errorf("stored %d bytes starting %x for a payload of %d: want an S2 block, 25%% smaller at least", len(v), v[:min(4, len(v))], len(p))
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
	if v := storedPayload(t, db, "shop", "A"); len(v) == 0 || v[0] != payloadS2 {
		t.Errorf("an acknowledged payload was stored as %q, want an S2 block", v)
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

// A damaged value reads as it is stored, which is no JSON: the engine then
// marks the product unavailable by its id alone, as it did a damaged JSON
// payload, and no read fails for it. The checksum catches a flip the S2
// block itself would decode (a literal byte).
func TestDamagedFrameReadsAsStored(t *testing.T) {
	p := []byte(`{"custom_id":"A","name":"Tee","description":"a tee, a tee, a tee, a tee"}`)
	frame := payloadEncoderV4().EncodeAll(p, nil)
	for name, stored := range map[string][]byte{"s2": encodePayload(p), "zstd": frame} {
		for _, at := range []int{1, 7, len(stored) / 2, len(stored) - 1} {
			db := open(t, filepath.Join(t.TempDir(), "s.db"))
			if err := db.Commit("shop", []Ack{{ID: "A", At: time.Now(), Hash: sha256.Sum256(p), Payload: p, State: Live}}); err != nil {
				t.Fatal(err)
			}
			v := bytes.Clone(stored)
			v[at] ^= 0xff
			putStoredPayload(t, db, "shop", "A", v)
			if got := missingPayload(t, db, "shop", "A"); !bytes.Equal(got, v) {
				t.Errorf("%s, byte %d flipped: Missing: payload %x, want the stored %x", name, at, got, v)
			}
			if r, _, err := db.Get("shop", "A"); err != nil || !bytes.Equal(r.Payload, v) {
				t.Errorf("%s, byte %d flipped: Get: payload %x, %v; want the stored %x", name, at, r.Payload, err, v)
			}
			db.Close()
		}
	}
}

// payloadEncoderV4 writes zstd frames as format version 4 stored them.
func payloadEncoderV4() *zstd.Encoder {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		panic(err)
	}
	return enc
}

// Payloads of any size and content round-trip, one at a time and through
// the shared blocks of a batch; a truncated or garbled value never panics.
func TestPayloadRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var ps [][]byte
	for _, n := range []int{1, 2, 5, 16, 17, 100, 800, 5000, 70_000, 1 << 20} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		ps = append(ps, b, bytes.Repeat([]byte(`{"a":"b"}`), n/9+1))
	}
	ps = append(ps, sizePayload(r, "P1", 1), []byte(`{"availability":"in_stock","brand":"","category_name":" > "}`))
	var arena payloadArena
	for _, p := range ps {
		for _, v := range [][]byte{encodePayload(p), arena.store(p)} {
			if got := decodePayload(v); !bytes.Equal(got, p) {
				t.Fatalf("payload of %d bytes (%.20q…) read back as %d bytes", len(p), p, len(got))
			}
			for cut := 0; cut < len(v); cut += 1 + len(v)/50 {
				_ = decodePayload(v[:cut])
				g := bytes.Clone(v)
				g[cut] ^= byte(1 + r.IntN(255))
				if got := decodePayload(g); !bytes.Equal(got, g) && !bytes.Equal(got, p) {
					t.Fatalf("a damaged value of a %d-byte payload read as %d other bytes", len(p), len(got))
				}
			}
		}
	}
}

// A version 4 state file's zstd frames read as they are.
func TestZstdPayloadsOfVersion4Read(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "s.db"))
	p := sizePayload(rand.New(rand.NewPCG(1, 2)), "A", 1)
	if err := db.Commit("shop", []Ack{{ID: "A", At: time.Now(), Hash: sha256.Sum256(p), Payload: p, State: Live}}); err != nil {
		t.Fatal(err)
	}
	putStoredPayload(t, db, "shop", "A", payloadEncoderV4().EncodeAll(p, nil))
	if r, _, err := db.Get("shop", "A"); err != nil || !bytes.Equal(r.Payload, p) {
		t.Errorf("Get: payload %q, %v; want %q", r.Payload, err, p)
	}
	if got := missingPayload(t, db, "shop", "A"); !bytes.Equal(got, p) {
		t.Errorf("Missing: payload %q, want %q", got, p)
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
	if v := storedPayload(t, db, "shop", "A"); len(v) == 0 || v[0] != payloadS2 {
		t.Errorf("stored %q, want an S2 block", v)
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

// encodePayload returns the value that stores payload p.
func encodePayload(p []byte) []byte {
	if len(p) == 0 {
		return p
	}
	return appendPayload(nil, p)
}
