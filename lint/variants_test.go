package lint

import (
	"fmt"
	"html"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/feedsync/feedsync/feed"
	"github.com/feedsync/feedsync/tree"
)

// variantRow is one item of a variant fixture: its id, item_group_id and
// attributes in order (an attribute may repeat).
type variantRow struct {
	id, group string
	attrs     [][2]string
}

// variantRSS writes rows as an RSS feed, one item per row.
func variantRSS(rows []variantRow) string {
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss xmlns:g=\"http://base.google.com/ns/1.0\" version=\"2.0\">\n<channel><title>Variants</title>\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "<item>\n<g:id>%s</g:id>\n<g:title>Shirt %s</g:title>\n", html.EscapeString(r.id), html.EscapeString(r.id))
		if r.group != "" {
			fmt.Fprintf(&b, "<g:item_group_id>%s</g:item_group_id>\n", html.EscapeString(r.group))
		}
		for _, a := range r.attrs {
			fmt.Fprintf(&b, "<g:%s>%s</g:%s>\n", a[0], html.EscapeString(a[1]), a[0])
		}
		b.WriteString("</item>\n")
	}
	b.WriteString("</channel>\n</rss>\n")
	return b.String()
}

// variantTSV writes rows as tab-separated text, the first value of each
// attribute in its column.
func variantTSV(rows []variantRow) string {
	cols := []string{"id", "title", "item_group_id"}
	for _, r := range rows {
		for _, a := range r.attrs {
			if !slices.Contains(cols, a[0]) {
				cols = append(cols, a[0])
			}
		}
	}
	var b strings.Builder
	b.WriteString(strings.Join(cols, "\t") + "\n")
	for _, r := range rows {
		cells := make([]string, len(cols))
		cells[0], cells[1], cells[2] = r.id, "Shirt "+r.id, r.group
		for _, a := range r.attrs {
			if i := slices.Index(cols, a[0]); cells[i] == "" {
				cells[i] = a[1]
			}
		}
		b.WriteString(strings.Join(cells, "\t") + "\n")
	}
	return b.String()
}

// firstLine finds the line of the earlier variant in a duplicate-variant message.
var firstLine = regexp.MustCompile(`(?:\(line|as the item on line) (\d+)`)

// lintDuplicateVariants returns "line id (first line)" of each
// duplicate-variants finding: the duplicate and the earlier variant it
// repeats.
func lintDuplicateVariants(t *testing.T, src string, pol tree.Policy) []string {
	t.Helper()
	r := lintFeeds(t, Options{Policy: pol, MaxPerRule: -1}, "feed", src)
	var out []string
	for _, f := range r.Findings {
		if f.Code == "duplicate-variants" {
			out = append(out, fmt.Sprintf("%d %s (%s)", f.Line, f.ItemID, firstLine.FindStringSubmatch(f.Message)[1]))
		}
	}
	slices.Sort(out)
	return out
}

