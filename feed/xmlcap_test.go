package feed

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"
)

// capBigNode is the length of the hostile nodes these tests stream: far more
// than MaxValueBytes and than the scanner's buffer, and far more than the
// allocations allowed while reading them (capMaxAlloc).
const (
	capBigNode  = 64 << 20
	capMaxAlloc = 16 << 20
	// capMidNode is for the cases where every byte past the cap is decoded
	// (entities, CR LF), slow under the race detector: still more than
	// buffering it could allocate within capMaxAlloc.
	capMidNode = 16 << 20
)

// capRep is a run of count copies of pat in a capGenReader.
type capRep struct {
	pat   string
	count int
}

// capGenReader produces a document from literal strings and reps as it is read,
// without ever holding it: a 64 MiB node costs a few KiB.
type capGenReader struct {
	parts []any // string or capRep
	off   int   // bytes of parts[0] already read
	block []byte
}

func capGen(parts ...any) *capGenReader { return &capGenReader{parts: parts} }

func (g *capGenReader) Read(p []byte) (int, error) {
	for len(g.parts) > 0 {
		switch part := g.parts[0].(type) {
		case string:
			if g.off < len(part) {
				n := copy(p, part[g.off:])
				g.off += n
				return n, nil
			}
		case capRep:
			total := len(part.pat) * part.count
			if g.off < total {
				if len(g.block) < 64<<10 || string(g.block[:len(part.pat)]) != part.pat {
					g.block = []byte(strings.Repeat(part.pat, (64<<10)/len(part.pat)+1))
				}
				from := g.off % len(part.pat)
				n := copy(p[:min(len(p), total-g.off)], g.block[from:])
				g.off += n
				return n, nil
			}
		}
		g.parts, g.off = g.parts[1:], 0
	}
	return 0, io.EOF
}

// capReadAll reads every item of r through the public API and measures the
// bytes allocated meanwhile (TotalAlloc: garbage included, so nothing
// proportional to the input can hide).
func capReadAll(t *testing.T, r io.Reader, format Format) (items []*Item, problems []Problem, err error, alloc uint64, xr *xmlReader) {
	t.Helper()
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	rd, err := NewReader(r, "big.xml", format)
	if err != nil {
		t.Fatal(err)
	}
	items, err = readItems(rd)
	runtime.ReadMemStats(&m1)
	xr = rd.(*xmlReader)
	return items, rd.Problems(), err, m1.TotalAlloc - m0.TotalAlloc, xr
}

// capCheckBounded fails when reading allocated anything like the node's size or
// when the scanner's buffer grew.
func capCheckBounded(t *testing.T, alloc uint64, xr *xmlReader) {
	t.Helper()
	if alloc > capMaxAlloc {
		t.Errorf("reading allocated %.1f MiB, want < %d MiB", float64(alloc)/(1<<20), capMaxAlloc>>20)
	}
	if got := len(xr.s.buf); got != 2*xmlChunk {
		t.Errorf("the scanner's buffer grew to %d bytes, want %d", got, 2*xmlChunk)
	}
	t.Logf("allocated %.1f MiB", float64(alloc)/(1<<20))
}

const capAtomHead = `<?xml version="1.0"?>` + "\n" + `<feed xmlns="http://www.w3.org/2005/Atom" xmlns:g="http://base.google.com/ns/1.0">` + "\n"

