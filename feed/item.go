package feed

import (
	"strings"
)

// Attr is one attribute of an item. Name is normalised: lower case, spaces
// turned into underscores, namespace prefix dropped. Nested attributes such as
// shipping or tax keep their parts in Sub, in document order; Value is then empty.
type Attr struct {
	Name  string
	Value string
	Sub   []Attr
	// Plain is true for a value read from a non-Google element (RSS <title>,
	// Atom <summary>…). When an item has both forms, the Google one wins.
	Plain bool
}

// Item is one product or variant of a feed: its attributes in document order
// (a repeated attribute appears once per value) and the 1-based line where it starts.
//
// The readers build an item's values as substrings of one string per item, and
// its Sub slices inside its Attrs allocation: one or two allocations per item
// instead of dozens. Keeping any value keeps that string alive, so a consumer
// that keeps a few short values of many items (an id, a price) should
// strings.Clone them.
type Item struct {
	Line  int
	Attrs []Attr
	// Shadowed holds plain attributes (RSS <title>, Atom <summary>…) that were
	// dropped because the item also has the Google form; lint reports them.
	Shadowed []Attr
	// Raw is the XXH3-128 of the item's bytes as the feed has them (after
	// decompression and transcoding to UTF-8), from the '<' of its start tag
	// to the '>' of its end tag (or of its self-closing start tag), seeded
	// with WithItemHash's seed mixed with the namespace bindings in effect at
	// the item (prefix → kind: Google, Atom, other, none; not the URI text
	// beyond that kind) and the format (rss/atom). Equal Raw means equal
	// bytes read in the same way: ScanItems gives the same Raw without
	// parsing the item. Zero when the reader was not given WithItemHash.
	//
	// For CSV and TSV an item is a row: Raw is the hash of its bytes, line
	// end included (several lines for a quoted field that holds line
	// breaks), seeded with WithItemHash's seed mixed with the header row's
	// bytes, the separator and the format.
	Raw [16]byte
}

// Lookup returns the first value of the named attribute and whether it exists.
func (it *Item) Lookup(name string) (string, bool) {
	for i := range it.Attrs {
		if it.Attrs[i].Name == name {
			return it.Attrs[i].Value, true
		}
	}
	return "", false
}

// Get returns the first value of the named attribute, or "".
func (it *Item) Get(name string) string {
	v, _ := it.Lookup(name)
	return v
}

// All returns every value of the named attribute in document order.
func (it *Item) All(name string) []string {
	var out []string
	for i := range it.Attrs {
		if it.Attrs[i].Name == name {
			out = append(out, it.Attrs[i].Value)
		}
	}
	return out
}

// ID returns the item's id attribute.
func (it *Item) ID() string { return it.Get("id") }

// NormalizeName turns an attribute name as written in a feed ("Image Link",
// "g:image_link", "IMAGE_LINK") into the canonical form "image_link". A text
// feed's list of sub-attribute names ("shipping(country:price)") is dropped.
func NormalizeName(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '('); i > 0 && strings.HasSuffix(s, ")") {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		s = s[i+1:]
	}
	s = strings.ToLower(s)
	s = strings.Join(strings.Fields(s), "_")
	return s
}
