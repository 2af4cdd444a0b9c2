package feed

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The delimited reader's defences against hostile or broken input: a row
// longer than maxRowBytes, a value longer than MaxValueBytes, a row that is
// not UTF-8 text, and ids quoted in messages.

// capped reports whether the window is at its size cap and full of one row
// that has not ended: split then reads the window as if the input ended there.
func (d *delimitedReader) capped() bool {
	return !d.eof && d.pos == 0 && d.end == len(d.buf) && len(d.buf) >= maxRowBytes
}

// The states of skipOverlong's scan of a row, as splitQuoted reads one.
const (
	delimFieldStart = iota // at the start of a field
	delimRaw               // in an unquoted field: it ends at a separator or line end
	delimQuoted            // in a quoted field: it ends at a lone quote
	delimQuote             // just after a quote in a quoted field
	delimQuoteCR           // after a quoted field and a CR
)

// skipOverlong consumes a row that does not end within maxRowBytes and
// reports it as one skipped row, with its line and, when its column comes
// early enough to be read, its id. d.fields holds the n fields split reads
// from the full window, the last one cut by the window's end. The rest of the
// row is read through the window, never held: memory stays at the window's
// cap however long the row.
//
// The row ends at the first line end outside a quoted field, quotes read as
// splitQuoted reads them, with one simplification: a quoted field whose
// closing quote is followed by neither a separator nor a line end reads on
// raw from that quote (splitQuoted re-reads it raw from its start, which
// needs bytes long gone). A quoted field still open at the end of the input
// is a truncated feed, in a TSV too (the rows it would read raw as are gone).
//
// The header row cannot be skipped: a header longer than maxRowBytes is a
// *ParseError.
func (d *delimitedReader) skipOverlong(start, n int) error {
	if len(d.cols) == 0 {
		return &ParseError{Source: d.source, Line: start, Err: fmt.Errorf("the header row is longer than %d MiB: is this a delimited feed?", maxRowBytes>>20)}
	}
	id := d.idOf(d.fields[:max(n, 0)])
	if n > 0 && d.extra.n == 0 && d.idCol == n-1 && id != "" && !strings.HasSuffix(id, "…") {
		id += "…" // cut by the window's end
	}
	data := d.buf[d.pos:d.end]
	st := delimRaw
	switch {
	case d.openQuote:
		st = delimQuoted
	case n > 0:
		last, e := d.fields[n-1], d.end
		if d.extra.n > 0 {
			last = d.extra.tail
		}
		switch {
		case data[len(data)-1] == d.sep:
			st = delimFieldStart
		case last.quoted && last.end == e-1:
			st = delimQuote
		case last.quoted && last.end == e-2 && d.buf[e-1] == '\r':
			st = delimQuoteCR
		}
	}
	size := int64(len(data))
	d.line += bytes.Count(data, []byte{'\n'})
	d.pos = d.end
	for {
		if d.pos >= d.end {
			if d.eof {
				if st == delimQuoted {
					return &ParseError{Source: d.source, Line: start, ItemID: id, Err: fmt.Errorf("the feed ends inside a quoted field of this row, which is longer than %d MiB (truncated download, or a missing closing quote?)", maxRowBytes>>20)}
				}
				break
			}
			if err := d.fill(); err != nil {
				return err
			}
			continue
		}
		data := d.buf[d.pos:d.end]
		used, done := delimSkip(data, &st, d.sep)
		d.line += bytes.Count(data[:used], []byte{'\n'})
		d.pos += used
		size += int64(used)
		if done {
			break
		}
	}
	d.problems = append(d.problems, Problem{Line: start, ItemID: id, Kind: ProblemSkippedItem,
		Msg: fmt.Sprintf("row skipped: it is %d bytes long, above the %d MiB a row may take", size, maxRowBytes>>20)})
	return nil
}

