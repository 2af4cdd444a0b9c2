package tree

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/feedsync/feedsync/feed"
)

// This file is the inverse of mapping.go: it turns a product's payload back
// into Google attributes, so that a shaped catalog can be written out as a
// feed (feedsync transform) that reads back into the same products.

// itemAttrs is the one place where a payload key meets the Google attribute
// it is written as. Keys not listed here travel as attributes of the same
// name (price_max, variant_count, colors, sku…). price and sale_price carry
// the payload's currency ("12.5 EUR"); currency itself is not written alone.
var itemAttrs = map[string]string{
	FieldCustomID:     "id",
	FieldName:         "title",
	FieldProductURL:   "link",
	FieldImageURL:     "image_link",
	FieldCategory:     "product_type",
	FieldDescription:  "description",
	FieldPrice:        "price",
	FieldSalePrice:    "sale_price",
	FieldAvailability: "availability",
	FieldBrand:        "brand",
	FieldItemGroupID:  "item_group_id",
	FieldCurrency:     "",
}

// itemOrder is the order of the well-known attributes in a written item (and
// of the columns of a delimited feed); the others follow by name.
var itemOrder = []string{
	"id", "title", "description", "link", "image_link", "availability", "price", "sale_price",
	"brand", "gtin", "mpn", "condition", "color", "size", "item_group_id", "product_type",
}

var itemRank = func() map[string]int {
	m := make(map[string]int, len(itemOrder))
	for i, a := range itemOrder {
		m[a] = i
	}
	return m
}()

// ItemAttr is the Google attribute a payload key is written as ("" for
// currency, which travels inside price and sale_price).
func ItemAttr(key string) string {
	if a, ok := itemAttrs[key]; ok {
		return a
	}
	return key
}

func attrLess(a, b string) bool {
	ra, oka := itemRank[a]
	rb, okb := itemRank[b]
	switch {
	case oka && okb:
		return ra < rb
	case oka != okb:
		return oka
	}
	return a < b
}

// Item returns the product as a feed item in Google's attribute names. Its
// id is the custom_id, whatever product_id the product was built with: that
// is what User.com's own feed import keys on, and writing the custom_id of a
// parent into, say, gtin would invent an invalid GTIN.
//
// Read back under policy variant and product_id id, with the default mapping
// plus ReadBackFields, the item gives the same payload, except the fields
// that only the parent policy derives (price_max, colors, sizes, materials,
// patterns, variant_count, in_stock_count): they are attributes of the item
// (transform's XML writer puts them in feedsync's own namespace, which the
// reader skips; CSV and TSV keep them as columns), but a variant-policy
// Builder does not read derived fields.
func (p *Product) Item() *feed.Item {
	it := &feed.Item{Attrs: make([]feed.Attr, 0, len(p.Payload())+1)}
	if len(p.Lines) > 0 {
		it.Line = p.Lines[0]
	}
	cur, _ := p.Payload()[FieldCurrency].(string)
	have := make(map[string]bool, len(p.Payload())+1)
	add := func(name, v string) {
		if v == "" || have[name] {
			return
		}
		have[name] = true
		it.Attrs = append(it.Attrs, feed.Attr{Name: name, Value: v})
	}
	id := p.ID
	if v, ok := p.Payload()[FieldCustomID]; ok {
		id = valueString(v)
	}
	add("id", id)
	keys := make([]string, 0, len(p.Payload()))
	for k := range p.Payload() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name := ItemAttr(k)
		if name == "" || k == FieldCustomID {
			continue
		}
		v := valueString(p.Payload()[k])
		if (k == FieldPrice || k == FieldSalePrice) && cur != "" && v != "" {
			v += " " + cur
		}
		add(name, v)
	}
	sort.SliceStable(it.Attrs, func(i, j int) bool { return attrLess(it.Attrs[i].Name, it.Attrs[j].Name) })
	return it
}

func valueString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// ItemColumns lists every attribute Item can write for the products of a
// Builder with these options, in item order: the header of a delimited feed.
func ItemColumns(opts Options) []string {
	productID := feed.NormalizeName(opts.ProductID)
	if productID == "" {
		productID = "id"
	}
	policy := opts.Policy
	if policy == "" {
		policy = PolicyVariant
	}
	m := newMapping(opts.Fields, policy, productID)
	seen := map[string]bool{"id": true}
	cols := []string{"id"}
	addCol := func(a string) {
		if a != "" && !seen[a] {
			seen[a] = true
			cols = append(cols, a)
		}
	}
	for _, s := range m.specs {
		addCol(ItemAttr(s.key))
	}
	sort.SliceStable(cols, func(i, j int) bool { return attrLess(cols[i], cols[j]) })
	return cols
}

// ReadBackFields is the `fields:` mapping under which items written by Item
// read back (product_id id) into the same payloads: each payload key that the default
// mapping does not read from its own Item attribute maps to that attribute
// (sku: sku, material: material…). Derived parent fields are left out: a
// variant-policy Builder never reads them.
func ReadBackFields(opts Options) map[string]string {
	productID := feed.NormalizeName(opts.ProductID)
	if productID == "" {
		productID = "id"
	}
	policy := opts.Policy
	if policy == "" {
		policy = PolicyVariant
	}
	out := map[string]string{}
	for _, s := range newMapping(opts.Fields, policy, productID).specs {
		if s.kind == kindDerived || s.key == FieldCustomID {
			continue
		}
		if def, ok := DefaultFields[s.key]; ok && s.key != FieldSKU {
			if a := splitAttrs(def); len(a) > 0 && a[0] == ItemAttr(s.key) {
				continue
			}
		}
		if a := ItemAttr(s.key); a != "" {
			out[s.key] = a
		}
	}
	return out
}

// isDerivedKey reports a payload key that only the parent policy computes.
func isDerivedKey(key string) bool { return fieldKinds[key] == kindDerived }

// DerivedKeys lists the payload keys only the parent policy computes, sorted.
func DerivedKeys() []string {
	var out []string
	for k := range fieldKinds {
		if isDerivedKey(k) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
