package feed

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/zeebo/xxh3"
)

// xmlScanner is a streaming tokenizer for the subset of XML that product feeds
// use: elements, attributes, namespaces, character data, CDATA, comments,
// processing instructions and (skipped, never interpreted) DOCTYPE
// declarations. It reads its input in large chunks into its own buffer and
// hands out tokens as slices of that buffer, valid until the next call to
// next, so that scanning allocates nothing per token.
//
// It checks what makes a document well-formed where a feed could otherwise be
// misread: every element closed by its own end tag, nothing open at EOF,
// quoted attribute values, well-formed markup. Entity references are decoded
// by the consumer (see appendChars); DTD entities are never expanded.
//
// Its buffer never grows with the length of a node (see xmlcap.go): character
// data and CDATA sections are handed out in pieces, comments and processing
// instructions are skipped as they stream past; only a tag (with its
// attributes), the XML declaration and a DOCTYPE declaration must be whole in
// the buffer, and one longer than xmlMaxMarkup is an error.
type xmlScanner struct {
	r    io.Reader
	buf  []byte
	pos  int   // next unread byte in buf
	end  int   // end of valid data in buf
	off  int64 // absolute offset (in the decoded stream) of buf[0]
	eof  bool  // r reported io.EOF
	rerr error // a read error other than io.EOF

	// Line tracking: line is the line number at buf[lineMark]; lineStart the
	// absolute offset where that line begins. Newlines are counted lazily, only
	// up to positions someone asks about (item starts, errors, compaction).
	line      int
	lineMark  int
	lineStart int64

	// The current token.
	tokPos      int    // buf index where the token starts
	name        []byte // qualified name of a start or end tag
	local       []byte // local part of name
	ns          nsKind // namespace of a start tag
	selfClosing bool
	attrs       []rawAttr
	text        []byte // tokText, tokCDATA: raw content
	pendingEnd  bool   // the last token was a self-closing start tag
	cont        contKind

	// Open elements: their qualified names, concatenated, and where each ends.
	names    []byte
	nameEnds []int
	bindings []nsBinding
	// bindVersion changes whenever bindings does, so that the seed an item
	// hash mixes the bindings into is computed again only then.
	bindVersion uint64
	scratch     []byte

	// The item being hashed (see itemhash.go): buf[hashFrom:] up to the
	// item's end is still to be hashed; hashed says that the bytes before
	// it, moved out of the buffer by fill, went to hasher.
	hashing  bool
	hashed   bool
	hashFrom int
	hashSeed uint64
	hasher   *xxh3.Hasher128
}

type tokKind uint8

const (
	tokEOF   tokKind = iota
	tokStart         // name, local, ns, attrs, selfClosing
	tokEnd           // name, local
	tokText          // text: raw character data, entities not yet decoded
	tokCDATA         // text: raw CDATA content
)

// contKind is a node the scanner is in the middle of, across reads: a CDATA
// section handed out in pieces, a comment or a processing instruction being
// skipped.
type contKind uint8

const (
	contNone contKind = iota
	contCDATA
	contComment
	contPI
)

type nsKind uint8

const (
	nsNone   nsKind = iota // no namespace
	nsGoogle               // http://base.google.com/ns/1.0
	nsAtom                 // http://www.w3.org/2005/Atom
	nsOther                // any other namespace, or an undeclared prefix
)

type nsBinding struct {
	prefix string // "" for the default namespace
	kind   nsKind
	depth  int // depth of the element that declared it
}

// rawAttr is one attribute of the current start tag, as slices of the buffer.
type rawAttr struct {
	name, value []byte
	valuePos    int // buf index of the value, for error positions
}

const (
	xmlChunk = 256 << 10 // bytes read per call
	// xmlMaxMarkup is the longest tag (name and attributes), XML declaration
	// or DOCTYPE declaration: those must be whole in the buffer, which grows to
	// at most twice this. It holds an attribute value of MaxValueBytes (an
	// Atom link's href, cut like any value) with room to spare.
	xmlMaxMarkup = 2 << 20
	// xmlMaxAttrs is the most attributes one start tag may have, so that a
	// tag of many short attributes cannot grow the list of them beyond a few
	// MiB either. No input of the fuzzer's size (256 KiB) can reach it.
	xmlMaxAttrs = 1 << 16
)

