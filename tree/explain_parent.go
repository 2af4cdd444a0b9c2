package tree

import (
	"fmt"
	"sort"
	"strings"
)

// explainParent explains the parent product of group gi: its variants, the
// representative among them, and why each payload field has its value.
func (b *Builder) explainParent(gi int32) (*Explanation, error) {
	g := b.groups.at(gi)
	p, from, err := b.parentProduct(gi, &recordCache{})
	if err != nil {
		return nil, err
	}
	vars, err := b.groupVariants(gi)
	if err != nil {
		return nil, err
	}
	gid := b.groupID(g)
	w := b.newParentReasons(g, vars, p.Payload())
	e := &Explanation{ID: gid, Policy: PolicyParent, ItemGroupID: gid, Payload: p.JSON()}
	for _, r := range vars {
		e.Variants = append(e.Variants, explained(r, r.itemID == w.repID))
	}
	w.attributes(from)
	w.name()
	w.availability()
	_, cur := b.priceSet(gi, g)
	w.prices(cur)
	w.aggregates()
	e.Fields = fieldList(p.Payload(), w.why, p.Truncated)
	return e, nil
}

// groupVariants returns the records of group gi's variants, by id.
func (b *Builder) groupVariants(gi int32) ([]*record, error) {
	var vars []*record
	err := b.spill.each(func(_ int64, r *record) error {
		if r.group == gi {
			vars = append(vars, r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(vars, func(i, j int) bool { return lessID(vars[i].itemID, vars[j].itemID) })
	return vars, nil
}

// parentReasons gathers why each payload field of a parent product has its
// value, field by field.
type parentReasons struct {
	b        *Builder
	g        *group
	vars     []*record      // the group's variants, by id
	payload  map[string]any // the parent's payload
	repID    string         // the representative's id
	repWhy   string         // why it is the representative
	tier     uint8          // the representative's availability rank
	tierName string
	inTier   int               // variants of the representative's rank
	why      map[string]string // field → why it has its value
}

// newParentReasons starts the reasons for group g's parent with its
// custom_id and works out why the representative was chosen.
func (b *Builder) newParentReasons(g *group, vars []*record, payload map[string]any) *parentReasons {
	w := &parentReasons{
		b: b, g: g, vars: vars, payload: payload,
		repID: b.arena.str(g.repID), tier: g.repRank, tierName: rankNames[g.repRank],
	}
	for _, r := range vars {
		if r.rank == w.tier {
			w.inTier++
		}
	}
	w.repWhy = fmt.Sprintf("lowest id among the %d %s variants", w.inTier, w.tierName)
	if w.tier == rankOut {
		w.repWhy = fmt.Sprintf("lowest id among the %d variants, none of them available", len(vars))
	}
	w.why = map[string]string{
		FieldCustomID: fmt.Sprintf("the item_group_id of %d variants (compared case-insensitively; smallest spelling)", len(vars)),
	}
	return w
}

// attributes gives every other field its default reason: the
// representative's attribute, or, where from names a donor, the variant it
// was inherited from. The derived fields' reasons replace these later.
func (w *parentReasons) attributes(from map[string]string) {
	for key := range w.payload {
		attr := strings.TrimPrefix(w.b.sources(key), "attribute ")
		switch {
		case w.why[key] != "":
		case from[key] != "":
			w.why[key] = fmt.Sprintf("%s's %s: the representative %s has none; %s", from[key], attr, w.repID, w.b.donorWhy(w.g, from[key]))
		default:
			w.why[key] = fmt.Sprintf("representative %s's %s (%s)", w.repID, attr, w.repWhy)
		}
	}
}

// name explains the parent's name: the variants' common title prefix, or
// the representative's title when that prefix will not do.
func (w *parentReasons) name() {
	if !w.b.m.send[FieldName] {
		return
	}
	n := len(w.vars)
	if _, ok := w.b.name(w.g); ok {
		w.why[FieldName] = fmt.Sprintf("common prefix of the %d variant titles, cut on a word boundary, trailing separators removed", n)
	} else if n < 2 {
		w.why[FieldName] = fmt.Sprintf("representative %s's title (a group of one)", w.repID)
	} else {
		w.why[FieldName] = fmt.Sprintf("representative %s's title: the variants' common title prefix %q, cut on a word boundary, is shorter than %d characters", w.repID, w.b.arena.str(w.g.title), minNameLen)
	}
}

// availability explains the parent's availability: the best any variant has.
func (w *parentReasons) availability() {
	if !w.b.m.send[FieldAvailability] {
		return
	}
	n := len(w.vars)
	if w.tier == rankOut {
		w.why[FieldAvailability] = fmt.Sprintf("none of the %d variants is in_stock, preorder or backorder", n)
		return
	}
	better := ""
	for r := rankInStock; r < w.tier; r++ {
		better += rankNames[r] + ", "
	}
	if better != "" {
		better = "none " + strings.TrimSuffix(better, ", ") + "; "
	}
	w.why[FieldAvailability] = fmt.Sprintf("%s%d of %d variants %s", better, w.inTier, n, w.tierName)
}

// tierPrices sorts a group's priced variants for the price reasons; each
// entry names the variant and its price.
type tierPrices struct {
	set    []string // of the representative's rank, in the parent's currency
	other  []string // of the representative's rank, in another currency
	worse  []string // of a less available rank
	sales  []string // of set, with a sale price in force
	noSale []string // of set, with a sale price not in force, and why
}

// tierPrices sorts the priced variants by whether they count toward the
// parent's price in currency cur.
func (w *parentReasons) tierPrices(cur string) tierPrices {
	var t tierPrices
	for _, r := range w.vars {
		if r.rank != w.tier && r.price != "" {
			t.worse = append(t.worse, fmt.Sprintf("%s %s %s", r.itemID, r.price, rankNames[r.rank]))
		}
		if r.rank != w.tier || r.price == "" {
			continue
		}
		if r.currency != cur {
			t.other = append(t.other, fmt.Sprintf("%s %s %s", r.itemID, r.price, orNone(r.currency)))
			continue
		}
		t.set = append(t.set, r.itemID+" "+r.price)
		switch r.saleState {
		case saleInForce:
			t.sales = append(t.sales, r.itemID+" "+r.sale)
		case saleNone:
		default:
			t.noSale = append(t.noSale, fmt.Sprintf("%s %s: %s", r.itemID, r.saleState, r.saleNote))
		}
	}
	return t
}

// prices explains price, price_max, currency and sale_price: they come from
// the variants of the representative's rank priced in currency cur.
func (w *parentReasons) prices(cur string) {
	t := w.tierPrices(cur)
	setDesc := fmt.Sprintf("%d %s variants in %s (%s)", len(t.set), w.tierName, orNone(cur), strings.Join(t.set, ", "))
	if len(t.other) > 0 {
		setDesc += fmt.Sprintf("; left out for another currency: %s", strings.Join(t.other, ", "))
	}
	if w.tier != rankInStock {
		setDesc += fmt.Sprintf("; no variant is %s", rankNames[rankInStock])
	}
	if len(t.worse) > 0 {
		setDesc += fmt.Sprintf("; left out as less available: %s", strings.Join(t.worse, ", "))
	}
	if _, ok := w.payload[FieldPrice]; ok {
		w.why[FieldPrice] = "lowest of " + setDesc
	} else if w.b.m.send[FieldPrice] {
		w.why[FieldPrice] = fmt.Sprintf("not sent: no %s variant has a readable %s", w.tierName, w.b.m.priceAttr)
	}
	if _, ok := w.payload[FieldPriceMax]; ok {
		w.why[FieldPriceMax] = fmt.Sprintf("highest of the same %d variants", len(t.set))
	}
	if _, ok := w.payload[FieldCurrency]; ok {
		if w.g.flags&gRepPriced != 0 {
			w.why[FieldCurrency] = fmt.Sprintf("representative %s's currency (%s)", w.repID, w.repWhy)
		} else {
			w.why[FieldCurrency] = fmt.Sprintf("the representative %s has no price: the currency most priced %s variants share", w.repID, w.tierName)
		}
	}
	w.salePrice(t, cur)
}

// salePrice explains sale_price: the lowest sale in force among the
// variants the price comes from, and the sales not in force.
func (w *parentReasons) salePrice(t tierPrices, cur string) {
	if !w.b.m.send[FieldSalePrice] {
		return
	}
	switch {
	case len(t.sales) > 0:
		w.why[FieldSalePrice] = fmt.Sprintf("lowest sale price in force among the %s variants in %s (%s)", w.tierName, orNone(cur), strings.Join(t.sales, ", "))
	case len(t.noSale) > 0:
		w.why[FieldSalePrice] = "not sent: no sale price in force (" + strings.Join(t.noSale, "; ") + ")"
	}
	if len(t.sales) > 0 && len(t.noSale) > 0 {
		w.why[FieldSalePrice] += "; not in force: " + strings.Join(t.noSale, "; ")
	}
}

// aggregates explains the fields gathered over all variants: the plural
// fields (colors, sizes, …) and the variant and in-stock counts.
func (w *parentReasons) aggregates() {
	n := len(w.vars)
	for i, f := range pluralFields {
		if _, ok := w.payload[f]; ok {
			w.why[f] = fmt.Sprintf("%d distinct %s values of %d variants (case-insensitive), natural order: XS < S < M < L < XL < XXL, numbers by value, other text alphabetically", len(w.b.valuesOf(w.g.values[i])), w.b.m.plural[i], n)
		}
	}
	if _, ok := w.payload[FieldVariantCount]; ok {
		w.why[FieldVariantCount] = fmt.Sprintf("%d items with this item_group_id", n)
	}
	if _, ok := w.payload[FieldInStockCount]; ok {
		w.why[FieldInStockCount] = "variants whose availability is in_stock"
	}
}
