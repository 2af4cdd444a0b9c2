package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/feedsync/feedsync/config"
	"github.com/feedsync/feedsync/feed"
	"github.com/feedsync/feedsync/store"
	"github.com/feedsync/feedsync/tree"
)

// fullScan runs a sync that skips the fetch shortcuts, so that the whole
// pipeline runs, as the no-change benchmark does.
func (h *harness) fullScan(now time.Time) Summary {
	h.t.Helper()
	s, err := (&Syncer{DB: h.db, Sink: h.sink}).Sync(context.Background(), &h.fc, Options{Mode: ModeSync, FullScan: true,
		AllowMassDelete: true, Log: zerolog.Nop(), Now: func() time.Time { return now }})
	if err != nil {
		h.t.Fatalf("sync: %v", err)
	}
	return s
}

// fresh builds the feed's products as a first sync would, with nothing
// known: id → payload, decoded as the catalog decodes it.
func (h *harness) fresh(now time.Time) map[string]map[string]any {
	h.t.Helper()
	f, err := os.Open(h.path)
	if err != nil {
		h.t.Fatal(err)
	}
	defer f.Close()
	rd, err := feed.NewReader(f, h.path, h.fc.Format)
	if err != nil {
		h.t.Fatal(err)
	}
	b := tree.NewBuilder(tree.Options{Policy: h.fc.Policy, ProductID: h.fc.ProductID, Fields: h.fc.Fields, Now: now})
	defer b.Close()
	if err := b.ReadAll(context.Background(), rd); err != nil {
		h.t.Fatal(err)
	}
	out := map[string]map[string]any{}
	if err := b.Finish(func(p *tree.Product) error {
		var m map[string]any
		if err := json.Unmarshal(p.AppendJSON(nil), &m); err != nil {
			return err
		}
		out[p.ID] = m
		return nil
	}); err != nil {
		h.t.Fatal(err)
	}
	return out
}

// attrs is one feed item: attribute, value, in order.
type attrs [][2]string

func (a attrs) with(name, value string) attrs {
	out := make(attrs, 0, len(a))
	for _, kv := range a {
		if kv[0] == name {
			kv[1] = value
		}
		out = append(out, kv)
	}
	return out
}

