package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/feedsync/feedsync/internal/redact"
	"github.com/feedsync/feedsync/push/pushtest"
	"github.com/feedsync/feedsync/store"
)

// The secrets of the end-to-end configuration. The token and the header
// hold characters that JSON escapes (& < >), so that an escaped echo of
// them is a different string than the secret.
const (
	e2eToken     = "tok&en<e2e>9f8e7d6c5b4a39281706f5e4d3c2b1a0"
	e2eHeader    = "hdr-secret-<&>-5550123" // ${FS_E2E_FEED_HEADER}, sent as X-Api-Key
	e2eFeedUser  = "feeduser-e2e"
	e2eFeedPass  = "feed-pass-4242"
	e2eFeedKey   = "feed-query-key-777"
	e2eHBUser    = "hbuser-e2e"
	e2eHBPass    = "hb-pass-9999"
	e2eHBToken   = "hb-query-token-31337"
	e2eSecretEnv = "FS_E2E_FEED_HEADER"
)

func e2eSecrets() map[string]string {
	return map[string]string{
		"catalog token":          e2eToken,
		"feed header":            e2eHeader,
		"feed URL user":          e2eFeedUser,
		"feed URL password":      e2eFeedPass,
		"feed URL query key":     e2eFeedKey,
		"feed basic auth":        base64.StdEncoding.EncodeToString([]byte(e2eFeedUser + ":" + e2eFeedPass)),
		"heartbeat URL user":     e2eHBUser,
		"heartbeat URL password": e2eHBPass,
		"heartbeat URL token":    e2eHBToken,
		"heartbeat basic auth":   base64.StdEncoding.EncodeToString([]byte(e2eHBUser + ":" + e2eHBPass)),
	}
}

// findLeaks reports every secret found in out, in any form feedsync could
// write it (as is, JSON-escaped once or twice, Go-quoted, URL-escaped), or a
// 12-byte piece of one (a secret cut short by a message limit).
func findLeaks(out map[string][]byte) []string {
	var leaks []string
	secrets := e2eSecrets()
	names := make([]string, 0, len(out))
	for n := range out {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, where := range names {
		data := out[where]
		for what, secret := range secrets {
			for _, form := range redact.Forms(secret) {
				needles := []string{form}
				for i := 0; i+12 <= len(form); i++ {
					needles = append(needles, form[i:i+12])
				}
				for _, n := range needles {
					if i := bytes.Index(data, []byte(n)); i >= 0 {
						ctx := data[max(i-80, 0):min(i+len(n)+40, len(data))]
						leaks = append(leaks, fmt.Sprintf("%s holds the %s (%q): …%s…", where, what, n, ctx))
						break
					}
				}
			}
		}
	}
	return leaks
}

// echoCatalog is a User.com (pushtest) behind a proxy that echoes the
// request's Authorization header in its error bodies, as some proxies do:
// while refusing is set, HOODIE-1 is refused with {"detail": …} and MUG-01
// with field errors; BK-002 meets a 500 HTML page on every attempt (the
// books run fails), and the first create of BK-001 a 503 (retried).
func echoCatalog(t *testing.T) (fake *pushtest.Server, proxy *httptest.Server, refusing *atomic.Bool) {
	t.Helper()
	fake = pushtest.NewServer(pushtest.Options{Token: e2eToken})
	t.Cleanup(fake.Close)
	refusing = &atomic.Bool{}
	refusing.Store(true)
	var bk1 atomic.Int32
	proxy = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		id := ""
		switch {
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/products/"):
			var p struct {
				CustomID string `json:"custom_id"`
			}
			_ = json.Unmarshal(body, &p)
			id = p.CustomID
		case r.Method == http.MethodPut:
			id = strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/public/products-by-id/"), "/")
		}
		if !refusing.Load() && (id == "HOODIE-1" || id == "MUG-01") {
			id = ""
		}
		switch id {
		case "HOODIE-1":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"detail": "Invalid product. Request headers: Authorization: " + auth})
			return
		case "MUG-01":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string][]string{"name": {"too long"}, "request": {"Authorization: " + auth, "User-Agent: " + r.UserAgent()}})
			return
		case "BK-002":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "<html><body><h1>500 Internal Server Error</h1><pre>upstream failed for request with Authorization: "+auth+"</pre></body></html>")
			return
		case "BK-001":
			if bk1.Add(1) == 1 {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusServiceUnavailable)
				json.NewEncoder(w).Encode(map[string]string{"detail": "try later; your Authorization: " + auth})
				return
			}
		}
		fake.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	return fake, proxy, refusing
}

