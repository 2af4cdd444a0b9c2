package tree

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/feedsync/feedsync/feed"
)

func TestIDLengthLimit(t *testing.T) {
	long := strings.Repeat("x", 40<<10)
	exact := strings.Repeat("é", MaxIDBytes/2) // 1,000 bytes, 500 runes
	exactGroup := strings.Repeat("g", MaxIDBytes)
	t.Run("ItemIDAndGroupID", func(t *testing.T) {
		for _, pol := range []Policy{PolicyParent, PolicyVariant} {
			t.Run(string(pol), func(t *testing.T) {
				ps, b := build(t, Options{Policy: pol},
					item(2, "id", long, "title", "Long"),
					item(3, "id", "A", "item_group_id", strings.Repeat("g", MaxIDBytes+1)),
					item(4, "id", " "+exact+" ", "title", "Exact"),
					item(5, "id", "B", "item_group_id", exactGroup, "title", "Exact group"),
					item(6, "id", "C", "title", "Fine"))
				want := []string{exact, "C", exactGroup}
				if pol == PolicyVariant {
					want[2] = "B"
				}
				if len(ps) != len(want) {
					t.Errorf("got %d products, want %d", len(ps), len(want))
				}
				for _, id := range want {
					if ps[id] == nil {
						t.Errorf("no product %.20q… (%d bytes)", id, len(id))
					}
					if !b.HasProduct(id) {
						t.Errorf("HasProduct(%.20q…) = false", id)
					}
				}
				if b.HasProduct(long) || b.HasProduct("A") || b.HasProduct(strings.Repeat("g", MaxIDBytes+1)) {
					t.Error("HasProduct true for a skipped item")
				}
				if b.ProductIDs() != len(want) {
					t.Errorf("ProductIDs: got %d, want %d", b.ProductIDs(), len(want))
				}
				if b.Skipped() != 2 || b.Items() != 5 {
					t.Errorf("Skipped %d, Items %d: want 2 and 5", b.Skipped(), b.Items())
				}
				probs := b.Problems()
				if len(probs) != 2 {
					t.Fatalf("problems: got %v, want 2", probs)
				}
				clipped := strings.Repeat("x", 60) + "…"
				if p := probs[0]; p.Line != 2 || p.ItemID != clipped || p.Msg != "id is 40960 bytes long, above the limit of 1000 bytes: item skipped" {
					t.Errorf("got %q, want line 2, item %q, id is 40960 bytes long…", p.String(), clipped)
				}
				wantMsg := fmt.Sprintf("item_group_id %q is 1001 bytes long, above the limit of 1000 bytes: item skipped", strings.Repeat("g", 60)+"…")
				if p := probs[1]; p.Line != 3 || p.ItemID != "A" || p.Msg != wantMsg {
					t.Errorf("got %q, want line 3, item A, %s", p.String(), wantMsg)
				}
			})
		}
	})
	t.Run("ProductIDSource", func(t *testing.T) {
		ps, b := build(t, Options{ProductID: "sku"},
			item(7, "id", "A", "sku", strings.Repeat("s", MaxIDBytes+1)),
			item(8, "sku", strings.Repeat("ü", 600)),
			item(9, "id", "C", "sku", strings.Repeat("s", MaxIDBytes)))
		if len(ps) != 1 || ps[strings.Repeat("s", MaxIDBytes)] == nil || b.Skipped() != 2 || b.ProductIDs() != 1 {
			t.Errorf("got %d products, %d skipped, ProductIDs %d; want 1, 2, 1", len(ps), b.Skipped(), b.ProductIDs())
		}
		probs := b.Problems()
		if len(probs) != 2 {
			t.Fatalf("problems: got %v, want 2", probs)
		}
		if p := probs[0]; p.Line != 7 || p.ItemID != "A" || !strings.HasPrefix(p.Msg, fmt.Sprintf("sku %q is 1001 bytes long", strings.Repeat("s", 60)+"…")) {
			t.Errorf("got %q", p.String())
		}
		// Clipped on a rune boundary: 60 bytes are 30 ü.
		if p := probs[1]; p.Line != 8 || p.ItemID != "" || !strings.HasPrefix(p.Msg, fmt.Sprintf("sku %q is 1200 bytes long", strings.Repeat("ü", 30)+"…")) {
			t.Errorf("got %q", p.String())
		}
	})
	t.Run("ClipKeepsRunesWhole", func(t *testing.T) {
		s := "a" + strings.Repeat("€", 100) // € is 3 bytes: byte 60 is inside one
		c := clipID(s)
		if !utf8.ValidString(c) || !strings.HasSuffix(c, "…") || len(c) > 60+len("…") || len(c) < 58 {
			t.Errorf("clipID: got %q (%d bytes)", c, len(c))
		}
		if clipID("short") != "short" {
			t.Error("a short id was clipped")
		}
	})
}

