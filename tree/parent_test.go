package tree

import (
	"slices"
	"strings"
	"testing"

	"github.com/feedsync/feedsync/feed"
)

func TestParentRepresentative(t *testing.T) {
	// The representative shows through product_url (its link).
	cases := []struct {
		name  string
		items []*feed.Item
		want  string
	}{
		{"LowestIDAmongInStock", []*feed.Item{v(1, "B", "in_stock", ""), v(2, "A", "out_of_stock", ""), v(3, "C", "in_stock", "")}, "B"},
		{"PreorderWhenNoneInStock", []*feed.Item{v(1, "A", "out_of_stock", ""), v(2, "C", "preorder", ""), v(3, "B", "backorder", "")}, "C"},
		{"BackorderWhenNoneInStockOrPreorder", []*feed.Item{v(1, "A", "out_of_stock", ""), v(2, "C", "backorder", "")}, "C"},
		{"LowestIDWhenNoneAvailable", []*feed.Item{v(1, "C", "out_of_stock", ""), v(2, "B", "out_of_stock", ""), v(3, "D", "", "")}, "B"},
		{"IDsCompareCaseInsensitively", []*feed.Item{v(1, "b", "in_stock", ""), v(2, "A", "in_stock", "")}, "A"},
		{"AvailabilitySpellingsNormalised", []*feed.Item{v(1, "A", "out of stock", ""), v(2, "B", "http://schema.org/InStock", "")}, "B"},
		{"UnknownAvailabilityCountsAsUnavailable", []*feed.Item{v(1, "A", "maybe", ""), v(2, "B", "preorder", "")}, "B"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, _ := parent(t, c.items...)
			if got, want := field(p, "product_url"), `"https://x.example/`+c.want+`"`; got != want {
				t.Errorf("product_url: got %s, want %s (representative %s)", got, want, c.want)
			}
		})
	}
}

func TestParentName(t *testing.T) {
	cases := []struct {
		name   string
		titles []string
		want   string
	}{
		{"CommonPrefixWithoutSeparators", []string{"Tee Basic - Red - S", "Tee Basic - Blue - M"}, "Tee Basic"},
		{"CutOnAWordBoundary", []string{"Shirt Red", "Shirt Redwood"}, "Shirt"},
		{"WholeWordSharedAndEnded", []string{"Shirt Red", "Shirt Red XL"}, "Shirt Red"},
		{"EnDashIsASeparator", []string{"Ridge Tent 2P – Green", "Ridge Tent 2P – Sand"}, "Ridge Tent 2P"},
		{"MultiByteRunesNotSplit", []string{"Tent – Green", "Tent — Sand"}, "Tent"},
		{"PipeCommaSlashColon", []string{"Mug | 350 ml, blue / x: 1", "Mug | 350 ml, blue / y: 2"}, "Mug | 350 ml, blue"},
		{"ShorterThanThreeFallsBackToRepresentative", []string{"Ab Red", "Ab Blue"}, "Ab Blue"},
		{"NothingInCommonFallsBackToRepresentative", []string{"Red tee", "Blue tee"}, "Blue tee"},
		{"WhiteSpaceCollapsed", []string{" Tee  Basic Red", "Tee Basic   Blue "}, "Tee Basic"},
		{"CyrillicPrefix", []string{"Смартфон Galaxy S25 Белый", "Смартфон Galaxy S25 Черный"}, "Смартфон Galaxy S25"},
		{"OneVariantKeepsItsTitle", []string{"Tee Basic - Red -"}, "Tee Basic - Red -"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var items []*feed.Item
			for i, title := range c.titles {
				// The second variant is the representative (in stock, others not).
				avail := "out_of_stock"
				if i == 1 || len(c.titles) == 1 {
					avail = "in_stock"
				}
				items = append(items, item(i+1, "id", string(rune('A'+i)), "item_group_id", "G", "title", title, "availability", avail))
			}
			p, _ := parent(t, items...)
			if got := p.Payload()["name"]; got != c.want {
				t.Errorf("name: got %q, want %q", got, c.want)
			}
		})
	}
}

