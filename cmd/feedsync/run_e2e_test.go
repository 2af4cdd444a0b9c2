package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/feedsync/feedsync/push/pushtest"
)

// runProc is a running `feedsync run`.
type runProc struct {
	cmd    *exec.Cmd
	stdout *runLog
	stderr *runLog
	done   chan struct{}
	code   int
}

// runLog is the daemon's output, read while it is written.
type runLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *runLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *runLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// lines returns the JSON log lines with this level (empty: any) whose
// message and feed match (empty: any).
func (l *runLog) lines(level, msg, feed string) []map[string]any {
	var out []map[string]any
	for _, raw := range strings.Split(l.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(raw), &m) != nil {
			continue
		}
		if (level == "" || m["level"] == level) && (msg == "" || m["message"] == msg) && (feed == "" || m["feed"] == feed) {
			out = append(out, m)
		}
	}
	return out
}

func startRun(t *testing.T, args ...string) *runProc {
	t.Helper()
	return startRunEnv(t, nil, args...)
}

// startRunEnv starts `feedsync run ARGS` with extra environment variables.
func startRunEnv(t *testing.T, env []string, args ...string) *runProc {
	t.Helper()
	p := &runProc{stdout: &runLog{}, stderr: &runLog{}, done: make(chan struct{})}
	p.cmd = exec.Command(binary, append([]string{"run"}, args...)...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := p.cmd.Wait()
		p.code = 0
		if ee, ok := err.(*exec.ExitError); ok {
			p.code = ee.ExitCode()
		} else if err != nil {
			p.code = -1
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// stop sends sig and returns the exit code; it fails the test after timeout.
func (p *runProc) stop(t *testing.T, sig os.Signal, timeout time.Duration) int {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
		return p.code
	case <-time.After(timeout):
		t.Fatalf("feedsync run did not exit within %v of %v; log (stderr):\n%s", timeout, sig, p.stderr)
		return 0
	}
}

// waitFor polls cond every 50 ms; it fails the test after d, or when the
// daemon exits.
func (p *runProc) waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		select {
		case <-p.done:
			t.Fatalf("feedsync run exited (%d) while waiting for %s; stdout:\n%s\nstderr:\n%s", p.code, what, p.stdout, p.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s; stdout:\n%s\nstderr:\n%s", d, what, p.stdout, p.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freeListenAddr finds a free loopback port for metrics.listen.
func freeListenAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// runFeedServer serves testdata feeds over HTTP, by file name; a feed can be
// changed, broken, or made to hang until the client gives up.
type runFeedServer struct {
	*httptest.Server
	mu     sync.Mutex
	bodies map[string][]byte
	status map[string]int
	hang   map[string]time.Duration
	hits   map[string]*atomic.Int32
}

func newRunFeedServer(t *testing.T, files ...string) *runFeedServer {
	t.Helper()
	s := &runFeedServer{bodies: map[string][]byte{}, status: map[string]int{}, hang: map[string]time.Duration{}, hits: map[string]*atomic.Int32{}}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "feeds", f))
		if err != nil {
			t.Fatal(err)
		}
		s.bodies[f], s.status[f], s.hits[f] = data, http.StatusOK, &atomic.Int32{}
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		s.mu.Lock()
		body, ok := s.bodies[name]
		status, hang, hits := s.status[name], s.hang[name], s.hits[name]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		hits.Add(1)
		select {
		case <-time.After(hang):
		case <-r.Context().Done():
			return
		}
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *runFeedServer) edit(name string, fn func(body []byte) []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bodies[name] = fn(s.bodies[name])
}

func (s *runFeedServer) set(name string, status int, hang time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status[name], s.hang[name] = status, hang
}

func (s *runFeedServer) hitCount(name string) int { return int(s.hits[name].Load()) }

// daemonConfig writes a workspace config with shop (parent) and books
// (variant) served by srv on @every 1s, and metrics on addr.
func daemonConfig(t *testing.T, srv *runFeedServer, addr, grace string) (cfgPath, dir string) {
	t.Helper()
	extra := fmt.Sprintf(`  - {name: shop, url: "%[1]s/shop.xml", policy: parent, schedule: "@every 1s"}
  - {name: books, url: "%[1]s/books.csv", policy: variant, schedule: "@every 1s"}
metrics: {listen: "%[2]s"}
run: {concurrency: 2, grace: %[3]s}
`, srv.URL, addr, grace)
	dir = workspace(t, nil, extra)
	return filepath.Join(dir, "feedsync.yaml"), dir
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// catalogState folds the JSONL sink into the catalog it describes.
func catalogState(t *testing.T, path string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	if _, err := os.Stat(path); os.IsNotExist(err) {
		return out
	}
	for _, l := range sinkLines(t, path) {
		id, _ := l["id"].(string)
		if l["op"] == "delete" {
			delete(out, id)
			continue
		}
		out[id], _ = l["product"].(map[string]any)
	}
	return out
}

func countLines(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(data, []byte("\n"))
}

func TestRunSyncsOnScheduleAndServesMetricsAndHealth(t *testing.T) {
	t.Parallel()
	srv := newRunFeedServer(t, "shop.xml", "books.csv")
	addr := freeListenAddr(t)
	cfg, dir := daemonConfig(t, srv, addr, "5s")
	catalog := filepath.Join(dir, "out", "catalog.jsonl")

	p := startRun(t, "-c", cfg)
	base := "http://" + addr
	p.waitFor(t, 10*time.Second, "both feeds in the sink", func() bool { return countLines(catalog) == 6 })
	if code, _ := httpGet(t, base+"/livez"); code != http.StatusOK {
		t.Errorf("/livez: %d, want 200", code)
	}

	// One changed price: exactly that change arrives, and only once.
	srv.edit("books.csv", func(b []byte) []byte { return bytes.Replace(b, []byte("22.00 USD"), []byte("24.00 USD"), 1) })
	p.waitFor(t, 10*time.Second, "the changed product in the sink", func() bool { return countLines(catalog) >= 7 })
	runsBefore := len(p.stderr.lines("info", "run finished", "books"))
	p.waitFor(t, 10*time.Second, "two more runs of books", func() bool {
		return len(p.stderr.lines("info", "run finished", "books")) >= runsBefore+2
	})
	lines := sinkLines(t, catalog)
	if last := lines[len(lines)-1]; len(lines) != 7 || last["op"] != "upsert" || last["id"] != "BK-003" || last["product"].(map[string]any)["price"] != 24.0 {
		t.Errorf("after one price change: %d sink lines, last %v; want 7, an upsert of BK-003 at 24", len(lines), last)
	}

	// Every run logs one summary line with the counts of sync --json.
	var sawUpdate bool
	for _, l := range p.stderr.lines("info", "run finished", "books") {
		for _, key := range []string{"items", "products", "created", "updated", "unchanged", "deleted", "failed", "fetch", "duration_ms"} {
			if _, ok := l[key]; !ok {
				t.Errorf("summary line %v has no %q", l, key)
			}
		}
		sawUpdate = sawUpdate || l["updated"] == 1.0
	}
	if !sawUpdate {
		t.Error("no summary line reports the one update")
	}

	code, body := httpGet(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`feedsync_products_total{feed="books",operation="created"} 3`,
		`feedsync_products_total{feed="books",operation="updated"} 1`,
		`feedsync_products_total{feed="shop",operation="created"} 3`,
		`feedsync_products_total{feed="shop",operation="updated"} 0`,
		`feedsync_runs_total{feed="shop",result="failure"} 0`,
		`feedsync_feed_items{feed="shop"} 5`,
		`feedsync_feed_up{feed="books"} 1`,
		`feedsync_runs_total{feed="books",result="success"} `,
		`feedsync_last_success_timestamp_seconds{feed="shop"} `,
		`feedsync_run_duration_seconds_count{feed="books"} `,
		`feedsync_feed_bytes{feed="books"} `,
		"# TYPE feedsync_runs_total counter",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics has no %q", want)
		}
	}
	code, body = httpGet(t, base+"/healthz")
	if code != http.StatusOK || !strings.Contains(body, `"status": "ok"`) {
		t.Errorf("/healthz: %d %s, want 200 ok", code, body)
	}
	code, body = httpGet(t, base+"/status")
	var st struct {
		Feeds []struct {
			Name    string     `json:"name"`
			NextRun *time.Time `json:"next_run"`
			LastRun *summary   `json:"last_run"`
		} `json:"feeds"`
	}
	if err := json.Unmarshal([]byte(body), &st); code != http.StatusOK || err != nil || len(st.Feeds) != 2 {
		t.Fatalf("/status: %d %v\n%s", code, err, body)
	}
	for _, f := range st.Feeds {
		if f.NextRun == nil || f.LastRun == nil || f.LastRun.Feed != f.Name || f.LastRun.Products != 3 {
			t.Errorf("/status feed %s: next run %v, last run %+v; want both, 3 products", f.Name, f.NextRun, f.LastRun)
		}
	}

	if code := p.stop(t, syscall.SIGTERM, 10*time.Second); code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0; log (stderr):\n%s", code, p.stderr)
	}
	if errs := p.stderr.lines("error", "", ""); len(errs) > 0 {
		t.Errorf("error lines: %v", errs)
	}
}

func TestRunSIGTERMDuringARunExitsZeroAndTheNextStartConverges(t *testing.T) {
	t.Parallel()
	srv := newRunFeedServer(t, "shop.xml", "books.csv")
	addr := freeListenAddr(t)
	cfg, dir := daemonConfig(t, srv, addr, "1s")
	catalog := filepath.Join(dir, "out", "catalog.jsonl")

	// A run in flight within the grace finishes and lands.
	srv.set("shop.xml", http.StatusOK, 500*time.Millisecond)
	p := startRun(t, "-c", cfg, "--now")
	p.waitFor(t, 5*time.Second, "the first fetch of shop", func() bool { return srv.hitCount("shop.xml") >= 1 })
	if code := p.stop(t, syscall.SIGTERM, 5*time.Second); code != 0 {
		t.Fatalf("exit %d after SIGTERM, want 0; log (stderr):\n%s", code, p.stderr)
	}
	if got := len(p.stderr.lines("info", "run finished", "shop")); got != 1 {
		t.Errorf("%d finished runs of shop, want the one in flight at SIGTERM", got)
	}
	if got := len(catalogState(t, catalog)); got < 3 {
		t.Errorf("%d products in the sink, want shop's 3 at least", got)
	}

	// A run that outlasts the grace is cancelled; the daemon still exits 0.
	srv.set("shop.xml", http.StatusOK, 0)
	srv.edit("books.csv", func(b []byte) []byte { return bytes.Replace(b, []byte("22.00 USD"), []byte("24.00 USD"), 1) })
	srv.set("books.csv", http.StatusOK, time.Hour)
	hits := srv.hitCount("books.csv")
	p = startRun(t, "-c", cfg, "--now")
	p.waitFor(t, 5*time.Second, "a hanging fetch of books", func() bool { return srv.hitCount("books.csv") > hits })
	start := time.Now()
	if code := p.stop(t, syscall.SIGTERM, 5*time.Second); code != 0 {
		t.Fatalf("exit %d after SIGTERM with a run past the grace, want 0; log (stderr):\n%s", code, p.stderr)
	}
	if took := time.Since(start); took < time.Second {
		t.Errorf("exited %v after SIGTERM, before the 1 s grace", took)
	}
	if len(p.stderr.lines("warn", "", "")) == 0 {
		t.Errorf("the cancelled run was not logged; log (stderr):\n%s", p.stderr)
	}

	// A second signal exits at once.
	p = startRun(t, "-c", cfg, "--now")
	p.waitFor(t, 5*time.Second, "another hanging fetch of books", func() bool { return srv.hitCount("books.csv") > hits+1 })
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.waitFor(t, 5*time.Second, "the stop to begin", func() bool { return len(p.stderr.lines("info", "stopping", "")) > 0 })
	// Exit status 1, not the 0 of a stop after the grace: it did not wait.
	if code := p.stop(t, syscall.SIGINT, 5*time.Second); code != exitFailed {
		t.Errorf("exit %d after a second signal, want %d", code, exitFailed)
	}
	if len(p.stderr.lines("warn", "second signal: exiting now; the next start resumes from the committed state", "")) != 1 {
		t.Errorf("the forced exit was not logged; log (stderr):\n%s", p.stderr)
	}

	// The next start converges: the sink ends equal to the feeds.
	srv.set("books.csv", http.StatusOK, 0)
	p = startRun(t, "-c", cfg, "--now")
	p.waitFor(t, 10*time.Second, "a run of both feeds", func() bool {
		return len(p.stderr.lines("info", "run finished", "books")) >= 1 && len(p.stderr.lines("info", "run finished", "shop")) >= 1
	})
	if code := p.stop(t, syscall.SIGTERM, 5*time.Second); code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	got := catalogState(t, catalog)
	if len(got) != 6 || got["BK-003"]["price"] != 24.0 {
		t.Errorf("catalog after convergence: %d products, BK-003 %v; want 6, BK-003 at 24", len(got), got["BK-003"])
	}
	// And the state agrees: a sync now has nothing to send.
	r := runBinary(t, nil, "sync", "-c", cfg, "--json")
	if r.code != 0 {
		t.Fatalf("sync after the daemon: exit %d\n%s", r.code, r.stderr)
	}
	for name, s := range parseSummaries(t, r.stdout) {
		if s.Created != 0 || s.Updated != 0 || s.Unchanged != 3 {
			t.Errorf("sync after the daemon, %s: %+v, want 3 unchanged and nothing sent", name, s)
		}
	}
}

func TestRunBrokenFeedIsUnhealthyLogsOnceAndRecovers(t *testing.T) {
	t.Parallel()
	srv := newRunFeedServer(t, "shop.xml", "books.csv")
	srv.set("shop.xml", http.StatusNotFound, 0) // not retried within a run, unlike a 5xx
	addr := freeListenAddr(t)
	cfg, _ := daemonConfig(t, srv, addr, "5s")
	base := "http://" + addr

	p := startRun(t, "-c", cfg, "--now")
	p.waitFor(t, 10*time.Second, "three failed fetches", func() bool { return srv.hitCount("shop.xml") >= 3 })
	p.waitFor(t, 5*time.Second, "the unhealthy /healthz", func() bool { code, _ := httpGet(t, base+"/healthz"); return code == http.StatusServiceUnavailable })
	_, body := httpGet(t, base+"/healthz")
	var h struct {
		Status  string `json:"status"`
		Failing []struct {
			Feed  string `json:"feed"`
			Error string `json:"error"`
		} `json:"failing"`
	}
	if err := json.Unmarshal([]byte(body), &h); err != nil || h.Status != "failing" || len(h.Failing) != 1 || h.Failing[0].Feed != "shop" || !strings.Contains(h.Failing[0].Error, "404") {
		t.Errorf("/healthz body %s (%v), want shop failing with its 404", body, err)
	}
	if code, _ := httpGet(t, base+"/livez"); code != http.StatusOK {
		t.Errorf("/livez with a failing feed: %d, want 200 (a failing feed must not restart the process)", code)
	}
	if code, _ := httpGet(t, base+"/metrics"); code != http.StatusOK {
		t.Errorf("/metrics with a failing feed: %d", code)
	}

	srv.set("shop.xml", http.StatusOK, 0)
	p.waitFor(t, 10*time.Second, "recovery", func() bool { return len(p.stderr.lines("info", "recovered", "shop")) > 0 })
	p.waitFor(t, 5*time.Second, "the healthy /healthz", func() bool { code, _ := httpGet(t, base+"/healthz"); return code == http.StatusOK })
	if errs := p.stderr.lines("error", "", ""); len(errs) != 1 || errs[0]["feed"] != "shop" {
		t.Errorf("%d error lines for %d failed runs, want 1 naming shop:\n%s", len(errs), srv.hitCount("shop.xml")-1, p.stderr)
	}
	if n := len(p.stderr.lines("info", "recovered", "shop")); n != 1 {
		t.Errorf("%d recovered lines, want 1", n)
	}

	// SIGHUP: a broken config is refused and the daemon keeps going; a good
	// one replaces the schedule.
	good, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, bytes.Replace(good, []byte("policy: parent"), []byte("policy: parents"), 1), 0o644)
	p.cmd.Process.Signal(syscall.SIGHUP)
	p.waitFor(t, 5*time.Second, "the refused reload", func() bool {
		return len(p.stderr.lines("error", "config reload failed; keeping the running configuration", "")) == 1
	})
	if e := p.stderr.lines("error", "config reload failed; keeping the running configuration", "")[0]["error"]; !strings.Contains(fmt.Sprint(e), `feeds[0].policy: "parents"`) {
		t.Errorf("the refused reload does not say why: %v", e)
	}
	os.WriteFile(cfg, bytes.Replace(good, []byte(`schedule: "@every 1s"`), []byte(`schedule: "@every 1h"`), -1), 0o644)
	p.cmd.Process.Signal(syscall.SIGHUP)
	p.waitFor(t, 5*time.Second, "the reload", func() bool { return len(p.stderr.lines("info", "config reloaded", "")) == 1 })
	_, body = httpGet(t, base+"/status")
	if strings.Count(body, `"schedule": "@every 1h"`) != 2 {
		t.Errorf("/status after reload does not show the new schedules:\n%s", body)
	}
	if code := p.stop(t, syscall.SIGTERM, 10*time.Second); code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
}

