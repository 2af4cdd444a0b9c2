package tree

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
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
// no trailing newline. Equal payloads give equal bytes — exactly the bytes
// encoding/json writes (an Encoder with SetEscapeHTML(false)), only faster
// for the value types a Builder makes.
func (p *Product) JSON() []byte {
	if out, ok := fastJSON(p.Payload); ok {
		return out
	}
	return slowJSON(p.ID, p.Payload)
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

// fastJSON encodes a payload of strings, json.Numbers and ints; ok is false
// for any other value, and the caller falls back to encoding/json.
func fastJSON(m map[string]any) ([]byte, bool) {
	keys := make([]string, 0, len(m))
	size := 2
	for k, v := range m {
		keys = append(keys, k)
		size += len(k) + 4
		switch v := v.(type) {
		case string:
			size += len(v) + 2
		case json.Number:
			if !plainNumber(string(v)) {
				return nil, false
			}
			size += len(v)
		case int:
			size += 20
		default:
			return nil, false
		}
	}
	sort.Strings(keys)
	out := make([]byte, 0, size)
	out = append(out, '{')
	for i, k := range keys {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendJSONString(out, k)
		out = append(out, ':')
		switch v := m[k].(type) {
		case string:
			out = appendJSONString(out, v)
		case json.Number:
			out = append(out, v...)
		case int:
			out = strconv.AppendInt(out, int64(v), 10)
		}
	}
	return append(out, '}'), true
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

// appendJSONString writes s quoted; strings that need escaping go through
// encoding/json so the bytes are always its own.
func appendJSONString(out []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' {
				return append(out, slowJSON("", s)...)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			return append(out, slowJSON("", s)...)
		}
		i += size
	}
	out = append(out, '"')
	out = append(out, s...)
	return append(out, '"')
}
