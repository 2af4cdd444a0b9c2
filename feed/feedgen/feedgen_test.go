package feedgen_test

import (
	"bytes"
	"crypto/sha256"
	"io"
	"testing"

	"github.com/feedsync/feedsync/feed"
	"github.com/feedsync/feedsync/feed/feedgen"
)

func generate(t *testing.T, o feedgen.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := feedgen.Write(&buf, o); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestWriteIsDeterministic(t *testing.T) {
	for _, f := range feedgen.Formats {
		a := sha256.Sum256(generate(t, feedgen.Options{Format: f, Items: 500, Seed: 42}))
		b := sha256.Sum256(generate(t, feedgen.Options{Format: f, Items: 500, Seed: 42}))
		c := sha256.Sum256(generate(t, feedgen.Options{Format: f, Items: 500, Seed: 43}))
		if a != b {
			t.Errorf("%s: the same options gave different feeds", f)
		}
		if a == c {
			t.Errorf("%s: different seeds gave the same feed", f)
		}
	}
}

// TestWriteReadsBack reads every format back with package feed: the item
// count, unique ids, the share of variants and the size per item.
func TestWriteReadsBack(t *testing.T) {
	const n = 2000
	for _, f := range feedgen.Formats {
		t.Run(string(f), func(t *testing.T) {
			data := generate(t, feedgen.Options{Format: f, Items: n, Seed: 1})
			r, err := feed.NewReader(bytes.NewReader(data), string(f), feed.FormatAuto)
			if err != nil {
				t.Fatal(err)
			}
			if string(r.Format()) != string(f) {
				t.Errorf("detected %s", r.Format())
			}
			ids := make(map[string]bool)
			variants, shipping := 0, 0
			for {
				it, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if ids[it.ID()] {
					t.Errorf("duplicate id %q", it.ID())
				}
				ids[it.ID()] = true
				if it.Get("item_group_id") != "" {
					variants++
				}
				if it.Get("shipping") != "" || len(it.All("shipping")) > 0 {
					shipping++
				}
			}
			if len(ids) != n {
				t.Errorf("read %d items, want %d", len(ids), n)
			}
			if share := float64(variants) / n; share < 0.35 || share > 0.45 {
				t.Errorf("variant share %.2f, want about %.2f", share, feedgen.VariantShare)
			}
			if shipping != n {
				t.Errorf("%d items with shipping, want all %d", shipping, n)
			}
			if f == feedgen.RSS {
				if per := len(data) / n; per < 1900 || per > 2300 {
					t.Errorf("%d bytes per RSS item, want about 2100", per)
				}
			}
		})
	}
}

func TestWriteRejectsUnknownFormat(t *testing.T) {
	if err := feedgen.Write(io.Discard, feedgen.Options{Format: "json", Items: 1}); err == nil {
		t.Error("no error for format json")
	}
}
