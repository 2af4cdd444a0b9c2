package daemon

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/feedsync/feedsync/config"
	"github.com/feedsync/feedsync/engine"
	"github.com/feedsync/feedsync/publish"
	"github.com/feedsync/feedsync/push"
	"github.com/feedsync/feedsync/store"
	"github.com/feedsync/feedsync/tree"
)

// sharedIDFeed has every way two products can end up with one custom_id:
// a standalone item with its group's id, before and after the group, one
// that differs from a group id only in case (a product of its own, since
// custom_ids compare byte for byte), and repeated item ids.
const sharedIDFeed = `<?xml version="1.0"?>
<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel><title>t</title>
<item><g:id>SOLO</g:id><g:title>Solo</g:title><g:price>5.00 EUR</g:price></item>
<item><g:id>TEE</g:id><g:title>Tee standalone, before its group</g:title><g:price>9.00 EUR</g:price></item>
<item><g:id>TEE-S</g:id><g:item_group_id>TEE</g:item_group_id><g:title>Tee S</g:title><g:size>S</g:size><g:price>10.00 EUR</g:price></item>
<item><g:id>TEE-M</g:id><g:item_group_id>TEE</g:item_group_id><g:title>Tee M</g:title><g:size>M</g:size><g:price>10.00 EUR</g:price></item>
<item><g:id>CAP-1</g:id><g:item_group_id>CAP</g:item_group_id><g:title>Cap one</g:title><g:color>red</g:color><g:price>7.00 EUR</g:price></item>
<item><g:id>CAP-2</g:id><g:item_group_id>CAP</g:item_group_id><g:title>Cap two</g:title><g:color>blue</g:color><g:price>7.00 EUR</g:price></item>
<item><g:id>CAP</g:id><g:title>Cap standalone, after its group</g:title><g:price>6.00 EUR</g:price></item>
<item><g:id>HAT-1</g:id><g:item_group_id>HAT</g:item_group_id><g:title>Hat one</g:title><g:size>S</g:size><g:price>8.00 EUR</g:price></item>
<item><g:id>HAT-2</g:id><g:item_group_id>HAT</g:item_group_id><g:title>Hat two</g:title><g:size>L</g:size><g:price>8.00 EUR</g:price></item>
<item><g:id>hat</g:id><g:title>hat: the group's id in lower case</g:title><g:price>6.50 EUR</g:price></item>
<item><g:id>solo</g:id><g:title>A repeated item id</g:title><g:price>5.00 EUR</g:price></item>
</channel></rss>
`

// Sync, transform and publish take products from the same builder rules:
// the same feed gives the same custom_ids, the same products, through each.
func TestSyncTransformAndPublishAgreeOnProducts(t *testing.T) {
	for _, policy := range []tree.Policy{tree.PolicyParent, tree.PolicyVariant} {
		t.Run(string(policy), func(t *testing.T) {
			dir := t.TempDir()
			src := filepath.Join(dir, "feed.xml")
			if err := os.WriteFile(src, []byte(sharedIDFeed), 0o644); err != nil {
				t.Fatal(err)
			}
			opts := publish.TransformOptions{Policy: policy, ProductID: "id"}

			// Transform, to the JSONL sink's line format.
			var out bytes.Buffer
			in, _ := os.Open(src)
			defer in.Close()
			topts := opts
			topts.To = publish.OutputJSONL
			tsum, err := publish.Transform(context.Background(), in, &out, topts)
			if err != nil {
				t.Fatal(err)
			}
			transformed := jsonlProducts(t, out.Bytes())

			// Sync into the JSONL sink, publishing the run's products.
			db, err := store.Open(filepath.Join(dir, "state.db"), store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			catalog := filepath.Join(dir, "catalog.jsonl")
			pub, err := publish.NewPublisher(filepath.Join(dir, "published"))
			if err != nil {
				t.Fatal(err)
			}
			defer pub.Close()
			ed, err := pub.Begin("shop", opts)
			if err != nil {
				t.Fatal(err)
			}
			fc := config.FeedDefaults()
			fc.Name, fc.URL, fc.Policy = "shop", src, policy
			s := &engine.Syncer{DB: db, Sink: push.NewFileSink(catalog)}
			ssum, err := s.Sync(context.Background(), &fc, engine.Options{Mode: engine.ModeSync, Log: zerolog.Nop(),
				Observer: editionObserver{LogProblems: engine.LogProblems{Log: zerolog.Nop()}, ed: ed}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ed.Commit(); err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(catalog)
			if err != nil {
				t.Fatal(err)
			}
			synced := jsonlProducts(t, raw)
			published := publishedIDs(t, pub.Path("shop"))

			ids := func(m map[string]string) []string {
				out := make([]string, 0, len(m))
				for id := range m {
					out = append(out, id)
				}
				slices.Sort(out)
				return out
			}
			want := map[tree.Policy][]string{
				// TEE (standalone, first) takes the group's id; CAP's group
				// comes first and keeps it; "hat" is a product of its own
				// beside group HAT; the repeated "solo" is skipped by id.
				tree.PolicyParent:  {"CAP", "HAT", "SOLO", "TEE", "hat"},
				tree.PolicyVariant: {"CAP", "CAP-1", "CAP-2", "HAT-1", "HAT-2", "SOLO", "TEE", "TEE-M", "TEE-S", "hat"},
			}[policy]
			if got := ids(synced); !slices.Equal(got, want) {
				t.Errorf("sync sent %q, want %q", got, want)
			}
			if got := ids(transformed); !slices.Equal(got, ids(synced)) {
				t.Errorf("transform wrote %q, sync sent %q", got, ids(synced))
			}
			if !slices.Equal(published, ids(synced)) {
				t.Errorf("publish served %q, sync sent %q", published, ids(synced))
			}
			for id, p := range synced {
				if transformed[id] != p {
					t.Errorf("%s: transform wrote %s, sync sent %s", id, transformed[id], p)
				}
			}
			if ssum.Products != len(want) || tsum.Products != len(want) || ssum.Skipped != tsum.Skipped {
				t.Errorf("summaries disagree: sync %d products %d skipped, transform %d products %d skipped", ssum.Products, ssum.Skipped, tsum.Products, tsum.Skipped)
			}
		})
	}
}

// jsonlProducts maps each upsert line's id to its product JSON.
func jsonlProducts(t *testing.T, b []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l struct {
			Op      string          `json:"op"`
			ID      string          `json:"id"`
			Product json.RawMessage `json:"product"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil || l.Op != "upsert" {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if _, dup := out[l.ID]; dup {
			t.Errorf("%s written twice", l.ID)
		}
		out[l.ID] = string(l.Product)
	}
	return out
}

// publishedIDs are the g:id values of a published RSS feed, sorted.
func publishedIDs(t *testing.T, path string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Items []struct {
			ID string `xml:"http://base.google.com/ns/1.0 id"`
		} `xml:"channel>item"`
	}
	if err := xml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, it := range doc.Items {
		ids = append(ids, strings.TrimSpace(it.ID))
	}
	slices.Sort(ids)
	return ids
}
