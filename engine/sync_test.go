package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedsync/feedsync/config"

	"github.com/rs/zerolog"

	"github.com/feedsync/feedsync/feed"
	"github.com/feedsync/feedsync/push"
	"github.com/feedsync/feedsync/store"
)

// memorySink is a catalog in memory: it applies every op and can reject ids.
type memorySink struct {
	mu      sync.Mutex
	catalog map[string]map[string]any
	ops     []push.Op
	reject  map[string]bool
}

func newMemorySink() *memorySink {
	return &memorySink{catalog: map[string]map[string]any{}, reject: map[string]bool{}}
}

func (m *memorySink) Target() string { return "memory" }
func (m *memorySink) Close() error   { return nil }

func (m *memorySink) Apply(ctx context.Context, ops <-chan push.Op, ack func(push.Result)) error {
	for op := range ops {
		m.mu.Lock()
		m.ops = append(m.ops, op)
		if m.reject[op.ID] {
			m.mu.Unlock()
			ack(push.Result{Op: op, Err: &push.RejectedError{Status: 400, Msg: "name: too long"}})
			continue
		}
		if op.Kind == push.Delete {
			delete(m.catalog, op.ID)
		} else {
			var p map[string]any
			if err := json.Unmarshal(op.Payload, &p); err != nil {
				m.mu.Unlock()
				return err
			}
			m.catalog[op.ID] = p
		}
		m.mu.Unlock()
		ack(push.Result{Op: op})
	}
	return ctx.Err()
}

func (m *memorySink) takeOps() []push.Op {
	m.mu.Lock()
	defer m.mu.Unlock()
	ops := m.ops
	m.ops = nil
	return ops
}

type item struct{ id, group, title, price, avail string }

