package lint

import (
	"strings"
	"testing"

	"github.com/feedsync/feedsync/feed"
	"github.com/feedsync/feedsync/tree"
)

// lintFeeds lints several in-memory feeds, given as name and source pairs,
// in one run.
func lintFeeds(t *testing.T, opts Options, feeds ...string) *Report {
	t.Helper()
	l, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(feeds); i += 2 {
		_ = l.Lint(strings.NewReader(feeds[i+1]), feeds[i], feed.FormatAuto)
	}
	return l.Report()
}

// shared returns the shared-custom-id findings.
func shared(r *Report) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Code == "shared-custom-id" {
			out = append(out, f)
		}
	}
	return out
}

// itemLine is the line of the n-th item (from 0) of an rss() feed of
// item() items without changes in their number of attributes.
func itemLine(n int) int { return 4 + n*12 }

func TestSharedCustomID(t *testing.T) {
	// Each item gets its own gtin so that gtin-reused stays quiet.
	it := func(id string, more ...string) string {
		return item(append([]string{"id", id, "-gtin", "mpn", "M-" + id}, more...)...)
	}
	variant := func(id, group, color string) string {
		return it(id, "item_group_id", group, "color", color)
	}
	aFeed := rss(it("A1"), it("A2"), it("A3"))
	// b: A1 is a's (exact); a2 differs from a's A2 in case only: the
	// engine's owner index compares ids byte for byte, so it is b's own.
	bFeed := rss(it("B1"), it("A1"), it("a2"))

	for _, pol := range []tree.Policy{"", tree.PolicyVariant, tree.PolicyParent} {
		t.Run("policy="+string(pol), func(t *testing.T) {
			r := lintFeeds(t, Options{Policy: pol}, "a.xml", aFeed, "b.xml", bFeed)
			got := shared(r)
			if len(got) != 1 {
				t.Fatalf("got %d shared-custom-id findings, want 1: %+v", len(got), r.Findings)
			}
			f := got[0]
			want := `custom_id "A1" is also a product of a.xml (line 4): feeds that share a catalog must not share a custom_id; sync skips this feed's product`
			if f.File != "b.xml" || f.Line != itemLine(1) || f.ItemID != "A1" || f.Attr != "id" || f.Severity != Error || f.Message != want {
				t.Errorf("got %+v\nwant file b.xml, line %d, item A1, attribute id, error, message %q", f, itemLine(1), want)
			}
			if r.Errors != 1 {
				t.Errorf("errors %d, want 1 (the shared id only): %+v", r.Errors, r.Findings)
			}
		})
	}

	t.Run("OneFeedAlone", func(t *testing.T) {
		for _, src := range []string{aFeed, bFeed} {
			if got := shared(lintFeeds(t, Options{}, "a.xml", src)); len(got) != 0 {
				t.Errorf("one feed: %+v", got)
			}
		}
	})
	t.Run("Disabled", func(t *testing.T) {
		if got := shared(lintFeeds(t, Options{Disable: []string{"shared-custom-id"}}, "a.xml", aFeed, "b.xml", bFeed)); len(got) != 0 {
			t.Errorf("disabled: %+v", got)
		}
	})
	t.Run("DuplicateInTheLaterFeedCountsOnce", func(t *testing.T) {
		// tree keeps the first of b's two A1 items: one product, one refusal.
		r := lintFeeds(t, Options{}, "a.xml", aFeed, "b.xml", rss(it("A1"), it("A1")))
		if got := shared(r); len(got) != 1 || got[0].Line != itemLine(0) {
			t.Errorf("got %+v", got)
		}
		if codes(r)["duplicate-id"] != 1 {
			t.Errorf("duplicate-id: %v", codes(r))
		}
	})
	t.Run("CaseDuplicateInTheLaterFeedIsNotAProduct", func(t *testing.T) {
		// b's a1 comes first; tree skips its A1, so b sends no "A1".
		r := lintFeeds(t, Options{}, "a.xml", aFeed, "b.xml", rss(it("a1"), it("A1")))
		if got := shared(r); len(got) != 0 {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("ThirdFeedNamesTheFirst", func(t *testing.T) {
		r := lintFeeds(t, Options{}, "a.xml", aFeed, "b.xml", bFeed, "c.xml", rss(it("A1")))
		got := shared(r)
		if len(got) != 2 || got[1].File != "c.xml" || !strings.Contains(got[1].Message, "product of a.xml (line 4)") {
			t.Errorf("got %+v", got)
		}
	})

	// Variant groups: the policy says which ids are custom_ids.
	groupA := rss(it("S1"), variant("V1", "G", "Red"), variant("V2", "G", "Blue"))
	t.Run("GroupedItemsUnderEachPolicy", func(t *testing.T) {
		// b repeats a's variant V1, in a group of its own.
		b := rss(variant("V1", "H", "Red"), variant("V3", "H", "Blue"))
		want := map[tree.Policy]int{"": 0, tree.PolicyVariant: 1, tree.PolicyParent: 0}
		for pol, n := range want {
			if got := shared(lintFeeds(t, Options{Policy: pol}, "a.xml", groupA, "b.xml", b)); len(got) != n {
				t.Errorf("policy %q: got %+v, want %d", pol, got, n)
			}
		}
	})
	t.Run("ParentGroupIDIsAnItemIDOfTheEarlierFeed", func(t *testing.T) {
		// a's standalone item S1; b's group S1 becomes custom_id S1 under parent.
		b := rss(it("X0"), variant("X1", "S1", "Red"), variant("X2", "S1", "Blue"))
		r := lintFeeds(t, Options{Policy: tree.PolicyParent}, "a.xml", groupA, "b.xml", b)
		got := shared(r)
		want := `custom_id "S1" (the parent of group "S1") is also a product of a.xml (line 4): feeds that share a catalog must not share a custom_id; sync skips this feed's product`
		if len(got) != 1 || got[0].File != "b.xml" || got[0].Line != itemLine(1) || got[0].ItemID != "X1" || got[0].Attr != "item_group_id" || got[0].Message != want {
			t.Fatalf("got %+v\nwant b.xml line %d item X1 [item_group_id]: %s", got, itemLine(1), want)
		}
		if got := shared(lintFeeds(t, Options{Policy: tree.PolicyVariant}, "a.xml", groupA, "b.xml", b)); len(got) != 0 {
			t.Errorf("variant policy: group ids are no custom_ids: %+v", got)
		}
		// A group id that differs in case only is another custom_id.
		bCase := strings.ReplaceAll(b, ">S1<", ">s1<")
		if got := shared(lintFeeds(t, Options{Policy: tree.PolicyParent}, "a.xml", groupA, "b.xml", bCase)); len(got) != 0 {
			t.Errorf("group s1 against item S1: %+v", got)
		}
	})
	t.Run("ParentItemIDIsAGroupIDOfTheEarlierFeed", func(t *testing.T) {
		// a's group G is custom_id G under parent; b's standalone item G is refused.
		b := rss(it("G"))
		got := shared(lintFeeds(t, Options{Policy: tree.PolicyParent}, "a.xml", groupA, "b.xml", b))
		if len(got) != 1 || got[0].ItemID != "G" || got[0].Attr != "id" || !strings.Contains(got[0].Message, "product of a.xml (line "+itoa(itemLine(1))+")") {
			t.Fatalf("got %+v", got)
		}
		// Two parents with one id.
		b = rss(variant("W1", "G", "Red"), variant("W2", "G", "Blue"))
		if got := shared(lintFeeds(t, Options{Policy: tree.PolicyParent}, "a.xml", groupA, "b.xml", b)); len(got) != 1 || got[0].ItemID != "W1" || got[0].Attr != "item_group_id" {
			t.Fatalf("group against group: %+v", got)
		}
	})
	t.Run("ParentTakesTheLeastSpellingOfAGroup", func(t *testing.T) {
		// tree names a group after its least spelling in byte order: "G" < "g".
		a := rss(variant("V1", "g", "Red"), variant("V2", "G", "Blue"))
		for _, tc := range []struct {
			id   string
			want int
		}{{"G", 1}, {"g", 0}} {
			if got := shared(lintFeeds(t, Options{Policy: tree.PolicyParent}, "a.xml", a, "b.xml", rss(it(tc.id)))); len(got) != tc.want {
				t.Errorf("item %q against group g/G: got %+v, want %d", tc.id, got, tc.want)
			}
		}
	})
}

// treeCustomIDs is the set of custom_ids tree's Builder emits for a feed.
func treeCustomIDs(t *testing.T, src string, pol tree.Policy) map[string]bool {
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
	ids := map[string]bool{}
	if err := b.Finish(func(p *tree.Product) error { ids[p.ID] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestSharedCustomIDAgreesWithTree lints pairs of generated feeds whose ids
// and group ids differ in case or coincide, and checks that the custom_ids
// lint calls shared are those tree emits for both feeds: under each policy
// exactly, and without one a part of what both policies share.
func TestSharedCustomIDAgreesWithTree(t *testing.T) {
	ids := []string{"A1", "a1", "A2", "G", "g", "H", "V1", "v1", "X"}
	groups := []string{"", "", "", "G", "g", "H", "A1", "a1"}
	seed := uint32(1)
	next := func(n int) int { // xorshift: the same feeds every run
		seed ^= seed << 13
		seed ^= seed >> 17
		seed ^= seed << 5
		return int(seed % uint32(n))
	}
	gen := func() string {
		var items []string
		for i := range 2 + next(6) {
			changes := []string{"id", ids[next(len(ids))], "-gtin", "mpn", "M" + itoa(i), "color", "C" + itoa(i)}
			if g := groups[next(len(groups))]; g != "" {
				changes = append(changes, "item_group_id", g)
			}
			items = append(items, item(changes...))
		}
		return rss(items...)
	}
	customIDs := func(fs []Finding) (map[string]bool, bool) {
		out := map[string]bool{}
		for _, f := range fs {
			q := strings.TrimPrefix(f.Message, "custom_id ")
			id := q[1 : strings.IndexByte(q[1:], '"')+1] // the test's ids hold no quotes
			if out[id] {
				return out, false
			}
			out[id] = true
		}
		return out, true
	}
	for n := 0; n < 120; n++ {
		a, b := gen(), gen()
		both := map[string]bool{}
		first := true
		for _, pol := range []tree.Policy{tree.PolicyVariant, tree.PolicyParent} {
			inA, inB := treeCustomIDs(t, a, pol), treeCustomIDs(t, b, pol)
			want := map[string]bool{}
			for id := range inB {
				if inA[id] {
					want[id] = true
				}
			}
			got, once := customIDs(shared(lintFeeds(t, Options{Policy: pol}, "a.xml", a, "b.xml", b)))
			if !once || !sameSet(got, want) {
				t.Fatalf("policy %s: lint says %v shared (each once: %v), tree %v\na:\n%s\nb:\n%s", pol, keys(got), once, keys(want), a, b)
			}
			for id := range both {
				if !want[id] {
					delete(both, id)
				}
			}
			if first {
				both, first = want, false
			}
		}
		got, _ := customIDs(shared(lintFeeds(t, Options{}, "a.xml", a, "b.xml", b)))
		for id := range got {
			if !both[id] {
				t.Fatalf("no policy: lint says %q is shared, but not under both policies (%v)\na:\n%s\nb:\n%s", id, keys(both), a, b)
			}
		}
	}
}

func sameSet(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
