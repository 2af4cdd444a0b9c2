package feed

import (
	"github.com/feedsync/feedsync/internal/realfeeds"

	"bufio"
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

// TestXMLRealFeedCounts reads every XML file of the real-feed folder and checks
// the item count its README lists.
func TestXMLRealFeedCounts(t *testing.T) {
	realFeedsDir := realfeeds.Dir(t)
	want := map[string]int{
		"spb-piknik-ru_virtuemart_atom.xml":       1169,
		"samsung-kz_atom_variants_trimmed.xml":    222,
		"luxemia-us_rss.xml":                      360,
		"hurom-cz_rss_unprefixed_nocurrency.xml":  18,
		"rugmosaic-rw_rss_cdata_hexcolors.xml":    10,
		"podrazdenacica-cz_rss_multishipping.xml": 1,
		"huumorikauppa-fi_rss_unprefixed.xml":     3,
		"heritage-sparrow-in_rss_minimal.xml":     1,
		"nongor-bd_rss.xml":                       1,
	}
	files, _ := filepath.Glob(filepath.Join(realFeedsDir, "*.xml"))
	if len(files) != len(want) {
		t.Errorf("found %d XML files in %s, the README lists %d", len(files), realFeedsDir, len(want))
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			n, ok := want[name]
			if !ok {
				t.Fatalf("%s is not in the README's table", name)
			}
			fh, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			r, err := NewReader(fh, f, FormatAuto)
			if err != nil {
				t.Fatal(err)
			}
			items, err := readItems(r)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != n {
				t.Errorf("got %d items, want %d", len(items), n)
			}
			if p := r.Problems(); len(p) > 0 {
				t.Errorf("problems: %v", p)
			}
			for _, it := range items {
				if it.ID() == "" {
					t.Errorf("line %d: item without id", it.Line)
				}
			}
		})
	}
}

// TestXMLRealFeedPatterns checks what the README says the real feeds hold.
func TestXMLRealFeedPatterns(t *testing.T) {
	read := func(t *testing.T, name string) []*Item {
		data, err := os.ReadFile(realfeeds.File(t, name))
		if err != nil {
			t.Skipf("real feed not available (%v): skipped", err)
		}
		items, _, err := scanXML(data, FormatAuto)
		if err != nil {
			t.Fatal(err)
		}
		return items
	}
	t.Run("PiknikMixedContentKeepsText", func(t *testing.T) {
		n := 0
		for _, it := range read(t, "spb-piknik-ru_virtuemart_atom.xml") {
			d := it.Get("description")
			if strings.Contains(d, "\n") && len(d) > 40 {
				n++
			}
			if c := it.Get("condition"); c != "new" {
				t.Fatalf("line %d: condition %q, want trimmed \"new\"", it.Line, c)
			}
		}
		if n < 400 {
			t.Errorf("%d descriptions with line breaks from <br>, want > 400 (455 hold <br>)", n)
		}
	})
	t.Run("SamsungShippingBlocks", func(t *testing.T) {
		max := 0
		for _, it := range read(t, "samsung-kz_atom_variants_trimmed.xml") {
			n := 0
			for _, a := range it.Attrs {
				if a.Name == "shipping" {
					n++
					if len(a.Sub) == 0 || a.Value != "" {
						t.Fatalf("line %d: shipping without sub-attributes: %+v", it.Line, a)
					}
				}
			}
			if n > max {
				max = n
			}
		}
		if max != 10 {
			t.Errorf("at most %d shipping blocks per entry, want 10", max)
		}
	})
}

func mustScan(t *testing.T, doc string) []*Item {
	t.Helper()
	items, problems, err := scanXML([]byte(doc), FormatRSS)
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	if len(problems) > 0 {
		t.Fatalf("unexpected problems: %v", problems)
	}
	return items
}

const rssHead = `<?xml version="1.0"?>` + "\n" + `<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel>` + "\n"

