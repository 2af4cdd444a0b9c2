package feed

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// Sizes of the delimited reader's window over the input. A small feed gets a
// small window; a large one a window of a few MiB: fewer reads, and a live
// heap large enough that the garbage collector does not run every few hundred
// rows (measured: 4 MiB reads a 1.3 GB feed 20-40% faster than 1 MiB, peak
// RSS still about 35 MB). The window grows only for a row longer than itself,
// up to maxRowBytes.
const (
	firstBufSize     = 64 << 10
	delimitedBufSize = 4 << 20
	maxRowBytes      = 64 << 20
)

// subAttrNames is the default order of the parts of a sub-attribute value in
// text form (US:CA:Ground:5.00 USD) when the header does not name them
// (shipping(country:price)).
var subAttrNames = map[string][]string{
	"shipping":                {"country", "region", "service", "price"},
	"tax":                     {"country", "region", "rate", "tax_ship"},
	"installment":             {"months", "amount"},
	"product_detail":          {"section_name", "attribute_name", "attribute_value"},
	"loyalty_points":          {"name", "points", "ratio"},
	"subscription_cost":       {"period", "period_length", "amount"},
	"free_shipping_threshold": {"country", "price_threshold"},
	"certification":           {"certification_authority", "certification_name", "certification_code"},
}

// repeatable lists the attributes that may appear more than once per item. In
// text form their values are comma-separated in one cell, or given in repeated
// header columns.
var repeatable = map[string]bool{
	"additional_image_link":         true,
	"lifestyle_image_link":          true,
	"product_type":                  true,
	"product_highlight":             true,
	"product_detail":                true,
	"promotion_id":                  true,
	"excluded_destination":          true,
	"included_destination":          true,
	"shopping_ads_excluded_country": true,
	"shipping":                      true,
	"tax":                           true,
	"free_shipping_threshold":       true,
	"certification":                 true,
}

// IsRepeatable reports whether the named attribute may appear more than once
// in an item (additional_image_link, shipping…).
func IsRepeatable(name string) bool { return repeatable[name] }

// column is one header column.
type column struct {
	name   string   // normalised attribute name; "" for an ignored column
	sub    []string // part names for a sub-attribute value, nil otherwise
	repeat bool     // comma-separated repeats in one cell
}

// span is one field of a row: buf[start:end], raw or the inside of quotes.
type span struct {
	start, end int
	escaped    bool // quoted, with doubled quotes to undo
	quoted     bool
}

// delimitedReader reads tab-separated (Google's text format) and
// comma-separated (Meta catalog style) feeds. The first row names the attributes.
//
// It splits rows itself over a large window of the input: a row without
// quotes costs a few bytes.IndexByte calls, and every value of a row shares
// one string allocation. Quoting follows RFC 4180 (a quote opens a field only
// at its start, "" is a literal quote) with a lenient twist for real files: a
// quoted field whose closing quote is not followed by a separator or line end
// (36" flat top, "My Food Truck" transition) is read raw, quotes included.
// A quoted field still open at the end of the input is a truncated feed (see
// unclosedQuote), not a short row.
//
// Hostile or broken input costs bounded memory and yields short messages
// (delimited_limits.go): a row longer than maxRowBytes is skipped whole as
// one problem, read through the window and never held; a value longer than
// MaxValueBytes is cut, the item kept; a row keeps at most one span more than
// the header has columns, a header at most maxHeaderColumns; a repeatable cell
// gives at most maxCellRepeats values; ids and names quoted in problems are cut
// to delimMaxQuoted characters. The input is UTF-8, or UTF-16 or a declared
// charset transcoded (delimitedInput); a row whose kept values hold invalid
// UTF-8 or a control character is skipped with a problem (checkRow), as the
// XML reader skips such an item.
type delimitedReader struct {
	r      io.Reader
	source string
	format Format
	sep    byte

	buf      []byte
	pos, end int // unread bytes are buf[pos:end]
	eof      bool
	filled   bool  // the window was filled once: a refill makes it full size
	rerr     error // a failed read, reported when the window runs dry
	line     int   // 1-based line number of buf[pos]

	cols     []column
	idCol    int
	problems []Problem
	done     bool

	rowStart, rowEnd int      // the last row read by nextRecord: buf[rowStart:rowEnd]
	extra            rowExtra // the fields of the last row past d.fields (see spanLimit)
	openQuote        bool     // the last row was cut inside a quoted field at the window's cap

	fields  []span
	plain   []span
	scratch []byte
	offs    []int
	subPool []Attr // room for the current item's sub-attributes

	// Item hashes (see itemhash.go): the header row's bytes and the
	// separator, which the seed of each row's hash mixes in.
	headerKey []byte
	hash      bool
	hashSeed  uint64 // the caller's seed mixed with headerKey
}

