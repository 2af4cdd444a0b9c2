package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/feedsync/feedsync/config"
	"github.com/feedsync/feedsync/tree"
)

// A feed whose items are all known by their bytes is recognised without a
// parse, and nothing is sent for it; any change to an item, to a group's
// membership or order, to the settings or to the clock's place in a sale
// window makes the run read the feed in full. After every run the catalog
// equals a build of the feed from nothing.
func TestRecognisedFeedHidesNoChange(t *testing.T) {
	t0 := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	sale := t0.Add(time.Hour).Format(time.RFC3339) + "/" + t0.Add(3*time.Hour).Format(time.RFC3339)
	base := func() []attrs {
		return []attrs{
			fullItem("V1", "G1", "red", "M", "10.00 EUR"),
			fullItem("V2", "G1", "blue", "M", "12.00 EUR"),
			fullItem("V3", "G1", "red", "L", "11.00 EUR"),
			fullItem("S1", "", "green", "", "5.00 EUR").with("description", strings.Repeat("Long. ", 2000)), // sent cut
			fullItem("S2", "", "black", "", "6.00 EUR").with("sale_price_effective_date", sale),
			fullItem("W1", "G2", "red", "S", "7.00 EUR"),
			fullItem("W2", "G2", "red", "XL", "7.50 EUR"),
		}
	}
	type step struct {
		name       string
		feed       func() string
		at         time.Duration
		fullScan   bool
		recognised bool
		sent       int // operations, -1: any
	}
	feedOf := func(items []attrs) func() string { return func() string { return rssOf(items) } }
	edit := func(f func(a []attrs) []attrs) func() string { return feedOf(f(base())) }
	steps := []step{
		{name: "first sync", feed: feedOf(base()), sent: -1},
		{name: "same bytes, full scan", feed: feedOf(base()), at: time.Minute, fullScan: true, recognised: true},
		{name: "channel changed", feed: func() string {
			return strings.Replace(rssOf(base()), "<title>t</title>", "<title>t, built "+t0.String()+"</title>", 1)
		}, at: 2 * time.Minute, recognised: true},
		{name: "products reordered", feed: edit(func(a []attrs) []attrs {
			return []attrs{a[3], a[5], a[6], a[0], a[1], a[2], a[4]}
		}), at: 3 * time.Minute, recognised: true},
		{name: "a product gone", feed: edit(func(a []attrs) []attrs { return append(a[:3:3], a[4:]...) }), at: 4 * time.Minute, recognised: true, sent: 1},
		{name: "a whole group gone too", feed: edit(func(a []attrs) []attrs { return append(a[:3:3], a[4]) }), at: 5 * time.Minute, recognised: true, sent: -1},
		{name: "the product back", feed: feedOf(base()), at: 6 * time.Minute, sent: -1},
		{name: "same again", feed: feedOf(base()), at: 7 * time.Minute, fullScan: true, recognised: true},
		{name: "a price changed", feed: edit(func(a []attrs) []attrs { a[1] = a[1].with("price", "13.00 EUR"); return a }), at: 8 * time.Minute, sent: -1},
		{name: "back to base", feed: feedOf(base()), at: 9 * time.Minute, sent: -1},
		{name: "a variant gone from its group", feed: edit(func(a []attrs) []attrs { return append(a[:2:2], a[3:]...) }), at: 10 * time.Minute, sent: -1},
		{name: "back to base again", feed: feedOf(base()), at: 11 * time.Minute, sent: -1},
		{name: "variants of a group swapped", feed: edit(func(a []attrs) []attrs { a[0], a[1] = a[1], a[0]; return a }), at: 12 * time.Minute, sent: -1},
		{name: "back to base, third time", feed: feedOf(base()), at: 13 * time.Minute, sent: -1},
		{name: "a new variant in a known group", feed: edit(func(a []attrs) []attrs {
			return append(a, fullItem("V4", "G1", "green", "S", "9.00 EUR"))
		}), at: 14 * time.Minute, sent: -1},
		{name: "the new variant stays", feed: edit(func(a []attrs) []attrs {
			return append(a, fullItem("V4", "G1", "green", "S", "9.00 EUR"))
		}), at: 15 * time.Minute, fullScan: true, recognised: true},
		{name: "an item twice", feed: edit(func(a []attrs) []attrs { return append(a, a[3]) }), at: 16 * time.Minute, sent: -1},
		{name: "white space inside an item", feed: func() string {
			return strings.Replace(rssOf(base()), "<g:title>Shirt S1</g:title>", "<g:title>Shirt S1</g:title>\n  ", 1)
		}, at: 17 * time.Minute, sent: -1},
		{name: "the same white space", feed: func() string {
			return strings.Replace(rssOf(base()), "<g:title>Shirt S1</g:title>", "<g:title>Shirt S1</g:title>\n  ", 1)
		}, at: 18 * time.Minute, fullScan: true, recognised: true},
		{name: "the sale starts", feed: feedOf(base()), at: 90 * time.Minute, fullScan: true, sent: -1},
		{name: "during the sale", feed: feedOf(base()), at: 100 * time.Minute, fullScan: true, recognised: true},
		{name: "the sale ended", feed: feedOf(base()), at: 4 * time.Hour, fullScan: true, sent: -1},
		{name: "after the sale", feed: feedOf(base()), at: 5 * time.Hour, fullScan: true, recognised: true},
	}
	for _, policy := range []tree.Policy{"parent", "variant"} {
		t.Run(string(policy), func(t *testing.T) {
			h := newHarness(t)
			h.fc.Policy = policy
			h.fc.OnMissing = config.OnMissingDelete // the catalog then holds exactly the feed
			for _, st := range steps {
				h.write(st.feed())
				now := t0.Add(st.at)
				s, err := (&Syncer{DB: h.db, Sink: h.sink}).Sync(context.Background(), &h.fc, Options{Mode: ModeSync, FullScan: st.fullScan,
					AllowMassDelete: true, Log: zerolog.Nop(), Now: func() time.Time { return now }})
				if err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				ops := h.sink.takeOps()
				if got := s.Recognised > 0; got != st.recognised {
					t.Errorf("%s: recognised %d of %d items, want recognised=%v", st.name, s.Recognised, s.Items, st.recognised)
				}
				if st.recognised && (s.Recognised != s.Items || s.Shaped != 0 || s.Unchanged != s.Products) {
					t.Errorf("%s: a recognised run: %+v", st.name, s)
				}
				if st.sent >= 0 && len(ops) != st.sent {
					t.Errorf("%s: %d operations sent, want %d", st.name, len(ops), st.sent)
				}
				if !st.recognised && st.sent < 0 && len(ops) == 0 && st.name != "first sync" && !strings.Contains(st.name, "back") && !strings.Contains(st.name, "white") && !strings.Contains(st.name, "swapped") {
					t.Errorf("%s: nothing sent", st.name)
				}
				h.checkCatalog(string(policy)+": "+st.name, now)
			}
		})
	}
}

