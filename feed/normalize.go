package feed

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/currency"
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
	var buf [32]byte // the letters, lower-cased: on the stack for the spellings above
	b := buf[:0]
	for _, r := range s {
		if unicode.IsLetter(r) {
			b = utf8.AppendRune(b, unicode.ToLower(r))
		}
	}
	switch string(b) {
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

// HasCurrency reports whether the price names its currency. A bare amount
// ("12490") is kept by ParsePrice but is invalid in a feed: lint flags it.
func (p Price) HasCurrency() bool { return p.Currency != "" }

// ParsePrice reads the price forms seen in real feeds: "15.00 USD", "USD 15.00",
// "15,00 EUR", "1.299,00 EUR", "1,299.00 USD", "1 299,00 EUR", "2300.000000 RUB",
// "320000 RWF", "12490" (no currency: Currency is empty and lint flags it).
// The amount never passes through binary floating point.
//
// Which of '.' and ',' is the decimal separator: the last one when both occur;
// a lone ',' unless it is followed by exactly three digits ("1,299" is 1299);
// a lone '.' always ("1.299" is 1.299, as Google reads it). A separator that
// occurs twice groups thousands, and its groups must have three digits.
// The code must be an ISO 4217 currency; a symbol ($, €) is refused with a hint.
func ParsePrice(s string) (Price, error) {
	p, _, err := parsePrice(s, true)
	return p, err
}

// CheckPrice tells what ParsePrice would of s, its error, its currency ("" when
// it names none) and the sign of its amount (-1, 0 or 1), without building the
// amount string: for a caller that checks prices and keeps none.
func CheckPrice(s string) (currency string, sign int, err error) {
	p, sign, err := parsePrice(s, false)
	return p.Currency, sign, err
}

// parsePrice is ParsePrice, and with build false CheckPrice: Amount is left
// empty, and only sign tells of it.
func parsePrice(s string, build bool) (Price, int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Price{}, 0, errors.New("empty price")
	}
	if p, sign, ok := parseSimplePrice(s, build); ok {
		return p, sign, nil
	}
	return parseAnyPrice(s, build)
}

// parseAnyPrice is parsePrice for every form (s trimmed, not empty); the
// commonest one takes parseSimplePrice, which must agree with it
// (FuzzSimplePriceAgrees).
func parseAnyPrice(s string, build bool) (Price, int, error) {
	// Both parts are ASCII, gathered on the stack: a price costs one
	// allocation, its amount (the code is the currency table's string).
	var numBuf [32]byte
	var curBuf [8]byte
	num, cur := numBuf[:0], curBuf[:0]
	numClosed, curClosed := false, false // a part ended: the other one began after it
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', r == '.', r == ',', r == '-', r == '+':
			if numClosed {
				return Price{}, 0, fmt.Errorf("price %q: want one amount and one currency code (15.00 USD)", s)
			}
			if len(cur) > 0 {
				curClosed = true
			}
			num = append(num, byte(r))
		case r < utf8.RuneSelf && unicode.IsLetter(r):
			if curClosed {
				return Price{}, 0, fmt.Errorf("price %q: want one amount and one currency code (15.00 USD)", s)
			}
			if len(num) > 0 {
				numClosed = true
			}
			cur = append(cur, byte(unicode.ToUpper(r)))
		case unicode.IsSpace(r), r == '\'':
			// between amount and code, or a thousands separator
		case unicode.Is(unicode.Sc, r):
			return Price{}, 0, fmt.Errorf("price %q: write the ISO 4217 code instead of the symbol %q (15.00 USD)", s, r)
		default:
			return Price{}, 0, fmt.Errorf("price %q: unexpected %q", s, r)
		}
	}
	code := ""
	if len(cur) > 0 {
		if len(cur) != 3 {
			return Price{}, 0, fmt.Errorf("price %q: %q is not an ISO 4217 currency code (three letters, such as USD)", s, string(cur))
		}
		u, err := currency.ParseISO(string(cur))
		if err != nil || u == currency.XXX {
			return Price{}, 0, fmt.Errorf("price %q: %q is not an ISO 4217 currency code", s, string(cur))
		}
		code = u.String() // the same three letters, not a copy
	}
	amount, sign, err := canonicalDecimal(num, build)
	if err != nil {
		return Price{}, 0, fmt.Errorf("price %q: %w", s, err)
	}
	return Price{Amount: amount, Currency: code}, sign, nil
}