func newDelimitedReader(r io.Reader, source string, format Format) (*delimitedReader, error) {
	return newDelimitedReaderCharset(r, source, format, "")
}

// newDelimitedReaderCharset is newDelimitedReader for a feed whose encoding
// the caller declares (see delimitedInput); "" reads UTF-8 and UTF-16 with a
// byte order mark.
func newDelimitedReaderCharset(r io.Reader, source string, format Format, charset string) (*delimitedReader, error) {
	r, err := delimitedInput(r, charset)
	if err != nil {
		return nil, &ParseError{Source: source, Err: err}
	}
	d := &delimitedReader{r: r, source: source, format: format, buf: make([]byte, firstBufSize), line: 1, idCol: -1}
	if err := d.fill(); err != nil {
		return nil, err
	}
	if bytes.HasPrefix(d.buf[d.pos:d.end], utf8BOM) {
		d.pos += 3
	}
	d.sep = d.detectSep()
	if d.sep == '\t' {
		d.format = FormatTSV
	} else {
		d.format = FormatCSV
	}
	for {
		n, startLine, err := d.nextRecord(false)
		if err != nil {
			if err == io.EOF {
				return nil, &ParseError{Source: source, Err: errors.New("the feed is empty: no header row")}
			}
			return nil, err
		}
		if n == 0 {
			continue
		}
		if n > maxHeaderColumns {
			return nil, &ParseError{Source: source, Line: startLine, Err: fmt.Errorf("the header has more than %d columns: is this a delimited feed?", maxHeaderColumns)}
		}
		d.header(startLine)
		d.headerKey = append(append([]byte(nil), d.buf[d.rowStart:d.rowEnd]...), d.sep)
		return d, nil
	}
}

// detectSep picks the separator from the header line: a tab when it holds
// tabs and at least as many tabs as commas, a comma when it holds commas, and
// otherwise what the format says.
func (d *delimitedReader) detectSep() byte {
	data := d.buf[d.pos:d.end]
	data = bytes.TrimLeft(data, " \r\n")
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		data = data[:i]
	}
	tabs, commas := bytes.Count(data, []byte{'\t'}), bytes.Count(data, []byte{','})
	switch {
	case tabs > 0 && tabs >= commas:
		return '\t'
	case commas > 0:
		return ','
	case d.format == FormatCSV:
		return ','
	}
	return '\t'
}

