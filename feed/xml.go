package feed

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Namespaces matched by URI, never by prefix.
const (
	GoogleNS = "http://base.google.com/ns/1.0"
	AtomNS   = "http://www.w3.org/2005/Atom"
)

// maxInterned bounds the table of attribute names seen, so that a hostile
// feed with millions of distinct element names cannot grow it without end.
const maxInterned = 4096

// xmlReader streams <item> (RSS) or <entry> (Atom) elements with an
// xmlScanner. Items are parsed in batches: values go into one byte arena per
// batch, attributes are spans of it. Finishing a batch (see xmlBatch.finish)
// turns each item's span into one string, its attribute values into
// substrings of it, and its attributes and sub-attributes into one slice, so
// an item costs three allocations whatever its number of attributes.
//
// What it reads, element by element:
//   - an element in the Google namespace (any prefix, or the default
//     namespace) is an attribute; its Google-namespace children are
//     sub-attributes (shipping → country, service, price), and when it has
//     none its value is all the text inside it, with a line break for each
//     <br> or <p> (mixed content);
//   - an element without namespace or in the Atom namespace is a plain
//     attribute (RSS title/link/description, Atom title/summary/id and
//     link href), dropped when the item has the Google form of it;
//   - elements of other vocabularies are skipped.
//
// A value longer than MaxValueBytes is cut as it streams, and the item kept
// with a problem; no node, however long, makes memory grow (see xmlcap.go).
//
// Where it differs from encoding/xml (the reference of the differential tests
// and fuzzers), it is more lenient, never stricter, but for the limits of
// xmlcap.go (a tag or declaration of 2 MiB, 65,536 attributes in one tag) that
// keep memory bounded: characters XML forbids
// (invalid UTF-8, control characters) in a kept value skip that item with a
// Problem instead of stopping the feed, and are not looked for in text that is
// not kept; names are not checked beyond the bytes that end them; "]]>" in
// character data is accepted; UTF-16 is recognised without a byte order mark.
// Only an XML declaration at the start of the document selects the encoding.
type xmlReader struct {
	s        *xmlScanner
	source   string
	format   Format
	problems []Problem
	lastID   []byte // id of the last item read, for errors
	curID    []byte // id of the item being read, once seen
	hasCurID bool
	err      error // sticky: a reader that failed once fails again

	cur  *xmlBatch // the batch whose items Next hands out
	pos  int       // the next item of cur
	next *xmlBatch // a parsed batch not yet finished

	names map[string]internEntry // raw local name → normalised attribute name
	cache [256]internEntry       // a direct-mapped cache in front of names

	// The batch being parsed: values, attributes and sub-attributes.
	arena []byte
	attrs []pendingAttr
	subs  []pendingAttr
	hbuf  []byte // href of an Atom link
	vbuf  []byte // scratch for text that is checked and dropped

	vc       valueCap // the value being read, against MaxValueBytes
	itemCuts []string // problems of the item being read: values cut

	// WithItemHash: each item's Raw (see itemhash.go).
	hash     bool
	hashSeed uint64
	seeds    itemSeeds
}

// pendingAttr is an attribute whose value lives in the arena at [off, off+n).
type pendingAttr struct {
	name             string
	off, n           int
	subStart, subEnd int // its sub-attributes in xmlReader.subs
	plain            bool
}

func newXMLReader(br *bufio.Reader, source string, format Format) *xmlReader {
	x := &xmlReader{source: source, format: format, names: make(map[string]internEntry)}
	r, err := decodeXMLInput(br)
	if err != nil {
		x.err = &ParseError{Source: source, Line: 1, Err: err}
		r = bytes.NewReader(nil)
	}
	x.s = newXMLScanner(r)
	return x
}

