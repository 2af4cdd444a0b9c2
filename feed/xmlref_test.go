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

// refXMLReader is the encoding/xml-based reader feedsync shipped before the
// streaming scanner of xml.go. It is slow (~30 MB/s) but its XML handling is
// the standard library's, so the differential tests and fuzzers hold the
// scanner to it: on input encoding/xml accepts, both must yield the same items.
//
// It differs from the original in two documented ways, both mirrored by the
// scanner: an <item> or <entry> in the Google namespace counts as an item (so
// that a feed with Google as its default namespace works), and Item.Line is
// the line of the item's '<', not of its '>'.
type refXMLReader struct {
	dec    *xml.Decoder
	source string
	format Format
	lastID string
	done   bool
}

func newRefXMLReader(br *bufio.Reader, source string, format Format) *refXMLReader {
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
	dec.Entity = xml.HTMLEntity
	dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		l := strings.ToLower(label)
		if strings.HasPrefix(l, "utf-16") || l == "utf16" {
			if utf16 {
				return in, nil
			}
			return transform.NewReader(in, unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewDecoder()), nil
		}
		enc, err := htmlindex.Get(label)
		if err != nil {
			return nil, fmt.Errorf("unsupported encoding %q", label)
		}
		return transform.NewReader(in, enc.NewDecoder()), nil
	}
	return &refXMLReader{dec: dec, source: source, format: format}
}

func (x *refXMLReader) Format() Format      { return x.format }
func (x *refXMLReader) Problems() []Problem { return nil }

func (x *refXMLReader) errAt(err error) error {
	line, col := x.dec.InputPos()
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		line, col = se.Line, 0
		err = errors.New(se.Msg)
	}
	return &ParseError{Source: x.source, Line: line, Column: col, ItemID: x.lastID, Err: err}
}

func refIsItemElement(n xml.Name) bool {
	switch n.Local {
	case "item":
		return true
	case "entry":
		return n.Space == AtomNS || n.Space == "" || n.Space == GoogleNS
	}
	return false
}

func (x *refXMLReader) Next() (*Item, error) {
	if x.done {
		return nil, io.EOF
	}
	for {
		line, _ := x.dec.InputPos()
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
		if !ok || !refIsItemElement(se.Name) {
			continue
		}
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

func (x *refXMLReader) readItem(it *Item) error {
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

func (x *refXMLReader) readAttr(start xml.StartElement) (Attr, bool, error) {
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
			if href, ok := refAttrValue(start, "href"); ok {
				if rel, ok := refAttrValue(start, "rel"); ok && rel != "alternate" {
					return Attr{}, false, nil
				}
				text = strings.TrimSpace(href)
			}
		}
		return Attr{Name: n, Value: text, Plain: true}, true, nil
	default:
		return Attr{}, false, x.dec.Skip()
	}
}

func refAttrValue(se xml.StartElement, local string) (string, bool) {
	for _, a := range se.Attr {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value, true
		}
	}
	return "", false
}

func (x *refXMLReader) readContent(nested bool) (string, []Attr, error) {
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

// resolvePlain drops plain (non-Google) attributes that also exist in their
// Google form, so that the g: value wins, and trims values.
func resolvePlain(it *Item) {
	hasPlain := false
	for i := range it.Attrs {
		if it.Attrs[i].Plain {
			hasPlain = true
			break
		}
	}
	if !hasPlain {
		return
	}
	google := make(map[string]bool)
	for _, a := range it.Attrs {
		if !a.Plain {
			google[a.Name] = true
		}
	}
	out := it.Attrs[:0]
	for _, a := range it.Attrs {
		if a.Plain && google[a.Name] {
			it.Shadowed = append(it.Shadowed, a)
			continue
		}
		out = append(out, a)
	}
	it.Attrs = out
}