// header reads the column names from d.fields.
func (d *delimitedReader) header(line int) {
	seen := make(map[string]int)
	for i, f := range d.fields {
		if k := delimBadByte(d.buf[f.start:f.end]); k >= 0 {
			// Not text: a name that no attribute has, and values nobody
			// could map. Its values are ignored.
			l, c := d.position(line, d.rowStart, f.start+k)
			d.problems = append(d.problems, Problem{Line: line, Msg: fmt.Sprintf("header column %d holds %s at line %d, column %d: its values are ignored", i+1, delimDefect(d.buf[f.start+k:f.end]), l, c)})
			d.cols = append(d.cols, column{})
			continue
		}
		raw := strings.TrimSpace(d.unquote(f))
		var parts []string
		if j := strings.IndexByte(raw, '('); j > 0 && strings.HasSuffix(raw, ")") {
			for _, p := range strings.Split(raw[j+1:len(raw)-1], ":") {
				parts = append(parts, NormalizeName(p))
			}
			raw = raw[:j]
		}
		name := NormalizeName(raw)
		c := column{name: name, repeat: repeatable[name], sub: parts}
		if c.sub == nil {
			c.sub = subAttrNames[name]
		}
		switch {
		case name == "":
			d.problems = append(d.problems, Problem{Line: line, Msg: fmt.Sprintf("header column %d has no name: its values are ignored", i+1)})
		default:
			if prev, ok := seen[name]; ok {
				if !c.repeat {
					d.problems = append(d.problems, Problem{Line: line, Kind: ProblemDuplicateHeader, Msg: fmt.Sprintf("duplicate header column %q (columns %d and %d): %s is not repeatable, both values are kept", delimClip(name), prev+1, i+1, delimClip(name))})
				}
			} else {
				seen[name] = i
			}
			if name == "id" && d.idCol < 0 {
				d.idCol = i
			}
		}
		d.cols = append(d.cols, c)
	}
}

// Columns returns the normalised attribute name of each header column.
func (d *delimitedReader) Columns() []string {
	out := make([]string, len(d.cols))
	for i, c := range d.cols {
		out[i] = c.name
	}
	return out
}

func (d *delimitedReader) Format() Format      { return d.format }
func (d *delimitedReader) Problems() []Problem { return d.problems }

// fill moves the unread bytes to the front of the window, grows it when it is
// full, and reads until it is full again or the input ends. It returns an
// error only for a failed read.
func (d *delimitedReader) fill() error {
	if d.eof {
		return nil
	}
	if d.rerr != nil {
		return &ParseError{Source: d.source, Line: d.line, Err: d.rerr}
	}
	if d.pos > 0 {
		d.end = copy(d.buf, d.buf[d.pos:d.end])
		d.pos = 0
	}
	if d.end == len(d.buf) || (d.filled && len(d.buf) < delimitedBufSize) {
		if len(d.buf) >= maxRowBytes {
			return &ParseError{Source: d.source, Line: d.line, Err: fmt.Errorf("a row is longer than %d MiB: is this a delimited feed?", maxRowBytes>>20)}
		}
		nb := make([]byte, max(2*len(d.buf), delimitedBufSize))
		copy(nb, d.buf[:d.end])
		d.buf = nb
	}
	d.filled = true
	for d.end < len(d.buf) {
		n, err := d.r.Read(d.buf[d.end:])
		d.end += n
		if err == io.EOF {
			d.eof = true
			return nil
		}
		if err != nil {
			// Reported once the rows read before it are used up.
			d.rerr = err
			return nil
		}
	}
	return nil
}

// nextRecord splits the next row into d.fields and consumes it. It returns
// the number of fields (0 for a blank line, -1 for a row longer than
// maxRowBytes, skipped with a problem by skipOverlong) and the line the row
// starts on, or io.EOF. With fit, a row with quotes whose quoted reading does not have the
// header's field count is re-read as a plain split of its first line when
// that fits (a TSV cell that merely starts with a quote).
func (d *delimitedReader) nextRecord(fit bool) (int, int, error) {
	for {
		if d.pos >= d.end {
			if d.eof {
				return 0, 0, io.EOF
			}
			if err := d.fill(); err != nil {
				return 0, 0, err
			}
			continue
		}
		startLine := d.line
		n, used, lines, ok, err := d.split(fit)
		if err != nil {
			return 0, 0, err
		}
		if !ok {
			if err := d.fill(); err != nil {
				return 0, 0, err
			}
			continue
		}
		if used == d.end-d.pos && d.capped() && (d.openQuote || d.buf[d.end-1] != '\n') {
			return -1, startLine, d.skipOverlong(startLine, n)
		}
		d.rowStart = d.pos
		d.pos += used
		d.rowEnd = d.pos
		d.line += lines
		return n, startLine, nil
	}
}