// secretFeedServer serves testdata feeds only to a request with the feed
// URL's user info and query key and the configured header.
func secretFeedServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var served atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		if user != e2eFeedUser || pass != e2eFeedPass || r.URL.Query().Get("key") != e2eFeedKey || r.Header.Get("X-Api-Key") != e2eHeader {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "feeds", strings.TrimPrefix(r.URL.Path, "/")))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		served.Add(1)
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	return srv, &served
}

// TestSecretsNeverLeaveFeedsync: a catalog whose error bodies echo the
// Authorization header, a feed URL with user info and a query key, a feed
// header from ${ENV}, a heartbeat URL with both. Every byte feedsync writes
// — sync's stdout and stderr (console and JSON logs, text and --json
// summaries), `state` and `state --json`, the daemon's logs and every HTTP
// endpoint, the published feed, and the state file itself — holds none of
// the secrets.
func TestSecretsNeverLeaveFeedsync(t *testing.T) {
	t.Parallel()
	fake, catalog, refusing := echoCatalog(t)
	feeds, served := secretFeedServer(t)
	var beats atomic.Int32
	heartbeat := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user, pass, _ := r.BasicAuth(); user == e2eHBUser && pass == e2eHBPass && r.URL.Query().Get("token") == e2eHBToken {
			beats.Add(1)
		}
		io.WriteString(w, "OK")
	}))
	defer heartbeat.Close()

	dir := t.TempDir()
	feedURL := func(file string) string {
		return fmt.Sprintf("http://%s:%s@%s/%s?key=%s", e2eFeedUser, e2eFeedPass, strings.TrimPrefix(feeds.URL, "http://"), file, e2eFeedKey)
	}
	hbURL := fmt.Sprintf("http://%s:%s@%s/ping?token=%s", e2eHBUser, e2eHBPass, strings.TrimPrefix(heartbeat.URL, "http://"), e2eHBToken)
	addr := freeListenAddr(t)
	config := func(format string) string {
		path := filepath.Join(dir, "feedsync-"+format+".yaml")
		writeFile(t, path, []byte(fmt.Sprintf(`state: state/feedsync.db
log: {level: debug, format: %[1]s}
metrics: {listen: "%[2]s"}
run: {concurrency: 1, grace: 5s}
catalog: {kind: usercom, url: "%[3]s", token_env: FS_E2E_TOKEN, mode: rest, rate: 200, concurrency: 1, retries: 1}
feeds:
  - name: shop
    url: "%[4]s"
    policy: parent
    schedule: "@hourly"
    headers: {X-Api-Key: "${%[7]s}"}
    heartbeat: "%[6]s"
    publish: true
  - name: books
    url: "%[5]s"
    policy: variant
    schedule: "@hourly"
    headers: {X-Api-Key: "${%[7]s}"}
`, format, addr, catalog.URL, feedURL("shop.xml"), feedURL("books.csv"), hbURL, e2eSecretEnv)))
		return path
	}
	consoleCfg, jsonCfg := config("console"), config("json")
	env := []string{"FS_E2E_TOKEN=" + e2eToken, e2eSecretEnv + "=" + e2eHeader}
	out := map[string][]byte{}
	keep := func(name string, r result) result {
		out[name+" stdout"], out[name+" stderr"] = []byte(r.stdout), []byte(r.stderr)
		return r
	}

	// Two syncs: console logs and text summaries, then JSON logs and --json.
	r := keep("sync (console)", runBinary(t, env, "sync", "-c", consoleCfg))
	if r.code != exitFailed {
		t.Fatalf("sync: exit %d, want 1 (books fails on BK-002's 500)\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, redact.Mask) || !strings.Contains(r.stdout, "books: FAILED") {
		t.Errorf("the sync's output does not show a scrubbed failure:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	r = keep("sync --json", runBinary(t, env, "sync", "-c", jsonCfg, "--json"))
	if r.code != exitFailed {
		t.Fatalf("sync --json: exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if served.Load() == 0 || len(fake.Catalog()) < 2 {
		t.Fatalf("nothing reached the catalog (feed requests served: %d, catalog: %v): the test proves nothing", served.Load(), fake.Catalog())
	}
	if _, ok := fake.Catalog()["BK-001"]; !ok {
		t.Errorf("BK-001 (a 503, then fine) is not in the catalog: %v", fake.Catalog())
	}

	// The state, as text and JSON.
	r = keep("state", runBinary(t, env, "state", "-c", consoleCfg))
	if r.code != 0 || !strings.Contains(r.stdout, "failing HOODIE-1") || !strings.Contains(r.stdout, "failing MUG-01") {
		t.Errorf("state: exit %d, want 0 listing the failing products\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = keep("state --json", runBinary(t, env, "state", "-c", jsonCfg, "--json"))
	if r.code != 0 || strings.Count(r.stdout, redact.Mask) < 3 {
		t.Errorf("state --json: exit %d, want 0 and the failing products' scrubbed errors\n%s\n%s", r.code, r.stdout, r.stderr)
	}

	// The daemon: one run of each feed, then every endpoint. The shop's
	// products are accepted now, so that its run succeeds: it is published
	// and its heartbeat sent. Books still fails.
	refusing.Store(false)
	p := startRunEnv(t, env, "-c", jsonCfg, "--now")
	base := "http://" + addr
	p.waitFor(t, 20*time.Second, "books failing, shop published and its heartbeat sent", func() bool {
		code, _ := httpGetQuiet(base + "/healthz")
		pub, _ := httpGetQuiet(base + "/feeds/shop.xml")
		return code == http.StatusServiceUnavailable && pub == http.StatusOK && beats.Load() > 0
	})
	for _, path := range []string{"/status", "/healthz", "/metrics", "/livez", "/", "/feeds/shop.xml"} {
		code, body := httpGet(t, base+path)
		out["GET "+path] = []byte(body)
		if path == "/healthz" && (code != http.StatusServiceUnavailable || !strings.Contains(body, "books") || !strings.Contains(body, redact.Mask)) {
			t.Errorf("/healthz: %d, want 503 naming books with a scrubbed error:\n%s", code, body)
		}
		if path == "/status" && !strings.Contains(body, redact.Mask) {
			t.Errorf("/status shows no scrubbed error:\n%s", body)
		}
	}
	if code := p.stop(t, syscall.SIGTERM, 15*time.Second); code != 0 {
		t.Errorf("feedsync run: exit %d after SIGTERM, want 0", code)
	}
	out["run stdout"], out["run stderr"] = []byte(p.stdout.String()), []byte(p.stderr.String())
	if !strings.Contains(p.stderr.String(), redact.Mask) {
		t.Errorf("the daemon's log shows no scrubbed error:\n%s", p.stderr)
	}

	// The state once more, after the daemon, and every file feedsync wrote.
	keep("state after run", runBinary(t, env, "state", "-c", consoleCfg))
	keep("state --json after run", runBinary(t, env, "state", "-c", jsonCfg, "--json"))
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(filepath.Base(path), "feedsync-") {
			return err // the two configs are ours, not feedsync's
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out["file "+rel] = data
		files++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := out["file state/feedsync.db"]; !ok || files < 2 {
		t.Fatalf("the state file or the published feed is missing: %d files", files)
	}

	for _, leak := range findLeaks(out) {
		t.Error(leak)
	}
}

// httpGetQuiet is httpGet for polling: an error is a status of 0.
func httpGetQuiet(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestLintNeverShowsURLCredentials: a feed URL's user info and query are
// left out of every finding, in all five formats, for a feed read to its
// end and for one that could not be read.
func TestLintNeverShowsURLCredentials(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		if user != e2eFeedUser || pass != e2eFeedPass || r.URL.Query().Get("key") != e2eFeedKey {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/feed.xml" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		// A price without its currency: an error finding on the item.
		io.WriteString(w, strings.Replace(lintCleanFeed, "15.00 USD", "15.00", 1))
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	withSecrets := func(path string) string {
		return fmt.Sprintf("http://%s:%s@%s%s?key=%s", e2eFeedUser, e2eFeedPass, host, path, e2eFeedKey)
	}
	_, env := lintFiles(t, nil)
	for _, format := range []string{"text", "json", "sarif", "github", "junit"} {
		r := runBinary(t, env, "lint", "--format", format, withSecrets("/feed.xml"), withSecrets("/gone.xml"))
		if r.code != exitUsage {
			t.Errorf("%s: exit %d, want 2 (gone.xml is unreadable)\n%s\n%s", format, r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stdout, "price") || !strings.Contains(r.stdout, "404") {
			t.Errorf("%s: the findings are missing (price-format on feed.xml, 404 on gone.xml):\n%s", format, r.stdout)
		}
		// (github escapes the file property's colons: http%3A//127.0.0.1%3A…)
		port := host[strings.LastIndex(host, ":")+1:]
		if !strings.Contains(r.stdout, port+"/feed.xml") || !strings.Contains(r.stdout, port+"/gone.xml") {
			t.Errorf("%s: the findings do not name the feeds by host and path:\n%s", format, r.stdout)
		}
		for _, leak := range findLeaks(map[string][]byte{format + " stdout": []byte(r.stdout), format + " stderr": []byte(r.stderr)}) {
			t.Error(leak)
		}
	}
}

// TestStateScrubsWhatAnOlderVersionStored: a state file written before
// errors were scrubbed may hold the token (a product's last error, the
// feed's, the run history); `feedsync state` never prints it.
func TestStateScrubsWhatAnOlderVersionStored(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "feedsync.yaml")
	writeFile(t, cfg, []byte(fmt.Sprintf(`state: state/feedsync.db
catalog: {kind: usercom, url: "http://127.0.0.1:9", token_env: FS_E2E_TOKEN}
feeds:
  - {name: shop, url: "%s", headers: {X-Api-Key: "${%s}"}}
`, "http://"+e2eFeedUser+":"+e2eFeedPass+"@127.0.0.1:9/shop.xml?key="+e2eFeedKey, e2eSecretEnv)))
	echo := "Authorization: Token " + e2eToken + "; X-Api-Key: " + e2eHeader + "; GET /shop.xml?key=" + e2eFeedKey
	if err := os.MkdirAll(filepath.Join(dir, "state"), 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(dir, "state", "feedsync.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if err := db.CommitBatch("shop", []store.Ack{{ID: "HOODIE-1", At: now, Err: "rejected by the catalog (400): " + echo}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.SetMeta("shop", store.Meta{LastError: "catalog failed: " + echo, LastErrorAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := db.AddRun("shop", map[string]any{"feed": "shop", "mode": "sync", "started": now.Format(time.RFC3339), "error": "500: " + echo}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	env := []string{"FS_E2E_TOKEN=" + e2eToken, e2eSecretEnv + "=" + e2eHeader}
	out := map[string][]byte{}
	for _, args := range [][]string{{"state", "-c", cfg}, {"state", "-c", cfg, "--json"}, {"state", "-c", cfg, "shop"}} {
		r := runBinary(t, env, args...)
		name := strings.Join(append([]string{"state"}, args[3:]...), " ")
		if r.code != 0 {
			t.Errorf("%s: exit %d\n%s\n%s", name, r.code, r.stdout, r.stderr)
		}
		if strings.Count(r.stdout, redact.Mask) < 3 || !strings.Contains(r.stdout, "HOODIE-1") {
			t.Errorf("%s: the stored errors are not shown scrubbed:\n%s", name, r.stdout)
		}
		out[name+" stdout"], out[name+" stderr"] = []byte(r.stdout), []byte(r.stderr)
	}
	for _, leak := range findLeaks(out) {
		t.Error(leak)
	}
}
