package tree

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
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
	// Fields maps catalog fields to feed attributes over DefaultFields
	// ("material": "material" adds a field, "description": "" drops one,
	// "category_name": "product_type,google_product_category" takes the first
	// non-empty). See DefaultFields and CheckFields.
	Fields map[string]string
	// Now is the run's clock, for sale_price_effective_date.
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