// treeDuplicateVariants returns "line id (first line)" of each duplicate
// variant tree's Builder reports.
func treeDuplicateVariants(t *testing.T, src string, pol tree.Policy) []string {
	t.Helper()
	r, err := feed.NewReader(strings.NewReader(src), "feed", feed.FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	b := tree.NewBuilder(tree.Options{Policy: pol})
	defer b.Close()
	for {
		it, err := r.Next()
		if err != nil {
			break
		}
		b.Add(it)
	}
	if err := b.Finish(func(*tree.Product) error { return nil }); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range b.Problems() {
		if strings.HasPrefix(p.Msg, "duplicate variant in item_group_id") {
			out = append(out, fmt.Sprintf("%d %s (%s)", p.Line, p.ItemID, firstLine.FindStringSubmatch(p.Msg)[1]))
		}
	}
	slices.Sort(out)
	return out
}

// idsOf returns the ids of "line id (first line)" entries, sorted.
func idsOf(entries []string) []string {
	var out []string
	for _, e := range entries {
		out = append(out, strings.Fields(e)[1])
	}
	slices.Sort(out)
	return out
}

// TestDuplicateVariantsAgreeWithTree feeds the same feeds through lint and
// through tree's Builder and checks that both report exactly the same
// duplicate variants (items, their lines and the lines of the variants they
// repeat): one definition
// (tree.VariantAttributes, tree.VariantValues), two callers.
func TestDuplicateVariantsAgreeWithTree(t *testing.T) {
	// The attributes Google tells variants apart by (see
	// tree.VariantAttributes), each with a base value, another value, and
	// the base value spelt in another case with other white space.
	attrs := []struct{ name, base, other, respelt string }{
		{"color", "Red", "Green", "  rED "},
		{"size", "M", "L", " m"},
		{"material", "Organic Cotton", "Linen", "organic   COTTON"},
		{"pattern", "Plain", "Striped", "plain  "},
		{"age_group", "adult", "kids", "Adult"},
		{"gender", "female", "male", "FEMALE"},
		{"size_type", "regular", "petite", "Regular"},
		{"size_system", "US", "EU", "us"},
	}
	if len(attrs) != len(tree.VariantAttributes) {
		t.Fatalf("the fixture covers %d variant attributes, tree.VariantAttributes has %d: %v", len(attrs), len(tree.VariantAttributes), tree.VariantAttributes)
	}
	for i, a := range attrs {
		if tree.VariantAttributes[i] != a.name {
			t.Fatalf("variant attribute %d: fixture %s, tree %s", i, a.name, tree.VariantAttributes[i])
		}
	}
	base := func(change func(name, val string) []string) [][2]string {
		var out [][2]string
		for _, a := range attrs {
			vals := []string{a.base}
			if change != nil {
				vals = change(a.name, a.base)
			}
			for _, v := range vals {
				out = append(out, [2]string{a.name, v})
			}
		}
		return out
	}
	rows := []variantRow{{id: "BASE", group: "G1", attrs: base(nil)}}
	var want []string // ids lint and tree must both report
	for _, a := range attrs {
		// Differs in a only: a variant of its own.
		rows = append(rows, variantRow{id: "OTHER-" + a.name, group: "G1", attrs: base(func(n, v string) []string {
			if n == a.name {
				return []string{a.other}
			}
			return []string{v}
		})})
		// Lacks a only: a variant of its own.
		rows = append(rows, variantRow{id: "NO-" + a.name, group: "G1", attrs: base(func(n, v string) []string {
			if n == a.name {
				return nil
			}
			return []string{v}
		})})
		// Has a spelt differently only: a duplicate of BASE.
		rows = append(rows, variantRow{id: "RESPELT-" + a.name, group: "G1", attrs: base(func(n, v string) []string {
			if n == a.name {
				return []string{a.respelt}
			}
			return []string{v}
		})})
		want = append(want, "RESPELT-"+a.name)
	}
	rows = append(rows,
		// A true duplicate, and one in the same group spelt in another case.
		variantRow{id: "COPY", group: "G1", attrs: base(nil)},
		variantRow{id: "COPY-CASE-GROUP", group: "g1", attrs: base(nil)},
		// Another group: not a duplicate of BASE, but its copy is one of it.
		variantRow{id: "G2-A", group: "G2", attrs: base(nil)},
		variantRow{id: "G2-B", group: "G2", attrs: base(nil)},
		// An item repeating BASE's id is skipped by tree (and reported as
		// duplicate-id by lint): the later item with its attributes is no
		// duplicate.
		variantRow{id: "BASE", group: "G1", attrs: [][2]string{{"color", "Purple"}}},
		variantRow{id: "PURPLE", group: "G1", attrs: [][2]string{{"color", "Purple"}}},
		// No variant attribute at all: the second is a duplicate.
		variantRow{id: "BARE-1", group: "G3"},
		variantRow{id: "BARE-2", group: "G3"},
		// Non-ASCII values compare lower-cased, white space (also no-break
		// space) collapsed; ß is not ss.
		variantRow{id: "U-1", group: "G4", attrs: [][2]string{{"color", "Grün"}, {"size", "Weiß"}}},
		variantRow{id: "U-2", group: "G4", attrs: [][2]string{{"color", "GRÜN"}, {"size", "Weiß"}}},
		variantRow{id: "U-3", group: "G4", attrs: [][2]string{{"color", "Grün"}, {"size", "weiss"}}},
		variantRow{id: "U-4", group: "G4", attrs: [][2]string{{"color", "Dark\u00a0Blue"}}},
		variantRow{id: "U-5", group: "G4", attrs: [][2]string{{"color", "dark  blue"}}},
		// No group: never a variant.
		variantRow{id: "LONE-1", attrs: base(nil)},
		variantRow{id: "LONE-2", attrs: base(nil)},
	)
	want = append(want, "COPY", "COPY-CASE-GROUP", "G2-B", "BARE-2", "U-2", "U-5")
	// A repeated attribute counts with its first value, as tree.Builder
	// takes it (feed.Item.Get), in XML (a text file holds one value per
	// column); a tab is white space like any other.
	xmlRows := append(slices.Clone(rows),
		variantRow{id: "TAB", group: "G1", attrs: base(func(n, v string) []string {
			if n == "material" {
				return []string{"organic\tcotton"}
			}
			return []string{v}
		})},
		variantRow{id: "REPEAT-FIRST", group: "G1", attrs: base(func(n, v string) []string {
			if n == "color" {
				return []string{v, "Blue"}
			}
			return []string{v}
		})},
		variantRow{id: "REPEAT-SECOND", group: "G1", attrs: base(func(n, v string) []string {
			if n == "color" {
				return []string{"Blue", v}
			}
			return []string{v}
		})},
		// An empty first value is the value: no color, as NO-color.
		variantRow{id: "EMPTY-FIRST", group: "G1", attrs: base(func(n, v string) []string {
			if n == "color" {
				return []string{"", v}
			}
			return []string{v}
		})},
	)
	slices.Sort(want)
	wantXML := append(slices.Clone(want), "TAB", "REPEAT-FIRST", "EMPTY-FIRST")
	slices.Sort(wantXML)

	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"rss", variantRSS(xmlRows), wantXML},
		{"tsv", variantTSV(rows), want},
	} {
		for _, pol := range []tree.Policy{tree.PolicyParent, tree.PolicyVariant} {
			fromTree := treeDuplicateVariants(t, tc.src, pol)
			fromLint := lintDuplicateVariants(t, tc.src, pol)
			if !slices.Equal(fromLint, fromTree) {
				t.Errorf("%s, policy %s: lint and tree disagree on duplicate variants\nlint: %q\ntree: %q", tc.name, pol, fromLint, fromTree)
			}
			if got := idsOf(fromTree); !slices.Equal(got, tc.want) {
				t.Errorf("%s, policy %s: duplicate variants %q, want %q", tc.name, pol, got, tc.want)
			}
		}
	}
}

