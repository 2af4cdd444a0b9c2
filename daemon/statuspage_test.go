package daemon

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/feedsync/feedsync/config"
	"github.com/feedsync/feedsync/internal/redact"
	"github.com/feedsync/feedsync/publish"
	"github.com/feedsync/feedsync/push"
	"github.com/feedsync/feedsync/store"
)

// rejectingSink is another sink whose catalog refuses one product for good,
// with a message of its own.
type rejectingSink struct {
	push.Sink
	id, msg string
}

func (s rejectingSink) Apply(ctx context.Context, ops <-chan push.Op, ack func(push.Result)) error {
	var mu sync.Mutex // ack is never called concurrently
	acked := func(r push.Result) {
		mu.Lock()
		defer mu.Unlock()
		ack(r)
	}
	in := make(chan push.Op)
	done := make(chan error, 1)
	go func() { done <- s.Sink.Apply(ctx, in, acked) }()
	for op := range ops {
		if op.ID == s.id {
			acked(push.Result{Op: op, Err: &push.RejectedError{Status: http.StatusBadRequest, Msg: s.msg}})
			continue
		}
		select {
		case in <- op:
		case err := <-done:
			return err
		}
	}
	close(in)
	return <-done
}

// statusPageDaemon runs a daemon with the given options over feeds, with a
// temp state file, JSONL sink and publish folder, no listener; it returns
// the running daemon.
func statusPageDaemon(t *testing.T, feeds string, opts Options, wrap func(push.Sink) push.Sink) *Daemon {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Parse([]byte(fmt.Sprintf("state: %s\nmetrics: {listen: \"\"}\ncatalog: {kind: file, path: %s}\nfeeds:\n%s",
		filepath.Join(dir, "state.db"), filepath.Join(dir, "catalog.jsonl"), feeds)))
	if err != nil {
		t.Fatal(err)
	}
	if opts.DB == nil {
		if opts.DB, err = store.Open(cfg.State, store.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	db := opts.DB
	opts.Sink = push.NewFileSink(cfg.Catalog.Path)
	if wrap != nil {
		opts.Sink = wrap(opts.Sink)
	}
	if opts.Publisher, err = publish.NewPublisher(filepath.Join(dir, "published")); err != nil {
		t.Fatal(err)
	}
	opts.Log = zerolog.Nop()
	d, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("the daemon did not stop within 10 s")
		}
		opts.Publisher.Close()
		db.Close()
	})
	return d
}

// getPage requests path of the daemon's handler as a browser does.
func getPage(t *testing.T, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	h.ServeHTTP(rec, req)
	return rec
}

// The status page after real runs: a feed that publishes; a feed whose
// catalog refused a product, with markup and a secret in the refusal; and a
// feed whose run failed with markup in its error. Everything from the
// feeds, the catalog and the state is escaped, and every error scrubbed.
func TestStatusPageAfterRealRuns(t *testing.T) {
	t.Parallel()
	const secret = "catalog-secret-5f4e3d2c1b0a"
	books, shop := newFeedServer(t, "books.csv"), newFeedServer(t, "shop.xml")
	// A local feed file that does not exist, named with markup: the run
	// fails with the path in its error.
	missing := filepath.Join(t.TempDir(), `<script>alert("feed")</script>`, "gone.xml")
	feeds := fmt.Sprintf(`  - {name: books, url: %q, policy: variant, schedule: "@every 1h", publish: true}
  - {name: shop, url: %q, policy: parent, schedule: "@every 1h"}
  - {name: gone, url: %q, schedule: "0 3 * * *"}
`, books.URL, shop.URL, missing)
	d := statusPageDaemon(t, feeds, Options{RunNow: true, Redact: redact.New(secret).String}, func(s push.Sink) push.Sink {
		return rejectingSink{Sink: s, id: "MUG-01", msg: `price: <script>alert("catalog")</script> is not a price & key=` + secret}
	})
	eventually(t, 20*time.Second, "a run of each feed", func() bool {
		for _, f := range d.Status().Feeds {
			if f.LastRun == nil {
				return false
			}
		}
		return true
	})
	if st := d.Status(); st.Feeds[0].FailedRuns != 0 || st.Feeds[1].FailedRuns != 1 || st.Feeds[2].FailedRuns != 1 {
		t.Fatalf("books should have succeeded, shop and gone failed: %+v", st.Feeds)
	}

	h := d.Handler()
	rec := getPage(t, h, "/")
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("/: %d\n%s", rec.Code, body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q, want text/html; charset=utf-8", ct)
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("Content-Security-Policy %q, want default-src 'none' and no script", csp)
	}

	// Nothing from a feed or a catalog became markup: the page has no
	// script at all, and the two alerts are shown as text.
	if strings.Contains(strings.ToLower(body), "<script") {
		t.Errorf("the page holds a <script> element:\n%s", body)
	}
	for _, want := range []string{
		`&lt;script&gt;alert(&#34;feed&#34;)&lt;/script&gt;`,    // the feed's error
		`&lt;script&gt;alert(&#34;catalog&#34;)&lt;/script&gt;`, // the rejected product's
		`is not a price &amp; key=` + redact.Mask,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page does not show %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, secret) {
		t.Errorf("the page shows the secret:\n%s", body)
	}

	// What the page is for: each feed's last run, next run, last error,
	// rejected products, and links.
	for _, want := range []string{
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		`<a href="metrics">`, `<a href="status">`,
		"<title>feedsync: 2 failing</title>",
		// books: 3 products created, published.
		`<a href="#feed-books">books</a> <span class="badge">ok</span>`,
		`<td data-label="Created" class="n">3</td>`,
		`<td data-label="Fetch">changed</td>`,
		`<a href="feeds/books.xml">`,
		// shop: 2 created, MUG-01 rejected.
		`<a href="#feed-shop">shop</a> <span class="badge">failing (1 run)</span>`,
		`<td data-label="Created" class="n">2</td>`,
		`<td data-label="Failed" class="n">1</td>`,
		`Rejected products (1)`,
		`<td data-label="Product"><code>MUG-01</code></td><td data-label="State">failed</td>`,
		`1 product was rejected by the catalog`,
		// gone: its fetch failed.
		`<a href="#feed-gone">gone</a> <span class="badge">failing (1 run)</span>`,
		`<td data-label="Fetch">failed</td>`,
		`not published (publish: false)`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page has no %s:\n%s", want, body)
		}
	}
	if n := strings.Count(body, "UTC (in "); n != 6 {
		t.Errorf("%d next runs in the future on the page, want 6 (3 feeds, table and section):\n%s", n, body)
	}
	if strings.Contains(body, `href="feeds/shop.xml"`) || strings.Contains(body, `href="feeds/gone.xml"`) {
		t.Error("the page links to a feed that is not published")
	}
	if rec := getPage(t, h, "/feeds/books.xml"); rec.Code != http.StatusOK {
		t.Errorf("the linked /feeds/books.xml: %d, want 200", rec.Code)
	}

	// A client that asks for nothing in particular gets the page too; other
	// paths are still not found.
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "MUG-01") {
		t.Errorf("/ without Accept: %d", rec.Code)
	}
	if rec := getPage(t, h, "/nothing"); rec.Code != http.StatusNotFound {
		t.Errorf("/nothing: %d, want 404", rec.Code)
	}
}

