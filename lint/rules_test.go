package lint

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/feedsync/feedsync/feed"
	"github.com/feedsync/feedsync/tree"
)

// baseAttrs is a clean, non-apparel item: it breaks no rule.
var baseAttrs = [][2]string{
	{"id", "A1"},
	{"title", "Steel kettle 1.7 l"},
	{"description", "A kettle that boils water quickly"},
	{"link", "https://shop.test/p/a1"},
	{"image_link", "https://shop.test/i/a1.jpg"},
	{"availability", "in_stock"},
	{"price", "15.00 USD"},
	{"brand", "Acme"},
	{"gtin", "4006381333931"},
	{"condition", "new"},
}

// item writes an RSS item from baseAttrs with changes: "name", "value"
// replaces (or adds) an attribute, "-name" drops it, "+name", "value" adds
// one more, and "raw", "<xml/>" inserts markup as is.
func item(changes ...string) string {
	attrs := append([][2]string(nil), baseAttrs...)
	var raw []string
	for i := 0; i < len(changes); i++ {
		name := changes[i]
		switch {
		case strings.HasPrefix(name, "-"):
			for j := range attrs {
				if attrs[j][0] == name[1:] {
					attrs = append(attrs[:j], attrs[j+1:]...)
					break
				}
			}
			continue
		case name == "raw":
			raw = append(raw, changes[i+1])
		case strings.HasPrefix(name, "+"):
			attrs = append(attrs, [2]string{name[1:], changes[i+1]})
		default:
			found := false
			for j := range attrs {
				if attrs[j][0] == name {
					attrs[j][1], found = changes[i+1], true
				}
			}
			if !found {
				attrs = append(attrs, [2]string{name, changes[i+1]})
			}
		}
		i++
	}
	var b strings.Builder
	b.WriteString("<item>\n")
	for _, a := range attrs {
		fmt.Fprintf(&b, "<g:%s>%s</g:%s>\n", a[0], xmlEscape(a[1]), a[0])
	}
	for _, r := range raw {
		b.WriteString(r + "\n")
	}
	b.WriteString("</item>\n")
	return b.String()
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func rss(items ...string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<rss xmlns:g="http://base.google.com/ns/1.0" version="2.0">
<channel><title>Test shop</title>
` + strings.Join(items, "") + "</channel>\n</rss>\n"
}

// tsv writes a tab-separated feed from rows of cells.
func tsv(rows ...string) string { return strings.Join(rows, "\n") + "\n" }

const tsvHeader = "id\ttitle\tdescription\tlink\timage_link\tavailability\tprice\tbrand\tgtin\tcondition"
const tsvRow = "A1\tSteel kettle\tA kettle that boils water\thttps://shop.test/p/a1\thttps://shop.test/i/a1.jpg\tin_stock\t15.00 USD\tAcme\t4006381333931\tnew"

// lintString lints one in-memory feed.
func lintString(t *testing.T, src string, opts Options) *Report {
	t.Helper()
	l, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	_ = l.Lint(strings.NewReader(src), "test.feed", feed.FormatAuto)
	return l.Report()
}

func codes(r *Report) map[string]int {
	m := map[string]int{}
	for _, c := range r.Counts {
		m[c.Code] = c.Count
	}
	return m
}

// gtinWithCheck appends the GS1 check digit to body.
func gtinWithCheck(body string) string { return body + string(gs1Digit(body)) }

func TestCleanItemHasNoFindings(t *testing.T) {
	r := lintString(t, rss(item()), Options{Policy: tree.PolicyVariant, Enable: []string{"id-characters", "image-extension"}})
	if len(r.Findings) != 0 {
		t.Fatalf("clean item: got findings %+v", r.Findings)
	}
	r = lintString(t, tsv(tsvHeader, tsvRow), Options{Policy: tree.PolicyParent})
	if len(r.Findings) != 0 {
		t.Fatalf("clean TSV row: got findings %+v", r.Findings)
	}
}

func TestRules(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	var manyImages []string
	for i := 0; i <= 10; i++ {
		manyImages = append(manyImages, "+additional_image_link", fmt.Sprintf("https://shop.test/i/a1-%d.jpg", i))
	}
	variant := func(id, group string, more ...string) string {
		return item(append([]string{"id", id, "item_group_id", group, "gtin", "", "-gtin", "mpn", "M-" + id}, more...)...)
	}
	tests := []struct {
		code      string
		bad, good string
		opts      Options
	}{
		{code: "parse-error", bad: rss(item("raw", "<g:title>Salt & pepper</g:title>")), good: rss(item("title", "Salt & pepper"))},
		{code: "skipped-item", bad: tsv(tsvHeader, tsvRow, "A2\tonly three\tfields"), good: tsv(tsvHeader, tsvRow)},
		{code: "skipped-item", bad: rss(item("title", "Kettle\x01")), good: rss(item())},
		{code: "duplicate-header", bad: tsv(tsvHeader+"\tcolor\tcolor", tsvRow+"\t\t"), good: tsv(tsvHeader+"\tcolor", tsvRow+"\t")},
		{code: "header-spelling", bad: tsv(strings.Replace(tsvHeader, "image_link", "image link", 1), tsvRow), good: tsv(tsvHeader, tsvRow)},
		{code: "reader-problem", bad: tsv(tsvHeader+"\t", tsvRow+"\tx"), good: tsv(tsvHeader, tsvRow)},
		{code: "comma-delimited", bad: "id,title,price\nA1,Kettle,15.00 USD\n", good: tsv(tsvHeader, tsvRow)},
		{code: "byte-order-mark", bad: "\ufeff" + rss(item()), good: rss(item())},

		{code: "missing-id", bad: rss(item("-id")), good: rss(item())},
		{code: "missing-title", bad: rss(item("title", "")), good: rss(item())},
		{code: "missing-description", bad: rss(item("-description")), good: rss(item())},
		{code: "missing-link", bad: rss(item("-link")), good: rss(item())},
		{code: "missing-image-link", bad: rss(item("-image_link")), good: rss(item())},
		{code: "missing-availability", bad: rss(item("-availability")), good: rss(item())},
		{code: "missing-price", bad: rss(item("-price")), good: rss(item())},
		{code: "missing-brand", bad: rss(item("-brand")), good: rss(item("-brand", "condition", "used"))},
		{code: "missing-identifier", bad: rss(item("-gtin")), good: rss(item("-gtin", "identifier_exists", "no"))},
		{code: "identifier-exists-value", bad: rss(item("identifier_exists", "maybe")), good: rss(item("identifier_exists", "yes"))},
		{code: "identifier-exists-conflict", bad: rss(item("identifier_exists", "no")), good: rss(item("-gtin", "identifier_exists", "no"))},
		{code: "missing-apparel-attribute", bad: rss(item("title", "Cotton T-Shirt")),
			good: rss(item("title", "Cotton T-Shirt", "color", "Red", "size", "M", "gender", "male", "age_group", "adult"))},
		{code: "missing-apparel-attribute", bad: rss(item("google_product_category", "1604")), good: rss(item("google_product_category", "Home & Garden > Kitchen"))},

		{code: "price-format", bad: rss(item("price", "12490")), good: rss(item("price", "12490 CZK"))},
		{code: "price-format", bad: rss(item("price", "$15.00")), good: rss(item("price", "15.00 USD"))},
		{code: "price-format", bad: rss(item("raw", "<g:shipping><g:country>US</g:country><g:price>4.95</g:price></g:shipping>")),
			good: rss(item("raw", "<g:shipping><g:country>US</g:country><g:price>4.95 USD</g:price></g:shipping>"))},
		{code: "price-not-positive", bad: rss(item("price", "0 USD")), good: rss(item())},
		{code: "sale-price-above-price", bad: rss(item("sale_price", "20.00 USD")), good: rss(item("sale_price", "10.00 USD"))},
		{code: "sale-price-currency", bad: rss(item("sale_price", "10.00 EUR")), good: rss(item("sale_price", "10.00 USD"))},
		{code: "availability-value", bad: rss(item("availability", "maybe")), good: rss(item())},
		{code: "availability-date-missing", bad: rss(item("availability", "preorder")), good: rss(item("availability", "preorder", "availability_date", "2026-03-25T13:00+0000"))},
		{code: "condition-value", bad: rss(item("condition", "broken")), good: rss(item("condition", "refurbished"))},
		{code: "enum-spelling", bad: rss(item("availability", "in stock")), good: rss(item())},
		{code: "enum-spelling", bad: rss(item("condition", "New")), good: rss(item("condition", "new"))},
		{code: "enum-value", bad: rss(item("gender", "men")), good: rss(item("gender", "male"))},
		{code: "date-format", bad: rss(item("availability_date", "25.03.2026")), good: rss(item("availability_date", "2026-03-25"))},
		{code: "date-range-format", bad: rss(item("sale_price_effective_date", "2026-03-11/2026-03-01")),
			good: rss(item("sale_price_effective_date", "2011-03-01T13:00-0800/2011-03-11T15:30-0800"))},
		{code: "date-range-format", bad: rss(item("sale_price_effective_date", "2026-03-01")), good: rss(item("sale_price_effective_date", "2026-05-09T00:00:00+00:00/2026-08-07T23:59:59+00:00"))},
		{code: "url-format", bad: rss(item("image_link", "/medias/a1.jpg")), good: rss(item())},
		{code: "url-format", bad: rss(item("image_link", "https://shop.test/i/a 1.jpg")), good: rss(item("image_link", "https://shop.test/i/a%201.jpg"))},
		{code: "url-encoding", bad: rss(item("link", "https://shop.test/p/чайник")), good: rss(item("link", "https://shop.test/p/%D1%87%D0%B0%D0%B9"))},
		{code: "url-format", bad: rss(item("image_link", "https://res.cloudinary.com/.../a1.jpg")), good: rss(item())},
		{code: "image-extension", bad: rss(item("image_link", "https://shop.test/i/a1.svg")), good: rss(item()), opts: Options{Enable: []string{"image-extension"}}},
		{code: "gtin-format", bad: rss(item("gtin", "12345")), good: rss(item())},
		{code: "gtin-format", bad: rss(item("gtin", "400638133393A")), good: rss(item())},
		{code: "gtin-check-digit", bad: rss(item("gtin", "4006381333932")), good: rss(item("gtin", "4006381333931"))},
		{code: "gtin-prefix", bad: rss(item("gtin", gtinWithCheck("200000000001"))), good: rss(item())},
		{code: "gtin-prefix", bad: rss(item("gtin", gtinWithCheck("982000000000"))), good: rss(item("gtin", "036000291452"))},
		{code: "gtin-truncated", bad: rss(item("id", "A1", "gtin", "880906956218"), item("id", "A2", "gtin", "8809069582173")),
			good: rss(item("id", "A1", "gtin", "036000291452"), item("id", "A2", "gtin", "8809069582173"))},
		{code: "gtin-reused", bad: rss(item("id", "A1"), item("id", "A2")), good: rss(item("id", "A1"), item("id", "A2", "gtin", "036000291452"))},

		{code: "id-too-long", bad: rss(item("id", long(51))), good: rss(item("id", long(50)))},
		{code: "id-characters", bad: rss(item("id", "A/1")), good: rss(item("id", "A_1-x")), opts: Options{Enable: []string{"id-characters"}}},
		{code: "title-too-long", bad: rss(item("title", long(151))), good: rss(item("title", long(150)))},
		{code: "description-too-long", bad: rss(item("description", long(5001))), good: rss(item("description", long(5000)))},
		{code: "too-many-images", bad: rss(item(manyImages...)), good: rss(item(manyImages[2:]...))},
		{code: "color-too-many", bad: rss(item("color", "Red/Green/Blue/Black")), good: rss(item("color", "Red/Green/Black"))},
		{code: "color-too-long", bad: rss(item("color", long(41))), good: rss(item("color", "Midnight blue"))},
		{code: "item-group-id-too-long", bad: rss(item("item_group_id", long(51))), good: rss(item("item_group_id", long(50)))},

		{code: "duplicate-id", bad: rss(item("id", "A1"), item("id", "A1", "gtin", "036000291452")), good: rss(item("id", "A1"), item("id", "A2", "gtin", "036000291452"))},
		{code: "duplicate-id-case", bad: rss(item("id", "A1"), item("id", "a1", "gtin", "036000291452")), good: rss(item("id", "A1"), item("id", "A2", "gtin", "036000291452"))},
		{code: "conflicting-forms", bad: rss(item("raw", "<title>Kettle</title>")), good: rss(item("raw", "<title>Steel kettle 1.7 l</title>"))},
		{code: "conflicting-forms", bad: rss(item("raw", "<description><![CDATA[Boils]]></description>")),
			good: rss(item("description", "Boils fast", "raw", "<description>Boils<br/>fast</description>", "raw", "<title> Steel kettle 1.7 l </title>"))},
		{code: "repeated-attribute", bad: rss(item("color", "Red", "+color", "Blue")), good: rss(item("color", "Red/Blue"))},

		{code: "group-mixed-currency", bad: rss(variant("V1", "G", "color", "Red"), variant("V2", "G", "color", "Blue", "price", "15.00 EUR")),
			good: rss(variant("V1", "G", "color", "Red"), variant("V2", "G", "color", "Blue"))},
		{code: "duplicate-variants", bad: rss(variant("V1", "G", "color", "Red"), variant("V2", "G", "color", "red")),
			good: rss(variant("V1", "G", "color", "Red"), variant("V2", "G", "color", "Red", "size", "M")), opts: Options{Policy: tree.PolicyVariant}},
		{code: "group-brand-mismatch", bad: rss(variant("V1", "G", "color", "Red"), variant("V2", "G", "color", "Blue", "brand", "Other")),
			good: rss(variant("V1", "G", "color", "Red"), variant("V2", "G", "color", "Blue", "brand", "ACME")), opts: Options{Policy: tree.PolicyParent}},
		{code: "group-of-one", bad: rss(variant("V1", "G", "color", "Red")), good: rss(variant("V1", "G", "color", "Red"), variant("V2", "G", "color", "Blue")), opts: Options{Policy: tree.PolicyVariant}},
		{code: "group-no-variant-attribute", bad: rss(variant("V1", "G"), variant("V2", "G")), good: rss(variant("V1", "G", "size", "S"), variant("V2", "G")), opts: Options{Policy: tree.PolicyVariant}},
		{code: "group-id-case", bad: rss(variant("V1", "G1", "color", "Red"), variant("V2", "g1", "color", "Blue")), good: rss(variant("V1", "G1", "color", "Red"), variant("V2", "G1", "color", "Blue")), opts: Options{Policy: tree.PolicyVariant}},
		{code: "parent-id-collision", bad: rss(item("id", "G", "gtin", "036000291452"), variant("V1", "G", "color", "Red"), variant("V2", "G", "color", "Blue")),
			good: rss(item("id", "G-1", "gtin", "036000291452"), variant("V1", "G", "color", "Red"), variant("G", "G", "color", "Blue")), opts: Options{Policy: tree.PolicyParent}},
		{code: "packed-value", bad: rss(item("size", "32,34,36")), good: rss(item("size", "32"))},
		{code: "packed-value", bad: rss(item("size", "M/M/L/XL")), good: rss(item("size", "S/M"))},

		{code: "raw-markup", bad: rss(item("-description", "raw", "<g:description>Boils<br>fast</br></g:description>")),
			good: rss(item("-description", "raw", "<g:description><![CDATA[Boils<br>fast]]></g:description>"))},
		{code: "html-in-text", bad: rss(item("title", "<b>Steel</b> kettle")), good: rss(item())},
		{code: "html-in-text", bad: rss(item("description", `Boils <span style="color:red">fast</span>`)), good: rss(item("description", "Boils <span>fast</span>"))},
		{code: "html-in-description", bad: rss(item("description", "Boils<br>fast")), good: rss(item("description", "Boils a < b fast"))},
		{code: "double-escaped", bad: rss(item("title", "Tom &amp; Jerry kettle")), good: rss(item("title", "Tom & Jerry kettle"))},
		{code: "control-characters", bad: rss(item("title", "Steel\u200dkettle")), good: rss(item("title", "Steel kettle ☕"))},
		{code: "control-characters", bad: tsv(tsvHeader, strings.Replace(tsvRow, "Steel kettle", "Steel\x7fkettle", 1)), good: tsv(tsvHeader, tsvRow)}, // \x01 skips the row in the reader
		{code: "hex-color", bad: rss(item("color", "#F0E2C4 / #C08A21")), good: rss(item("color", "Beige/Gold"))},
		{code: "placeholder-value", bad: rss(item("description", "undefined")), good: rss(item())},
		{code: "placeholder-value", bad: rss(item("description", "Steel kettle 1.7 l")), good: rss(item())},
		{code: "unknown-attribute", bad: rss(item("target_country", "US")), good: rss(item("custom_label_0", "summer"))},
	}
	seen := map[string]bool{"unreadable": true, "shared-custom-id": true} // TestUnreadable; TestSharedCustomID (needs two feeds)
	for _, tc := range tests {
		seen[tc.code] = true
		if _, ok := LookupRule(tc.code); !ok {
			t.Errorf("%s: no such rule", tc.code)
			continue
		}
		t.Run(tc.code, func(t *testing.T) {
			bad := lintString(t, tc.bad, tc.opts)
			if codes(bad)[tc.code] == 0 {
				t.Errorf("bad fixture: no %s finding; got %+v", tc.code, bad.Findings)
			}
			for _, f := range bad.Findings {
				if f.Code == tc.code && (f.File != "test.feed" || f.Message == "") {
					t.Errorf("finding without file or message: %+v", f)
				}
			}
			good := lintString(t, tc.good, tc.opts)
			if n := codes(good)[tc.code]; n != 0 {
				t.Errorf("good fixture: got %d %s findings: %+v", n, tc.code, good.Findings)
			}
		})
	}
	for _, r := range Rules() {
		if !seen[r.Code] {
			t.Errorf("rule %s has no test", r.Code)
		}
	}
}

func TestUnreadable(t *testing.T) {
	l, _ := New(Options{})
	l.Unreadable("missing.xml", fmt.Errorf("open feed: no such file"))
	r := l.Report()
	if !r.Fatal() || codes(r)["unreadable"] != 1 || r.Findings[0].File != "missing.xml" {
		t.Fatalf("got %+v", r)
	}
	if r := lintString(t, rss(item()), Options{}); r.Fatal() || codes(r)["unreadable"] != 0 {
		t.Fatalf("readable feed: got %+v", r)
	}
}

func TestPolicyRulesNeedAPolicy(t *testing.T) {
	src := rss(item("id", "V1", "item_group_id", "G", "color", "Red"), item("id", "V2", "item_group_id", "G", "color", "Red", "gtin", "036000291452"))
	if n := codes(lintString(t, src, Options{}))["duplicate-variants"]; n != 0 {
		t.Errorf("without a policy: %d duplicate-variants findings", n)
	}
	if n := codes(lintString(t, src, Options{Policy: tree.PolicyParent}))["duplicate-variants"]; n != 1 {
		t.Errorf("with --policy parent: %d duplicate-variants findings, want 1", n)
	}
}

func TestParentIDCollisionOnlyUnderParent(t *testing.T) {
	src := rss(item("id", "G", "gtin", "036000291452"), item("id", "V1", "item_group_id", "G", "color", "Red", "-gtin", "mpn", "M1"))
	if n := codes(lintString(t, src, Options{Policy: tree.PolicyVariant}))["parent-id-collision"]; n != 0 {
		t.Errorf("variant policy: %d parent-id-collision findings", n)
	}
	if n := codes(lintString(t, src, Options{Policy: tree.PolicyParent}))["parent-id-collision"]; n != 1 {
		t.Errorf("parent policy: %d parent-id-collision findings, want 1", n)
	}
}

func TestDisableEnable(t *testing.T) {
	src := rss(item("-brand", "price", "12490"))
	r := lintString(t, src, Options{Disable: []string{"missing-brand", "PRICE-FORMAT"}})
	if c := codes(r); c["missing-brand"] != 0 || c["price-format"] != 0 {
		t.Errorf("disabled rules reported: %v", c)
	}
	r = lintString(t, src, Options{Disable: []string{"missing-brand"}, Enable: []string{"missing-brand"}})
	if codes(r)["missing-brand"] != 1 {
		t.Errorf("enable does not win over disable: %v", codes(r))
	}
	if _, err := New(Options{Disable: []string{"no-such-rule"}}); err == nil || !strings.Contains(err.Error(), "no-such-rule") {
		t.Errorf("unknown code: got %v", err)
	}
}

func TestMaxPerRuleCountsTheRest(t *testing.T) {
	var items []string
	for i := 0; i < 5; i++ {
		items = append(items, item("id", fmt.Sprintf("A%d", i), "-brand", "gtin", ""))
	}
	r := lintString(t, rss(items...), Options{MaxPerRule: 2, Disable: []string{"missing-identifier"}})
	if len(r.Findings) != 2 || r.Counts[0].Count != 5 || r.Counts[0].Omitted != 3 || r.Warnings != 5 {
		t.Fatalf("got findings %d, counts %+v, warnings %d", len(r.Findings), r.Counts, r.Warnings)
	}
}

func TestParseErrorKeepsFindingsBeforeTheStop(t *testing.T) {
	src := rss(item("id", "A1", "-brand"), item("id", "A2", "gtin", "036000291452", "raw", "<g:title>Salt & pepper</g:title>"))
	r := lintString(t, src, Options{})
	c := codes(r)
	if !r.Fatal() || c["parse-error"] != 1 || c["missing-brand"] != 1 {
		t.Fatalf("got fatal %v, counts %v", r.Fatal(), c)
	}
	for _, f := range r.Findings {
		if f.Code == "parse-error" && f.Line == 0 {
			t.Errorf("parse error without a line: %+v", f)
		}
	}
}

func TestFindingsCarryLineItemAndAttribute(t *testing.T) {
	r := lintString(t, rss(item("id", "A1"), item("id", "B2", "price", "12490", "gtin", "036000291452")), Options{})
	var got *Finding
	for i := range r.Findings {
		if r.Findings[i].Code == "price-format" {
			got = &r.Findings[i]
		}
	}
	if got == nil {
		t.Fatal("no price-format finding")
	}
	want := Finding{File: "test.feed", Line: 16, ItemID: "B2", Attr: "price", Code: "price-format", Severity: Error}
	got.Message = ""
	if *got != want {
		t.Errorf("got %+v, want %+v", *got, want)
	}
}

func TestRegistry(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules() {
		if r.Code == "" || r.Summary == "" || r.Hint == "" || r.Source == "" || r.Category == "" {
			t.Errorf("rule %+v lacks a field", r)
		}
		if seen[r.Code] {
			t.Errorf("code %s used twice", r.Code)
		}
		seen[r.Code] = true
		if strings.Contains(r.Code, " ") || strings.ToLower(r.Code) != r.Code {
			t.Errorf("code %q is not kebab-case", r.Code)
		}
		// A fact the spec leaves unverified is never an error.
		if r.Basis == BasisUnconfirmed && r.Severity == Error {
			t.Errorf("rule %s rests on an unverified fact but is an error", r.Code)
		}
		switch r.Basis {
		case BasisGoogle, BasisUnconfirmed, BasisFeedsync:
		default:
			t.Errorf("rule %s: basis %q", r.Code, r.Basis)
		}
		// Sources are Google's public pages, by name and absolute URL,
		// never material the repository does not ship.
		u, err := url.Parse(r.URL)
		if err != nil || u.Scheme != "https" || !strings.HasSuffix(u.Host, ".google.com") || u.RawQuery != "" {
			t.Errorf("rule %s: URL %q is not a Google help page", r.Code, r.URL)
		}
		for _, bad := range []string{"SPEC", ".md", "§", "realfeeds", "[V]", "[U]", "[D]", "../"} {
			if strings.Contains(r.Source, bad) {
				t.Errorf("rule %s: source %q cites %q", r.Code, r.Source, bad)
			}
		}
	}
}

// TestVariantRulesNameTreeAttributes: the variant rules' texts list the
// attributes tree compares.
func TestVariantRulesNameTreeAttributes(t *testing.T) {
	for _, code := range []string{"duplicate-variants", "group-no-variant-attribute"} {
		r, _ := LookupRule(code)
		for _, a := range tree.VariantAttributes {
			if !strings.Contains(r.Summary+" "+r.Hint, a) {
				t.Errorf("%s does not name %s: %q / %q", code, a, r.Summary, r.Hint)
			}
		}
	}
}

func TestHTMLTagListsAgree(t *testing.T) {
	n := 0
	for name := range htmlTags {
		if htmlTag([]byte(name)) != name {
			t.Errorf("htmlTag misses %q", name)
		}
		n++
	}
	if htmlTag([]byte("item")) != "" || htmlTag([]byte("title")) != "" {
		t.Error("htmlTag takes feed elements for HTML")
	}
}

func TestHasControl(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"", false}, {"Steel kettle – 1.7 l, 2000 W ~ ☕ Кипятильник", false}, {"Steel kettle 1.7 l\t2000 W", true},
		{"Steel kettle 1.7 l\x7f2000 W", true}, {"abcdefg\n", true}, {"abcdefgh\x01", true}, {"\xff\xfe\x80\x9f\xc2\x85abc", false},
	} {
		if got := hasControl(tc.s); got != tc.want {
			t.Errorf("hasControl(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

func TestParseISO(t *testing.T) {
	for _, tc := range []struct {
		s  string
		ok bool
	}{
		{"2026-03-25", true}, {"2026-03-25T13:00", true}, {"2026-03-25T13:00+0000", true}, {"2026-03-25T13:00:59Z", true},
		{"2026-05-09T00:00:00+00:00", true}, {"2026-05-09T00:00:00.123-08:00", true}, {"2026-05-09 10:00", true}, {"2026-05-09T10:00+01", true},
		{"25.03.2026", false}, {"2026-3-25", false}, {"2026-13-01", false}, {"2026-03-25T25:00", false}, {"2026-03-25T13:00X", false},
		{"2026-03-25T13:00+0", false}, {"2026-03-25T13", false}, {"", false},
	} {
		if _, ok := parseISO(tc.s); ok != tc.ok {
			t.Errorf("parseISO(%q) ok = %v, want %v", tc.s, ok, tc.ok)
		}
	}
}
