package engine

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// syncAt runs a sync, shortcuts allowed, at the given clock.
func (h *harness) syncAt(now time.Time) Summary {
	h.t.Helper()
	s, err := (&Syncer{DB: h.db, Sink: h.sink}).Sync(context.Background(), &h.fc, Options{Mode: ModeSync,
		Log: zerolog.Nop(), Now: func() time.Time { return now }})
	if err != nil {
		h.t.Fatalf("sync at %s: %v", now.Format(time.RFC3339), err)
	}
	return s
}

// saleFeed is a feed whose only change over time is its sale window's:
// SALE is on sale from t0+1h to t0+3h, PLAIN never.
func saleFeed(t0 time.Time) string {
	w := t0.Add(time.Hour).Format(time.RFC3339) + "/" + t0.Add(3*time.Hour).Format(time.RFC3339)
	return rssOf([]attrs{
		{{"id", "SALE"}, {"title", "On sale"}, {"price", "10.00 EUR"}, {"sale_price", "7.00 EUR"}, {"sale_price_effective_date", w}, {"availability", "in stock"}},
		{{"id", "PLAIN"}, {"title", "Plain"}, {"price", "3.00 EUR"}, {"availability", "in stock"}},
	})
}

// A feed whose bytes never change still changes when one of its sale
// windows starts or ends: the run after that moment reads it again, though
// the body hashes the same (or the server answers 304), and sends the sale
// price, then takes it back. Between those moments the shortcuts hold.
func TestSaleWindowEndsTheUnchangedShortcut(t *testing.T) {
	t0 := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	steps := []struct {
		at    time.Duration
		fetch string // what a run with shortcuts meets
		sale  bool   // the catalog has the sale price after it
		sent  int
	}{
		{0, FetchChanged, false, 2},                      // first sync: not on sale yet
		{30 * time.Minute, FetchUnchangedBody, false, 0}, // nothing changed
		{90 * time.Minute, FetchChanged, true, 1},        // the sale started: read again, SALE updated
		{2 * time.Hour, FetchUnchangedBody, true, 0},     // shortcuts hold again until the end
		{4 * time.Hour, FetchChanged, false, 1},          // the sale ended
		{5 * time.Hour, FetchUnchangedBody, false, 0},    // no window left: never expires
		{500 * time.Hour, FetchUnchangedBody, false, 0},
	}
	check := func(t *testing.T, h *harness, unchanged string) {
		for _, st := range steps {
			now := t0.Add(st.at)
			s := h.syncAt(now)
			want := st.fetch
			if want == FetchUnchangedBody {
				want = unchanged
			}
			ops := h.sink.takeOps()
			if s.Fetch != want || len(ops) != st.sent || s.Products != 2 {
				t.Errorf("run at t0+%s: fetch %s, %d operations, %d products; want %s, %d, 2", st.at, s.Fetch, len(ops), s.Products, want, st.sent)
			}
			h.sink.mu.Lock()
			_, sale := h.sink.catalog["SALE"]["sale_price"]
			h.sink.mu.Unlock()
			if sale != st.sale {
				t.Errorf("run at t0+%s: sale price in the catalog %v, want %v", st.at, sale, st.sale)
			}
			h.checkCatalog("t0+"+st.at.String(), now)
		}
	}

	t.Run("File", func(t *testing.T) {
		h := newHarness(t)
		h.write(saleFeed(t0))
		check(t, h, FetchUnchangedBody)
	})

	t.Run("HTTP304", func(t *testing.T) {
		h := newHarness(t)
		body := saleFeed(t0)
		h.write(body) // for checkCatalog's build from nothing
		var conditional atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("ETag", `"v1"`)
			if r.Header.Get("If-None-Match") == `"v1"` {
				conditional.Add(1)
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("Content-Type", "application/rss+xml")
			_, _ = w.Write([]byte(body))
		}))
		defer srv.Close()
		h.fc.URL = srv.URL + "/feed.xml"
		check(t, h, FetchNotModified)
		if n := conditional.Load(); n != 4 {
			t.Errorf("%d conditional requests answered 304, want 4 (the runs between the window's edges)", n)
		}
	})

	t.Run("OlderState", func(t *testing.T) {
		// A state written before Expires existed does not say: its next
		// run reads the feed, and records it.
		h := newHarness(t)
		h.write(saleFeed(t0))
		h.syncAt(t0)
		m, err := h.db.Meta(h.fc.Name)
		if err != nil {
			t.Fatal(err)
		}
		if m.Expires != t0.Add(time.Hour).Format(time.RFC3339Nano) {
			t.Fatalf("Expires = %q after the first run, want the sale's start", m.Expires)
		}
		m.Expires = ""
		if err := h.db.SetMeta(h.fc.Name, m); err != nil {
			t.Fatal(err)
		}
		if s := h.syncAt(t0.Add(time.Minute)); s.Fetch != FetchChanged {
			t.Errorf("first run over an older state: fetch %s, want changed", s.Fetch)
		}
		if s := h.syncAt(t0.Add(2 * time.Minute)); s.Fetch != FetchUnchangedBody {
			t.Errorf("the run after it: fetch %s, want unchanged-body", s.Fetch)
		}
	})
}