func rssOf(items []attrs) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel><title>t</title>` + "\n")
	for _, it := range items {
		b.WriteString("<item>")
		for _, kv := range it {
			fmt.Fprintf(&b, "<g:%s>%s</g:%s>", kv[0], kv[1], kv[0])
		}
		b.WriteString("</item>\n")
	}
	b.WriteString("</channel></rss>\n")
	return b.String()
}

// fullItem has every attribute that the default mapping, the derived
// fields and a custom mapping read.
func fullItem(id, group, color, size, price string) attrs {
	a := attrs{{"id", id}}
	if group != "" {
		a = append(a, [2]string{"item_group_id", group})
	}
	return append(a, attrs{
		{"title", "Shirt " + id}, {"description", "A shirt called " + id}, {"link", "https://shop.example/p/" + id},
		{"image_link", "https://shop.example/i/" + id + ".jpg"}, {"product_type", "Apparel &gt; Shirts"},
		{"google_product_category", "212"}, {"brand", "Acme"}, {"gtin", "0001234567" + fmt.Sprint(len(id))}, {"mpn", "M-" + id},
		{"condition", "new"}, {"color", color}, {"size", size}, {"material", "cotton"}, {"pattern", "striped"},
		{"price", price}, {"sale_price", "5.00 EUR"}, {"sale_price_effective_date", "2020-01-01T00:00Z/2020-01-02T00:00Z"},
		{"availability", "in stock"}, {"custom_label_0", "summer"},
	}...)
}

// mutate is a value other than v for attribute name, that a feed could
// carry.
func mutate(name, v string) string {
	switch name {
	case "price":
		return "11.50 EUR"
	case "sale_price":
		return "4.00 EUR"
	case "availability":
		return "out of stock"
	case "condition":
		return "used"
	case "gtin":
		return "0009876543210"
	case "google_product_category":
		return "1604"
	case "sale_price_effective_date":
		return "2020-01-01T00:00Z/2099-01-01T00:00Z" // in force now
	case "link", "image_link":
		return v + "?v=2"
	case "item_group_id":
		return v + "-B"
	}
	return v + " II"
}

// checkCatalog fails unless the catalog holds exactly the feed's products
// as a first sync would build them.
func (h *harness) checkCatalog(what string, now time.Time) {
	h.t.Helper()
	want := h.fresh(now)
	h.sink.mu.Lock()
	defer h.sink.mu.Unlock()
	if !reflect.DeepEqual(h.sink.catalog, want) {
		var ids []string
		for id := range want {
			if !reflect.DeepEqual(h.sink.catalog[id], want[id]) {
				ids = append(ids, id)
			}
		}
		for id := range h.sink.catalog {
			if _, ok := want[id]; !ok {
				ids = append(ids, id)
			}
		}
		sort.Strings(ids)
		id := ids[0]
		h.t.Errorf("%s: the catalog differs from the feed for %v; first, %s:\n catalog %v\n feed    %v", what, ids, id, h.sink.catalog[id], want[id])
	}
}

// The shortcut for products known by what they are made from never hides
// a change: each attribute of each kind of item (a variant, its group's
// other variant, a standalone item), under both policies; the mapping; the
// policy; a sale window that opens and closes between runs. After every
// run the catalog equals a build of the feed from nothing, and a run with
// nothing changed shapes nothing — so the shortcut is on throughout.
func TestKnownInputsNeverHideAChange(t *testing.T) {
	base := []attrs{
		fullItem("V1", "G1", "red", "M", "10.00 EUR"),
		fullItem("V2", "G1", "blue", "L", "12.00 EUR"),
		fullItem("S1", "", "green", "S", "20.00 EUR"),
	}
	t0 := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	for _, policy := range []tree.Policy{tree.PolicyVariant, tree.PolicyParent} {
		t.Run(string(policy), func(t *testing.T) {
			h := newHarness(t)
			h.fc.Policy, h.fc.OnMissing = policy, config.OnMissingDelete
			h.fc.Fields = map[string]string{"label": "custom_label_0"}
			h.write(rssOf(base))
			h.fullScan(t0)
			h.checkCatalog("first sync", t0)
			h.sink.takeOps()
			if s := h.fullScan(t0); s.Shaped != 0 || s.Unchanged != s.Products || len(h.sink.takeOps()) != 0 {
				t.Fatalf("nothing changed: %+v; want no product shaped and nothing sent", s)
			}
			changed := 0
			for i := range base {
				for _, kv := range base[i] {
					name := kv[0]
					if name == "id" {
						continue
					}
					items := append([]attrs(nil), base...)
					items[i] = items[i].with(name, mutate(name, kv[1]))
					what := fmt.Sprintf("%s of %s changed", name, items[i][0][1])
					before := h.fresh(t0)
					h.write(rssOf(items))
					after := h.fresh(t0)
					if !reflect.DeepEqual(before, after) {
						changed++
					}
					h.fullScan(t0)
					h.checkCatalog(what, t0)
					// Back to the base feed, which must be restored too.
					h.write(rssOf(base))
					h.fullScan(t0)
					h.checkCatalog(what+", then back", t0)
					if s := h.fullScan(t0); s.Shaped != 0 {
						t.Fatalf("%s, back, again: %d products shaped; want none", what, s.Shaped)
					}
					h.sink.takeOps()
				}
			}
			// Every attribute but a few that this shape does not send
			// (under parent, the non-representative's per-variant ones)
			// changed some payload: the test is not vacuous.
			t.Logf("%d attribute changes changed a payload", changed)
			if want := map[tree.Policy]int{tree.PolicyVariant: 45, tree.PolicyParent: 35}[policy]; changed < want {
				t.Errorf("only %d of the attribute changes changed a payload, want %d or more", changed, want)
			}

			// The mapping.
			h.fc.Fields = map[string]string{"label": "custom_label_0", "description": "", "material_name": "material"}
			if s := h.fullScan(t0); s.Updated == 0 {
				t.Errorf("mapping changed: %+v; want updates", s)
			}
			h.checkCatalog("mapping changed", t0)
			h.sink.takeOps()
			// A mapping that leaves every record as it was and drops a
			// field the payload takes from them.
			h.fc.Fields["availability"] = ""
			if s := h.fullScan(t0); s.Updated == 0 {
				t.Errorf("availability no longer sent: %+v; want updates", s)
			}
			h.checkCatalog("availability no longer sent", t0)

			// A sale window that opens an hour later and closes an hour
			// after that.
			items := append([]attrs(nil), base...)
			for i := range items {
				items[i] = items[i].with("sale_price_effective_date", "2026-12-02T13:00Z/2026-12-02T14:00Z")
			}
			h.write(rssOf(items))
			h.fullScan(t0)
			h.checkCatalog("a sale ahead", t0)
			if s := h.fullScan(t0); s.Shaped != 0 {
				t.Fatalf("a sale ahead, again: %d products shaped; want none", s.Shaped)
			}
			for _, at := range []time.Time{t0.Add(90 * time.Minute), t0.Add(3 * time.Hour)} {
				if s := h.fullScan(at); s.Updated == 0 {
					t.Errorf("at %s: %+v; want the sale's products updated", at.Format(time.TimeOnly), s)
				}
				h.checkCatalog("sale at "+at.Format(time.TimeOnly), at)
			}
		})
	}

	// The policy.
	h := newHarness(t)
	h.fc.OnMissing = config.OnMissingDelete
	h.write(rssOf(base))
	h.fullScan(t0)
	h.checkCatalog("variant", t0)
	h.fc.Policy = tree.PolicyParent
	h.fullScan(t0)
	h.checkCatalog("switched to parent", t0)
	h.fc.Policy = tree.PolicyVariant
	h.fullScan(t0)
	h.checkCatalog("switched back to variant", t0)
	if s := h.fullScan(t0); s.Shaped != 0 {
		t.Errorf("after the switches, nothing changed: %d shaped; want none", s.Shaped)
	}
	h.sink.takeOps()

	// Another catalog: every product is sent to it.
	s, err := (&Syncer{DB: h.db, Sink: otherTarget{h.sink}}).Sync(context.Background(), &h.fc, Options{Mode: ModeSync, FullScan: true, Log: zerolog.Nop(), Now: func() time.Time { return t0 }})
	if err != nil || s.Created+s.Updated != s.Products || len(h.sink.takeOps()) != s.Products {
		t.Errorf("another catalog: %v %+v; want every product sent", err, s)
	}
}

// otherTarget is the same sink under another catalog's name.
type otherTarget struct{ *memorySink }

func (otherTarget) Target() string { return "memory-2" }

// A state written before Inputs existed (or by another build) has none:
// the first run shapes every product, sends nothing for unchanged ones and
// learns their Inputs; the next shapes none.
func TestInputsAreLearntFromUnchangedProducts(t *testing.T) {
	t.Run("AfterTheDiff", func(t *testing.T) { testInputsAreLearnt(t, false) })
	t.Run("OnTheWay", func(t *testing.T) {
		defer func(n int) { learnBatch = n }(learnBatch)
		learnBatch = 4 // several batches of fixes during the diff
		testInputsAreLearnt(t, false)
	})
	// A state with Inputs but without Raws (written before recognition):
	// the products known by their Input must still learn their Raws.
	t.Run("RawsBesideKnownInputs", func(t *testing.T) { testInputsAreLearnt(t, true) })
}

// testInputsAreLearnt: a state without Inputs learns them, and the items'
// Raws beside them, from a run that finds its products unchanged.
func testInputsAreLearnt(t *testing.T, keepInputs bool) {
	h := newHarness(t)
	h.write(rss(catalogOf(30)...))
	h.fullScan(time.Now())
	// Forget the Inputs, as an older state has none.
	var ids []string
	h.sink.mu.Lock()
	for id := range h.sink.catalog {
		ids = append(ids, id)
	}
	h.sink.mu.Unlock()
	var acks []store.Ack
	for _, id := range ids {
		r, _, err := h.db.Get("shop", id)
		if err != nil {
			t.Fatal(err)
		}
		// The same acknowledgement, without an Input (or only without Raws).
		a := store.Ack{ID: id, At: r.LastPushed, Hash: r.Hash, Payload: r.Payload, State: r.State}
		if keepInputs {
			a.Input = r.Input
		}
		acks = append(acks, a)
	}
	if err := h.db.CommitBatch("shop", acks, nil); err != nil {
		t.Fatal(err)
	}
	h.sink.takeOps()
	if s := h.fullScan(time.Now()); s.Shaped != 30 || s.Unchanged != 30 || len(h.sink.takeOps()) != 0 {
		t.Fatalf("without Inputs: %+v; want all 30 shaped, none sent", s)
	}
	if s := h.fullScan(time.Now()); s.Shaped != 0 || s.Unchanged != 30 || s.Recognised != 30 {
		t.Fatalf("after learning: %+v; want none shaped, every item recognised", s)
	}
}
