package memlimit

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// A live heap above the floor raises the limit to Margin times it; once
// the heap is gone the limit comes back to the floor; Stop leaves it.
func TestFollowTracksTheLiveHeap(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	const floor = 16 << 20
	Follow(floor)
	defer Stop()
	if got := debug.SetMemoryLimit(-1); got != floor {
		t.Fatalf("limit %d after Follow, want the floor %d", got, floor)
	}
	live := make([][]byte, 64)
	for i := range live {
		live[i] = make([]byte, 1<<20) // 64 MiB live
	}
	waitFor(t, "the limit to rise above 1.4 × 64 MiB", func() bool { return debug.SetMemoryLimit(-1) >= 64<<20*14/10 })
	runtime.KeepAlive(live)
	live = nil
	waitFor(t, "the limit to come back to the floor", func() bool { return debug.SetMemoryLimit(-1) < 32<<20 })
	Stop()
	runtime.GC()
	runtime.GC()
	if got := debug.SetMemoryLimit(-1); got >= 32<<20 {
		t.Errorf("limit %d after Stop", got)
	}
}

// waitFor runs collections until ok holds, for at most 5 seconds.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // the finalizer runs after the collection
		if ok() {
			return
		}
	}
	t.Fatalf("waited 5 s for %s: limit %d", what, debug.SetMemoryLimit(-1))
}
