package lint

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// gtinFault is what checkGTIN finds wrong with a GTIN.
type gtinFault uint8

const (
	gtinOK gtinFault = iota
	gtinNotDigits
	gtinLength
	gtinCheckDigit
	gtinInStore    // GTIN-13 prefix 2
	gtinRestricted // 02, 04
	gtinCoupon2    // 05, 99
	gtinCoupon3    // 981–984
)

// checkGTIN returns what is wrong with a GTIN, or gtinOK. It allocates
// nothing: most feeds with a bad GTIN have many, and only the findings kept
// need their message (gtinFault.message).
func checkGTIN(v string) gtinFault {
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return gtinNotDigits
		}
	}
	switch len(v) {
	case 8, 12, 13, 14:
	default:
		return gtinLength
	}
	if !gs1CheckDigit(v) {
		return gtinCheckDigit
	}
	if len(v) == 8 {
		return gtinOK
	}
	// The first three digits of the GTIN-13 form.
	var p [3]byte
	switch len(v) {
	case 12:
		p = [3]byte{'0', v[0], v[1]}
	case 13:
		p = [3]byte{v[0], v[1], v[2]}
	case 14:
		p = [3]byte{v[1], v[2], v[3]}
	}
	switch {
	case p[0] == '2':
		return gtinInStore
	case p[0] == '0' && (p[1] == '2' || p[1] == '4'):
		return gtinRestricted
	case p[0] == '0' && p[1] == '5', p[0] == '9' && p[1] == '9':
		return gtinCoupon2
	case p[0] == '9' && p[1] == '8' && p[2] >= '1' && p[2] <= '4':
		return gtinCoupon3
	}
	return gtinOK
}

// rule is the rule a GTIN with fault f breaks.
func (f gtinFault) rule() ruleID {
	switch f {
	case gtinNotDigits, gtinLength:
		return rGTINFormat
	case gtinCheckDigit:
		return rGTINCheckDigit
	}
	return rGTINPrefix
}

// message says why v, whose fault is f, breaks its rule.
func (f gtinFault) message(v string) string {
	g13 := v
	switch len(v) {
	case 12:
		g13 = "0" + v
	case 14:
		g13 = v[1:]
	}
	switch f {
	case gtinNotDigits:
		return "gtin " + quote(v) + " holds characters other than digits"
	case gtinLength:
		return "gtin " + quote(v) + " has " + itoa(len(v)) + " digits; want 8, 12, 13 or 14"
	case gtinCheckDigit:
		return "gtin " + quote(v) + " fails the GS1 check digit (want " + string(gs1Digit(v[:len(v)-1])) + " at the end)"
	case gtinInStore:
		return "gtin " + quote(v) + " has the restricted in-store prefix 2"
	case gtinRestricted:
		return "gtin " + quote(v) + " has the restricted prefix " + g13[:2] + " (UPC " + g13[1:2] + ")"
	case gtinCoupon2:
		return "gtin " + quote(v) + " has the coupon prefix " + g13[:2]
	case gtinCoupon3:
		return "gtin " + quote(v) + " has the coupon prefix " + g13[:3]
	}
	return ""
}

// gs1CheckDigit reports whether the last digit of v is its GS1 check digit.
func gs1CheckDigit(v string) bool { return gs1Digit(v[:len(v)-1]) == v[len(v)-1] }

