package orders

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/feedsync/feedsync/tree"
)

// The keys of a deal's products. User.com's docs name the list
// order_products in one place and products elsewhere, and the product's
// key product_custom_id or product_id: each name lives here only.
const (
	ProductsKey  = "order_products"
	ProductIDKey = "product_custom_id"
)

// Payload is the deal as sent: canonical JSON object (keys sorted, via tree.NewProduct(...).JSON())
// with: custom_id, name ("Order <id>"), value (float, from Total, else the sum of line values),
// currency, status (int), stage (int, when configured), stage_name, pipeline (int, when
// configured), user_custom_id (from the rule; absent when none), order_products
// [{product_custom_id, quantity (float), value (float), currency}] — the products key name lives
// in ONE constant (ProductsKey = "order_products"; the per-product id key ProductIDKey =
// "product_custom_id") because User.com's docs disagree — placed_at/updated_at when given, and
// the attributes. mapID maps a line's product id to the catalog's custom_id (known=false leaves
// it as given and counts it in unknown). Raw e-mails never appear in the payload unless
// sendEmail is true (then as "email").
//
// Details: numbers are sent exactly, as JSON numbers without trailing
// fraction zeros ("37.40" → 37.4), so that a payload's hash does not change
// with the export's formatting; value is the sum of the line values only
// when every line has one (no value key otherwise); a line's quantity and
// value are left out when the export has none; currency is the order's,
// else Config.Currency, upper-cased, and absent when neither is known;
// order_products is absent for an order without lines. Without sendEmail,
// an attribute whose value looks like an e-mail address is left out (under
// user_id email the User ID is the e-mail: choosing that rule sends it).
// A nil mapID keeps every product id as given. Order's numbers are read as
// Read writes them (canonical decimals; a hand-made Order may use the
// automatic rules of parseNumber, not Config.Decimal). The error names what makes
// the deal unsendable: an unknown status, no User ID under an e-mail rule,
// a malformed number, an attribute taking one of the deal's own keys.
func (d *Deal) Payload(cfg Config, mapID func(string) (string, bool), sendEmail bool) (payload []byte, unknown int, err error) {
	if strings.TrimSpace(d.ID) == "" {
		return nil, 0, errors.New("a deal without an order id")
	}
	o := &d.Order
	stage, ok := cfg.Stages.Of(o.Status)
	if !ok {
		if strings.TrimSpace(o.Status) == "" {
			return nil, 0, errors.New("no status")
		}
		return nil, 0, errors.New(unknownStatus(&cfg, o.Status))
	}
	p := map[string]any{
		"custom_id":  d.ID,
		"name":       "Order " + d.ID,
		"status":     stage.Status,
		"stage_name": stage.Name,
	}
	if stage.ID != 0 {
		p["stage"] = stage.ID
	}
	if cfg.Stages.PipelineID != 0 {
		p["pipeline"] = cfg.Stages.PipelineID
	}
	currency := strings.ToUpper(strings.TrimSpace(o.Currency))
	if currency == "" {
		currency = strings.ToUpper(strings.TrimSpace(cfg.Currency))
	}
	if currency != "" {
		p["currency"] = currency
	}
	user, err := userOf(cfg.rule(), o.Email, o.CustomerID)
	if err != nil && cfg.rule() != UserColumn {
		return nil, 0, err
	}
	if user != "" {
		p["user_custom_id"] = user
	}
	// Read writes numbers as canonical decimals, which the automatic rules
	// read as they are (Config.Decimal applies to the export's text only).
	const dec = 0
	num := func(what, s string) (json.Number, error) {
		v, err := parseNumber(s, dec)
		if err != nil {
			return "", fmt.Errorf("%s: %w", what, err)
		}
		return json.Number(trimDecimal(v)), nil
	}
	lines := o.Lines
	if len(lines) == 0 && len(d.Products) > 0 {
		lines = make([]Line, len(d.Products))
		for i, id := range d.Products {
			lines[i].Product = id
		}
	}
	if strings.TrimSpace(o.Total) != "" {
		v, err := num("total", o.Total)
		if err != nil {
			return nil, 0, err
		}
		p["value"] = v
	} else if len(lines) > 0 {
		values := make([]string, 0, len(lines))
		for _, l := range lines {
			if strings.TrimSpace(l.Value) == "" {
				break
			}
			v, err := parseNumber(l.Value, dec)
			if err != nil {
				return nil, 0, fmt.Errorf("line item %q: value: %w", clip(l.Product), err)
			}
			values = append(values, v)
		}
		if len(values) == len(lines) {
			sum, err := sumDecimals(values)
			if err != nil {
				return nil, 0, err
			}
			p["value"] = json.Number(trimDecimal(sum))
		}
	}
	if len(lines) > 0 {
		products := make([]any, 0, len(lines))
		for _, l := range lines {
			id := strings.TrimSpace(l.Product)
			if id == "" {
				return nil, 0, errors.New("a line item without a product id")
			}
			if mapID != nil {
				if custom, known := mapID(id); known {
					id = custom
				} else {
					unknown++
				}
			}
			item := map[string]any{ProductIDKey: id}
			if strings.TrimSpace(l.Quantity) != "" {
				q, err := num(fmt.Sprintf("line item %q: quantity", clip(l.Product)), l.Quantity)
				if err != nil {
					return nil, 0, err
				}
				item["quantity"] = q
			}
			if strings.TrimSpace(l.Value) != "" {
				v, err := num(fmt.Sprintf("line item %q: value", clip(l.Product)), l.Value)
				if err != nil {
					return nil, 0, err
				}
				item["value"] = v
			}
			if currency != "" {
				item["currency"] = currency
			}
			products = append(products, item)
		}
		p[ProductsKey] = products
	}
	if v := strings.TrimSpace(o.Placed); v != "" {
		p["placed_at"] = v
	}
	if v := strings.TrimSpace(o.Updated); v != "" {
		p["updated_at"] = v
	}
	for k, v := range o.Attrs {
		if reservedKeys[k] {
			return nil, 0, fmt.Errorf("attribute %q: a key the deal has already", k)
		}
		if v == "" || (!sendEmail && looksLikeEmail(v)) {
			continue
		}
		p[k] = v
	}
	if sendEmail {
		if e := strings.TrimSpace(o.Email); e != "" {
			p["email"] = e
		}
	}
	return tree.NewProduct(d.ID, p).JSON(), unknown, nil
}