// Before a feed's first run since the start, the page shows the run the
// state recorded; it lists at most maxRejectedShown rejected products, and
// scrubs what an older feedsync may have stored.
func TestStatusPageShowsTheStateBeforeTheFirstRun(t *testing.T) {
	t.Parallel()
	const secret = "stored-secret-0a1b2c3d4e5f"
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "state.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	var acks []store.Ack
	for i := range maxRejectedShown + 7 {
		acks = append(acks, store.Ack{ID: fmt.Sprintf("P-%03d", i), At: now, Err: fmt.Sprintf("rejected <b>%d</b> token %s", i, secret)})
	}
	if err := db.CommitBatch("shop", acks, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.AddRun("shop", map[string]any{"feed": "shop", "mode": "sync", "started": now.Add(-time.Hour).Format(time.RFC3339),
		"created": 4, "failed": maxRejectedShown + 7, "fetch": "changed", "duration_ms": 1500, "error": "catalog <i>down</i> " + secret}); err != nil {
		t.Fatal(err)
	}
	d := statusPageDaemon(t, "  - {name: shop, url: http://127.0.0.1:9/shop.xml, schedule: \"0 3 * * *\"}\n  - {name: books, url: http://127.0.0.1:9/books.csv, schedule: \"0 4 * * *\"}\n",
		Options{DB: db, Redact: redact.New(secret).String}, nil)

	body := getPage(t, d.Handler(), "/").Body.String()
	for _, want := range []string{
		"started " + now.Add(-time.Hour).Format("2006-01-02 15:04:05 UTC") + " (1 h 0 min ago), before this start",
		`<td data-label="Created" class="n">4</td>`,
		`<td data-label="Duration" class="n">1.5s</td>`,
		`catalog &lt;i&gt;down&lt;/i&gt; ` + redact.Mask,
		fmt.Sprintf("Rejected products (%d)", maxRejectedShown+7),
		"P-000", fmt.Sprintf("P-%03d", maxRejectedShown-1),
		"… and 7 more: <code>feedsync state shop</code>",
		`rejected &lt;b&gt;0&lt;/b&gt; token ` + redact.Mask,
		// books has neither a run nor a rejected product.
		`<a href="#feed-books">books</a> <span class="badge">not run yet</span>`,
		`<td data-label="Last run" colspan="8">none yet</td>`,
		"<title>feedsync: ok</title>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page has no %s:\n%s", want, body)
		}
	}
	for _, bad := range []string{secret, fmt.Sprintf("P-%03d", maxRejectedShown), "<b>", "<i>"} {
		if strings.Contains(body, bad) {
			t.Errorf("the page shows %s:\n%s", bad, body)
		}
	}
}

func TestRelative(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                             "now",
		-30 * time.Second:             "30 s ago",
		5*time.Minute + time.Second:   "in 5 min",
		-(26*time.Hour + time.Minute): "26 h 1 min ago",
		72 * time.Hour:                "in 3 days",
	} {
		if got := relative(d); got != want {
			t.Errorf("relative(%v) = %q, want %q", d, got, want)
		}
	}
}
