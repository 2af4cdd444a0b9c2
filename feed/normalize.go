package feed

import (
	"fmt"
	"strings"
	"unicode"
)

// Availability values, as Google spells them in the current spec.
const (
	InStock    = "in_stock"
	OutOfStock = "out_of_stock"
	Preorder   = "preorder"
	Backorder  = "backorder"
)

// NormalizeAvailability maps the spellings found in real feeds ("in stock",
// "InStock", "http://schema.org/InStock", "out-of-stock"…) to one of InStock,
// OutOfStock, Preorder, Backorder. A value it does not know is returned trimmed
// and lower-cased, with ok false, so lint can report it.
func NormalizeAvailability(s string) (v string, ok bool) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	switch b.String() {
	case "instock", "available", "limitedavailability", "instoreonly", "onlineonly":
		return InStock, true
	case "outofstock", "soldout", "discontinued", "notavailable", "unavailable":
		return OutOfStock, true
	case "preorder", "presale":
		return Preorder, true
	case "backorder", "availablefororder":
		return Backorder, true
	}
	return strings.ToLower(s), false
}

// Price is an exact decimal amount and its ISO 4217 currency code. Amount is a
// canonical decimal string ("1299", "15.5", "-3.25"): no exponent, no trailing
// zeros, so that equal prices compare equal as strings and travel as JSON numbers
// without passing through binary floating point.
type Price struct {
	Amount   string
	Currency string
}

// String returns "15.5 USD", or just the amount when the currency is unknown.
func (p Price) String() string {
	if p.Currency == "" {
		return p.Amount
	}
	return p.Amount + " " + p.Currency
}

// ParsePrice reads the price forms seen in real feeds: "15.00 USD", "USD 15.00",
// "15,00 EUR", "1.299,00 EUR", "1,299.00 USD", "2300.000000 RUB", "320000 RWF",
// "12490" (no currency: Currency is empty and lint flags it).
func ParsePrice(s string) (Price, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Price{}, fmt.Errorf("empty price")
	}
	var num, cur strings.Builder
	numClosed, curClosed := false, false // a part ended: the other one began after it
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', r == '.', r == ',', r == '-', r == '+':
			if numClosed {
				return Price{}, fmt.Errorf("price %q: want an amount and a currency code", s)
			}
			if cur.Len() > 0 {
				curClosed = true
			}
			num.WriteRune(r)
		case unicode.IsLetter(r):
			if curClosed {
				return Price{}, fmt.Errorf("price %q: want an amount and a currency code", s)
			}
			if num.Len() > 0 {
				numClosed = true
			}
			cur.WriteRune(unicode.ToUpper(r))
		case unicode.IsSpace(r), r == '\u00a0', r == '\'':
			// separators between amount and code, or thousands spaces
		default:
			return Price{}, fmt.Errorf("price %q: unexpected %q", s, r)
		}
	}
	code := cur.String()
	if code != "" && (len(code) != 3 || !isUpperASCII(code)) {
		return Price{}, fmt.Errorf("price %q: %q is not an ISO 4217 currency code", s, code)
	}
	amount, err := canonicalDecimal(num.String())
	if err != nil {
		return Price{}, fmt.Errorf("price %q: %w", s, err)
	}
	return Price{Amount: amount, Currency: code}, nil
}

func isUpperASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// canonicalDecimal decides which of '.' and ',' is the decimal separator and
// returns the amount with '.' as separator, no grouping and no trailing zeros.
func canonicalDecimal(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("no amount")
	}
	neg := false
	switch s[0] {
	case '-':
		neg, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	lastDot, lastComma := strings.LastIndexByte(s, '.'), strings.LastIndexByte(s, ',')
	dec := byte(0)
	switch {
	case lastDot >= 0 && lastComma >= 0:
		dec = '.'
		if lastComma > lastDot {
			dec = ','
		}
	case lastDot >= 0:
		// "1.299.000" groups; "15.00" and "1.5" are decimals.
		if strings.Count(s, ".") == 1 {
			dec = '.'
		}
	case lastComma >= 0:
		// "15,00" is a decimal; "1,299" and "1,299,000" are groups.
		if strings.Count(s, ",") == 1 && len(s)-lastComma-1 != 3 {
			dec = ','
		}
	}
	var intPart, frac string
	if dec != 0 {
		i := strings.LastIndexByte(s, dec)
		intPart, frac = s[:i], s[i+1:]
	} else {
		intPart = s
	}
	intPart = strings.NewReplacer(".", "", ",", "").Replace(intPart)
	for _, p := range []string{intPart, frac} {
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return "", fmt.Errorf("malformed amount")
			}
		}
	}
	if intPart == "" && frac == "" {
		return "", fmt.Errorf("no amount")
	}
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	frac = strings.TrimRight(frac, "0")
	out := intPart
	if frac != "" {
		out += "." + frac
	}
	if neg && out != "0" {
		out = "-" + out
	}
	return out, nil
}
