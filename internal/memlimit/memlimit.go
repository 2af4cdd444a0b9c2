package memlimit

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// Margin is how far above the live heap Follow keeps the limit: the heap
// may grow by half its live size between two collections, as GOGC=50
// would let it.
const Margin = 1.5

var (
	mu     sync.Mutex
	floor  int64 // 0: Follow is not in force
	armed  bool
	sample = []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
)

// Follow sets the soft limit to floor bytes, and from then on, after each
// garbage collection, to Margin times the live heap when that is more.
// Calling it again changes the floor.
func Follow(lowest int64) {
	mu.Lock()
	defer mu.Unlock()
	floor = lowest
	debug.SetMemoryLimit(lowest)
	if !armed {
		armed = true
		arm()
	}
}

// Stop ends Follow: the limit stays as it is.
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	floor = 0
}

// sentinel is collected by every garbage collection; its finalizer runs
// after it and re-arms itself.
type sentinel struct{ _ [16]byte }

func arm() { runtime.SetFinalizer(&sentinel{}, func(*sentinel) { adjust() }) }

// adjust follows the live heap the last collection measured.
func adjust() {
	mu.Lock()
	defer mu.Unlock()
	if floor == 0 {
		armed = false
		return
	}
	metrics.Read(sample)
	want := floor
	if sample[0].Value.Kind() == metrics.KindUint64 {
		if v := int64(float64(sample[0].Value.Uint64()) * Margin); v > want {
			want = v
		}
	}
	if debug.SetMemoryLimit(-1) != want {
		debug.SetMemoryLimit(want)
	}
	arm()
}