// TestXMLErrors: malformed XML stops the feed with a *ParseError that names
// the source, line, column and the nearest item id, and never yields a
// partial result silently.
func TestXMLErrors(t *testing.T) {
	cases := []struct {
		name, doc string
		line      int
		itemID    string
		msg       string
	}{
		{"MismatchedTag", rssHead + "<item><g:id>A</g:id></item>\n<item><g:id>B</g:id>\n<g:title>x</g:titel>\n</item></channel></rss>",
			5, "B", "element <g:title> closed by </g:titel>"},
		{"UnclosedAtEOF", rssHead + "<item><g:id>A</g:id></item>\n<item><g:id>B</g:id>\n<g:title>cut off",
			5, "B", "truncated"},
		{"TruncatedMidTag", rssHead + "<item><g:id>A</g:id></item>\n<item><g:id>B</g:id><g:ti",
			4, "B", "truncated"},
		{"RootNotClosed", rssHead + "<item><g:id>A</g:id></item>\n", 4, "A", "<channel> is open"},
		{"BadEntity", rssHead + "<item><g:id>A</g:id>\n<g:title>Fish &chips;</g:title></item></channel></rss>",
			4, "A", "invalid character entity &chips;"},
		{"EntityWithoutSemicolon", rssHead + "<item><g:id>A</g:id>\n<g:link>https://x/?a=1&b=2</g:link></item></channel></rss>",
			4, "A", "no semicolon"},
		{"BadCharRef", rssHead + "<item><g:title>&#0;</g:title></item></channel></rss>", 3, "", "illegal character code U+0000"},
		{"Garbage", "<rss>\x00\x01<<<>>>", 1, "", "expected element name"},
		{"UnquotedAttribute", rssHead + "<item><link href=x/></item></channel></rss>", 3, "", "unquoted"},
		{"LessThanInAttribute", rssHead + `<item><link href="a<b"/></item></channel></rss>`, 3, "", "unescaped <"},
		{"StrayEndTag", rssHead + "</item></channel></rss>", 3, "", "element <channel> closed by </item>"},
		{"EndAfterRoot", "<rss></rss></rss>", 1, "", "unexpected end element </rss>"},
		{"BadComment", rssHead + "<!-- a -- b -->", 3, "", `"--" not allowed`},
		{"UnsupportedVersion", `<?xml version="1.1"?><rss/>`, 1, "", "unsupported XML version"},
		{"UnsupportedEncoding", `<?xml version="1.0" encoding="klingon"?><rss/>`, 1, "", `unsupported encoding "klingon"`},
		{"ColonsInName", rssHead + "<item><a:b:c>x</a:b:c></item></channel></rss>", 3, "", "expected element name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newXMLReader(bufio.NewReader(strings.NewReader(c.doc)), "feed.xml", FormatRSS)
			items, err := readItems(r)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %d items and error %v, want a *ParseError", len(items), err)
			}
			if pe.Source != "feed.xml" || pe.Line != c.line || pe.ItemID != c.itemID || !strings.Contains(pe.Err.Error(), c.msg) {
				t.Errorf("got source %q line %d item %q: %v\nwant source feed.xml line %d item %q and %q", pe.Source, pe.Line, pe.ItemID, pe.Err, c.line, c.itemID, c.msg)
			}
			if pe.Column <= 0 && c.name != "UnsupportedEncoding" {
				t.Errorf("column %d, want > 0", pe.Column)
			}
			if _, err2 := r.Next(); err2 == nil || err2 == io.EOF {
				t.Errorf("Next after the error returned %v, want the error again", err2)
			}
		})
	}
}

// TestXMLNoEntityExpansion: entities declared in a DTD are never expanded,
// neither internal ones (billion laughs) nor external ones (XXE): the
// reference is an error that says so, and nothing is read from disk.
func TestXMLNoEntityExpansion(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(secret, []byte("TOP-SECRET"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"BillionLaughs": `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<rss xmlns:g="http://base.google.com/ns/1.0"><channel><item><g:id>A</g:id><g:title>&lol9;</g:title></item></channel></rss>`,
		"ExternalEntity": `<?xml version="1.0"?>
<!DOCTYPE rss [ <!ENTITY xxe SYSTEM "file://` + secret + `"> ]>
<rss xmlns:g="http://base.google.com/ns/1.0"><channel><item><g:id>A</g:id><g:title>&xxe;</g:title></item></channel></rss>`,
		"ParameterEntity": `<?xml version="1.0"?>
<!DOCTYPE rss [ <!ENTITY % ext SYSTEM "file://` + secret + `"> %ext; ]>
<rss xmlns:g="http://base.google.com/ns/1.0"><channel><item><g:id>A</g:id><g:title>&ext;</g:title></item></channel></rss>`,
		"RedefinedHTMLEntity": `<!DOCTYPE rss [ <!ENTITY nbspx "evil"> ]>
<rss xmlns:g="http://base.google.com/ns/1.0"><channel><item><g:id>A</g:id><g:title>&nbspx;</g:title></item></channel></rss>`,
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			items, _, err := scanXML([]byte(doc), FormatRSS)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %d items, error %v: want a *ParseError", len(items), err)
			}
			if !strings.Contains(pe.Error(), "never expanded") || pe.Line == 0 {
				t.Errorf("error %q should say DTD entities are never expanded, with a line", pe)
			}
			for _, it := range items {
				for _, a := range it.Attrs {
					if strings.Contains(a.Value, "lol") || strings.Contains(a.Value, "SECRET") || strings.Contains(a.Value, "evil") {
						t.Errorf("entity expanded: %s = %q", a.Name, a.Value)
					}
				}
			}
		})
	}
	t.Run("DoctypeWithoutUse", func(t *testing.T) {
		items := mustScan(t, `<!DOCTYPE rss [ <!ENTITY x "y"> <!-- > --> ]><rss xmlns:g="http://base.google.com/ns/1.0"><item><g:id>A</g:id></item></rss>`)
		if len(items) != 1 || items[0].ID() != "A" {
			t.Errorf("got %d items", len(items))
		}
	})
}