func TestRunRefusesAStateFileInUseAndABusyAddress(t *testing.T) {
	t.Parallel()
	srv := newRunFeedServer(t, "shop.xml", "books.csv")
	addr := freeListenAddr(t)
	cfg, _ := daemonConfig(t, srv, addr, "5s")
	p := startRun(t, "-c", cfg)
	p.waitFor(t, 5*time.Second, "the daemon to listen", func() bool {
		resp, err := http.Get("http://" + addr + "/livez")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	r := runBinary(t, nil, "run", "-c", cfg)
	if r.code != exitUsage || !strings.Contains(r.stderr, "in use by another feedsync process") {
		t.Errorf("a second daemon on the same state file: exit %d, stderr %s; want 2 and a clear message", r.code, r.stderr)
	}
	other, _ := daemonConfig(t, srv, addr, "5s")
	r = runBinary(t, nil, "run", "-c", other)
	if r.code != exitFailed || !strings.Contains(r.stderr, "metrics.listen") || !strings.Contains(r.stderr, "address already in use") {
		t.Errorf("a second daemon on the same address: exit %d, stderr %s; want 1 naming metrics.listen", r.code, r.stderr)
	}
	if code := p.stop(t, syscall.SIGTERM, 10*time.Second); code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
}

func TestRunSIGTERMDuringAPushToUserComExitsZeroAndTheNextStartConverges(t *testing.T) {
	t.Parallel()
	srv := newRunFeedServer(t, "shop.xml", "books.csv")
	var slow atomic.Bool
	var arrived atomic.Int32
	slow.Store(true)
	fake := pushtest.NewServer(pushtest.Options{
		SlowDelay: 5 * time.Second,
		Script: func(n int, r *http.Request) pushtest.Fault {
			arrived.Store(int32(n))
			if slow.Load() && n > 2 {
				return pushtest.Slow // the first two requests go through, the rest hang
			}
			return pushtest.None
		},
	})
	defer fake.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "feedsync.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`state: state/feedsync.db
log: {level: info, format: json}
metrics: {listen: "%[3]s"}
run: {concurrency: 2, grace: 1s}
catalog: {kind: usercom, url: "%[2]s", mode: rest, rate: 100, concurrency: 1, retries: 0}
feeds:
  - {name: shop, url: "%[1]s/shop.xml", policy: parent, schedule: "@every 1s"}
  - {name: books, url: "%[1]s/books.csv", policy: variant, schedule: "@every 1s"}
`, srv.URL, fake.URL, freeListenAddr(t))), 0o644)
	env := []string{"USERCOM_API_TOKEN=" + pushtest.Token}

	p := startRunEnv(t, env, "-c", cfg, "--now")
	p.waitFor(t, 10*time.Second, "a push hanging at the catalog", func() bool { return arrived.Load() >= 3 })
	start := time.Now()
	if code := p.stop(t, syscall.SIGTERM, 10*time.Second); code != 0 {
		t.Fatalf("exit %d after SIGTERM during a push, want 0; stdout:\n%s\nstderr:\n%s", code, p.stdout, p.stderr)
	}
	if took := time.Since(start); took < time.Second || took > 4*time.Second {
		t.Errorf("exited %v after SIGTERM, want after the 1 s grace and before the hanging request's 5 s", took)
	}
	if n := len(fake.Catalog()); n >= 6 {
		t.Fatalf("the catalog has all %d products after an interrupted push; the test did not interrupt anything", n)
	}

	slow.Store(false)
	p = startRunEnv(t, env, "-c", cfg, "--now")
	p.waitFor(t, 15*time.Second, "every product in the catalog", func() bool { return len(fake.Catalog()) == 6 })
	p.waitFor(t, 10*time.Second, "a clean run of both feeds", func() bool {
		return len(p.stderr.lines("info", "run finished", "shop")) > 0 && len(p.stderr.lines("info", "run finished", "books")) > 0
	})
	if code := p.stop(t, syscall.SIGTERM, 10*time.Second); code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	for id, n := range fake.Creates() {
		if n != 1 {
			t.Errorf("product %s was created %d times, want once", id, n)
		}
	}
	for _, id := range []string{"TEE-BASIC", "HOODIE-1", "MUG-01", "BK-001", "BK-002", "BK-003"} {
		if _, ok := fake.Catalog()[id]; !ok {
			t.Errorf("the catalog has no %s", id)
		}
	}
	// Converged: a sync now sends nothing.
	before := len(fake.Requests())
	r := runBinary(t, env, "sync", "-c", cfg, "--json")
	if r.code != 0 {
		t.Fatalf("sync after the daemon: exit %d\n%s", r.code, r.stderr)
	}
	if after := len(fake.Requests()); after != before {
		t.Errorf("a sync after convergence sent %d requests, want 0", after-before)
	}
}
