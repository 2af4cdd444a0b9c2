package tree

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/feedsync/feedsync/feed"
)

func TestGrouping(t *testing.T) {
	t.Run("GroupIDsCompareCaseInsensitively", func(t *testing.T) {
		p, _ := parent(t,
			item(1, "id", "A", "item_group_id", "abc123", "color", "Red"),
			item(2, "id", "B", "item_group_id", "ABC123", "color", "Blue"))
		// The byte-wise smallest spelling: the same whatever the order.
		if p.ID != "ABC123" || field(p, "variant_count") != "2" {
			t.Errorf("got %s with %s variants, want ABC123 with 2", p.ID, field(p, "variant_count"))
		}
	})
	t.Run("GroupsSpanTheWholeFeed", func(t *testing.T) {
		ps, _ := build(t, Options{Policy: PolicyParent},
			item(1, "id", "A", "item_group_id", "G1", "size", "S"),
			item(2, "id", "X", "item_group_id", "G2"),
			item(3, "id", "S1"),
			item(4, "id", "B", "item_group_id", "G1", "size", "M"))
		if len(ps) != 3 || field(ps["G1"], "variant_count") != "2" {
			t.Errorf("got %d products, G1 with %s variants; want 3 and 2", len(ps), field(ps["G1"], "variant_count"))
		}
		if !slices.Equal(ps["G1"].Lines, []int{1, 4}) {
			t.Errorf("G1 lines: got %v, want [1 4]", ps["G1"].Lines)
		}
	})
	for _, pol := range []Policy{PolicyParent, PolicyVariant} {
		t.Run("ItemsWithoutGroupStandalone/"+string(pol), func(t *testing.T) {
			ps, _ := build(t, Options{Policy: pol},
				item(1, "id", "MUG", "title", "Mug", "color", "Blue", "price", "5 EUR", "availability", "in stock"))
			p := ps["MUG"]
			if p == nil {
				t.Fatalf("no product MUG: %v", ps)
			}
			for k, want := range map[string]string{"name": `"Mug"`, "color": `"Blue"`, "price": "5", "currency": `"EUR"`, "availability": `"in_stock"`, "item_group_id": "", "variant_count": ""} {
				if got := field(p, k); got != want {
					t.Errorf("%s: got %s, want %s", k, got, want)
				}
			}
		})
	}
	t.Run("DuplicateIDKeepsTheFirstAndReportsTheOthers", func(t *testing.T) {
		ps, b := build(t, Options{Policy: PolicyVariant},
			item(3, "id", "abc1", "title", "First"),
			item(9, "id", "ABC1", "title", "Second"),
			item(12, "id", "Abc1", "title", "Third"))
		if len(ps) != 1 || ps["abc1"] == nil || field(ps["abc1"], "name") != `"First"` {
			t.Errorf("got %v, want only the first abc1", ps)
		}
		probs := b.Problems()
		if len(probs) != 2 || probs[0].Line != 9 || probs[1].Line != 12 || !strings.Contains(probs[0].Msg, "first seen on line 3") {
			t.Errorf("problems: got %v, want lines 9 and 12 naming line 3", probs)
		}
		if b.Skipped() != 2 || b.Items() != 3 {
			t.Errorf("Skipped %d, Items %d: want 2 and 3", b.Skipped(), b.Items())
		}
	})
	t.Run("ItemWithoutProductIDIsReportedAndSkipped", func(t *testing.T) {
		ps, b := build(t, Options{Policy: PolicyVariant, ProductID: "sku"},
			item(1, "id", "A", "sku", "SKU-1"),
			item(2, "id", "B"),
			item(3, "id", "C", "sku", "sku-1"))
		if len(ps) != 1 || ps["SKU-1"] == nil {
			t.Fatalf("got %v, want only SKU-1", ps)
		}
		if got := field(ps["SKU-1"], "sku"); got != `"A"` {
			t.Errorf("sku: got %s, want the feed id \"A\"", got)
		}
		probs := problemsText(b)
		for _, want := range []string{`line 2 (item "B"): no sku (the product id source): item skipped`, `line 3 (item "C"): duplicate sku "sku-1" (first seen on line 1): item skipped`} {
			if !strings.Contains(probs, want) {
				t.Errorf("problems: got %q, want %q", probs, want)
			}
		}
	})
	t.Run("DuplicatesFoundWithoutLineNumbers", func(t *testing.T) {
		ps, b := build(t, Options{}, item(0, "id", "A"), item(0, "id", "a"))
		if len(ps) != 1 || b.Skipped() != 1 {
			t.Errorf("got %d products, %d skipped; want 1 and 1", len(ps), b.Skipped())
		}
	})
	t.Run("DuplicateVariantInABigGroupNamesTheFirst", func(t *testing.T) {
		var items []*feed.Item
		for i := 0; i < 3*bigGroup; i++ {
			items = append(items, item(i+1, "id", fmt.Sprintf("V%d", i), "item_group_id", "G", "size", fmt.Sprint(i%(2*bigGroup))))
		}
		_, b := parent(t, items...)
		probs := b.Problems()
		if len(probs) != bigGroup || probs[0].Line != 2*bigGroup+1 || !strings.Contains(probs[0].Msg, "as the item on line 1;") {
			t.Errorf("got %d problems, first %v; want %d, the first on line %d naming line 1", len(probs), probs[0], bigGroup, 2*bigGroup+1)
		}
	})
	t.Run("DuplicateVariantReported", func(t *testing.T) {
		_, b := parent(t,
			item(1, "id", "A", "item_group_id", "G", "color", "Beige"),
			item(7, "id", "B", "item_group_id", "G", "color", "beige "),
			item(9, "id", "C", "item_group_id", "G", "color", "Beige", "size", "M"))
		probs := b.Problems()
		if len(probs) != 1 || probs[0].Line != 7 || !strings.Contains(probs[0].Msg, `duplicate variant in item_group_id "G": the same color "beige" as the item on line 1`) {
			t.Errorf("problems: got %v", probs)
		}
		if b.Skipped() != 0 {
			t.Errorf("Skipped: got %d, want 0 (a duplicate variant is reported, not skipped)", b.Skipped())
		}
	})
}

