package push

import "time"

// Observer is told of every request a catalog client sends and every retry,
// so that the daemon can export metrics without push knowing Prometheus.
// Implementations must be safe for concurrent use and return quickly.
type Observer interface {
	// Request reports one HTTP request: op is "create", "update", "delete",
	// "lookup", "import", "import-status" or "attributes"; status is the HTTP
	// status, 0 for a transport error (timeout, reset).
	Request(op string, status int, elapsed time.Duration)
	// Retry reports that a request is about to be retried and why
	// ("429", "5xx", "timeout", "connection").
	Retry(op string, reason string)
}

// NopObserver ignores everything.
type NopObserver struct{}

// Request does nothing.
func (NopObserver) Request(string, int, time.Duration) {}

// Retry does nothing.
func (NopObserver) Retry(string, string) {}