// emitted runs Finish and returns the custom_ids of the products, in order.
func emitted(t *testing.T, b *Builder) []string {
	t.Helper()
	var ids []string
	if err := b.Finish(func(p *Product) error { ids = append(ids, p.ID); return nil }); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	return ids
}

func TestHasProduct(t *testing.T) {
	cases := []struct {
		name  string
		opts  Options
		items []*feed.Item
		ids   []string // the distinct custom_ids Finish emits
		not   []string
	}{
		{"ParentGroupIDEqualToAStandaloneID", Options{Policy: PolicyParent}, []*feed.Item{
			item(1, "id", "G"),
			item(2, "id", "A", "item_group_id", "g"),
			item(3, "id", "B", "item_group_id", "G")},
			[]string{"G"}, []string{"g", "A", "B", ""}},
		{"ParentGroupRespelledAwayFromAStandaloneID", Options{Policy: PolicyParent}, []*feed.Item{
			item(1, "id", "g"),
			item(2, "id", "A", "item_group_id", "g"),
			item(3, "id", "B", "item_group_id", "G")},
			[]string{"g", "G"}, []string{"A", "B"}},
		{"ParentStandaloneAfterItsGroup", Options{Policy: PolicyParent}, []*feed.Item{
			item(1, "id", "A", "item_group_id", "Tee"),
			item(2, "id", "tEE", "item_group_id", "TEE"),
			item(3, "id", "TEE")},
			[]string{"TEE"}, []string{"Tee", "tEE", "A"}},
		{"ParentProductIDFromGTIN", Options{Policy: PolicyParent, ProductID: "gtin"}, []*feed.Item{
			item(1, "id", "A", "gtin", "111", "item_group_id", "222"),
			item(2, "id", "B", "gtin", "222"),
			item(3, "id", "C", "gtin", "333"),
			item(4, "id", "D")}, // no gtin: skipped
			[]string{"222", "333"}, []string{"111", "A", "B", "C", "D"}},
		{"VariantGroupsAreNoProducts", Options{Policy: PolicyVariant}, []*feed.Item{
			item(1, "id", "A", "item_group_id", "G"),
			item(2, "id", "b", "item_group_id", "g"),
			item(3, "id", "B"), // duplicate of b
			item(4, "id", "X")},
			[]string{"A", "b", "X"}, []string{"G", "g", "B", "a", "x"}},
		{"VariantProductIDFromSKU", Options{Policy: PolicyVariant, ProductID: "sku"}, []*feed.Item{
			item(1, "id", "A", "sku", "s-1", "item_group_id", "G"),
			item(2, "id", "B", "sku", "S-1"), // duplicate sku
			item(3, "sku", "S-2")},
			[]string{"s-1", "S-2"}, []string{"S-1", "A", "B", "G"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.opts.Now = now
			b := NewBuilder(c.opts)
			defer b.Close()
			for _, it := range c.items {
				b.Add(it)
			}
			check := func(when string) {
				for _, id := range c.ids {
					if !b.HasProduct(id) {
						t.Errorf("%s: HasProduct(%q) = false, want true", when, id)
					}
				}
				for _, id := range c.not {
					if b.HasProduct(id) {
						t.Errorf("%s: HasProduct(%q) = true, want false", when, id)
					}
				}
				if got := b.ProductIDs(); got != len(c.ids) {
					t.Errorf("%s: ProductIDs = %d, want %d", when, got, len(c.ids))
				}
			}
			check("before Finish")
			got := slices.Compact(slices.Sorted(slices.Values(emitted(t, b))))
			if want := slices.Sorted(slices.Values(c.ids)); !slices.Equal(got, want) {
				t.Errorf("Finish emitted %q, want %q", got, want)
			}
			check("after Finish")
		})
	}
}

