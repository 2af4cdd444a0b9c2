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

// Holes a review found in the recognition, each a failing test before its
// fix: a feed made of units that are each known, but that a parse would
// not keep apart — two ids, or two item_group_ids, equal but for case —
// must be parsed; and a problem on no item must come back on every run.

// Two settled records whose items collide case-insensitively in one parse
// (a duplicate id): the parse skips the later item with a problem and
// deletes its product (on_missing delete); a recognised run keeps it.
func TestRecognitionCaseDuplicateIDs(t *testing.T) {
	h := newHarness(t)
	h.fc.Format = "tsv"
	h.fc.OnMissing = config.OnMissingDelete
	header := "id\ttitle\tprice\titem_group_id\tsize\tavailability\n"
	lower := "abc\tShirt lower\t10.00 EUR\t\t\tin stock\n"
	upper := "ABC\tShirt upper\t11.00 EUR\t\t\tin stock\n"
	lowerBad := "abc\tShirt lower\t10.00 EUR\t\t\tin stock\textra\n" // wrong field count: reader skips, record kept
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	h.write(header + lower)
	h.fullScan(now)
	h.write(header + upper + lowerBad)
	h.fullScan(now.Add(time.Minute))
	h.write(header + upper + lower) // the sample of run 2 is [upper]
	s3 := h.fullScan(now.Add(2 * time.Minute))
	if s3.Recognised != 0 || s3.Problems == 0 {
		t.Errorf("run 3: recognised %d of %d items, %d problems; want the feed parsed and the duplicate reported", s3.Recognised, s3.Items, s3.Problems)
	}
	h.checkCatalog("run 3", now.Add(2*time.Minute))
}

// The same with groups under the parent policy: "G" and "g" are one group
// to a parse; recognised, the catalog keeps two parents with the old
// aggregates.
func TestRecognitionCaseEqualGroups(t *testing.T) {
	for _, policy := range []tree.Policy{"parent", "variant"} {
		t.Run(string(policy), func(t *testing.T) {
			h := newHarness(t)
			h.fc.Format = "tsv"
			h.fc.Policy = policy
			h.fc.OnMissing = config.OnMissingDelete
			header := "id\ttitle\tprice\titem_group_id\tsize\tavailability\tdescription\n"
			a := "A1\tShirt\t10.00 EUR\tG\tM\tin stock\tfrom A\n"
			b := "B1\tShirt\t12.00 EUR\tG\tL\tin stock\tfrom B\n"
			c := "C1\tShirt\t20.00 EUR\tg\tS\tin stock\t\n"
			d := "D1\tShirt\t22.00 EUR\tg\tXL\tin stock\t\n"
			bad := func(row string) string { return strings.TrimSuffix(row, "\n") + "\textra\n" }
			now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
			h.write(header + a + b)
			h.fullScan(now)
			if policy == "parent" {
				// The parent G's record survives run 2: the catalog
				// rejects its delete (the record stays live, settled).
				h.sink.mu.Lock()
				h.sink.reject["G"] = true
				h.sink.mu.Unlock()
				h.write(header + c + d)
				now2 := now.Add(time.Minute)
				_, err := (&Syncer{DB: h.db, Sink: h.sink}).Sync(context.Background(), &h.fc, Options{Mode: ModeSync, FullScan: true,
					AllowMassDelete: true, Log: zerolog.Nop(), Now: func() time.Time { return now2 }})
				if err == nil {
					t.Fatal("run 2: the rejected delete did not fail the run")
				}
				h.sink.mu.Lock()
				delete(h.sink.reject, "G")
				h.sink.mu.Unlock()
			} else {
				h.write(header + c + d + bad(a) + bad(b))
				h.fullScan(now.Add(time.Minute))
			}
			if policy == "parent" {
				h.write(header + a + b + c + d) // run 2 failed: the sample is still run 1's, [a b]
			} else {
				h.write(header + c + d + a + b) // run 2 sample: [c d]
			}
			s3 := h.fullScan(now.Add(2 * time.Minute))
			if s3.Recognised != 0 {
				t.Errorf("run 3: recognised %d of %d items; want the feed parsed", s3.Recognised, s3.Items)
			}
			h.checkCatalog("run 3", now.Add(2*time.Minute))
		})
	}
}

// A header defect (line 1, on no item) is reported by the parse that
// recorded the Raws, and never again once the feed is recognised.
func TestRecognitionHeaderProblemReportedAgain(t *testing.T) {
	h := newHarness(t)
	h.fc.Format = "tsv"
	h.fc.OnMissing = config.OnMissingDelete
	feed := "id\ttitle\tprice\t\tavailability\n" + // column 4 has no name
		"A\tShirt A\t10.00 EUR\tx\tin stock\n" +
		"B\tShirt B\t12.00 EUR\ty\tin stock\n"
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	h.write(feed)
	s1 := h.fullScan(now)
	s2 := h.fullScan(now.Add(time.Minute))
	if s2.Problems != s1.Problems {
		t.Errorf("problems: first run %d, second %d (recognised %d)", s1.Problems, s2.Problems, s2.Recognised)
	}
}

// TestReportedFeedKeepsTheInputShortcut: while the reader reports a problem
// on no item (a text feed's header), no product is stored with Raws, and
// none is recognised; the products are still known by their Input, not
// shaped on every run for want of Raws.
func TestReportedFeedKeepsTheInputShortcut(t *testing.T) {
	h := newHarness(t)
	h.fc.Format = "tsv"
	feed := "id\ttitle\tprice\t\tavailability\n" + // column 4 has no name
		"A\tShirt A\t10.00 EUR\tx\tin stock\n" +
		"B\tShirt B\t12.00 EUR\ty\tin stock\n"
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	h.write(feed)
	if s := h.fullScan(now); s.Created != 2 || s.Problems == 0 {
		t.Fatalf("first run: %+v; want 2 created and the header's problem", s)
	}
	for i := 1; i <= 2; i++ {
		if s := h.fullScan(now.Add(time.Duration(i) * time.Minute)); s.Shaped != 0 || s.Unchanged != 2 || s.Recognised != 0 {
			t.Errorf("run %d: %+v; want both known by their Input (none shaped), none recognised", i+1, s)
		}
	}
	// The header mended: the products carry Raws, their records learn them
	// in one run, and the next is recognised.
	h.write(strings.Replace(feed, "price\t\tavailability", "price\tcolor\tavailability", 1))
	h.fullScan(now.Add(3 * time.Minute))
	if s := h.fullScan(now.Add(4 * time.Minute)); s.Recognised != 2 || s.Unchanged != 2 {
		t.Errorf("after the header was mended: %+v; want both recognised", s)
	}
}