func TestXMLValues(t *testing.T) {
	t.Run("SelfClosingIsEmpty", func(t *testing.T) {
		items := mustScan(t, rssHead+`<item><g:id>A</g:id><g:description/><g:price /><g:product_detail/></item></channel></rss>`)
		it := items[0]
		for _, n := range []string{"description", "price", "product_detail"} {
			if v, ok := it.Lookup(n); !ok || v != "" {
				t.Errorf("%s = %q, %v; want present and empty", n, v, ok)
			}
		}
	})
	t.Run("GoogleFormWins", func(t *testing.T) {
		items := mustScan(t, rssHead+`<item><title>Plain</title><g:id>A</g:id><g:title>Google</g:title><link>https://plain</link></item></channel></rss>`)
		if got := items[0].All("title"); len(got) != 1 || got[0] != "Google" {
			t.Errorf("title = %q, want only the g: one", got)
		}
		if sh := items[0].Shadowed; len(sh) != 1 || sh[0].Name != "title" || sh[0].Value != "Plain" || !sh[0].Plain {
			t.Errorf("Shadowed = %+v, want the plain title", sh)
		}
		if a := items[0].Attrs[len(items[0].Attrs)-1]; a.Name != "link" || !a.Plain {
			t.Errorf("plain link without a g: form should stay, marked Plain: %+v", a)
		}
	})
	t.Run("RepeatedInOrder", func(t *testing.T) {
		items := mustScan(t, rssHead+`<item><g:id>A</g:id><g:additional_image_link>1</g:additional_image_link><g:shipping><g:country>DE</g:country></g:shipping><g:additional_image_link>2</g:additional_image_link><g:shipping><g:country>AT</g:country><g:price>1 EUR</g:price></g:shipping></item></channel></rss>`)
		if got := strings.Join(items[0].All("additional_image_link"), ","); got != "1,2" {
			t.Errorf("additional_image_link = %s", got)
		}
		var countries []string
		for _, a := range items[0].Attrs {
			if a.Name == "shipping" {
				countries = append(countries, a.Sub[0].Value)
			}
		}
		if strings.Join(countries, ",") != "DE,AT" {
			t.Errorf("shipping countries = %v", countries)
		}
	})
	t.Run("ItemLine", func(t *testing.T) {
		items := mustScan(t, "<rss xmlns:g='http://base.google.com/ns/1.0'>\n<channel>\n\n<item>\n<g:id>A</g:id></item><item\n><g:id>B</g:id></item>\n<!-- x\n\n-->\n<item><g:id>C</g:id></item>\r\n<item><g:id>D</g:id></item></channel></rss>")
		var lines []int
		for _, it := range items {
			lines = append(lines, it.Line)
		}
		if want := []int{4, 5, 10, 11}; !slices.Equal(lines, want) {
			t.Errorf("lines %v, want %v", lines, want)
		}
	})
	t.Run("InvalidUTF8SkipsItem", func(t *testing.T) {
		items, problems, err := scanXML([]byte(rssHead+"<item><g:id>A</g:id><g:title>caf\xe9</g:title></item>\n<item><g:id>B</g:id><g:title>ctl\x0b</g:title></item>\n<item><g:id>C</g:id></item></channel></rss>"), FormatRSS)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 1 || items[0].ID() != "C" {
			t.Errorf("got %d items, want only C", len(items))
		}
		if len(problems) != 2 || problems[0].ItemID != "A" || problems[0].Line != 3 ||
			!strings.Contains(problems[0].Msg, "invalid UTF-8") || !strings.HasSuffix(problems[0].Msg, "in title") ||
			problems[1].ItemID != "B" || !strings.Contains(problems[1].Msg, "U+000B") {
			t.Errorf("problems %v", problems)
		}
	})
}

