package feed

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Namespaces matched by URI, never by prefix.
const (
	GoogleNS = "http://base.google.com/ns/1.0"
	AtomNS   = "http://www.w3.org/2005/Atom"
)

// xmlReader streams <item> (RSS) or <entry> (Atom) elements.
type xmlReader struct {
	dec      *xml.Decoder
	source   string
	format   Format
	problems []Problem
	lastID   string
	done     bool
}

func newXMLReader(br *bufio.Reader, source string, format Format) *xmlReader {
	var r io.Reader = br
	utf16 := false
	if head, _ := br.Peek(3); bytes.HasPrefix(head, utf8BOM) {
		_, _ = br.Discard(3)
	} else if bytes.HasPrefix(head, []byte{0xFF, 0xFE}) || bytes.HasPrefix(head, []byte{0xFE, 0xFF}) {
		r = transform.NewReader(br, unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewDecoder())
		utf16 = true
	}
	dec := xml.NewDecoder(r)
	dec.Strict = true
	// HTML's named entities (&nbsp;, &eacute;) are common in real feeds; they are a
	// fixed table, never expanded from a DTD, so no billion laughs and no XXE.
	dec.Entity = xml.HTMLEntity
	dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		l := strings.ToLower(label)
		if strings.HasPrefix(l, "utf-16") || l == "utf16" {
			if utf16 {
				return in, nil // already transcoded above
			}
			return transform.NewReader(in, unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewDecoder()), nil
		}
		enc, err := htmlindex.Get(label)
		if err != nil {
			return nil, fmt.Errorf("unsupported encoding %q", label)
		}
		return transform.NewReader(in, enc.NewDecoder()), nil
	}
	return &xmlReader{dec: dec, source: source, format: format}
}

func (x *xmlReader) Format() Format      { return x.format }
func (x *xmlReader) Problems() []Problem { return x.problems }

func (x *xmlReader) errAt(err error) error {
	line, col := x.dec.InputPos()
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		line, col = se.Line, 0
		err = errors.New(se.Msg)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || err.Error() == "unexpected EOF" {
		err = errors.New("unexpected end of file: the feed is truncated or an element is not closed")
	}
	return &ParseError{Source: x.source, Line: line, Column: col, ItemID: x.lastID, Err: err}
}

func isItemElement(n xml.Name) bool {
	switch n.Local {
	case "item":
		return n.Space != GoogleNS
	case "entry":
		return n.Space == AtomNS || n.Space == ""
	}
	return false
}

func (x *xmlReader) Next() (*Item, error) {
	if x.done {
		return nil, io.EOF
	}
	for {
		tok, err := x.dec.Token()
		if err == io.EOF {
			x.done = true
			return nil, io.EOF
		}
		if err != nil {
			x.done = true
			return nil, x.errAt(err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || !isItemElement(se.Name) {
			continue
		}
		line, _ := x.dec.InputPos()
		it := &Item{Line: line}
		if err := x.readItem(it); err != nil {
			x.done = true
			return nil, err
		}
		resolvePlain(it)
		if id := it.ID(); id != "" {
			x.lastID = id
		}
		return it, nil
	}
}

// readItem reads the children of an item up to its end tag.
func (x *xmlReader) readItem(it *Item) error {
	for {
		tok, err := x.dec.Token()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return x.errAt(err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			a, keep, err := x.readAttr(t)
			if err != nil {
				return err
			}
			if keep {
				it.Attrs = append(it.Attrs, a)
				if a.Name == "id" && !a.Plain {
					x.lastID = a.Value
				}
			}
		}
	}
}

// readAttr reads one child element of an item.
func (x *xmlReader) readAttr(start xml.StartElement) (Attr, bool, error) {
	name := start.Name
	switch {
	case name.Space == GoogleNS:
		text, sub, err := x.readContent(true)
		if err != nil {
			return Attr{}, false, err
		}
		a := Attr{Name: NormalizeName(name.Local), Sub: sub}
		if len(sub) == 0 {
			a.Value = text
		}
		return a, true, nil
	case name.Space == "" || name.Space == AtomNS:
		text, _, err := x.readContent(false)
		if err != nil {
			return Attr{}, false, err
		}
		n := NormalizeName(name.Local)
		switch n {
		case "summary", "content":
			n = "description"
		case "link":
			if href, ok := attrValue(start, "href"); ok {
				if rel, ok := attrValue(start, "rel"); ok && rel != "alternate" {
					return Attr{}, false, nil
				}
				text = strings.TrimSpace(href)
			}
		}
		return Attr{Name: n, Value: text, Plain: true}, true, nil
	default:
		// Elements of other vocabularies (c:, media:…) are not product data.
		return Attr{}, false, x.dec.Skip()
	}
}

func attrValue(se xml.StartElement, local string) (string, bool) {
	for _, a := range se.Attr {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value, true
		}
	}
	return "", false
}

// readContent reads an element's content up to its end tag. Text of nested
// markup (a <br> inside a description) is kept as a reader would see it. With
// nested true, child elements in the Google namespace that hold only text are
// returned as sub-attributes (shipping, tax…).
func (x *xmlReader) readContent(nested bool) (string, []Attr, error) {
	var text strings.Builder
	var sub []Attr
	depth := 0
	var subName string
	var subText strings.Builder
	for {
		tok, err := x.dec.Token()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return "", nil, x.errAt(err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			text.Write(t)
			if depth == 1 && subName != "" {
				subText.Write(t)
			}
		case xml.StartElement:
			depth++
			if depth == 1 && nested && t.Name.Space == GoogleNS {
				subName = NormalizeName(t.Name.Local)
				subText.Reset()
			} else if strings.EqualFold(t.Name.Local, "br") || strings.EqualFold(t.Name.Local, "p") {
				text.WriteByte('\n')
			}
		case xml.EndElement:
			if depth == 0 {
				if len(sub) > 0 {
					return "", sub, nil
				}
				return strings.TrimSpace(text.String()), nil, nil
			}
			if depth == 1 && subName != "" {
				sub = append(sub, Attr{Name: subName, Value: strings.TrimSpace(subText.String())})
				subName = ""
			}
			depth--
		}
	}
}