// A product sent with a warning is never recognised by its bytes: each run
// reads the feed and reports the warning again.
func TestReportedProductIsNotRecognised(t *testing.T) {
	h := newHarness(t)
	items := []attrs{
		fullItem("A", "", "red", "", "10.00 EUR"),
		fullItem("B", "", "red", "", "10.00"), // no currency: a warning
	}
	h.write(rssOf(items))
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	first := h.fullScan(now)
	if first.Warnings == 0 {
		t.Fatalf("first run: no warning: %+v", first)
	}
	for i := 0; i < 2; i++ {
		s := h.fullScan(now.Add(time.Duration(i+1) * time.Minute))
		if s.Recognised != 0 || s.Warnings != first.Warnings || s.Problems != first.Problems {
			t.Errorf("run %d: recognised %d, warnings %d, problems %d; want 0, %d, %d", i+2, s.Recognised, s.Warnings, s.Problems, first.Warnings, first.Problems)
		}
	}
}

// A TSV feed is recognised by its rows' bytes as an XML feed is by its
// items': rows reordered are recognised, a row changed is not, and a new
// header (the columns' meaning) recognises nothing.
func TestRecognisedTextFeed(t *testing.T) {
	h := newHarness(t)
	h.fc.Format = "tsv"
	h.fc.OnMissing = config.OnMissingDelete
	header := "id\ttitle\tprice\titem_group_id\tsize\tavailability\n"
	rows := []string{
		"A\tShirt A\t10.00 EUR\t\t\tin stock\n",
		"B1\tShirt B\t12.00 EUR\tB\tM\tin stock\n",
		"B2\tShirt B\t12.00 EUR\tB\tL\tin stock\n",
		"C\tShirt C\t9.00 EUR\t\t\tin stock\n",
	}
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	steps := []struct {
		name       string
		feed       string
		recognised bool
	}{
		{"first sync", header + strings.Join(rows, ""), false},
		{"same rows, full scan", header + strings.Join(rows, ""), true},
		{"rows reordered", header + rows[3] + rows[1] + rows[2] + rows[0], true},
		{"a row changed", header + rows[0] + rows[1] + rows[2] + "C\tShirt C\t9.50 EUR\t\t\tin stock\n", false},
		{"back", header + strings.Join(rows, ""), false},
		{"another header", strings.Replace(header, "title", "Title", 1) + strings.Join(rows, ""), false},
	}
	for i, st := range steps {
		h.write(st.feed)
		s := h.fullScan(now.Add(time.Duration(i) * time.Minute))
		if got := s.Recognised > 0; got != st.recognised || (got && s.Recognised != s.Items) {
			t.Errorf("%s: recognised %d of %d rows, want recognised=%v", st.name, s.Recognised, s.Items, st.recognised)
		}
		h.checkCatalog(st.name, now.Add(time.Duration(i)*time.Minute))
	}
}
