package orders

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Numbers in an export (totals, line quantities and values) are read by
// parseNumber into a canonical decimal: an optional "-", digits without
// leading zeros, and "." with the fraction digits as written
// ("1 234,50" → "1234.50"). The rules, for a number written as text:
//
//   - Grouping marks between groups of three digits may be spaces (also the
//     no-break and thin spaces), apostrophes ("1'234.50"), or the one of "."
//     and "," that is not the decimal separator.
//   - With both "." and ",", the last one is the decimal separator
//     ("1,234.50", "1.234,50").
//   - With one of them only: written twice or more, it groups
//     ("1,234,567"); written once, it is the decimal separator ("12.5",
//     "12,50", "0,125") — except a lone comma followed by exactly three
//     digits after a whole part of one to three digits ("1,234"), which is
//     1234 in some exports and 1.234 in others: that is an error, never a
//     guess (set Config.Decimal). A lone dot is always decimal ("8.264"),
//     as shops' exports write machine decimals with a dot.
//   - Config.Decimal ("." or ",") fixes the decimal separator; the other
//     one may then only group.
//
// A JSON number in a JSONL export is read as JSON defines it (dot decimal,
// exponent allowed). Anything else — letters, currency signs, two decimal
// separators, groups of other than three digits — is malformed.

// errEmptyNumber is returned for a value that is blank.
var errEmptyNumber = errors.New("empty")

// isGroupSpace reports whether r is a space used to group digits.
func isGroupSpace(r rune) bool {
	return r == ' ' || r == '\u00a0' || r == '\u202f' || r == '\u2009' || r == '\''
}

// parseNumber reads a decimal written as text; dec is the decimal separator
// ('.' or ','), or 0 to decide by the rules above.
func parseNumber(s string, dec byte) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errEmptyNumber
	}
	raw := s
	neg := false
	switch s[0] {
	case '-':
		neg, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	if s == "" {
		return "", fmt.Errorf("malformed number %q", clip(raw))
	}
	// Fast path: plain digits with at most one dot ("12", "19.90"), unless
	// the dot may only group.
	if plain, ok := plainDecimal(s); ok && (dec != ',' || strings.IndexByte(s, '.') < 0) {
		return canonDecimal(neg, plain), nil
	}
	var dots, commas, spaces int
	lastDot, lastComma := -1, -1
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
		case r == '.':
			dots++
			lastDot = i
		case r == ',':
			commas++
			lastComma = i
		case isGroupSpace(r):
			spaces++
		default:
			return "", fmt.Errorf("malformed number %q: %q is not a digit or separator", clip(raw), r)
		}
	}
	sep := dec // the decimal separator, 0 for none
	if sep == 0 {
		switch {
		case dots > 0 && commas > 0:
			sep = ','
			if lastDot > lastComma {
				sep = '.'
			}
		case dots == 1:
			sep = '.'
		case commas == 1:
			sep = ','
			whole, frac := s[:lastComma], s[lastComma+1:]
			if spaces == 0 && len(frac) == 3 && len(whole) >= 1 && len(whole) <= 3 && strings.Trim(whole, "0") != "" {
				return "", fmt.Errorf("ambiguous number %q: a lone comma before three digits may group thousands (%s) or separate decimals (%s.%s); set the export's decimal separator", clip(raw), whole+frac, whole, frac)
			}
		}
	}
	whole, frac := s, ""
	hasFrac := false
	if sep != 0 {
		if i := strings.LastIndexByte(s, sep); i >= 0 {
			if strings.IndexByte(s, sep) != i {
				return "", fmt.Errorf("malformed number %q: %q twice", clip(raw), sep)
			}
			whole, frac, hasFrac = s[:i], s[i+1:], true
		}
	}
	if hasFrac {
		if frac == "" {
			return "", fmt.Errorf("malformed number %q: no digits after the decimal separator", clip(raw))
		}
		for i := 0; i < len(frac); i++ {
			if frac[i] < '0' || frac[i] > '9' {
				return "", fmt.Errorf("malformed number %q: a separator after the decimal separator", clip(raw))
			}
		}
	}
	digits, err := ungroup(whole, sep)
	if err != nil {
		return "", fmt.Errorf("malformed number %q: %v", clip(raw), err)
	}
	if digits == "" && !hasFrac {
		return "", fmt.Errorf("malformed number %q", clip(raw))
	}
	if hasFrac {
		digits += "." + frac
	}
	return canonDecimal(neg, digits), nil
}