// decodeXMLInput returns the feed as UTF-8: a UTF-8 BOM is dropped, UTF-16
// (recognised by its BOM or by "<" followed or preceded by a zero byte) and
// any other encoding named in the XML declaration are transcoded.
func decodeXMLInput(br *bufio.Reader) (io.Reader, error) {
	if br.Size() < 512 {
		br = bufio.NewReaderSize(br, 4096)
	}
	head, _ := br.Peek(512)
	switch {
	case bytes.HasPrefix(head, utf8BOM):
		_, _ = br.Discard(3)
		head, _ = br.Peek(512)
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return transform.NewReader(br, unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewDecoder()), nil
	case bytes.HasPrefix(head, []byte{'<', 0}):
		return transform.NewReader(br, unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewDecoder()), nil
	case bytes.HasPrefix(head, []byte{0, '<'}):
		return transform.NewReader(br, unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewDecoder()), nil
	}
	label := declaredEncoding(head)
	if label == "" || strings.EqualFold(label, "utf-8") {
		return br, nil
	}
	l := strings.ToLower(label)
	if strings.HasPrefix(l, "utf-16") || l == "utf16" {
		return nil, fmt.Errorf("the XML declaration says %s but the file is not UTF-16 (it has no byte order mark and no zero bytes)", label)
	}
	enc, err := htmlindex.Get(label)
	if err != nil {
		return nil, fmt.Errorf("unsupported encoding %q: feedsync reads UTF-8, UTF-16, ISO-8859-x and windows-125x", label)
	}
	if enc == unicode.UTF8 || enc == encoding.Nop {
		return br, nil
	}
	return transform.NewReader(br, enc.NewDecoder()), nil
}

// declaredEncoding returns the encoding named by an XML declaration at the
// start of head (after optional white space), or "".
func declaredEncoding(head []byte) string {
	h := bytes.TrimLeft(head, " \t\r\n")
	if !bytes.HasPrefix(h, []byte("<?xml")) || len(h) < 6 || !isSpace(h[5]) && h[5] != '?' {
		return ""
	}
	end := bytes.Index(h, []byte("?>"))
	if end < 0 {
		return ""
	}
	return procInst("encoding", h[5:end])
}

func (x *xmlReader) Format() Format      { return x.format }
func (x *xmlReader) Problems() []Problem { return x.problems }

// fail turns a scanner or character error into a *ParseError and makes it sticky.
func (x *xmlReader) fail(err error) error {
	var se *syntaxError
	pe := &ParseError{Source: x.source, ItemID: itemIDFor(x.lastID), Err: err}
	if x.hasCurID {
		pe.ItemID = itemIDFor(x.curID)
	}
	if errors.As(err, &se) {
		pe.Line, pe.Column = x.s.lineAt(se.pos)
		pe.Err = errors.New(se.msg)
	} else {
		pe.Line, pe.Column = x.s.lineAt(x.s.pos)
		pe.Err = fmt.Errorf("read: %w", err)
	}
	x.err = pe
	return pe
}

// isItem reports whether the current start tag opens an item: <item> in any
// namespace, <entry> in Atom's, Google's or none.
func (x *xmlReader) isItem() bool {
	s := x.s
	switch string(s.local) {
	case "item":
		return true
	case "entry":
		return s.ns == nsNone || s.ns == nsAtom || s.ns == nsGoogle
	}
	return false
}

// Next returns the next item. Items are parsed in batches: while the items of
// one batch are handed out, nothing runs in the background; when a batch is
// used up, a goroutine turns the next parsed batch into Items (character
// checks, strings, attribute slices) while this one parses the batch after it,
// so the two cores of a small machine share the work. Every goroutine ends
// with its batch: an abandoned Reader leaves nothing running.
func (x *xmlReader) Next() (*Item, error) {
	for {
		if c := x.cur; c != nil && x.pos < len(c.items) {
			it := c.items[x.pos]
			c.items[x.pos] = nil
			x.pos++
			return it, nil
		}
		if x.cur != nil && x.cur.err != nil {
			return nil, x.cur.err
		}
		if x.cur != nil && x.cur.eof {
			return nil, io.EOF
		}
		if x.next == nil { // first call: nothing parsed yet
			x.next = newXMLBatch()
			x.parseBatch(x.next)
		}
		fin := x.next
		fin.wg.Add(1)
		go fin.finish()
		x.next = nil
		if !fin.eof && fin.err == nil {
			b := x.cur
			if b == nil {
				b = newXMLBatch()
			}
			x.parseBatch(b)
			x.next = b
		}
		fin.wg.Wait()
		x.problems = append(x.problems, fin.problems...)
		fin.problems = fin.problems[:0]
		x.cur, x.pos = fin, 0
	}
}