// split parses one row at buf[pos:end]. ok is false when more input is needed;
// err is a *ParseError for a feed that ends inside a quoted field.
func (d *delimitedReader) split(fit bool) (n, used, lines int, ok bool, err error) {
	data := d.buf[d.pos:d.end]
	atEOF := d.eof || d.capped()
	nl := bytes.IndexByte(data, '\n')
	if nl < 0 && !atEOF {
		return 0, 0, 0, false, nil
	}
	lineEnd, next := nl, nl+1
	if nl < 0 {
		lineEnd, next = len(data), len(data)
	}
	line := data[:lineEnd]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	d.extra, d.openQuote = rowExtra{}, false
	if len(bytes.TrimSpace(line)) == 0 {
		d.fields = d.fields[:0]
		return 0, next, 1, true, nil
	}
	if bytes.IndexByte(line, '"') < 0 {
		d.fields, d.extra = d.splitPlain(d.fields[:0], line)
		return len(d.fields), next, 1, true, nil
	}
	fields, used, ok, err := d.splitQuoted(d.fields[:0], data, atEOF)
	d.fields = fields
	if err != nil || !ok {
		return 0, 0, 0, false, err
	}
	if fit && len(fields) != len(d.cols) {
		plain, _ := d.splitPlain(d.plain[:0], line)
		d.plain = plain
		if len(plain) == len(d.cols) {
			d.fields, d.plain = plain, fields
			d.extra, d.openQuote = rowExtra{}, false
			for i := range d.fields {
				f := &d.fields[i]
				b := d.buf[f.start:f.end]
				if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' && wellQuoted(b[1:len(b)-1]) {
					f.start++
					f.end--
					f.quoted = true
					f.escaped = bytes.Contains(d.buf[f.start:f.end], []byte{'"'})
				}
			}
			return len(d.fields), next, 1, true, nil
		}
	}
	return len(fields), used, bytes.Count(data[:used], []byte{'\n'}), true, nil
}

// wellQuoted reports whether every quote in b is doubled.
func wellQuoted(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if b[i] == '"' {
			if i+1 >= len(b) || b[i+1] != '"' {
				return false
			}
			i++
		}
	}
	return true
}

// splitPlain splits one line on the separator, quotes being ordinary bytes.
// Past spanLimit fields, it only counts them.
func (d *delimitedReader) splitPlain(out []span, line []byte) ([]span, rowExtra) {
	base := d.pos
	lim := d.spanLimit()
	i := 0
	for {
		if len(out) >= lim {
			return out, countPlain(line[i:], d.sep)
		}
		j := bytes.IndexByte(line[i:], d.sep)
		if j < 0 {
			return append(out, span{start: base + i, end: base + len(line)}), rowExtra{}
		}
		out = append(out, span{start: base + i, end: base + i + j})
		i += j + 1
	}
}

