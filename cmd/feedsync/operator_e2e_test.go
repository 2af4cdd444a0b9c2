package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// An operator's day (issue 17): state and plan beside a running daemon, a
// sync by hand that waits for the daemon's run, Ctrl-C, 304, unknown
// feeds, plan --exit-code, plurals.

// state and plan work while `feedsync run` is up, and a sync by hand waits
// for a run of the daemon that holds the state file, saying so.
func TestStateAndPlanWorkWhileTheDaemonRuns(t *testing.T) {
	t.Parallel()
	srv := newRunFeedServer(t, "shop.xml", "books.csv")
	addr := freeListenAddr(t)
	cfg, _ := daemonConfig(t, srv, addr, "5s")
	p := startRun(t, "-c", cfg)
	finished := func(feed string) int { // wherever the daemon logs
		return len(p.stderr.lines("info", "run finished", feed)) + len(p.stdout.lines("info", "run finished", feed))
	}
	p.waitFor(t, 15*time.Second, "a first run of each feed", func() bool { return finished("shop") > 0 && finished("books") > 0 })
	for _, args := range [][]string{{"state", "-c", cfg}, {"plan", "-c", cfg}, {"state", "-c", cfg, "shop", "--json"}} {
		start := time.Now()
		r := runBinary(t, nil, args...)
		if r.code != 0 {
			t.Errorf("%v beside the daemon: exit %d\nstdout:\n%s\nstderr:\n%s", args, r.code, r.stdout, r.stderr)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("%v took %v beside the daemon", args, d)
		}
	}
	// A run that hangs on its fetch holds the state file: a sync by hand
	// waits for it, and says whose run it waits for.
	shopHits, bookHits := srv.hitCount("shop.xml"), srv.hitCount("books.csv")
	srv.set("shop.xml", http.StatusOK, 3*time.Second)
	srv.set("books.csv", http.StatusOK, 3*time.Second)
	// The next runs are fetching (a loaded machine may start them late).
	p.waitFor(t, 15*time.Second, "the daemon's next fetches", func() bool {
		return srv.hitCount("shop.xml") > shopHits && srv.hitCount("books.csv") > bookHits
	})
	time.Sleep(200 * time.Millisecond)
	r := runBinary(t, nil, "sync", "-c", cfg, "shop")
	if r.code != 0 {
		t.Errorf("sync by hand beside the daemon: exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "in use by a run of the feedsync daemon (pid ") || !strings.Contains(r.stderr, "waiting for the run to finish") {
		t.Errorf("the sync by hand did not say it waits for the daemon's run:\n%s", r.stderr)
	}
	if code := p.stop(t, syscall.SIGTERM, 20*time.Second); code != 0 {
		t.Errorf("daemon exit %d after SIGTERM", code)
	}
}

// Ctrl-C during a sync exits 130, and the summary says interrupted.
func TestCtrlCExits130AndSaysInterrupted(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/rss+xml")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(`<?xml version="1.0"?><rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel>`))
		w.(http.Flusher).Flush()
		<-r.Context().Done() // the rest never comes
	}))
	defer srv.Close()
	dir := workspace(t, nil, fmt.Sprintf("  - {name: slow, url: %q}\n", srv.URL+"/feed.xml"))
	cmd := exec.Command(binary, "sync", "--json", "-c", filepath.Join(dir, "feedsync.yaml"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for hits.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	if code != 130 {
		t.Errorf("exit %d after Ctrl-C, want 130\nstderr:\n%s", code, stderr.String())
	}
	var sum struct{ Fetch, Error string }
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &sum); err != nil {
		t.Fatalf("summary %q: %v", stdout.String(), err)
	}
	if sum.Fetch != "interrupted" || !strings.HasPrefix(sum.Error, "interrupted") {
		t.Errorf("summary after Ctrl-C: fetch %q, error %q; want interrupted", sum.Fetch, sum.Error)
	}
	if !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("stderr does not say interrupted:\n%s", stderr.String())
	}
}