// TestDuplicateVariantsAgreeWithTreeRandom compares lint and tree on
// generated feeds whose items share groups (in any case), ids, and variant
// values spelt in several ways.
func TestDuplicateVariantsAgreeWithTreeRandom(t *testing.T) {
	seed := uint32(7)
	next := func(n int) int { // xorshift: the same feeds every run
		seed ^= seed << 13
		seed ^= seed >> 17
		seed ^= seed << 5
		return int(seed % uint32(n))
	}
	values := map[string][]string{}
	for _, a := range tree.VariantAttributes {
		values[a] = []string{"", "X", "x", " X ", "Y", "y  z", "Y Z", "é", "É"}
	}
	groups := []string{"", "A", "a", "B", "C"}
	for n := 0; n < 150; n++ {
		var rows []variantRow
		for i := range 5 + next(40) {
			r := variantRow{id: fmt.Sprintf("I%d", next(60)), group: groups[next(len(groups))]}
			if next(8) == 0 {
				r.id = fmt.Sprintf("i%d", i) // may repeat another id in another case
			}
			for _, a := range tree.VariantAttributes {
				if next(3) == 0 { // most attributes stay unset, so that duplicates occur
					if v := values[a][next(len(values[a]))]; v != "" {
						r.attrs = append(r.attrs, [2]string{a, v})
					}
				}
			}
			rows = append(rows, r)
		}
		src := variantRSS(rows)
		for _, pol := range []tree.Policy{tree.PolicyParent, tree.PolicyVariant} {
			fromTree := treeDuplicateVariants(t, src, pol)
			fromLint := lintDuplicateVariants(t, src, pol)
			if !slices.Equal(fromLint, fromTree) {
				t.Fatalf("policy %s: lint and tree disagree on duplicate variants\nlint: %q\ntree: %q\n%s", pol, fromLint, fromTree, src)
			}
		}
	}
}