// gs1Digit computes the GS1 mod-10 check digit of the digits in body.
func gs1Digit(body string) byte {
	sum := 0
	for i := 0; i < len(body); i++ {
		d := int(body[len(body)-1-i] - '0')
		if i%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

// checkURL returns why v is not an absolute, encoded http(s) URL, or "".
func checkURL(v string) string {
	var host string // from after the scheme's "://"
	switch {
	case len(v) > 7 && hasPrefixFold(v, "http://"):
		host = v[7:]
	case len(v) > 8 && hasPrefixFold(v, "https://"):
		host = v[8:]
	case strings.HasPrefix(v, "/") || !strings.Contains(v, "://") && !strings.Contains(v, ":"):
		return "is a relative URL: write it in full, with https:// and the host"
	default:
		return "is not an http or https URL"
	}
	for i := 0; i < len(host); i++ {
		if c := host[i]; c == '/' || c == '?' || c == '#' {
			host = host[:i]
			break
		}
	}
	if host == "" {
		return "has no host"
	}
	if len(v) > 2000 {
		return "is longer than 2000 characters"
	}
	if strings.Contains(v, "/.../") || strings.HasSuffix(v, "...") || strings.Contains(host, "example.com") {
		return "is a placeholder"
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == ' ':
			return "holds a space: encode it as %20"
		case c < 0x20 || c == 0x7f:
			return "holds a control character"
		case c >= 0x80:
			return "holds non-ASCII characters: percent-encode them"
		}
	}
	return ""
}

// hasPrefixFold reports whether s starts with prefix, lower-case ASCII,
// in any letter case: strings.EqualFold on s[:len(prefix)] without its
// Unicode tables (a non-ASCII byte matches no ASCII prefix either way).
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

var imageExts = map[string]bool{"jpg": true, "jpeg": true, "png": true, "gif": true, "webp": true, "bmp": true, "tif": true, "tiff": true}

// imageExtension returns an image URL's file extension when it has one that
// is not an image format Google takes, else "".
func imageExtension(v string) string {
	for i := 0; i < len(v); i++ {
		if v[i] == '?' || v[i] == '#' {
			v = v[:i]
			break
		}
	}
	seg := v[strings.LastIndexByte(v, '/')+1:]
	dot := strings.LastIndexByte(seg, '.')
	if dot < 0 || dot == len(seg)-1 {
		return ""
	}
	ext := strings.ToLower(seg[dot+1:])
	if len(ext) > 5 || imageExts[ext] {
		return ""
	}
	for _, r := range ext {
		if r < 'a' || r > 'z' {
			return ""
		}
	}
	return ext
}

// parseISO parses an ISO 8601 date or date-time as feeds write them —
// 2026-03-25, 2026-03-25T13:00, with seconds, a fraction, Z or an offset with
// or without a colon (+0000, -08:00, +01) — and reports whether v is one.
func parseISO(v string) (time.Time, bool) {
	num := func(s string) bool { return s != "" && isDigits(s) }
	if len(v) < 10 || !num(v[0:4]) || v[4] != '-' || !num(v[5:7]) || v[7] != '-' || !num(v[8:10]) {
		return time.Time{}, false
	}
	// The value time.Parse reads is put together on the stack, its layout
	// picked from constants: no allocation per date.
	var buf [32]byte
	s, layout := append(buf[:0], v[:10]...), "2006-01-02"
	rest := v[10:]
	if rest != "" {
		if rest[0] != 'T' && rest[0] != ' ' || len(rest) < 6 || !num(rest[1:3]) || rest[3] != ':' || !num(rest[4:6]) {
			return time.Time{}, false
		}
		hm := rest[1:6]
		rest = rest[6:]
		sec := "00"
		if len(rest) >= 3 && rest[0] == ':' && num(rest[1:3]) {
			sec, rest = rest[1:3], rest[3:]
			if len(rest) > 1 && rest[0] == '.' {
				j := 1
				for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
					j++
				}
				if j == 1 {
					return time.Time{}, false
				}
				rest = rest[j:]
			}
		}
		s = append(s, 'T')
		s = append(s, hm...)
		s = append(s, ':')
		s = append(s, sec...)
		switch {
		case rest == "":
			layout = "2006-01-02T15:04:05"
		case rest == "Z":
			s = append(s, 'Z')
			layout = "2006-01-02T15:04:05Z07:00"
		case rest[0] == '+' || rest[0] == '-':
			// The offset's digits, without its first colon: hhmm or hh.
			zs := rest[1:]
			if len(zs) > 5 {
				return time.Time{}, false
			}
			var zb [5]byte
			z := zb[:0]
			colon := false
			for i := 0; i < len(zs); i++ {
				if zs[i] == ':' && !colon {
					colon = true
					continue
				}
				z = append(z, zs[i])
			}
			if len(z) == 2 {
				z = append(z, '0', '0')
			}
			if len(z) != 4 {
				return time.Time{}, false
			}
			for _, c := range z {
				if c < '0' || c > '9' {
					return time.Time{}, false
				}
			}
			s = append(s, rest[0])
			s = append(s, z...)
			layout = "2006-01-02T15:04:05-0700"
		default:
			return time.Time{}, false
		}
	}
	t, err := time.Parse(layout, string(s))
	return t, err == nil
}