// A 304 says "not modified" and the products the state holds, not "0 items
// → 0 products".
func TestNotModifiedSaysWhatTheStateHolds(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile(filepath.Join("..", "..", "testdata", "feeds", "shop.xml"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Write(body)
	}))
	defer srv.Close()
	dir := workspace(t, nil, fmt.Sprintf("  - {name: shop, url: %q, policy: parent}\n", srv.URL+"/shop.xml"))
	cfg := filepath.Join(dir, "feedsync.yaml")
	first := runBinary(t, nil, "sync", "--json", "-c", cfg)
	if first.code != 0 {
		t.Fatalf("first sync: exit %d\n%s", first.code, first.stderr)
	}
	var s1 struct{ Products int }
	json.Unmarshal([]byte(first.stdout), &s1)
	r := runBinary(t, nil, "sync", "-c", cfg)
	want := fmt.Sprintf("shop: not modified since the last run (the server answered 304); the state holds %d products, 0 sent", s1.Products)
	if r.code != 0 || !strings.Contains(r.stdout, want) || strings.Contains(r.stdout, "0 items") {
		t.Errorf("304 run: exit %d\n%s\nwant %q", r.code, r.stdout, want)
	}
	r = runBinary(t, nil, "sync", "--json", "-c", cfg)
	var s2 struct {
		Fetch               string
		Products, Unchanged int
	}
	json.Unmarshal([]byte(r.stdout), &s2)
	if s2.Fetch != "not-modified" || s2.Products != s1.Products || s2.Unchanged != s1.Products {
		t.Errorf("304 summary %+v, want %d products unchanged", s2, s1.Products)
	}
}