// TestXMLBufferBoundaries reads the same feed in one piece, one byte at a
// time and in odd chunks, with values far larger than the scanner's buffer,
// and expects the reference's items every time.
func TestXMLBufferBoundaries(t *testing.T) {
	t.Parallel()
	var doc bytes.Buffer
	doc.WriteString(rssHead)
	big := strings.Repeat("Grüße &amp; &#233;\r\n<![CDATA[ x ]]>", 20000) // ~700 KB, entities and CRLF across chunk edges
	for i := 0; i < 2; i++ {
		doc.WriteString("<item>\r\n<g:id>BIG-" + string(rune('A'+i)) + "</g:id><g:description>" + big + "</g:description>")
		doc.WriteString("<g:title>" + strings.Repeat("x", 300000) + "</g:title>")
		doc.WriteString(`<link href="` + strings.Repeat("h", 1000) + `" rel="alternate">t</link></item>` + "\n")
	}
	doc.WriteString("</channel></rss>")
	data := doc.Bytes()
	want, err := refXML(data, FormatRSS)
	if err != nil {
		t.Fatal(err)
	}
	readers := map[string]func() io.Reader{
		"Whole":   func() io.Reader { return bytes.NewReader(data) },
		"OneByte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data)) },
		"Half":    func() io.Reader { return iotest.HalfReader(bytes.NewReader(data)) },
	}
	for name, mk := range readers {
		t.Run(name, func(t *testing.T) {
			r := newXMLReader(bufio.NewReaderSize(mk(), 64<<10), "big.xml", FormatRSS)
			got, err := readItems(r)
			if err != nil {
				t.Fatal(err)
			}
			if ok, msg := sameItems(got, want); !ok {
				t.Fatal(msg[:min(len(msg), 500)])
			}
		})
	}
}

// TestXMLBoundedMemory reads a feed of 20 MB without keeping its items and
// checks that the scanner's buffer stayed at its initial size.
func TestXMLBoundedMemory(t *testing.T) {
	t.Parallel()
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte(rssHead))
		item := []byte("<item><g:id>X</g:id><g:description>" + strings.Repeat("text &amp; more ", 100) + "</g:description></item>\n")
		for i := 0; i < 20<<20/len(item); i++ {
			pw.Write(item)
		}
		pw.Write([]byte("</channel></rss>"))
		pw.Close()
	}()
	r := newXMLReader(bufio.NewReader(pr), "stream.xml", FormatRSS)
	n := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if got := len(r.s.buf); got != 2*xmlChunk {
		t.Errorf("buffer grew to %d bytes for %d small items, want %d", got, n, 2*xmlChunk)
	}
}

// slowCheckChars is checkChars written the obvious way.
func slowCheckChars(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 || !isInCharacterRange(r) {
			return i
		}
		i += size
	}
	return -1
}

func TestCheckChars(t *testing.T) {
	for _, s := range []string{"", "plain ascii text that is long enough for words", "tab\tnl\ncr\r", "ctl\x0b", "\x00",
		"café", "caf\xe9", "\xc0\x80", "\xed\xa0\x80", "\xef\xbf\xbe", "\xef\xbf\xbd", "\xf4\x90\x80\x80", "\xf0\x9f\x98\x80",
		"Привет, мир! 日本語 – €", strings.Repeat("a", 40) + "\x7f" + strings.Repeat("b", 40) + "\x1f"} {
		if got, want := firstBad(s), slowCheckChars([]byte(s)); got != want {
			t.Errorf("checkChars(%q) = %d, want %d", s, got, want)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("abc \t\n\r\x01\x7f\x80\xbf\xc2\xd0\xe0\xe2\xed\xef\xf0\xf4\xf5\xff")
	for n := 0; n < 20000; n++ {
		b := make([]byte, rng.IntN(70))
		for i := range b {
			if rng.IntN(3) == 0 {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			} else {
				b[i] = 'a' + byte(rng.IntN(26))
			}
		}
		if got, want := firstBad(string(b)), slowCheckChars(b); got != want {
			t.Fatalf("checkChars(%q) = %d, want %d", b, got, want)
		}
	}
}

func firstBad(s string) int {
	i, _ := checkChars([]byte(s))
	return i
}

// TestXMLNoGoroutineOutlivesNext: the goroutine that finishes a batch ends
// before Next returns, so a Reader abandoned midway leaves nothing running.
func TestXMLNoGoroutineOutlivesNext(t *testing.T) {
	var doc strings.Builder
	doc.WriteString(rssHead)
	for i := 0; i < 3*batchItems; i++ {
		doc.WriteString("<item><g:id>X</g:id></item>\n")
	}
	doc.WriteString("</channel></rss>")
	before := runtime.NumGoroutine()
	r := newXMLReader(bufio.NewReader(strings.NewReader(doc.String())), "x.xml", FormatRSS)
	for i := 0; i < batchItems+5; i++ {
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
		if n := runtime.NumGoroutine(); n > before {
			t.Fatalf("after Next %d: %d goroutines, want %d", i+1, n, before)
		}
	}
}
