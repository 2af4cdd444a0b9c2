package tree

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/feedsync/feedsync/feed"
)

// Availability ranks, best first: the order in which the representative, the
// parent's availability and the parent's price set are chosen.
const (
	rankInStock uint8 = iota
	rankPreorder
	rankBackorder
	rankOut // out_of_stock, and missing or unknown availability
)

var rankNames = [...]string{feed.InStock, feed.Preorder, feed.Backorder, feed.OutOfStock}

func rankOf(v string, ok bool) uint8 {
	if !ok {
		return rankOut
	}
	switch v {
	case feed.InStock:
		return rankInStock
	case feed.Preorder:
		return rankPreorder
	case feed.Backorder:
		return rankBackorder
	}
	return rankOut
}

// isSep reports a title separator: white space and - – — | , / :.
func isSep(r rune) bool {
	switch r {
	case '-', '–', '—', '|', ',', '/', ':':
		return true
	}
	return unicode.IsSpace(r)
}

// collapse trims s and turns every run of white space into one space.
func collapse(s string) string {
	s = strings.TrimSpace(s)
	if !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) && r != ' ' }) && !strings.Contains(s, "  ") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// minNameLen is the shortest common title prefix used as a parent's name.
const minNameLen = 3

// joinNatural sorts values in natural order and joins them with ", ".
func joinNatural(vals []string) string {
	switch len(vals) {
	case 0:
		return ""
	case 1:
		return vals[0]
	}
	// Each value's sort key is worked out once, not at every comparison.
	keys := make([]naturalKey, len(vals))
	for i, v := range vals {
		keys[i] = keyOf(v)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].less(&keys[j]) })
	n := 2 * (len(keys) - 1)
	for _, k := range keys {
		n += len(k.v)
	}
	var sb strings.Builder
	sb.Grow(n)
	for i, k := range keys {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(k.v)
	}
	return sb.String()
}

// naturalKey is a value with what naturalLess compares it by.
type naturalKey struct {
	v     string
	class int
	size  int
	num   string // class 1
	lower string // class 2
}

func keyOf(v string) naturalKey {
	k := naturalKey{v: v}
	k.class, k.size, k.num = valueClass(v)
	if k.class == 2 {
		k.lower = strings.ToLower(v)
	}
	return k
}

// less is naturalLess(a.v, b.v).
func (a *naturalKey) less(b *naturalKey) bool {
	if a.class != b.class {
		return a.class < b.class
	}
	switch a.class {
	case 0:
		if a.size != b.size {
			return a.size < b.size
		}
	case 1:
		if a.num != b.num {
			return decLess(a.num, b.num)
		}
	default:
		if c := naturalCompare(a.lower, b.lower); c != 0 {
			return c < 0
		}
	}
	return a.v < b.v
}

// sizeOrder ranks letter sizes.
var sizeOrder = map[string]int{
	"xxxxs": 1, "4xs": 1, "xxxs": 2, "3xs": 2, "xxs": 3, "2xs": 3, "xs": 4, "s": 5, "m": 6, "l": 7,
	"xl": 8, "xxl": 9, "2xl": 9, "xxxl": 10, "3xl": 10, "xxxxl": 11, "4xl": 11, "xxxxxl": 12, "5xl": 12,
}

// valueClass: letter sizes sort before numbers, numbers before other text.
func valueClass(s string) (class int, size int, num string) {
	if r, ok := sizeOrder[strings.ToLower(s)]; ok {
		return 0, r, ""
	}
	if n, ok := number(s); ok {
		return 1, 0, n
	}
	return 2, 0, ""
}

// naturalLess is the order of a parent's colors, sizes, materials and
// patterns: XS < S < M < L < XL < XXL, numbers by value (36 < 38 < 40), other
// text case-insensitively with digit runs compared by value ("128 GB" <
// "1024 GB"); exact ties fall back to bytes, so the order is total.
func naturalLess(a, b string) bool {
	ka, kb := keyOf(a), keyOf(b)
	return ka.less(&kb)
}

// number reads a plain decimal ("36", "38.5", "38,5") as a canonical decimal.
func number(s string) (string, bool) {
	if s == "" {
		return "", false
	}
	sep := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
		case (c == '.' || c == ',') && !sep && i > 0 && i < len(s)-1:
			sep = true
		default:
			return "", false
		}
	}
	s = strings.Replace(s, ",", ".", 1)
	ip, fp, _ := strings.Cut(s, ".")
	ip = strings.TrimLeft(ip, "0")
	if ip == "" {
		ip = "0"
	}
	fp = strings.TrimRight(fp, "0")
	if fp != "" {
		return ip + "." + fp, true
	}
	return ip, true
}

// naturalCompare compares strings with runs of ASCII digits by value.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		if isDigit(a[0]) && isDigit(b[0]) {
			da, db := digitRun(a), digitRun(b)
			ta, tb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(ta) != len(tb) {
				return cmpInt(len(ta), len(tb))
			}
			if ta != tb {
				return strings.Compare(ta, tb)
			}
			a, b = a[da:], b[db:]
			continue
		}
		ra, sa := utf8.DecodeRuneInString(a)
		rb, sb := utf8.DecodeRuneInString(b)
		if ra != rb {
			return cmpInt(int(ra), int(rb))
		}
		a, b = a[sa:], b[sb:]
	}
	return cmpInt(len(a), len(b))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digitRun(s string) int {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// decLess compares two canonical decimal strings (feed.Price amounts) by value.
func decLess(a, b string) bool {
	na, nb := strings.HasPrefix(a, "-"), strings.HasPrefix(b, "-")
	if na != nb {
		return na
	}
	if na {
		return decLess(b[1:], a[1:])
	}
	ai, af, _ := strings.Cut(a, ".")
	bi, bf, _ := strings.Cut(b, ".")
	if len(ai) != len(bi) {
		return len(ai) < len(bi)
	}
	if ai != bi {
		return ai < bi
	}
	return af < bf
}
