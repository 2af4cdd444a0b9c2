package feed

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// delimitedReader reads tab-separated (Google's text format) and
// comma-separated (Meta catalog style) feeds. The first row names the attributes.
type delimitedReader struct {
	br       *bufio.Reader
	source   string
	format   Format
	sep      byte
	header   []string
	line     int // physical lines consumed so far
	problems []Problem
	done     bool
}

func newDelimitedReader(br *bufio.Reader, source string, format Format) (*delimitedReader, error) {
	if head, _ := br.Peek(3); bytes.HasPrefix(head, utf8BOM) {
		_, _ = br.Discard(3)
	}
	d := &delimitedReader{br: br, source: source, format: format, sep: '\t'}
	if format == FormatCSV {
		d.sep = ','
	}
	var fields []string
	var err error
	for {
		var start int
		fields, start, err = d.record()
		if err != nil {
			if err == io.EOF {
				return nil, &ParseError{Source: source, Err: errors.New("the feed is empty: no header row")}
			}
			return nil, err
		}
		if !(len(fields) == 1 && strings.TrimSpace(fields[0]) == "") {
			_ = start
			break
		}
	}
	seen := make(map[string]int)
	for i, f := range fields {
		n := NormalizeName(f)
		if j := strings.IndexByte(n, '('); j > 0 { // shipping(country:price)
			n = n[:j]
		}
		if n == "" {
			return nil, &ParseError{Source: source, Line: d.line, Err: fmt.Errorf("header column %d has no name", i+1)}
		}
		if prev, ok := seen[n]; ok {
			d.problems = append(d.problems, Problem{Line: d.line, Msg: fmt.Sprintf("duplicate header column %q (columns %d and %d)", n, prev+1, i+1)})
		} else {
			seen[n] = i
		}
		d.header = append(d.header, n)
	}
	return d, nil
}

func (d *delimitedReader) Format() Format      { return d.format }
func (d *delimitedReader) Problems() []Problem { return d.problems }

// readLine returns one physical line without its line end (LF or CRLF).
func (d *delimitedReader) readLine() (string, error) {
	s, err := d.br.ReadString('\n')
	if err != nil && !(err == io.EOF && s != "") {
		if err == io.EOF {
			return "", io.EOF
		}
		return "", &ParseError{Source: d.source, Line: d.line + 1, Err: err}
	}
	d.line++
	s = strings.TrimSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\r")
	return s, nil
}

// record reads one logical row: a physical line, extended over the next lines
// while a quoted field is open. Fields are split on the separator; quotes are
// honoured only around a whole field (RFC 4180), so a raw quote inside an
// unquoted field (36" flat top) is kept as text.
func (d *delimitedReader) record() ([]string, int, error) {
	line, err := d.readLine()
	if err != nil {
		return nil, 0, err
	}
	start := d.line
	for quoteOpen(line, d.sep) {
		next, err := d.readLine()
		if err != nil {
			if err == io.EOF {
				return nil, start, &ParseError{Source: d.source, Line: start, Err: errors.New("a quoted field is not closed before the end of the file")}
			}
			return nil, start, err
		}
		line += "\n" + next
	}
	return d.split(line), start, nil
}

// split cuts a logical row into fields. Without quotes it is a plain split.
// With quotes, an RFC 4180 reading wins when it is valid and fits the header;
// otherwise a plain split that fits the header wins (real TSVs hold raw
// quotes: 36" flat top, "My Food Truck" transition), with fields wrapped
// whole in quotes unquoted; a lenient reading comes last.
func (d *delimitedReader) split(line string) []string {
	sep := string(d.sep)
	if strings.IndexByte(line, '"') < 0 {
		return strings.Split(line, sep)
	}
	want := len(d.header)
	fits := func(f []string) bool { return want == 0 || len(f) == want }
	parse := func(lazy bool) ([]string, bool) {
		cr := csv.NewReader(strings.NewReader(line))
		cr.Comma = rune(d.sep)
		cr.LazyQuotes = lazy
		cr.FieldsPerRecord = -1
		f, err := cr.Read()
		return f, err == nil
	}
	if f, ok := parse(false); ok && fits(f) {
		return f
	}
	plain := strings.Split(line, sep)
	if fits(plain) {
		for i, f := range plain {
			if len(f) >= 2 && f[0] == '"' && f[len(f)-1] == '"' && !strings.Contains(strings.ReplaceAll(f[1:len(f)-1], `""`, ""), `"`) {
				plain[i] = strings.ReplaceAll(f[1:len(f)-1], `""`, `"`)
			}
		}
		return plain
	}
	if f, ok := parse(true); ok && fits(f) {
		return f
	}
	return plain
}

// quoteOpen reports whether line ends inside a quoted field.
func quoteOpen(line string, sep byte) bool {
	inQuotes := false
	atFieldStart := true
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case inQuotes:
			if c == '"' {
				if i+1 < len(line) && line[i+1] == '"' {
					i++
					continue
				}
				inQuotes = false
			}
		case c == sep:
			atFieldStart = true
			continue
		case c == '"' && atFieldStart:
			inQuotes = true
		}
		atFieldStart = false
	}
	return inQuotes
}

func (d *delimitedReader) Next() (*Item, error) {
	for !d.done {
		fields, start, err := d.record()
		if err == io.EOF {
			d.done = true
			break
		}
		if err != nil {
			d.done = true
			return nil, err
		}
		if len(fields) == 1 && strings.TrimSpace(fields[0]) == "" {
			continue // blank line
		}
		if len(fields) != len(d.header) {
			// Trailing empty columns missing or extra are harmless when empty.
			for len(fields) > len(d.header) && strings.TrimSpace(fields[len(fields)-1]) == "" {
				fields = fields[:len(fields)-1]
			}
			if len(fields) > len(d.header) {
				id := ""
				if i := indexOf(d.header, "id"); i >= 0 && i < len(fields) {
					id = strings.TrimSpace(fields[i])
				}
				d.problems = append(d.problems, Problem{Line: start, ItemID: id, Msg: fmt.Sprintf("row has %d fields, the header has %d: row skipped", len(fields), len(d.header))})
				continue
			}
		}
		it := &Item{Line: start, Attrs: make([]Attr, 0, len(fields))}
		for i, f := range fields {
			v := strings.TrimSpace(f)
			if v == "" {
				continue
			}
			it.Attrs = append(it.Attrs, Attr{Name: d.header[i], Value: v})
		}
		return it, nil
	}
	return nil, io.EOF
}

func indexOf(ss []string, s string) int {
	for i, x := range ss {
		if x == s {
			return i
		}
	}
	return -1
}
