package feedsync

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/feedsync/feedsync/internal/redact"
	"github.com/feedsync/feedsync/push"
	"github.com/feedsync/feedsync/store"
)

func TestConfigSecrets(t *testing.T) {
	t.Setenv("FS_TEST_TOKEN", "catalog-token-0123456789")
	t.Setenv("FS_TEST_FEED_TOKEN", "feed-bearer-abcdef")
	t.Setenv("FS_TEST_SHORT", "abc")
	raw := `
catalog: {kind: usercom, url: "https://capi:capi-pass-77@app.user.com", token_env: FS_TEST_TOKEN}
feeds:
  - name: shop
    url: "https://feeduser:p%40ssw0rd!@shop.example/feed.xml?key=query-key-123&lang=en&sig=a%2Fb%2Bc%3Dd"
    headers: {Authorization: "Bearer ${FS_TEST_FEED_TOKEN}", X-Short: "${FS_TEST_SHORT}", X-Basic: "Basic dXNlcm5hbWU6YmFzaWMtcGFzcw==", Accept: "text/html, application/xml"}
    heartbeat: "https://hc-ping.example/ping?token=heartbeat-secret"
  - name: local
    url: feeds/local.xml
`
	cfg, err := ParseConfig([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.Secrets()
	for _, want := range []string{
		"catalog-token-0123456789", "Token catalog-token-0123456789",
		base64.StdEncoding.EncodeToString([]byte("catalog-token-0123456789")),
		"capi-pass-77", "capi:capi-pass-77",
		"feeduser", "p@ssw0rd!", "feeduser:p%40ssw0rd!", "feeduser:p@ssw0rd!",
		base64.StdEncoding.EncodeToString([]byte("feeduser:p@ssw0rd!")),
		"query-key-123", "a%2Fb%2Bc%3Dd", "a/b+c=d",
		"Bearer feed-bearer-abcdef", "feed-bearer-abcdef",
		"Basic dXNlcm5hbWU6YmFzaWMtcGFzcw==", "dXNlcm5hbWU6YmFzaWMtcGFzcw==", "username:basic-pass", "basic-pass", "username",
		"heartbeat-secret",
		"text/html, application/xml", // every header value is a secret…
	} {
		if !slices.Contains(got, want) {
			t.Errorf("Secrets() lacks %q", want)
		}
	}
	// …but only an auth scheme's credential is one on its own.
	if slices.Contains(got, "application/xml") {
		t.Error(`Secrets() takes "application/xml" of an Accept header for a credential`)
	}
	for _, short := range []string{"abc", "en", "capi", ""} {
		if slices.Contains(got, short) {
			t.Errorf("Secrets() holds %q, shorter than %d bytes", short, redact.MinLen)
		}
	}
	if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Errorf("Secrets() is not sorted and unique: %q", got)
	}
	for _, s := range got {
		if strings.Contains(s, "local.xml") || strings.Contains(s, "shop.example") {
			t.Errorf("Secrets() holds a path or host: %q", s)
		}
	}
}

// rejectingSink rejects every product with a message that echoes a secret,
// then stops the run with an error that names it too.
type rejectingSink struct {
	*memorySink
	secret string
}

var errAuthEcho = errors.New("auth echo")

func (r *rejectingSink) Apply(ctx context.Context, ops <-chan push.Op, ack func(push.Result)) error {
	n := 0
	for op := range ops {
		if n++; n > 3 {
			return fmt.Errorf("catalog answered 500 (you sent Authorization: Token %s): %w", r.secret, errAuthEcho)
		}
		ack(push.Result{Op: op, Err: &push.RejectedError{Status: 400, Msg: `{"detail":"bad; header Token ` + r.secret + `"}`}})
	}
	return nil
}

// What a sync stores — each product's last error, the feed's last error,
// the run history — and what it returns passes through Syncer.Redact.
func TestSyncerRedactScrubsWhatIsStoredAndReturned(t *testing.T) {
	const secret = "s3cr3t&<token>-0123456789"
	h := newHarness(t)
	h.write(rss(catalogOf(10)...))
	red := redact.New(secret)
	s := &Syncer{DB: h.db, Sink: &rejectingSink{memorySink: h.sink, secret: secret}, Redact: red.String}
	sum, err := s.Sync(context.Background(), &h.fc, Options{Mode: ModeSync, Log: zerolog.Nop()})
	if err == nil {
		t.Fatal("the run succeeded")
	}
	if !errors.Is(err, errAuthEcho) {
		t.Errorf("errors.Is no longer sees through the returned error: %v", err)
	}
	leaks := func(what, s string) {
		t.Helper()
		for _, f := range append(redact.Forms(secret), "0123456789") {
			if strings.Contains(s, f) {
				t.Errorf("%s holds the secret (%q): %s", what, f, s)
			}
		}
	}
	leaks("the returned error", err.Error())
	leaks("Summary.Error", sum.Error)
	if !strings.Contains(sum.Error, redact.Mask) {
		t.Errorf("Summary.Error does not show the mask: %s", sum.Error)
	}
	failing := 0
	if err := h.db.Each(h.fc.Name, func(e store.Entry) error {
		if e.LastError != "" {
			failing++
			leaks("product "+e.ID+"'s last error", e.LastError)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if failing != 3 {
		t.Errorf("%d products with an error, want 3", failing)
	}
	meta, err := h.db.Meta(h.fc.Name)
	if err != nil {
		t.Fatal(err)
	}
	if meta.LastError == "" {
		t.Error("no last error recorded for the feed")
	}
	leaks("the feed's last error", meta.LastError)
	runs, err := h.db.Runs(h.fc.Name, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 {
		t.Fatalf("%d runs recorded, want 1", len(runs))
	}
	leaks("the run history", string(runs[0]))

	// Without Redact nothing changes: the same run stores the secret.
	h2 := newHarness(t)
	h2.write(rss(catalogOf(10)...))
	s2 := &Syncer{DB: h2.db, Sink: &rejectingSink{memorySink: h2.sink, secret: secret}}
	sum2, _ := s2.Sync(context.Background(), &h2.fc, Options{Mode: ModeSync, Log: zerolog.Nop()})
	if !strings.Contains(sum2.Error, secret) {
		t.Errorf("without Redact the error changed: %s", sum2.Error)
	}
}

// /status and /healthz pass every error through DaemonOptions.Redact, also
// those that did not come from the syncer (a publish failure, a panic).
func TestDaemonStatusAndHealthAreRedacted(t *testing.T) {
	const secret = "heartbeat-or-token-0123456789"
	dir := t.TempDir()
	cfg, err := ParseConfig([]byte(fmt.Sprintf("state: %s\nmetrics: {listen: \"\"}\ncatalog: {kind: file, path: %s}\nfeeds:\n  - {name: shop, url: %s}\n",
		filepath.Join(dir, "state.db"), filepath.Join(dir, "catalog.jsonl"), filepath.Join(dir, "shop.xml"))))
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(cfg.State, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d, err := NewDaemon(cfg, DaemonOptions{DB: db, Sink: push.NewFileSink(cfg.Catalog.Path), Log: zerolog.Nop(), Redact: redact.New(secret).String})
	if err != nil {
		t.Fatal(err)
	}
	defer d.cancelRuns()
	d.mu.Lock()
	fs := d.feeds["shop"]
	fs.failures, fs.failSince, fs.lastEnded = 2, time.Now(), time.Now()
	fs.lastErr = "publish shop: write /x?key=" + secret
	fs.last = &Summary{Feed: "shop", Error: fs.lastErr}
	d.mu.Unlock()
	h := d.Handler()
	for _, path := range []string{"/status", "/healthz"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		body := rec.Body.String()
		if strings.Contains(body, "0123456789") {
			t.Errorf("%s shows the secret:\n%s", path, body)
		}
		if !strings.Contains(body, redact.Mask) {
			t.Errorf("%s shows no mask:\n%s", path, body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Errorf("%s is not JSON:\n%s", path, body)
		}
		if path == "/healthz" && rec.Code != http.StatusServiceUnavailable {
			t.Errorf("/healthz: %d, want 503", rec.Code)
		}
	}
	// The daemon's own record is left as it was: only what is shown changes.
	if d.Status().Feeds[0].LastRun.Error == fs.last.Error {
		t.Error("Status() shows the unscrubbed last run")
	}
}
