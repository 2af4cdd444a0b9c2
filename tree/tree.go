package tree

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/feedsync/feedsync/feed"
)

// Policy is how deep into the product tree a feed goes.
type Policy string

// The two policies.
const (
	PolicyParent  Policy = "parent"
	PolicyVariant Policy = "variant"
)

// ParsePolicy checks a policy name from the configuration or a flag.
func ParsePolicy(s string) (Policy, error) {
	switch p := Policy(s); p {
	case PolicyParent, PolicyVariant:
		return p, nil
	}
	return "", fmt.Errorf("%q: want parent or variant", s)
}

// MaxStringLen is User.com's limit for a string attribute, in characters.
const MaxStringLen = 256

// Options configure a Builder.
type Options struct {
	Policy Policy
	// ProductID names the attribute that identifies a product under the variant
	// policy (and a standalone item under both): id, gtin, mpn or any attribute.
	ProductID string
	// Fields maps catalog fields to feed attributes, over the defaults
	// ("name": "title"); an empty attribute drops the field.
	Fields map[string]string
	// Now is the run's clock, for sale_price_effective_date.
	Now time.Time
}

// Product is one catalog product: its custom_id, the flat payload, and the
// lines of the items it came from.
type Product struct {
	ID      string
	Payload map[string]any
	Lines   []int
	// Truncated names the string fields cut to MaxStringLen.
	Truncated []string
}