func TestParentPrice(t *testing.T) {
	cases := []struct {
		name          string
		items         []*feed.Item
		price, max    string
		currency      string
		wantProblem   string
		noPriceFields bool
	}{
		{"LowestAndHighestOfInStock",
			[]*feed.Item{v(1, "A", "in_stock", "19.90 EUR"), v(2, "B", "in_stock", "21.90 EUR"), v(3, "C", "in_stock", "20 EUR")},
			"19.9", "21.9", `"EUR"`, "", false},
		{"ParentPriceIgnoresOutOfStock",
			[]*feed.Item{v(1, "A", "in_stock", "19.90 EUR"), v(2, "B", "out_of_stock", "9.90 EUR"), v(3, "C", "out_of_stock", "99 EUR")},
			"19.9", "19.9", `"EUR"`, "", false},
		{"PriceFromTheBestAvailableTier",
			[]*feed.Item{v(1, "A", "preorder", "30 EUR"), v(2, "B", "backorder", "10 EUR"), v(3, "C", "preorder", "40 EUR")},
			"30", "40", `"EUR"`, "", false},
		{"UnavailablePricesWhenNoneAvailable",
			[]*feed.Item{v(1, "A", "out_of_stock", "30 EUR"), v(2, "B", "out_of_stock", "10 EUR")},
			"10", "30", `"EUR"`, "", false},
		{"ExactDecimalsNoFloat",
			[]*feed.Item{v(1, "A", "in_stock", "0.10 USD"), v(2, "B", "in_stock", "1299999999999999.99 USD")},
			"0.1", "1299999999999999.99", `"USD"`, "", false},
		{"DecimalsCompareByValueNotText",
			[]*feed.Item{v(1, "A", "in_stock", "9.5 USD"), v(2, "B", "in_stock", "10 USD"), v(3, "C", "in_stock", "100 USD")},
			"9.5", "100", `"USD"`, "", false},
		{"MixedCurrenciesRepresentativeWins",
			[]*feed.Item{v(1, "B", "in_stock", "5 USD"), v(2, "A", "in_stock", "20 EUR"), v(3, "C", "in_stock", "25 EUR")},
			"20", "25", `"EUR"`, `mixes currencies (EUR, USD): the representative A's currency EUR wins`, false},
		{"UnreadablePricesLeftOut",
			[]*feed.Item{v(1, "A", "in_stock", "abc"), v(2, "B", "in_stock", "12 EUR")},
			"12", "12", `"EUR"`, "", false},
		{"NoPriceInTheTierNoPriceFields",
			[]*feed.Item{v(1, "A", "in_stock", ""), v(2, "B", "out_of_stock", "12 EUR")},
			"", "", "", "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, b := parent(t, c.items...)
			if c.noPriceFields {
				for _, k := range []string{"price", "price_max", "currency"} {
					if _, ok := p.Payload()[k]; ok {
						t.Errorf("%s: got %s, want none", k, field(p, k))
					}
				}
				return
			}
			if got := field(p, "price"); got != c.price {
				t.Errorf("price: got %s, want %s", got, c.price)
			}
			if got := field(p, "price_max"); got != c.max {
				t.Errorf("price_max: got %s, want %s", got, c.max)
			}
			if got := field(p, "currency"); got != c.currency {
				t.Errorf("currency: got %s, want %s", got, c.currency)
			}
			probs := problemsText(b)
			if c.wantProblem == "" && probs != "" {
				t.Errorf("problems: got %q, want none", probs)
			}
			if !strings.Contains(probs, c.wantProblem) {
				t.Errorf("problems: got %q, want one containing %q", probs, c.wantProblem)
			}
		})
	}
}

