package tree

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
)

// Explanation says where one product came from: the items behind it and why
// each payload field has its value. It is what `feedsync plan --explain ID`
// prints (String) or encodes (JSON).
type Explanation struct {
	ID          string             `json:"id"`
	Policy      Policy             `json:"policy"`
	ItemGroupID string             `json:"item_group_id,omitempty"`
	Variants    []ExplainedVariant `json:"variants"`
	Fields      []ExplainedField   `json:"fields"`
	Payload     json.RawMessage    `json:"payload"`
}

// ExplainedVariant is one item behind a product, as the derivations saw it.
type ExplainedVariant struct {
	ID             string `json:"id"`
	Line           int    `json:"line"`
	Availability   string `json:"availability"` // normalised; "" when missing or unknown
	Price          string `json:"price,omitempty"`
	SalePrice      string `json:"sale_price,omitempty"`
	Sale           string `json:"sale,omitempty"` // whether the sale is in force, and why
	Title          string `json:"title,omitempty"`
	Representative bool   `json:"representative,omitempty"`
}

// ExplainedField is one payload field: its JSON value ("" when not sent) and why.
type ExplainedField struct {
	Field string `json:"field"`
	Value string `json:"value"`
	Why   string `json:"why"`
}

// String renders the explanation for a terminal.
func (e *Explanation) String() string {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "product %s (policy %s", e.ID, e.Policy)
	if e.ItemGroupID != "" {
		fmt.Fprintf(&buf, ", item_group_id %s", e.ItemGroupID)
	}
	fmt.Fprintf(&buf, ")\n\nitems:\n")
	tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
	for _, v := range e.Variants {
		mark := " "
		if v.Representative {
			mark = "*"
		}
		sale := ""
		if v.SalePrice != "" || v.Sale != "" {
			sale = strings.TrimSpace(fmt.Sprintf("sale %s (%s)", v.SalePrice, v.Sale))
		}
		fmt.Fprintf(tw, "%s %s\tline %d\t%s\t%s\t%s\t%q\n", mark, v.ID, v.Line, orDash(v.Availability), orDash(v.Price), sale, v.Title)
	}
	tw.Flush()
	if e.Policy == PolicyParent && e.ItemGroupID != "" {
		buf.WriteString("(* representative)\n")
	}
	buf.WriteString("\nfields:\n")
	tw = tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
	for _, f := range e.Fields {
		v := f.Value
		if v == "" {
			v = "(not sent)"
		}
		if len([]rune(v)) > 60 {
			v = string([]rune(v)[:57]) + "..."
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", f.Field, v, f.Why)
	}
	tw.Flush()
	return buf.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Explain tells, for the product with custom_id id (or, under the parent
// policy, the item_group_id), the items it came from and why each field has
// its value. Call it after the last Add; it reads the spill, so it costs one
// pass over the records. An unknown id gives an error wrapping ErrUnknownProduct.
func (b *Builder) Explain(id string) (*Explanation, error) {
	b.finalize()
	if b.err != nil {
		return nil, b.err
	}
	if err := b.spill.flush(); err != nil {
		return nil, err
	}
	id = strings.TrimSpace(id)
	if gi, _, ok := b.findGroup(id); ok && b.opts.Policy == PolicyParent {
		return b.explainParent(gi)
	}
	// A standalone item or a variant: exact custom_id first, then ignoring case.
	var exact, folded *record
	var groupOf *record // a variant named under the parent policy
	err := b.spill.each(func(_ int64, r *record) error {
		switch {
		case r.productID == id:
			if r.group >= 0 && b.opts.Policy == PolicyParent {
				groupOf = r
			} else if exact == nil {
				exact = r
			}
		case strings.EqualFold(r.productID, id) || strings.EqualFold(r.itemID, id):
			if r.group >= 0 && b.opts.Policy == PolicyParent {
				if groupOf == nil {
					groupOf = r
				}
			} else if folded == nil {
				folded = r
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if exact == nil {
		exact = folded
	}
	if exact != nil {
		return b.explainVariant(exact)
	}
	if groupOf != nil {
		return nil, fmt.Errorf("%w: %q is a variant of item_group_id %q, which policy parent sends as one product: explain %q", ErrUnknownProduct, id, b.groupID(b.groups.at(groupOf.group)), b.groupID(b.groups.at(groupOf.group)))
	}
	if gi, _, ok := b.findGroup(id); ok {
		return nil, fmt.Errorf("%w: %q is an item_group_id; policy variant sends each of its %d variants as a product: explain one of them", ErrUnknownProduct, b.groupID(b.groups.at(gi)), b.groups.at(gi).n)
	}
	return nil, fmt.Errorf("%w: %q is neither a custom_id nor an item_group_id of this feed", ErrUnknownProduct, id)
}

func explained(r *record, rep bool) ExplainedVariant {
	v := ExplainedVariant{ID: r.itemID, Line: int(r.line), Availability: r.avail, Title: r.title, Representative: rep}
	if r.price != "" {
		v.Price = strings.TrimSpace(r.price + " " + r.currency)
	}
	if r.saleState != saleNone {
		v.SalePrice = strings.TrimSpace(r.sale + " " + r.currency)
		v.Sale = r.saleState.String() + ": " + r.saleNote
	}
	return v
}

func jsonValue(v any) string {
	if v == nil {
		return ""
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimRight(buf.String(), "\n")
}

func (b *Builder) sources(key string) string {
	i, ok := b.m.index[key]
	if !ok {
		return key
	}
	a := b.m.specs[i].attrs
	if len(a) == 1 {
		return "attribute " + a[0]
	}
	return "attribute " + strings.Join(a, " or ")
}

func (b *Builder) explainVariant(r *record) (*Explanation, error) {
	e := &Explanation{ID: r.productID, Policy: b.opts.Policy}
	var g *group
	if r.group >= 0 {
		g = b.groups.at(r.group)
		e.ItemGroupID = b.groupID(g)
	}
	p, from, err := b.variantProductFrom(r, g, &recordCache{})
	if err != nil {
		return nil, err
	}
	e.Payload = p.JSON()
	e.Variants = []ExplainedVariant{explained(r, false)}
	if g != nil {
		// The group's other variants, for context.
		err := b.spill.each(func(_ int64, o *record) error {
			if o.group == r.group && o.itemID != r.itemID {
				e.Variants = append(e.Variants, explained(o, o.itemID == b.arena.str(g.repID)))
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Slice(e.Variants[1:], func(i, j int) bool { return lessID(e.Variants[1+i].ID, e.Variants[1+j].ID) })
	}
	why := map[string]string{FieldCustomID: "the item's " + b.opts.ProductID + " (product_id)"}
	for key := range p.Payload() {
		switch {
		case why[key] != "":
		case key == FieldPrice:
			why[key] = "the item's " + b.m.priceAttr
		case key == FieldCurrency:
			why[key] = "the currency of the item's " + b.m.priceAttr
		case key == FieldAvailability:
			why[key] = "the item's " + b.m.availAttr + ", normalised"
		case key == FieldSalePrice:
			why[key] = "the item's " + b.m.saleAttr + ", in force (" + r.saleNote + ")"
		case key == FieldItemGroupID:
			why[key] = "the item's group (item_group_id compared case-insensitively, smallest spelling)"
		case from[key] != "":
			why[key] = fmt.Sprintf("inherited from %s: this variant has no %s; %s", from[key], strings.TrimPrefix(b.sources(key), "attribute "), b.donorWhy(g, from[key]))
		default:
			why[key] = "from " + b.sources(key)
		}
	}
	if _, sent := p.Payload()[FieldSalePrice]; !sent && r.saleState != saleNone && b.m.send[FieldSalePrice] {
		why[FieldSalePrice] = "not sent: " + r.saleState.String() + " (" + r.saleNote + ")"
	}
	e.Fields = fieldList(p.Payload(), why, p.Truncated)
	return e, nil
}

func fieldList(payload map[string]any, why map[string]string, truncated []string) []ExplainedField {
	keys := make([]string, 0, len(why))
	for k := range why {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]ExplainedField, 0, len(keys))
	for _, k := range keys {
		w := why[k]
		if contains(truncated, k) {
			w += fmt.Sprintf("; cut to %d characters", MaxStringLen)
		}
		out = append(out, ExplainedField{Field: k, Value: jsonValue(payload[k]), Why: w})
	}
	return out
}

func (b *Builder) explainParent(gi int32) (*Explanation, error) {
	g := b.groups.at(gi)
	p, from, err := b.parentProduct(gi, &recordCache{})
	if err != nil {
		return nil, err
	}
	var vars []*record
	err = b.spill.each(func(_ int64, r *record) error {
		if r.group == gi {
			vars = append(vars, r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(vars, func(i, j int) bool { return lessID(vars[i].itemID, vars[j].itemID) })
	gid, repID := b.groupID(g), b.arena.str(g.repID)
	e := &Explanation{ID: gid, Policy: PolicyParent, ItemGroupID: gid, Payload: p.JSON()}
	for _, r := range vars {
		isRep := r.itemID == repID
		e.Variants = append(e.Variants, explained(r, isRep))
	}
	tier := g.repRank
	tierName := rankNames[tier]
	n := len(vars)
	inTier := 0
	for _, r := range vars {
		if r.rank == tier {
			inTier++
		}
	}
	repWhy := fmt.Sprintf("lowest id among the %d %s variants", inTier, tierName)
	if tier == rankOut {
		repWhy = fmt.Sprintf("lowest id among the %d variants, none of them available", n)
	}
	why := map[string]string{
		FieldCustomID: fmt.Sprintf("the item_group_id of %d variants (compared case-insensitively; smallest spelling)", n),
	}
	m := b.m
	for key := range p.Payload() {
		switch {
		case why[key] != "":
		case from[key] != "":
			why[key] = fmt.Sprintf("%s's %s: the representative %s has none; %s", from[key], strings.TrimPrefix(b.sources(key), "attribute "), repID, b.donorWhy(g, from[key]))
		default:
			why[key] = fmt.Sprintf("representative %s's %s (%s)", repID, strings.TrimPrefix(b.sources(key), "attribute "), repWhy)
		}
	}
	if m.send[FieldName] {
		if _, ok := b.name(g); ok {
			why[FieldName] = fmt.Sprintf("common prefix of the %d variant titles, cut on a word boundary, trailing separators removed", n)
		} else if n < 2 {
			why[FieldName] = fmt.Sprintf("representative %s's title (a group of one)", repID)
		} else {
			why[FieldName] = fmt.Sprintf("representative %s's title: the variants' common title prefix %q, cut on a word boundary, is shorter than %d characters", repID, b.arena.str(g.title), minNameLen)
		}
	}
	if m.send[FieldAvailability] {
		if tier == rankOut {
			why[FieldAvailability] = fmt.Sprintf("none of the %d variants is in_stock, preorder or backorder", n)
		} else {
			better := ""
			for r := rankInStock; r < tier; r++ {
				better += rankNames[r] + ", "
			}
			if better != "" {
				better = "none " + strings.TrimSuffix(better, ", ") + "; "
			}
			why[FieldAvailability] = fmt.Sprintf("%s%d of %d variants %s", better, inTier, n, tierName)
		}
	}
	_, cur := b.priceSet(gi, g)
	var set, other []string
	var sales, noSale []string
	var worse []string
	for _, r := range vars {
		if r.rank != tier && r.price != "" {
			worse = append(worse, fmt.Sprintf("%s %s %s", r.itemID, r.price, rankNames[r.rank]))
		}
		if r.rank != tier || r.price == "" {
			continue
		}
		if r.currency != cur {
			other = append(other, fmt.Sprintf("%s %s %s", r.itemID, r.price, orNone(r.currency)))
			continue
		}
		set = append(set, r.itemID+" "+r.price)
		switch r.saleState {
		case saleInForce:
			sales = append(sales, r.itemID+" "+r.sale)
		case saleNone:
		default:
			noSale = append(noSale, fmt.Sprintf("%s %s: %s", r.itemID, r.saleState, r.saleNote))
		}
	}
	setDesc := fmt.Sprintf("%d %s variants in %s (%s)", len(set), tierName, orNone(cur), strings.Join(set, ", "))
	if len(other) > 0 {
		setDesc += fmt.Sprintf("; left out for another currency: %s", strings.Join(other, ", "))
	}
	if tier != rankInStock {
		setDesc += fmt.Sprintf("; no variant is %s", rankNames[rankInStock])
	}
	if len(worse) > 0 {
		setDesc += fmt.Sprintf("; left out as less available: %s", strings.Join(worse, ", "))
	}
	if _, ok := p.Payload()[FieldPrice]; ok {
		why[FieldPrice] = "lowest of " + setDesc
	} else if m.send[FieldPrice] {
		why[FieldPrice] = fmt.Sprintf("not sent: no %s variant has a readable %s", tierName, m.priceAttr)
	}
	if _, ok := p.Payload()[FieldPriceMax]; ok {
		why[FieldPriceMax] = fmt.Sprintf("highest of the same %d variants", len(set))
	}
	if _, ok := p.Payload()[FieldCurrency]; ok {
		if g.flags&gRepPriced != 0 {
			why[FieldCurrency] = fmt.Sprintf("representative %s's currency (%s)", repID, repWhy)
		} else {
			why[FieldCurrency] = fmt.Sprintf("the representative %s has no price: the currency most priced %s variants share", repID, tierName)
		}
	}
	if m.send[FieldSalePrice] {
		switch {
		case len(sales) > 0:
			why[FieldSalePrice] = fmt.Sprintf("lowest sale price in force among the %s variants in %s (%s)", tierName, orNone(cur), strings.Join(sales, ", "))
		case len(noSale) > 0:
			why[FieldSalePrice] = "not sent: no sale price in force (" + strings.Join(noSale, "; ") + ")"
		}
		if len(sales) > 0 && len(noSale) > 0 {
			why[FieldSalePrice] += "; not in force: " + strings.Join(noSale, "; ")
		}
	}
	for i, f := range pluralFields {
		if _, ok := p.Payload()[f]; ok {
			why[f] = fmt.Sprintf("%d distinct %s values of %d variants (case-insensitive), natural order: XS < S < M < L < XL < XXL, numbers by value, other text alphabetically", len(b.valuesOf(g.values[i])), m.plural[i], n)
		}
	}
	if _, ok := p.Payload()[FieldVariantCount]; ok {
		why[FieldVariantCount] = fmt.Sprintf("%d items with this item_group_id", n)
	}
	if _, ok := p.Payload()[FieldInStockCount]; ok {
		why[FieldInStockCount] = "variants whose availability is in_stock"
	}
	e.Fields = fieldList(p.Payload(), why, p.Truncated)
	return e, nil
}

func (b *Builder) donorWhy(g *group, id string) string {
	if id == b.arena.str(g.repID) {
		return "it is the group's representative"
	}
	return "the first variant in representative order (availability, then id) that has it"
}
