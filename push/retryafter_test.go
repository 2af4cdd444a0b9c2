package push

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/feedsync/feedsync/push/pushtest"
)

// TestRetryAfterAboveTheCapStopsTheRun: a catalog answering 429 with a
// Retry-After beyond 2 minutes (a broken header, or one far in the future)
// stops the run at once with a clear error, in both modes: no request is
// retried and nothing sleeps.
func TestRetryAfterAboveTheCapStopsTheRun(t *testing.T) {
	cases := []struct {
		name, header, want string
	}{
		{"Seconds", "1000000000", "the catalog asked to wait 31 years (Retry-After: 1000000000), above the 2m feedsync waits: stopping this run; the daemon tries again at the next schedule"},
		{"HTTPDate", "Fri, 01 Jan 2100 00:00:00 GMT", "(Retry-After: Fri, 01 Jan 2100 00:00:00 GMT), above the 2m feedsync waits: stopping this run"},
		{"HTTPDateBeyondDuration", "Fri, 31 Dec 9999 23:59:59 GMT", "the catalog asked to wait 292 years (Retry-After: a date 292 years or more ahead), above the 2m feedsync waits"},
		{"JustAboveTheCap", "121", "the catalog asked to wait 2m1s (Retry-After: 121), above the 2m feedsync waits"},
		// More seconds than a time.Duration holds must not wrap to a short wait.
		{"SecondsBeyondDuration", "10000000000", "the catalog asked to wait 292 years"},
		{"SecondsBeyondInt64", "99999999999999999999999", "the catalog asked to wait 292 years"},
	}
	for _, mode := range []string{ModeREST, ModeImport} {
		for _, c := range cases {
			t.Run(mode+"/"+c.name, func(t *testing.T) {
				h := newHarness(t, mode, pushtest.Options{RetryAfter: c.header, Script: func(n int, r *http.Request) pushtest.Fault {
					if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodGet {
						return pushtest.TooManyRetryAfter
					}
					return pushtest.None
				}}, nil)
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				o := apply(t, ctx, h.sink, creates(3, "ra-", "1"))
				if o.took > 500*time.Millisecond {
					t.Errorf("Apply took %s: it waited for the Retry-After", o.took)
				}
				var rae *RetryAfterError
				if !errors.As(o.err, &rae) {
					t.Fatalf("Apply: %v, want a *RetryAfterError", o.err)
				}
				if !strings.Contains(o.err.Error(), c.want) {
					t.Errorf("error %q\nwant it to contain %q", o.err, c.want)
				}
				var ae *APIError
				if !errors.As(o.err, &ae) || ae.Status != http.StatusTooManyRequests {
					t.Errorf("the error does not carry the 429: %v", o.err)
				}
				if IsRejected(o.err) || errors.As(o.err, new(*ExhaustedError)) {
					t.Errorf("a Retry-After above the cap is neither a product's rejection nor an exhausted retry: %v", o.err)
				}
				if len(o.results) != 0 {
					t.Errorf("%d acks, want none", len(o.results))
				}
				if n := len(h.obs.retries); n != 0 {
					t.Errorf("retries %v, want none", h.obs.retries)
				}
				// Each worker may meet the 429 once before the run is
				// stopped; none sends a request again.
				if reqs := h.srv.Requests(); len(reqs) > 4 {
					t.Errorf("%d requests, want one per worker at most", len(reqs))
				}
			})
		}
	}
}

// scriptedCaller answers each call with the next of its answers (the last
// one repeats) and records when each call came.
type scriptedCaller struct {
	mu      sync.Mutex
	answers []error
	calls   []time.Time
}

func (c *scriptedCaller) Call(ctx context.Context, r *Request) (*Response, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, time.Now())
	err := c.answers[min(len(c.calls), len(c.answers))-1]
	if err != nil {
		return nil, err
	}
	return &Response{Status: 200, Body: []byte("{}")}, nil
}

func throttled(wait time.Duration) *APIError {
	return &APIError{Op: "create", Method: http.MethodPost, Path: "products/", Status: http.StatusTooManyRequests, RetryAfter: wait, HasRetryAfter: true}
}