// splitQuoted parses a row that holds quotes, possibly over several lines. It
// returns the bytes consumed, line end included; ok is false when the input
// ends inside the row before EOF. err is a *ParseError when the input ends
// inside a quoted field (see unclosedQuote).
func (d *delimitedReader) splitQuoted(out []span, data []byte, atEOF bool) ([]span, int, bool, error) {
	base := d.pos
	sep := d.sep
	n := len(data)
	lim := d.spanLimit()
	d.extra = rowExtra{}
	i := 0
	nl := -1 // the next line end at or after i (n when there is none), once looked up
	for {
		start := i
		raw := true
		if i < n && data[i] == '"' {
			j := i + 1
			esc := false
			for {
				k := bytes.IndexByte(data[j:], '"')
				if k < 0 {
					if !atEOF {
						return out, 0, false, nil
					}
					// Never closed. At the true end of the input that is
					// a truncated feed unless a TSV reads raw; at the
					// window's size cap, a row longer than the cap
					// unless it reads raw (see quotedPastCap).
					if d.eof {
						if err := d.unclosedQuote(out, data, i); err != nil {
							return out, 0, false, err
						}
					} else if d.quotedPastCap(data) {
						d.openQuote = true
						out = d.keep(out, span{start: base + i + 1, end: base + n, escaped: esc, quoted: true}, lim, &d.extra)
						return out, n, true, nil
					}
					break // read raw
				}
				q := j + k
				if q+1 >= n {
					if !atEOF {
						return out, 0, false, nil
					}
					out = d.keep(out, span{start: base + i + 1, end: base + q, escaped: esc, quoted: true}, lim, &d.extra)
					return out, n, true, nil
				}
				c := data[q+1]
				if c == '"' {
					esc = true
					j = q + 2
					continue
				}
				if c == sep || c == '\n' || (c == '\r' && (q+2 >= n || data[q+2] == '\n')) {
					if c == '\r' && q+2 >= n && !atEOF {
						return out, 0, false, nil
					}
					out = d.keep(out, span{start: base + i + 1, end: base + q, escaped: esc, quoted: true}, lim, &d.extra)
					i = q + 1
					raw = false
				}
				break // closing quote not followed by a separator: read raw
			}
		}
		if raw {
			i = start
			if nl < i {
				if j := bytes.IndexByte(data[i:], '\n'); j >= 0 {
					nl = i + j
				} else {
					nl = n
				}
			}
			e := nl
			if k := bytes.IndexByte(data[i:nl], sep); k >= 0 {
				e = i + k
			} else if nl == n && !atEOF {
				return out, 0, false, nil
			}
			if e < n && data[e] == '\n' && e > start && data[e-1] == '\r' {
				e--
			}
			out = d.keep(out, span{start: base + start, end: base + e}, lim, &d.extra)
			i = e
		}
		// After a field: a separator, a line end or the end of input.
		switch {
		case i >= n:
			return out, n, true, nil
		case data[i] == sep:
			i++
			if i >= n {
				if !atEOF {
					return out, 0, false, nil
				}
				out = d.keep(out, span{start: base + n, end: base + n}, lim, &d.extra)
				return out, n, true, nil
			}
		case data[i] == '\r':
			return out, min(i+2, n), true, nil
		default: // '\n'
			return out, i + 1, true, nil
		}
	}
}

// errUnclosedQuote is the message of a feed that ends inside a quoted field.
const errUnclosedQuote = "the feed ends inside a quoted field opened on this line (truncated download, or a missing closing quote?)"

