package push

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"
)

// RateLimited is a Caller that waits for a token from a bucket shared by
// every worker before each request, retries included: the catalog never sees
// more than Rate requests a second plus Burst.
type RateLimited struct {
	Next    Caller
	Limiter *rate.Limiter
}

var _ Caller = (*RateLimited)(nil)

// NewRateLimited returns a limiter of perSecond requests (≤ 0: no limit) with
// the given burst (at least 1).
func NewRateLimited(next Caller, perSecond float64, burst int) *RateLimited {
	if burst < 1 {
		burst = 1
	}
	lim := rate.Limit(perSecond)
	if perSecond <= 0 {
		lim = rate.Inf
	}
	return &RateLimited{Next: next, Limiter: rate.NewLimiter(lim, burst)}
}

// Call waits for a token, then sends the request.
func (l *RateLimited) Call(ctx context.Context, r *Request) (*Response, error) {
	if err := l.Limiter.Wait(ctx); err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, err
	}
	return l.Next.Call(ctx, r)
}

// CircuitBreaker is a Caller that pauses every worker after Threshold
// consecutive failed requests (429, 5xx, transport errors, 2xx answers that
// are not the API's JSON) instead of hammering a sick API. After Cooldown one
// probe request goes out (half open); its success closes the breaker, its
// failure opens it again for twice as long, up to MaxCooldown. A 429 or 503
// with Retry-After also pauses every worker until that time.
type CircuitBreaker struct {
	Next        Caller
	Threshold   int
	Cooldown    time.Duration
	MaxCooldown time.Duration
	Log         zerolog.Logger

	mu        sync.Mutex
	fails     int
	cooldown  time.Duration
	openUntil time.Time
	probing   bool
	changed   chan struct{}
}

var _ Caller = (*CircuitBreaker)(nil)

// NewCircuitBreaker returns a breaker around next.
func NewCircuitBreaker(next Caller, threshold int, cooldown, maxCooldown time.Duration, log zerolog.Logger) *CircuitBreaker {
	if threshold < 1 {
		threshold = 1
	}
	if maxCooldown < cooldown {
		maxCooldown = cooldown
	}
	return &CircuitBreaker{Next: next, Threshold: threshold, Cooldown: cooldown, MaxCooldown: maxCooldown, Log: log, changed: make(chan struct{})}
}

// Call waits while the breaker is open, then sends the request.
func (b *CircuitBreaker) Call(ctx context.Context, r *Request) (*Response, error) {
	probe, err := b.acquire(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := b.Next.Call(ctx, r)
	b.release(ctx, probe, err)
	return resp, err
}

func (b *CircuitBreaker) acquire(ctx context.Context) (probe bool, err error) {
	for {
		b.mu.Lock()
		now := time.Now()
		if now.Before(b.openUntil) {
			wait, ch := b.openUntil.Sub(now), b.changed
			b.mu.Unlock()
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return false, context.Cause(ctx)
			case <-t.C:
			case <-ch:
				t.Stop()
			}
			continue
		}
		if b.fails < b.Threshold {
			b.mu.Unlock()
			return false, nil
		}
		if !b.probing {
			b.probing = true
			b.mu.Unlock()
			return true, nil
		}
		ch := b.changed
		b.mu.Unlock()
		select {
		case <-ctx.Done():
			return false, context.Cause(ctx)
		case <-ch:
		}
	}
}

func (b *CircuitBreaker) release(ctx context.Context, probe bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	defer func() {
		close(b.changed)
		b.changed = make(chan struct{})
	}()
	if probe {
		b.probing = false
	}
	var ae *APIError
	var te *TransportError
	var be *BadAnswerError
	failed := errors.As(err, &te) || errors.As(err, &be) || (errors.As(err, &ae) && ae.Temporary())
	if !failed {
		if err != nil && ctx.Err() != nil {
			return // cancelled: says nothing of the API's health
		}
		if b.fails >= b.Threshold {
			b.Log.Info().Msg("catalog API answers again: requests resume")
		}
		b.fails, b.cooldown = 0, 0
		return
	}
	now := time.Now()
	// A Retry-After above maxRetryAfter pauses nobody: Retrying stops the
	// run with a *RetryAfterError instead.
	if ae != nil && ae.HasRetryAfter && ae.RetryAfter <= maxRetryAfter && (ae.Status == http.StatusTooManyRequests || ae.Status == http.StatusServiceUnavailable) {
		if until := now.Add(ae.RetryAfter); until.After(b.openUntil) {
			b.openUntil = until
		}
	}
	b.fails++
	if b.fails < b.Threshold || now.Before(b.openUntil) && !probe {
		return
	}
	switch {
	case b.cooldown == 0:
		b.cooldown = b.Cooldown
	case probe:
		b.cooldown = min(2*b.cooldown, b.MaxCooldown)
	}
	if until := now.Add(b.cooldown); until.After(b.openUntil) {
		b.openUntil = until
	}
	if b.fails == b.Threshold || probe {
		b.Log.Warn().Int("failures", b.fails).Str("pause", b.cooldown.String()).Err(err).
			Msg("catalog API failing: all requests paused")
	}
}

// maxRetryAfter is the longest Retry-After feedsync waits within a run, as
// the feed fetcher does: a catalog asking for more (or a broken header)
// stops the run with a *RetryAfterError instead of stalling it, and the next
// run tries again.
const maxRetryAfter = 2 * time.Minute