func TestParentSalePrice(t *testing.T) {
	// now is 2026-06-15T12:00Z.
	cases := []struct {
		name        string
		items       []*feed.Item
		want        string // JSON, "" for none
		wantProblem string
	}{
		{"NoDateIsInForce", []*feed.Item{v(1, "A", "in_stock", "20 EUR", "sale_price", "15 EUR")}, "15", ""},
		{"LowestOfTheInStockVariants", []*feed.Item{
			v(1, "A", "in_stock", "20 EUR", "sale_price", "15 EUR"),
			v(2, "B", "in_stock", "20 EUR", "sale_price", "12.50 EUR"),
			v(3, "C", "out_of_stock", "20 EUR", "sale_price", "5 EUR")}, "12.5", ""},
		{"InsideTheWindow", []*feed.Item{v(1, "A", "in_stock", "20 EUR", "sale_price", "15 EUR",
			"sale_price_effective_date", "2026-06-01T00:00:00+00:00/2026-07-01T00:00:00+00:00")}, "15", ""},
		{"WindowNotStarted", []*feed.Item{v(1, "A", "in_stock", "20 EUR", "sale_price", "15 EUR",
			"sale_price_effective_date", "2026-07-01T00:00-0800/2026-07-11T15:30-0800")}, "", ""},
		{"WindowEnded", []*feed.Item{v(1, "A", "in_stock", "20 EUR", "sale_price", "15 EUR",
			"sale_price_effective_date", "2026-05-09T00:00:00+00:00/2026-06-15T12:00:00Z")}, "", ""},
		{"EndDateCoversTheWholeDay", []*feed.Item{v(1, "A", "in_stock", "20 EUR", "sale_price", "15 EUR",
			"sale_price_effective_date", "2026-06-01/2026-06-15")}, "15", ""},
		{"OpenEndedStartOnly", []*feed.Item{v(1, "A", "in_stock", "20 EUR", "sale_price", "15 EUR",
			"sale_price_effective_date", "2026-06-01T00:00Z/")}, "15", ""},
		{"OpenEndedEndOnly", []*feed.Item{v(1, "A", "in_stock", "20 EUR", "sale_price", "15 EUR",
			"sale_price_effective_date", "/2026-06-20T00:00+0000")}, "15", ""},
		{"MalformedDateNotInForceAndReported", []*feed.Item{v(1, "A", "in_stock", "20 EUR", "sale_price", "15 EUR",
			"sale_price_effective_date", "next week")}, "", `sale_price_effective_date "next week"`},
		{"EndBeforeStartIsMalformed", []*feed.Item{v(1, "A", "in_stock", "20 EUR", "sale_price", "15 EUR",
			"sale_price_effective_date", "2026-07-01/2026-06-01")}, "", "end is not after start"},
		{"OneInForceOneEnded", []*feed.Item{
			v(1, "A", "in_stock", "20 EUR", "sale_price", "10 EUR", "sale_price_effective_date", "2026-01-01/2026-02-01"),
			v(2, "B", "in_stock", "20 EUR", "sale_price", "14 EUR")}, "14", ""},
		{"OtherCurrencyIgnoredAndReported", []*feed.Item{v(1, "A", "in_stock", "20 EUR", "sale_price", "15 USD")}, "", `sale price in "USD", price in "EUR"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, b := parent(t, c.items...)
			if got := field(p, "sale_price"); got != c.want {
				t.Errorf("sale_price: got %q, want %q", got, c.want)
			}
			probs := problemsText(b)
			if c.wantProblem == "" && probs != "" {
				t.Errorf("problems: got %q, want none", probs)
			}
			if !strings.Contains(probs, c.wantProblem) {
				t.Errorf("problems: got %q, want one containing %q", probs, c.wantProblem)
			}
		})
	}
}

func TestParentAvailabilityAndCounts(t *testing.T) {
	cases := []struct {
		name           string
		avails         []string
		want           string
		inStock, count string
	}{
		{"AnyInStock", []string{"out_of_stock", "in_stock", "preorder"}, `"in_stock"`, "1", "3"},
		{"PreorderBeforeBackorder", []string{"backorder", "preorder", "out_of_stock"}, `"preorder"`, "0", "3"},
		{"Backorder", []string{"backorder", "out_of_stock"}, `"backorder"`, "0", "2"},
		{"AllOutOfStock", []string{"out_of_stock", "out of stock"}, `"out_of_stock"`, "0", "2"},
		{"MissingCountsAsOutOfStock", []string{"", ""}, `"out_of_stock"`, "0", "2"},
		{"LegacySpellings", []string{"in stock", "in stock"}, `"in_stock"`, "2", "2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var items []*feed.Item
			for i, a := range c.avails {
				items = append(items, v(i+1, string(rune('A'+i)), a, ""))
			}
			p, _ := parent(t, items...)
			if got := field(p, "availability"); got != c.want {
				t.Errorf("availability: got %s, want %s", got, c.want)
			}
			if got := field(p, "in_stock_count"); got != c.inStock {
				t.Errorf("in_stock_count: got %s, want %s", got, c.inStock)
			}
			if got := field(p, "variant_count"); got != c.count {
				t.Errorf("variant_count: got %s, want %s", got, c.count)
			}
		})
	}
}

func TestParentDistinctValues(t *testing.T) {
	cases := []struct {
		name, attr, field string
		values            []string
		want              string
	}{
		{"LetterSizesInSizeOrder", "size", "sizes", []string{"XL", "S", "XXL", "M", "XS", "L"}, "XS, S, M, L, XL, XXL"},
		{"NumericSizesByValue", "size", "sizes", []string{"40", "36", "100", "38"}, "36, 38, 40, 100"},
		{"DigitRunsByValue", "size", "sizes", []string{"1024 GB", "128 GB", "256 GB"}, "128 GB, 256 GB, 1024 GB"},
		{"ColorsCaseInsensitiveOnce", "color", "colors", []string{"red", "Blue", "Red", "green"}, "Blue, green, Red"},
		{"SizesBeforeNumbersBeforeText", "size", "sizes", []string{"One Size", "42", "M"}, "M, 42, One Size"},
		{"Materials", "material", "materials", []string{"Wool", "cotton"}, "cotton, Wool"},
		{"Patterns", "pattern", "patterns", []string{"striped", "dotted", "striped"}, "dotted, striped"},
		{"EmptyValuesLeftOut", "color", "colors", []string{"", " ", "Red"}, "Red"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var items []*feed.Item
			for i, val := range c.values {
				items = append(items, v(i+1, string(rune('A'+i)), "in_stock", "", c.attr, val, "gender", string(rune('a'+i))))
			}
			p, _ := parent(t, items...)
			if got, _ := p.Payload()[c.field].(string); got != c.want {
				t.Errorf("%s: got %q, want %q", c.field, got, c.want)
			}
		})
	}
}

func TestParentFieldsFromTheRepresentative(t *testing.T) {
	p, _ := parent(t,
		v(1, "B", "in_stock", "", "brand", "Acme", "image_link", "https://x.example/b.jpg", "product_type", "Tops", "description", "B desc", "gtin", "4006381333931", "color", "Red"),
		v(2, "A", "in_stock", "", "brand", "Other", "google_product_category", "Apparel", "gtin", "0012345678905", "color", "Blue"),
		v(3, "C", "out_of_stock", "", "image_link", "https://x.example/c.jpg"),
	)
	want := map[string]string{
		"custom_id":     `"G"`,
		"product_url":   `"https://x.example/A"`,
		"brand":         `"Other"`,
		"category_name": `"Apparel"`,
		// A has no image or description: the next variant in representative order that has one.
		"image_url":   `"https://x.example/b.jpg"`,
		"description": `"B desc"`,
		// Variant identifiers and attributes are not a parent's.
		"gtin": "", "color": "", "item_group_id": "",
		"colors": `"Blue, Red"`,
	}
	for k, w := range want {
		if got := field(p, k); got != w {
			t.Errorf("%s: got %s, want %s", k, got, w)
		}
	}
	if got, want := p.Lines, []int{1, 2, 3}; !slices.Equal(got, want) {
		t.Errorf("Lines: got %v, want %v", got, want)
	}
}
