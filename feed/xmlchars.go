package feed

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// appendChars appends raw character data to dst as the application sees it:
// CR LF and lone CR become LF, and (unless cdata) entity references are
// decoded. Only the five predefined XML entities, numeric character
// references and HTML's fixed table of named entities (&nbsp;, &eacute;…) are
// known; an entity a DTD declares is never expanded, it is an error like any
// other unknown name. pos is the buffer position of raw, for error positions.
func appendChars(dst, raw []byte, pos int, cdata bool) ([]byte, error) {
	if bytes.IndexByte(raw, '\r') >= 0 {
		return appendCharsCR(dst, raw, pos, cdata)
	}
	if cdata {
		return append(dst, raw...), nil
	}
	i := 0
	for {
		j := bytes.IndexByte(raw[i:], '&')
		if j < 0 {
			return append(dst, raw[i:]...), nil
		}
		dst = append(dst, raw[i:i+j]...)
		i += j
		var n int
		var err error
		if dst, n, err = appendEntity(dst, raw[i:], pos+i); err != nil {
			return dst, err
		}
		i += n
	}
}

// appendCharsCR is appendChars for text that holds a CR.
func appendCharsCR(dst, raw []byte, pos int, cdata bool) ([]byte, error) {
	i := 0
	for i < len(raw) {
		c := raw[i]
		switch {
		case c == '\r':
			dst = append(dst, '\n')
			i++
			if i < len(raw) && raw[i] == '\n' {
				i++
			}
		case c == '&' && !cdata:
			var err error
			var n int
			dst, n, err = appendEntity(dst, raw[i:], pos+i)
			if err != nil {
				return dst, err
			}
			i += n
		default:
			// Copy the run up to the next byte that needs attention.
			j := i + 1
			for j < len(raw) && raw[j] != '\r' && (cdata || raw[j] != '&') {
				j++
			}
			dst = append(dst, raw[i:j]...)
			i = j
		}
	}
	return dst, nil
}

// appendEntity decodes the reference at the start of raw ("&…;") and returns
// how many bytes it took.
func appendEntity(dst, raw []byte, pos int) ([]byte, int, error) {
	semi := bytes.IndexByte(raw, ';')
	if semi < 0 {
		end := len(raw)
		if end > 12 {
			end = 12
		}
		return dst, 0, &syntaxError{pos: pos, msg: "invalid character entity " + string(raw[:end]) + " (no semicolon)"}
	}
	ref := raw[1:semi]
	if len(ref) > 0 && ref[0] == '#' {
		r, ok := charRef(ref[1:])
		if !ok {
			return dst, 0, &syntaxError{pos: pos, msg: "invalid character entity &" + string(ref) + ";"}
		}
		if !isInCharacterRange(r) {
			return dst, 0, &syntaxError{pos: pos, msg: "illegal character code " + charCode(r)}
		}
		return utf8.AppendRune(dst, r), semi + 1, nil
	}
	switch string(ref) {
	case "lt":
		return append(dst, '<'), semi + 1, nil
	case "gt":
		return append(dst, '>'), semi + 1, nil
	case "amp":
		return append(dst, '&'), semi + 1, nil
	case "apos":
		return append(dst, '\''), semi + 1, nil
	case "quot":
		return append(dst, '"'), semi + 1, nil
	}
	if v, ok := xml.HTMLEntity[string(ref)]; ok && validEntityName(ref) {
		return append(dst, v...), semi + 1, nil
	}
	return dst, 0, &syntaxError{pos: pos, msg: "invalid character entity &" + string(ref) +
		"; (only XML's five, numeric and HTML entities are known; entities declared in a DTD are never expanded)"}
}

func validEntityName(b []byte) bool {
	for _, c := range b {
		if !nameByte[c] {
			return false
		}
	}
	return len(b) > 0
}

// charRef parses the digits of "&#233;" or "&#xE9;" as encoding/xml does:
// decimal, or hex after a lower-case x; a value above U+10FFFF is invalid and a
// surrogate becomes U+FFFD.
func charRef(b []byte) (rune, bool) {
	base := uint64(10)
	if len(b) > 0 && b[0] == 'x' {
		base, b = 16, b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		var d uint64
		switch {
		case '0' <= c && c <= '9':
			d = uint64(c - '0')
		case base == 16 && 'a' <= c && c <= 'f':
			d = uint64(c-'a') + 10
		case base == 16 && 'A' <= c && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, false
		}
		n = n*base + d
		if n > unicode.MaxRune {
			return 0, false
		}
	}
	r := rune(n)
	if !utf8.ValidRune(r) {
		r = utf8.RuneError
	}
	return r, true
}

func charCode(r rune) string { return fmt.Sprintf("%U", r) }

// isInCharacterRange reports whether r may appear in an XML 1.0 document.
func isInCharacterRange(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// checkChars finds the first byte sequence in b that XML does not allow: invalid
// UTF-8, a control character other than tab, LF and CR, a surrogate, U+FFFE or
// U+FFFF. It returns -1 when there is none. ASCII text is checked eight bytes
// at a time, other text without decoding runes.
func checkChars(b []byte) (int, string) {
	const (
		lo = 0x0101010101010101
		hi = 0x8080808080808080
	)
	// special has the high bit set in each byte that is >= 0x80 or < 0x20
	// (w - 0x20 borrows into the high bit of a byte below 0x20).
	special := func(w uint64) uint64 { return (w | (w-0x20*lo)&^w) & hi }
	n := len(b)
	i := 0
	for i < n {
		c := b[i]
		if c < 0x80 {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return i, "illegal character code " + charCode(rune(c))
			}
			i++
			// After one ASCII byte, skip ASCII text a word, then four words, at a time.
			if i+8 < n && special(binary.LittleEndian.Uint64(b[i:])) == 0 {
				i += 8
				for i+32 < n && special(binary.LittleEndian.Uint64(b[i:])|binary.LittleEndian.Uint64(b[i+8:])|
					binary.LittleEndian.Uint64(b[i+16:])|binary.LittleEndian.Uint64(b[i+24:])) == 0 {
					i += 32
				}
			}
			continue
		}
		switch {
		case c < 0xC2:
			return i, badUTF8
		case c < 0xE0:
			if i+1 >= n || b[i+1]&0xC0 != 0x80 {
				return i, badUTF8
			}
			i += 2
		case c < 0xF0:
			if i+2 >= n || b[i+1]&0xC0 != 0x80 || b[i+2]&0xC0 != 0x80 ||
				c == 0xE0 && b[i+1] < 0xA0 || c == 0xED && b[i+1] >= 0xA0 {
				return i, badUTF8
			}
			if c == 0xEF && b[i+1] == 0xBF && b[i+2] >= 0xBE {
				return i, "illegal character code " + charCode(rune(0xFFC0|rune(b[i+2]&0x3F)))
			}
			i += 3
		case c < 0xF5:
			if i+3 >= n || b[i+1]&0xC0 != 0x80 || b[i+2]&0xC0 != 0x80 || b[i+3]&0xC0 != 0x80 ||
				c == 0xF0 && b[i+1] < 0x90 || c == 0xF4 && b[i+1] >= 0x90 {
				return i, badUTF8
			}
			i += 4
		default:
			return i, badUTF8
		}
	}
	return -1, ""
}

const badUTF8 = "invalid UTF-8 (declare the feed's encoding in its XML declaration)"