// checkDateRange returns why v is not a start/end pair of ISO 8601 date-times, or "".
func checkDateRange(v string) string {
	start, end, ok := strings.Cut(v, "/")
	if !ok {
		return "is not two ISO 8601 date-times separated by /"
	}
	ts, ok1 := parseISO(strings.TrimSpace(start))
	te, ok2 := parseISO(strings.TrimSpace(end))
	switch {
	case !ok1:
		return "starts with " + quote(start) + ", not an ISO 8601 date-time"
	case !ok2:
		return "ends with " + quote(end) + ", not an ISO 8601 date-time"
	case !te.After(ts):
		return "ends before it starts"
	case len(v) > 51:
		return "is longer than 51 characters"
	}
	return ""
}

// textDefects is what one pass over a value found.
type textDefects struct {
	control string // description of the first bad character, or ""
	entity  string // the first literally visible entity (&amp;), or ""
	tag     string // the first HTML-looking tag (<br>), or ""
	badTag  string // a tag that is unsupported in a description, or ""
}

// any reports whether d found something. (Comparing d with textDefects{}
// calls a generated function that compares four strings: once per value.)
func (d *textDefects) any() bool {
	return len(d.control)|len(d.entity)|len(d.tag)|len(d.badTag) != 0
}

// specials marks the bytes scanText stops at.
var specials = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = c != '\t' && c != '\n' && c != '\r'
	}
	t[0x7f] = true
	t['&'] = true
	t['<'] = true
	for _, c := range []byte{0xC2, 0xE2, 0xEE, 0xEF, 0xF3, 0xF4} {
		t[c] = true
	}
	return t
}()

// leadBytes start the UTF-8 sequences scanText must decode: C1 controls and
// U+00AD (0xC2), format characters (0xE2, 0xEF), private use (0xEE, 0xEF,
// 0xF3, 0xF4).
var leadBytes = [...]byte{'&', '<', 0xC2, 0xE2, 0xEE, 0xEF, 0xF3, 0xF4}

// scanText looks at a value once for control characters, visible entities
// and HTML tags. withTags false skips the tag checks (URLs, codes). checked
// says the reader already refused C0 controls and invalid UTF-8 (XML does),
// so a value without any of leadBytes is clean and found so with a few
// vectorised byte searches. Without checked the value is the delimited
// reader's: valid UTF-8 (checkRow skips a row that is not), perhaps with
// tabs, line breaks and DEL.
func scanText(v string, withTags, checked bool) (d textDefects) {
	if len(v) <= 64 {
		// Short values: one pass costs less than several searches.
		d.slowScan(v, withTags)
		return d
	}
	if !checked {
		// Delimited text: a value without C0 controls and DEL goes on as
		// for XML. Its UTF-8 is not checked again.
		checked = !hasControl(v)
	}
	if !checked {
		d.slowScan(v, withTags)
		return d
	}
	// Visit only the bytes that matter, found with vectorised searches.
	for _, c := range leadBytes {
		for off := 0; off < len(v); {
			j := strings.IndexByte(v[off:], c)
			if j < 0 {
				break
			}
			i := off + j
			off = i + 1
			if c < 0x80 {
				d.byteAt(v, i, withTags)
				continue
			}
			if d.control == "" {
				r, _ := utf8.DecodeRuneInString(v[i:])
				d.runeAt(r)
			}
		}
	}
	return d
}

