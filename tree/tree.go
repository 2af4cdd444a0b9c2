package tree

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
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
	// policy (and a standalone item under both): id, gtin, mpn or any attribute
	// such as sku ("": id). Items without it are reported and skipped under
	// both policies; when it is not id, the feed id travels as sku unless
	// Fields maps sku.
	ProductID string
	// Fields maps catalog fields to feed attributes over DefaultFields
	// ("material": "material" adds a field, "description": "" drops one,
	// "category_name": "product_type,google_product_category" takes the first
	// non-empty). See DefaultFields and CheckFields.
	Fields map[string]string
	// Now is the run's clock, for sale_price_effective_date (zero: the wall
	// clock when NewBuilder runs).
	Now time.Time
	// SpillDir is where the temporary spill file goes once the items'
	// records outgrow memory ("": the system's temporary directory).
	SpillDir string
	// Items is how many items the feed is expected to have (the last
	// run's count, say), 0 when unknown: the Builder's id tables start at
	// that size instead of doubling their way to it. It is a hint only.
	Items int
	// InputSeed seeds every product's Input (see input.go): the caller
	// derives it from what else shapes payloads, so that Inputs made under
	// other settings, or by another program, never match.
	InputSeed uint64
}

// Product is one catalog product: its custom_id, the flat payload, and the
// lines of the items it came from.
//
// A Builder keeps the payload as a list of fields sorted by key, from which
// JSON writes the bytes directly; Payload makes the map form only when asked.
type Product struct {
	ID    string
	Lines []int
	// Truncated names the string fields cut to MaxStringLen.
	Truncated []string
	// Input identifies what a Builder made the product from (see input.go);
	// zero for products made otherwise.
	Input Input
	// Raws says what the product's items were, byte for byte (see
	// input.go); nil when they were not hashed, or the product was
	// reported.
	Raws *Raws

	fields  []payloadField // sorted by key, keys unique; nil when made from a map
	raw     []byte         // canonical JSON, when made by RawProduct
	once    sync.Once
	payload map[string]any
}

// RawProduct makes a product from its payload as canonical JSON (an object,
// keys sorted, as JSON writes them), which AppendJSON gives back as it is:
// other sources than a Builder (an orders export's deals) go through the
// same diff and push without a decode. Payload decodes it on first use.
func RawProduct(id string, canonical []byte) *Product {
	return &Product{ID: id, raw: canonical}
}

// NewProduct makes a product from a payload map (strings, json.Numbers,
// ints and any other value encoding/json takes).
func NewProduct(id string, payload map[string]any) *Product {
	p := &Product{ID: id, payload: payload}
	p.once.Do(func() {}) // the map form exists already: Payload returns it as it is
	return p
}

// Payload returns the flat payload: field name → string, json.Number or int.
// The map is made once; callers must not change it.
func (p *Product) Payload() map[string]any {
	p.once.Do(func() {
		if p.raw != nil {
			d := json.NewDecoder(bytes.NewReader(p.raw))
			d.UseNumber()
			if err := d.Decode(&p.payload); err != nil {
				p.payload = map[string]any{}
			}
			return
		}
		p.payload = make(map[string]any, len(p.fields))
		for _, f := range p.fields {
			p.payload[f.key] = f.value()
		}
	})
	return p.payload
}

// fieldKind is how a payload field's value is written.
type fieldKind uint8

const (
	fieldString fieldKind = iota
	fieldNumber           // a decimal, written bare (json.Number in the map form)
	fieldInt
)

// payloadField is one payload field of a Product made by a Builder.
type payloadField struct {
	key  string
	str  string // the string, or the decimal's text
	n    int
	kind fieldKind
}

func (f *payloadField) value() any {
	switch f.kind {
	case fieldNumber:
		return json.Number(f.str)
	case fieldInt:
		return f.n
	}
	return f.str
}

// JSON returns the payload as canonical JSON: keys sorted, no HTML escaping,
// no trailing newline. Equal payloads give equal bytes — exactly the bytes
// encoding/json writes (an Encoder with SetEscapeHTML(false)), only faster
// for the value types a Builder makes.
func (p *Product) JSON() []byte { return p.AppendJSON(nil) }

