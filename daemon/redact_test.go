package daemon

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/feedsync/feedsync/config"
	"github.com/feedsync/feedsync/engine"

	"github.com/rs/zerolog"

	"github.com/feedsync/feedsync/internal/redact"
	"github.com/feedsync/feedsync/push"
	"github.com/feedsync/feedsync/store"
)

// /status and /healthz pass every error through Options.Redact, also
// those that did not come from the syncer (a publish failure, a panic).
func TestDaemonStatusAndHealthAreRedacted(t *testing.T) {
	const secret = "heartbeat-or-token-0123456789"
	dir := t.TempDir()
	cfg, err := config.Parse([]byte(fmt.Sprintf("state: %s\nmetrics: {listen: \"\"}\ncatalog: {kind: file, path: %s}\nfeeds:\n  - {name: shop, url: %s}\n",
		filepath.Join(dir, "state.db"), filepath.Join(dir, "catalog.jsonl"), filepath.Join(dir, "shop.xml"))))
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(cfg.State, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d, err := New(cfg, Options{DB: db, Sink: push.NewFileSink(cfg.Catalog.Path), Log: zerolog.Nop(), Redact: redact.New(secret).String})
	if err != nil {
		t.Fatal(err)
	}
	defer d.cancelRuns()
	d.mu.Lock()
	fs := d.feeds["shop"]
	fs.failures, fs.failSince, fs.lastEnded = 2, time.Now(), time.Now()
	fs.lastErr = "publish shop: write /x?key=" + secret
	fs.last = &engine.Summary{Feed: "shop", Error: fs.lastErr}
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