func TestVariantPolicy(t *testing.T) {
	ps, _ := build(t, Options{Policy: PolicyVariant},
		item(1, "id", "TEE-S", "item_group_id", "tee", "title", "Tee S", "link", "https://x/s", "price", "10 EUR", "availability", "out_of_stock",
			"brand", "Acme", "description", "Soft", "product_type", "Tops", "image_link", "https://x/s.jpg", "size", "S"),
		item(2, "id", "TEE-M", "item_group_id", "TEE", "title", "Tee M", "link", "https://x/m", "price", "12 EUR", "availability", "in_stock",
			"sale_price", "11 EUR", "size", "M", "google_product_category", "Apparel"),
		item(3, "id", "TEE-L", "item_group_id", "TEE", "title", "Tee L", "link", "https://x/l", "price", "13 EUR", "availability", "in_stock",
			"brand", "Acme L", "size", "L"))
	if len(ps) != 3 {
		t.Fatalf("got %d products, want one per variant", len(ps))
	}
	cases := []struct{ id, key, want string }{
		{"TEE-M", "custom_id", `"TEE-M"`},
		{"TEE-M", "item_group_id", `"TEE"`},
		{"TEE-S", "item_group_id", `"TEE"`},
		{"TEE-M", "price", "12"},
		{"TEE-M", "sale_price", "11"},
		{"TEE-M", "size", `"M"`},
		{"TEE-M", "name", `"Tee M"`},
		// Representative: TEE-L (lowest id in stock). TEE-M lacks brand: TEE-L's.
		{"TEE-M", "brand", `"Acme L"`},
		// Its own category beats inheritance.
		{"TEE-M", "category_name", `"Apparel"`},
		// Neither TEE-M nor the representative TEE-L has these: the first variant in representative order that has them.
		{"TEE-M", "description", `"Soft"`},
		{"TEE-M", "image_url", `"https://x/s.jpg"`},
		// TEE-M (in stock) comes before TEE-S (out of stock) in representative order.
		{"TEE-L", "category_name", `"Apparel"`},
		// Links are never inherited.
		{"TEE-M", "product_url", `"https://x/m"`},
		{"TEE-S", "availability", `"out_of_stock"`},
		{"TEE-S", "brand", `"Acme"`},
	}
	for _, c := range cases {
		if got := field(ps[c.id], c.key); got != c.want {
			t.Errorf("%s %s: got %s, want %s", c.id, c.key, got, c.want)
		}
	}
}