// AppendJSON appends the JSON of the payload to dst: a caller that only
// hashes it can reuse one buffer for every product.
func (p *Product) AppendJSON(dst []byte) []byte {
	if p.raw != nil {
		return append(dst, p.raw...)
	}
	fields := p.fields
	if fields == nil {
		var ok bool
		if fields, ok = fieldsOf(p.Payload()); !ok {
			return append(dst, slowJSON(p.ID, p.Payload())...)
		}
	}
	out, ok := appendFields(dst, fields)
	if !ok {
		return append(dst, slowJSON(p.ID, p.Payload())...)
	}
	return out
}

// fieldsOf is the sorted field list of a payload map; ok is false when a
// value is not a string, json.Number or int.
func fieldsOf(m map[string]any) (fs []payloadField, ok bool) {
	fs = make([]payloadField, 0, len(m))
	for k, v := range m {
		switch v := v.(type) {
		case string:
			fs = append(fs, payloadField{key: k, str: v})
		case json.Number:
			fs = append(fs, payloadField{key: k, str: string(v), kind: fieldNumber})
		case int:
			fs = append(fs, payloadField{key: k, n: v, kind: fieldInt})
		default:
			return nil, false
		}
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].key < fs[j].key })
	return fs, true
}

// appendFields writes fields (sorted by key, keys unique) as a JSON object;
// ok is false when a decimal is not plain, and encoding/json must decide.
func appendFields(out []byte, fields []payloadField) (_ []byte, ok bool) {
	size := 2
	for i := range fields {
		f := &fields[i]
		size += len(f.key) + len(f.str) + 8
		if f.kind == fieldNumber && !plainNumber(f.str) {
			return out, false
		}
	}
	out = slices.Grow(out, size+size/8)
	out = append(out, '{')
	for i := range fields {
		f := &fields[i]
		if i > 0 {
			out = append(out, ',')
		}
		out = appendJSONString(out, f.key)
		out = append(out, ':')
		switch f.kind {
		case fieldString:
			out = appendJSONString(out, f.str)
		case fieldNumber:
			out = append(out, f.str...)
		case fieldInt:
			out = strconv.AppendInt(out, int64(f.n), 10)
		}
	}
	return append(out, '}'), true
}

func slowJSON(id string, v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Payload values are strings, json.Numbers and ints: they always encode.
		panic(fmt.Sprintf("tree: encode payload of %q: %v", id, err))
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// plainNumber accepts the canonical decimals feed.ParsePrice makes.
func plainNumber(s string) bool {
	if s == "" || s == "-" {
		return false
	}
	if s[0] == '-' {
		s = s[1:]
	}
	if len(s) > 1 && s[0] == '0' && s[1] != '.' {
		return false
	}
	dot := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
		case c == '.' && !dot && i > 0 && i < len(s)-1:
			dot = true
		default:
			return false
		}
	}
	return true
}

// appendJSONString writes s quoted and escaped exactly as encoding/json
// does without HTML escaping (\b \f \n \r \t short forms, other controls
// as \u00xx, invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped). Plain
// ASCII is skipped eight bytes at a time.
func appendJSONString(out []byte, s string) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) && plainASCII8(s[i:i+8]) {
			i += 8
			continue
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			out = append(out, s[start:i]...)
			switch c {
			case '\\', '"':
				out = append(out, '\\', c)
			case '\b':
				out = append(out, '\\', 'b')
			case '\f':
				out = append(out, '\\', 'f')
			case '\n':
				out = append(out, '\\', 'n')
			case '\r':
				out = append(out, '\\', 'r')
			case '\t':
				out = append(out, '\\', 't')
			default:
				out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			out = append(out, s[start:i]...)
			out = append(out, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			out = append(out, s[start:i]...)
			out = append(out, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	out = append(out, s[start:]...)
	return append(out, '"')
}

// plainASCII8 reports whether all eight bytes of s are printable ASCII
// other than '"' and '\\' (bytes that JSON writes as they are).
func plainASCII8(s string) bool {
	x := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	hasZero := func(v uint64) uint64 { return (v - ones) & ^v & highs }
	// A byte below 0x20 borrows or one at 0x80 or above keeps its high bit.
	if ((x-0x20*ones)|x)&highs != 0 {
		return false
	}
	return hasZero(x^('"'*ones)) == 0 && hasZero(x^('\\'*ones)) == 0
}