// Retrying is a Caller that sends a request again after a 429, a 5xx, a
// timeout, a dropped connection or a 2xx that is not the API's JSON
// (*BadAnswerError), up to Retries times, waiting a capped exponential
// backoff with full jitter, or the Retry-After the server asked for if that
// is longer. A Retry-After above MaxRetryAfter is not waited for: the call
// returns a *RetryAfterError at once, which stops the run. Any other 4xx, and
// any 3xx, is permanent and returned at once.
type Retrying struct {
	Next     Caller
	Retries  int
	Min, Max time.Duration // backoff base and cap
	// MaxRetryAfter is the longest Retry-After waited for (≤ 0: 2m); a
	// longer one, or a broken header far in the future, fails the call with
	// a *RetryAfterError instead of stalling the run.
	MaxRetryAfter time.Duration
	Obs           Observer

	mu  sync.Mutex
	rnd *rand.Rand
}

var _ Caller = (*Retrying)(nil)

// NewRetrying returns a retrying Caller.
func NewRetrying(next Caller, retries int, min, max time.Duration, obs Observer) *Retrying {
	if obs == nil {
		obs = NopObserver{}
	}
	return &Retrying{Next: next, Retries: retries, Min: min, Max: max, MaxRetryAfter: maxRetryAfter, Obs: obs,
		rnd: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x5eed))}
}

// Call sends r until it succeeds, fails for good, or runs out of retries.
func (rt *Retrying) Call(ctx context.Context, r *Request) (*Response, error) {
	for attempt := 0; ; attempt++ {
		resp, err := rt.Next.Call(ctx, r)
		if err == nil {
			return resp, nil
		}
		reason, ok := retryReason(err)
		var ae *APIError
		if ok && errors.As(err, &ae) && ae.HasRetryAfter && ae.RetryAfter > rt.maxRetryAfter() && ctx.Err() == nil {
			return nil, &RetryAfterError{Wait: ae.RetryAfter, Max: rt.maxRetryAfter(), Header: retryAfterHeader(ae.RetryAfter, time.Now()), Err: ae}
		}
		if !ok || attempt >= rt.Retries || ctx.Err() != nil {
			if ok && ctx.Err() == nil {
				return nil, &ExhaustedError{Attempts: attempt + 1, Err: err}
			}
			return nil, err
		}
		wait := rt.backoff(attempt)
		if ae != nil && ae.HasRetryAfter {
			wait = max(wait, ae.RetryAfter)
		}
		observerFrom(ctx, rt.Obs).Retry(r.Op, reason)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, context.Cause(ctx)
		case <-t.C:
		}
	}
}

func (rt *Retrying) maxRetryAfter() time.Duration {
	if rt.MaxRetryAfter > 0 {
		return rt.MaxRetryAfter
	}
	return maxRetryAfter
}

// backoff is full jitter: a uniform delay in [0, min(Max, Min·2^attempt)].
func (rt *Retrying) backoff(attempt int) time.Duration {
	d := rt.Min
	for i := 0; i < attempt && d < rt.Max; i++ {
		d *= 2
	}
	d = min(d, rt.Max)
	if d <= 0 {
		return 0
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return time.Duration(rt.rnd.Int64N(int64(d) + 1))
}

// retryReason classifies err for Observer.Retry; ok is false for errors that
// must not be retried.
func retryReason(err error) (string, bool) {
	var ae *APIError
	var te *TransportError
	var be *BadAnswerError
	switch {
	case errors.As(err, &te):
		if te.Timeout {
			return "timeout", true
		}
		return "connection", true
	case errors.As(err, &be):
		return "not-json", true
	case errors.As(err, &ae):
		if ae.Status == http.StatusTooManyRequests {
			return "429", true
		}
		if ae.Status >= 500 {
			return "5xx", true
		}
	}
	return "", false
}

// ExhaustedError is a request that kept failing with temporary errors
// through every retry. The run stops: the products not yet acknowledged are
// sent again next run.
type ExhaustedError struct {
	Attempts int
	Err      error
}

func (e *ExhaustedError) Error() string {
	return fmt.Sprintf("the catalog API kept failing (%d attempts): %v", e.Attempts, e.Err)
}

func (e *ExhaustedError) Unwrap() error { return e.Err }

// RetryAfterError is a 429 or 5xx whose Retry-After asks for a longer wait
// than feedsync spends within a run (Retrying.MaxRetryAfter, 2m by default),
// or a broken header far in the future. It is not retried: the run stops at
// once, and the products not yet acknowledged are sent again next run.
type RetryAfterError struct {
	Wait time.Duration // what the server asked for
	Max  time.Duration // the longest wait feedsync allows
	// Header is the Retry-After as the server wrote it: delay-seconds, or
	// the HTTP date the delay was read from.
	Header string
	Err    *APIError
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("the catalog asked to wait %s (Retry-After: %s), above the %s feedsync waits: stopping this run; the daemon tries again at the next schedule (%v)",
		humanWait(e.Wait), e.Header, humanWait(e.Max), e.Err)
}

func (e *RetryAfterError) Unwrap() error { return e.Err }

// retryAfterHeader writes a Retry-After delay back in the header's form:
// whole seconds as delay-seconds, anything else (a delay read from an HTTP
// date, so measured from the moment of reading) as the date it names.
func retryAfterHeader(d time.Duration, now time.Time) string {
	switch {
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10)
	case d == math.MaxInt64: // a date beyond what a Duration holds
		return "a date " + humanWait(d) + " or more ahead"
	}
	return now.Add(d).UTC().Round(time.Second).Format(http.TimeFormat)
}

// humanWait reads a wait as a person would say it: "31 years", "40 days",
// "2m", "1h30m", "90ms".
func humanWait(d time.Duration) string {
	const day = 24 * time.Hour
	const year = 365*day + day/4
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return strconv.FormatInt(n, 10) + " " + unit + "s"
	}
	switch {
	case d >= year:
		return plural(int64(d/year), "year")
	case d >= 2*day:
		return plural(int64(d/day), "day")
	case d < time.Second:
		return d.String()
	}
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
