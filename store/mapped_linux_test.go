package store

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rssFile is the process's resident file-backed memory (RssFile), in bytes.
func rssFile(t *testing.T) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skipf("needs /proc/self/status: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "RssFile:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Skip("no RssFile in /proc/self/status")
	return 0
}

// TestReadsLeaveTheStateUnmapped: the state file's pages that a scan, a
// run's lookups or a commit of updates all over the file read do not stay
// mapped into the process (releaseMapped). bbolt reads the file through a
// shared mapping, and the kernel maps some 64 KiB around each page read:
// before, a 1%-changed run of the 1M feed kept 400–500 MB of the file
// resident. Here 35–40 MB of records or payloads are read each way; what
// stays mapped must be far less.
func TestReadsLeaveTheStateUnmapped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	db := open(t, path)
	const n = 50_000
	r := rand.New(rand.NewPCG(1, 2))
	payload := func() []byte { // incompressible: 800 stored bytes each
		b := make([]byte, 800)
		for i := range b {
			b[i] = 'a' + byte(r.IntN(26))
		}
		return []byte(fmt.Sprintf(`{"d":%q}`, b))
	}
	ack := func(i int) Ack {
		// Raws of 40 items make each record some 700 bytes too, so that
		// lookups, which read records only, read 35 MB of them.
		raws := &Raws{Unit: [16]byte{byte(i)}, Items: make([][16]byte, 40)}
		for j := range raws.Items {
			raws.Items[j] = [16]byte{byte(i), byte(i >> 8), byte(j), byte(r.IntN(256))}
		}
		return Ack{ID: fmt.Sprintf("P%06d", i), At: time.Now(), Hash: sha256.Sum256([]byte{byte(i)}), Input: [16]byte{1}, Raws: raws, Payload: payload(), State: Live}
	}
	for lo := 0; lo < n; lo += 2048 {
		var acks []Ack
		for i := lo; i < min(lo+2048, n); i++ {
			acks = append(acks, ack(i))
		}
		if err := db.CommitBatch("shop", acks, nil); err != nil {
			t.Fatal(err)
		}
	}
	db.Close() // read from a mapping of its own
	db = open(t, path)
	const bound = 12 << 20 // the file is 93 MB

	check := func(what string, read func()) {
		t.Helper()
		db.release() // whatever the last check left
		before := rssFile(t)
		read()
		if grew := rssFile(t) - before; grew > bound {
			t.Errorf("%s: %d MB of the state file still mapped, want under %d MB", what, grew>>20, bound>>20)
		}
	}
	check("a scan reading every payload", func() {
		missing, err := db.Missing("shop", func(string) bool { return false })
		if err != nil || len(missing) != n {
			t.Fatalf("Missing: %d entries, %v", len(missing), err)
		}
	})
	check("lookups at random", func() {
		l := db.Lookup("shop")
		defer l.Close()
		for _, i := range r.Perm(n) {
			if _, ok, err := l.Get(fmt.Sprintf("P%06d", i)); !ok || err != nil {
				t.Fatalf("Get: %v %v", ok, err)
			}
		}
	})
	check("updates all over the file", func() {
		var acks []Ack
		for _, i := range r.Perm(n)[:2048] {
			acks = append(acks, ack(i))
		}
		if err := db.CommitBatch("shop", acks, nil); err != nil {
			t.Fatal(err)
		}
	})
	check("counting the records", func() {
		if got, err := db.Stored("shop"); got != n || err != nil {
			t.Fatalf("Stored: %d, %v", got, err)
		}
	})
}