// TestXMLValueCap streams one 64 MiB value in each form a value takes and
// expects it cut, while streaming, to MaxValueBytes on a character boundary:
// item A kept with the value cut and a problem naming its line and id, item B
// read normally, and nothing like 64 MiB allocated.
func TestXMLValueCap(t *testing.T) {
	x := strings.Repeat("x", MaxValueBytes)
	itemB := "\n<item><g:id>B</g:id><g:title>Second</g:title><g:price>2.00 EUR</g:price></item>\n</channel></rss>"
	cases := []struct {
		name   string
		doc    *capGenReader
		format Format
		attr   string // attribute holding the cut value ("shipping.service": a sub-attribute)
		want   string // the value
		msg    string // in the problem
	}{
		{"Text", capGen(rssHead, "<item><g:id>A</g:id><g:title>", capRep{"x", capBigNode}, "</g:title><g:price>1.00 EUR</g:price></item>", itemB),
			FormatRSS, "title", x, "g:title is 67108864 bytes long, above the 1 MiB a value may take: cut to 1048576 bytes"},
		{"CDATA", capGen(rssHead, "<item><g:id>A</g:id><g:description><![CDATA[", capRep{"x", capBigNode}, "]]></g:description></item>", itemB),
			FormatRSS, "description", x, "g:description is 67108864 bytes long"},
		{"CDATAAfterText", capGen(rssHead, "<item><g:id>A</g:id><g:description>ab <![CDATA[", capRep{"x", capBigNode}, "]]></g:description></item>", itemB),
			FormatRSS, "description", "ab " + x[3:], "g:description is 67108867 bytes long"},
		{"MixedContent", capGen(rssHead, "<item><g:id>A</g:id><g:description>Intro <b>bold</b><br/><i>", capRep{"x", capBigNode}, "</i> tail<p>more</p></g:description></item>", itemB),
			FormatRSS, "description", "Intro bold\n" + x[11:], "g:description is 67108885 bytes long"},
		{"PlainMixedContent", capGen(rssHead, "<item><g:id>A</g:id><description><p>", capRep{"x", capMidNode}, "</p></description></item>", itemB),
			FormatRSS, "description", x, fmt.Sprintf("description is %d bytes long", capMidNode)}, // the <p>'s line break is trimmed
		{"SubAttribute", capGen(rssHead, "<item><g:id>A</g:id><g:shipping><g:country>DE</g:country><g:service>", capRep{"x", capBigNode}, "</g:service><g:price>4.95 EUR</g:price></g:shipping></item>", itemB),
			FormatRSS, "shipping.service", x, "g:service in g:shipping is 67108864 bytes long"},
		{"Entities", capGen(rssHead, "<item><g:id>A</g:id><g:title>", capRep{"&amp;", capMidNode / 5}, "</g:title></item>", itemB),
			FormatRSS, "title", strings.Repeat("&", MaxValueBytes), fmt.Sprintf("g:title is %d bytes long", capMidNode/5)},
		{"CRLFInCDATA", capGen(rssHead, "<item><g:id>A</g:id><g:title><![CDATA[", capRep{"ab\r\n", capMidNode / 4}, "]]></g:title></item>", itemB),
			FormatRSS, "title", strings.Repeat("ab\n", MaxValueBytes/3+1)[:MaxValueBytes], fmt.Sprintf("g:title is %d bytes long", capMidNode/4*3-1)},
		{"TwoByteCharAcrossTheCut", capGen(rssHead, "<item><g:id>A</g:id><g:title>x", capRep{"é", capBigNode / 2}, "</g:title></item>", itemB),
			FormatRSS, "title", "x" + strings.Repeat("é", (MaxValueBytes-1)/2), "g:title is 67108865 bytes long, above the 1 MiB a value may take: cut to 1048575 bytes"},
		{"FourByteCharAcrossTheCut", capGen(rssHead, "<item><g:id>A</g:id><g:title>x", capRep{"😀", capMidNode / 4}, "</g:title></item>", itemB),
			FormatRSS, "title", "x" + strings.Repeat("😀", (MaxValueBytes-1)/4), fmt.Sprintf("g:title is %d bytes long", 1+capMidNode)},
		{"CharRefsAcrossTheCut", capGen(rssHead, "<item><g:id>A</g:id><g:title>x", capRep{"&#x1F600;", capMidNode / 9}, "</g:title></item>", itemB),
			FormatRSS, "title", "x" + strings.Repeat("😀", (MaxValueBytes-1)/4), fmt.Sprintf("g:title is %d bytes long", 1+capMidNode/9*4)},
		{"Atom", capGen(capAtomHead, "<entry><g:id>A</g:id><title>T</title><summary>", capRep{"x", capBigNode}, "</summary></entry>\n<entry><g:id>B</g:id><title>Second</title></entry></feed>"),
			FormatAtom, "description", x, "summary is 67108864 bytes long"},
		{"AtomCDATAContent", capGen(capAtomHead, `<entry><g:id>A</g:id><content type="html"><![CDATA[`, capRep{"<b>x</b>", capBigNode / 8}, "]]></content></entry>\n<entry><g:id>B</g:id><title>Second</title></entry></feed>"),
			FormatAtom, "description", strings.Repeat("<b>x</b>", MaxValueBytes/8), "content is 67108864 bytes long"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			items, problems, err, alloc, xr := capReadAll(t, c.doc, c.format)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != 2 || items[0].ID() != "A" || items[1].ID() != "B" {
				t.Fatalf("got %d items, want A and B", len(items))
			}
			got := capValueOf(items[0], c.attr)
			if got != c.want {
				t.Errorf("%s: %d bytes %q…%q, want %d bytes %q…%q", c.attr, len(got), capHead(got), capTail(got), len(c.want), capHead(c.want), capTail(c.want))
			}
			if len(got) > MaxValueBytes || !utf8.ValidString(got) {
				t.Errorf("%s: %d bytes, valid UTF-8 %v: want at most %d and valid", c.attr, len(got), utf8.ValidString(got), MaxValueBytes)
			}
			if len(problems) != 1 || problems[0].Line != 3 || problems[0].ItemID != "A" || problems[0].Kind != ProblemOther ||
				!strings.Contains(problems[0].Msg, c.msg) {
				t.Errorf("problems %v, want one at line 3 for item A saying %q", problems, c.msg)
			}
			lineB := 4
			if c.name == "CRLFInCDATA" {
				lineB += capMidNode / 4 // the CDATA's line breaks
			}
			if b := items[1]; b.Get("title") != "Second" || b.Line != lineB {
				t.Errorf("item B: line %d title %q, want line %d", b.Line, b.Get("title"), lineB)
			}
			if c.attr == "shipping.service" {
				if v := capValueOf(items[0], "shipping.price"); v != "4.95 EUR" {
					t.Errorf("shipping price after the cut value = %q", v)
				}
			}
			capCheckBounded(t, alloc, xr)
		})
	}
}

