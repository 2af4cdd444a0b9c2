package tree

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/feedsync/feedsync/feed"
)

// This file is the one place where catalog fields meet feed attributes: the
// default mapping, how a configured `fields:` mapping changes it, and how a
// value is shaped (trimmed, cut to MaxStringLen, parsed as a decimal).

// Catalog fields with a meaning of their own. Field names follow User.com's
// flat product JSON (custom_id, name, price, product_url, image_url,
// category_name, brand); the others travel as product attributes.
const (
	FieldCustomID     = "custom_id"
	FieldName         = "name"
	FieldProductURL   = "product_url"
	FieldImageURL     = "image_url"
	FieldCategory     = "category_name"
	FieldBrand        = "brand"
	FieldDescription  = "description"
	FieldPrice        = "price"
	FieldPriceMax     = "price_max"
	FieldSalePrice    = "sale_price"
	FieldCurrency     = "currency"
	FieldAvailability = "availability"
	FieldItemGroupID  = "item_group_id"
	FieldSKU          = "sku"
	FieldColors       = "colors"
	FieldSizes        = "sizes"
	FieldMaterials    = "materials"
	FieldPatterns     = "patterns"
	FieldVariantCount = "variant_count"
	FieldInStockCount = "in_stock_count"
)

// DefaultFields is the mapping used when a feed's `fields:` says nothing:
// catalog field ← feed attribute(s). A comma-separated list means "the first
// non-empty of these". The plural fields and the counts exist only under the
// parent policy; item_group_id only under the variant policy.
var DefaultFields = map[string]string{
	FieldName:         "title",
	FieldProductURL:   "link",
	FieldImageURL:     "image_link",
	FieldCategory:     "product_type,google_product_category",
	FieldBrand:        "brand",
	FieldDescription:  "description",
	"gtin":            "gtin",
	"mpn":             "mpn",
	"condition":       "condition",
	"color":           "color",
	"size":            "size",
	FieldCurrency:     "price",
	FieldAvailability: "availability",
	FieldPrice:        "price",
	FieldSalePrice:    "sale_price",
	FieldItemGroupID:  "item_group_id",
	FieldPriceMax:     "price",
	FieldColors:       "color",
	FieldSizes:        "size",
	FieldMaterials:    "material",
	FieldPatterns:     "pattern",
	FieldVariantCount: "-",
	FieldInStockCount: "-",
}

// kind says how a field's value is shaped.
type kind uint8

const (
	kindText     kind = iota // trimmed, cut to MaxStringLen runes
	kindURL                  // trimmed, never cut: a cut URL is a wrong URL
	kindLower                // like text, lower-cased (condition)
	kindPrice                // exact decimal from a price attribute
	kindCurrency             // the currency code of a price attribute
	kindAvail                // normalised availability
	kindDerived              // computed by the parent policy (plurals, counts, price_max)
	kindGroup                // the group's item_group_id (variant policy)
)

var fieldKinds = map[string]kind{
	FieldProductURL:   kindURL,
	FieldImageURL:     kindURL,
	"condition":       kindLower,
	FieldPrice:        kindPrice,
	FieldSalePrice:    kindPrice,
	FieldCurrency:     kindCurrency,
	FieldAvailability: kindAvail,
	FieldPriceMax:     kindDerived,
	FieldColors:       kindDerived,
	FieldSizes:        kindDerived,
	FieldMaterials:    kindDerived,
	FieldPatterns:     kindDerived,
	FieldVariantCount: kindDerived,
	FieldInStockCount: kindDerived,
	FieldItemGroupID:  kindGroup,
}

// pluralFields are the parent's lists of distinct variant values, in the
// order their sources are stored in a record.
var pluralFields = [4]string{FieldColors, FieldSizes, FieldMaterials, FieldPatterns}

// inheritedAttrs are the attributes a variant without them takes from its
// group's representative (variant policy).
var inheritedAttrs = map[string]bool{"brand": true, "description": true, "product_type": true, "google_product_category": true, "image_link": true}

// variantAttrs tell variants apart; a parent product does not carry fields
// read from them (it lists colors, sizes… instead).
var variantAttrs = map[string]bool{"id": true, "gtin": true, "mpn": true, "color": true, "size": true, "material": true, "pattern": true, "item_group_id": true}

// spec is one catalog field and where its value comes from.
type spec struct {
	key   string
	attrs []string
	kind  kind
	// inherit: a variant lacking it takes the representative's value.
	inherit bool
	// perVariant: the field describes one variant; parents leave it out.
	perVariant bool
}

// mapping is a resolved `fields:` configuration.
type mapping struct {
	specs []spec         // sorted by key; only the fields sent
	index map[string]int // key → position in specs
	// Sources of the values every derivation needs, even when the field
	// itself is not sent.
	priceAttr, saleAttr, availAttr, titleAttr string
	imageAttr                                 string    // the image URL's attribute ("" when the mapping sends none)
	plural                                    [4]string // source attribute of colors, sizes, materials, patterns ("" dropped)
	send                                      map[string]bool
	// inheritSpecs lists the inheritable fields (index into specs) by bit;
	// inheritBit is the reverse. At most 32.
	inheritSpecs []int
	inheritBit   map[int]uint32
	// shaped is how many specs a record holds values of (text, URL,
	// lower): the capacity its fields start with.
	shaped int
}