// unclosedQuote decides what a quoted field that is still open at the end of
// the input means. data is the rest of the input from the row's start, q the
// index of the field's opening quote in it, out the row's fields before it.
// It returns nil when the field is to be read raw, as before, and otherwise a
// *ParseError naming the line (and column) of the opening quote and the row's
// id when its column came before.
//
// The decision, per format:
//
//   - CSV: always a truncated feed. A feed cut inside a quoted field (a
//     truncated download, a full disk) would otherwise read as a shorter
//     valid feed, its last row skipped with a warning, and the sync would
//     remove the products after the cut. A CSV quote that opens a field and
//     has no quote after it to the end of the file cannot be read any other
//     way that is sure to be right, so a stray one is an error too.
//   - TSV: Google's text format is not quoted, and a cell that merely starts
//     with a quote ("12 inch pan) is legitimate and read raw today. So the
//     rest of the input is read raw line by line: when every non-blank line
//     is a row with the header's number of fields (extra empty trailing
//     fields allowed, as Next allows them), the raw reading stands; otherwise
//     (a quoted value cut after a line break, a row cut before its last
//     field) the feed is truncated. A TSV cut inside the last field of its
//     last row, with no line break in the cut value, is indistinguishable
//     from a complete row with a stray quote and is read raw.
//
// Only the true end of the input decides: a quoted field still open when the
// window reaches maxRowBytes (no lone quote for 64 MiB after it) is a stray
// quote read raw, as before, when the window's lines split into rows of the
// header's field count, and otherwise a quoted value longer than the window:
// its row is skipped whole (see quotedPastCap and skipOverlong).
func (d *delimitedReader) unclosedQuote(out []span, data []byte, q int) error {
	if d.sep == '\t' {
		want := len(d.cols)
		if want == 0 { // the header row: its own raw field count
			want = plainFields(firstLine(data), d.sep)
		}
		if rawRowsFit(data, d.sep, want) {
			return nil
		}
	}
	line := d.line + bytes.Count(data[:q], []byte{'\n'})
	col := q + 1
	if k := bytes.LastIndexByte(data[:q], '\n'); k >= 0 {
		col = q - k
	}
	msg := errUnclosedQuote
	if line != d.line {
		msg = fmt.Sprintf("%s; the row starts on line %d", msg, d.line)
	}
	pe := &ParseError{Source: d.source, Line: line, Column: col, Err: errors.New(msg)}
	pe.ItemID = d.idOf(out)
	return pe
}

// firstLine returns data up to its first line end, without the line end.
func firstLine(data []byte) []byte {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		data = data[:i]
	}
	return bytes.TrimSuffix(data, []byte{'\r'})
}

// plainFields counts the fields of a line split on sep, quotes being ordinary
// bytes.
func plainFields(line []byte, sep byte) int {
	return bytes.Count(line, []byte{sep}) + 1
}

// rawRowsFit reports whether every non-blank line of data, split on sep with
// quotes as ordinary bytes, has want fields, empty trailing fields past want
// left out.
func rawRowsFit(data []byte, sep byte, want int) bool {
	for len(data) > 0 {
		line := firstLine(data)
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		} else {
			data = nil
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		n := plainFields(line, sep)
		for n > want {
			k := bytes.LastIndexByte(line, sep)
			if len(bytes.TrimSpace(line[k+1:])) != 0 {
				break
			}
			line = line[:k]
			n--
		}
		if n != want {
			return false
		}
	}
	return true
}

// appendUnquoted appends b with each doubled quote ("") undone.
func appendUnquoted(dst, b []byte) []byte {
	for {
		i := bytes.IndexByte(b, '"')
		if i < 0 || i+1 >= len(b) {
			return append(dst, b...)
		}
		dst = append(dst, b[:i+1]...)
		if b[i+1] == '"' {
			i++
		}
		b = b[i+1:]
	}
}

// unquote returns a field's text with doubled quotes undone.
func (d *delimitedReader) unquote(f span) string {
	b := d.buf[f.start:f.end]
	if !f.escaped {
		return string(b)
	}
	return strings.ReplaceAll(string(b), `""`, `"`)
}

func (d *delimitedReader) Next() (*Item, error) {
	for !d.done {
		n, start, err := d.nextRecord(true)
		if err == io.EOF {
			d.done = true
			break
		}
		if err != nil {
			d.done = true
			return nil, err
		}
		if n <= 0 {
			continue // blank line, or a row too long, skipped
		}
		if n > len(d.cols) {
			// Extra trailing columns are harmless when empty. Past
			// spanLimit they were only counted.
			if d.extra.last > 0 {
				n += d.extra.last
			}
			for n > len(d.cols) && n <= len(d.fields) && len(bytes.TrimSpace(d.buf[d.fields[n-1].start:d.fields[n-1].end])) == 0 {
				n--
			}
		}
		if n != len(d.cols) {
			d.problems = append(d.problems, Problem{Line: start, ItemID: d.idOf(d.fields[:min(n, len(d.fields))]), Kind: ProblemSkippedItem, Msg: fmt.Sprintf("row has %d fields, the header has %d: row skipped", n, len(d.cols))})
			continue
		}
		if !d.checkRow(start, d.fields[:n]) {
			continue
		}
		it := d.item(start, d.fields[:n])
		if d.hash {
			it.Raw = d.rowHash()
		}
		return it, nil
	}
	return nil, io.EOF
}

