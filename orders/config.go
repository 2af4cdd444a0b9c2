package orders

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/feedsync/feedsync/feed"
)

// Format is an orders export's syntax.
type Format string

// The formats Read reads. FormatAuto ("" too) detects one from the content:
// a first character "{" is JSONL; otherwise the header line's most frequent
// of tab, comma and semicolon (outside quotes) decides between TSV and CSV.
const (
	FormatAuto  Format = "auto"
	FormatCSV   Format = "csv" // comma- or semicolon-separated, whichever the header line holds more of (or an Excel "sep=;" line)
	FormatTSV   Format = "tsv"
	FormatJSONL Format = "jsonl"
)

// Columns maps the export's columns (CSV/TSV header names, or JSONL keys) to order fields.
// Column names compare case-insensitively and with surrounding space trimmed.
// In JSONL a name with dots ("customer.id") also reaches into nested
// objects when no key has the whole name.
type Columns struct {
	OrderID    string `yaml:"order_id"` // required
	Email      string `yaml:"email"`
	CustomerID string `yaml:"customer_id"`
	Status     string `yaml:"status"` // required; "A+B" joins two columns with "/" (Shopify: "Financial Status+Fulfillment Status")
	Total      string `yaml:"total"`
	Currency   string `yaml:"currency"`
	Placed     string `yaml:"placed"` // placed time, sent as placed_at
	Updated    string `yaml:"updated"`
	// Line items: one row per line item (CSV/TSV; rows with the same order id are one order,
	// order-level fields taken from the first row that has them), or in JSONL the key of an
	// array of objects whose keys are LineProduct/LineQuantity/LineValue.
	Lines        string `yaml:"lines"`        // JSONL only
	LineProduct  string `yaml:"line_product"` // required
	LineQuantity string `yaml:"line_quantity"`
	LineValue    string `yaml:"line_value"` // the line's total value
}

// statusParts splits Status at "+" into one or two column names. A header
// that has a column of the whole name ("Status+Note") takes it whole (see
// the readers).
func (c Columns) statusParts() []string {
	parts := strings.Split(c.Status, "+")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// Check names each missing or malformed key of columns for an export of
// format ("columns.order_id: required"), joined with "; ". Lines is required for JSONL and refused for CSV and TSV (one row
// per line item there); under FormatAuto it is optional.
func (c Columns) Check(format Format) error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	switch format {
	case "", FormatAuto, FormatCSV, FormatTSV, FormatJSONL:
	default:
		bad("format: %q: want auto, csv, tsv or jsonl", clip(string(format)))
	}
	if strings.TrimSpace(c.OrderID) == "" {
		bad("columns.order_id: required")
	}
	if strings.TrimSpace(c.Status) == "" {
		bad("columns.status: required")
	} else if parts := c.statusParts(); len(parts) > 2 || slices.Contains(parts, "") {
		bad("columns.status: %q: want one column, or two joined by + (\"Financial Status+Fulfillment Status\")", clip(c.Status))
	}
	if strings.TrimSpace(c.LineProduct) == "" {
		bad("columns.line_product: required")
	}
	lines := strings.TrimSpace(c.Lines)
	switch {
	case format == FormatJSONL && lines == "":
		bad("columns.lines: required for a JSONL export (the key of each order's array of line items)")
	case (format == FormatCSV || format == FormatTSV) && lines != "":
		bad("columns.lines: JSONL only: a %s export has one row per line item", format)
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(errs, "; "))
}

// Config is one orders export.
type Config struct {
	Format     Format
	Columns    Columns
	UserID     UserIDRule // "": UserSHA256Email
	Stages     Stages
	Attributes []string // extra columns sent as deal attributes (key = normalised column name)
	Currency   string   // default currency when the export has none
	// Decimal is the decimal separator of the export's numbers, "." or ",";
	// "" decides per number (see parseNumber), and refuses the ambiguous
	// "1,234".
	Decimal string
}

// reservedKeys are the payload's own keys: no attribute may take one.
var reservedKeys = map[string]bool{
	"custom_id": true, "name": true, "value": true, "currency": true, "status": true, "stage": true,
	"stage_name": true, "pipeline": true, "user_custom_id": true, ProductsKey: true, "products_custom_id": true,
	"placed_at": true, "updated_at": true, "won_at": true, "lost_at": true, "email": true,
}

// attrKey is an attribute column's key in the payload: feed.NormalizeName
// ("Payment Method" → "payment_method"), dots as underscores.
func attrKey(column string) string {
	return strings.ReplaceAll(feed.NormalizeName(column), ".", "_")
}

// Check checks the whole configuration: the format, Columns.Check, the User
// ID rule (and the column it needs), Stages.Check, the attributes (no
// duplicate, none taking a payload key such as value or email, not the
// e-mail column), the currency (three letters) and the decimal separator.
// Each defect names its key; several are joined with "; ". Read calls it.
func (c Config) Check() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if err := c.Columns.Check(c.Format); err != nil {
		errs = append(errs, err.Error())
	}
	switch c.UserID {
	case "", UserSHA256Email, UserEmail:
		if strings.TrimSpace(c.Columns.Email) == "" {
			bad("columns.email: required by user_id %s (or choose user_id: column)", c.rule())
		}
	case UserColumn:
		if strings.TrimSpace(c.Columns.CustomerID) == "" {
			bad("columns.customer_id: required by user_id column")
		}
	default:
		bad("user_id: %q: want sha256_email, email or column", clip(string(c.UserID)))
	}
	if err := c.Stages.Check(); err != nil {
		errs = append(errs, err.Error())
	}
	seen := map[string]string{}
	for i, a := range c.Attributes {
		key := attrKey(a)
		at := fmt.Sprintf("attributes[%d]", i)
		switch {
		case key == "":
			bad("%s: empty", at)
		case reservedKeys[key]:
			bad("%s: %q would be sent as %q, a key the deal has already", at, clip(a), key)
		case seen[key] != "":
			bad("%s: %q would be sent as %q, as %s is", at, clip(a), key, seen[key])
		case c.Columns.Email != "" && strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(c.Columns.Email)):
			bad("%s: %q is the e-mail column: e-mails leave feedsync only with send_email", at, clip(a))
		}
		if key != "" && seen[key] == "" {
			seen[key] = at
		}
	}
	if cur := strings.TrimSpace(c.Currency); cur != "" && !isCurrencyCode(cur) {
		bad("currency: %q: want an ISO 4217 code such as EUR", clip(c.Currency))
	}
	switch c.Decimal {
	case "", ".", ",":
	default:
		bad("decimal: %q: want \".\" or \",\" (or nothing: decided per number)", clip(c.Decimal))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(errs, "; "))
}

func (c Config) rule() UserIDRule {
	if c.UserID == "" {
		return UserSHA256Email
	}
	return c.UserID
}

func (c Config) decimal() byte {
	if c.Decimal == "" {
		return 0
	}
	return c.Decimal[0]
}

func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// clip cuts a value quoted in a message to 64 characters.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// cutBytes cuts a list quoted in a message to about n bytes, on a
// character boundary, marking the cut with "…".
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// validUTF8 reports whether every string is valid UTF-8.
func validUTF8(ss ...string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}
