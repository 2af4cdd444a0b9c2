package lint

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"slices"
	"strings"

	"github.com/feedsync/feedsync/feed"
)

// headSize is how much of the start of a feed the sniffer keeps.
const headSize = 64 << 10

// maxMarkupHits bounds the queue of raw-markup sightings between two items.
const maxMarkupHits = 1 << 14

// sniffer passes a feed's bytes through to package feed and looks at them
// on the way: it keeps the first bytes (byte order mark, header spelling)
// and, for XML, notes raw HTML tags (<br>, <p>…) written as elements inside
// values, which the XML reader turns into plain text. Sightings carry their
// line, so the Linter can give them to the item that spans that line.
type sniffer struct {
	r          io.Reader
	head       []byte
	started    bool
	compressed bool
	xml        bool

	line      int    // line of the first byte after carry
	carry     []byte // an incomplete tag at the end of the last chunk
	inCDATA   bool
	inComment bool
	elemBuf   [32]byte // local name of the innermost non-HTML element opened
	elemLen   int
	elemSeq   int
	hits      []markupHit
	forms     []formHit
}

// formHit is the start of a title, link or description element, plain or
// in the g: form, with its text (entities decoded; "" when unknown).
type formHit struct {
	line  int
	name  string
	value string
	known bool
}

type markupHit struct {
	line    int
	tag     string
	elem    string
	elemSeq int
	n       int
}

func (s *sniffer) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 {
		if len(s.head) < headSize {
			s.head = append(s.head, p[:min(n, headSize-len(s.head))]...)
		}
		if !s.started && len(s.head) >= 4 || err != nil {
			s.start()
		}
		if s.xml {
			s.scan(p[:n])
		}
	}
	return n, err
}

// start decides from the first bytes whether to look for markup.
func (s *sniffer) start() {
	if s.started {
		return
	}
	s.started = true
	h := s.head
	if bytes.HasPrefix(h, []byte{0x1f, 0x8b}) || bytes.HasPrefix(h, []byte("PK\x03\x04")) {
		s.compressed = true
		return
	}
	h = bytes.TrimPrefix(h, utf8BOM)
	h = bytes.TrimLeft(h, " \t\r\n")
	s.xml = len(h) > 0 && h[0] == '<'
	s.line = 1
}

// scan looks for tags in one chunk of XML.
func (s *sniffer) scan(chunk []byte) {
	data := chunk
	if len(s.carry) > 0 {
		data = append(s.carry, chunk...)
		s.carry = s.carry[:0:0]
	}
	pos := 0
	for pos < len(data) {
		var i int
		switch {
		case s.inCDATA:
			i = bytes.Index(data[pos:], []byte("]]>"))
		case s.inComment:
			i = bytes.Index(data[pos:], []byte("-->"))
		default:
			i = bytes.IndexByte(data[pos:], '<')
		}
		if i < 0 {
			keep := 0
			if s.inCDATA || s.inComment {
				keep = min(2, len(data)-pos)
			}
			s.line += bytes.Count(data[pos:len(data)-keep], []byte{'\n'})
			if keep > 0 {
				s.carry = append(s.carry, data[len(data)-keep:]...)
			}
			return
		}
		i += pos
		s.line += bytes.Count(data[pos:i], []byte{'\n'})
		if s.inCDATA || s.inComment {
			s.inCDATA, s.inComment = false, false
			pos = i + 3
			continue
		}
		rest := data[i:]
		if len(rest) < 80 && !bytes.ContainsAny(rest[1:], " \t\r\n/>") {
			s.carry = append(s.carry, rest...)
			return
		}
		pos = i + 1
		switch {
		case len(rest) < 2:
			continue
		case rest[1] == '/', rest[1] == '?':
			continue
		case rest[1] == '!':
			if len(rest) < 9 && (bytes.HasPrefix([]byte("<![CDATA["), rest) || bytes.HasPrefix([]byte("<!--"), rest)) {
				s.carry = append(s.carry, rest...)
				return
			}
			if bytes.HasPrefix(rest, []byte("<![CDATA[")) {
				s.inCDATA = true
				pos = i + 9
			} else if bytes.HasPrefix(rest, []byte("<!--")) {
				s.inComment = true
				pos = i + 4
			}
			continue
		}
		end := nameEnd(rest[1:min(len(rest), 80)])
		if end <= 0 {
			continue
		}
		name := rest[1 : 1+end]
		prefixed := false
		if j := bytes.LastIndexByte(name, ':'); j >= 0 {
			name, prefixed = name[j+1:], true
		}
		if !prefixed && len(name) <= 11 {
			var lb [11]byte
			for k, c := range name {
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				lb[k] = c
			}
			if tag := htmlTag(lb[:len(name)]); tag != "" {
				s.hit(tag)
				continue
			}
			switch string(lb[:len(name)]) {
			case "title", "link", "description", "summary":
				s.form(string(lb[:len(name)]), rest)
			}
		}
		// The element's name is kept as bytes; it becomes a string only
		// when a raw tag is seen inside it.
		s.elemLen = copy(s.elemBuf[:], name)
		s.elemSeq++
	}
}