// capValueOf returns an attribute's first value; "a.b" is sub-attribute b of a.
func capValueOf(it *Item, name string) string {
	parent, sub, nested := strings.Cut(name, ".")
	for _, a := range it.Attrs {
		if a.Name != parent {
			continue
		}
		if !nested {
			return a.Value
		}
		for _, s := range a.Sub {
			if s.Name == sub {
				return s.Value
			}
		}
	}
	return "<absent>"
}

// capOddReader reads in pieces of odd sizes, so that the scanner's buffer
// ends at ever different places of a node.
type capOddReader struct {
	r io.Reader
	i int
}

func (o *capOddReader) Read(p []byte) (int, error) {
	sizes := [...]int{1, 3, 7, 4093, 30011, 2, 65521, 5}
	o.i++
	return o.r.Read(p[:min(len(p), sizes[o.i%len(sizes)])])
}

func capHead(s string) string { return s[:min(len(s), 16)] }
func capTail(s string) string { return s[max(0, len(s)-16):] }

// TestXMLValueCapEdges: only the trimmed value counts against the cap, a
// value of exactly MaxValueBytes is kept whole without a problem, and the
// result does not depend on how the input arrives.
func TestXMLValueCapEdges(t *testing.T) {
	x := strings.Repeat("x", MaxValueBytes)
	spaces := capRep{" ", MaxValueBytes + 1000}
	cases := []struct {
		name  string
		parts []any
		want  string
		msg   string // "" for no problem
	}{
		{"Exactly", []any{"<g:title>", capRep{"x", MaxValueBytes}, "</g:title>"}, x, ""},
		{"ExactlyCDATA", []any{"<g:title><![CDATA[", capRep{"x", MaxValueBytes}, "]]></g:title>"}, x, ""},
		{"OneMore", []any{"<g:title>", capRep{"x", MaxValueBytes + 1}, "</g:title>"}, x, "g:title is 1048577 bytes long"},
		{"ExactlyWithBlanksAround", []any{"<g:title>\n", spaces, capRep{"x", MaxValueBytes}, spaces, "\n</g:title>"}, x, ""},
		{"ExactlyWithBreaksAround", []any{"<g:description><br/><br/>", capRep{"x", MaxValueBytes}, "<br/>\n<p/>\n</g:description>"}, x, ""},
		{"LeadingBlanksOverTheCap", []any{"<g:title>", spaces, "abc", spaces, "</g:title>"}, "abc", ""},
		{"LengthIsTrimmed", []any{"<g:title>", spaces, capRep{"x", MaxValueBytes + 10}, spaces, "</g:title>"}, x, "g:title is 1048586 bytes long"},
		{"OverByBlanksThenText", []any{"<g:title>", capRep{"x", MaxValueBytes - 10}, spaces, "y</g:title>"}, x[10:], "g:title is 2098143 bytes long"},
		{"ExactlyWithEntityAtTheEnd", []any{"<g:title>", capRep{"x", MaxValueBytes - 2}, "&#233;</g:title>"}, x[2:] + "é", ""},
		{"EntityAcrossTheCut", []any{"<g:title>", capRep{"x", MaxValueBytes - 1}, "&#233;</g:title>"}, x[1:], "g:title is 1048577 bytes long"},
		// The CR LF becomes one LF, kept; "y" is over, and trimming drops the LF.
		{"CRLFAtTheCut", []any{"<g:title>", capRep{"x", MaxValueBytes - 1}, "\r\ny</g:title>"}, x[1:], "g:title is 1048577 bytes long"},
		// A tag of 1.5 MiB grows the buffer enough for the title, end tag
		// included, to be read whole (readContent's simpleContent path).
		{"SimpleContent", []any{`<o:x xmlns:o="urn:o" a="`, capRep{"a", MaxValueBytes * 3 / 2}, `"/><g:title>`, capRep{"x", MaxValueBytes + 100}, "</g:title>"}, x, "g:title is 1048676 bytes long"},
		{"AtomHref", []any{`<link rel="alternate" href="`, capRep{"h", MaxValueBytes + MaxValueBytes/2}, `">text</link>`}, strings.Repeat("h", MaxValueBytes), "link href is 1572864 bytes long, above the 1 MiB a value may take: cut to 1048576 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := append(append([]any{rssHead, "<item><g:id>A</g:id>"}, c.parts...), "</item>\n<item><g:id>B</g:id></item></channel></rss>")
			var first []*Item
			for _, mode := range []string{"Whole", "Odd"} {
				var r io.Reader = capGen(doc...)
				if mode == "Odd" {
					r = &capOddReader{r: r}
				}
				rd, err := NewReader(r, "edge.xml", FormatRSS)
				if err != nil {
					t.Fatal(err)
				}
				items, err := readItems(rd)
				if err != nil {
					t.Fatalf("%s: %v", mode, err)
				}
				if len(items) != 2 {
					t.Fatalf("%s: %d items", mode, len(items))
				}
				attr := "title"
				switch {
				case strings.Contains(c.name, "Breaks"):
					attr = "description"
				case c.name == "AtomHref":
					attr = "link"
				}
				if got := items[0].Get(attr); got != c.want {
					t.Errorf("%s: %s is %d bytes %q…%q, want %d bytes %q…%q", mode, attr, len(got), capHead(got), capTail(got), len(c.want), capHead(c.want), capTail(c.want))
				}
				p := rd.Problems()
				switch {
				case c.msg == "" && len(p) > 0:
					t.Errorf("%s: problems %v, want none", mode, p)
				case c.msg != "" && (len(p) != 1 || !strings.Contains(p[0].Msg, c.msg) || p[0].ItemID != "A" || p[0].Line != 3):
					t.Errorf("%s: problems %v, want one for item A at line 3 saying %q", mode, p, c.msg)
				}
				if first == nil {
					first = items
				} else if ok, msg := sameItems(items, first); !ok {
					t.Errorf("%s reads differ from whole reads: %s", mode, msg[:min(len(msg), 300)])
				}
			}
		})
	}
}