func rss(items ...item) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel><title>t</title>` + "\n")
	for _, it := range items {
		avail := it.avail
		if avail == "" {
			avail = "in stock"
		}
		fmt.Fprintf(&b, "<item><g:id>%s</g:id><g:title>%s</g:title><g:description>About %s</g:description><g:link>https://example.com/%s</g:link><g:price>%s</g:price><g:availability>%s</g:availability>", it.id, it.title, it.id, it.id, it.price, avail)
		if it.group != "" {
			fmt.Fprintf(&b, "<g:item_group_id>%s</g:item_group_id>", it.group)
		}
		b.WriteString("</item>\n")
	}
	b.WriteString("</channel></rss>\n")
	return b.String()
}

func catalogOf(n int) []item {
	items := make([]item, n)
	for i := range items {
		items[i] = item{id: fmt.Sprintf("P%03d", i), title: fmt.Sprintf("Product %d", i), price: fmt.Sprintf("%d.00 EUR", 10+i)}
	}
	return items
}

type harness struct {
	t    *testing.T
	db   *store.DB
	sink *memorySink
	fc   config.Feed
	path string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "state.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	fc := config.FeedDefaults()
	fc.Name, fc.URL, fc.Policy = "shop", filepath.Join(dir, "feed.xml"), "variant"
	return &harness{t: t, db: db, sink: newMemorySink(), fc: fc, path: fc.URL}
}

func (h *harness) write(feed string) {
	h.t.Helper()
	if err := os.WriteFile(h.path, []byte(feed), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) run(mode Mode, allowMassDelete bool) (Summary, error) {
	s := &Syncer{DB: h.db, Sink: h.sink}
	var sink push.Sink = h.sink
	if mode == ModePlan {
		sink = push.NewRecorder(h.sink.Target())
	}
	s.Sink = sink
	return s.Sync(context.Background(), &h.fc, Options{Mode: mode, AllowMassDelete: allowMassDelete, Log: zerolog.Nop()})
}

func (h *harness) mustSync() Summary {
	h.t.Helper()
	sum, err := h.run(ModeSync, false)
	if err != nil {
		h.t.Fatalf("sync: %v (summary %+v)", err, sum)
	}
	return sum
}

func TestUnchangedFeedSendsNothing(t *testing.T) {
	h := newHarness(t)
	h.write(rss(catalogOf(20)...))
	if s := h.mustSync(); s.Created != 20 || s.Fetch != FetchChanged {
		t.Fatalf("first sync: %+v", s)
	}
	h.sink.takeOps()
	s := h.mustSync()
	if ops := h.sink.takeOps(); len(ops) != 0 || s.Unchanged != 20 || s.Fetch != FetchUnchangedBody {
		t.Errorf("second sync: %d ops, summary %+v; want 0 ops, 20 unchanged, unchanged-body", len(ops), s)
	}
	// The same products in a different byte layout: the whole pipeline runs, and still nothing travels.
	items := catalogOf(20)
	items[0], items[19] = items[19], items[0]
	h.write(rss(items...))
	s = h.mustSync()
	if ops := h.sink.takeOps(); len(ops) != 0 || s.Unchanged != 20 || s.Fetch != FetchChanged {
		t.Errorf("reordered feed: %d ops, summary %+v; want 0 ops, 20 unchanged", len(ops), s)
	}
}

func TestOnePriceChangedSendsOneUpdate(t *testing.T) {
	h := newHarness(t)
	items := catalogOf(20)
	h.write(rss(items...))
	h.mustSync()
	h.sink.takeOps()
	items[7].price = "99.00 EUR"
	h.write(rss(items...))
	s := h.mustSync()
	ops := h.sink.takeOps()
	if len(ops) != 1 || ops[0].ID != "P007" || ops[0].Kind != push.Update || s.Updated != 1 || s.Unchanged != 19 {
		t.Fatalf("got %d ops %v, summary %+v; want one update of P007", len(ops), ops, s)
	}
	if got := h.sink.catalog["P007"]["price"]; got != 99.0 {
		t.Errorf("catalog price %v, want 99", got)
	}
}

func TestMappingChangeUpdatesExactlyTheAffectedProducts(t *testing.T) {
	h := newHarness(t)
	items := catalogOf(10)
	h.write(rss(items...))
	h.mustSync()
	h.sink.takeOps()
	h.fc.Fields = map[string]string{"gtin": ""} // no item has a gtin: nothing changes
	if s := h.mustSync(); len(h.sink.takeOps()) != 0 || s.Unchanged != 10 {
		t.Errorf("a mapping change affecting no product sent ops: %+v", s)
	}
	h.fc.Fields = map[string]string{"description": ""}
	s := h.mustSync()
	if ops := h.sink.takeOps(); len(ops) != 10 || s.Updated != 10 {
		t.Errorf("dropping description: %d ops, %+v; want 10 updates", len(ops), s)
	}
	if _, ok := h.sink.catalog["P001"]["description"]; ok {
		t.Error("description still sent after the mapping dropped it")
	}
}

func TestPolicyChangeResendsAffectedProducts(t *testing.T) {
	h := newHarness(t)
	items := catalogOf(4)
	items[0].group, items[1].group = "G", "G"
	h.write(rss(items...))
	h.mustSync()
	h.sink.takeOps()
	h.fc.Policy = "parent"
	h.fc.OnMissing = config.OnMissingKeep
	s := h.mustSync()
	if s.Created != 1 || s.Updated != 2 || s.Products != 3 {
		t.Errorf("after switching to parent: %+v; want G created, P002 and P003 updated (the policy is part of the hash)", s)
	}
}

func TestRemovedProductBecomesUnavailableThenLiveAgain(t *testing.T) {
	h := newHarness(t)
	items := catalogOf(20)
	h.write(rss(items...))
	h.mustSync()
	h.sink.takeOps()

	h.write(rss(append(items[:5:5], items[6:]...)...))
	s := h.mustSync()
	ops := h.sink.takeOps()
	if len(ops) != 1 || ops[0].ID != "P005" || s.Unavailable != 1 {
		t.Fatalf("removal: %v, %+v; want one unavailable mark of P005", ops, s)
	}
	p := h.sink.catalog["P005"]
	if p["availability"] != "out_of_stock" || p["name"] != "Product 5" {
		t.Errorf("P005 in the catalog: %v; want its last fields with availability out_of_stock", p)
	}
	if s := h.mustSync(); len(h.sink.takeOps()) != 0 && s.Unavailable == 0 {
		t.Errorf("an already unavailable product was marked again: %+v", s)
	}

	h.write(rss(items...))
	s = h.mustSync()
	ops = h.sink.takeOps()
	if len(ops) != 1 || ops[0].ID != "P005" || ops[0].Kind != push.Update || s.Updated != 1 {
		t.Fatalf("comeback: %v, %+v; want one update of P005", ops, s)
	}
	if h.sink.catalog["P005"]["availability"] != "in_stock" {
		t.Errorf("P005 not live again: %v", h.sink.catalog["P005"])
	}
	var live int
	h.db.Each("shop", func(e store.Entry) error {
		if e.State == store.Live {
			live++
		}
		return nil
	})
	if live != 20 {
		t.Errorf("%d live records, want 20", live)
	}
}

func TestOnMissingDeleteAndKeep(t *testing.T) {
	h := newHarness(t)
	items := catalogOf(20)
	h.write(rss(items...))
	h.mustSync()
	h.fc.OnMissing = config.OnMissingKeep
	h.write(rss(items[1:]...))
	if s := h.mustSync(); s.Deleted != 0 || s.Unavailable != 0 {
		t.Errorf("keep: %+v", s)
	}
	h.fc.OnMissing = config.OnMissingDelete
	s := h.mustSync()
	if s.Deleted != 1 || h.sink.catalog["P000"] != nil {
		t.Errorf("delete: %+v, catalog has P000: %v", s, h.sink.catalog["P000"] != nil)
	}
	if n, _ := h.db.Stored("shop"); n != 19 {
		t.Errorf("%d records after delete, want 19", n)
	}
}

func TestRemovalGuards(t *testing.T) {
	full := rss(catalogOf(20)...)
	cases := []struct {
		name    string
		feed    string
		status  int // serve over HTTP with this status when non-zero
		wantErr string
	}{
		{"TruncatedFeed", full[:len(full)/2], 0, "truncated"},
		{"EmptyFeed", rss(), 0, "produced no products"},
		{"HTTP500", full, 500, "500"},
		{"ParseError", strings.Replace(full, "</g:title>", "</g:titel>", 3), 0, "closed by"},
		{"HalfRemoved", rss(catalogOf(10)...), 0, "above max_delete 10%"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.fc.OnMissing = config.OnMissingDelete
			h.write(full)
			h.mustSync()
			h.sink.takeOps()
			h.write(c.feed)
			if c.status != 0 {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.WriteHeader(c.status)
				}))
				defer srv.Close()
				h.fc.URL = srv.URL + "/feed.xml"
			}
			s, err := h.run(ModeSync, false)
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("got %v, want an error containing %q", err, c.wantErr)
			}
			for _, op := range h.sink.takeOps() {
				if op.Kind == push.Delete {
					t.Errorf("deleted %s despite the guard", op.ID)
				}
			}
			if n, _ := h.db.Stored("shop"); n != 20 {
				t.Errorf("%d records left, want 20", n)
			}
			if s.Deleted != 0 {
				t.Errorf("summary says %d deleted", s.Deleted)
			}
		})
	}
	t.Run("HalfRemovedWithAllowMassDelete", func(t *testing.T) {
		h := newHarness(t)
		h.fc.OnMissing = config.OnMissingDelete
		h.write(full)
		h.mustSync()
		h.write(rss(catalogOf(10)...))
		s, err := h.run(ModeSync, true)
		if err != nil || s.Deleted != 10 {
			t.Fatalf("got %v, %+v; want 10 deleted", err, s)
		}
	})
	t.Run("TooManyDeletesIsASentinel", func(t *testing.T) {
		h := newHarness(t)
		h.write(full)
		h.mustSync()
		h.write(rss(catalogOf(10)...))
		_, err := h.run(ModeSync, false)
		if !errors.Is(err, ErrTooManyDeletes) {
			t.Errorf("got %v, want ErrTooManyDeletes", err)
		}
	})
}

func TestRejectedProductIsRecordedAndRetried(t *testing.T) {
	h := newHarness(t)
	h.write(rss(catalogOf(5)...))
	h.sink.reject["P002"] = true
	s, err := h.run(ModeSync, false)
	if err == nil || s.Failed != 1 || s.Created != 4 {
		t.Fatalf("got %v, %+v; want an error, 1 failed, 4 created", err, s)
	}
	c, _ := h.db.Count("shop")
	if c.Failed != 1 || c.Live != 4 {
		t.Errorf("counts %+v", c)
	}
	h.sink.takeOps()
	delete(h.sink.reject, "P002")
	s = h.mustSync()
	ops := h.sink.takeOps()
	if len(ops) != 1 || ops[0].ID != "P002" || ops[0].Kind != push.Create || s.Created != 1 {
		t.Errorf("retry: %v %+v; want P002 created again (the unchanged-body shortcut must not skip it)", ops, s)
	}
}

func TestPlanSendsNothingAndWritesNoState(t *testing.T) {
	h := newHarness(t)
	h.write(rss(catalogOf(5)...))
	s, err := h.run(ModePlan, false)
	if err != nil || s.Created != 5 {
		t.Fatalf("plan: %v %+v", err, s)
	}
	if len(h.sink.takeOps()) != 0 {
		t.Error("plan sent ops to the catalog")
	}
	if feeds, _ := h.db.Feeds(); len(feeds) != 0 {
		t.Errorf("plan wrote state for %v", feeds)
	}
}

func TestResyncPushesEverything(t *testing.T) {
	h := newHarness(t)
	h.write(rss(catalogOf(5)...))
	h.mustSync()
	h.sink.takeOps()
	s, err := h.run(ModeResync, false)
	if err != nil || s.Updated != 5 || len(h.sink.takeOps()) != 5 || s.Fetch != FetchChanged {
		t.Errorf("resync: %v %+v", err, s)
	}
}

func TestConditionalGet(t *testing.T) {
	body := rss(catalogOf(3)...)
	var mu sync.Mutex
	var conditional []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		conditional = append(conditional, r.Header.Get("If-None-Match"))
		mu.Unlock()
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	h := newHarness(t)
	h.fc.URL = srv.URL + "/feed.xml"
	if s := h.mustSync(); s.Created != 3 {
		t.Fatalf("first: %+v", s)
	}
	if s := h.mustSync(); s.Fetch != FetchNotModified || s.Created+s.Updated != 0 {
		t.Errorf("second: %+v, want not-modified", s)
	}
	if s, _ := h.run(ModeResync, false); s.Fetch != FetchChanged || s.Updated != 3 {
		t.Errorf("resync: %+v, want the validators ignored", s)
	}
	if conditional[0] != "" || conditional[1] != `"v1"` || conditional[2] != "" {
		t.Errorf("If-None-Match sent: %q", conditional)
	}
}

func TestCancelledSyncCommitsWhatWasAcknowledged(t *testing.T) {
	h := newHarness(t)
	h.write(rss(catalogOf(200)...))
	ctx, cancel := context.WithCancel(context.Background())
	slow := &cancellingSink{memorySink: h.sink, after: 50, cancel: cancel}
	s := &Syncer{DB: h.db, Sink: slow}
	_, err := s.Sync(ctx, &h.fc, Options{Mode: ModeSync, Log: zerolog.Nop()})
	if err == nil {
		t.Fatal("a cancelled sync reported success")
	}
	n, _ := h.db.Stored("shop")
	if n < 50 || n > 200 {
		t.Errorf("%d records committed, want the acknowledged ones (at least 50)", n)
	}
	h.sink.takeOps()
	sum := h.mustSync()
	if sum.Created+sum.Unchanged != 200 || sum.Created != 200-n {
		t.Errorf("the next run: %+v; want exactly the %d unacknowledged created", sum, 200-n)
	}
}

// cancellingSink cancels the run after acknowledging a number of ops.
type cancellingSink struct {
	*memorySink
	after  int
	cancel context.CancelFunc
}

func (c *cancellingSink) Apply(ctx context.Context, ops <-chan push.Op, ack func(push.Result)) error {
	n := 0
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case op, ok := <-ops:
			if !ok {
				return nil
			}
			ack(push.Result{Op: op})
			if n++; n == c.after {
				c.cancel()
			}
		}
	}
}

func TestSyncTimesAreRecorded(t *testing.T) {
	h := newHarness(t)
	h.write(rss(catalogOf(2)...))
	h.mustSync()
	m, _ := h.db.Meta("shop")
	if time.Since(m.LastSuccess) > time.Minute || m.BodyHash == "" {
		t.Errorf("meta after success: %+v", m)
	}
	runs, _ := h.db.Runs("shop", 10)
	var got Summary
	if len(runs) != 1 || json.Unmarshal(runs[0], &got) != nil || got.Created != 2 {
		t.Errorf("runs: %s", runs)
	}
}

// TestParallelShapingKeepsFeedOrder: items are shaped on several cores in
// batches, yet the first of two duplicate ids wins and problems come in feed
// order, as when items are added one by one.
func TestParallelShapingKeepsFeedOrder(t *testing.T) {
	h := newHarness(t)
	items := catalogOf(900)
	items[700].id = "p010" // a case-insensitive duplicate of P010, batches later
	items[700].title = "the duplicate"
	items[800].id = "p020"
	var problems []string
	h.write(rss(items...))
	s := &Syncer{DB: h.db, Sink: h.sink}
	sum, err := s.Sync(context.Background(), &h.fc, Options{Mode: ModeSync, Log: zerolog.Nop(),
		Observer: ProblemFunc(func(p feed.Problem) { problems = append(problems, p.ItemID) })})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Products != 898 || sum.Skipped != 2 {
		t.Errorf("summary %+v; want 898 products, 2 skipped", sum)
	}
	if got := h.sink.catalog["P010"]["name"]; got != "Product 10" {
		t.Errorf("P010 is %q; want the first occurrence", got)
	}
	if len(problems) != 2 || problems[0] != "p010" || problems[1] != "p020" {
		t.Errorf("problems %v; want p010 then p020", problems)
	}
}

// failingSink acknowledges a number of ops, then stops with an error.
type failingSink struct {
	*memorySink
	after int
}

func (f *failingSink) Apply(ctx context.Context, ops <-chan push.Op, ack func(push.Result)) error {
	n := 0
	for op := range ops {
		if n == f.after {
			return errors.New("catalog went away")
		}
		ack(push.Result{Op: op})
		n++
	}
	return nil
}

// TestSyncLeavesNoGoroutines: a daemon runs syncs for months, so every way a
// sync ends — success, shortcuts, parse error, missing file, a sink that
// fails, a cancelled run — must leave no goroutine behind (reader, shaping
// workers, differ, committer, ticker).
func TestSyncLeavesNoGoroutines(t *testing.T) {
	settle := func(want int) int {
		n := runtime.NumGoroutine()
		for deadline := time.Now().Add(5 * time.Second); n > want && time.Now().Before(deadline); n = runtime.NumGoroutine() {
			time.Sleep(10 * time.Millisecond)
		}
		return n
	}
	base := runtime.NumGoroutine() // whatever other tests left running is the baseline
	for round := 0; round < 3; round++ {
		h := newHarness(t)
		h.write(rss(catalogOf(300)...))
		h.mustSync()             // first: everything created
		h.mustSync()             // unchanged body
		h.run(ModeResync, false) // everything again
		h.write(`<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel><item><g:id>A</g:id></chan>`)
		if _, err := h.run(ModeSync, false); err == nil {
			t.Fatal("a broken feed synced")
		}
		os.Remove(h.path)
		if _, err := h.run(ModeSync, false); err == nil {
			t.Fatal("a missing feed synced")
		}
		h.write(rss(catalogOf(400)...))
		s := &Syncer{DB: h.db, Sink: &failingSink{memorySink: h.sink, after: 20}}
		if _, err := s.Sync(context.Background(), &h.fc, Options{Mode: ModeResync, Log: zerolog.Nop()}); err == nil {
			t.Fatal("a failing sink reported success")
		}
		ctx, cancel := context.WithCancel(context.Background())
		s = &Syncer{DB: h.db, Sink: &cancellingSink{memorySink: h.sink, after: 30, cancel: cancel}}
		if _, err := s.Sync(ctx, &h.fc, Options{Mode: ModeResync, Log: zerolog.Nop()}); err == nil {
			t.Fatal("a cancelled sync reported success")
		}
		cancel()
	}
	if n := settle(base); n > base {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after the syncs, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}

// TestSkippedCountsOnlySkippedItems: a header defect is a problem, not a
// skipped item; a short row is both.
func TestSkippedCountsOnlySkippedItems(t *testing.T) {
	h := newHarness(t)
	h.write("id\ttitle\ttitle\tprice\tlink\nA\tMug\tCup\t9.90 EUR\thttps://x.example/a\nB\tshort row\n")
	sum := h.mustSync()
	if sum.Created != 1 || sum.Skipped != 1 || sum.Problems != 2 {
		t.Errorf("got %+v; want 1 created, 1 skipped, 2 problems", sum)
	}
}

// countingObserver counts the runs that read the feed.
type countingObserver struct {
	NopObserver
	reads int
}

func (o *countingObserver) Read(int) { o.reads++ }

// A file with the bytes of the last finished run costs a hash: it is not
// parsed, and the summary says what that run read. A file of the same size
// with other bytes is read again and parsed.
func TestUnchangedFileIsHashedNotParsed(t *testing.T) {
	h := newHarness(t)
	h.write(rss(catalogOf(20)...))
	first := h.mustSync()
	obs := &countingObserver{}
	s, err := (&Syncer{DB: h.db, Sink: h.sink}).Sync(context.Background(), &h.fc, Options{Mode: ModeSync, Log: zerolog.Nop(), Observer: obs})
	if err != nil || s.Fetch != FetchUnchangedBody || obs.reads != 0 || s.Items != first.Items || s.Products != first.Products || s.Unchanged != first.Products {
		t.Errorf("unchanged file: %v %+v, %d reads; want unchanged-body, %d items, %d products, no parse", err, s, obs.reads, first.Items, first.Products)
	}
	if ops := h.sink.takeOps(); len(ops) != 20 {
		t.Fatalf("ops of the first sync: %d", len(ops))
	}
	// The same size, one byte else: a price 10.00 becomes 19.00.
	raw, _ := os.ReadFile(h.path)
	changed := bytes.Replace(raw, []byte(">10.00 EUR<"), []byte(">19.00 EUR<"), 1)
	if bytes.Equal(raw, changed) || len(raw) != len(changed) {
		t.Fatal("the fixture has no 10.00 EUR price to change in place")
	}
	os.WriteFile(h.path, changed, 0o644)
	s, err = (&Syncer{DB: h.db, Sink: h.sink}).Sync(context.Background(), &h.fc, Options{Mode: ModeSync, Log: zerolog.Nop(), Observer: obs})
	if err != nil || s.Fetch != FetchChanged || s.Updated != 1 || obs.reads != 1 {
		t.Errorf("same size, other bytes: %v %+v, %d reads; want the update read and sent", err, s, obs.reads)
	}
}

// A download with the bytes of the last finished run costs a hash too: a
// server that sends no validators (no ETag, no Last-Modified) has its body
// spooled while it is hashed, and parsed only when it changed — from the
// spool when it announced the old size, as it downloads when it announced
// another. A body cut short fails the run and changes nothing.
func TestUnchangedDownloadIsHashedNotParsed(t *testing.T) {
	h := newHarness(t)
	var mu sync.Mutex
	body := []byte(rss(catalogOf(20)...))
	chunked, cut := false, false
	requests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		b, ch, c := body, chunked, cut
		requests++
		mu.Unlock()
		if c {
			w.Header().Set("Content-Length", fmt.Sprint(len(b)))
			w.Write(b[:len(b)/2])
			return // the server closes the connection short of its length
		}
		if ch {
			half := len(b) / 2
			w.Write(b[:half])
			w.(http.Flusher).Flush() // no Content-Length: chunked
			w.Write(b[half:])
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.Write(b)
	}))
	defer srv.Close()
	h.fc.URL = srv.URL + "/feed.xml"
	first := h.mustSync()
	if ops := h.sink.takeOps(); len(ops) != 20 {
		t.Fatalf("ops of the first sync: %d", len(ops))
	}
	runOnce := func(what string) (Summary, *countingObserver, error) {
		t.Helper()
		obs := &countingObserver{}
		s, err := (&Syncer{DB: h.db, Sink: h.sink}).Sync(context.Background(), &h.fc, Options{Mode: ModeSync, Log: zerolog.Nop(), Observer: obs})
		return s, obs, err
	}
	unchanged := func(what string) {
		t.Helper()
		s, obs, err := runOnce(what)
		if err != nil || s.Fetch != FetchUnchangedBody || obs.reads != 0 || s.Items != first.Items || s.Products != first.Products || s.Unchanged != first.Products || s.Bytes != int64(len(body)) {
			t.Errorf("%s: %v %+v, %d reads; want unchanged-body, %d items, %d products, no parse", what, err, s, obs.reads, first.Items, first.Products)
		}
		if ops := h.sink.takeOps(); len(ops) != 0 {
			t.Errorf("%s: %d ops sent", what, len(ops))
		}
	}
	changed := func(what string, from, to string) {
		t.Helper()
		mu.Lock()
		body = bytes.Replace(body, []byte(from), []byte(to), 1)
		mu.Unlock()
		s, obs, err := runOnce(what)
		if err != nil || s.Fetch != FetchChanged || s.Updated != 1 || obs.reads != 1 {
			t.Errorf("%s: %v %+v, %d reads; want the update read and sent", what, err, s, obs.reads)
		}
		if ops := h.sink.takeOps(); len(ops) != 1 {
			t.Errorf("%s: %d ops sent, want 1", what, len(ops))
		}
	}
	unchanged("same bytes, with a Content-Length")
	changed("same size, one byte else (parsed from the spool)", ">10.00 EUR<", ">19.00 EUR<")
	unchanged("the changed bytes again")
	changed("another size (parsed as it downloads)", ">19.00 EUR<", ">119.00 EUR<")
	mu.Lock()
	chunked = true
	mu.Unlock()
	unchanged("same bytes, chunked without a length")
	changed("other bytes, chunked (parsed from the spool)", ">119.00 EUR<", ">19.00 EUR<")

	mu.Lock()
	chunked, cut = false, true
	mu.Unlock()
	before, _ := h.db.Meta("shop")
	s, _, err := runOnce("cut short")
	if err == nil || !errors.Is(err, feed.ErrShortBody) || s.Fetch != FetchFailed {
		t.Errorf("a body cut short: %v %+v; want ErrShortBody and a failed fetch", err, s)
	}
	if ops := h.sink.takeOps(); len(ops) != 0 {
		t.Errorf("a body cut short sent %d ops", len(ops))
	}
	if after, _ := h.db.Meta("shop"); after.BodyHash != before.BodyHash || after.BodySize != before.BodySize {
		t.Errorf("a body cut short changed the recorded body: %s/%d → %s/%d", before.BodyHash, before.BodySize, after.BodyHash, after.BodySize)
	}
	mu.Lock()
	cut = false
	mu.Unlock()
	unchanged("whole again after a cut")

	// No room to spool: an unchanged download is still told by its hash; a
	// changed one is downloaded again and parsed.
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	mu.Lock()
	requests = 0
	mu.Unlock()
	unchanged("same bytes, no room to spool")
	changed("other bytes, no room to spool (downloaded twice)", ">19.00 EUR<", ">29.00 EUR<")
	mu.Lock()
	defer mu.Unlock()
	if requests != 3 {
		t.Errorf("without a spool: %d requests, want 1 for the unchanged run and 2 for the changed one", requests)
	}
}