// slowScan looks at every byte: for text that may hold C0 controls or
// invalid UTF-8.
func (d *textDefects) slowScan(v string, withTags bool) {
	for i := 0; i < len(v); {
		c := v[i]
		if c < 0x80 {
			if specials[c] {
				d.byteAt(v, i, withTags)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(v[i:])
		if d.control == "" {
			if r == utf8.RuneError && n == 1 {
				d.control = "invalid UTF-8"
			} else if specials[c] {
				d.runeAt(r)
			}
		}
		i += n
	}
}

// runeAt notes a control, format or private-use character.
func (d *textDefects) runeAt(r rune) {
	switch {
	case d.control != "":
	case unicode.Is(unicode.Cc, r):
		d.control = "control character " + runeName(r)
	case unicode.Is(unicode.Cf, r):
		d.control = "format character " + runeName(r)
	case unicode.Is(unicode.Co, r):
		d.control = "private-use character " + runeName(r)
	}
}

// byteAt looks at the ASCII special byte at v[i].
func (d *textDefects) byteAt(v string, i int, withTags bool) {
	switch c := v[i]; {
	case c == '&':
		if d.entity == "" {
			d.entity = entityAt(v[i:])
		}
	case c == '<':
		if withTags && d.badTag == "" {
			if tag, attrs, ok := tagAt(v[i:]); ok {
				if d.tag == "" {
					d.tag = "<" + tag + ">"
				}
				if attrs || !allowedTags[tag] {
					d.badTag = "<" + tag + ">"
					if attrs {
						d.badTag = "<" + tag + " …> (with attributes)"
					}
				}
			}
		}
	default:
		if d.control == "" {
			d.control = "control character U+00" + hex2(c)
		}
	}
}

// hasControl reports whether v holds a byte below 0x20 or 0x7F (tab and
// line breaks included), eight bytes at a time.
func hasControl(v string) bool {
	const lo, hi, one = 0x2020202020202020, 0x8080808080808080, 0x0101010101010101
	const del = 0x7f7f7f7f7f7f7f7f
	i := 0
	for ; i+8 <= len(v); i += 8 {
		w := uint64(v[i]) | uint64(v[i+1])<<8 | uint64(v[i+2])<<16 | uint64(v[i+3])<<24 |
			uint64(v[i+4])<<32 | uint64(v[i+5])<<40 | uint64(v[i+6])<<48 | uint64(v[i+7])<<56
		x := w ^ del // a zero byte where w has 0x7F
		if (w-lo)&^w&hi != 0 || (x-one)&^x&hi != 0 {
			return true
		}
	}
	for ; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c == 0x7f {
			return true
		}
	}
	return false
}

// entityAt returns the entity reference at the start of s (&amp; &#39;
// &nbsp;), or "".
func entityAt(s string) string {
	end := strings.IndexByte(s[:min(len(s), 12)], ';')
	if end < 2 {
		return ""
	}
	name := s[1:end]
	if name[0] == '#' {
		digits := name[1:]
		if len(digits) > 0 && (digits[0] == 'x' || digits[0] == 'X') {
			digits = digits[1:]
		}
		if digits == "" {
			return ""
		}
		for _, r := range digits {
			if !unicode.Is(unicode.ASCII_Hex_Digit, r) {
				return ""
			}
		}
		return s[:end+1]
	}
	for _, r := range name {
		if r > 'z' || !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return ""
		}
	}
	if !knownEntities[strings.ToLower(name)] {
		return ""
	}
	return s[:end+1]
}

var knownEntities = map[string]bool{
	"amp": true, "lt": true, "gt": true, "quot": true, "apos": true, "nbsp": true, "ndash": true, "mdash": true,
	"hellip": true, "laquo": true, "raquo": true, "copy": true, "reg": true, "trade": true, "euro": true,
	"eacute": true, "egrave": true, "aacute": true, "agrave": true, "uuml": true, "ouml": true, "auml": true,
	"szlig": true, "rsquo": true, "lsquo": true, "rdquo": true, "ldquo": true, "deg": true, "times": true,
	"middot": true, "bull": true, "shy": true,
}

