package feed

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/zeebo/xxh3"
)

// Item hashes let a caller recognise a feed it has read before without
// parsing it again. The Reader (with WithItemHash) and ScanItems hash the
// same span of each item, the bytes from the '<' of its start tag to the '>'
// of its end tag, with the same hooks in the scanner (beginHash at the start
// tag, spillHash when fill moves bytes out of the buffer, endHash after the
// end tag), so they agree by construction. What reads an item besides its
// bytes — the namespace bindings around it and the format — goes into the
// seed (itemSeeds).

// WithItemHash makes the Reader hash each RSS/Atom item's raw bytes into
// Item.Raw, with the given seed; and each CSV/TSV row's (see rowHash).
func WithItemHash(seed uint64) ReaderOption {
	return func(o *readerOptions) { o.itemHash, o.itemSeed = true, seed }
}

// ErrNotScannable is returned (wrapped) by ScanItems for a format it cannot
// read. Every format NewReader reads is scannable today; ScanItems wraps it
// for a format NewReader does not know either, and callers check for it so
// that a format added later need not be scannable.
var ErrNotScannable = errors.New("ScanItems cannot read this format")

// ScanItems reads a feed as NewReader(r, source, format, opts...) would
// (decompression, format detection, encoding) but does not parse items: for
// each item, in feed order, it calls fn with the item's 1-based start line
// (the same Line the Reader gives) and the same Raw the Reader with
// WithItemHash(seed) gives that item. If fn returns an error, ScanItems stops
// and returns that error unchanged.
//
// Outside items it checks what the Reader checks (syntax, entity references
// in text, truncation) and fails with the same kind of *ParseError (without
// the near-item id: it reads no ids). Inside an item it only finds the
// item's end, which is right for every item the Reader reads; a malformed item
// yields some hash or an error, never a split of the feed into items that
// differs from the Reader's while every hash is one of items the Reader read.
//
// For CSV and TSV an item is a row: ScanItems splits rows as the Reader does
// (quoted fields over several lines included) and hashes each one's bytes,
// but does not build items. A row the Reader skips (a wrong number of fields,
// characters it does not allow, longer than a row may be) comes out as well,
// with a hash no item has, as an XML item the Reader skips does.
func ScanItems(r io.Reader, source string, format Format, seed uint64, fn func(line int, raw [16]byte) error, opts ...ReaderOption) error {
	br, source, format, o, err := openFeed(r, source, format, opts)
	if err != nil {
		return err
	}
	// A scan that stops early (fn's error: most do, at the first item not
	// known) leaves the stream unread: what it holds goes now, not when the
	// collector gets to it.
	if o.release != nil {
		defer o.release()
	}
	switch format {
	case FormatRSS, FormatAtom:
	case FormatCSV, FormatTSV:
		d, err := newDelimitedReader(br, source, format)
		if err != nil {
			return err
		}
		return d.scanItems(seed, fn)
	default:
		return fmt.Errorf("%s: unknown format %q: %w", source, format, ErrNotScannable)
	}
	x := newXMLReader(br, source, format)
	if x.err != nil {
		return x.err
	}
	return x.scanItems(seed, fn)
}

// scanItems is parseBatch with the items skipped and hashed, not read.
func (x *xmlReader) scanItems(seed uint64, fn func(line int, raw [16]byte) error) error {
	s := x.s
	for {
		s.skipWhitespace()
		k, err := s.next()
		if err != nil {
			return x.fail(err)
		}
		switch k {
		case tokEOF:
			return nil
		case tokText:
			if err := x.checkText(); err != nil {
				return x.fail(err)
			}
		case tokStart:
			if !x.isItem() {
				continue
			}
			line, _ := s.lineAt(s.tokPos)
			s.beginHash(x.seeds.seed(s, seed, x.format))
			if err := s.skipItem(); err != nil {
				return x.fail(err)
			}
			if err := fn(line, s.endHash()); err != nil {
				return err
			}
		}
	}
}

// itemSeeds computes the seed of an item's hash: the caller's seed mixed
// with the format and the namespace bindings in effect at the item, and
// remembers it until the bindings change.
type itemSeeds struct {
	ok      bool
	version uint64 // xmlScanner.bindVersion it was computed at
	base    uint64
	format  Format
	val     uint64
	key     []byte
	seen    []nsBinding
}

