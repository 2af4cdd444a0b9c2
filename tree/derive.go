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

// group is the compact record the Builder keeps per item_group_id: running
// aggregates from which the parent's derived fields follow, and where to find
// the representative's record. Every aggregate is order-independent.
type group struct {
	id          string // the byte-wise smallest spelling of the item_group_id seen
	repOff      int64  // spill offset of the representative's record
	repID       string
	repRank     uint8
	repCurrency string
	emitted     bool
	counts      [4]int32 // variants per availability rank
	lines       []int32
	// donors name, per inheritable field, the variant that gives it to
	// variants (and a parent) lacking it: the first in representative order
	// (availability, then id) that has the field.
	donors []donor
	// Parent policy only.
	title  titlePrefix
	prices []tierPrice
	values [4][]string // distinct colors, sizes, materials, patterns
}

type donor struct {
	spec int32
	rank uint8
	off  int64
	id   string
}

// tierPrice aggregates the prices of one availability rank in one currency.
type tierPrice struct {
	rank     uint8
	currency string
	n        int32
	min, max string
	sale     string // lowest sale price in force, "" if none
}

// lessID orders item ids: case-insensitively, then byte-wise.
func lessID(a, b string) bool {
	la, lb := strings.ToLower(a), strings.ToLower(b)
	if la != lb {
		return la < lb
	}
	return a < b
}

// better reports whether a variant of rank r and id should represent the
// group instead of the current representative.
func (g *group) better(r uint8, id string) bool {
	if g.repID == "" && len(g.lines) == 0 {
		return true
	}
	if r != g.repRank {
		return r < g.repRank
	}
	return lessID(id, g.repID)
}

func (g *group) add(rec *record, off int64, gid string, m *mapping, parent bool) {
	if g.id == "" || gid < g.id {
		g.id = gid
	}
	if g.better(rec.rank, rec.itemID) {
		g.repOff, g.repID, g.repRank, g.repCurrency = off, rec.itemID, rec.rank, rec.currency
	}
	for _, f := range rec.fields {
		if !m.specs[f.spec].inherit {
			continue
		}
		d := donor{spec: int32(f.spec), rank: rec.rank, off: off, id: rec.itemID}
		found := false
		for i := range g.donors {
			if g.donors[i].spec == d.spec {
				found = true
				if d.rank < g.donors[i].rank || (d.rank == g.donors[i].rank && lessID(d.id, g.donors[i].id)) {
					g.donors[i] = d
				}
			}
		}
		if !found {
			g.donors = append(g.donors, d)
		}
	}
	g.counts[rec.rank]++
	g.lines = append(g.lines, rec.line)
	if !parent {
		return
	}
	g.title.add(rec.title)
	if rec.price != "" {
		g.addPrice(rec)
	}
	for i, v := range rec.plural {
		if v != "" {
			g.values[i] = addDistinct(g.values[i], v)
		}
	}
}

func (g *group) addPrice(rec *record) {
	var tp *tierPrice
	for i := range g.prices {
		if g.prices[i].rank == rec.rank && g.prices[i].currency == rec.currency {
			tp = &g.prices[i]
			break
		}
	}
	if tp == nil {
		g.prices = append(g.prices, tierPrice{rank: rec.rank, currency: rec.currency, min: rec.price, max: rec.price})
		tp = &g.prices[len(g.prices)-1]
	}
	tp.n++
	if decLess(rec.price, tp.min) {
		tp.min = rec.price
	}
	if decLess(tp.max, rec.price) {
		tp.max = rec.price
	}
	if rec.saleState == saleInForce && rec.sale != "" && (tp.sale == "" || decLess(rec.sale, tp.sale)) {
		tp.sale = rec.sale
	}
}

// tier is the parent's availability rank: the best rank any variant has.
func (g *group) tier() uint8 { return g.repRank }

