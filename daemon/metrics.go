package daemon

import (
	"net/http"
	"strconv"
	"time"

	"github.com/feedsync/feedsync/engine"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/feedsync/feedsync/push"
)

// Run results, the result label of feedsync_runs_total.
const (
	ResultSuccess = "success"
	ResultFailure = "failure"
)

// productOps are the operation label values of feedsync_products_total, the
// counts of a Summary.
var productOps = []string{"created", "updated", "unchanged", "deleted", "unavailable", "failed"}

// Metrics is the daemon's Prometheus instrumentation, kept in a private
// registry (never the global one) so that tests and embedders get exactly
// feedsync's series. It implements push.Observer for the catalog clients.
// All methods are safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	runs          *prometheus.CounterVec
	runDuration   *prometheus.HistogramVec
	feedBytes     *prometheus.GaugeVec
	items         *prometheus.GaugeVec
	skipped       *prometheus.CounterVec
	products      *prometheus.CounterVec
	lastSuccess   *prometheus.GaugeVec
	lastRun       *prometheus.GaugeVec
	up            *prometheus.GaugeVec
	requests      *prometheus.CounterVec
	requestTime   *prometheus.HistogramVec
	retries       *prometheus.CounterVec
	configReloads *prometheus.CounterVec
}

var _ push.Observer = (*Metrics)(nil)

// NewMetrics registers feedsync's metrics, and the Go runtime and process
// collectors, in a new registry.
func NewMetrics() *Metrics {
	const ns = "feedsync"
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "runs_total",
			Help: "Syncs run by the daemon, by feed and result (success or failure)."}, []string{"feed", "result"}),
		runDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "run_duration_seconds",
			Help:    "Duration of one sync of one feed: fetch, parse, diff, push and commit.",
			Buckets: []float64{0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600}}, []string{"feed"}),
		feedBytes: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "feed_bytes",
			Help: "Bytes of the feed read by the last run that read it (decompressed)."}, []string{"feed"}),
		items: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "feed_items",
			Help: "Items in the feed at the last run that parsed it."}, []string{"feed"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "feed_items_skipped_total",
			Help: "Feed items or rows skipped with a problem (see the warn log lines)."}, []string{"feed"}),
		products: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "products_total",
			Help: "Products handled by runs, by feed and operation (created, updated, unchanged, deleted, unavailable, failed)."}, []string{"feed", "operation"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "last_success_timestamp_seconds",
			Help: "Unix time of the feed's last successful run (from the state file at start-up)."}, []string{"feed"}),
		lastRun: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "last_run_timestamp_seconds",
			Help: "Unix time the feed's last run ended, whatever its result."}, []string{"feed"}),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "feed_up",
			Help: "1 when the feed's last run succeeded or it has not run yet, 0 when it failed (what /healthz reports)."}, []string{"feed"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "push_requests_total",
			Help: "HTTP requests to the catalog, by feed (empty when the client cannot tell), operation and status code (0: transport error)."}, []string{"feed", "op", "code"}),
		requestTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "push_request_duration_seconds",
			Help:    "Duration of HTTP requests to the catalog, by feed (empty when the client cannot tell) and operation.",
			Buckets: prometheus.DefBuckets}, []string{"feed", "op"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "push_retries_total",
			Help: "Catalog requests retried, by feed (empty when the client cannot tell), operation and reason (429, 5xx, timeout, connection)."}, []string{"feed", "op", "reason"}),
		configReloads: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "config_reloads_total",
			Help: "SIGHUP configuration reloads, by result (success or failure)."}, []string{"result"}),
	}
	m.reg.MustRegister(m.runs, m.runDuration, m.feedBytes, m.items, m.skipped, m.products,
		m.lastSuccess, m.lastRun, m.up, m.requests, m.requestTime, m.retries, m.configReloads,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	for _, r := range []string{ResultSuccess, ResultFailure} {
		m.configReloads.WithLabelValues(r)
	}
	return m
}

