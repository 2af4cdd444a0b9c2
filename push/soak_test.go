package push

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/feedsync/feedsync/push/pushtest"
)

// TestSoak pushes a catalog through a fake that fails 20% of requests with
// every kind of fault, the way sync does: runs re-send what was not
// acknowledged, creates for products without a record, updates for the rest.
// The catalog must end equal to the input, each product created once, and the
// fake must never see more than rate + burst requests in any second.
//
// The short version (1,000 products) runs with the other tests; set
// FEEDSYNC_SOAK=1 (make soak) for 10,000.
func TestSoak(t *testing.T) {
	n := 1000
	if os.Getenv("FEEDSYNC_SOAK") != "" {
		n = 10000
	} else if testing.Short() {
		n = 300
	}
	for _, mode := range []string{ModeREST, ModeImport} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			soak(t, mode, n)
		})
	}
}

func soak(t *testing.T, mode string, n int) {
	const rate, burst = 1000, 20
	h := newHarness(t, mode, pushtest.Options{
		Seed: 20261128, FaultRate: 0.2, ImportPolls: 2, RetryAfter: "0", SlowDelay: 300 * time.Millisecond,
		Faults: append([]pushtest.Fault{pushtest.Slow}, pushtest.AllFaults...),
	}, func(c *UserComConfig) {
		c.Rate, c.Burst, c.Concurrency = rate, burst, 8
		c.Timeout = 150 * time.Millisecond
		c.Retries = 10
		c.MaxFileSize = 4 << 10 // many imports, so that faults meet them
	})
	start := time.Now()

	// state is what sync's store would hold: the last acknowledged payload.
	state := map[string][]byte{}
	run := func(phase string, ops []Op) {
		t.Helper()
		pending := ops
		for attempt := 1; len(pending) > 0; attempt++ {
			if attempt > 6 {
				t.Fatalf("%s: %d products still unacknowledged after %d runs", phase, len(pending), attempt-1)
			}
			o := apply(t, context.Background(), h.sink, pending)
			if o.err != nil {
				t.Logf("%s run %d: %v (%d of %d acknowledged)", phase, attempt, o.err, len(o.results), len(pending))
			}
			var next []Op
			for _, op := range pending {
				rs := o.byID[op.ID]
				switch {
				case len(rs) == 0:
					if _, known := state[op.ID]; !known && op.Kind != Delete {
						op.Kind = Create // no record yet: the next run creates
					}
					next = append(next, op)
				case rs[0].Err != nil:
					t.Fatalf("%s: %s rejected: %v", phase, op.ID, rs[0].Err)
				case op.Kind == Delete:
					delete(state, op.ID)
				default:
					state[op.ID] = op.Payload
				}
			}
			pending = next
		}
	}

	run("create", creates(n, "soak-", "19.99"))
	var second []Op
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("soak-%05d", i)
		switch {
		case i%10 == 3 && mode == ModeREST:
			second = append(second, Op{Kind: Delete, ID: id})
		case i%10 == 3:
			second = append(second, Op{Kind: Update, ID: id, Payload: product(id, "19.99", "availability", "out_of_stock")})
		case i%2 == 0:
			second = append(second, Op{Kind: Update, ID: id, Payload: product(id, fmt.Sprintf("%d.%02d", i, i%100), "brand", "Soak")})
		}
	}
	run("update", second)

	wantCatalog(t, h.srv.Catalog(), state)
	for id, c := range h.srv.Creates() {
		if c != 1 {
			t.Errorf("%s created %d times", id, c)
		}
	}
	if got := h.srv.MaxInWindow(time.Second); got > rate+burst {
		t.Errorf("%d requests within one second, above rate %d + burst %d", got, rate, burst)
	}
	faults := map[pushtest.Fault]int{}
	reqs := h.srv.Requests()
	for _, r := range reqs {
		faults[r.Fault]++
	}
	leaks(t, pushtest.Token, h.logs.String())
	t.Logf("%s: %d products, %d requests (%v), max %d in 1s, %s", mode, n, len(reqs), faults, h.srv.MaxInWindow(time.Second), time.Since(start).Round(time.Millisecond))
}