// seed returns the seed of the item whose start tag s has just read (its own
// namespace declarations included: they are among its bytes as well).
//
// The bindings go in as what resolve makes of them: for each prefix, the kind
// of its innermost binding, left out where that is what an unbound prefix
// resolves to anyway (none for the default namespace, other for a prefix)
// and for the prefixes xml and xmlns, which resolve to other whatever binds
// them; sorted by prefix. So two items read the same way get the same seed
// however the declarations that bind their prefixes are spelt or ordered.
func (is *itemSeeds) seed(s *xmlScanner, base uint64, format Format) uint64 {
	if is.ok && is.version == s.bindVersion && is.base == base && is.format == format {
		return is.val
	}
	is.seen = is.seen[:0]
	for i := len(s.bindings) - 1; i >= 0; i-- {
		b := s.bindings[i]
		if b.prefix == "xml" || b.prefix == "xmlns" || slices.ContainsFunc(is.seen, func(o nsBinding) bool { return o.prefix == b.prefix }) {
			continue
		}
		is.seen = append(is.seen, b)
	}
	is.seen = slices.DeleteFunc(is.seen, func(b nsBinding) bool {
		return b.prefix == "" && b.kind == nsNone || b.prefix != "" && b.kind == nsOther
	})
	slices.SortFunc(is.seen, func(a, b nsBinding) int {
		switch {
		case a.prefix < b.prefix:
			return -1
		case a.prefix > b.prefix:
			return 1
		}
		return 0
	})
	k := append(is.key[:0], "feedsync item\x00"...)
	k = binary.AppendUvarint(k, uint64(len(format)))
	k = append(k, format...)
	for _, b := range is.seen {
		k = append(k, byte(b.kind))
		k = binary.AppendUvarint(k, uint64(len(b.prefix)))
		k = append(k, b.prefix...)
	}
	is.key = k
	is.ok, is.version, is.base, is.format = true, s.bindVersion, base, format
	is.val = xxh3.HashSeed(k, base)
	return is.val
}

// beginHash starts hashing at the start tag just read (buf[tokPos]).
func (s *xmlScanner) beginHash(seed uint64) {
	s.hashing, s.hashed, s.hashFrom, s.hashSeed = true, false, s.tokPos, seed
}

// spillHash hands the bytes of the item before pos to the hasher: fill is
// about to move them out of the buffer.
func (s *xmlScanner) spillHash() {
	if s.hashFrom >= s.pos {
		return
	}
	if !s.hashed {
		if s.hasher == nil {
			s.hasher = xxh3.NewSeed128(s.hashSeed)
		} else {
			s.hasher.ResetSeed(s.hashSeed)
		}
		s.hashed = true
	}
	_, _ = s.hasher.Write(s.buf[s.hashFrom:s.pos])
	s.hashFrom = s.pos // fill moves buf[pos] to buf[0] and this with it
}

// endHash ends the item's hash at pos, just past its end tag.
func (s *xmlScanner) endHash() [16]byte {
	s.hashing = false
	if !s.hashed {
		return xxh3.Hash128Seed(s.buf[s.hashFrom:s.pos], s.hashSeed).Bytes()
	}
	_, _ = s.hasher.Write(s.buf[s.hashFrom:s.pos])
	return s.hasher.Sum128().Bytes()
}

// The ends of the nodes skipItem passes over whole.
var (
	commentStart = []byte("<!--")
	cdataStart   = []byte("<![CDATA[")
	commentEnd   = []byte("-->")
	cdataEnd     = []byte("]]>")
	piEnd        = []byte("?>")
)

// skipItem skips the content and end tag of the item whose start tag was
// just read and closes the item, as the end tag would, without reading
// anything inside: it counts start and end tags and passes over comments,
// CDATA sections, processing instructions, declarations and quoted
// attribute values, whose '<' and '>' are not markup. On every item the
// Reader reads it stops where the Reader does: there, end tags match their
// start tags, so counting them is enough. On a malformed item it stops
// somewhere (or fails); the item's hash then matches no item read before.
func (s *xmlScanner) skipItem() error {
	if s.pendingEnd { // <item/>
		s.pendingEnd = false
		s.pop()
		return nil
	}
	depth := 1
	var until []byte // the end of a comment, CDATA section or PI being skipped
	for {
		// Here s.pos is where scanning goes on; when the buffer runs out,
		// s.pos is left at the start of the markup cut by its end (or at
		// the end), and more input read.
		if until != nil {
			t := s.buf[s.pos:s.end]
			if k := bytes.Index(t, until); k >= 0 {
				s.pos += k + len(until)
				until = nil
				continue
			}
			// Keep what may begin the terminator.
			if n := len(t) - (len(until) - 1); n > 0 {
				s.pos += n
			}
			if err := s.moreOrTruncated(); err != nil {
				return err
			}
			continue
		}
		buf := s.buf[:s.end]
		p := s.pos
	scan:
		for {
			// Most markup follows markup or a line break: look there first.
			switch {
			case p < len(buf) && buf[p] == '<':
			case p+1 < len(buf) && buf[p+1] == '<':
				p++
			default:
				i := bytes.IndexByte(buf[p:], '<')
				if i < 0 {
					p = len(buf)
					break scan
				}
				p += i
			}
			if p+1 >= len(buf) {
				break
			}
			switch c := buf[p+1]; {
			case c == '/':
				if depth > 1 {
					// The rest of the end tag holds no '<': the next
					// search would pass over it, but it is short.
					depth--
					p += 2
					for p < len(buf) && nameByte[buf[p]] {
						p++
					}
					if p < len(buf) && buf[p] == '>' {
						p++
					}
					continue
				}
				k := bytes.IndexByte(buf[p:], '>')
				if k < 0 {
					break scan
				}
				s.pos = p + k + 1
				s.pop()
				return nil
			case c == '!' || c == '?':
				s.pos = p
				n, u := skipBang(buf[p:])
				if n < 0 {
					break scan
				}
				p += n
				if u != nil {
					s.pos, until = p, u
					break scan
				}
			default:
				// A start tag: most have no attributes.
				j := p + 1
				for j < len(buf) && nameByte[buf[j]] {
					j++
				}
				if j < len(buf) && buf[j] == '>' {
					depth++
					p = j + 1
					continue
				}
				if j+1 < len(buf) && buf[j] == '/' && buf[j+1] == '>' {
					p = j + 2
					continue
				}
				s.pos = p
				n, selfClosing, err := s.skipStartTag(buf[p:])
				if err != nil {
					return err
				}
				if n < 0 {
					break scan
				}
				p += n
				if !selfClosing {
					depth++
				}
			}
		}
		s.pos = p
		if until != nil {
			continue
		}
		if err := s.moreOrTruncated(); err != nil {
			return err
		}
	}
}