// htmlTag returns the tag name if lower is one of htmlTags, else "".
func htmlTag(lower []byte) string {
	switch string(lower) {
	case "a", "b", "br", "div", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p",
		"span", "strong", "sub", "sup", "table", "td", "th", "tr", "u", "ul", "dl", "dt", "dd", "script", "style", "canvas",
		"iframe", "tbody", "thead", "small", "big", "center", "section", "article", "blockquote", "pre", "code", "s", "strike", "del":
		return string(lower)
	}
	return ""
}

// elem returns the local name of the innermost non-HTML element opened.
func (s *sniffer) elem() string { return strings.ToLower(string(s.elemBuf[:s.elemLen])) }

// form notes a plain title, link or description start tag and the text
// after it, for the conflicting-forms check.
func (s *sniffer) form(name string, tag []byte) {
	if len(s.forms) >= maxMarkupHits {
		return
	}
	if name == "summary" {
		name = "description"
	}
	h := formHit{line: s.line, name: name}
	gt := bytes.IndexByte(tag, '>')
	if gt > 0 && tag[gt-1] != '/' {
		text := tag[gt+1:]
		if bytes.HasPrefix(text, []byte("<![CDATA[")) {
			if end := bytes.Index(text, []byte("]]>")); end >= 0 {
				h.value, h.known = string(bytes.TrimSpace(text[9:end])), true
			}
		} else if lt := bytes.IndexByte(text, '<'); lt >= 0 && bytes.HasPrefix(text[lt:], []byte("</")) {
			// Only text that runs to the end tag: markup inside makes the value unknown.
			v := string(bytes.TrimSpace(text[:lt]))
			if strings.IndexByte(v, '&') >= 0 {
				v = html.UnescapeString(v)
			}
			h.value, h.known = v, v != ""
		}
	}
	s.forms = append(s.forms, h)
}

// nameEnd returns the length of the tag name at the start of b: up to white
// space, / or >; -1 when b holds none of them.
func nameEnd(b []byte) int {
	for i, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n', '/', '>':
			return i
		}
	}
	return -1
}

// hit notes a raw HTML tag; tags inside one element share one sighting.
func (s *sniffer) hit(tag string) {
	if n := len(s.hits); n > 0 && s.hits[n-1].elemSeq == s.elemSeq {
		s.hits[n-1].n++
		return
	}
	if len(s.hits) >= maxMarkupHits {
		return
	}
	s.hits = append(s.hits, markupHit{line: s.line, tag: tag, elem: s.elem(), elemSeq: s.elemSeq, n: 1})
}

// pending is a finding the parsing side found (in the raw bytes) and the
// checking side records, so that only one goroutine touches the Linter.
type pending struct {
	rule     ruleID
	line     int
	id, attr string
	msg      string
}

// attributor gives the sniffer's sightings to the items they belong to. It
// runs beside the reader: a sighting before an item's first line belongs to
// the item before it, which is kept until then.
type attributor struct {
	sn   *sniffer
	prev *feed.Item
}

// upTo turns the sightings before line into findings on the previous item.
func (a *attributor) upTo(line int, out []pending) []pending {
	sn := a.sn
	out = a.formsUpTo(line, out)
	n := 0
	for n < len(sn.hits) && sn.hits[n].line < line {
		n++
	}
	if n == 0 {
		return out
	}
	if a.prev != nil {
		var seen []string
		for _, h := range sn.hits[:n] {
			if h.line < a.prev.Line || slices.Contains(seen, h.elem) {
				continue
			}
			seen = append(seen, h.elem)
			msg := fmt.Sprintf("raw HTML <%s> inside <%s> is read as XML child elements, not text", h.tag, h.elem)
			if h.n > 1 {
				msg = fmt.Sprintf("raw HTML tags (<%s> and %d more) inside <%s> are read as XML child elements, not text", h.tag, h.n-1, h.elem)
			}
			out = append(out, pending{rule: rRawMarkup, line: h.line, id: strings.Clone(a.prev.ID()), attr: h.elem, msg: msg})
		}
	}
	sn.hits = append(sn.hits[:0], sn.hits[n:]...)
	return out
}

// formsUpTo compares the plain title, link and description seen before
// line with the g: value of the previous item. It stands in for
// Item.Shadowed when the reader does not fill it.
func (a *attributor) formsUpTo(line int, out []pending) []pending {
	sn := a.sn
	n := 0
	for n < len(sn.forms) && sn.forms[n].line < line {
		n++
	}
	if n == 0 {
		return out
	}
	if it := a.prev; it != nil && len(it.Shadowed) == 0 {
		for _, p := range sn.forms[:n] {
			if p.line < it.Line || !p.known {
				continue
			}
			g, ok := googleValue(it, p.name)
			if ok && g != p.value {
				out = append(out, pending{rule: rConflictingForms, line: p.line, id: strings.Clone(it.ID()), attr: p.name,
					msg: fmt.Sprintf("<%s> %q and <g:%s> %q differ; the g: value is used", p.name, clip(p.value), p.name, clip(g))})
			}
		}
	}
	sn.forms = append(sn.forms[:0], sn.forms[n:]...)
	return out
}

// googleValue returns the value of the g: form of an attribute.
func googleValue(it *feed.Item, name string) (string, bool) {
	for i := range it.Attrs {
		if a := &it.Attrs[i]; a.Name == name && !a.Plain {
			return a.Value, true
		}
	}
	return "", false
}