// state and state --reset name an unknown feed with exit 2 and the known
// ones; plan --explain without a feed searches them all.
func TestUnknownFeedsAndExplainAcrossFeeds(t *testing.T) {
	t.Parallel()
	dir := workspace(t, map[string]string{"shop": "shop.xml:parent", "books": "books.csv:variant"}, "")
	cfg := filepath.Join(dir, "feedsync.yaml")
	if r := runBinary(t, nil, "sync", "-c", cfg); r.code != 0 {
		t.Fatalf("sync: exit %d\n%s", r.code, r.stderr)
	}
	for _, args := range [][]string{{"state", "-c", cfg, "nosuch"}, {"state", "-c", cfg, "--reset", "nosuch", "--yes"}} {
		r := runBinary(t, nil, args...)
		if r.code != 2 || !strings.Contains(r.stderr, `unknown feed "nosuch"`) || !strings.Contains(r.stderr, "known: books, shop") {
			t.Errorf("%v: exit %d\n%s; want 2 naming the known feeds", args, r.code, r.stderr)
		}
	}
	// BK-001 is a book: only the books feed has it.
	r := runBinary(t, nil, "plan", "-c", cfg, "--explain", "BK-001")
	if r.code != 0 || !strings.Contains(r.stdout, "books: ") || strings.Contains(r.stdout, "shop: ") || r.stderr != "" && strings.Contains(r.stderr, "no such product") {
		t.Errorf("plan --explain across feeds: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	r = runBinary(t, nil, "plan", "-c", cfg, "--explain", "NOSUCH-ID")
	if r.code != 1 || !strings.Contains(r.stderr, `no feed has a product or item_group_id "NOSUCH-ID" (searched 2 feeds)`) {
		t.Errorf("plan --explain of an unknown id: exit %d\n%s", r.code, r.stderr)
	}
}

// plan --exit-code: 1 when the run would change anything, 0 when not.
func TestPlanExitCode(t *testing.T) {
	t.Parallel()
	dir := workspace(t, map[string]string{"books": "books.csv:variant"}, "")
	cfg := filepath.Join(dir, "feedsync.yaml")
	if r := runBinary(t, nil, "plan", "--exit-code", "-c", cfg); r.code != 1 || !strings.Contains(r.stderr, "would change the catalog") {
		t.Errorf("plan --exit-code before any sync: exit %d\n%s", r.code, r.stderr)
	}
	if r := runBinary(t, nil, "plan", "-c", cfg); r.code != 0 {
		t.Errorf("plan without --exit-code: exit %d", r.code)
	}
	if r := runBinary(t, nil, "sync", "-c", cfg); r.code != 0 {
		t.Fatalf("sync: exit %d\n%s", r.code, r.stderr)
	}
	if r := runBinary(t, nil, "plan", "--exit-code", "--full-scan", "-c", cfg); r.code != 0 {
		t.Errorf("plan --exit-code after the sync: exit %d\n%s", r.code, r.stderr)
	}
}

// run logs to stderr (stdout stays empty) and knows -q; summaries say
// "1 item", not "1 items".
func TestRunLogsToStderrAndPlurals(t *testing.T) {
	t.Parallel()
	srv := newRunFeedServer(t, "shop.xml", "books.csv")
	addr := freeListenAddr(t)
	cfg, dir := daemonConfig(t, srv, addr, "5s")
	p := startRun(t, "-q", "-c", cfg)
	p.waitFor(t, 5*time.Second, "the daemon to listen", func() bool {
		resp, err := http.Get("http://" + addr + "/livez")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	time.Sleep(1500 * time.Millisecond)
	if code := p.stop(t, syscall.SIGTERM, 20*time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
	if p.stdout.String() != "" {
		t.Errorf("run wrote to stdout:\n%s", p.stdout)
	}
	if n := len(p.stderr.lines("info", "", "")); n != 0 {
		t.Errorf("run -q logged %d info lines", n)
	}
	one := filepath.Join(dir, "one.xml")
	os.WriteFile(one, []byte(`<?xml version="1.0"?><rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel><item><g:id>A</g:id><g:title>A</g:title><g:price>1.00 EUR</g:price></item></channel></rss>`), 0o644)
	os.WriteFile(cfg, []byte("state: state/one.db\ncatalog: {kind: file, path: out/one.jsonl}\nfeeds:\n  - {name: one, url: one.xml}\n"), 0o644)
	r := runBinary(t, nil, "sync", "-c", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "one: 1 item → 1 product; 1 created") {
		t.Errorf("summary of a one-item feed: exit %d\n%s", r.code, r.stdout)
	}
}

// sync sends products that lint calls errors, and says so: each is a
// warning with lint's rule code, counted in --json's warnings.
func TestSyncWarnsWithLintsRuleCodes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	feed := `<?xml version="1.0"?>
<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel><title>t</title><link>https://shop.example</link><description>d</description>
<item><g:id>A</g:id><g:title>No currency</g:title><g:link>https://shop.example/a</g:link><g:image_link>https://shop.example/a.jpg</g:image_link><g:price>15.00</g:price><g:availability>in_stock</g:availability></item>
<item><g:id>B</g:id><g:title>Empty price</g:title><g:link>https://shop.example/b</g:link><g:image_link>https://shop.example/b.jpg</g:image_link><g:price></g:price><g:availability>in_stock</g:availability></item>
<item><g:id>C</g:id><g:title>Relative image</g:title><g:link>https://shop.example/c</g:link><g:image_link>/img/c.jpg</g:image_link><g:price>9.00 EUR</g:price><g:availability>in_stock</g:availability></item>
<item><g:id>D</g:id><g:title>Fine</g:title><g:link>https://shop.example/d</g:link><g:image_link>https://shop.example/d.jpg</g:image_link><g:price>9.00 EUR</g:price><g:availability>in_stock</g:availability></item>
</channel></rss>
`
	os.WriteFile(filepath.Join(dir, "feed.xml"), []byte(feed), 0o644)
	cfg := filepath.Join(dir, "feedsync.yaml")
	os.WriteFile(cfg, []byte("state: state.db\nlog: {format: json}\ncatalog: {kind: file, path: catalog.jsonl}\nfeeds:\n  - {name: shop, url: feed.xml}\n"), 0o644)
	r := runBinary(t, nil, "sync", "--json", "-c", cfg)
	var sum struct{ Created, Warnings, Problems int }
	json.Unmarshal([]byte(r.stdout), &sum)
	if r.code != 0 || sum.Created != 4 || sum.Warnings != 3 {
		t.Fatalf("sync: exit %d, %+v; want 4 created, 3 warnings\n%s\n%s", r.code, sum, r.stdout, r.stderr)
	}
	rules := map[string]string{}
	for _, line := range strings.Split(r.stderr, "\n") {
		var l struct{ Level, Rule, Item string }
		if json.Unmarshal([]byte(line), &l) == nil && l.Rule != "" {
			if l.Level != "warn" {
				t.Errorf("warning logged at %s: %s", l.Level, line)
			}
			rules[l.Item] = l.Rule
		}
	}
	want := map[string]string{"A": "price-format", "B": "missing-price", "C": "url-format"}
	if fmt.Sprint(rules) != fmt.Sprint(want) {
		t.Errorf("logged rules %v, want %v\n%s", rules, want, r.stderr)
	}
	// lint finds the same rules on the same items.
	lr := runBinary(t, nil, "lint", "--format", "json", filepath.Join(dir, "feed.xml"))
	for id, code := range want {
		if !strings.Contains(lr.stdout, `"`+code+`"`) || !strings.Contains(lr.stdout, `"`+id+`"`) {
			t.Errorf("lint does not report %s on %s:\n%s", code, id, lr.stdout)
		}
	}
	text := runBinary(t, nil, "sync", "--full-scan", "-c", cfg)
	if !strings.Contains(text.stdout, "3 warnings (sent with a defect lint reports)") {
		t.Errorf("text summary: %s", text.stdout)
	}
}

// Shell completion offers feed names and flag values, and every command's
// help has examples.
func TestCompletionAndExamples(t *testing.T) {
	t.Parallel()
	dir := workspace(t, map[string]string{"shop": "shop.xml:parent", "books": "books.csv:variant"}, "")
	cfg := filepath.Join(dir, "feedsync.yaml")
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "sync", "-c", cfg, ""}, []string{"books", "shop"}},
		{[]string{"__complete", "plan", "-c", cfg, "shop", ""}, []string{"books"}},
		{[]string{"__complete", "state", "-c", cfg, "b"}, []string{"books"}},
		{[]string{"__complete", "transform", "--to", ""}, []string{"xml", "csv", "tsv", "jsonl"}},
		{[]string{"__complete", "transform", "--policy", ""}, []string{"parent", "variant"}},
		{[]string{"__complete", "transform", "-c", cfg, "--feed", ""}, []string{"books", "shop"}},
		{[]string{"__complete", "lint", "--format", ""}, []string{"text", "json", "sarif", "github", "junit"}},
		{[]string{"__complete", "lint", "--policy", ""}, []string{"parent", "variant"}},
	}
	for _, c := range cases {
		r := runBinary(t, nil, c.args...)
		var got []string
		for _, l := range strings.Split(r.stdout, "\n") {
			if l != "" && !strings.HasPrefix(l, ":") && !strings.HasPrefix(l, "Completion") {
				name, _, _ := strings.Cut(l, "\t")
				got = append(got, name)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%v: completions %q, want %q\n%s", c.args[1:], got, c.want, r.stderr)
		}
	}
	for _, cmd := range []string{"sync", "resync", "plan", "run", "state", "lint", "transform"} {
		if r := runBinary(t, nil, cmd, "--help"); !strings.Contains(r.stdout, "Examples:") {
			t.Errorf("%s --help has no examples:\n%s", cmd, r.stdout)
		}
	}
}

// A config with an unknown key and a bad value reports both at once.
func TestConfigReportsEveryProblemAtOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "feedsync.yaml")
	os.WriteFile(cfg, []byte("state: s.db\ncatalog: {kind: file, path: c.jsonl}\nfeeds:\n  - {name: shop, url: x.xml, polcy: parent, max_delete: lots, policy: parents}\n"), 0o644)
	r := runBinary(t, nil, "sync", "-c", cfg)
	for _, want := range []string{"feeds[0].polcy: unknown key", `feeds[0].max_delete: "lots"`, `feeds[0].policy: "parents"`} {
		if r.code != 2 || !strings.Contains(r.stderr, want) {
			t.Errorf("exit %d, stderr lacks %q:\n%s", r.code, want, r.stderr)
		}
	}
}

// Debug phase lines carry their durations with a unit.
func TestPhaseDurationsHaveUnits(t *testing.T) {
	t.Parallel()
	dir := workspace(t, map[string]string{"books": "books.csv:variant"}, "")
	cfg := filepath.Join(dir, "feedsync.yaml")
	raw, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, bytes.Replace(raw, []byte("log: {level: info"), []byte("log: {level: debug"), 1), 0o644)
	r := runBinary(t, nil, "sync", "-c", cfg)
	n := 0
	for _, line := range strings.Split(r.stderr, "\n") {
		var l map[string]any
		if json.Unmarshal([]byte(line), &l) != nil || l["took"] == nil {
			continue
		}
		n++
		s, ok := l["took"].(string)
		if _, err := time.ParseDuration(s); !ok || err != nil {
			t.Errorf("took %v has no unit: %s", l["took"], line)
		}
	}
	if r.code != 0 || n < 2 {
		t.Errorf("exit %d, %d phase lines with took:\n%s", r.code, n, r.stderr)
	}
}