// xmlBatch is a run of parsed items: their values in one arena, their
// attributes as spans of it; finish turns them into Items.
type xmlBatch struct {
	arena []byte
	attrs []pendingAttr
	subs  []pendingAttr
	raw   []rawItem
	cuts  []itemCut // values cut, in item order
	err   error     // the feed stops after this batch with this error
	eof   bool      // the feed ends after this batch

	items    []*Item
	problems []Problem
	wg       sync.WaitGroup
	// donated: the Items of the batch hold strings of arena, which the
	// next parse must leave alone: it gets a new one.
	donated bool
}

// newXMLBatch returns an empty batch. Its buffers start small (a feed may
// hold one item) and keep the size they grow to, as batches are reused.
func newXMLBatch() *xmlBatch {
	return &xmlBatch{
		arena: make([]byte, 0, 16<<10),
		attrs: make([]pendingAttr, 0, 256),
		subs:  make([]pendingAttr, 0, 64),
		raw:   make([]rawItem, 0, 16),
		items: make([]*Item, 0, 16),
	}
}

// rawItem is a parsed item: its line and its spans of the batch's arena,
// attributes and sub-attributes.
type rawItem struct {
	line                 int
	raw                  [16]byte // Item.Raw
	arenaStart, arenaEnd int
	attrStart, attrEnd   int
}

// itemCut is the problem of a value cut in raw item item of a batch.
type itemCut struct {
	item int
	msg  string
}

// Batches end after this many items or arena bytes, whichever comes first.
const (
	batchItems = 128
	batchBytes = 256 << 10
)

// parseBatch parses items into b until it is full, the feed ends or fails.
func (x *xmlReader) parseBatch(b *xmlBatch) {
	if b.donated {
		b.arena, b.donated = make([]byte, 0, cap(b.arena)), false
	}
	x.arena, x.attrs, x.subs = b.arena[:0], b.attrs[:0], b.subs[:0]
	b.raw, b.items, b.cuts = b.raw[:0], b.items[:0], b.cuts[:0]
	defer func() { b.arena, b.attrs, b.subs = x.arena, x.attrs, x.subs }()
	if x.err != nil {
		b.err = x.err
		return
	}
	for len(b.raw) < batchItems && len(x.arena) < batchBytes {
		x.s.skipWhitespace()
		k, err := x.s.next()
		if err != nil {
			b.err = x.fail(err)
			return
		}
		switch k {
		case tokEOF:
			b.eof = true
			return
		case tokText:
			if err := x.checkText(); err != nil {
				b.err = x.fail(err)
				return
			}
		case tokStart:
			if !x.isItem() {
				continue
			}
			line, _ := x.s.lineAt(x.s.tokPos)
			if x.hash {
				x.s.beginHash(x.seeds.seed(x.s, x.hashSeed, x.format))
			}
			if err := x.readItem(b, line); err != nil {
				b.err = x.fail(err)
				return
			}
		}
	}
}

// checkText validates character data that is not kept (white space between
// elements, text of skipped elements): its entity references must be known.
func (x *xmlReader) checkText() error {
	t := x.s.text
	if bytes.IndexByte(t, '&') < 0 && bytes.IndexByte(t, '>') < 0 {
		return nil
	}
	if err := x.checkCDATAEnd(); err != nil {
		return err
	}
	var err error
	x.vbuf, err = appendChars(x.vbuf[:0], t, x.s.tokPos, false)
	return err
}

// checkCDATAEnd reports "]]>" in character data, which XML forbids.
func (x *xmlReader) checkCDATAEnd() error {
	t := x.s.text
	if i := bytes.Index(t, []byte("]]>")); i >= 0 {
		return &syntaxError{pos: x.s.tokPos + i, msg: "unescaped ]]> not in CDATA section"}
	}
	return nil
}

// readItem reads the children of an item up to its end tag and adds it to b.
func (x *xmlReader) readItem(b *xmlBatch, line int) error {
	x.hasCurID = false
	x.itemCuts = x.itemCuts[:0]
	r := rawItem{line: line, arenaStart: len(x.arena), attrStart: len(x.attrs)}
	for {
		x.s.skipWhitespace()
		k, err := x.s.next()
		if err != nil {
			return err
		}
		switch k {
		case tokEOF:
			return x.s.truncated(x.s.end)
		case tokEnd:
			if x.hash {
				r.raw = x.s.endHash()
			}
			r.arenaEnd, r.attrEnd = len(x.arena), len(x.attrs)
			for _, msg := range x.itemCuts {
				b.cuts = append(b.cuts, itemCut{item: len(b.raw), msg: msg})
			}
			b.raw = append(b.raw, r)
			x.noteID(r)
			return nil
		case tokText:
			if err := x.checkText(); err != nil {
				return err
			}
		case tokStart:
			if err := x.readAttr(); err != nil {
				return err
			}
		}
	}
}