// parseSimplePrice reads the commonest form of a price, "15.00 USD" (digits,
// a fraction after one '.', one space, an ISO 4217 code in any letter case),
// as parsePrice would, in one pass and one allocation (none without build).
// ok is false for any other form and for a code that is not ISO 4217:
// parsePrice reads those.
func parseSimplePrice(s string, build bool) (p Price, sign int, ok bool) {
	n := len(s)
	if n < 5 || s[n-4] != ' ' {
		return Price{}, 0, false
	}
	var code [3]byte
	for i := range code {
		c := s[n-3+i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c < 'A' || c > 'Z' {
			return Price{}, 0, false
		}
		code[i] = c
	}
	num := s[:n-4]
	dot := -1
	for i := 0; i < len(num); i++ {
		if c := num[i]; c < '0' || c > '9' {
			if c != '.' || dot >= 0 || i == 0 || i == len(num)-1 {
				return Price{}, 0, false
			}
			dot = i
		}
	}
	u, err := currency.ParseISO(string(code[:]))
	if err != nil || u == currency.XXX {
		return Price{}, 0, false
	}
	intPart, frac := num, ""
	if dot >= 0 {
		intPart, frac = num[:dot], num[dot+1:]
	}
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	frac = strings.TrimRight(frac, "0")
	p.Currency, sign = u.String(), 1
	switch {
	case intPart == "0" && frac == "":
		p.Amount, sign = "0", 0
	case !build:
	case frac != "":
		p.Amount = intPart + "." + frac
	default:
		p.Amount = strings.Clone(intPart) // not a window on s
	}
	return p, sign, true
}

// canonicalDecimal decides which of '.' and ',' is the decimal separator and
// returns the amount with '.' as separator, no grouping and no trailing zeros
// (only "0" without build), and its sign. It may overwrite s.
func canonicalDecimal(s []byte, build bool) (string, int, error) {
	if len(s) == 0 {
		return "", 0, errors.New("no amount")
	}
	neg := false
	switch s[0] {
	case '-':
		neg, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	lastDot, lastComma := bytes.LastIndexByte(s, '.'), bytes.LastIndexByte(s, ',')
	dec := byte(0)
	switch {
	case lastDot >= 0 && lastComma >= 0:
		dec = '.'
		if lastComma > lastDot {
			dec = ','
		}
	case lastDot >= 0:
		// "15.00", "1.5" and "1.299" are decimals; "1.299.000" groups.
		if bytes.IndexByte(s, '.') == lastDot {
			dec = '.'
		}
	case lastComma >= 0:
		// "15,00" is a decimal; "1,299" and "1,299,000" are groups.
		if bytes.IndexByte(s, ',') == lastComma && len(s)-lastComma-1 != 3 {
			dec = ','
		}
	}
	intPart, frac := s, s[len(s):]
	if dec != 0 {
		i := bytes.LastIndexByte(s, dec)
		intPart, frac = s[:i], s[i+1:]
		if bytes.IndexByte(frac, '.') >= 0 || bytes.IndexByte(frac, ',') >= 0 {
			return "", 0, errors.New("malformed amount: a separator after the decimal one")
		}
	}
	if bytes.ContainsAny(intPart, ".,") {
		if err := checkGroups(string(intPart), dec); err != nil {
			return "", 0, err
		}
		// Drop the grouping separators in place.
		n := 0
		for _, c := range intPart {
			if c != '.' && c != ',' {
				intPart[n] = c
				n++
			}
		}
		intPart = intPart[:n]
	}
	if len(intPart) == 0 && len(frac) == 0 {
		return "", 0, errors.New("no amount")
	}
	for _, p := range [2][]byte{intPart, frac} {
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return "", 0, fmt.Errorf("malformed amount: unexpected %q", p[i])
			}
		}
	}
	intPart = bytes.TrimLeft(intPart, "0")
	frac = bytes.TrimRight(frac, "0")
	if len(intPart) == 0 && len(frac) == 0 {
		return "0", 0, nil // not "-0"
	}
	sign := 1
	if neg {
		sign = -1
	}
	if !build {
		return "", sign, nil
	}
	n := max(len(intPart), 1)
	if neg {
		n++
	}
	if len(frac) > 0 {
		n += 1 + len(frac)
	}
	var b strings.Builder
	b.Grow(n)
	if neg {
		b.WriteByte('-')
	}
	if len(intPart) == 0 {
		b.WriteByte('0')
	}
	b.Write(intPart)
	if len(frac) > 0 {
		b.WriteByte('.')
		b.Write(frac)
	}
	return b.String(), sign, nil
}

// checkGroups checks the thousands grouping of an integer part: one grouping
// separator (the one that is not dec), groups of three digits after the first
// (1,234,567) or the Indian lakh/crore grouping (12,34,567).
func checkGroups(s string, dec byte) error {
	var grp byte
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '.' || c == ',' {
			if c == dec {
				return errors.New("malformed amount: two decimal separators")
			}
			if grp != 0 && c != grp {
				return errors.New("malformed amount: mixed grouping separators")
			}
			grp = c
		}
	}
	groups := strings.Split(s, string(grp))
	western, indian := len(groups[0]) >= 1 && len(groups[0]) <= 3, len(groups[0]) >= 1 && len(groups[0]) <= 2
	for i, g := range groups[1:] {
		last := i == len(groups)-2
		western = western && len(g) == 3
		indian = indian && (!last && len(g) == 2 || last && len(g) == 3)
	}
	if !western && !indian {
		return fmt.Errorf("malformed amount: %q is not grouped by thousands", s)
	}
	return nil
}
