package feed

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Format is a feed's syntax.
type Format string

// The formats feed reads. FormatAuto detects one from the content.
const (
	FormatAuto Format = "auto"
	FormatRSS  Format = "rss"
	FormatAtom Format = "atom"
	FormatCSV  Format = "csv"
	FormatTSV  Format = "tsv"
)

// ParseFormat checks a format name from the configuration.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case "", FormatAuto:
		return FormatAuto, nil
	case FormatRSS, FormatAtom, FormatCSV, FormatTSV:
		return f, nil
	}
	return "", fmt.Errorf("%q: want auto, rss, atom, csv or tsv", s)
}

// Problem is an item or row that was skipped, or a defect the reader noticed
// without stopping: where it is and why.
type Problem struct {
	Line   int
	ItemID string
	Msg    string
}

func (p Problem) String() string {
	s := fmt.Sprintf("line %d", p.Line)
	if p.ItemID != "" {
		s += fmt.Sprintf(" (item %q)", p.ItemID)
	}
	return s + ": " + p.Msg
}

// ParseError is a defect that stops reading the feed: malformed XML, a broken
// header. It names the source, line and, where known, the nearest item id.
type ParseError struct {
	Source string
	Line   int
	Column int
	ItemID string
	Err    error
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(e.Source)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	if e.ItemID != "" {
		fmt.Fprintf(&b, " (near item %q)", e.ItemID)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *ParseError) Unwrap() error { return e.Err }

// Reader streams the items of one feed.
type Reader interface {
	// Next returns the next item, or io.EOF after the last one. Any other error
	// stops the feed (a *ParseError where the position is known).
	Next() (*Item, error)
	// Problems lists the items or rows skipped so far, and why.
	Problems() []Problem
	// Format is the detected or configured format.
	Format() Format
}

// NewReader returns a Reader over r. source names the feed in errors (a path
// or URL). With FormatAuto the format is detected from the first non-blank
// bytes; gzip-compressed input is decompressed transparently.
func NewReader(r io.Reader, source string, format Format) (Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(2)
	if len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, &ParseError{Source: source, Err: fmt.Errorf("gzip: %w", err)}
		}
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	if format == FormatAuto || format == "" {
		f, err := detect(br)
		if err != nil {
			return nil, &ParseError{Source: source, Err: err}
		}
		format = f
	}
	switch format {
	case FormatRSS, FormatAtom:
		return newXMLReader(br, source, format), nil
	case FormatCSV, FormatTSV:
		return newDelimitedReader(br, source, format)
	}
	return nil, fmt.Errorf("%s: unknown format %q", source, format)
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// detect looks at the first non-blank bytes: '<' means XML (RSS unless an Atom
// <feed> root shows up early), anything else delimited text, tab or comma by
// which the header line has more of.
func detect(br *bufio.Reader) (Format, error) {
	head, err := br.Peek(64 << 10)
	if len(head) == 0 {
		if err == nil || errors.Is(err, io.EOF) {
			return "", errors.New("the feed is empty")
		}
		return "", err
	}
	h := bytes.TrimPrefix(head, utf8BOM)
	// UTF-16 with a BOM: XML is the only format that declares it.
	if bytes.HasPrefix(h, []byte{0xFF, 0xFE}) || bytes.HasPrefix(h, []byte{0xFE, 0xFF}) {
		h = utf16ToASCIIGuess(h)
	}
	t := bytes.TrimLeft(h, " \t\r\n")
	if len(t) == 0 {
		return "", errors.New("the feed is empty")
	}
	if t[0] == '<' {
		if isAtom(t) {
			return FormatAtom, nil
		}
		return FormatRSS, nil
	}
	line := t
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	if bytes.Count(line, []byte{'\t'}) >= bytes.Count(line, []byte{','}) && bytes.IndexByte(line, '\t') >= 0 {
		return FormatTSV, nil
	}
	if bytes.IndexByte(line, ',') >= 0 {
		return FormatCSV, nil
	}
	return FormatTSV, nil
}

// isAtom finds the first element that is neither a declaration, comment nor
// processing instruction and checks whether it is <feed> (any prefix).
func isAtom(t []byte) bool {
	for len(t) > 0 {
		i := bytes.IndexByte(t, '<')
		if i < 0 || i+1 >= len(t) {
			return false
		}
		t = t[i+1:]
		switch t[0] {
		case '?', '!':
			continue
		}
		end := bytes.IndexAny(t, " \t\r\n>/")
		if end < 0 {
			return false
		}
		name := t[:end]
		if j := bytes.IndexByte(name, ':'); j >= 0 {
			name = name[j+1:]
		}
		return string(name) == "feed"
	}
	return false
}

// utf16ToASCIIGuess keeps every other byte of a UTF-16 prefix, which is enough
// to see the first markup characters.
func utf16ToASCIIGuess(b []byte) []byte {
	out := make([]byte, 0, len(b)/2)
	start := 0
	if b[0] == 0xFE { // big endian: low byte second
		start = 1
	}
	for i := 2 + start; i < len(b); i += 2 {
		out = append(out, b[i])
	}
	return out
}
