package tree

import (
	"fmt"
	"hash/maphash"
	"strings"

	"github.com/feedsync/feedsync/feed"
)

// VariantAttributes are the attributes that tell the variants of one
// item_group_id apart. Two items of a group whose values of all of them are
// equal (as VariantValues.AppendKey compares them) are duplicate variants:
// the Builder reports the later one, and lint's duplicate-variants rule
// finds exactly the same items, from this one definition.
//
// The set is Google's. Merchant Center's item_group_id page
// (https://support.google.com/merchants/answer/6324507) says the variants
// of a group differ only in color, size, material, pattern, age_group and
// gender. Manufacturer Center, whose item group checks define "duplicate
// variants" (ITEM_GROUP_DUPLICATE_VARIANTS,
// https://support.google.com/manufacturers/answer/7656106), lists
// size_type and size_system among the variant attributes as well
// (https://support.google.com/manufacturers/answer/7422498). Both qualify
// size in the product data specification
// (https://support.google.com/merchants/answer/7052112, "Detailed product
// description"): size 42 in size_system EU and size 42 in US, or size M
// regular and M petite, are different products, so items that differ only
// there are distinct variants, not duplicates; leaving the two out would
// report them as duplicates (an error in lint).
//
// The order is the order of VariantValues and of the descriptions in
// problem messages.
var VariantAttributes = [...]string{"color", "size", "material", "pattern", "age_group", "gender", "size_type", "size_system"}

// VariantValues are an item's values of VariantAttributes, in that order,
// as written in the feed.
type VariantValues [len(VariantAttributes)]string

// ItemVariantValues returns the first value of each of VariantAttributes
// in it ("" when it has none), as feed.Item.Get would: a repeated attribute
// counts with its first value. It reads the item's attributes once.
func ItemVariantValues(it *feed.Item) VariantValues {
	var v VariantValues
	var seen uint8
	for i := range it.Attrs {
		a := &it.Attrs[i]
		k := variantIndex(a.Name)
		if k < 0 || seen&(1<<k) != 0 {
			continue
		}
		seen |= 1 << k
		v[k] = a.Value
	}
	return v
}

// variantIndex is the index of name in VariantAttributes, or -1.
func variantIndex(name string) int {
	switch name {
	case "color":
		return 0
	case "size":
		return 1
	case "material":
		return 2
	case "pattern":
		return 3
	case "age_group":
		return 4
	case "gender":
		return 5
	case "size_type":
		return 6
	case "size_system":
		return 7
	}
	return -1
}

// AppendKey appends to dst the form in which variants are compared: each
// value with white space trimmed and every inner run of it made one space,
// lower-cased, followed by a zero byte. Two items are the same variant when
// their keys are equal.
func (v *VariantValues) AppendKey(dst []byte) []byte {
	for _, s := range v {
		dst = appendFoldCollapsed(dst, s)
		dst = append(dst, 0)
	}
	return dst
}

// appendFoldCollapsed appends strings.ToLower(collapse(s)) to dst, without
// allocating when s is ASCII.
func appendFoldCollapsed(dst []byte, s string) []byte {
	n := len(dst)
	space := false // a white space run is pending
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return append(dst[:n], strings.ToLower(collapse(s))...)
		}
		switch c {
		case ' ', '\t', '\n', '\v', '\f', '\r':
			space = len(dst) > n
			continue
		}
		if space {
			dst = append(dst, ' ')
			space = false
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// Hash is a hash of AppendKey's bytes under seed: equal keys hash equal.
func (v *VariantValues) Hash(seed maphash.Seed) uint64 {
	var buf [128]byte
	return maphash.Bytes(seed, v.AppendKey(buf[:0]))
}

// Describe lists the values given, trimmed, as `color "Red", size "M"`; ""
// when the item has none.
func (v *VariantValues) Describe() string {
	var parts []string
	for i, s := range v {
		if s = collapse(s); s != "" {
			parts = append(parts, fmt.Sprintf("%s %q", VariantAttributes[i], s))
		}
	}
	return strings.Join(parts, ", ")
}

// Any reports whether the item has a value for one of VariantAttributes.
func (v *VariantValues) Any() bool {
	for _, s := range v {
		if strings.TrimSpace(s) != "" {
			return true
		}
	}
	return false
}

// VariantAttributeList is VariantAttributes in prose: "color, size, …
// size_type or size_system".
func VariantAttributeList() string {
	n := len(VariantAttributes)
	return strings.Join(VariantAttributes[:n-1], ", ") + " or " + VariantAttributes[n-1]
}