func TestMapping(t *testing.T) {
	long := strings.Repeat("é", 300)
	it := func() *feed.Item {
		return item(1, "id", "A", "title", "Tee", "link", "https://x/"+strings.Repeat("a", 300), "price", "1.299,90 EUR",
			"description", long, "material", "Cotton", "sku", "S-1", "google_product_category", "Apparel", "condition", " NEW ")
	}
	t.Run("Defaults", func(t *testing.T) {
		ps, _ := build(t, Options{}, it())
		p := ps["A"]
		for k, want := range map[string]string{"name": `"Tee"`, "category_name": `"Apparel"`, "price": "1299.9", "currency": `"EUR"`, "condition": `"new"`, "material": "", "sku": ""} {
			if got := field(p, k); got != want {
				t.Errorf("%s: got %s, want %s", k, got, want)
			}
		}
	})
	t.Run("AddAndDrop", func(t *testing.T) {
		ps, _ := build(t, Options{Fields: map[string]string{"material": "material", "sku": "sku", "description": "", "currency": ""}}, it())
		p := ps["A"]
		for k, want := range map[string]string{"material": `"Cotton"`, "sku": `"S-1"`, "description": "", "currency": "", "price": "1299.9"} {
			if got := field(p, k); got != want {
				t.Errorf("%s: got %s, want %s", k, got, want)
			}
		}
	})
	t.Run("Fallbacks", func(t *testing.T) {
		ps, _ := build(t, Options{Fields: map[string]string{"name": "short_title,title"}}, it())
		if got := field(ps["A"], "name"); got != `"Tee"` {
			t.Errorf("name: got %s, want the title when short_title is missing", got)
		}
	})
	t.Run("StringsCutTo256RunesURLsNot", func(t *testing.T) {
		ps, _ := build(t, Options{}, it())
		p := ps["A"]
		d := p.Payload()["description"].(string)
		if n := len([]rune(d)); n != MaxStringLen || d != strings.Repeat("é", MaxStringLen) {
			t.Errorf("description: got %d runes, want %d whole runes", n, MaxStringLen)
		}
		if got := p.Payload()["product_url"].(string); len(got) != len("https://x/")+300 {
			t.Errorf("product_url cut to %d bytes; URLs must not be cut", len(got))
		}
		if !slices.Equal(p.Truncated, []string{"description"}) {
			t.Errorf("Truncated: got %v, want [description]", p.Truncated)
		}
	})
	t.Run("PricesAreExactJSONNumbers", func(t *testing.T) {
		ps, _ := build(t, Options{}, item(1, "id", "A", "price", "0.30 USD", "sale_price", "0.1 USD"))
		if got := string(ps["A"].JSON()); got != `{"currency":"USD","custom_id":"A","price":0.3,"sale_price":0.1}` {
			t.Errorf("JSON: got %s", got)
		}
	})
	t.Run("CheckFields", func(t *testing.T) {
		if err := CheckFields(map[string]string{"custom_id": "sku"}); err == nil {
			t.Error("custom_id mapping accepted")
		}
		if err := CheckFields(map[string]string{"x": "price<"}); err == nil {
			t.Error("an attribute name with a space accepted")
		}
		if err := CheckFields(map[string]string{"material": "material", "description": ""}); err != nil {
			t.Errorf("valid mapping: %v", err)
		}
	})
}

func TestSaleWindow(t *testing.T) {
	cases := []struct {
		window string
		want   saleState
	}{
		{"", saleInForce},
		{"2026-06-01T00:00:00+00:00/2026-07-01T00:00:00+00:00", saleInForce},
		{"2026-06-15T12:00:00Z/2026-06-16T00:00:00Z", saleInForce}, // starts exactly now
		{"2026-06-15T12:00:01Z/2026-06-16T00:00:00Z", saleNotStarted},
		{"2026-06-01T00:00:00Z/2026-06-15T12:00:00Z", saleEnded}, // ends exactly now
		{"2026-06-15T13:00+0100/2026-06-16T00:00+0100", saleInForce},
		{"2026-06-15T13:00:01+01:00/2026-06-16T00:00+01:00", saleNotStarted},
		{"2026-06-01/2026-06-14", saleEnded},
		{"2026-06-01/2026-06-15", saleInForce},
		{"2026-06-16/", saleNotStarted},
		{"/2026-06-14", saleEnded},
		{"2026-06-01T00:00/2026-06-20T00:00", saleInForce},
		{"2026-06-01", saleMalformed},
		{"/", saleMalformed},
		{"2026-13-01/2026-14-01", saleMalformed},
		{"yesterday/tomorrow", saleMalformed},
		{"2026-06-20/2026-06-01", saleMalformed},
	}
	for _, c := range cases {
		if got, note, _ := saleAt(c.window, now); got != c.want {
			t.Errorf("saleAt(%q): got %s (%s), want %s", c.window, got, note, c.want)
		}
	}
}