// TestXMLSkippedNodesStream: the text, CDATA, comments and processing
// instructions of elements that are skipped (another vocabulary, channel
// level), however long, stream past without being held.
func TestXMLSkippedNodesStream(t *testing.T) {
	doc := capGen(rssHead,
		"<!--", capRep{"c", capBigNode}, "-->\n",
		"<?php ", capRep{"p", capBigNode}, "?>\n",
		"<description>", capRep{"d", capBigNode}, "<![CDATA[", capRep{"e", capBigNode}, "]]></description>\n",
		`<item><g:id>A</g:id><o:blob xmlns:o="urn:other">`, capRep{"t &amp; ", capBigNode / 8}, "<o:part><![CDATA[", capRep{"x]", capBigNode / 2}, "]]>",
		"<!-- ", capRep{"x-", capBigNode / 2}, "->", "<?o ?", capRep{"?x", capBigNode / 2}, "?></o:part></o:blob><g:title>A</g:title></item>\n",
		"<item><g:id>B</g:id><g:title>Second</g:title></item>\n</channel></rss>")
	items, problems, err, alloc, xr := capReadAll(t, doc, FormatRSS)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].Get("title") != "A" || items[1].Get("title") != "Second" || items[0].Line != 6 || items[1].Line != 7 {
		t.Fatalf("got %d items: %v", len(items), items)
	}
	if len(problems) > 0 {
		t.Errorf("problems: %v", problems)
	}
	capCheckBounded(t, alloc, xr)
}