// noteID remembers the id of the item just read, for errors further on.
func (x *xmlReader) noteID(r rawItem) {
	if x.hasCurID {
		x.lastID = append(x.lastID[:0], x.curID...)
		x.hasCurID = false
		return
	}
	for _, a := range x.attrs[r.attrStart:r.attrEnd] {
		if a.name == "id" {
			x.lastID = append(x.lastID[:0], x.arena[a.off:a.off+a.n]...)
			return
		}
	}
}

// finish builds the Items of the batch; an item holding characters XML does
// not allow is skipped with a problem, an item with a value cut is reported.
// It runs on its own goroutine and touches nothing but the batch.
func (b *xmlBatch) finish() {
	defer b.wg.Done()
	cuts := b.cuts
	for i, r := range b.raw {
		n := 0
		for n < len(cuts) && cuts[n].item == i {
			n++
		}
		if it := b.finishItem(r, cuts[:n]); it != nil {
			b.items = append(b.items, it)
		}
		cuts = cuts[n:]
	}
}

// finishItem builds the Item of r; cuts are its values cut.
func (b *xmlBatch) finishItem(r rawItem, cuts []itemCut) *Item {
	arena := b.arena[r.arenaStart:r.arenaEnd]
	attrs := b.attrs[r.attrStart:r.attrEnd]
	if bad, msg := checkChars(arena); bad >= 0 {
		bad += r.arenaStart
		id := ""
		for _, a := range attrs {
			if a.name == "id" && !a.plain {
				id = itemIDFor(b.arena[a.off : a.off+a.n])
				break
			}
		}
		name := ""
		for _, a := range attrs {
			if bad >= a.off && bad < a.off+a.n {
				name = a.name
			}
			for _, sa := range b.subs[a.subStart:a.subEnd] {
				if bad >= sa.off && bad < sa.off+sa.n {
					name = sa.name
				}
			}
		}
		if name != "" {
			msg += " in " + name
		}
		b.reportCuts(r, cuts, id)
		b.problems = append(b.problems, Problem{Line: r.line, ItemID: id, Kind: ProblemSkippedItem, Msg: "item skipped: " + msg})
		return nil
	}
	// The values are strings of the batch's arena itself, not a copy: the
	// arena is never written again once its items are made (donated).
	var str string
	if len(arena) > 0 {
		str = unsafe.String(&arena[0], len(arena))
		b.donated = true
	}
	base := r.arenaStart
	it := &Item{Line: r.line, Raw: r.raw}
	nsub := 0
	for _, a := range attrs {
		nsub += a.subEnd - a.subStart
	}
	// One allocation for the attributes and, after them, their sub-attributes.
	var subs []Attr
	if len(attrs) > 0 {
		all := make([]Attr, len(attrs)+nsub)
		it.Attrs = all[:len(attrs):len(attrs)]
		subs = all[len(attrs):len(attrs)]
	}
	for i, a := range attrs {
		at := &it.Attrs[i]
		at.Name, at.Value, at.Plain = a.name, str[a.off-base:a.off-base+a.n], a.plain
		if a.subEnd > a.subStart {
			start := len(subs)
			for _, sa := range b.subs[a.subStart:a.subEnd] {
				subs = append(subs, Attr{Name: sa.name, Value: str[sa.off-base : sa.off-base+sa.n]})
			}
			at.Sub = subs[start:len(subs):len(subs)]
		}
	}
	dropShadowedPlain(it)
	if len(cuts) > 0 {
		b.reportCuts(r, cuts, itemIDFor([]byte(it.ID()))) // a copy: a substring would keep the item alive
	}
	return it
}

// reportCuts adds a problem for each value of the item that was cut.
func (b *xmlBatch) reportCuts(r rawItem, cuts []itemCut, id string) {
	for _, c := range cuts {
		b.problems = append(b.problems, Problem{Line: r.line, ItemID: id, Kind: ProblemOther, Msg: c.msg})
	}
}