// Registry is the private registry, for tests and for adding collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// AddFeed creates a feed's series at their zero values, so that rates and
// alerts work before its first run; lastSuccess, when known from the state
// file, seeds feedsync_last_success_timestamp_seconds.
func (m *Metrics) AddFeed(feed string, lastSuccess time.Time) {
	for _, r := range []string{ResultSuccess, ResultFailure} {
		m.runs.WithLabelValues(feed, r)
	}
	for _, op := range productOps {
		m.products.WithLabelValues(feed, op)
	}
	m.skipped.WithLabelValues(feed)
	m.up.WithLabelValues(feed).Set(1)
	if !lastSuccess.IsZero() {
		m.lastSuccess.WithLabelValues(feed).Set(float64(lastSuccess.Unix()))
	}
}

// RemoveFeed drops every series of a feed that left the configuration.
func (m *Metrics) RemoveFeed(feed string) {
	l := prometheus.Labels{"feed": feed}
	for _, v := range []interface{ DeletePartialMatch(prometheus.Labels) int }{
		m.runs, m.runDuration, m.feedBytes, m.items, m.skipped, m.products, m.lastSuccess, m.lastRun, m.up,
		m.requests, m.requestTime, m.retries,
	} {
		v.DeletePartialMatch(l)
	}
}

// ObserveRun records one finished run of a feed.
func (m *Metrics) ObserveRun(s engine.Summary, err error, ended time.Time) {
	f := s.Feed
	result := ResultSuccess
	if err != nil {
		result = ResultFailure
	}
	m.runs.WithLabelValues(f, result).Inc()
	m.runDuration.WithLabelValues(f).Observe(float64(s.DurationMS) / 1000)
	m.lastRun.WithLabelValues(f).Set(float64(ended.Unix()))
	if s.Bytes > 0 {
		m.feedBytes.WithLabelValues(f).Set(float64(s.Bytes))
	}
	if s.Items > 0 || s.Fetch == engine.FetchChanged {
		m.items.WithLabelValues(f).Set(float64(s.Items))
	}
	m.skipped.WithLabelValues(f).Add(float64(s.Skipped))
	for i, n := range []int{s.Created, s.Updated, s.Unchanged, s.Deleted, s.Unavailable, s.Failed} {
		m.products.WithLabelValues(f, productOps[i]).Add(float64(n))
	}
	if err != nil {
		m.up.WithLabelValues(f).Set(0)
		return
	}
	m.up.WithLabelValues(f).Set(1)
	m.lastSuccess.WithLabelValues(f).Set(float64(ended.Unix()))
}

// ObserveReload records a SIGHUP reload.
func (m *Metrics) ObserveReload(err error) {
	if err != nil {
		m.configReloads.WithLabelValues(ResultFailure).Inc()
		return
	}
	m.configReloads.WithLabelValues(ResultSuccess).Inc()
}

// Request counts one catalog request (push.Observer). The catalog client is
// shared by every feed, so these series have an empty feed label; see ForFeed.
func (m *Metrics) Request(op string, status int, elapsed time.Duration) {
	m.request("", op, status, elapsed)
}

// Retry counts one retried catalog request (push.Observer).
func (m *Metrics) Retry(op string, reason string) {
	m.retries.WithLabelValues("", op, reason).Inc()
}

func (m *Metrics) request(feed, op string, status int, elapsed time.Duration) {
	m.requests.WithLabelValues(feed, op, strconv.Itoa(status)).Inc()
	m.requestTime.WithLabelValues(feed, op).Observe(elapsed.Seconds())
}

// ForFeed is a push.Observer that labels requests and retries with a feed,
// for a catalog client that can be handed one observer per run.
func (m *Metrics) ForFeed(feed string) push.Observer { return feedObserver{m, feed} }

type feedObserver struct {
	m    *Metrics
	feed string
}

func (o feedObserver) Request(op string, status int, elapsed time.Duration) {
	o.m.request(o.feed, op, status, elapsed)
}

func (o feedObserver) Retry(op string, reason string) {
	o.m.retries.WithLabelValues(o.feed, op, reason).Inc()
}
