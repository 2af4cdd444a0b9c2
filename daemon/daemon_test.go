package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedsync/feedsync/config"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"

	"github.com/feedsync/feedsync/push"
	"github.com/feedsync/feedsync/store"
)

// daemonLog collects JSON log lines from concurrent goroutines.
type daemonLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *daemonLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// lines returns the log lines whose level and message match (empty: any).
func (l *daemonLog) lines(level, msg string) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, raw := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(raw), &m) != nil {
			continue
		}
		if (level == "" || m["level"] == level) && (msg == "" || m["message"] == msg) {
			out = append(out, m)
		}
	}
	return out
}

func (l *daemonLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// feedServer serves a feed over HTTP; its handler can be swapped mid-test.
type feedServer struct {
	*httptest.Server
	mu      sync.Mutex
	body    []byte
	status  int
	delay   time.Duration
	active  atomic.Int32
	maxSeen atomic.Int32
	hits    atomic.Int32
}

func newFeedServer(t *testing.T, fixture string) *feedServer {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("..", "testdata", "feeds", fixture))
	if err != nil {
		t.Fatal(err)
	}
	fs := &feedServer{body: body, status: http.StatusOK}
	fs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := fs.active.Add(1)
		defer fs.active.Add(-1)
		for {
			m := fs.maxSeen.Load()
			if n <= m || fs.maxSeen.CompareAndSwap(m, n) {
				break
			}
		}
		fs.hits.Add(1)
		fs.mu.Lock()
		body, status, delay := fs.body, fs.status, fs.delay
		fs.mu.Unlock()
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(fs.Close)
	return fs
}

func (fs *feedServer) set(status int, body []byte, delay time.Duration) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.status, fs.delay = status, delay
	if body != nil {
		fs.body = body
	}
}

type testDaemon struct {
	*Daemon
	log     *daemonLog
	dir     string
	metrics *Metrics
	cancel  context.CancelFunc
	done    chan error
}