// dropShadowedPlain is resolvePlain (xmlref_test.go) without its map: plain attributes whose
// name also appears in Google form move to Item.Shadowed. Items hold a few
// dozen attributes, so comparing names pairwise is cheaper than hashing them.
func dropShadowedPlain(it *Item) {
	attrs := it.Attrs
	shadowed := false
	for i := range attrs {
		if attrs[i].Plain && hasGoogleForm(attrs, attrs[i].Name) {
			shadowed = true
			break
		}
	}
	if !shadowed {
		return
	}
	out := attrs[:0]
	for _, a := range attrs {
		if a.Plain && hasGoogleForm(attrs, a.Name) {
			it.Shadowed = append(it.Shadowed, a)
			continue
		}
		out = append(out, a)
	}
	clear(attrs[len(out):])
	it.Attrs = out
}

func hasGoogleForm(attrs []Attr, name string) bool {
	for i := range attrs {
		if !attrs[i].Plain && attrs[i].Name == name {
			return true
		}
	}
	return false
}

// attrName returns the normalised attribute name for a local element name,
// without allocating for names seen before.
func (x *xmlReader) attrName(local []byte) string {
	if len(local) == 0 {
		return NormalizeName("")
	}
	e := &x.cache[(len(local)*31+int(local[0])*7+int(local[len(local)-1]))&255]
	if e.raw == string(local) && e.name != "" {
		return e.name
	}
	ie, ok := x.names[string(local)]
	if !ok {
		ie = internEntry{raw: string(local)}
		ie.name = NormalizeName(ie.raw)
		if len(x.names) >= maxInterned {
			return ie.name
		}
		x.names[ie.raw] = ie
	}
	*e = ie
	return ie.name
}

// internEntry maps a raw local name to its attribute name.
type internEntry struct{ raw, name string }

// span returns the trimmed extent of arena[start:].
func (x *xmlReader) span(start int) (off, n int) {
	v := x.arena[start:]
	i, j := 0, len(v)
	for i < j && asciiSpaceByte(v[i]) {
		i++
	}
	for j > i && asciiSpaceByte(v[j-1]) {
		j--
	}
	if i < j && (v[i] >= 0x80 || v[j-1] >= 0x80) { // Unicode spaces: the slow way
		t := bytes.TrimSpace(v[i:j])
		if len(t) == 0 {
			return start + i, 0
		}
		i += bytes.Index(v[i:j], t)
		j = i + len(t)
	}
	return start + i, j - i
}

func asciiSpaceByte(c byte) bool {
	return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f'
}

// readAttr reads one child element of an item; the scanner is on its start tag.
func (x *xmlReader) readAttr() error {
	s := x.s
	switch s.ns {
	case nsGoogle:
		name := x.attrName(s.local)
		subStart := len(x.subs)
		off, n, cut, err := x.readContent(true)
		if err != nil {
			return err
		}
		if cut != "" {
			x.itemCuts = append(x.itemCuts, cut)
		}
		x.attrs = append(x.attrs, pendingAttr{name: name, off: off, n: n, subStart: subStart, subEnd: len(x.subs)})
		if name == "id" {
			x.curID = append(x.curID[:0], x.arena[off:off+n]...)
			x.hasCurID = true
		}
		return nil
	case nsNone, nsAtom:
		name := x.attrName(s.local)
		switch name {
		case "summary", "content":
			name = "description"
		}
		href, drop := false, false
		hrefName := ""
		if name == "link" {
			var err error
			if href, drop, err = x.linkHref(); err != nil {
				return err
			}
			if href && len(x.hbuf) > MaxValueBytes {
				hrefName = shortName(s.name)
			}
		}
		start := len(x.arena)
		off, n, cut, err := x.readContent(false)
		if err != nil {
			return err
		}
		if drop {
			x.arena = x.arena[:start]
			return nil
		}
		if href {
			x.arena = append(x.arena[:start], x.hbuf...)
			off, n = x.span(start)
			n, cut = x.capHref(off, n, hrefName)
		}
		if cut != "" {
			x.itemCuts = append(x.itemCuts, cut)
		}
		x.attrs = append(x.attrs, pendingAttr{name: name, off: off, n: n, plain: true})
		return nil
	}
	return x.skip()
}