// CheckFields reports the first problem of a `fields:` mapping, naming the
// field: custom_id cannot be mapped, attribute names must be plain names.
// Config validation can call it; NewBuilder ignores what it rejects.
func CheckFields(fields map[string]string) error {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.TrimSpace(k) == "" {
			return fmt.Errorf("fields: empty catalog field name")
		}
		if k == FieldCustomID {
			return fmt.Errorf("fields.%s: the custom_id comes from product_id (or item_group_id under policy parent); it cannot be mapped", k)
		}
		for _, a := range strings.Split(fields[k], ",") {
			if a = strings.TrimSpace(a); !attrName.MatchString(a) && !(a == "" && strings.TrimSpace(fields[k]) == "") {
				return fmt.Errorf("fields.%s: %q is not an attribute name (want letters, digits, _ or -; several separated by commas; \"\" drops the field)", k, a)
			}
		}
	}
	return nil
}

var attrName = regexp.MustCompile(`^[\p{L}\p{N}_:. -]+$`)

func splitAttrs(v string) []string {
	var out []string
	for _, a := range strings.Split(v, ",") {
		if a = feed.NormalizeName(a); a != "" && a != "-" {
			out = append(out, a)
		}
	}
	return out
}

// newMapping merges the configured fields over DefaultFields for a policy.
func newMapping(fields map[string]string, policy Policy, productID string) *mapping {
	merged := make(map[string]string, len(DefaultFields)+len(fields))
	for k, v := range DefaultFields {
		merged[k] = v
	}
	hasSKU := false
	for k, v := range fields {
		k = strings.TrimSpace(k)
		if k == "" || k == FieldCustomID {
			continue
		}
		if k == FieldSKU {
			hasSKU = true
		}
		merged[k] = v
	}
	// Items identified by another attribute keep their feed id as sku.
	if productID != "id" && !hasSKU {
		merged[FieldSKU] = "id"
	}
	m := &mapping{index: map[string]int{}, send: map[string]bool{}}
	first := func(key, def string) string {
		if a := splitAttrs(merged[key]); len(a) > 0 {
			return a[0]
		}
		return def
	}
	m.priceAttr = first(FieldPrice, "price")
	m.saleAttr = first(FieldSalePrice, "sale_price")
	m.availAttr = first(FieldAvailability, "availability")
	m.titleAttr = first(FieldName, "title")
	m.imageAttr = first(FieldImageURL, "")
	for i, f := range pluralFields {
		if policy == PolicyParent {
			m.plural[i] = first(f, "")
		}
	}
	keys := make([]string, 0, len(merged))
	for k := range merged {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := strings.TrimSpace(merged[k])
		if v == "" {
			continue // dropped
		}
		kd := fieldKinds[k]
		if policy != PolicyParent && kd == kindDerived {
			continue
		}
		if policy == PolicyParent && kd == kindGroup {
			continue // the group id is the custom_id
		}
		s := spec{key: k, attrs: splitAttrs(v), kind: kd}
		for _, a := range s.attrs {
			if inheritedAttrs[a] {
				s.inherit = true
			}
			if variantAttrs[a] || a == productID {
				s.perVariant = true
			}
		}
		if kd != kindDerived && kd != kindGroup && len(s.attrs) == 0 {
			continue
		}
		m.index[k] = len(m.specs)
		m.specs = append(m.specs, s)
		m.send[k] = true
	}
	m.inheritBit = map[int]uint32{}
	for i, s := range m.specs {
		switch s.kind {
		case kindText, kindURL, kindLower:
			m.shaped++
		}
		if s.inherit && len(m.inheritSpecs) < 32 {
			m.inheritBit[i] = uint32(1) << len(m.inheritSpecs)
			m.inheritSpecs = append(m.inheritSpecs, i)
		}
	}
	return m
}

// value reads a field's raw text from an item: the first non-empty source.
func (s *spec) value(it *feed.Item) string {
	for _, a := range s.attrs {
		if v := strings.TrimSpace(it.Get(a)); v != "" {
			return v
		}
	}
	return ""
}

// cut trims s and cuts it to MaxStringLen runes on a rune boundary; cut
// reports whether anything was lost.
func cut(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) <= MaxStringLen {
		return s, false // never more characters than bytes
	}
	// Walk at most MaxStringLen+1 characters rather than counting them all:
	// descriptions run to kilobytes.
	n := 0
	for i := range s {
		if n == MaxStringLen {
			return strings.TrimRightFunc(s[:i], isSpace), true
		}
		n++
	}
	return s, false
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\u00a0' }

// shape turns a raw value into what the field sends; ok false means nothing.
func shape(k kind, raw string) (v string, truncated, ok bool) {
	switch k {
	case kindURL:
		v = strings.TrimSpace(raw)
	case kindLower:
		v, truncated = cut(strings.ToLower(raw))
	default:
		v, truncated = cut(raw)
	}
	return v, truncated, v != ""
}