// startDaemon runs a daemon over a config whose feeds section is given,
// with a temp state file and JSONL sink, no HTTP listener and debug logs.
func startDaemon(t *testing.T, feeds string, runNow bool, tweak func(*config.Config)) *testDaemon {
	t.Helper()
	dir := t.TempDir()
	raw := fmt.Sprintf("state: %s\nmetrics: {listen: \"\"}\ncatalog: {kind: file, path: %s}\nfeeds:\n%s",
		filepath.Join(dir, "state.db"), filepath.Join(dir, "catalog.jsonl"), feeds)
	cfg, err := config.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if tweak != nil {
		tweak(cfg)
	}
	db, err := store.Open(cfg.State, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	logs := &daemonLog{}
	m := NewMetrics()
	d, err := New(cfg, Options{
		DB: db, Sink: push.NewFileSink(cfg.Catalog.Path), Log: zerolog.New(logs).Level(zerolog.DebugLevel),
		Metrics: m, RunNow: runNow,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	td := &testDaemon{Daemon: d, log: logs, dir: dir, metrics: m, cancel: cancel, done: make(chan error, 1)}
	go func() { td.done <- d.Run(ctx) }()
	t.Cleanup(func() {
		td.stop(t)
		db.Close()
	})
	return td
}

// stop is SIGTERM: it returns Run's error, or fails after 10 s.
func (td *testDaemon) stop(t *testing.T) error {
	t.Helper()
	td.cancel()
	select {
	case err, ok := <-td.done:
		if ok {
			close(td.done)
		}
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the daemon did not stop within 10 s")
		return nil
	}
}

func (td *testDaemon) runs(feed, result string) int {
	return int(testutil.ToFloat64(td.metrics.runs.WithLabelValues(feed, result)))
}

// eventually polls cond every 50 ms for up to d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestDaemonNeverOverlapsAFeed(t *testing.T) {
	t.Parallel()
	srv := newFeedServer(t, "books.csv")
	srv.set(http.StatusOK, nil, 1500*time.Millisecond) // longer than the interval
	td := startDaemon(t, fmt.Sprintf("  - {name: slow, url: %q, schedule: \"@every 1s\"}\n", srv.URL), true, func(c *config.Config) { c.Run.Concurrency = 4 })
	eventually(t, 10*time.Second, "three runs of the slow feed", func() bool { return td.runs("slow", ResultSuccess) >= 3 })
	if got := srv.maxSeen.Load(); got != 1 {
		t.Errorf("the feed server saw %d requests at once, want 1", got)
	}
	if got := len(td.log.lines("info", "run skipped: the previous run of this feed is still in progress")); got == 0 {
		t.Errorf("no run was logged as skipped; logs:\n%s", td.log)
	}
}

func TestDaemonConcurrencyLimit(t *testing.T) {
	t.Parallel()
	srv := newFeedServer(t, "books.csv")
	srv.set(http.StatusOK, nil, 700*time.Millisecond)
	var feeds strings.Builder
	for i := range 3 {
		fmt.Fprintf(&feeds, "  - {name: f%d, url: %q, schedule: \"@every 1s\"}\n", i, srv.URL)
	}
	td := startDaemon(t, feeds.String(), true, func(c *config.Config) { c.Run.Concurrency = 2 })
	eventually(t, 10*time.Second, "a run of every feed", func() bool {
		return td.runs("f0", ResultSuccess) > 0 && td.runs("f1", ResultSuccess) > 0 && td.runs("f2", ResultSuccess) > 0
	})
	if got := srv.maxSeen.Load(); got != 2 {
		t.Errorf("the feed server saw at most %d requests at once, want run.concurrency 2", got)
	}
}

func TestDaemonBrokenFeed(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   []byte
		runs   int // failed runs to wait for; feed.Fetch retries a 5xx within a run for seconds
	}{
		{"HTTP500", http.StatusInternalServerError, []byte("oops"), 2},
		{"HTTP404", http.StatusNotFound, []byte("gone"), 3},
		{"MalformedXML", http.StatusOK, []byte(`<?xml version="1.0"?><rss xmlns:g="http://base.google.com/ns/1.0"><channel><item><g:id>A</g:id></item>`), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newFeedServer(t, "shop.xml")
			good := srv.body
			srv.set(tc.status, tc.body, 0)
			td := startDaemon(t, fmt.Sprintf("  - {name: shop, url: %q, policy: parent, schedule: \"@every 1s\"}\n", srv.URL), true, nil)
			h := httptest.NewServer(td.Handler())
			defer h.Close()

			eventually(t, 20*time.Second, fmt.Sprintf("%d failed runs", tc.runs), func() bool { return td.runs("shop", ResultFailure) >= tc.runs })
			if errs := td.log.lines("error", ""); len(errs) != 1 {
				t.Errorf("%d error lines for %d failed runs, want 1:\n%s", len(errs), td.runs("shop", ResultFailure), td.log)
			} else if errs[0]["feed"] != "shop" || errs[0]["message"] != "run failed" || errs[0]["error"] == nil {
				t.Errorf("error line %v does not name the feed and its error", errs[0])
			}
			if n := len(td.log.lines("debug", "run failed")); n < tc.runs-1 {
				t.Errorf("%d repeated failures logged at debug, want %d or more", n, tc.runs-1)
			}
			resp, err := http.Get(h.URL + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			var health Health
			json.NewDecoder(resp.Body).Decode(&health)
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable || len(health.Failing) != 1 || health.Failing[0].Feed != "shop" || health.Failing[0].Error == "" {
				t.Errorf("/healthz with a broken feed: %d %+v, want 503 naming shop and its error", resp.StatusCode, health)
			}
			for _, path := range []string{"/livez", "/"} {
				resp, err := http.Get(h.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("%s with a broken feed: %d, want 200", path, resp.StatusCode)
				}
			}

			srv.set(http.StatusOK, good, 0)
			eventually(t, 10*time.Second, "recovery", func() bool { return td.runs("shop", ResultSuccess) >= 2 })
			if n := len(td.log.lines("info", "recovered")); n != 1 {
				t.Errorf("%d recovered lines, want 1:\n%s", n, td.log)
			}
			resp, err = http.Get(h.URL + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("/healthz after recovery: %d, want 200", resp.StatusCode)
			}
			if errs := td.log.lines("error", ""); len(errs) != 1 {
				t.Errorf("%d error lines in all, want 1", len(errs))
			}
		})
	}
}

func TestDaemonStatus(t *testing.T) {
	t.Parallel()
	srv := newFeedServer(t, "shop.xml")
	td := startDaemon(t, fmt.Sprintf("  - {name: shop, url: %q, policy: parent, schedule: \"@every 1s\"}\n  - {name: later, url: %q, schedule: \"0 3 * * *\"}\n", srv.URL, srv.URL), false, nil)
	h := httptest.NewServer(td.Handler())
	defer h.Close()
	eventually(t, 5*time.Second, "a run of shop", func() bool { return td.runs("shop", ResultSuccess) >= 1 })

	resp, err := http.Get(h.URL + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var raw struct {
		Started time.Time                    `json:"started"`
		Feeds   []map[string]json.RawMessage `json:"feeds"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	if raw.Started.IsZero() || len(raw.Feeds) != 2 {
		t.Fatalf("/status: started %v, %d feeds; want a start time and 2 feeds", raw.Started, len(raw.Feeds))
	}
	shop, later := raw.Feeds[0], raw.Feeds[1]
	if string(shop["name"]) != `"shop"` || string(later["name"]) != `"later"` {
		t.Errorf("feeds are not in config order: %s, %s", shop["name"], later["name"])
	}
	for _, key := range []string{"name", "schedule", "running", "next_run", "last_run", "last_run_end", "last_success", "failed_runs"} {
		if _, ok := shop[key]; !ok {
			t.Errorf("/status feed has no %q key", key)
		}
	}
	var last map[string]any
	if err := json.Unmarshal(shop["last_run"], &last); err != nil {
		t.Fatal(err)
	}
	// The last run is the --json summary: its public keys, same counts.
	for key, want := range map[string]any{"feed": "shop", "items": 5.0, "products": 3.0, "mode": "sync", "failed": 0.0} {
		if last[key] != want {
			t.Errorf("last_run.%s = %v, want %v", key, last[key], want)
		}
	}
	for _, key := range []string{"created", "updated", "unchanged", "deleted", "fetch", "duration_ms"} {
		if _, ok := last[key]; !ok {
			t.Errorf("last_run has no %q", key)
		}
	}
	var next time.Time
	if err := json.Unmarshal(shop["next_run"], &next); err != nil || next.Before(time.Now().Add(-3*time.Second)) || next.After(time.Now().Add(3*time.Second)) {
		t.Errorf("shop next_run %s (%v), want about now (@every 1s)", shop["next_run"], err)
	}
	if string(later["last_run"]) != "null" {
		t.Errorf("a feed that has not run has last_run %s, want null", later["last_run"])
	}
	if err := json.Unmarshal(later["next_run"], &next); err != nil {
		t.Errorf("later next_run %s: %v", later["next_run"], err)
	} else if now := time.Now(); next.Before(now) || next.After(now.Add(25*time.Hour)) || next.In(time.Local).Hour() != 3 {
		t.Errorf("later next_run %v, want the next 03:00", next)
	}
}

func TestDaemonReload(t *testing.T) {
	t.Parallel()
	srv := newFeedServer(t, "books.csv")
	feedsYAML := func(names ...string) string {
		var b strings.Builder
		for _, n := range names {
			fmt.Fprintf(&b, "  - {name: %s, url: %q, schedule: \"@every 1s\"}\n", n, srv.URL)
		}
		return b.String()
	}
	var next atomic.Value // func() (*Config, error)
	td := startDaemon(t, feedsYAML("a", "b"), false, nil)
	td.opts.Reload = func() (*config.Config, error) { return next.Load().(func() (*config.Config, error))() }
	base := *td.cfg

	t.Run("InvalidKeepsTheRunningConfig", func(t *testing.T) {
		next.Store(func() (*config.Config, error) {
			return config.Parse([]byte("feeds:\n  - {name: a, url: x, policy: parents}\n"))
		})
		if err := td.Reload(); err == nil || !strings.Contains(err.Error(), "feeds[0].policy") {
			t.Errorf("Reload of an invalid config: %v, want the config error", err)
		}
		if got := td.Status().Feeds; len(got) != 2 {
			t.Errorf("after a failed reload %d feeds, want still 2", len(got))
		}
		if lines := td.log.lines("error", "config reload failed; keeping the running configuration"); len(lines) != 1 || !strings.Contains(fmt.Sprint(lines[0]["error"]), "parents") {
			t.Errorf("the failed reload was not logged with its reason:\n%s", td.log)
		}
	})

	t.Run("ValidReplacesScheduleAndFeeds", func(t *testing.T) {
		next.Store(func() (*config.Config, error) {
			cfg := base
			c, err := config.Parse([]byte("feeds:\n" + feedsYAML("b", "c")))
			if err != nil {
				return nil, err
			}
			cfg.Feeds = c.Feeds
			cfg.Feeds[0].Schedule = config.MustSchedule("@every 1h")
			return &cfg, nil
		})
		if err := td.Reload(); err != nil {
			t.Fatal(err)
		}
		st := td.Status()
		if len(st.Feeds) != 2 || st.Feeds[0].Name != "b" || st.Feeds[1].Name != "c" {
			t.Fatalf("after reload: %+v, want feeds b and c", st.Feeds)
		}
		if st.Feeds[0].Schedule != "@every 1h" || st.Feeds[0].NextRun == nil || time.Until(*st.Feeds[0].NextRun) < 59*time.Minute {
			t.Errorf("feed b: schedule %q next run %v, want @every 1h", st.Feeds[0].Schedule, st.Feeds[0].NextRun)
		}
		eventually(t, 5*time.Second, "a run of the added feed", func() bool { return td.runs("c", ResultSuccess) >= 1 })
		if got := testutil.ToFloat64(td.metrics.configReloads.WithLabelValues(ResultSuccess)); got != 1 {
			t.Errorf("config_reloads_total{result=success} = %v, want 1", got)
		}
	})

	t.Run("RestartOnlySettingsWarnAndStay", func(t *testing.T) {
		next.Store(func() (*config.Config, error) {
			cfg := base
			cfg.Feeds = slices.Clone(td.cfg.Feeds)
			cfg.State = filepath.Join(t.TempDir(), "elsewhere.db")
			return &cfg, nil
		})
		for range 2 {
			if err := td.Reload(); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(td.log.lines("warn", "config reload: this setting changed but takes effect only after a restart")); n != 2 {
			t.Errorf("%d warnings for a changed state path over two reloads, want 2 (one each)", n)
		}
		if td.cfg.State != base.State {
			t.Errorf("the running state path became %q", td.cfg.State)
		}
	})
}

func TestDaemonStopCancelsRunsAfterTheGrace(t *testing.T) {
	t.Parallel()
	srv := newFeedServer(t, "books.csv")
	srv.set(http.StatusOK, nil, time.Minute)
	td := startDaemon(t, fmt.Sprintf("  - {name: stuck, url: %q, schedule: \"@every 1h\"}\n", srv.URL), true, func(c *config.Config) { c.Run.Grace = config.Duration(300 * time.Millisecond) })
	eventually(t, 5*time.Second, "the fetch to start", func() bool { return srv.hits.Load() == 1 })
	start := time.Now()
	if err := td.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if took := time.Since(start); took < 300*time.Millisecond || took > 5*time.Second {
		t.Errorf("stop took %v, want the 300 ms grace and little more", took)
	}
	if len(td.log.lines("warn", "")) == 0 || !strings.Contains(td.log.String(), "grace period over") {
		t.Errorf("the cancellation was not logged:\n%s", td.log)
	}
	if td.runs("stuck", ResultFailure) != 0 {
		t.Error("a run cancelled by shutdown was counted as a failure")
	}
	if h := td.Health(); h.Status != "ok" {
		t.Errorf("a run cancelled by shutdown made the feed unhealthy: %+v", h)
	}
}

func TestDaemonHeartbeat(t *testing.T) {
	t.Parallel()
	srv := newFeedServer(t, "books.csv")
	var beats atomic.Int32
	var failing atomic.Bool
	hb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		beats.Add(1)
		if r.Method != http.MethodGet {
			t.Errorf("heartbeat method %s, want GET", r.Method)
		}
		if failing.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer hb.Close()
	failing.Store(true)
	td := startDaemon(t, fmt.Sprintf("  - {name: books, url: %q, schedule: \"@every 1s\", heartbeat: %q}\n", srv.URL, hb.URL+"/ping"), true, nil)
	eventually(t, 5*time.Second, "a heartbeat", func() bool { return beats.Load() >= 1 })
	eventually(t, 5*time.Second, "the failed heartbeat logged", func() bool {
		return len(td.log.lines("warn", "heartbeat failed: the monitoring service answered with an error")) >= 1
	})
	if h := td.Health(); h.Status != "ok" {
		t.Errorf("a failed heartbeat made the feed unhealthy: %+v", h)
	}
	if strings.Contains(td.log.String(), "/ping") {
		t.Errorf("the log shows the heartbeat URL's path:\n%s", td.log)
	}
	srv.set(http.StatusForbidden, nil, 0) // not retried by feed.Fetch
	eventually(t, 5*time.Second, "a failed run", func() bool { return td.runs("books", ResultFailure) >= 1 })
	before := beats.Load()
	eventually(t, 5*time.Second, "another failed run", func() bool { return td.runs("books", ResultFailure) >= 3 })
	if after := beats.Load(); after != before {
		t.Errorf("failed runs sent %d heartbeats, want none", after-before)
	}
}

func TestCronLoggerAdaptsZerolog(t *testing.T) {
	logs := &daemonLog{}
	l := cronLogger{zerolog.New(logs).Level(zerolog.DebugLevel)}
	l.Info("wake", "now", time.Unix(0, 0))
	l.Info("skip")
	l.Error(fmt.Errorf("boom"), "panic", "stack", "...")
	if got := logs.lines("debug", "cron: wake"); len(got) != 1 || got[0]["now"] == nil {
		t.Errorf("cron info: %v, want a debug line with its fields", got)
	}
	if got := logs.lines("info", "run skipped: the previous run of this feed is still in progress"); len(got) != 1 {
		t.Errorf("cron skip: %v, want an info line", got)
	}
	if got := logs.lines("error", "cron: panic"); len(got) != 1 || got[0]["error"] != "boom" || got[0]["stack"] != "..." {
		t.Errorf("cron error: %v, want an error line with err and fields", got)
	}
}

func TestDaemonHeartbeatErrorHidesTheURL(t *testing.T) {
	t.Parallel()
	srv := newFeedServer(t, "books.csv")
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close() // nothing listens there any more
	td := startDaemon(t, fmt.Sprintf("  - {name: books, url: %q, schedule: \"@every 1h\", heartbeat: %q}\n", srv.URL, closed.URL+"/secret-uuid"), true, nil)
	eventually(t, 5*time.Second, "the failed heartbeat logged", func() bool { return len(td.log.lines("warn", "heartbeat failed")) == 1 })
	if l := td.log.lines("warn", "heartbeat failed")[0]; l["error"] == nil || l["heartbeat_host"] == nil {
		t.Errorf("heartbeat failure %v does not say why and where", l)
	}
	if strings.Contains(td.log.String(), "secret-uuid") {
		t.Errorf("the log shows the heartbeat URL's path:\n%s", td.log)
	}
}
