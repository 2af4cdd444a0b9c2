package feed

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// The delimited reader's character checks: a row whose kept values hold
// invalid UTF-8 or a C0 control character other than tab, LF and CR is
// skipped with a problem, as the XML reader skips such an item. (XML also
// refuses U+FFFE and U+FFFF; a delimited file may hold them, valid UTF-8.)

const (
	delimLo = 0x0101010101010101
	delimHi = 0x8080808080808080
)

// delimBadByte returns the index of the first byte of b that starts invalid
// UTF-8 or is a C0 control character other than tab, LF and CR, or -1 when
// there is none. It jumps a word at a time from one byte that needs a look
// (a separator, a character of another script) to the next, and decodes
// non-ASCII characters one by one: the exact check, for what delimClean
// doubts and for header names.
func delimBadByte(b []byte) int {
	n := len(b)
	i := 0
	for i < n {
		if i+8 <= n {
			m := delimSpecial(binary.LittleEndian.Uint64(b[i:]))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
		} else if c := b[i]; c >= 0x20 && c < 0x80 {
			i++
			continue
		}
		c := b[i]
		if c < 0x80 {
			if c != '\t' && c != '\n' && c != '\r' {
				return i
			}
			i++
			continue
		}
		// A run of non-ASCII characters, as a word of another script is.
		for {
			k := delimRune(b[i:])
			if k == 0 {
				return i
			}
			i += k
			if i >= n || b[i] < 0x80 {
				break
			}
		}
	}
	return -1
}

// delimSpecial has the high bit set in the first byte of w (in memory order)
// that is >= 0x80 or < 0x20, and possibly in bytes after it (w - 0x20 borrows
// into the high bit of a byte below 0x20, and the borrow may flag the next
// one); zero when there is none.
func delimSpecial(w uint64) uint64 {
	return (w | (w-0x20*delimLo)&^w) & delimHi
}

// delimRune returns the length of the valid UTF-8 sequence that starts b,
// whose first byte is >= 0x80, or 0 when it is not valid.
func delimRune(b []byte) int {
	n := len(b)
	switch c := b[0]; {
	case c < 0xC2:
	case c < 0xE0:
		if n >= 2 && b[1]&0xC0 == 0x80 {
			return 2
		}
	case c < 0xF0:
		if n >= 3 && b[1]&0xC0 == 0x80 && b[2]&0xC0 == 0x80 &&
			(c != 0xE0 || b[1] >= 0xA0) && (c != 0xED || b[1] < 0xA0) {
			return 3
		}
	case c < 0xF5:
		if n >= 4 && b[1]&0xC0 == 0x80 && b[2]&0xC0 == 0x80 && b[3]&0xC0 == 0x80 &&
			(c != 0xF0 || b[1] >= 0x90) && (c != 0xF4 || b[1] < 0x90) {
			return 4
		}
	}
	return 0
}

// delimDefect describes the bad byte at b[0] (see delimBadByte).
func delimDefect(b []byte) string {
	c := b[0]
	if c < 0x20 {
		return fmt.Sprintf("control character %U", rune(c))
	}
	hint := ""
	w50, w52 := charmap.Windows1250.DecodeByte(c), charmap.Windows1252.DecodeByte(c)
	switch {
	case w50 == w52 && delimPrintable(w50):
		hint = fmt.Sprintf(": %q in windows-1250 and windows-1252", w50)
	case delimPrintable(w50) && delimPrintable(w52):
		hint = fmt.Sprintf(": %q in windows-1250, %q in windows-1252", w50, w52)
	}
	return fmt.Sprintf("invalid UTF-8 (byte 0x%02X%s)", c, hint)
}

func delimPrintable(r rune) bool { return r != utf8.RuneError && unicode.IsPrint(r) }

// delimNotUTF8 ends the message of a row skipped for invalid UTF-8: the whole
// file is most likely in another encoding.
const delimNotUTF8 = "the file is not UTF-8 (windows-1250? ISO-8859-1?): save it as UTF-8"

// delimMaxQuoted caps, in characters, an id or value quoted in a problem or
// error message: a hostile feed must not turn one problem into a log line of
// megabytes.
const delimMaxQuoted = 200

