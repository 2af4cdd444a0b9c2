package tree

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/feedsync/feedsync/feed"
)

// randomFeed makes a feed with the awkward cases mixed in: group ids that
// differ by case, titles sharing prefixes of every kind, all availability
// spellings, several currencies, sale windows around now, case-variant colours.
func randomFeed(r *rand.Rand, groups int) []*feed.Item {
	avails := []string{"in_stock", "in stock", "out_of_stock", "preorder", "backorder", "", "InStock", "sold out"}
	colors := []string{"Red", "red", "Blue", "Бежевый", "green", ""}
	sizes := []string{"XS", "S", "M", "L", "XL", "XXL", "36", "38", "40", "One Size", ""}
	windows := []string{"", "2026-06-01/2026-07-01", "2026-07-01/2026-08-01", "2026-01-01T00:00Z/2026-02-01T00:00Z", "2026-06-01T00:00Z/", "garbage"}
	titles := []string{"Tee Basic - %s - %s", "Tee Basic – %s %s", "Tee %s|%s", "Tee Basics %s %s", "%s tee %s"}
	var items []*feed.Item
	line := 1
	for g := 0; g < groups; g++ {
		gid := fmt.Sprintf("grp-%d", g)
		title := titles[r.IntN(len(titles))]
		n := 1 + r.IntN(6)
		for i := 0; i < n; i++ {
			if r.IntN(4) == 0 {
				gid = strings.ToUpper(gid)
			}
			c, s := colors[r.IntN(len(colors))], sizes[r.IntN(len(sizes))]
			cur := "EUR"
			if r.IntN(10) == 0 {
				cur = "USD"
			}
			kv := []string{
				"id", fmt.Sprintf("G%d-V%d", g, i), "item_group_id", gid,
				"title", fmt.Sprintf(title, c, s), "link", fmt.Sprintf("https://x.example/%d/%d", g, i),
				"availability", avails[r.IntN(len(avails))],
				"price", fmt.Sprintf("%d.%02d %s", 5+r.IntN(50), r.IntN(100), cur),
				"color", c, "size", s, "material", []string{"Cotton", "cotton", "Wool"}[r.IntN(3)],
			}
			if r.IntN(2) == 0 {
				kv = append(kv, "brand", fmt.Sprintf("Brand %d", r.IntN(3)))
			}
			if r.IntN(2) == 0 {
				kv = append(kv, "image_link", fmt.Sprintf("https://x.example/%d/%d.jpg", g, i))
			}
			if r.IntN(3) == 0 {
				kv = append(kv, "sale_price", fmt.Sprintf("%d %s", 1+r.IntN(20), cur), "sale_price_effective_date", windows[r.IntN(len(windows))])
			}
			if r.IntN(3) == 0 {
				kv = append(kv, "description", strings.Repeat("Долгое описание. ", 1+r.IntN(30)))
			}
			items = append(items, item(line, kv...))
			line++
		}
		if r.IntN(3) == 0 {
			items = append(items, item(line, "id", fmt.Sprintf("S%d", g), "title", "Standalone", "price", "3 EUR", "availability", "in_stock"))
			line++
		}
	}
	return items
}

// products renders every product of a build as "id lines truncated json", sorted.
func products(t *testing.T, opts Options, items []*feed.Item) map[string]string {
	t.Helper()
	ps, _ := build(t, opts, items...)
	out := make(map[string]string, len(ps))
	for id, p := range ps {
		out[id] = fmt.Sprintf("%v %v %s", p.Lines, p.Truncated, p.JSON())
	}
	return out
}

func TestShuffledItemsGiveIdenticalPayloads(t *testing.T) {
	items := randomFeed(rand.New(rand.NewPCG(1, 2)), 200)
	for _, pol := range []Policy{PolicyParent, PolicyVariant} {
		t.Run(string(pol), func(t *testing.T) {
			opts := Options{Policy: pol, Fields: map[string]string{"material": "material"}}
			want := products(t, opts, items)
			seeds := uint64(60)
			if raceEnabled {
				seeds = 12
			}
			for seed := uint64(0); seed < seeds; seed++ {
				shuffled := append([]*feed.Item(nil), items...)
				rand.New(rand.NewPCG(seed, 99)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
				got := products(t, opts, shuffled)
				if len(got) != len(want) {
					t.Fatalf("seed %d: %d products, want %d", seed, len(got), len(want))
				}
				for id, w := range want {
					if got[id] != w {
						t.Fatalf("seed %d: product %s differs:\n got %s\nwant %s", seed, id, got[id], w)
					}
				}
			}
		})
	}
}

func TestSpillFileGivesTheSameProducts(t *testing.T) {
	items := randomFeed(rand.New(rand.NewPCG(3, 4)), 200)
	oldLimit, oldWindow := spillMemLimit, spillWindow
	defer func() { spillMemLimit, spillWindow = oldLimit, oldWindow }()
	for _, pol := range []Policy{PolicyParent, PolicyVariant} {
		opts := Options{Policy: pol, SpillDir: t.TempDir()}
		spillMemLimit, spillWindow = oldLimit, oldWindow
		want := products(t, opts, items)
		// Windows smaller than a record, records straddling windows, and
		// one window for the whole file.
		for _, window := range []int{16, 300, 1 << 10, oldWindow} {
			spillMemLimit, spillWindow = 1<<10, window
			got := products(t, opts, items)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s, window %d: products from the spill file differ from the in-memory ones", pol, window)
			}
		}
	}
}