// JSON returns the payload as canonical JSON: keys sorted, no HTML escaping,
// no trailing newline. Equal payloads give equal bytes.
func (p *Product) JSON() []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p.Payload); err != nil {
		// Payload values are strings, json.Numbers and ints: they always encode.
		panic(fmt.Sprintf("tree: encode payload of %q: %v", p.ID, err))
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// Builder collects items and emits products.
type Builder struct {
	opts     Options
	seen     map[string]int // lower-cased item id → line of the first occurrence
	groups   map[string]*group
	order    []string // group keys in first-seen order
	single   []*feed.Item
	problems []feed.Problem
	items    int
}

type group struct {
	id    string // item_group_id as first seen
	items []*feed.Item
}

// NewBuilder returns a Builder for one feed.
func NewBuilder(opts Options) *Builder {
	if opts.ProductID == "" {
		opts.ProductID = "id"
	}
	if opts.Policy == "" {
		opts.Policy = PolicyVariant
	}
	return &Builder{opts: opts, seen: make(map[string]int), groups: make(map[string]*group)}
}

// Problems lists the items that were skipped and why.
func (b *Builder) Problems() []feed.Problem { return b.problems }

// Items is the number of items added, skipped ones included.
func (b *Builder) Items() int { return b.items }

// Add takes one item. Duplicate ids (compared case-insensitively, as Google
// does) and items without a product id are reported and skipped.
func (b *Builder) Add(it *feed.Item) {
	b.items++
	id := it.ID()
	if id != "" {
		key := strings.ToLower(id)
		if first, dup := b.seen[key]; dup {
			b.problems = append(b.problems, feed.Problem{Line: it.Line, ItemID: id,
				Msg: fmt.Sprintf("duplicate id (first seen on line %d): item skipped", first)})
			return
		}
		b.seen[key] = it.Line
	}
	if b.opts.ProductID != "id" || id == "" {
		if it.Get(b.opts.ProductID) == "" {
			b.problems = append(b.problems, feed.Problem{Line: it.Line, ItemID: id,
				Msg: fmt.Sprintf("no %s (the product id source): item skipped", b.opts.ProductID)})
			return
		}
	}
	gid := it.Get("item_group_id")
	if gid == "" {
		b.single = append(b.single, it)
		return
	}
	key := strings.ToLower(gid)
	g, ok := b.groups[key]
	if !ok {
		g = &group{id: gid}
		b.groups[key] = g
		b.order = append(b.order, key)
	}
	g.items = append(g.items, it)
}

// Finish emits every product, standalone items first in feed order, then
// groups in order of first appearance. It stops at the first error emit returns.
func (b *Builder) Finish(emit func(*Product) error) error {
	for _, it := range b.single {
		if err := emit(b.variantProduct(it, nil)); err != nil {
			return err
		}
	}
	for _, key := range b.order {
		g := b.groups[key]
		sort.SliceStable(g.items, func(i, j int) bool { return lessID(g.items[i].ID(), g.items[j].ID()) })
		rep := representative(g.items)
		if b.opts.Policy == PolicyParent {
			if err := emit(b.parentProduct(g, rep)); err != nil {
				return err
			}
			continue
		}
		for _, it := range g.items {
			if err := emit(b.variantProduct(it, rep)); err != nil {
				return err
			}
		}
	}
	return nil
}

func lessID(a, b string) bool {
	la, lb := strings.ToLower(a), strings.ToLower(b)
	if la != lb {
		return la < lb
	}
	return a < b
}

// availabilityRank orders availability for the representative and the parent's value.
func availabilityRank(it *feed.Item) int {
	v, _ := feed.NormalizeAvailability(it.Get("availability"))
	switch v {
	case feed.InStock:
		return 0
	case feed.Preorder:
		return 1
	case feed.Backorder:
		return 2
	}
	return 3
}

// representative is the lowest id among the best-available variants; items are
// sorted by id already.
func representative(items []*feed.Item) *feed.Item {
	best := items[0]
	for _, it := range items[1:] {
		if availabilityRank(it) < availabilityRank(best) {
			best = it
		}
	}
	return best
}

type payload struct {
	m         map[string]any
	truncated []string
}

func (p *payload) str(key, v string) {
	v = strings.TrimSpace(v)
	if v == "" {
		return
	}
	if utf8.RuneCountInString(v) > MaxStringLen {
		n := 0
		for i := range v {
			if n == MaxStringLen {
				v = v[:i]
				break
			}
			n++
		}
		p.truncated = append(p.truncated, key)
	}
	p.m[key] = v
}

func (p *payload) price(key, raw string) (feed.Price, bool) {
	pr, err := feed.ParsePrice(raw)
	if err != nil {
		return feed.Price{}, false
	}
	p.m[key] = json.Number(pr.Amount)
	return pr, true
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// common fills the fields every product carries from one item.
func common(p *payload, it *feed.Item) {
	p.str("product_url", it.Get("link"))
	p.str("image_url", it.Get("image_link"))
	p.str("brand", it.Get("brand"))
	p.str("category_name", firstNonEmpty(it.Get("product_type"), it.Get("google_product_category")))
	p.str("description", it.Get("description"))
	p.str("gtin", it.Get("gtin"))
	p.str("mpn", it.Get("mpn"))
	p.str("condition", strings.ToLower(it.Get("condition")))
}

func (b *Builder) variantProduct(it *feed.Item, rep *feed.Item) *Product {
	p := &payload{m: make(map[string]any)}
	id := it.Get(b.opts.ProductID)
	p.m["custom_id"] = id
	p.str("name", it.Get("title"))
	common(p, it)
	if rep != nil && rep != it {
		// Fields a variant lacks are inherited from its group's representative.
		for key, attr := range map[string]string{"brand": "brand", "description": "description", "image_url": "image_link"} {
			if _, ok := p.m[key]; !ok {
				p.str(key, rep.Get(attr))
			}
		}
		if _, ok := p.m["category_name"]; !ok {
			p.str("category_name", firstNonEmpty(rep.Get("product_type"), rep.Get("google_product_category")))
		}
	}
	if pr, ok := p.price("price", it.Get("price")); ok && pr.Currency != "" {
		p.m["currency"] = pr.Currency
	}
	p.price("sale_price", it.Get("sale_price"))
	if av, ok := feed.NormalizeAvailability(it.Get("availability")); ok {
		p.m["availability"] = av
	}
	p.str("color", it.Get("color"))
	p.str("size", it.Get("size"))
	p.str("item_group_id", it.Get("item_group_id"))
	if b.opts.ProductID != "id" {
		p.str("sku", it.ID())
	}
	return &Product{ID: id, Payload: p.m, Lines: []int{it.Line}, Truncated: p.truncated}
}

func (b *Builder) parentProduct(g *group, rep *feed.Item) *Product {
	p := &payload{m: make(map[string]any)}
	p.m["custom_id"] = g.id
	p.str("name", commonTitle(g.items, rep))
	common(p, rep)

	bestRank := availabilityRank(rep)
	var lo, hi, sale *feed.Price
	inStock := 0
	lines := make([]int, 0, len(g.items))
	for _, it := range g.items {
		lines = append(lines, it.Line)
		r := availabilityRank(it)
		if r == 0 {
			inStock++
		}
		if r != bestRank {
			continue // prices of the best-available set only
		}
		if pr, err := feed.ParsePrice(it.Get("price")); err == nil {
			if lo == nil || decLess(pr.Amount, lo.Amount) {
				lo = &pr
			}
			if hi == nil || decLess(hi.Amount, pr.Amount) {
				hi = &pr
			}
		}
		if sp, err := feed.ParsePrice(it.Get("sale_price")); err == nil {
			if sale == nil || decLess(sp.Amount, sale.Amount) {
				sale = &sp
			}
		}
	}
	if lo != nil {
		p.m["price"] = json.Number(lo.Amount)
		p.m["price_max"] = json.Number(hi.Amount)
		if lo.Currency != "" {
			p.m["currency"] = lo.Currency
		}
	}
	if sale != nil {
		p.m["sale_price"] = json.Number(sale.Amount)
	}
	p.m["availability"] = [...]string{feed.InStock, feed.Preorder, feed.Backorder, feed.OutOfStock}[bestRank]
	p.str("colors", distinct(g.items, "color"))
	p.str("sizes", distinct(g.items, "size"))
	p.m["variant_count"] = len(g.items)
	p.m["in_stock_count"] = inStock
	sort.Ints(lines)
	return &Product{ID: g.id, Payload: p.m, Lines: lines, Truncated: p.truncated}
}

// decLess compares two canonical decimal strings numerically.
func decLess(a, b string) bool {
	na, nb := strings.HasPrefix(a, "-"), strings.HasPrefix(b, "-")
	if na != nb {
		return na
	}
	if na {
		return decLess(b[1:], a[1:])
	}
	ai, af, _ := strings.Cut(a, ".")
	bi, bf, _ := strings.Cut(b, ".")
	if len(ai) != len(bi) {
		return len(ai) < len(bi)
	}
	if ai != bi {
		return ai < bi
	}
	return af < bf
}

// commonTitle is the variants' common title prefix cut on a word boundary,
// without trailing separators, when at least 3 characters long; else the
// representative's title.
func commonTitle(items []*feed.Item, rep *feed.Item) string {
	prefix := strings.TrimSpace(items[0].Get("title"))
	for _, it := range items[1:] {
		t := strings.TrimSpace(it.Get("title"))
		n := 0
		for n < len(prefix) && n < len(t) && prefix[n] == t[n] {
			n++
		}
		if n < len(prefix) {
			// cut on a word boundary: the next character of either title must end a word
			cut := prefix[:n]
			if !(n == len(t) || t[n] == ' ') {
				if i := strings.LastIndexAny(cut, " "); i >= 0 {
					cut = cut[:i]
				} else {
					cut = ""
				}
			}
			prefix = cut
		}
	}
	prefix = strings.TrimRight(prefix, " -–|,/:")
	if len(items) > 1 && utf8.RuneCountInString(prefix) >= 3 {
		return prefix
	}
	return rep.Get("title")
}

// distinct joins the distinct values of an attribute, case-insensitively
// deduplicated, in natural order.
func distinct(items []*feed.Item, attr string) string {
	seen := make(map[string]bool)
	var vals []string
	for _, it := range items {
		v := strings.TrimSpace(it.Get(attr))
		if v == "" || seen[strings.ToLower(v)] {
			continue
		}
		seen[strings.ToLower(v)] = true
		vals = append(vals, v)
	}
	sort.SliceStable(vals, func(i, j int) bool { return naturalLess(vals[i], vals[j]) })
	return strings.Join(vals, ", ")
}

var sizeOrder = map[string]int{"xxxs": 1, "xxs": 2, "xs": 3, "s": 4, "m": 5, "l": 6, "xl": 7, "xxl": 8, "2xl": 8, "xxxl": 9, "3xl": 9, "4xl": 10, "5xl": 11}

// naturalLess orders clothing sizes by size, numbers by value, other text
// case-insensitively.
func naturalLess(a, b string) bool {
	sa, oka := sizeOrder[strings.ToLower(a)]
	sb, okb := sizeOrder[strings.ToLower(b)]
	if oka && okb {
		return sa < sb
	}
	if isNumber(a) && isNumber(b) {
		ca, _ := feed.ParsePrice(a)
		cb, _ := feed.ParsePrice(b)
		if ca.Amount != cb.Amount {
			return decLess(ca.Amount, cb.Amount)
		}
	}
	la, lb := strings.ToLower(a), strings.ToLower(b)
	if la != lb {
		return la < lb
	}
	return a < b
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	dot := false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] >= '0' && s[i] <= '9':
		case s[i] == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return true
}