// htmlTags are the tag names taken as HTML in text values.
var htmlTags = map[string]bool{
	"a": true, "b": true, "br": true, "div": true, "em": true, "font": true, "h1": true, "h2": true, "h3": true,
	"h4": true, "h5": true, "h6": true, "hr": true, "i": true, "img": true, "li": true, "ol": true, "p": true,
	"span": true, "strong": true, "sub": true, "sup": true, "table": true, "td": true, "th": true, "tr": true,
	"u": true, "ul": true, "dl": true, "dt": true, "dd": true, "script": true, "style": true, "canvas": true,
	"iframe": true, "tbody": true, "thead": true, "small": true, "big": true, "center": true, "section": true,
	"article": true, "blockquote": true, "pre": true, "code": true, "s": true, "strike": true, "del": true,
}

// allowedTags are the tags Google lists as supported in description.
var allowedTags = map[string]bool{
	"strong": true, "em": true, "ul": true, "ol": true, "li": true, "br": true, "sub": true, "sup": true,
	"div": true, "span": true, "dl": true, "dt": true, "dd": true, "b": true, "i": true, "p": true,
}

// tagAt reads an HTML tag at the start of s ("<br>", "</p>", "<a href=…>").
func tagAt(s string) (name string, attrs, ok bool) {
	i := 1
	if i < len(s) && s[i] == '/' {
		i++
	}
	j := i
	for j < len(s) && j-i < 12 && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || j > i && s[j] >= '0' && s[j] <= '9') {
		j++
	}
	if j == i || j >= len(s) {
		return "", false, false
	}
	name = strings.ToLower(s[i:j])
	if htmlTag([]byte(name)) == "" {
		return "", false, false
	}
	switch s[j] {
	case '>':
		return name, false, true
	case '/':
		return name, false, j+1 < len(s) && s[j+1] == '>'
	case ' ', '\t', '\n':
		rest := strings.TrimLeft(s[j:], " \t\n")
		if strings.HasPrefix(rest, "/>") || strings.HasPrefix(rest, ">") {
			return name, false, true
		}
		if k := strings.IndexByte(rest, '>'); k > 0 && strings.IndexByte(rest[:k], '=') > 0 {
			return name, true, true
		}
	}
	return "", false, false
}

// isHexColor reports whether a colour name is a hex code (#F0E2C4, #fff, F0E2C4).
func isHexColor(s string) bool {
	hash := strings.HasPrefix(s, "#")
	h := strings.TrimPrefix(s, "#")
	if len(h) != 3 && len(h) != 6 {
		return false
	}
	digit := false
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
		default:
			return false
		}
	}
	return hash || len(h) == 6 && digit
}

// isPlaceholder reports whether v stands for "no value" (undefined, null,
// N/A…), in any letter case. A switch rather than a map: it is asked of nine
// values of every item, and most are rejected by their length alone.
func isPlaceholder(v string) bool {
	if len(v) > 16 {
		return false
	}
	var b [16]byte
	for i := 0; i < len(v); i++ {
		c := v[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	switch string(b[:len(v)]) {
	case "undefined", "null", "nil", "none", "n/a", "na", "-", "--", "...", "tbd", "todo", "[object object]", "nan":
		return true
	}
	return false
}

// idChars reports whether s holds only ASCII letters, digits, _ and -.
func idChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func runeName(r rune) string {
	const digits = "0123456789ABCDEF"
	var b []byte
	for v := r; v > 0 || len(b) < 4; v >>= 4 {
		b = append([]byte{digits[v&15]}, b...)
	}
	return "U+" + string(b)
}

func hex2(c byte) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[c>>4], digits[c&15]})
}