// skipBang returns the length of the "<!" or "<?" markup at the start of t,
// or -1 when t ends inside it; for a comment, CDATA section or processing
// instruction, whose end may be far, only the length of its opening, and the
// end to look for.
func skipBang(t []byte) (int, []byte) {
	if t[1] == '?' {
		return 2, piEnd
	}
	switch {
	case len(t) < 9 && (bytes.HasPrefix(commentStart, t) || bytes.HasPrefix(cdataStart, t)):
		return -1, nil
	case bytes.HasPrefix(t, commentStart):
		return len(commentStart), commentEnd
	case bytes.HasPrefix(t, cdataStart):
		return len(cdataStart), cdataEnd
	}
	return declEnd(t), nil
}

// skipStartTag returns the length of the start tag at the start of t and
// whether it closes itself, or -1 when t ends inside it. It passes over
// quoted attribute values, which may hold '>' and "/>"; a value holding '<'
// is an error, as it is to the Reader.
func (s *xmlScanner) skipStartTag(t []byte) (int, bool, error) {
	i := 1
	for i < len(t) && nameByte[t[i]] {
		i++
	}
	for i < len(t) {
		switch c := t[i]; c {
		case '>':
			return i + 1, t[i-1] == '/', nil
		case '"', '\'':
			k := bytes.IndexByte(t[i+1:], c)
			if k < 0 {
				if lt := bytes.IndexByte(t[i+1:], '<'); lt >= 0 {
					return 0, false, s.errAt(s.pos+i+1+lt, "unescaped < inside quoted string")
				}
				return -1, false, nil
			}
			if lt := bytes.IndexByte(t[i+1:i+1+k], '<'); lt >= 0 {
				return 0, false, s.errAt(s.pos+i+1+lt, "unescaped < inside quoted string")
			}
			i += k + 2
		default:
			i++
		}
	}
	return -1, false, nil
}

// setItemHash makes Next hash each row into Item.Raw: the seed is mixed with
// the header row's bytes and the separator (headerKey), which decide what
// the row's bytes mean, and with the format.
func (d *delimitedReader) setItemHash(seed uint64) {
	k := append([]byte("feedsync row\x00"), d.format...)
	k = append(k, 0)
	k = append(k, d.headerKey...)
	d.hash, d.hashSeed = true, xxh3.HashSeed(k, seed)
}

// rowHash is the Raw of the row nextRecord read last: the hash of its bytes
// as the feed has them (after transcoding to UTF-8), from its first byte to
// its line end included; over several lines when a quoted field holds line
// breaks.
func (d *delimitedReader) rowHash() [16]byte {
	return xxh3.Hash128Seed(d.buf[d.rowStart:d.rowEnd], d.hashSeed).Bytes()
}

// overlongRow is the Raw ScanItems gives a row longer than a row may be,
// which the Reader skips without keeping its bytes: a hash of no row.
var overlongRow = xxh3.HashString128("feedsync: a row longer than maxRowBytes").Bytes()

// scanItems is Next with rows split and hashed, not made into items.
func (d *delimitedReader) scanItems(seed uint64, fn func(line int, raw [16]byte) error) error {
	d.setItemHash(seed)
	for {
		n, start, err := d.nextRecord(true)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		raw := overlongRow
		switch {
		case n == 0:
			continue // a blank line
		case n > 0:
			raw = d.rowHash()
		}
		if err := fn(start, raw); err != nil {
			return err
		}
	}
}