// delimSkip scans data from state *st for the end of a row. It returns the
// bytes consumed, the line end included, and whether the row ended.
func delimSkip(data []byte, st *int, sep byte) (int, bool) {
	i := 0
	for i < len(data) {
		switch *st {
		case delimFieldStart:
			if data[i] == '"' {
				*st = delimQuoted
				i++
			} else {
				*st = delimRaw
			}
		case delimRaw:
			// Up to the line end, a separator followed by a quote opens a
			// quoted field; any other separator starts a raw one.
			nl := bytes.IndexByte(data[i:], '\n')
			end := len(data)
			if nl >= 0 {
				end = i + nl
			}
			if k := bytes.Index(data[i:end], []byte{sep, '"'}); k >= 0 {
				*st = delimQuoted
				i += k + 2
				continue
			}
			if nl >= 0 {
				return end + 1, true
			}
			if data[len(data)-1] == sep {
				*st = delimFieldStart // the next field starts in the next data
			}
			return len(data), false
		case delimQuoted:
			k := bytes.IndexByte(data[i:], '"')
			if k < 0 {
				return len(data), false
			}
			i += k + 1
			*st = delimQuote
		case delimQuote:
			switch data[i] {
			case '"':
				*st = delimQuoted
				i++
			case sep:
				*st = delimFieldStart
				i++
			case '\n':
				return i + 1, true
			case '\r':
				*st = delimQuoteCR
				i++
			default:
				*st = delimRaw
			}
		case delimQuoteCR:
			if data[i] == '\n' {
				return i + 1, true
			}
			*st = delimRaw
		}
	}
	return len(data), false
}

// checkRow reports whether the kept values of a row are text: valid UTF-8
// without C0 control characters other than tab, LF and CR. A row that is
// not is skipped with a problem naming the first bad byte's line, column
// (in bytes, as ParseError's) and attribute. Bytes in ignored columns and in
// white space trimmed off a value do not count. The whole row is checked at
// once first, eight bytes at a time (delimClean); only a row it doubts is
// looked at value by value.
func (d *delimitedReader) checkRow(line int, fields []span) bool {
	if delimClean(d.buf[d.rowStart:d.rowEnd]) {
		return true
	}
	for i, f := range fields {
		if d.cols[i].name == "" {
			continue
		}
		raw := d.buf[f.start:f.end]
		v := trimSpace(raw)
		k := delimBadByte(v)
		if k < 0 {
			continue
		}
		p := f.start + len(raw) - len(trimLeftSpace(raw)) + k
		l, c := d.position(line, d.rowStart, p)
		msg := fmt.Sprintf("row skipped: %s in %s at line %d, column %d", delimDefect(d.buf[p:f.end]), delimClip(d.cols[i].name), l, c)
		if d.buf[p] >= utf8.RuneSelf {
			msg += "; " + delimNotUTF8
		}
		d.problems = append(d.problems, Problem{Line: line, ItemID: d.idOf(fields), Kind: ProblemSkippedItem, Msg: msg})
		return false
	}
	return true
}

// position returns the line and the 1-based byte column of buf[p] in the
// row that starts at buf[rowStart], on line start.
func (d *delimitedReader) position(start, rowStart, p int) (line, col int) {
	before := d.buf[rowStart:p]
	line = start + bytes.Count(before, []byte{'\n'})
	if k := bytes.LastIndexByte(before, '\n'); k >= 0 {
		return line, len(before) - k
	}
	return line, len(before) + 1
}

// idOf returns the id of a row for a message: trimmed, quotes undone, cut to
// delimMaxQuoted characters. It converts no more of the value than it quotes.
func (d *delimitedReader) idOf(fields []span) string {
	if d.idCol < 0 || d.idCol >= len(fields) {
		return ""
	}
	f := fields[d.idCol]
	v := trimSpace(d.buf[f.start:f.end])
	const max = (delimMaxQuoted + 1) * utf8.UTFMax // over delimMaxQuoted characters, whatever they are
	cut := len(v) > max
	if cut {
		v = v[:max]
	}
	s := string(v)
	if f.escaped {
		s = strings.ReplaceAll(s, `""`, `"`)
	}
	s = delimClip(s)
	if cut && !strings.HasSuffix(s, "…") {
		s += "…"
	}
	return s
}

