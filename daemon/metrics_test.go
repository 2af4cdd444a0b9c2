package daemon

import (
	"errors"
	"io"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/feedsync/feedsync/engine"
)

func TestMetrics(t *testing.T) {
	t.Run("NamesAreTheDocumentedOnes", func(t *testing.T) {
		m := NewMetrics()
		m.AddFeed("shop", time.Unix(1700000000, 0))
		m.ObserveRun(engine.Summary{Feed: "shop", Items: 5, Products: 3, Created: 3, Bytes: 3684, DurationMS: 12, Fetch: engine.FetchChanged}, nil, time.Unix(1700000100, 0))
		m.Request("create", 200, 30*time.Millisecond)
		m.Retry("create", "429")
		families, err := m.Registry().Gather()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		runtime := false
		for _, f := range families {
			if strings.HasPrefix(f.GetName(), "feedsync_") {
				got = append(got, f.GetName())
			}
			runtime = runtime || f.GetName() == "go_goroutines"
		}
		want := []string{
			"feedsync_config_reloads_total",
			"feedsync_feed_bytes",
			"feedsync_feed_items",
			"feedsync_feed_items_skipped_total",
			"feedsync_feed_up",
			"feedsync_last_run_timestamp_seconds",
			"feedsync_last_success_timestamp_seconds",
			"feedsync_products_total",
			"feedsync_push_request_duration_seconds",
			"feedsync_push_requests_total",
			"feedsync_push_retries_total",
			"feedsync_run_duration_seconds",
			"feedsync_runs_total",
		}
		if !slices.Equal(got, want) {
			t.Errorf("metric families:\ngot  %q\nwant %q", got, want)
		}
		if !runtime {
			t.Error("the Go runtime collector is not registered")
		}
	})

	t.Run("TextFormatLabelsByFeed", func(t *testing.T) {
		m := NewMetrics()
		m.AddFeed("shop", time.Time{})
		m.AddFeed("books", time.Time{})
		m.ObserveRun(engine.Summary{Feed: "shop", Items: 5, Products: 3, Created: 2, Updated: 1, Unchanged: 4, Deleted: 1, Unavailable: 2, Failed: 1, Skipped: 1, Bytes: 100, DurationMS: 1500}, nil, time.Unix(1700000100, 0))
		m.ObserveRun(engine.Summary{Feed: "books", Error: "boom"}, errors.New("boom"), time.Unix(1700000200, 0))
		m.Request("import", 0, time.Second)
		m.Request("create", 429, time.Millisecond)
		m.Retry("create", "429")
		m.ForFeed("shop").Request("update", 200, time.Millisecond)
		m.ForFeed("shop").Retry("update", "timeout")
		srv := httptest.NewServer(m.Handler())
		defer srv.Close()
		resp, err := srv.Client().Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("Content-Type %q, want the text format", ct)
		}
		text := string(body)
		for _, line := range []string{
			`feedsync_runs_total{feed="shop",result="success"} 1`,
			`feedsync_runs_total{feed="shop",result="failure"} 0`,
			`feedsync_runs_total{feed="books",result="failure"} 1`,
			`feedsync_run_duration_seconds_sum{feed="shop"} 1.5`,
			`feedsync_feed_bytes{feed="shop"} 100`,
			`feedsync_feed_items{feed="shop"} 5`,
			`feedsync_feed_items_skipped_total{feed="shop"} 1`,
			`feedsync_products_total{feed="shop",operation="created"} 2`,
			`feedsync_products_total{feed="shop",operation="updated"} 1`,
			`feedsync_products_total{feed="shop",operation="unchanged"} 4`,
			`feedsync_products_total{feed="shop",operation="deleted"} 1`,
			`feedsync_products_total{feed="shop",operation="unavailable"} 2`,
			`feedsync_products_total{feed="shop",operation="failed"} 1`,
			`feedsync_last_success_timestamp_seconds{feed="shop"} 1.7000001e+09`,
			`feedsync_feed_up{feed="shop"} 1`,
			`feedsync_feed_up{feed="books"} 0`,
			`feedsync_push_requests_total{code="0",feed="",op="import"} 1`,
			`feedsync_push_requests_total{code="429",feed="",op="create"} 1`,
			`feedsync_push_retries_total{feed="",op="create",reason="429"} 1`,
			`feedsync_push_requests_total{code="200",feed="shop",op="update"} 1`,
			`feedsync_push_retries_total{feed="shop",op="update",reason="timeout"} 1`,
			`feedsync_push_request_duration_seconds_count{feed="shop",op="update"} 1`,
		} {
			if !strings.Contains(text, line+"\n") {
				t.Errorf("/metrics has no line %s", line)
			}
		}
		if strings.Contains(text, `feedsync_last_success_timestamp_seconds{feed="books"}`) {
			t.Error("a feed that never succeeded has a last success timestamp")
		}
	})

	t.Run("RemoveFeedDropsItsSeries", func(t *testing.T) {
		m := NewMetrics()
		m.AddFeed("shop", time.Now())
		m.AddFeed("books", time.Now())
		m.ObserveRun(engine.Summary{Feed: "shop", Bytes: 1, Items: 1}, nil, time.Now())
		m.ForFeed("shop").Request("create", 201, time.Millisecond)
		m.ForFeed("shop").Retry("create", "5xx")
		m.RemoveFeed("shop")
		families, _ := m.Registry().Gather()
		for _, f := range families {
			for _, metric := range f.GetMetric() {
				for _, l := range metric.GetLabel() {
					if l.GetName() == "feed" && l.GetValue() == "shop" {
						t.Errorf("%s still has a series for the removed feed", f.GetName())
					}
				}
			}
		}
	})
}