// TestXMLOversizedMarkup: a tag, declaration or comment that cannot be read
// in bounded memory stops the feed with a *ParseError at the line it starts
// on, instead of being buffered.
func TestXMLOversizedMarkup(t *testing.T) {
	item := "<item><g:id>A</g:id></item>\n"
	cases := []struct {
		name string
		doc  *capGenReader
		line int
		id   string
		msg  string
	}{
		{"AttributeValue", capGen(rssHead, item, "<item><g:id>B</g:id>\n<g:link href=\"", capRep{"h", capBigNode}, "\">x</g:link></item></channel></rss>"),
			5, "B", "the start tag <g:link …> is longer than 2 MiB"},
		{"ManyAttributes", capGen(rssHead, item, "<item\n", capRep{`a="1" `, capBigNode / 6}, "></item></channel></rss>"),
			4, "A", "the start tag <item> has more than 65536 attributes"},
		{"TagName", capGen(rssHead, item, "<g:", capRep{"n", capBigNode}, ">x</g:n></channel></rss>"),
			4, "A", "the start tag <g:" + strings.Repeat("n", 62) + "… …> is longer than 2 MiB"},
		{"EndTagName", capGen(rssHead, item, "</", capRep{"n", capBigNode}, ">"),
			4, "A", "the end tag </nnnn"},
		{"Doctype", capGen("<?xml version=\"1.0\"?>\n<!DOCTYPE rss [\n<!ENTITY x \"", capRep{"y", capBigNode}, "\">]><rss/>"),
			2, "", "the DOCTYPE declaration is longer than 2 MiB"},
		{"XMLDeclaration", capGen("<?xml version=\"1.0\" ", capRep{" ", capBigNode}, "?><rss/>"),
			1, "", "the XML declaration is longer than 2 MiB"},
		{"DashesInLongComment", capGen(rssHead, item, "<!--\n", capRep{"c\n", 1 << 20}, "-- -->", capRep{"c", capBigNode}),
			1<<20 + 5, "A", `"--" not allowed in comments`},
		{"LongCommentNotClosed", capGen(rssHead, item, "</channel></rss>\n<!--", capRep{"c", capBigNode}),
			1, "A", "unexpected end of file: the feed is truncated or an element is not closed (inside a comment)"},
		{"LongCDATANotClosed", capGen(rssHead, item, "<item><g:id>B</g:id><g:title><![CDATA[", capRep{"c", capBigNode}),
			4, "B", "unexpected end of file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			items, _, err, alloc, xr := capReadAll(t, c.doc, FormatRSS)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %d items and error %v, want a *ParseError", len(items), err)
			}
			if c.name == "LongCommentNotClosed" {
				c.line = pe.Line // at the end of the input; the message is what matters
			}
			if pe.Line != c.line || pe.ItemID != c.id || !strings.Contains(pe.Err.Error(), c.msg) {
				t.Errorf("got line %d item %q: %v\nwant line %d item %q and %q", pe.Line, pe.ItemID, pe.Err, c.line, c.id, c.msg)
			}
			if alloc > capMaxAlloc {
				t.Errorf("allocated %.1f MiB, want < %d MiB", float64(alloc)/(1<<20), capMaxAlloc>>20)
			}
			if max := 2 * xmlMaxMarkup; len(xr.s.buf) > max {
				t.Errorf("the scanner's buffer grew to %d bytes, want at most %d", len(xr.s.buf), max)
			}
			t.Logf("%v; allocated %.1f MiB", pe, float64(alloc)/(1<<20))
		})
	}
}