// cutValue reports that the value of field i of a row, rawLen bytes in the
// feed, was cut to n bytes, at most MaxValueBytes on a character boundary.
// The item is kept, as the XML reader keeps it.
func (d *delimitedReader) cutValue(line int, fields []span, i, rawLen, n int) {
	d.problems = append(d.problems, Problem{Line: line, ItemID: d.idOf(fields), Kind: ProblemOther,
		Msg: fmt.Sprintf("%s is %d bytes long, above the %d MiB a value may take: cut to %d bytes", delimClip(d.cols[i].name), rawLen, MaxValueBytes>>20, n)})
}

// maxCellRepeats caps the values one cell of a repeatable column gives
// (additional_image_link, shipping…): Google takes at most a few dozen, and
// a cell of a million commas must not cost a million attributes.
const maxCellRepeats = 1000

// maxHeaderColumns caps the columns of a header: a real feed has dozens, a few
// hundred at most. A header row of millions of separators would otherwise
// cost a column, and each row a span, for every one.
const maxHeaderColumns = 10_000

// rowExtra counts the fields of a row past the spans kept for it (see
// spanLimit).
type rowExtra struct {
	n    int  // fields not kept
	last int  // 1-based index among them of the last one that is not blank; 0 when all are
	tail span // the last of them, when splitQuoted counted it
}

// spanLimit is how many fields of a row are kept as spans: the header's
// count and one more, past which a row is either skipped for its field count
// or has only blank fields left; for the header row itself, maxHeaderColumns and
// one more. Memory for a row's fields stays bounded however many separators
// it holds.
func (d *delimitedReader) spanLimit() int {
	if len(d.cols) == 0 {
		return maxHeaderColumns + 1
	}
	return len(d.cols) + 1
}

// keep appends s to out while out holds fewer than lim spans, and past that
// counts it in ex.
func (d *delimitedReader) keep(out []span, s span, lim int, ex *rowExtra) []span {
	if len(out) < lim {
		return append(out, s)
	}
	ex.n++
	ex.tail = s
	if len(bytes.TrimSpace(d.buf[s.start:s.end])) > 0 {
		ex.last = ex.n
	}
	return out
}

// countPlain counts the fields of rest, split on sep with quotes as ordinary
// bytes, without a call per field: rest may be megabytes of separators.
func countPlain(rest []byte, sep byte) rowExtra {
	ex := rowExtra{n: bytes.Count(rest, []byte{sep}) + 1}
	i := len(rest)
	for i > 0 && (rest[i-1] == sep || asciiSpace(rest[i-1])) {
		i--
	}
	if i > 0 && rest[i-1] >= utf8.RuneSelf {
		i = len(bytes.TrimRightFunc(rest[:i], func(r rune) bool { return r == rune(sep) || unicode.IsSpace(r) }))
	}
	if i > 0 {
		ex.last = bytes.Count(rest[:i], []byte{sep}) + 1
	}
	return ex
}

// quotedPastCap decides what a quoted field still open when the window
// reaches maxRowBytes is: data is the window from the row's start, and holds
// no lone quote after the field's opening quote. When every complete line of
// the window, split with quotes as ordinary bytes, has the header's number of
// fields (as unclosedQuote decides for a TSV at the end of the input), the
// quote is a stray one and the field is read raw, as before. Otherwise it is
// a quoted value longer than the window: the row is longer than maxRowBytes
// and skipOverlong skips it, quotes and all, rather than reading the value's
// lines as rows of their own.
func (d *delimitedReader) quotedPastCap(data []byte) bool {
	if len(d.cols) == 0 {
		return false // the header: too long either way
	}
	k := bytes.LastIndexByte(data, '\n')
	return k >= 0 && !rawRowsFit(data[:k+1], d.sep, len(d.cols))
}
