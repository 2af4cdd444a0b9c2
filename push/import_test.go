package push

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/feedsync/feedsync/push/pushtest"
)

func TestUserComImport(t *testing.T) {
	t.Run("FilesAreSplitAtTheLimit", func(t *testing.T) {
		const limit = 2000
		h := newHarness(t, ModeImport, pushtest.Options{}, func(c *UserComConfig) { c.MaxFileSize = limit })
		ops := creates(100, "s-", "12.5")
		o := apply(t, context.Background(), h.sink, ops)
		if o.err != nil {
			t.Fatal(o.err)
		}
		wantAllAcked(t, o, ops)
		wantCatalog(t, h.srv.Catalog(), payloads(ops))
		files := h.srv.ImportFiles()
		if len(files) < 3 {
			t.Fatalf("%d files, want the 100 products split over several", len(files))
		}
		rows := 0
		for i, f := range files {
			if len(f) > limit {
				t.Errorf("file %d has %d bytes, above the limit %d", i, len(f), limit)
			}
			recs, err := csv.NewReader(bytes.NewReader(f)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if recs[0][0] != "custom_id" {
				t.Errorf("file %d header %v", i, recs[0])
			}
			rows += len(recs) - 1
		}
		if rows != 100 {
			t.Errorf("%d rows over all files, want 100", rows)
		}
	})
	t.Run("AwkwardValuesSurviveTheCSV", func(t *testing.T) {
		h := newHarness(t, ModeImport, pushtest.Options{}, nil)
		ops := []Op{
			{Kind: Create, ID: "a,b", Payload: product("a,b", "1", "description", "says \"hi\", twice\nand a new line")},
			{Kind: Update, ID: "zażółć", Payload: product("zażółć", "2.50", "brand", "Ünï;cödé\ttab")},
			{Kind: Create, ID: "sparse", Payload: []byte(`{"custom_id":"sparse","name":"Only a name"}`)},
		}
		o := apply(t, context.Background(), h.sink, ops)
		if o.err != nil {
			t.Fatal(o.err)
		}
		wantAllAcked(t, o, ops)
		wantCatalog(t, h.srv.Catalog(), payloads(ops))
	})
	t.Run("ListedRowErrorsAreRejectionsWithTheServersMessage", func(t *testing.T) {
		h := newHarness(t, ModeImport, pushtest.Options{ImportPolls: 3, RejectRow: func(f map[string]string) string {
			if strings.HasSuffix(f["custom_id"], "7") {
				return "price: not a number"
			}
			return ""
		}}, nil)
		ops := creates(50, "e-", "1")
		o := apply(t, context.Background(), h.sink, ops)
		if o.err != nil {
			t.Fatal(o.err)
		}
		if len(o.results) != 50 {
			t.Fatalf("%d acks, want 50", len(o.results))
		}
		for _, r := range o.results {
			if strings.HasSuffix(r.Op.ID, "7") {
				var re *RejectedError
				if !errors.As(r.Err, &re) || re.Msg != "price: not a number" {
					t.Errorf("%s: %v, want the row's error", r.Op.ID, r.Err)
				}
			} else if r.Err != nil {
				t.Errorf("%s: %v", r.Op.ID, r.Err)
			}
		}
		if h.sink.Unidentified() != 0 {
			t.Errorf("Unidentified() = %d", h.sink.Unidentified())
		}
	})
	t.Run("UnlistedFailuresLeaveTheFileUnacknowledged", func(t *testing.T) {
		// 60 of 100 rows fail; the status lists 50 of them. The other 50 rows
		// may have failed or not: none is acknowledged.
		h := newHarness(t, ModeImport, pushtest.Options{RejectRow: func(f map[string]string) string {
			var n int
			fmt.Sscanf(f["custom_id"], "u-%d", &n)
			if n < 60 {
				return "bad row"
			}
			return ""
		}}, nil)
		ops := creates(100, "u-", "1")
		o := apply(t, context.Background(), h.sink, ops)
		var ue *UnidentifiedError
		if !errors.As(o.err, &ue) || ue.Rows != 50 || ue.Failed != 10 {
			t.Fatalf("Apply: %#v, want an UnidentifiedError of 50 rows, 10 unlisted failures", o.err)
		}
		if h.sink.Unidentified() != 50 {
			t.Errorf("Unidentified() = %d, want 50", h.sink.Unidentified())
		}
		if len(o.results) != 50 {
			t.Errorf("%d acks, want the 50 listed failures", len(o.results))
		}
		for _, r := range o.results {
			if !IsRejected(r.Err) {
				t.Errorf("%s acknowledged as %v, want rejected", r.Op.ID, r.Err)
			}
		}
		if !strings.Contains(o.err.Error(), "sent again on the next run") {
			t.Errorf("error %q does not say what happens next", o.err)
		}
	})
	t.Run("UnfinishedImportTimesOutWithoutAcks", func(t *testing.T) {
		h := newHarness(t, ModeImport, pushtest.Options{ImportPolls: -1}, func(c *UserComConfig) { c.ImportTimeout = 80 * time.Millisecond })
		o := apply(t, context.Background(), h.sink, creates(10, "w-", "1"))
		var te *ImportTimeoutError
		if !errors.As(o.err, &te) || te.Rows != 10 {
			t.Fatalf("Apply: %v, want an ImportTimeoutError for 10 rows", o.err)
		}
		if len(o.results) != 0 {
			t.Errorf("%d acks for an unfinished import", len(o.results))
		}
	})
	t.Run("NothingToSendSendsNothing", func(t *testing.T) {
		h := newHarness(t, ModeImport, pushtest.Options{}, nil)
		if o := apply(t, context.Background(), h.sink, nil); o.err != nil {
			t.Fatal(o.err)
		}
		if n := len(h.srv.Requests()); n != 0 {
			t.Errorf("%d requests for an empty run", n)
		}
	})
	t.Run("SurvivesFaultsOnUploadAndStatus", func(t *testing.T) {
		h := newHarness(t, ModeImport, pushtest.Options{Seed: 3, FaultRate: 0.4, RetryAfter: "0"}, func(c *UserComConfig) {
			c.MaxFileSize = 1500
			c.Retries = 15
		})
		ops := creates(60, "f-", "1")
		o := apply(t, context.Background(), h.sink, ops)
		if o.err != nil {
			t.Fatal(o.err)
		}
		wantAllAcked(t, o, ops)
		wantCatalog(t, h.srv.Catalog(), payloads(ops))
		for id, n := range h.srv.Creates() {
			if n != 1 {
				t.Errorf("%s created %d times", id, n)
			}
		}
	})
}