// TestHasProductAgreesWithFinish is the property: for random feeds full of
// ids that collide case-insensitively (with each other, with group ids, in
// Unicode), under both policies and several product id sources, HasProduct
// is true exactly for the ids Finish emits, and ProductIDs counts them.
func TestHasProductAgreesWithFinish(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	// Tokens that fold together: K (Kelvin sign) and ẞ lower-case to k and ß.
	tokens := []string{"a", "b", "ab", "g1", "x", "é", "straße", "K", "ẞ", "σ"}
	spell := func() string {
		var sb strings.Builder
		for i, n := 0, 1+r.IntN(2); i < n; i++ {
			for _, c := range tokens[r.IntN(len(tokens))] {
				switch r.IntN(3) {
				case 0:
					c = unicode.ToUpper(c)
				case 1:
					c = unicode.ToLower(c)
				}
				sb.WriteRune(c)
			}
		}
		switch r.IntN(12) {
		case 0:
			return " " + sb.String() + "\t"
		case 1:
			return ""
		case 2:
			return strings.Repeat(sb.String(), MaxIDBytes/sb.Len()+1) // too long
		}
		return sb.String()
	}
	iters := 3000
	if testing.Short() || raceEnabled {
		iters = 300
	}
	for iter := 0; iter < iters; iter++ {
		opts := Options{Policy: []Policy{PolicyParent, PolicyVariant}[r.IntN(2)], ProductID: []string{"id", "id", "gtin", "sku"}[r.IntN(4)], Now: now}
		var items []*feed.Item
		probes := map[string]bool{"": true}
		for line, n := 1, 1+r.IntN(40); line <= n; line++ {
			kv := []string{"title", "T", "price", "1 EUR"}
			for _, attr := range []string{"id", opts.ProductID, "item_group_id"} {
				if attr == "item_group_id" && r.IntN(3) == 0 {
					continue
				}
				if attr == opts.ProductID && attr != "id" && r.IntN(3) == 0 {
					attr = "id" // product_id other than id, but equal to an item id
				}
				v := spell()
				kv = append(kv, attr, v)
				for _, s := range []string{v, strings.TrimSpace(v), strings.ToUpper(v), strings.ToLower(v), strings.ToUpper(strings.TrimSpace(v)), strings.ToLower(strings.TrimSpace(v))} {
					probes[s] = true
				}
			}
			items = append(items, item(line, kv...))
		}
		b := NewBuilder(opts)
		mid := r.IntN(len(items) + 1)
		for i, it := range items {
			if i == mid {
				// Asking halfway seals the set and caches the count:
				// later Adds must unseal and invalidate them.
				b.ProductIDs()
				b.HasProduct(strings.TrimSpace(spell()))
			}
			b.Add(it)
		}
		has := map[string]bool{}
		for p := range probes {
			has[p] = b.HasProduct(p)
		}
		count := b.ProductIDs()
		out := map[string]bool{}
		if err := b.Finish(func(p *Product) error { out[p.ID] = true; return nil }); err != nil {
			t.Fatalf("iteration %d: Finish: %v", iter, err)
		}
		fail := func(format string, args ...any) {
			t.Helper()
			var feed []string
			for _, it := range items {
				feed = append(feed, fmt.Sprint(it.Attrs))
			}
			t.Fatalf("iteration %d (%s, product_id %s): %s\nfeed:\n%s", iter, opts.Policy, opts.ProductID, fmt.Sprintf(format, args...), strings.Join(feed, "\n"))
		}
		for id := range out {
			if !probes[id] {
				fail("emitted %q, which the feed does not spell", id)
			}
			if !b.HasProduct(id) {
				fail("HasProduct(%q) = false after Finish; Finish emitted it", id)
			}
		}
		for p, got := range has {
			if got != out[p] {
				fail("HasProduct(%q) = %v before Finish; emitted: %v", p, got, out[p])
			}
			if b.HasProduct(p) != got {
				fail("HasProduct(%q) changed with Finish", p)
			}
		}
		if count != len(out) || b.ProductIDs() != count {
			fail("ProductIDs = %d before Finish, %d after; Finish emitted %d distinct ids", count, b.ProductIDs(), len(out))
		}
		b.Close()
	}
}

// TestIDSet checks the sorted set on its own, at sizes around its
// directory's bucket boundaries and at a size with a large directory,
// with adds after lookups and repeated ids.
func TestIDSet(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 9, 100, 1 << 12, 100_000} {
		s := newIDSet()
		in := func(i int) string { return fmt.Sprintf("in-%d", i) }
		for i := 0; i < n/2; i++ {
			s.add(s.key(in(i)))
		}
		if s.len() != n/2 {
			t.Errorf("n=%d: len %d after the first half, want %d", n, s.len(), n/2)
		}
		for i := n / 2; i < n; i++ {
			s.add(s.key(in(i)))
			if i%3 == 0 {
				s.add(s.key(in(i))) // repeated: counts once
			}
		}
		if s.len() != n {
			t.Errorf("n=%d: len %d, want %d", n, s.len(), n)
		}
		for i := 0; i < n; i++ {
			if !s.has(in(i)) {
				t.Fatalf("n=%d: %q missing", n, in(i))
			}
		}
		for i := 0; i < max(n, 100); i++ {
			if out := fmt.Sprintf("out-%d", i); s.has(out) {
				t.Fatalf("n=%d: %q present", n, out)
			}
		}
	}
}