// TestRetryingWaitsUpToTheCapAndNoLonger: a Retry-After of exactly
// MaxRetryAfter is waited for and the request sent again; one a nanosecond
// longer is a *RetryAfterError at once, whatever retries are left.
func TestRetryingWaitsUpToTheCapAndNoLonger(t *testing.T) {
	const cap = 40 * time.Millisecond
	t.Run("AtTheCap", func(t *testing.T) {
		next := &scriptedCaller{answers: []error{throttled(cap), nil}}
		rt := NewRetrying(next, 3, time.Millisecond, time.Millisecond, nil)
		rt.MaxRetryAfter = cap
		if _, err := rt.Call(context.Background(), &Request{Op: "create"}); err != nil {
			t.Fatal(err)
		}
		if len(next.calls) != 2 || next.calls[1].Sub(next.calls[0]) < cap {
			t.Errorf("%d calls; want 2, the second %s or more after the first", len(next.calls), cap)
		}
	})
	t.Run("AboveTheCap", func(t *testing.T) {
		next := &scriptedCaller{answers: []error{throttled(cap + 1), nil}}
		rt := NewRetrying(next, 3, time.Millisecond, time.Millisecond, nil)
		rt.MaxRetryAfter = cap
		_, err := rt.Call(context.Background(), &Request{Op: "create"})
		var rae *RetryAfterError
		if !errors.As(err, &rae) || rae.Wait != cap+1 || rae.Max != cap {
			t.Fatalf("got %v, want a *RetryAfterError", err)
		}
		if len(next.calls) != 1 {
			t.Errorf("%d calls, want 1: a Retry-After above the cap is not retried", len(next.calls))
		}
	})
	t.Run("DefaultCapIsTwoMinutes", func(t *testing.T) {
		next := &scriptedCaller{answers: []error{throttled(2*time.Minute + time.Second)}}
		rt := &Retrying{Next: next, Retries: 6} // a literal: no MaxRetryAfter set
		start := time.Now()
		_, err := rt.Call(context.Background(), &Request{Op: "create"})
		var rae *RetryAfterError
		if !errors.As(err, &rae) || rae.Max != 2*time.Minute {
			t.Fatalf("got %v, want a *RetryAfterError with the 2m cap", err)
		}
		if took := time.Since(start); took > 100*time.Millisecond {
			t.Errorf("took %s", took)
		}
	})
	t.Run("NotForPermanentErrors", func(t *testing.T) {
		// A 400 is returned as it is, Retry-After or not: it is a
		// product's rejection, not the catalog asking for a pause.
		bad := &APIError{Status: http.StatusBadRequest, RetryAfter: time.Hour, HasRetryAfter: true}
		next := &scriptedCaller{answers: []error{bad}}
		_, err := NewRetrying(next, 3, time.Millisecond, time.Millisecond, nil).Call(context.Background(), &Request{})
		if err != bad {
			t.Errorf("got %v, want the 400 itself", err)
		}
	})
}

// TestCircuitBreakerIgnoresARetryAfterAboveTheCap: the breaker pauses every
// worker for a Retry-After within the cap, and for none above it (Retrying
// stops the run instead): the next request goes out at once.
func TestCircuitBreakerIgnoresARetryAfterAboveTheCap(t *testing.T) {
	for _, c := range []struct {
		name      string
		wait      time.Duration
		wantPause bool
	}{
		{"WithinTheCap", 60 * time.Millisecond, true},
		{"ThirtyOneYears", 1_000_000_000 * time.Second, false},
		{"SaturatedDate", time.Duration(1<<63 - 1), false},
		{"JustAboveTheCap", maxRetryAfter + time.Second, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			next := &scriptedCaller{answers: []error{throttled(c.wait), nil}}
			b := NewCircuitBreaker(next, 100, 10*time.Millisecond, 20*time.Millisecond, zerolog.Nop())
			if _, err := b.Call(context.Background(), &Request{}); err == nil {
				t.Fatal("the first call did not fail")
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			start := time.Now()
			if _, err := b.Call(ctx, &Request{}); err != nil {
				t.Fatalf("second call: %v (the breaker paused for the Retry-After)", err)
			}
			took := time.Since(start)
			if c.wantPause && took < 50*time.Millisecond {
				t.Errorf("the breaker paused %s, want the Retry-After's %s", took, c.wait)
			}
			if !c.wantPause && took > 100*time.Millisecond {
				t.Errorf("the breaker paused %s for a Retry-After of %s, above the cap", took, c.wait)
			}
		})
	}
	t.Run("ThresholdPauseStaysTheCooldown", func(t *testing.T) {
		// A breaker that opens on that failure pauses its own cooldown,
		// not the Retry-After.
		next := &scriptedCaller{answers: []error{throttled(1_000_000_000 * time.Second), nil}}
		b := NewCircuitBreaker(next, 1, 10*time.Millisecond, 20*time.Millisecond, zerolog.Nop())
		b.Call(context.Background(), &Request{})
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		if _, err := b.Call(ctx, &Request{}); err != nil {
			t.Fatalf("second call: %v", err)
		}
		if took := time.Since(start); took > 200*time.Millisecond {
			t.Errorf("paused %s, want the 10ms cooldown", took)
		}
	})
}

func TestHumanWait(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		d            time.Duration
		human, asHdr string
	}{
		{1_000_000_000 * time.Second, "31 years", "1000000000"},
		{2 * time.Minute, "2m", "120"},
		{121 * time.Second, "2m1s", "121"},
		{90 * time.Minute, "1h30m", "5400"},
		{3 * time.Hour, "3h", "10800"},
		{72*time.Hour + 1500*time.Millisecond, "3 days", "Tue, 01 Dec 2026 12:00:02 GMT"},
		{366 * 24 * time.Hour, "1 year", "31622400"},
		{500 * time.Millisecond, "500ms", "Sat, 28 Nov 2026 12:00:01 GMT"},
	} {
		if got := humanWait(c.d); got != c.human {
			t.Errorf("humanWait(%s) = %q, want %q", c.d, got, c.human)
		}
		if got := retryAfterHeader(c.d, now); got != c.asHdr {
			t.Errorf("retryAfterHeader(%s) = %q, want %q", c.d, got, c.asHdr)
		}
	}
}