// linkHref looks at the attributes of an Atom <link>: with href, the value is
// the href (copied to hbuf), unless rel says it is not the alternate link, in
// which case the element is dropped.
func (x *xmlReader) linkHref() (href, drop bool, err error) {
	var hrefAttr, relAttr *rawAttr
	for i := range x.s.attrs {
		a := &x.s.attrs[i]
		switch string(a.name) {
		case "href":
			if hrefAttr == nil {
				hrefAttr = a
			}
		case "rel":
			if relAttr == nil {
				relAttr = a
			}
		}
	}
	if hrefAttr == nil {
		return false, false, nil
	}
	if relAttr != nil {
		x.vbuf, err = appendChars(x.vbuf[:0], relAttr.value, relAttr.valuePos, false)
		if err != nil {
			return false, false, err
		}
		if string(x.vbuf) != "alternate" {
			return false, true, nil
		}
	}
	x.hbuf, err = appendChars(x.hbuf[:0], hrefAttr.value, hrefAttr.valuePos, false)
	return true, false, err
}

// readContent reads the content of the element whose start tag was just
// read, up to its end tag, into the arena, and returns the span of its value:
// all its text, trimmed, with a line break for each <br> or <p>. With nested
// set, each child in the Google namespace becomes a sub-attribute holding that
// child's own text (appended to x.subs); the element's own value is then
// empty, so its text is no longer collected once the first one starts.
//
// A value longer than MaxValueBytes is cut (see xmlcap.go): cut is the
// problem's message for the element's own value; a sub-attribute's goes to
// x.itemCuts. Unlike encoding/xml it does not look for a stray "]]>" in kept
// text: that would cost a pass over every value and cannot change what is read.
func (x *xmlReader) readContent(nested bool) (off, n int, cut string, err error) {
	s := x.s
	start := len(x.arena)
	// The common case, <g:price>15.00 EUR</g:price>: text, then the end tag.
	if text, n, ok := s.simpleContent(); ok {
		if len(text) <= MaxValueBytes {
			x.arena, err = appendChars(x.arena, text, s.pos, false)
		} else {
			x.capStart(start)
			if err = x.appendCapped(text, s.pos, false, 0, false); err == nil {
				cut = x.capEnd()
			}
		}
		if err != nil {
			return 0, 0, "", err
		}
		s.pos += n
		s.pop()
		off, n := x.span(start)
		return off, n, cut, nil
	}
	x.capStart(start)
	dead := false
	depth := 0
	var subName string
	subOff := 0
	for {
		k, err := s.next()
		if err != nil {
			return 0, 0, "", err
		}
		switch k {
		case tokEOF:
			return 0, 0, "", s.truncated(s.end)
		case tokText, tokCDATA:
			if !dead {
				err = x.appendValue(k, depth, false)
			} else if depth == 1 && subName != "" {
				err = x.appendValue(k, 0, true)
			} else if k == tokText {
				err = x.checkText()
			}
			if err != nil {
				return 0, 0, "", err
			}
		case tokStart:
			depth++
			if depth == 1 && nested && s.ns == nsGoogle {
				if !dead {
					x.arena = x.arena[:start]
					dead = true
				}
				subName = x.attrName(s.local)
				subOff = len(x.arena)
				x.capStart(subOff)
			} else if !dead && isBreak(s.local) {
				x.appendBreak(depth)
			}
		case tokEnd:
			if depth == 0 {
				if dead {
					return len(x.arena), 0, "", nil
				}
				cut := x.capEnd()
				off, n := x.span(start)
				return off, n, cut, nil
			}
			if depth == 1 && subName != "" {
				if cut := x.capEnd(); cut != "" {
					x.itemCuts = append(x.itemCuts, cut)
				}
				off, n := x.span(subOff)
				x.subs = append(x.subs, pendingAttr{name: subName, off: off, n: n})
				subName = ""
			}
			depth--
		}
	}
}

// isBreak reports whether an element inside a text value stands for a line
// break: <br> or <p>, any case.
func isBreak(local []byte) bool {
	switch len(local) {
	case 1:
		return local[0]|0x20 == 'p'
	case 2:
		return local[0]|0x20 == 'b' && local[1]|0x20 == 'r'
	}
	return false
}

// skip reads past the element whose start tag was just read.
func (x *xmlReader) skip() error {
	depth := 0
	for {
		k, err := x.s.next()
		if err != nil {
			return err
		}
		switch k {
		case tokEOF:
			return x.s.truncated(x.s.end)
		case tokText:
			if err := x.checkText(); err != nil {
				return err
			}
		case tokStart:
			depth++
		case tokEnd:
			if depth == 0 {
				return nil
			}
			depth--
		}
	}
}
