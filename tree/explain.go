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

func (b *Builder) donorWhy(g *group, id string) string {
	if id == b.arena.str(g.repID) {
		return "it is the group's representative"
	}
	return "the first variant in representative order (availability, then id) that has it"
}