// plainDecimal reports whether s is digits with at most one inner dot, or a
// dot then digits; it returns s with a "0" before a leading dot.
func plainDecimal(s string) (string, bool) {
	dot := -1
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
		case c == '.' && dot < 0 && i < len(s)-1:
			dot = i
		default:
			return "", false
		}
	}
	if dot == 0 {
		return "0" + s, true
	}
	return s, true
}

// ungroup returns the digits of a whole part, checking its grouping: one
// kind of grouping mark (a space or apostrophe, or the separator that is not
// the decimal one), groups of three digits after a first group of one to three.
func ungroup(s string, dec byte) (string, error) {
	var mark rune
	var b strings.Builder
	group := 0 // digits in the current group
	groups := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
			group++
			continue
		}
		if r < utf8.RuneSelf && byte(r) == dec {
			return "", errors.New("a decimal separator in the whole part")
		}
		kind := r
		if isGroupSpace(r) && r != '\'' {
			kind = ' '
		}
		switch {
		case mark == 0:
			mark = kind
		case kind != mark:
			return "", errors.New("two kinds of grouping marks")
		}
		if group == 0 || (groups == 0 && group > 3) || (groups > 0 && group != 3) {
			return "", errors.New("digits grouped other than by three")
		}
		groups++
		group = 0
	}
	if groups > 0 && group != 3 {
		return "", errors.New("digits grouped other than by three")
	}
	return b.String(), nil
}

// canonDecimal drops leading zeros of the whole part and the sign of zero.
func canonDecimal(neg bool, digits string) string {
	whole, frac, _ := strings.Cut(digits, ".")
	whole = strings.TrimLeft(whole, "0")
	if whole == "" {
		whole = "0"
	}
	out := whole
	if frac != "" {
		out += "." + frac
	}
	if neg && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	return out
}

// parseJSONNumber reads a JSON number literal (valid JSON: the decoder
// checked it) into the canonical form.
func parseJSONNumber(s string) (string, error) {
	if !strings.ContainsAny(s, "eE") {
		neg := strings.HasPrefix(s, "-")
		if plain, ok := plainDecimal(strings.TrimPrefix(s, "-")); ok {
			return canonDecimal(neg, plain), nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return "", fmt.Errorf("malformed number %s", clip(s))
	}
	neg := f < 0
	if neg {
		f = -f
	}
	return canonDecimal(neg, strconv.FormatFloat(f, 'f', -1, 64)), nil
}

// trimDecimal drops trailing fraction zeros of a canonical decimal: the form
// sent, so that "12.50" and "12.5" hash alike.
func trimDecimal(s string) string {
	if strings.IndexByte(s, '.') < 0 {
		return s
	}
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		return "0"
	}
	return s
}

// sumDecimals adds canonical decimals exactly.
func sumDecimals(xs []string) (string, error) {
	scale := 0
	for _, x := range xs {
		if _, frac, ok := strings.Cut(x, "."); ok && len(frac) > scale {
			scale = len(frac)
		}
	}
	var sum, v big.Int
	for _, x := range xs {
		whole, frac, _ := strings.Cut(x, ".")
		digits := whole + frac + strings.Repeat("0", scale-len(frac))
		if _, ok := v.SetString(digits, 10); !ok {
			return "", fmt.Errorf("malformed number %q", clip(x))
		}
		sum.Add(&sum, &v)
	}
	neg := sum.Sign() < 0
	digits := new(big.Int).Abs(&sum).String()
	if scale > 0 {
		if len(digits) <= scale {
			digits = strings.Repeat("0", scale-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	return canonDecimal(neg, digits), nil
}