// TestXMLMarkupBelowTheLimit: markup longer than the scanner's initial
// buffer but within xmlMaxMarkup is still read, in pieces or whole.
func TestXMLMarkupBelowTheLimit(t *testing.T) {
	doc := capGen("<?xml version=\"1.0\"?>\n<!DOCTYPE rss [<!ENTITY x \"", capRep{"y", 1 << 20}, "\">]>\n",
		`<rss xmlns:g="http://base.google.com/ns/1.0"><channel>`+"\n",
		`<item a="`, capRep{"1", 1 << 20}, `"><g:id>A</g:id><!--`, capRep{"-x", 1 << 20}, `--><g:title><![CDATA[`, capRep{"]", 1 << 20}, "]]></g:title></item>\n",
		"</channel></rss>")
	items, problems, err, _, _ := capReadAll(t, doc, FormatRSS)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].ID() != "A" || items[0].Line != 4 || items[0].Get("title") != strings.Repeat("]", 1<<20) || len(problems) > 0 {
		t.Fatalf("got %d items, problems %v", len(items), problems)
	}
}

// TestXMLValueCapMatchesReference holds the scanner to encoding/xml on random
// feeds whose comments, processing instructions, CDATA sections and values
// run to megabytes, full of what a piece must not be cut inside ("--", "?>",
// "]]>", entity references, CR LF, multi-byte characters), read whole and in
// odd-sized pieces: every value is the reference's, cut as the cap says when
// longer, with one problem per value cut.
func TestXMLValueCapMatchesReference(t *testing.T) {
	t.Parallel()
	seeds := uint64(3)
	if capRace || testing.Short() {
		seeds = 1 // encoding/xml is slow under the race detector
	}
	for seed := uint64(1); seed <= seeds; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			data := capRandomFeed(rand.New(rand.NewPCG(seed, 99)))
			want, err := refXML(data, FormatRSS)
			if err != nil {
				t.Fatal(err)
			}
			cuts := 0
			capValue := func(v string) string {
				if len(v) <= MaxValueBytes {
					return v
				}
				cuts++
				b := []byte(v[:MaxValueBytes])
				return strings.TrimRight(string(b[:utf8Cut(b)]), " \t\r\n")
			}
			var lengths []string // in document order: the plain description, shadowed, is last
			for _, it := range want {
				for _, attrs := range [][]Attr{it.Attrs, it.Shadowed} {
					for i := range attrs {
						a := &attrs[i]
						if len(a.Value) > MaxValueBytes {
							lengths = append(lengths, fmt.Sprintf(" is %d bytes long", len(a.Value)))
						}
						a.Value = capValue(a.Value)
						for j := range a.Sub {
							if len(a.Sub[j].Value) > MaxValueBytes {
								lengths = append(lengths, fmt.Sprintf(" is %d bytes long", len(a.Sub[j].Value)))
							}
							a.Sub[j].Value = capValue(a.Sub[j].Value)
						}
					}
				}
			}
			if cuts == 0 {
				t.Fatal("the random feed has no value over the cap")
			}
			for _, mode := range []string{"Whole", "Odd"} {
				var r io.Reader = bytes.NewReader(data)
				if mode == "Odd" {
					r = &capOddReader{r: r}
				}
				rd, err := NewReader(r, "random.xml", FormatRSS)
				if err != nil {
					t.Fatal(err)
				}
				got, err := readItems(rd)
				if err != nil {
					t.Fatalf("%s: %v", mode, err)
				}
				if ok, msg := sameItems(got, want); !ok {
					t.Fatalf("%s: %s", mode, msg[:min(len(msg), 400)])
				}
				p := rd.Problems()
				if len(p) != cuts {
					t.Fatalf("%s: %d problems, want %d: %v", mode, len(p), cuts, p)
				}
				for i := range p {
					if !strings.Contains(p[i].Msg, lengths[i]) {
						t.Errorf("%s: problem %q, want the length%s", mode, p[i].Msg, lengths[i])
					}
				}
			}
			t.Logf("%.1f MB, %d items, %d values cut", float64(len(data))/1e6, len(want), cuts)
		})
	}
}

