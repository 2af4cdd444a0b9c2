package push

import (
	"context"
	"time"
)

// Observer is told of every request a catalog client sends and every retry,
// so that the daemon can export metrics without push knowing Prometheus.
// Implementations must be safe for concurrent use and return quickly.
type Observer interface {
	// Request reports one HTTP request: op is "create", "update", "delete",
	// "lookup", "import", "import-status", "attributes", "deal" or "user";
	// status is the HTTP status, 0 for a transport error (timeout, reset).
	Request(op string, status int, elapsed time.Duration)
	// Retry reports that a request is about to be retried and why
	// ("429", "5xx", "timeout", "connection", or "not-json" for a 2xx
	// whose body is not the API's JSON).
	Retry(op string, reason string)
}

// NopObserver ignores everything.
type NopObserver struct{}

// Request does nothing.
func (NopObserver) Request(string, int, time.Duration) {}

// Retry does nothing.
func (NopObserver) Retry(string, string) {}

type observerKey struct{}

// WithObserver returns a context under which a catalog client reports its
// requests and retries to obs instead of the Observer it was built with: a
// daemon syncing several feeds through one shared client passes
// WithObserver(ctx, metrics.ForFeed(name)) to each run's Apply so that every
// request is counted under its feed.
func WithObserver(ctx context.Context, obs Observer) context.Context {
	return context.WithValue(ctx, observerKey{}, obs)
}

// observerFrom is the Observer set by WithObserver, else def.
func observerFrom(ctx context.Context, def Observer) Observer {
	if o, ok := ctx.Value(observerKey{}).(Observer); ok && o != nil {
		return o
	}
	return def
}