// item builds an Item from a row's fields. All values share one string.
func (d *delimitedReader) item(line int, fields []span) *Item {
	// Values are trimmed sub-slices of the row; a row with doubled quotes to
	// undo is rebuilt in a scratch buffer first, and so is a row longer than
	// MaxValueBytes, so that its item holds only the values it keeps, each
	// cut to MaxValueBytes.
	base := fields[0].start
	row := d.buf[base:fields[len(fields)-1].end]
	escaped := len(row) > MaxValueBytes
	for _, f := range fields {
		escaped = escaped || f.escaped
	}
	sc := d.scratch[:0]
	offs := d.offs[:0]
	attrs, subs := 0, 0 // upper bounds of the attributes and sub-attributes
	for i, f := range fields {
		b := trimSpace(d.buf[f.start:f.end])
		c := &d.cols[i]
		if len(b) == 0 || c.name == "" {
			offs = append(offs, 0, 0)
			continue
		}
		rawLen, cut := len(b), false
		if rawLen > MaxValueBytes {
			// Cut before counting repeats. Undoing doubled quotes at most
			// halves a value: twice the cap is enough to cut from.
			if !f.escaped {
				b, cut = trimSpace(b[:delimCut(b, MaxValueBytes)]), true
			} else if len(b) > 2*MaxValueBytes {
				b, cut = b[:2*MaxValueBytes], true
			}
		}
		attrs++
		if c.repeat {
			commas := min(bytes.Count(b, []byte{','}), maxCellRepeats-1)
			attrs += commas
			subs += (commas + 1) * len(c.sub)
		} else {
			subs += len(c.sub)
		}
		if !escaped {
			from := f.start + (len(d.buf[f.start:f.end]) - len(trimLeftSpace(d.buf[f.start:f.end]))) - base
			offs = append(offs, from, from+len(b))
			continue
		}
		from := len(sc)
		if f.escaped {
			sc = appendUnquoted(sc, b)
			if len(sc)-from > MaxValueBytes {
				v := sc[from:]
				sc, cut = sc[:from+len(trimSpace(v[:delimCut(v, MaxValueBytes)]))], true
			}
		} else {
			sc = append(sc, b...)
		}
		if cut {
			d.cutValue(line, fields, i, rawLen, len(sc)-from)
		}
		offs = append(offs, from, len(sc))
	}
	if escaped {
		row = sc
	}
	d.scratch, d.offs = sc, offs
	all := string(row)
	// One allocation holds the attributes and, after them, their sub-attributes.
	// Attrs is capped at its own part so that an append by the caller copies.
	block := make([]Attr, attrs+subs)
	it := &Item{Line: line, Attrs: block[:0:attrs]}
	d.subPool = block[attrs:]
	for i := range fields {
		from, to := offs[2*i], offs[2*i+1]
		if from == to {
			continue
		}
		v := all[from:to]
		c := &d.cols[i]
		if !c.repeat && c.sub == nil {
			it.Attrs = append(it.Attrs, Attr{Name: c.name, Value: v})
			continue
		}
		// A TSV cell quoted as a whole is one value (Google: "a whole quoted
		// list is treated as one value"); CSV quotes every cell with a comma.
		if c.repeat && !(fields[i].quoted && d.sep == '\t') && strings.IndexByte(v, ',') >= 0 {
			n := 0
			for rest := v; rest != ""; {
				var part string
				part, rest = nextRepeat(rest)
				if part == "" {
					continue
				}
				if n == maxCellRepeats {
					d.problems = append(d.problems, Problem{Line: line, ItemID: d.idOf(fields), Kind: ProblemOther,
						Msg: fmt.Sprintf("%s has more than %d values: the rest are dropped", delimClip(c.name), maxCellRepeats)})
					break
				}
				it.Attrs = append(it.Attrs, d.attr(c, part))
				n++
			}
			continue
		}
		it.Attrs = append(it.Attrs, d.attr(c, v))
	}
	return it
}

