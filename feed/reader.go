package feed

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
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
	Kind   ProblemKind
	// Code is the lint rule code of a product defect that a sync lets
	// through as a warning (price-format, missing-price, url-format);
	// empty for every other problem.
	Code string
}

// ProblemKind says what a reader problem is, so that callers need not
// match its message.
type ProblemKind uint8

const (
	// ProblemOther is reported, and nothing was skipped.
	ProblemOther ProblemKind = iota
	// ProblemSkippedItem: an item or row was skipped.
	ProblemSkippedItem
	// ProblemDuplicateHeader: a delimited header names a column twice.
	ProblemDuplicateHeader
)

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

// ReaderOption configures NewReader.
type ReaderOption func(*readerOptions)

type readerOptions struct {
	maxDecompressed int64
	itemHash        bool   // WithItemHash: fill Item.Raw
	itemSeed        uint64 // its seed
	// release ends what openFeed opened for the stream (a zip feed's
	// temporary file) before its end is read; nil when there is nothing.
	release func()
}

// MaxDecompressedBytes caps the size of a compressed feed once decompressed
// (gzip or zip), so that a small gzip bomb cannot fill memory or disk.
// Reading past the cap fails with an error wrapping ErrTooLarge. Zero or less
// means DefaultMaxBytes (4 GiB).
func MaxDecompressedBytes(n int64) ReaderOption {
	return func(o *readerOptions) { o.maxDecompressed = n }
}

// ErrTruncated is returned when a compressed feed ends before its end marker:
// the download or the file was cut off.
var ErrTruncated = errors.New("the compressed feed is truncated: the download or the file was cut off")

// NewReader returns a Reader over r. source names the feed in errors (a path
// or URL; user info and query are dropped from URLs). With FormatAuto the
// format is detected from the first non-blank bytes. gzip (by its magic bytes)
// and zip (its first file) are decompressed transparently, up to
// MaxDecompressedBytes.
func NewReader(r io.Reader, source string, format Format, opts ...ReaderOption) (Reader, error) {
	br, source, format, o, err := openFeed(r, source, format, opts)
	if err != nil {
		return nil, err
	}
	switch format {
	case FormatRSS, FormatAtom:
		x := newXMLReader(br, source, format)
		x.hash, x.hashSeed = o.itemHash, o.itemSeed
		return x, nil
	case FormatCSV, FormatTSV:
		d, err := newDelimitedReader(br, source, format)
		if err != nil {
			if o.release != nil {
				o.release()
			}
			return nil, err
		}
		if o.itemHash {
			d.setItemHash(o.itemSeed)
		}
		return d, nil
	}
	if o.release != nil {
		o.release()
	}
	return nil, fmt.Errorf("%s: unknown format %q", source, format)
}

// openFeed is the part of NewReader that ScanItems shares: options,
// decompression and format detection. It returns the decompressed input, the
// redacted source name and the format.
func openFeed(r io.Reader, source string, format Format, opts []ReaderOption) (*bufio.Reader, string, Format, readerOptions, error) {
	o := readerOptions{maxDecompressed: DefaultMaxBytes}
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxDecompressed <= 0 {
		o.maxDecompressed = DefaultMaxBytes
	}
	source = redactSource(source)
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, source, format, o, &ParseError{Source: source, Err: fmt.Errorf("gzip: %w", decompressErr(err))}
		}
		br = bufio.NewReaderSize(&capReader{r: zr, max: o.maxDecompressed, kind: "gzip"}, 64<<10)
	case bytes.HasPrefix(head, zipMagic):
		zr, err := openZip(br, o)
		if err != nil {
			return nil, source, format, o, &ParseError{Source: source, Err: fmt.Errorf("zip: %w", err)}
		}
		o.release = zr.release
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	if format == FormatAuto || format == "" {
		f, err := detect(br)
		if err != nil {
			return nil, source, format, o, &ParseError{Source: source, Err: err}
		}
		format = f
	}
	return br, source, format, o, nil
}

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zipMagic  = []byte{'P', 'K', 0x03, 0x04}
)

