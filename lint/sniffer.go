package lint

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"strings"
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
	elem      string // local name of the innermost non-HTML element opened
	elemSeq   int
	names     map[string]string
	hits      []markupHit
	forms     []formHit
}

// formHit is the start of a title, link or description element, plain or
// in the g: form, with its text (entities decoded; "" when unknown).
type formHit struct {
	line  int
	name  string
	plain bool
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
	s.names = map[string]string{}
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
		end := bytes.IndexAny(rest[1:min(len(rest), 80)], " \t\r\n/>")
		if end <= 0 {
			continue
		}
		name := rest[1 : 1+end]
		if bytes.IndexByte(name, ':') < 0 && len(name) <= 10 && htmlTags[strings.ToLower(string(name))] {
			s.hit(strings.ToLower(string(name)))
			continue
		}
		prefixed := false
		if j := bytes.LastIndexByte(name, ':'); j >= 0 {
			name, prefixed = name[j+1:], true
		}
		e, ok := s.names[string(name)]
		if !ok {
			e = strings.ToLower(string(name))
			if len(s.names) < 4096 {
				s.names[e] = e
			}
		}
		s.elem = e
		s.elemSeq++
		switch e {
		case "title", "link", "description", "summary":
			s.form(e, !prefixed, rest)
		}
	}
}

// form notes a title, link or description start tag and the text after it,
// for the conflicting-forms check.
func (s *sniffer) form(name string, plain bool, tag []byte) {
	if len(s.forms) >= maxMarkupHits {
		return
	}
	if name == "summary" {
		name = "description"
	}
	h := formHit{line: s.line, name: name, plain: plain}
	gt := bytes.IndexByte(tag, '>')
	if gt > 0 && tag[gt-1] != '/' {
		text := tag[gt+1:]
		if bytes.HasPrefix(text, []byte("<![CDATA[")) {
			if end := bytes.Index(text, []byte("]]>")); end >= 0 {
				h.value, h.known = string(bytes.TrimSpace(text[9:end])), true
			}
		} else if lt := bytes.IndexByte(text, '<'); lt >= 0 {
			v := string(bytes.TrimSpace(text[:lt]))
			if strings.IndexByte(v, '&') >= 0 {
				v = html.UnescapeString(v)
			}
			h.value, h.known = v, v != ""
		}
	}
	s.forms = append(s.forms, h)
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
	s.hits = append(s.hits, markupHit{line: s.line, tag: tag, elem: s.elem, elemSeq: s.elemSeq, n: 1})
}

// markupUpTo gives the raw-markup sightings before line to the previous item.
func (l *Linter) markupUpTo(line int) {
	f := l.f
	sn := f.markup
	if sn == nil {
		return
	}
	l.formsUpTo(line)
	if len(sn.hits) == 0 {
		return
	}
	n := 0
	for n < len(sn.hits) && sn.hits[n].line < line {
		n++
	}
	if n == 0 {
		return
	}
	if f.prevLine > 0 {
		seen := map[string]bool{}
		for _, h := range sn.hits[:n] {
			if h.line < f.prevLine || seen[h.elem] {
				continue
			}
			seen[h.elem] = true
			msg := fmt.Sprintf("raw HTML <%s> inside <%s> is read as XML child elements, not text", h.tag, h.elem)
			if h.n > 1 {
				msg = fmt.Sprintf("raw HTML tags (<%s> and %d more) inside <%s> are read as XML child elements, not text", h.tag, h.n-1, h.elem)
			}
			l.report(rRawMarkup, h.line, f.prevID, h.elem, msg)
		}
	}
	sn.hits = append(sn.hits[:0], sn.hits[n:]...)
}

// formsUpTo compares the plain and g: forms of title, link and description
// seen before line, for the previous item. It stands in for Item.Shadowed
// when the reader does not fill it.
func (l *Linter) formsUpTo(line int) {
	f := l.f
	sn := f.markup
	n := 0
	for n < len(sn.forms) && sn.forms[n].line < line {
		n++
	}
	if n == 0 {
		return
	}
	if f.prevLine > 0 && !f.prevShadowed {
		hits := sn.forms[:n]
		for _, p := range hits {
			if !p.plain || !p.known || p.line < f.prevLine {
				continue
			}
			for _, g := range hits {
				if g.plain || g.name != p.name || !g.known || g.line < f.prevLine || g.value == p.value {
					continue
				}
				l.report(rConflictingForms, p.line, f.prevID, p.name, fmt.Sprintf("<%s> %q and <g:%s> %q differ; the g: value is used", p.name, clip(p.value), p.name, clip(g.value)))
				break
			}
		}
	}
	sn.forms = append(sn.forms[:0], sn.forms[n:]...)
}
