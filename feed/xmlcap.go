package feed

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// What one oversized node can cost the XML reader, case by case. Memory must
// not grow with the length of a node: the scanner's buffer, the arena and the
// scratch buffers stay within a few MiB whatever the feed holds.
//
//   - A value (an element's text, CDATA, the text of mixed content with its
//     children's text and line breaks, a sub-attribute, an Atom link's href)
//     keeps its first MaxValueBytes bytes, cut on a character boundary. The
//     rest still streams through the scanner in pieces, is checked (entity
//     references) and counted, never held. The item is kept, with a
//     ProblemOther that gives the value's full length. Only the trimmed value
//     counts: white space before or after it is not held against the cap.
//   - The text and CDATA of skipped elements (other vocabularies, channel
//     level) stream through the same way and are dropped.
//   - Comments and processing instructions are skipped as they stream, however
//     long (the XML declaration excepted).
//   - A start or end tag (its name and attributes), the XML declaration and a
//     DOCTYPE declaration must be whole in the scanner's buffer: one longer
//     than xmlMaxMarkup (2 MiB) stops the feed with a ParseError at the line
//     where it begins; so does a start tag of more than xmlMaxAttrs (65,536)
//     attributes. An attribute value between MaxValueBytes and that is read,
//     and cut like any value where it becomes one (an Atom href).
//   - Problems and errors quote an item's id cut to delimMaxQuoted characters
//     and an element's name to 64 bytes, as the delimited reader quotes them.
//
// Not bounded per node, and so not here: the number of elements an item holds
// (and so its size: many values of up to MaxValueBytes each) and how deep
// elements nest.

// valueCap follows the value being read into the arena against MaxValueBytes.
type valueCap struct {
	start int // arena offset where the value starts
	// over: the value filled MaxValueBytes; what follows is counted, not kept.
	over bool
	// extra counts the decoded bytes after the kept part; tail is extra up to
	// and including its last byte that is not white space, so that tail > 0
	// means the trimmed value is longer than the cap.
	extra, tail int64
	name        string // the element, once over: for the problem
}

// capStart begins a value at arena offset start.
func (x *xmlReader) capStart(start int) {
	x.vc = valueCap{start: start}
}

// appendValue appends the current text or CDATA token, decoded, to the value.
// up is how many levels below the innermost open element the value's element
// is; sub says it is a sub-attribute (the problem then names its parent too).
func (x *xmlReader) appendValue(k tokKind, up int, sub bool) error {
	text := x.s.text
	if !x.vc.over && len(x.arena)-x.vc.start+len(text) <= MaxValueBytes {
		// Decoding never lengthens text, so this fits: the common case.
		var err error
		x.arena, err = appendChars(x.arena, text, x.s.tokPos, k == tokCDATA)
		return err
	}
	return x.appendCapped(text, x.s.tokPos, k == tokCDATA, up, sub)
}

// appendBreak appends the line break that a <br> or <p> stands for.
func (x *xmlReader) appendBreak(up int) {
	vc := &x.vc
	if !vc.over && (len(x.arena)-vc.start < MaxValueBytes || x.trimLeadingBlanks()) {
		x.arena = append(x.arena, '\n')
		return
	}
	if !vc.over {
		x.overflow(up, false)
	}
	vc.extra++
}

// appendCapped appends raw character data, decoded, to the value up to
// MaxValueBytes, and counts the rest. A piece is cut where no entity
// reference and no CR LF pair is split; decoding never lengthens text, so a
// piece of at most the room left fits.
func (x *xmlReader) appendCapped(raw []byte, pos int, cdata bool, up int, sub bool) error {
	vc := &x.vc
	var err error
	for len(raw) > 0 && !vc.over {
		room := MaxValueBytes - (len(x.arena) - vc.start)
		if len(raw) <= room {
			x.arena, err = appendChars(x.arena, raw, pos, cdata)
			return err
		}
		if room > 0 {
			if c := safeCut(raw, room, cdata); c > 0 {
				if x.arena, err = appendChars(x.arena, raw[:c], pos, cdata); err != nil {
					return err
				}
				raw, pos = raw[c:], pos+c
				continue
			}
			// An entity reference or a CR LF pair straddles the end of the
			// room: decode it alone and keep it if it fits.
			var unit [8]byte
			d, n, err := decodeUnit(unit[:0], raw, pos, cdata)
			if err != nil {
				return err
			}
			if len(d) <= room {
				x.arena = append(x.arena, d...)
				raw, pos = raw[n:], pos+n
				continue
			}
		}
		if x.trimLeadingBlanks() {
			continue
		}
		x.overflow(up, sub)
	}
	if len(raw) == 0 {
		return nil
	}
	// Over the cap: count, and check, without keeping.
	d := raw
	if !cdata && bytes.IndexByte(raw, '&') >= 0 || bytes.IndexByte(raw, '\r') >= 0 {
		if x.vbuf, err = appendChars(x.vbuf[:0], raw, pos, cdata); err != nil {
			return err
		}
		d = x.vbuf
	}
	i := len(d)
	for i > 0 && asciiSpaceByte(d[i-1]) {
		i--
	}
	if i > 0 {
		vc.tail = vc.extra + int64(i)
	}
	vc.extra += int64(len(d))
	return nil
}