func TestExplain(t *testing.T) {
	items := []*feed.Item{
		v(7, "TEE-RED-S", "in_stock", "19.90 EUR", "title", "Tee Basic - Red - S", "size", "S", "brand", "Example"),
		v(30, "TEE-BLUE-M", "out_of_stock", "17.50 EUR", "title", "Tee Basic - Blue - M", "size", "M"),
		v(61, "TEE-RED-M", "in_stock", "21.90 EUR", "title", "Tee Basic - Red - M", "size", "M", "sale_price", "18 EUR"),
		item(80, "id", "MUG", "title", "Mug", "price", "5 EUR"),
	}
	t.Run("Parent", func(t *testing.T) {
		_, b := build(t, Options{Policy: PolicyParent}, items...)
		e, err := b.Explain("g")
		if err != nil {
			t.Fatal(err)
		}
		if e.ID != "G" || len(e.Variants) != 3 || e.Variants[0].ID != "TEE-BLUE-M" || e.Variants[0].Line != 30 || e.Variants[0].Availability != "out_of_stock" || e.Variants[0].Price != "17.5 EUR" {
			t.Errorf("variants: got %+v", e.Variants)
		}
		why := map[string]ExplainedField{}
		for _, f := range e.Fields {
			why[f.Field] = f
		}
		for k, want := range map[string]string{
			"price":        "lowest of 2 in_stock variants in EUR (TEE-RED-M 21.9, TEE-RED-S 19.9)",
			"price_max":    "highest of the same 2 variants",
			"availability": "2 of 3 variants in_stock",
			"sale_price":   "lowest sale price in force among the in_stock variants in EUR (TEE-RED-M 18)",
			"name":         "common prefix of the 3 variant titles",
			"product_url":  "representative TEE-RED-M's link (lowest id among the 2 in_stock variants)",
			"brand":        "TEE-RED-S's brand: the representative TEE-RED-M has none",
		} {
			if !strings.Contains(why[k].Why, want) {
				t.Errorf("%s: got %q, want it to contain %q", k, why[k].Why, want)
			}
		}
		if why["price"].Value != "19.9" || why["name"].Value != `"Tee Basic"` {
			t.Errorf("values: price %s, name %s", why["price"].Value, why["name"].Value)
		}
		if s := e.String(); !strings.Contains(s, "* TEE-RED-M") || !strings.Contains(s, "line 61") {
			t.Errorf("String():\n%s", s)
		}
		if _, err := b.Explain("TEE-RED-S"); !errors.Is(err, ErrUnknownProduct) || !strings.Contains(err.Error(), `explain "G"`) {
			t.Errorf("a variant under parent: got %v", err)
		}
		if e, err := b.Explain("MUG"); err != nil || e.Fields[0].Field != "currency" {
			t.Errorf("standalone: got %v, %v", e, err)
		}
	})
	t.Run("Variant", func(t *testing.T) {
		_, b := build(t, Options{Policy: PolicyVariant}, items...)
		e, err := b.Explain("tee-blue-m")
		if err != nil {
			t.Fatal(err)
		}
		why := map[string]string{}
		for _, f := range e.Fields {
			why[f.Field] = f.Why
		}
		if !strings.Contains(why["brand"], "inherited from TEE-RED-S: this variant has no brand") {
			t.Errorf("brand: %q", why["brand"])
		}
		if len(e.Variants) != 3 || e.Variants[0].ID != "TEE-BLUE-M" {
			t.Errorf("variants: %+v", e.Variants)
		}
		if _, err := b.Explain("G"); !errors.Is(err, ErrUnknownProduct) {
			t.Errorf("a group under variant: got %v", err)
		}
		if _, err := b.Explain("nope"); !errors.Is(err, ErrUnknownProduct) {
			t.Errorf("unknown: got %v", err)
		}
	})
	t.Run("SaleNotInForce", func(t *testing.T) {
		_, b := build(t, Options{Policy: PolicyVariant, Now: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
			item(1, "id", "A", "price", "10 EUR", "sale_price", "8 EUR", "sale_price_effective_date", "2026-01-01/2026-02-01"))
		e, _ := b.Explain("A")
		for _, f := range e.Fields {
			if f.Field == "sale_price" && (f.Value != "" || !strings.Contains(f.Why, "not sent: ended")) {
				t.Errorf("sale_price: %+v", f)
			}
		}
	})
}

func TestVariantInheritanceInABigGroup(t *testing.T) {
	var items []*feed.Item
	for i := 0; i < 2*bigGroup; i++ {
		avail := "in_stock"
		if i == 0 {
			avail = "out_of_stock"
		}
		kv := []string{"id", fmt.Sprintf("V%02d", i), "item_group_id", "G", "size", fmt.Sprint(i), "availability", avail}
		switch i {
		case 0:
			kv = append(kv, "brand", "Out")
		case 40, 50:
			kv = append(kv, "brand", fmt.Sprintf("Brand %d", i))
		}
		items = append(items, item(i+1, kv...))
	}
	ps, _ := build(t, Options{Policy: PolicyVariant}, items...)
	for id, p := range ps {
		want := `"Brand 40"` // the lowest id among the in-stock variants that have a brand
		switch id {
		case "V00":
			want = `"Out"`
		case "V50":
			want = `"Brand 50"`
		}
		if got := field(p, "brand"); got != want {
			t.Errorf("%s brand: got %s, want %s", id, got, want)
		}
	}
}

// Expires is the first sale boundary after the run's clock among the items
// added: a caller that skips feeds by their bytes relies on it to read a
// feed again when a sale starts or ends.
func TestExpires(t *testing.T) {
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	sale := func(line int, id, window string) *feed.Item {
		return item(line, "id", id, "title", id, "price", "10 EUR", "sale_price", "8 EUR", "sale_price_effective_date", window)
	}
	cases := []struct {
		name  string
		items []*feed.Item
		want  time.Time
	}{
		{"no sale", []*feed.Item{item(1, "id", "A", "price", "10 EUR")}, time.Time{}},
		{"sale without window", []*feed.Item{item(1, "id", "A", "price", "10 EUR", "sale_price", "8 EUR")}, time.Time{}},
		{"window in force, open-ended", []*feed.Item{sale(1, "A", "2026-06-01/")}, time.Time{}},
		{"window ended", []*feed.Item{sale(1, "A", "2026-06-01/2026-06-10")}, time.Time{}},
		{"malformed window", []*feed.Item{sale(1, "A", "soon")}, time.Time{}},
		{"unusable sale price", []*feed.Item{item(1, "id", "A", "price", "10 EUR", "sale_price", "8 USD", "sale_price_effective_date", "2026-06-20/")}, time.Time{}},
		{"starts later", []*feed.Item{sale(1, "A", "2026-06-20T08:00:00Z/2026-06-30T00:00:00Z")}, time.Date(2026, 6, 20, 8, 0, 0, 0, time.UTC)},
		{"in force, its end (a bare date covers its day)", []*feed.Item{sale(1, "A", "2026-06-01/2026-06-17")}, time.Date(2026, 6, 18, 0, 0, 0, 0, time.UTC)},
		{"the earliest of several, zones honoured", []*feed.Item{
			sale(1, "A", "2026-06-20/2026-06-30"),
			sale(2, "B", "2026-06-16T09:00:00+02:00/2026-06-18T00:00:00Z"),
			sale(3, "C", "2026-06-01/2026-06-19"),
		}, time.Date(2026, 6, 16, 7, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, policy := range []Policy{PolicyParent, PolicyVariant} {
				_, b := build(t, Options{Policy: policy, Now: now}, c.items...)
				if got := b.Expires(); !got.Equal(c.want) {
					t.Errorf("%s: Expires() = %v, want %v", policy, got, c.want)
				}
			}
		})
	}
}
