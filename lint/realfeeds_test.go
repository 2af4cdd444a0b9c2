package lint

import (
	"github.com/feedsync/feedsync/internal/realfeeds"

	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feedsync/feedsync/feed"
	"github.com/feedsync/feedsync/tree"
)

// want is a finding a real feed must produce: a rule, and optionally the
// item id, attribute and a piece of the message.
type want struct {
	code, item, attr, msg string
}

func TestRealFeeds(t *testing.T) {
	realFeedsDir := realfeeds.Dir(t) // they may not be committed here
	tests := []struct {
		file   string
		policy tree.Policy
		want   []want
		// never lists rules that must not fire: what the spec allows.
		never []string
	}{
		{file: "rugmosaic-rw_rss_cdata_hexcolors.xml",
			want:  []want{{code: "hex-color", attr: "color", msg: "#F0E2C4"}, {code: "color-too-many", msg: "#E8A400 / #1F7A5A / #C6303A / #3D7EA6"}},
			never: []string{"price-format", "parse-error", "raw-markup", "html-in-description"}},
		{file: "luxemia-us_rss.xml",
			want:  []want{{code: "packed-value", attr: "size", msg: "32,34,36"}, {code: "duplicate-id", item: "LM-LEH-001-UN-32-PAD"}, {code: "unknown-attribute", attr: "target_country"}},
			never: []string{"date-range-format", "price-format", "double-escaped", "url-format"}},
		{file: "hurom-cz_rss_unprefixed_nocurrency.xml",
			want: []want{{code: "price-format", attr: "price", msg: "no currency"}, {code: "gtin-truncated", msg: "880906956218"},
				{code: "enum-spelling", attr: "availability", msg: "in stock"}, {code: "placeholder-value", attr: "description", msg: "undefined"},
				{code: "gtin-reused", msg: "8809069582173"}},
			never: []string{"missing-title", "missing-description", "missing-link", "parse-error"}},
		{file: "samsung-kz_atom_variants_trimmed.xml", policy: tree.PolicyVariant,
			want: []want{{code: "duplicate-variants", msg: `group "VG-SCLB00"`}, {code: "double-escaped", attr: "product_type", msg: "&gt;"},
				{code: "url-format", attr: "image_link", msg: "relative"}, {code: "missing-description"},
				{code: "unknown-attribute", attr: "html_code_color"}, {code: "group-of-one"}},
			never: []string{"date-format", "availability-date-missing", "missing-title", "parse-error"}},
		{file: "vendibook-us_google_tsv_spaced_headers.tsv",
			want: []want{{code: "duplicate-header", msg: "min_energy_efficiency_class"}, {code: "header-spelling", attr: "image_link", msg: `"image link"`},
				{code: "unknown-attribute", attr: "sell_on_google_quantity"}},
			never: []string{"skipped-item", "missing-title", "missing-price", "comma-delimited"}},
		{file: "huumorikauppa-fi_rss_unprefixed.xml",
			want: []want{{code: "missing-apparel-attribute", attr: "color"}, {code: "missing-apparel-attribute", attr: "size"},
				{code: "missing-apparel-attribute", attr: "gender"}, {code: "missing-apparel-attribute", attr: "age_group"}, {code: "enum-spelling", msg: "in stock"}},
			never: []string{"missing-title", "missing-description", "missing-link", "conflicting-forms"}},
		{file: "heritage-sparrow-in_rss_minimal.xml",
			want:  []want{{code: "missing-apparel-attribute", attr: "gender"}, {code: "url-format", attr: "image_link", msg: "placeholder"}},
			never: []string{"parse-error", "price-format"}},
		{file: "nongor-bd_rss.xml",
			want:  []want{{code: "missing-apparel-attribute", attr: "age_group"}},
			never: []string{"price-format", "parse-error"}},
		{file: "spb-piknik-ru_virtuemart_atom.xml",
			want:  []want{{code: "raw-markup", attr: "description", msg: "<br>"}, {code: "missing-brand"}},
			never: []string{"price-format", "parse-error", "missing-title", "missing-link", "missing-id"}},
		{file: "muse-wear-eg_meta_catalog.csv",
			want:  []want{{code: "comma-delimited"}, {code: "unknown-attribute", attr: "inventory"}},
			never: []string{"skipped-item", "price-format", "missing-price"}},
		{file: "podrazdenacica-cz_rss_multishipping.xml",
			never: []string{"price-format", "url-format", "double-escaped", "missing-identifier", "parse-error"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join(realFeedsDir, tc.file))
			if err != nil {
				t.Skipf("%v", err)
			}
			defer f.Close()
			l, err := New(Options{Policy: tc.policy, MaxPerRule: -1})
			if err != nil {
				t.Fatal(err)
			}
			if err := l.Lint(f, tc.file, feed.FormatAuto); err != nil {
				t.Fatalf("lint: %v", err)
			}
			r := l.Report()
			for _, w := range tc.want {
				if !hasFinding(r, w) {
					t.Errorf("no finding %+v", w)
				}
			}
			for _, code := range tc.never {
				for _, f := range r.Findings {
					if f.Code == code {
						t.Errorf("false %s: %s:%d %s", code, f.File, f.Line, f.Message)
						break
					}
				}
			}
			if tc.file == "podrazdenacica-cz_rss_multishipping.xml" && r.Errors+r.Warnings != 0 {
				t.Errorf("a clean feed got %d errors and %d warnings: %+v", r.Errors, r.Warnings, r.Findings)
			}
		})
	}
}

func hasFinding(r *Report, w want) bool {
	for _, f := range r.Findings {
		if f.Code == w.code && (w.item == "" || f.ItemID == w.item) && (w.attr == "" || f.Attr == w.attr) && strings.Contains(f.Message, w.msg) {
			return true
		}
	}
	return false
}
