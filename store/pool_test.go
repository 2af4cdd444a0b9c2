package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The pool holds the file only while it is used: between uses another
// opener gets it; while used, the opener is refused and the pool's next
// user waits for a holder instead of failing.
func TestPoolHoldsTheFileOnlyWhileUsed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	p := NewPool(path, Options{Timeout: 100 * time.Millisecond})
	ctx := context.Background()
	if err := p.Use(ctx, func(db *DB) error { return db.Commit("a", []Ack{{ID: "X", At: time.Now(), State: Live}}) }); err != nil {
		t.Fatal(err)
	}
	other, err := Open(path, Options{Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("between uses the file is not free: %v", err)
	}
	// Held by another: the pool waits, tells Waiting once, and gets the file
	// once it is free.
	told := 0
	p.Waiting = func(error) { told++ }
	go func() { time.Sleep(300 * time.Millisecond); other.Close() }()
	start := time.Now()
	err = p.Use(ctx, func(db *DB) error {
		if r := get(t, db, "a", "X"); r.State != Live {
			t.Errorf("record through the pool: %+v", r)
		}
		// Uses overlap: a nested user shares the open file.
		return p.Use(ctx, func(db2 *DB) error {
			if db2 != db {
				t.Error("overlapping uses opened the file twice")
			}
			return nil
		})
	})
	if err != nil || told != 1 || time.Since(start) < 250*time.Millisecond {
		t.Errorf("waiting use: err %v, told %d, after %v", err, told, time.Since(start))
	}
	// A holder that never lets go: the use ends with the context.
	held, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := p.Use(cctx, func(*DB) error { return nil }); !errors.Is(err, ErrLocked) {
		t.Errorf("use of a file held for good: %v, want ErrLocked", err)
	}
}

// One daemon per state file, and the others learn which one holds it.
func TestDaemonLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	if pid := DaemonPID(path); pid != 0 {
		t.Fatalf("no daemon yet, DaemonPID %d", pid)
	}
	l, err := LockDaemon(path)
	if err != nil {
		t.Fatal(err)
	}
	if pid := DaemonPID(path); pid != os.Getpid() {
		t.Errorf("DaemonPID %d, want %d", pid, os.Getpid())
	}
	if _, err := LockDaemon(path); !errors.Is(err, ErrLocked) || !errors.Is(err, ErrDaemonRunning) {
		t.Errorf("second daemon: %v", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if pid := DaemonPID(path); pid != 0 {
		t.Errorf("after release DaemonPID %d", pid)
	}
	l2, err := LockDaemon(path)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	l2.Release()
}