// currency is the parent's currency: the representative's, or, when the
// representative has no price, the one most priced variants of the tier
// share (ties: alphabetical).
func (g *group) currency() string {
	if g.repCurrency != "" {
		return g.repCurrency
	}
	best, bestN := "", int32(-1)
	for _, tp := range g.prices {
		if tp.rank != g.tier() {
			continue
		}
		if tp.n > bestN || (tp.n == bestN && tp.currency < best) {
			best, bestN = tp.currency, tp.n
		}
	}
	return best
}

// priceSet is the aggregate the parent's price, price_max and sale_price come from.
func (g *group) priceSet() *tierPrice {
	cur := g.currency()
	for i := range g.prices {
		if g.prices[i].rank == g.tier() && g.prices[i].currency == cur {
			return &g.prices[i]
		}
	}
	return nil
}

// currencies lists the distinct currencies of the group's prices, sorted.
func (g *group) currencies() []string {
	var out []string
	for _, tp := range g.prices {
		if !contains(out, tp.currency) {
			out = append(out, tp.currency)
		}
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
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

// titlePrefix is the running common prefix of the variants' titles. endOK
// records whether every title seen ends, or reaches a separator, exactly
// where the prefix ends — so the prefix is cut on a word boundary.
type titlePrefix struct {
	p     string
	n     int32
	endOK bool
}

func (t *titlePrefix) add(title string) {
	t.n++
	if t.n == 1 {
		t.p, t.endOK = title, true
		return
	}
	n := 0
	for n < len(t.p) && n < len(title) {
		r1, s1 := utf8.DecodeRuneInString(t.p[n:])
		r2, s2 := utf8.DecodeRuneInString(title[n:])
		if r1 != r2 || s1 != s2 {
			break
		}
		n += s1
	}
	boundary := n == len(title)
	if !boundary {
		r, _ := utf8.DecodeRuneInString(title[n:])
		boundary = isSep(r)
	}
	if n == len(t.p) {
		t.endOK = t.endOK && boundary
		return
	}
	// Every earlier title continues with the prefix's next rune.
	r, _ := utf8.DecodeRuneInString(t.p[n:])
	t.endOK = isSep(r) && boundary
	t.p = t.p[:n]
}

// minNameLen is the shortest common title prefix used as a parent's name.
const minNameLen = 3

// name is the parent's name: the common prefix cut on a word boundary with
// trailing separators removed, if at least minNameLen runes long. ok false
// means the representative's title is used instead.
func (t *titlePrefix) name() (string, bool) {
	p := t.p
	if !t.endOK {
		i := strings.LastIndexFunc(p, isSep)
		if i < 0 {
			p = ""
		} else {
			p = p[:i]
		}
	}
	p = strings.TrimRightFunc(p, isSep)
	if t.n < 2 || utf8.RuneCountInString(p) < minNameLen {
		return "", false
	}
	return p, true
}

// addDistinct adds v to a set of values compared case-insensitively, keeping
// the byte-wise smallest spelling so the result does not depend on order.
func addDistinct(vals []string, v string) []string {
	for i, old := range vals {
		if strings.EqualFold(old, v) {
			if v < old {
				vals[i] = v
			}
			return vals
		}
	}
	return append(vals, v)
}

// joinNatural sorts values in natural order and joins them with ", ".
func joinNatural(vals []string) string {
	s := append([]string(nil), vals...)
	sort.Slice(s, func(i, j int) bool { return naturalLess(s[i], s[j]) })
	return strings.Join(s, ", ")
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
	ca, sa, na := valueClass(a)
	cb, sb, nb := valueClass(b)
	if ca != cb {
		return ca < cb
	}
	switch ca {
	case 0:
		if sa != sb {
			return sa < sb
		}
	case 1:
		if na != nb {
			return decLess(na, nb)
		}
	default:
		if c := naturalCompare(strings.ToLower(a), strings.ToLower(b)); c != 0 {
			return c < 0
		}
	}
	return a < b
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