// syntaxError is a defect found at a buffer position; xmlReader turns it into
// a *ParseError with line and column.
type syntaxError struct {
	pos int
	msg string
}

func (e *syntaxError) Error() string { return e.msg }

var errTruncated = errors.New("unexpected end of file: the feed is truncated or an element is not closed")

func newXMLScanner(r io.Reader) *xmlScanner {
	return &xmlScanner{r: r, buf: make([]byte, 2*xmlChunk), line: 1}
}

func (s *xmlScanner) errAt(pos int, format string, args ...any) error {
	return &syntaxError{pos: pos, msg: fmt.Sprintf(format, args...)}
}

// lineAt returns the 1-based line and column of buffer position p. Positions
// asked about never go backwards.
func (s *xmlScanner) lineAt(p int) (line, col int) {
	if p > s.end {
		p = s.end
	}
	if p > s.lineMark {
		seg := s.buf[s.lineMark:p]
		if n := bytes.Count(seg, []byte{'\n'}); n > 0 {
			s.line += n
			s.lineStart = s.off + int64(s.lineMark+bytes.LastIndexByte(seg, '\n')+1)
		}
		s.lineMark = p
	}
	return s.line, int(s.off+int64(p)-s.lineStart) + 1
}

// fill reads more input, first moving the unread bytes to the front of the
// buffer. It reads until the buffer is full (or the input ends), and doubles
// the buffer when the unread bytes take half of it, so that a token much
// larger than the buffer is rescanned only a logarithmic number of times.
// Only markup that must be whole (a tag, a declaration) is ever left unread
// across a fill at that length, and it fails at xmlMaxMarkup bytes. It
// reports whether any new bytes arrived.
func (s *xmlScanner) fill() (bool, error) {
	if s.eof || s.rerr != nil {
		return false, s.rerr
	}
	if s.pos > 0 {
		s.lineAt(s.pos)
		if s.hashing {
			s.spillHash()
		}
		n := copy(s.buf, s.buf[s.pos:s.end])
		s.off += int64(s.pos)
		s.lineMark -= s.pos
		s.tokPos -= s.pos
		s.hashFrom -= s.pos
		s.end = n
		s.pos = 0
	}
	if s.end > len(s.buf)/2 {
		if s.end >= xmlMaxMarkup {
			return false, s.tooLong()
		}
		nb := make([]byte, 2*len(s.buf))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	start := s.end
	for zero := 0; s.end < len(s.buf); {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err != nil {
			if err == io.EOF {
				s.eof = true
			} else {
				s.rerr = err
			}
			break
		}
		if n == 0 {
			if zero++; zero > 100 {
				s.rerr = io.ErrNoProgress
				break
			}
		}
	}
	return s.end > start, nil
}

// next advances to the next token.
func (s *xmlScanner) next() (tokKind, error) {
	if s.pendingEnd {
		s.pendingEnd = false
		s.pop()
		return tokEnd, nil
	}
	for {
		if s.pos >= s.end {
			ok, err := s.fill()
			if err != nil {
				return tokEOF, err
			}
			if !ok {
				if s.rerr != nil {
					return tokEOF, s.rerr
				}
				if len(s.nameEnds) > 0 || s.cont != contNone {
					return tokEOF, s.truncated(s.end)
				}
				return tokEOF, nil
			}
		}
		s.tokPos = s.pos
		if s.cont != contNone {
			k, n, err := s.scanCont()
			if err != nil {
				return tokEOF, err
			}
			if n < 0 {
				if err := s.moreOrTruncated(); err != nil {
					return tokEOF, err
				}
				continue
			}
			s.pos += n
			if k == tokEOF {
				continue
			}
			return k, nil
		}
		if s.buf[s.pos] != '<' {
			if k, ok := s.scanText(); ok {
				return k, nil
			}
			if _, err := s.more(); err != nil {
				return tokEOF, err
			}
			continue
		}
		k, n, err := s.scanMarkup()
		if err != nil {
			return tokEOF, err
		}
		if n < 0 { // incomplete: read more and scan the markup again
			if err := s.moreOrTruncated(); err != nil {
				return tokEOF, err
			}
			continue
		}
		s.pos += n
		if k == tokEOF { // a comment, PI or DOCTYPE: nothing for the caller
			continue
		}
		return k, nil
	}
}

// more is fill for a token that is incomplete: running out of input is an error.
func (s *xmlScanner) more() (bool, error) {
	ok, err := s.fill()
	if err != nil {
		return false, err
	}
	if !ok && s.rerr != nil {
		return false, s.rerr
	}
	return ok, nil
}

func (s *xmlScanner) truncated(pos int) error {
	msg := errTruncated.Error()
	switch s.cont {
	case contCDATA:
		msg += " (inside a CDATA section)"
	case contComment:
		msg += " (inside a comment)"
	case contPI:
		msg += " (inside a processing instruction)"
	}
	if n := len(s.nameEnds); n > 0 {
		start := 0
		if n > 1 {
			start = s.nameEnds[n-2]
		}
		msg += fmt.Sprintf(" (<%s> is open)", s.names[start:s.nameEnds[n-1]])
	}
	return &syntaxError{pos: pos, msg: msg}
}

// skipWhitespace skips white space that is followed by markup, for callers
// that ignore such text (between the children of an item, between items).
func (s *xmlScanner) skipWhitespace() {
	if s.pendingEnd || s.cont != contNone {
		return
	}
	i := s.pos
	for i < s.end && isSpace(s.buf[i]) {
		i++
	}
	if i < s.end && s.buf[i] == '<' {
		s.pos = i
	}
}

// simpleContent looks past the start tag just read for the common shape of a
// value: character data without markup, then the element's own end tag
// (exactly "</name>"). It returns the raw text and the number of bytes text
// and end tag take; the caller decodes the text, then advances pos by n and
// pops the element. ok is false, and nothing is consumed, for anything else.
func (s *xmlScanner) simpleContent() (text []byte, n int, ok bool) {
	if s.pendingEnd {
		return nil, 0, false
	}
	t := s.buf[s.pos:s.end]
	i := bytes.IndexByte(t, '<')
	if i < 0 {
		return nil, 0, false
	}
	k := len(s.nameEnds)
	start := 0
	if k > 1 {
		start = s.nameEnds[k-2]
	}
	name := s.names[start:s.nameEnds[k-1]]
	e := i + 2 + len(name)
	if e >= len(t) || t[i+1] != '/' || t[e] != '>' || string(t[i+2:e]) != string(name) {
		return nil, 0, false
	}
	s.tokPos = s.pos
	return t[:i], e + 1, true
}

// scanText returns character data up to the next '<'. A long run without one
// is returned in pieces, cut so that no entity reference and no CR LF pair is
// split. ok is false when more input is needed first.
func (s *xmlScanner) scanText() (tokKind, bool) {
	t := s.buf[s.pos:s.end]
	if i := bytes.IndexByte(t, '<'); i >= 0 {
		s.text = t[:i]
		s.pos += i
		return tokText, true
	}
	if s.eof || s.rerr != nil {
		s.text = t
		s.pos = s.end
		return tokText, true
	}
	if len(t) < xmlChunk {
		return tokEOF, false
	}
	cut := len(t)
	if j := bytes.LastIndexByte(t, '&'); j >= 0 && bytes.IndexByte(t[j:], ';') < 0 {
		cut = j
	}
	if cut > 0 && t[cut-1] == '\r' {
		cut--
	}
	if cut < 2 {
		// An '&' with no ';' in a whole chunk after it: no reference is that
		// long (short of a numeric one padded with 256 KiB of zeros), so the
		// piece goes as it is, and decoding it reports the reference, rather
		// than the buffer growing to find its end.
		cut = len(t)
	}
	s.text = t[:cut]
	s.pos += cut
	return tokText, true
}

// scanMarkup scans the markup starting at buf[pos] == '<'. It returns the
// number of bytes the markup takes, or -1 when it is incomplete. Comments,
// processing instructions and declarations come back as tokEOF (skip).
func (s *xmlScanner) scanMarkup() (tokKind, int, error) {
	t := s.buf[s.pos:s.end]
	if len(t) < 2 {
		return tokEOF, -1, nil
	}
	switch t[1] {
	case '/':
		return s.scanEndTag(t)
	case '?':
		n, err := s.scanPI(t)
		return tokEOF, n, err
	case '!':
		return s.scanBang(t)
	}
	return s.scanStartTag(t)
}

var nameByte = func() (tab [256]bool) {
	for c := 0; c < 256; c++ {
		tab[c] = 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '_' || c == ':' || c == '.' || c == '-' || c >= 0x80
	}
	return
}()

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

// scanName returns the end of the name starting at t[i] (i itself when there
// is none) and false when t ends inside it.
func scanName(t []byte, i int) (int, bool) {
	for i < len(t) {
		if !nameByte[t[i]] {
			return i, true
		}
		i++
	}
	return i, false
}

func skipSpace(t []byte, i int) int {
	for i < len(t) && isSpace(t[i]) {
		i++
	}
	return i
}

// splitName splits a qualified name as encoding/xml does: "p:l" has prefix p;
// a name with an empty part ("p:", ":l") has none; more than one colon is an error.
func splitName(q []byte) (prefix, local []byte, ok bool) {
	colon := -1
	for i, c := range q {
		if c == ':' {
			if colon >= 0 {
				return nil, nil, false
			}
			colon = i
		}
	}
	if colon <= 0 || colon == len(q)-1 {
		return nil, q, true
	}
	return q[:colon], q[colon+1:], true
}

func (s *xmlScanner) scanStartTag(t []byte) (tokKind, int, error) {
	// The element name, with its colons noted on the way.
	i, colon, colons := 1, 0, 0
	for i < len(t) && nameByte[t[i]] {
		if t[i] == ':' {
			colon = i
			colons++
		}
		i++
	}
	if i >= len(t) {
		return tokEOF, -1, nil
	}
	name := t[1:i]
	if i == 1 || colons > 1 {
		return tokEOF, 0, s.errAt(s.pos+1, "expected element name after <")
	}
	prefix, local := []byte(nil), name
	if colons == 1 && colon > 1 && colon < i-1 {
		prefix, local = t[1:colon], t[colon+1:i]
	}
	s.attrs = s.attrs[:0]
	selfClosing := false
	for {
		i = skipSpace(t, i)
		if i >= len(t) {
			return tokEOF, -1, nil
		}
		c := t[i]
		if c == '>' {
			i++
			break
		}
		if c == '/' {
			if i+1 >= len(t) {
				return tokEOF, -1, nil
			}
			if t[i+1] != '>' {
				return tokEOF, 0, s.errAt(s.pos+i+1, "expected /> in element")
			}
			i += 2
			selfClosing = true
			break
		}
		j, ok := scanName(t, i)
		if !ok {
			return tokEOF, -1, nil
		}
		an := t[i:j]
		if _, _, okName := splitName(an); j == i || !okName {
			return tokEOF, 0, s.errAt(s.pos+i, "expected attribute name in element <%s>", name)
		}
		i = skipSpace(t, j)
		if i >= len(t) {
			return tokEOF, -1, nil
		}
		if t[i] != '=' {
			return tokEOF, 0, s.errAt(s.pos+i, "attribute name without = in element <%s>", name)
		}
		i = skipSpace(t, i+1)
		if i >= len(t) {
			return tokEOF, -1, nil
		}
		q := t[i]
		if q != '"' && q != '\'' {
			return tokEOF, 0, s.errAt(s.pos+i, "unquoted or missing attribute value in element <%s>", name)
		}
		k := bytes.IndexByte(t[i+1:], q)
		if k < 0 {
			if lt := bytes.IndexByte(t[i+1:], '<'); lt >= 0 {
				return tokEOF, 0, s.errAt(s.pos+i+1+lt, "unescaped < inside quoted string")
			}
			return tokEOF, -1, nil
		}
		v := t[i+1 : i+1+k]
		if lt := bytes.IndexByte(v, '<'); lt >= 0 {
			return tokEOF, 0, s.errAt(s.pos+i+1+lt, "unescaped < inside quoted string")
		}
		if len(s.attrs) == cap(s.attrs) {
			if len(s.attrs) >= xmlMaxAttrs {
				return tokEOF, 0, s.errAt(s.pos, "the start tag <%s> has more than %d attributes", shortName(name), xmlMaxAttrs)
			}
			// Doubled up to the limit: append's growth by a quarter would
			// allocate five times the list on the way to it.
			na := make([]rawAttr, len(s.attrs), min(max(2*len(s.attrs), 8), xmlMaxAttrs))
			copy(na, s.attrs)
			s.attrs = na
		}
		s.attrs = append(s.attrs, rawAttr{name: an, value: v, valuePos: s.pos + i + 1})
		i += k + 2
	}
	s.name, s.local, s.selfClosing = name, local, selfClosing
	if err := s.push(prefix); err != nil {
		return tokEOF, 0, err
	}
	if selfClosing {
		s.pendingEnd = true
	}
	return tokStart, i, nil
}

// push opens the current start tag: namespace declarations come into scope
// and the element's namespace is resolved.
func (s *xmlScanner) push(prefix []byte) error {
	depth := len(s.nameEnds) + 1
	for i := range s.attrs {
		a := &s.attrs[i]
		if len(a.name) < 5 || string(a.name[:5]) != "xmlns" {
			continue
		}
		var prefix string
		switch {
		case len(a.name) == 5:
		case a.name[5] == ':' && len(a.name) > 6:
			prefix = string(a.name[6:])
		default:
			continue
		}
		v := a.value
		if bytes.IndexByte(v, '&') >= 0 || bytes.IndexByte(v, '\r') >= 0 {
			var err error
			s.scratch, err = appendChars(s.scratch[:0], v, a.valuePos, false)
			if err != nil {
				return err
			}
			v = s.scratch
		}
		kind := nsOther
		switch string(v) {
		case "":
			kind = nsNone
		case GoogleNS:
			kind = nsGoogle
		case AtomNS:
			kind = nsAtom
		}
		s.bindings = append(s.bindings, nsBinding{prefix: prefix, kind: kind, depth: depth})
		s.bindVersion++
	}
	s.ns = s.resolve(prefix)
	s.names = append(s.names, s.name...)
	s.nameEnds = append(s.nameEnds, len(s.names))
	return nil
}

func (s *xmlScanner) resolve(prefix []byte) nsKind {
	if len(prefix) > 0 && (string(prefix) == "xml" || string(prefix) == "xmlns") {
		return nsOther
	}
	for i := len(s.bindings) - 1; i >= 0; i-- {
		if s.bindings[i].prefix == string(prefix) {
			return s.bindings[i].kind
		}
	}
	if len(prefix) == 0 {
		return nsNone
	}
	return nsOther // an undeclared prefix
}

// pop closes the innermost open element.
func (s *xmlScanner) pop() {
	n := len(s.nameEnds)
	start := 0
	if n > 1 {
		start = s.nameEnds[n-2]
	}
	s.names = s.names[:start]
	s.nameEnds = s.nameEnds[:n-1]
	for len(s.bindings) > 0 && s.bindings[len(s.bindings)-1].depth >= n {
		s.bindings = s.bindings[:len(s.bindings)-1]
		s.bindVersion++
	}
}

func (s *xmlScanner) scanEndTag(t []byte) (tokKind, int, error) {
	i, ok := scanName(t, 2)
	if !ok {
		return tokEOF, -1, nil
	}
	name := t[2:i]
	if i == 2 {
		return tokEOF, 0, s.errAt(s.pos+2, "expected element name after </")
	}
	i = skipSpace(t, i)
	if i >= len(t) {
		return tokEOF, -1, nil
	}
	if t[i] != '>' {
		return tokEOF, 0, s.errAt(s.pos+i, "invalid characters between </%s and >", name)
	}
	n := len(s.nameEnds)
	if n == 0 {
		return tokEOF, 0, s.errAt(s.pos, "unexpected end element </%s>", name)
	}
	start := 0
	if n > 1 {
		start = s.nameEnds[n-2]
	}
	if open := s.names[start:s.nameEnds[n-1]]; !bytes.Equal(open, name) {
		return tokEOF, 0, s.errAt(s.pos, "element <%s> closed by </%s>", open, name)
	}
	s.pop()
	return tokEnd, i + 1, nil
}

// scanPI skips a processing instruction. The XML declaration's encoding was
// handled before scanning began (see newXMLReader); its version is checked here.
func (s *xmlScanner) scanPI(t []byte) (int, error) {
	i, ok := scanName(t, 2)
	if !ok {
		return -1, nil
	}
	if i == 2 {
		return 0, s.errAt(s.pos+2, "expected target name after <?")
	}
	target := t[2:i]
	i = skipSpace(t, i)
	if i >= len(t) {
		return -1, nil
	}
	// encoding/xml looks for "?>" from here, so "<?x?>" ends at once.
	body := t[i:]
	k := bytes.Index(body, []byte("?>"))
	if k < 0 {
		if len(t) >= xmlChunk && string(target) != "xml" {
			s.cont = contPI // skipped as it streams (see scanCont)
			return i, nil
		}
		return -1, nil
	}
	if string(target) == "xml" {
		if v := procInst("version", body[:k]); v != "" && v != "1.0" {
			return 0, s.errAt(s.pos, "unsupported XML version %q; only version 1.0 is supported", v)
		}
	}
	return i + k + 2, nil
}

// procInst returns the value of param="…" in the body of a processing
// instruction, as encoding/xml reads it.
func procInst(param string, body []byte) string {
	p := []byte(param + "=")
	i := 0
	var sep byte
	for i < len(body) {
		sub := body[i:]
		k := bytes.Index(sub, p)
		if k < 0 || len(p)+k >= len(sub) {
			return ""
		}
		i += len(p) + k + 1
		if c := sub[len(p)+k]; c == '\'' || c == '"' {
			sep = c
			break
		}
	}
	if sep == 0 {
		return ""
	}
	j := bytes.IndexByte(body[i:], sep)
	if j < 0 {
		return ""
	}
	return string(body[i : i+j])
}

// scanBang handles "<!": a comment, a CDATA section, or a declaration such as
// DOCTYPE, which is skipped without ever being interpreted: entities it
// declares are not defined for the rest of the document.
func (s *xmlScanner) scanBang(t []byte) (tokKind, int, error) {
	if len(t) < 3 {
		return tokEOF, -1, nil
	}
	switch t[2] {
	case '-':
		if len(t) < 4 {
			return tokEOF, -1, nil
		}
		if t[3] != '-' {
			return tokEOF, 0, s.errAt(s.pos, "invalid sequence <!- not part of <!--")
		}
		k := bytes.Index(t[4:], []byte("--"))
		if k < 0 || 4+k+2 >= len(t) {
			if len(t) >= xmlChunk {
				s.cont = contComment // skipped as it streams (see scanCont)
				return tokEOF, 4, nil
			}
			return tokEOF, -1, nil
		}
		if t[4+k+2] != '>' {
			return tokEOF, 0, s.errAt(s.pos+4+k, `invalid sequence "--" not allowed in comments`)
		}
		return tokEOF, 4 + k + 3, nil
	case '[':
		if len(t) < 9 {
			return tokEOF, -1, nil
		}
		if string(t[3:9]) != "CDATA[" {
			return tokEOF, 0, s.errAt(s.pos, "invalid <![ sequence")
		}
		k := bytes.Index(t[9:], []byte("]]>"))
		if k < 0 {
			if len(t) >= xmlChunk { // handed out in pieces (see scanCont)
				n := 9 + cdataPiece(t[9:])
				s.text = t[9:n]
				s.cont = contCDATA
				return tokCDATA, n, nil
			}
			return tokEOF, -1, nil
		}
		s.text = t[9 : 9+k]
		return tokCDATA, 9 + k + 3, nil
	}
	return tokEOF, declEnd(t), nil
}

// declEnd returns the length of the declaration ("<!" but not a comment or
// CDATA section) at the start of t, or -1 when t ends inside it: it finds
// its '>', skipping quoted strings, nested <…> and comments as encoding/xml
// does. The first byte after "<!" is taken as is.
func declEnd(t []byte) int {
	inquote := byte(0)
	depth := 0
	i := 3
	for {
		if i >= len(t) {
			return -1
		}
		b := t[i]
		i++
		if inquote == 0 && b == '>' && depth == 0 {
			return i
		}
	handle:
		switch {
		case b == inquote:
			inquote = 0
		case inquote != 0:
		case b == '\'' || b == '"':
			inquote = b
		case b == '>':
			depth--
		case b == '<':
			const open = "!--"
			for k := 0; k < len(open); k++ {
				if i >= len(t) {
					return -1
				}
				b = t[i]
				i++
				if b != open[k] {
					depth++
					goto handle
				}
			}
			k := bytes.Index(t[i:], []byte("-->"))
			if k < 0 {
				return -1
			}
			i += k + 3
		}
	}
}

// scanCont goes on with the node the scanner is in the middle of (s.cont): the
// next piece of a CDATA section, or more of a comment or processing
// instruction to skip. Like scanMarkup, it returns the number of bytes taken,
// -1 when it needs more input first.
func (s *xmlScanner) scanCont() (tokKind, int, error) {
	t := s.buf[s.pos:s.end]
	switch s.cont {
	case contCDATA:
		if k := bytes.Index(t, []byte("]]>")); k >= 0 {
			s.cont = contNone
			s.text = t[:k]
			return tokCDATA, k + 3, nil
		}
		n := cdataPiece(t)
		if n == 0 {
			return tokEOF, -1, nil
		}
		s.text = t[:n]
		return tokCDATA, n, nil
	case contComment:
		k := bytes.Index(t, []byte("--"))
		switch {
		case k < 0: // all of it, but a '-' that may begin "--"
			n := len(t)
			if t[n-1] == '-' {
				n--
			}
			if n == 0 {
				return tokEOF, -1, nil
			}
			return tokEOF, n, nil
		case k+2 >= len(t): // "--" at the end: the byte after it decides
			if k == 0 {
				return tokEOF, -1, nil
			}
			return tokEOF, k, nil
		case t[k+2] != '>':
			return tokEOF, 0, s.errAt(s.pos+k, `invalid sequence "--" not allowed in comments`)
		}
		s.cont = contNone
		return tokEOF, k + 3, nil
	case contPI:
		if k := bytes.Index(t, []byte("?>")); k >= 0 {
			s.cont = contNone
			return tokEOF, k + 2, nil
		}
		n := len(t)
		if t[n-1] == '?' {
			n--
		}
		if n == 0 {
			return tokEOF, -1, nil
		}
		return tokEOF, n, nil
	}
	panic("scanCont: not in a node")
}

// cdataPiece returns how much of t, CDATA content without its "]]>", can be
// handed out now: all but a final "]" or "]]" that may begin "]]>", or a final
// CR that may begin a CR LF pair.
func cdataPiece(t []byte) int {
	n := len(t)
	switch {
	case n > 0 && t[n-1] == ']':
		n--
		if n > 0 && t[n-1] == ']' {
			n--
		}
	case n > 0 && t[n-1] == '\r':
		n--
	}
	return n
}

// tooLong is the error for markup that does not end within xmlMaxMarkup
// bytes; buf[pos:] holds its beginning.
func (s *xmlScanner) tooLong() error {
	t := s.buf[s.pos:s.end]
	what := "a tag"
	name := func(i int) string {
		j, _ := scanName(t, i)
		return shortName(t[i:j])
	}
	if len(t) >= 2 && t[0] == '<' {
		switch t[1] {
		case '/':
			what = "the end tag </" + name(2) + ">"
		case '?':
			if n := name(2); n == "xml" {
				what = "the XML declaration"
			} else {
				what = "the processing instruction <?" + n + " …?>"
			}
		case '!':
			if bytes.HasPrefix(t, []byte("<!DOCTYPE")) {
				what = "the DOCTYPE declaration"
			} else {
				what = "the declaration <!" + name(2) + " …>"
			}
		default:
			what = "the start tag <" + name(1) + " …>"
		}
	}
	return s.errAt(s.pos, "%s is longer than %d MiB, the most one tag or declaration may take", what, xmlMaxMarkup>>20)
}

// shortName is a name for an error message: its first 64 bytes at most.
func shortName(n []byte) string {
	if len(n) > 64 {
		return strings.ToValidUTF8(string(n[:64]), "") + "…"
	}
	return strings.ToValidUTF8(string(n), "\uFFFD")
}

// moreOrTruncated reads more input for a construct cut by the buffer's end;
// the end of input there is a truncated document.
func (s *xmlScanner) moreOrTruncated() error {
	ok, err := s.more()
	if err != nil {
		return err
	}
	if !ok {
		return s.truncated(s.end)
	}
	return nil
}