// redactSource drops secrets (user info, query) from a URL used as a source name.
func redactSource(s string) string {
	if strings.Contains(s, "://") && !strings.HasPrefix(s, "file://") {
		return redact(s)
	}
	return s
}

// decompressErr names a cut-off stream; other errors pass unchanged.
func decompressErr(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w (%w)", ErrTruncated, io.ErrUnexpectedEOF)
	}
	return err
}

// capReader passes a decompressed stream through, failing once it grows past
// max bytes, and names a truncated stream.
type capReader struct {
	r    io.Reader
	n    int64
	max  int64
	kind string
	done func() // called once at the end of the stream or on error
}

func (c *capReader) Read(p []byte) (int, error) {
	if int64(len(p)) > c.max-c.n+1 {
		p = p[:c.max-c.n+1]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		err = fmt.Errorf("%s: %w: more than %d bytes once decompressed (a decompression bomb?); raise the decompressed size limit if the feed is genuine", c.kind, ErrTooLarge, c.max)
		n = 0
	} else if err != nil && err != io.EOF {
		err = fmt.Errorf("%s: %w", c.kind, decompressErr(err))
	}
	if err != nil {
		c.release()
	}
	return n, err
}

// release calls done, once: at the end of the stream, or when its reader
// stops early.
func (c *capReader) release() {
	if c.done != nil {
		c.done()
		c.done = nil
	}
}

// openZip spools a zip archive to a temporary file (zip keeps its directory at
// the end, so it needs random access; a file keeps memory flat however large
// the feed) and opens its first file. The temporary file is removed at once
// where the system allows it, and closed when the entry has been read.
func openZip(r io.Reader, o readerOptions) (*capReader, error) {
	f, err := os.CreateTemp("", "feedsync-*.zip") // zip needs random access to its central directory at the end
	if err != nil {
		return nil, fmt.Errorf("spool to a temporary file: %w", err)
	}
	removed := os.Remove(f.Name()) == nil
	cleanup := func() {
		f.Close()
		if !removed {
			os.Remove(f.Name())
		}
	}
	size, err := io.Copy(f, io.LimitReader(r, o.maxDecompressed+1))
	if err != nil {
		cleanup()
		return nil, err
	}
	if size > o.maxDecompressed {
		cleanup()
		return nil, fmt.Errorf("%w: the archive is larger than %d bytes", ErrTooLarge, o.maxDecompressed)
	}
	zr, err := zip.NewReader(f, size)
	if err != nil {
		cleanup()
		if errors.Is(err, zip.ErrFormat) {
			return nil, fmt.Errorf("%w (%w)", ErrTruncated, err)
		}
		return nil, err
	}
	for _, zf := range zr.File {
		if zf.FileInfo().IsDir() || strings.HasPrefix(zf.Name, "__MACOSX/") {
			continue
		}
		if zf.UncompressedSize64 > uint64(o.maxDecompressed) {
			cleanup()
			return nil, fmt.Errorf("%s: %w: %d bytes once decompressed, the limit is %d", zf.Name, ErrTooLarge, zf.UncompressedSize64, o.maxDecompressed)
		}
		rc, err := zf.Open()
		if err != nil {
			cleanup()
			return nil, fmt.Errorf("%s: %w", zf.Name, err)
		}
		return &capReader{r: rc, max: o.maxDecompressed, kind: "zip " + zf.Name, done: func() { rc.Close(); cleanup() }}, nil
	}
	cleanup()
	return nil, errors.New("the archive holds no file")
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

// SkippedIDs are the ids of the items the reader skipped with a problem,
// where it could read them.
func SkippedIDs(ps []Problem) map[string]bool {
	var out map[string]bool
	for _, p := range ps {
		if p.Kind == ProblemSkippedItem && p.ItemID != "" && !strings.HasSuffix(p.ItemID, "…") {
			if out == nil {
				out = map[string]bool{}
			}
			out[p.ItemID] = true
		}
	}
	return out
}

// SkippedItems counts the reader's problems that skipped an item or row
// (a header defect is reported but skips nothing).
func SkippedItems(ps []Problem) int {
	n := 0
	for _, p := range ps {
		if p.Kind == ProblemSkippedItem {
			n++
		}
	}
	return n
}