// delimClip returns s for a message: cut after delimMaxQuoted characters (on
// a character boundary, with "…"), invalid UTF-8 replaced by U+FFFD.
func delimClip(s string) string {
	if len(s) <= delimMaxQuoted && utf8.ValidString(s) {
		return s
	}
	n := 0
	for i := range s {
		if n == delimMaxQuoted {
			return strings.ToValidUTF8(s[:i], "\uFFFD") + "…"
		}
		n++
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// delimCut returns the length at which to cut the valid UTF-8 value b so that
// it holds at most max bytes, on a character boundary.
func delimCut(b []byte, max int) int {
	if len(b) <= max {
		return len(b)
	}
	n := max
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return n
}

// delimClean reports whether b is certainly text that delimBadByte finds
// nothing in: valid UTF-8 without C0 control characters other than tab, LF
// and CR. It looks at eight bytes at a time, non-ASCII ones too (which
// utf8.Valid and delimBadByte decode a character at a time: delimClean is
// about 1.5 times as fast on text of several scripts), and may say no where
// nothing is wrong: on a four-byte character or a lead byte E0
// (U+0800–U+0FFF); delimBadByte then decides.
//
// In each word, the high bit of a byte's mask says: h, the byte is >= 0x80;
// b6, b5, b4, its bit 6, 5 or 4 is set (the word shifted left one, two or
// three bits). A continuation byte is h&^b6 (10xxxxxx), a two-byte lead
// h&b6&^b5 (110xxxxx), a three-byte lead h&b6&b5&^b4 (1110xxxx). The word is
// valid when its continuation bytes are exactly those its leads (and the
// last word's, carried over) expect.
func delimClean(b []byte) bool {
	const (
		lo  = delimLo
		hi  = delimHi
		x7f = 0x7f * lo
	)
	var carry uint64   // continuation bytes the last word's leads expect in this one
	var carryED uint64 // the last word ended with a lead ED: this one's first byte is below A0
	for {
		var w uint64
		switch {
		case len(b) >= 8:
			w = binary.LittleEndian.Uint64(b)
			b = b[8:]
		case len(b) > 0:
			tail := [8]byte{' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '}
			copy(tail[:], b)
			w = binary.LittleEndian.Uint64(tail[:])
			b = nil
		default:
			return carry == 0
		}
		h := w & hi
		// Bytes below 0x20: an ASCII byte's low seven bits plus 0x60 stay
		// below 0x80 exactly then, and never carry into the next byte.
		if c := ^(w&x7f + 0x60*lo) & ^w & hi; c != 0 {
			if c &^= delimEq(w, '\t'); c != 0 && c&^(delimEq(w, '\n')|delimEq(w, '\r')) != 0 {
				return false
			}
		}
		if h == 0 {
			if carry != 0 {
				return false
			}
			carryED = 0
			// After ASCII, more ASCII is likely: plain ASCII text, without
			// control characters, is skipped thirty-two bytes at a time.
			for len(b) >= 32 && delimSpecial(binary.LittleEndian.Uint64(b))|delimSpecial(binary.LittleEndian.Uint64(b[8:]))|
				delimSpecial(binary.LittleEndian.Uint64(b[16:]))|delimSpecial(binary.LittleEndian.Uint64(b[24:])) == 0 {
				b = b[32:]
			}
			continue
		}
		b6, b5, b4 := (w<<1)&hi, (w<<2)&hi, (w<<3)&hi
		lead := h & b6
		l2 := lead &^ b5
		l3 := lead & b5 &^ b4
		nib := w & (0x0f * lo)
		ed := l3 &^ (((nib ^ 0x0d*lo) + x7f) & hi)
		if lead&b5&b4| // F0–FF: four-byte characters, invalid bytes
			(carryED|ed<<8)&b5| // ED then A0 or more: a surrogate
			l2&^((w&(0x1e*lo)+x7f)&hi)| // C0, C1: overlong forms
			l3&^((nib+x7f)&hi)| // E0: left to delimBadByte
			((l2<<8|l3<<8|l3<<16|carry)^(h&^b6)) != 0 { // continuation bytes where expected, only there
			return false
		}
		carry = l2>>56 | l3>>56 | l3>>48
		carryED = ed >> 56
	}
}

// delimEq has the high bit set in each byte of w that equals c, and no other.
func delimEq(w uint64, c byte) uint64 {
	y := w ^ (delimLo * uint64(c))
	return ^((y&(0x7f*delimLo) + 0x7f*delimLo) | y) & delimHi
}