// capRandomFeed writes an RSS feed of a few items with long, awkward nodes.
func capRandomFeed(rng *rand.Rand) []byte {
	var b bytes.Buffer
	b.WriteString(rssHead)
	size := func() int { // short, or a few times the scanner's reads
		if rng.IntN(2) == 0 {
			return rng.IntN(100)
		}
		return rng.IntN(400 << 10)
	}
	runs := []string{"x", "yz", " ", "\n", "\r\n", "&amp;", "&#233;", "&#x1F600;", "é", "😀", "&lt;b&gt;"}
	text := func(n int) {
		for end := b.Len() + n; b.Len() < end; {
			s := runs[rng.IntN(len(runs))]
			b.WriteString(strings.Repeat(s, 1+rng.IntN(64)))
		}
	}
	// A CDATA section: its "]" and CR may fall at any piece's end.
	cdata := func(n int) {
		b.WriteString("<![CDATA[")
		parts := []string{"a", "]", "]]", "\r\n", "\r", "<&", "é", " "}
		for end := b.Len() + n; b.Len() < end; {
			b.WriteString(strings.Repeat(parts[rng.IntN(len(parts))], 1+rng.IntN(40)))
		}
		b.WriteString("]]>")
	}
	// A comment or PI with single '-' or '?' anywhere but before its end.
	skipped := func(open, close, sep string, n int) {
		b.WriteString(open)
		for end := b.Len() + n; b.Len() < end; {
			b.WriteString(strings.Repeat("c", 1+rng.IntN(30)))
			b.WriteString(sep)
			if rng.IntN(8) == 0 {
				b.WriteString("\n")
			}
		}
		b.WriteString("c" + close)
	}
	values := 0
	value := func() {
		n := size()
		if values++; values%5 == 1 || rng.IntN(5) == 0 { // around the cap, mostly over it
			n = MaxValueBytes - 100 + rng.IntN(MaxValueBytes/4)
		}
		for parts := 1 + rng.IntN(3); parts > 0; parts-- {
			if rng.IntN(3) == 0 {
				cdata(n / parts)
			} else {
				text(n / parts)
			}
		}
	}
	for i := 0; i < 2; i++ {
		fmt.Fprintf(&b, "<item>\n<g:id>I%d</g:id>", i)
		skipped("<!--", "-->", "-", size())
		b.WriteString("<g:title>")
		value()
		b.WriteString("</g:title>\n")
		skipped("<?pi ", "?>", "?", size())
		b.WriteString("<g:description>")
		value()
		b.WriteString("<br/><b>")
		value()
		b.WriteString("</b></g:description>\n<g:shipping><g:country>DE</g:country><g:service>")
		value()
		b.WriteString("</g:service></g:shipping>\n<o:skip xmlns:o=\"urn:o\">")
		value()
		b.WriteString("</o:skip><description>")
		value()
		b.WriteString("</description></item>\n")
	}
	b.WriteString("</channel></rss>\n")
	return b.Bytes()
}

// TestXMLValueCapHugeID: an id is a value like any other, cut to
// MaxValueBytes; problems and errors quote it cut much shorter, as the
// delimited reader does, so that no message is megabytes long.
func TestXMLValueCapHugeID(t *testing.T) {
	doc := capGen(rssHead, "<item><g:id>", capRep{"i", 3 << 20}, "</g:id><g:title>", capRep{"x", 2 << 20}, "</g:title></item>\n",
		"<item><g:title>B</g:title></item>\n<item><g:id>C</g:id><g:title>x</g:titel></item></channel></rss>")
	items, problems, err, _, _ := capReadAll(t, doc, FormatRSS)
	quoted := strings.Repeat("i", delimMaxQuoted) + "…"
	var pe *ParseError
	if !errors.As(err, &pe) || pe.ItemID != "C" || pe.Line != 5 {
		t.Fatalf("error %v, want a *ParseError at line 5 near item C", err)
	}
	if len(items) != 2 || len(items[0].ID()) != MaxValueBytes || items[1].Get("title") != "B" {
		t.Fatalf("got %d items", len(items))
	}
	if len(problems) != 2 || problems[0].ItemID != quoted || problems[1].ItemID != quoted ||
		!strings.HasPrefix(problems[0].Msg, "g:id is 3145728 bytes long") || !strings.HasPrefix(problems[1].Msg, "g:title is 2097152 bytes long") {
		t.Errorf("problems %.300v", problems)
	}
	// The error after the item with the huge id quotes it short too.
	doc = capGen(rssHead, "<item><g:id>", capRep{"i", 3 << 20}, "</g:id><g:title>x</g:titel></item></channel></rss>")
	_, _, err, _, _ = capReadAll(t, doc, FormatRSS)
	if !errors.As(err, &pe) || pe.ItemID != quoted {
		t.Errorf("error %.300v, want it near item %.20q…", err, quoted)
	}
}