// overflow notes that the value is full, with the name of its element.
func (x *xmlReader) overflow(up int, sub bool) {
	x.vc.over = true
	x.vc.name = x.s.openName(up)
	if sub {
		x.vc.name += " in " + x.s.openName(up+1)
	}
}

// trimLeadingBlanks drops the white space the value starts with (trimming
// would drop it anyway) and reports whether there was any.
func (x *xmlReader) trimLeadingBlanks() bool {
	v := x.arena[x.vc.start:]
	i := 0
	for i < len(v) && asciiSpaceByte(v[i]) {
		i++
	}
	if i == 0 {
		return false
	}
	n := copy(v, v[i:])
	x.arena = x.arena[:x.vc.start+n]
	return true
}

// capEnd ends the value. When it was longer than MaxValueBytes it cuts it on
// a character boundary and returns the problem's message, else "".
func (x *xmlReader) capEnd() string {
	vc := &x.vc
	if !vc.over || vc.tail == 0 {
		return "" // nothing, or only white space, past the cap
	}
	v := x.arena[vc.start:]
	total := int64(len(v)) + vc.tail
	n := utf8Cut(v)
	x.arena = x.arena[:vc.start+n]
	return cutMessage(vc.name, total, n)
}

// capHref cuts an Atom link's href, the value at arena[off:off+n] (trimmed),
// to MaxValueBytes and returns the problem's message, or "" when it fits.
func (x *xmlReader) capHref(off, n int, name string) (int, string) {
	if n <= MaxValueBytes {
		return n, ""
	}
	c := utf8Cut(x.arena[off : off+MaxValueBytes])
	x.arena = x.arena[:off+c]
	return c, cutMessage(name+" href", int64(n), c)
}

// cutMessage is the problem of a value of total bytes cut to n, worded as the
// delimited reader words it.
func cutMessage(name string, total int64, n int) string {
	return fmt.Sprintf("%s is %d bytes long, above the %d MiB a value may take: cut to %d bytes", name, total, MaxValueBytes>>20, n)
}

// itemIDFor is an item's id as problems and errors quote it: at most
// delimMaxQuoted characters, as the delimited reader quotes ids, so that a
// hostile id does not make each message as long as a value.
func itemIDFor(id []byte) string {
	return delimClip(string(id[:min(len(id), (delimMaxQuoted+1)*utf8.UTFMax)]))
}

// safeCut returns c, or less, so that raw[:c] splits no entity reference and
// no CR LF pair.
func safeCut(raw []byte, c int, cdata bool) int {
	if !cdata {
		if j := bytes.LastIndexByte(raw[:c], '&'); j >= 0 && bytes.IndexByte(raw[j:c], ';') < 0 {
			c = j
		}
	}
	if c > 0 && raw[c-1] == '\r' {
		c--
	}
	return c
}

// decodeUnit decodes the entity reference or the CR (LF) raw starts with,
// appending it to dst, and returns how many bytes of raw it took.
func decodeUnit(dst, raw []byte, pos int, cdata bool) ([]byte, int, error) {
	switch {
	case raw[0] == '\r':
		if len(raw) > 1 && raw[1] == '\n' {
			return append(dst, '\n'), 2, nil
		}
		return append(dst, '\n'), 1, nil
	case raw[0] == '&' && !cdata:
		return appendEntity(dst, raw, pos)
	}
	return append(dst, raw[0]), 1, nil
}

// utf8Cut returns the length of the longest prefix of b that does not end
// inside a character: b less an incomplete sequence at its end.
func utf8Cut(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return i
			}
			break
		}
	}
	return len(b)
}

// openName returns the qualified name of the open element up levels below the
// innermost one, for a message (see shortName).
func (s *xmlScanner) openName(up int) string {
	n := len(s.nameEnds) - 1 - up
	if n < 0 {
		return ""
	}
	start := 0
	if n > 0 {
		start = s.nameEnds[n-1]
	}
	return shortName(s.names[start:s.nameEnds[n]])
}