// attr makes the attribute for one value of column c, splitting a
// sub-attribute value (US:CA:Ground:5.00 USD) into its parts. A value that
// does not split (too few parts) is kept whole, with no Sub: lint reports it
// with parseSubAttr's message; it is not a skipped row.
func (d *delimitedReader) attr(c *column, v string) Attr {
	if c.sub == nil || strings.IndexByte(v, ':') < 0 {
		return Attr{Name: c.name, Value: v}
	}
	a, err := parseSubAttr(c.name, v, c.sub, d.subPool[:0:len(c.sub)])
	if err != nil {
		return Attr{Name: c.name, Value: v}
	}
	d.subPool = d.subPool[len(c.sub):]
	return a
}

// parseSubAttr splits a sub-attribute value in text form
// ("US:CA:Ground:5.00 USD") into parts named by names (country, region,
// service, price), appending them to sub. Empty parts are left out, as an
// XML feed would leave out the element. A value with more parts than names
// keeps the extra colons in the last part (a product_detail value "16:9");
// one with fewer parts is an error.
func parseSubAttr(name, v string, names []string, sub []Attr) (Attr, error) {
	if c := strings.Count(v, ":") + 1; c < len(names) {
		return Attr{}, fmt.Errorf("%s %q has %d parts, want %d (%s)", name, v, c, len(names), strings.Join(names, ":"))
	}
	a := Attr{Name: name, Sub: sub}
	rest := v
	for i, n := range names {
		p := rest
		if i < len(names)-1 {
			j := strings.IndexByte(rest, ':')
			p, rest = rest[:j], rest[j+1:]
		}
		if p = strings.TrimSpace(p); p != "" {
			a.Sub = append(a.Sub, Attr{Name: n, Value: p})
		}
	}
	if len(a.Sub) == 0 {
		return Attr{}, fmt.Errorf("%s %q has no values", name, v)
	}
	return a, nil
}

// nextRepeat returns the first of a cell's comma-separated values, trimmed,
// and the rest after its comma. A value wrapped in quotes may hold commas.
func nextRepeat(v string) (part, rest string) {
	v = strings.TrimLeft(v, " \t")
	if strings.HasPrefix(v, `"`) {
		if j := strings.IndexByte(v[1:], '"'); j >= 0 {
			after := strings.TrimLeft(v[j+2:], " \t")
			if after == "" {
				return v[1 : j+1], ""
			}
			if after[0] == ',' {
				return v[1 : j+1], after[1:]
			}
		}
	}
	i := strings.IndexByte(v, ',')
	if i < 0 {
		return strings.TrimSpace(v), ""
	}
	return strings.TrimSpace(v[:i]), v[i+1:]
}

// trimLeftSpace is the left half of trimSpace.
func trimLeftSpace(b []byte) []byte {
	for len(b) > 0 && asciiSpace(b[0]) {
		b = b[1:]
	}
	if len(b) > 0 && b[0] >= 0x80 {
		return bytes.TrimLeftFunc(b, unicode.IsSpace)
	}
	return b
}

// trimSpace trims ASCII white space, and falls back to bytes.TrimSpace for
// the rare value that ends in other Unicode space.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && asciiSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && asciiSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	if len(b) > 0 && (b[0] >= 0x80 || b[len(b)-1] >= 0x80) {
		return bytes.TrimSpace(b)
	}
	return b
}

func asciiSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}
