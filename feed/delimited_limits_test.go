package feed

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// delimGenReader produces head, then size bytes of a repeated pattern, then tail,
// without holding the middle part: a feed with a row of hundreds of MB costs
// the test nothing.
type delimGenReader struct {
	head, tail []byte
	pattern    []byte
	size       int64 // bytes of pattern still to produce
	off        int   // position in pattern
}

func newDelimGenReader(head string, pattern string, size int64, tail string) *delimGenReader {
	// Whole repeats of the pattern, 64 KiB or more: few and large copies.
	p := strings.Repeat(pattern, (64<<10)/len(pattern)+1)
	return &delimGenReader{head: []byte(head), pattern: []byte(p), size: size, tail: []byte(tail)}
}

func (g *delimGenReader) Read(p []byte) (int, error) {
	n := 0
	if len(g.head) > 0 {
		k := copy(p, g.head)
		g.head = g.head[k:]
		n += k
	}
	for n < len(p) && g.size > 0 {
		chunk := g.pattern[g.off:]
		if int64(len(chunk)) > g.size {
			chunk = chunk[:g.size]
		}
		k := copy(p[n:], chunk)
		n += k
		g.size -= int64(k)
		g.off = (g.off + k) % len(g.pattern)
	}
	if n < len(p) && g.size == 0 && len(g.tail) > 0 {
		k := copy(p[n:], g.tail)
		g.tail = g.tail[k:]
		n += k
	}
	if n == 0 && len(g.head) == 0 && g.size == 0 && len(g.tail) == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// TestDelimitedOverlongRow: a row longer than maxRowBytes (64 MiB) is one
// skipped row, reported once with its line and, when readable, its id, in a
// message of a few hundred bytes at most; the rows after it read as usual,
// on their right lines. Before, a 100 MB row was split at 64 MiB into two
// skipped rows, the second one's "id" 37 MB long.
func TestDelimitedOverlongRow(t *testing.T) {
	const size = 70_000_000 // over maxRowBytes, 67.1 MB
	x := strings.Repeat("x", 63) + " "
	tests := []struct {
		name          string
		head, pattern string
		tail          string
		size          int64  // of the pattern part; size when 0
		line          int    // of the skipped row
		id            string // of the skipped row, as reported
		items         int    // read in all
		last          int    // line of the last item
		core          bool   // run under the race detector and -short too
	}{
		{
			name: "CSVPlainDescription100MB", head: "id,title,description\nA1,Hat,", pattern: x, tail: "\nA2,Cap,ok\n", size: 100_000_000,
			line: 2, id: "A1", items: 1, last: 3, core: true,
		},
		{
			name: "TSVPlainDescription", head: "id\ttitle\tdescription\r\nA0\tShirt\tok\r\nA1\tHat\t", pattern: x, tail: "\r\nA2\tCap\tok\r\n",
			line: 3, id: "A1", items: 2, last: 4,
		},
		{
			// Line breaks inside the quoted value do not end the row, and
			// are counted; its lines are not read as rows.
			name: "CSVQuotedMultiLine", head: "id,title,description\n\nA1,Hat,\"", pattern: strings.Repeat("y", 62) + "\n" + `""`, tail: "\"\nA2,Cap,ok\n",
			line: 3, id: "A1", items: 1, last: 3 + size/65 + 1, core: true,
		},
		{
			name: "CSVManyFields", head: "id,title,description\nA1,", pattern: "a,b,c,", tail: "\nA2,Cap,ok\n",
			line: 2, id: "A1", items: 1, last: 3,
		},
		{
			name: "TSVEmptyFields", head: "id\ttitle\nA1\t", pattern: "\t", tail: "x\nA2\tCap\n",
			line: 2, id: "A1", items: 1, last: 3,
		},
		{
			// The id is the long value: what is quoted of it is cut.
			name: "TSVLongID", head: "id\ttitle\n", pattern: x, tail: "\tHat\nA2\tCap\n",
			line: 2, id: strings.Repeat(x, 4)[:delimMaxQuoted] + "…", items: 1, last: 3,
		},
		{
			// The id column comes after the long value: not readable.
			name: "CSVIDAfterTheLongValue", head: "title,description,id\nHat,\"", pattern: x, tail: "\",A1\nCap,ok,A2\n",
			line: 2, id: "", items: 1, last: 3,
		},
		{
			name: "LastRowWithoutLineEnd", head: "id,title\nA0,Hat\nA1,", pattern: x, tail: "",
			line: 3, id: "A1", items: 1, last: 2,
		},
		{
			// A quote in the middle of a raw field is an ordinary byte.
			name: "TSVRawQuotes", head: "id\tdescription\nA1\t36\" flat", pattern: `a "quoted" word `, tail: "\nA2\tok\n",
			line: 2, id: "A1", items: 1, last: 3,
		},
		{
			// The window's cap falls inside a quoted field, a later quoted
			// field takes the row over a line end.
			name: "CSVQuotedFieldsAcrossTheCap", head: "id,description,note\nA1,", pattern: `"a, ""b""",`, tail: "\"c\nd\"\nA2,ok,ok\n", size: 11 * 6_363_637, // whole patterns
			line: 2, id: "A1", items: 1, last: 4, core: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.core && (delimRace || testing.Short()) {
				t.Skip("moves 70 MB: not under the race detector or -short")
			}
			n := tt.size
			if n == 0 {
				n = size
			}
			items, problems, err := readAll(t, newDelimGenReader(tt.head, tt.pattern, n, tt.tail), FormatAuto)
			if err != nil {
				t.Fatalf("error %.300v", err)
			}
			if len(problems) != 1 {
				for i := range problems[:min(len(problems), 3)] {
					problems[i].ItemID = delimClip(problems[i].ItemID)
					problems[i].Msg = delimClip(problems[i].Msg)
				}
				t.Fatalf("got %d problems (%v), want 1", len(problems), problems[:min(len(problems), 3)])
			}
			p := problems[0]
			if p.Kind != ProblemSkippedItem || p.Line != tt.line || p.ItemID != tt.id {
				t.Errorf("problem %v: kind %d, line %d, id %q; want a skipped row on line %d, id %q", p, p.Kind, p.Line, p.ItemID, tt.line, tt.id)
			}
			if len(p.String()) >= 1024 || !strings.Contains(p.Msg, "64 MiB") {
				t.Errorf("problem of %d bytes, want a short one naming the limit: %.300s", len(p.String()), p.String())
			}
			if len(items) != tt.items {
				t.Fatalf("got %d items, want %d", len(items), tt.items)
			}
			if it := items[len(items)-1]; it.Line != tt.last || strings.Contains(dump(items), "x") {
				t.Errorf("items %.300s: want the last on line %d, none from the long row", dump(items), tt.last)
			}
		})
	}
}

// TestDelimitedStrayQuoteAtTheCap: a field that opens with a quote never
// closed, followed by more than maxRowBytes of rows that split into the
// header's fields, is a stray quote, read raw as before: the rows after it
// are not swallowed.
func TestDelimitedStrayQuoteAtTheCap(t *testing.T) {
	for _, sep := range []string{"\t", ","} {
		row := "B" + sep + strings.Repeat("r", 2000) + "\n"
		const rows = 36_000 // 72 MB
		items, problems, err := readAll(t, newDelimGenReader("id"+sep+"description\nA1"+sep+"\"12 inch pan\n", row, int64(rows*len(row)), ""), FormatAuto)
		if err != nil || len(problems) != 0 || len(items) != rows+1 {
			t.Fatalf("sep %q: %d items, problems %v, error %.300v; want %d items", sep, len(items), problems, err, rows+1)
		}
		if got := items[0].Get("description"); got != `"12 inch pan` {
			t.Errorf("sep %q: description %q", sep, got)
		}
	}
}

// TestDelimitedOverlongRowMemory: skipping a row of 200 MB allocates no more
// than the window's growth to its cap: nothing grows with the row.
func TestDelimitedOverlongRowMemory(t *testing.T) {
	const size = 200_000_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	items, problems, err := readAll(t, newDelimGenReader("id,description\nA1,", strings.Repeat("z", 4095)+",", size, "\nA2,ok\n"), FormatAuto)
	runtime.ReadMemStats(&after)
	if err != nil || len(items) != 1 || len(problems) != 1 {
		t.Fatalf("got %d items, %d problems, error %v; want 1 and 1", len(items), len(problems), err)
	}
	// The window doubles from 4 MiB to maxRowBytes: under 2*maxRowBytes
	// in all. Holding the row would take more than size.
	if got := after.TotalAlloc - before.TotalAlloc; got > 2*maxRowBytes+8<<20 {
		t.Errorf("allocated %d MiB to skip a %d MB row, want under %d MiB", got>>20, size/1_000_000, (2*maxRowBytes+8<<20)>>20)
	}
}

// TestDelimitedOverlongRowErrors: a header row longer than maxRowBytes, and a
// long row whose quoted field is still open at the end of the input, stop
// the feed with a short *ParseError.
func TestDelimitedOverlongRowErrors(t *testing.T) {
	const size = 70 << 20
	_, _, err := readAll(t, newDelimGenReader("id,", "title", size, "\nA1,Hat\n"), FormatAuto)
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 1 || !strings.Contains(err.Error(), "header row is longer than 64 MiB") {
		t.Errorf("long header: got %v, want a ParseError on line 1", err)
	}
	items, _, err := readAll(t, newDelimGenReader("id,title,description\nA1,Hat,ok\nA2,Cap,x", "long text ", size, `,"opened and never closed`), FormatAuto)
	if !errors.As(err, &pe) || pe.Line != 3 || pe.ItemID != "A2" || len(err.Error()) > 1024 || !strings.Contains(err.Error(), "ends inside a quoted field") || len(items) != 1 {
		t.Errorf("long row cut inside a quoted field: %d items, error %.300v; want A1, then a ParseError on line 3 near A2", len(items), err)
	}
}

// TestDelimitedLongValueCut: a value longer than MaxValueBytes, in a row of
// acceptable length, is cut to MaxValueBytes on a character boundary; the
// item is kept and the cut reported (ProblemOther), as the XML reader does.
func TestDelimitedLongValueCut(t *testing.T) {
	euro := strings.Repeat("€", MaxValueBytes/3+100) // 3 bytes each: the cut falls inside one
	quoted := strings.Repeat(`say ""hi"" `, MaxValueBytes/9+10)
	longID := strings.Repeat("ID", MaxValueBytes/2+10)
	in := "id,title,description\n" +
		"A1,Hat," + euro + "\n" +
		"A2,\"Cap\",\"" + quoted + "\"\n" +
		longID + ",Sock,ok\n" +
		"A4,Shoe,fine\n"
	items, problems := mustReadAll(t, in)
	if len(items) != 4 {
		t.Fatalf("got %d items, want 4", len(items))
	}
	d := items[0].Get("description")
	if len(d) > MaxValueBytes || len(d) < MaxValueBytes-3 || !utf8.ValidString(d) || !strings.HasPrefix(euro, d) {
		t.Errorf("A1 description: %d bytes, valid UTF-8 %v; want a prefix of the value, cut to at most %d bytes on a character boundary", len(d), utf8.ValidString(d), MaxValueBytes)
	}
	want := strings.ReplaceAll(quoted, `""`, `"`)
	if d := items[1].Get("description"); len(d) > MaxValueBytes || len(d) < MaxValueBytes-16 || !strings.HasPrefix(want, d) || d != strings.TrimSpace(d) {
		t.Errorf("A2 description: %d bytes; want the unquoted value cut to at most %d bytes, trimmed", len(d), MaxValueBytes)
	}
	if id := items[2].Get("id"); len(id) != MaxValueBytes || !strings.HasPrefix(longID, id) {
		t.Errorf("long id: %d bytes, want %d", len(id), MaxValueBytes)
	}
	if items[3].Get("description") != "fine" || items[3].Line != 5 {
		t.Errorf("the row after: %s", dump(items[3:]))
	}
	if len(problems) != 3 {
		t.Fatalf("got %d problems, want 3: %v", len(problems), problems)
	}
	for i, w := range []struct {
		line int
		id   string
	}{{2, "A1"}, {3, "A2"}, {4, longID[:delimMaxQuoted] + "…"}} {
		p := problems[i]
		if p.Kind != ProblemOther || p.Line != w.line || p.ItemID != w.id || len(p.String()) > 1024 || !strings.Contains(p.Msg, "cut to") {
			t.Errorf("problem %d: %v (kind %d); want a cut value on line %d, id %q", i, p, p.Kind, w.line, w.id)
		}
	}
}

// TestDelimitedProblemsQuoteLittle: ids and names quoted in problems are cut
// to delimMaxQuoted characters, on a character boundary.
func TestDelimitedProblemsQuoteLittle(t *testing.T) {
	longID := strings.Repeat("é", 5000)
	longName := strings.Repeat("n", 5000)
	in := "id\t" + longName + "\t" + longName + "\n" + longID + "\tshort row\n"
	_, problems := mustReadAll(t, in)
	if len(problems) != 2 {
		t.Fatalf("got %v, want a duplicate header and a skipped row", problems)
	}
	for _, p := range problems {
		if s := p.String(); len(s) > 1024 || !utf8.ValidString(s) {
			t.Errorf("problem of %d bytes: %.300s", len(s), s)
		}
	}
	if id := problems[1].ItemID; id != strings.Repeat("é", delimMaxQuoted)+"…" {
		t.Errorf("skipped row's id: %d bytes, want %d characters and …", len(id), delimMaxQuoted)
	}
	for _, s := range []string{"", "abc", strings.Repeat("a", 200), "bad \xff byte"} {
		if got := delimClip(s); utf8.RuneCountInString(got) > delimMaxQuoted+1 || !utf8.ValidString(got) || (utf8.ValidString(s) && got != s) {
			t.Errorf("delimClip(%q) = %q", s, got)
		}
	}
	if got := delimClip(strings.Repeat("a", 201)); got != strings.Repeat("a", 200)+"…" {
		t.Errorf("delimClip of 201 characters: %q", got)
	}
}

// TestDelimitedNotText: a row whose kept values hold invalid UTF-8 (a file
// in windows-1250) or a control character (a NUL) is skipped with a problem
// naming its line, id, the bad byte's line and column and the attribute, as
// the XML reader skips such an item; before, it was read with U+FFFD and
// NUL in its values and no problem. Tabs, line breaks and CRs are text; a
// bad byte in an ignored column or in white space trimmed off a value does
// not count.
func TestDelimitedNotText(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     string // dump of the items
		problems []string
	}{
		{
			name: "Windows1250InCSV",
			in:   "id,title,price\nA1,Shirt,1 USD\nA2,\x8elu\x9dou\xe8k\xfd k\xf9\xf2,2 USD\nA3,Hat,3 USD\n",
			want: "@2 id=A1 title=Shirt price=1 USD\n@4 id=A3 title=Hat price=3 USD\n",
			problems: []string{
				`line 3 (item "A2"): row skipped: invalid UTF-8 (byte 0x8E: 'Ž' in windows-1250 and windows-1252) in title at line 3, column 4; ` + delimNotUTF8,
			},
		},
		{
			name: "Windows1252InTSVLaterField",
			in:   "id\ttitle\tdescription\nA1\tCaf\xe9\tok\n",
			problems: []string{
				`line 2 (item "A1"): row skipped: invalid UTF-8 (byte 0xE9: 'é' in windows-1250 and windows-1252) in title at line 2, column 7; ` + delimNotUTF8,
			},
		},
		{
			name: "NULInTSV",
			in:   "id\ttitle\nA1\tSh\x00irt\nA2\tHat\n",
			want: "@3 id=A2 title=Hat\n",
			problems: []string{
				`line 2 (item "A1"): row skipped: control character U+0000 in title at line 2, column 6`,
			},
		},
		{
			name: "ControlInQuotedCSVOnItsSecondLine",
			in:   "id,description,price\nM1,\"line one\nline \x01two\",1 USD\nM2,ok,2 USD\n",
			want: "@4 id=M2 description=ok price=2 USD\n",
			problems: []string{
				`line 2 (item "M1"): row skipped: control character U+0001 in description at line 3, column 6`,
			},
		},
		{
			name: "BadByteInTheID",
			in:   "id,title\nA\xff1,Shirt\n",
			problems: []string{
				`line 2 (item "A` + "\uFFFD" + `1"): row skipped: invalid UTF-8 (byte 0xFF: '˙' in windows-1250, 'ÿ' in windows-1252) in id at line 2, column 2; ` + delimNotUTF8,
			},
		},
		{
			name: "TruncatedUTF8Sequence",
			in:   "id,title\nA1,caf\xc3\n",
			problems: []string{
				`line 2 (item "A1"): row skipped: invalid UTF-8 (byte 0xC3: 'Ă' in windows-1250, 'Ã' in windows-1252) in title at line 2, column 7; ` + delimNotUTF8,
			},
		},
		{
			name: "TabsLineBreaksAndCRAreText",
			in:   "id,description\nA1,\"tab\there\r\nand a line\rbreak\"\n",
			want: "@2 id=A1 description=tab\there\r\nand a line\rbreak\n",
		},
		{
			name: "BadBytesInAnIgnoredColumn",
			in:   "id\t\ttitle\nA1\tjunk\x00\xff\tShirt\n",
			want: "@2 id=A1 title=Shirt\n",
			problems: []string{
				"line 1: header column 2 has no name: its values are ignored",
			},
		},
		{
			name: "ControlSpaceTrimmedOff",
			in:   "id\ttitle\nA1\t\fShirt\v\n",
			want: "@2 id=A1 title=Shirt\n",
		},
		{
			name: "ControlSpaceInsideAValue",
			in:   "id\ttitle\nA1\tSh\virt\n",
			problems: []string{
				`line 2 (item "A1"): row skipped: control character U+000B in title at line 2, column 6`,
			},
		},
		{
			name: "NotTextInTheHeader",
			in:   "id\tti\x00tle\tdescripci\xf3n\tprice\nA1\tShirt\tSoft\t1 USD\n",
			want: "@2 id=A1 price=1 USD\n",
			problems: []string{
				"line 1: header column 2 holds control character U+0000 at line 1, column 6: its values are ignored",
				"line 1: header column 3 holds invalid UTF-8 (byte 0xF3: 'ó' in windows-1250 and windows-1252) at line 1, column 20: its values are ignored",
			},
		},
		{
			// Rows delimClean doubts and delimBadByte passes.
			name: "EmojiDevanagariAndKoreanAreText",
			in:   "id,title\nA1,😀 हिन्दी 한국어\n",
			want: "@2 id=A1 title=😀 हिन्दी 한국어\n",
		},
		{
			name: "C1AndNoncharactersAreValidUTF8",
			in:   "id,title\nA1,a\u0085b\uffffc\x7f\n",
			want: "@2 id=A1 title=a\u0085b\uffffc\x7f\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, problems := mustReadAll(t, tt.in)
			if got := dump(items); got != tt.want {
				t.Errorf("items:\n got %q\nwant %q", got, tt.want)
			}
			var got []string
			for _, p := range problems {
				got = append(got, p.String())
				if p.Kind != ProblemSkippedItem && strings.Contains(p.Msg, "skipped") {
					t.Errorf("%v: kind %d, want ProblemSkippedItem", p, p.Kind)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.problems, "\n") {
				t.Errorf("problems:\n got %q\nwant %q", got, tt.problems)
			}
		})
	}
}

// TestDelimitedEncodings: UTF-16 (with a byte order mark, or recognised by
// its zero bytes) is transcoded; a UTF-8 byte order mark is dropped; a
// charset the caller declares is transcoded, unless a byte order mark says
// otherwise; an unknown one is an error.
func TestDelimitedEncodings(t *testing.T) {
	const text = "id\ttitle\tprice\nA1\tŽluťoučký kůň – ☕\t1 EUR\n"
	const want = "@2 id=A1 title=Žluťoučký kůň – ☕ price=1 EUR\n"
	utf16 := func(order unicode.Endianness, bom unicode.BOMPolicy, s string) string {
		b, err := unicode.UTF16(order, bom).NewEncoder().String(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	w1250, err := charmap.Windows1250.NewEncoder().String(strings.ReplaceAll(text, " – ☕", ""))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, in, charset string
		want              string
		problems          int
	}{
		{"UTF16LEWithBOM", utf16(unicode.LittleEndian, unicode.UseBOM, text), "", want, 0},
		{"UTF16BEWithBOM", utf16(unicode.BigEndian, unicode.UseBOM, strings.ReplaceAll(text, "\t", ",")), "", want, 0},
		{"UTF16LEWithoutBOM", utf16(unicode.LittleEndian, unicode.IgnoreBOM, text), "", want, 0},
		{"UTF16BEWithoutBOM", utf16(unicode.BigEndian, unicode.IgnoreBOM, text), "", want, 0},
		{"UTF16WithBOMWinsOverACharset", utf16(unicode.LittleEndian, unicode.UseBOM, text), "windows-1250", want, 0},
		{"UTF8BOMWinsOverACharset", "\ufeff" + text, "windows-1250", want, 0},
		{"DeclaredWindows1250", w1250, "windows-1250", strings.ReplaceAll(want, " – ☕", ""), 0},
		{"DeclaredISO88592", w1250[:3] + "\r\n" + w1250[3:], "ISO-8859-2", "", 0}, // one column "id\ttitle\tprice" is fine: no check
		{"DeclaredUTF8", text, "utf-8", want, 0},
		{"UndeclaredWindows1250", w1250, "", "", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, slow := range []bool{false, true} {
				var r io.Reader = strings.NewReader(tt.in)
				if slow {
					r = iotest.OneByteReader(r)
				}
				var items []*Item
				var problems []Problem
				if tt.charset == "" {
					items, problems, err = readAll(t, r, FormatAuto)
				} else {
					items, problems, err = readDelimitedCharset(r, tt.charset)
				}
				if err != nil {
					t.Fatal(err)
				}
				if tt.name == "DeclaredISO88592" {
					continue // ISO-8859-2 differs from windows-1250 in ť, Ž: only read
				}
				if got := dump(items); got != tt.want || len(problems) != tt.problems {
					t.Errorf("slow %v: got %q, problems %v; want %q and %d problems", slow, got, problems, tt.want, tt.problems)
				}
				if tt.problems > 0 && !strings.Contains(problems[0].Msg, "windows-1250") {
					t.Errorf("problem %v does not suggest windows-1250", problems[0])
				}
			}
		})
	}
	_, _, err = readDelimitedCharset(strings.NewReader(text), "klingon")
	var pe *ParseError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), `unsupported charset "klingon"`) {
		t.Errorf("unknown charset: got %v", err)
	}
}

// readDelimitedCharset reads a delimited feed whose charset the caller declares.
func readDelimitedCharset(r io.Reader, charset string) ([]*Item, []Problem, error) {
	d, err := newDelimitedReaderCharset(r, "test", FormatAuto, charset)
	if err != nil {
		return nil, nil, err
	}
	var items []*Item
	for {
		it, err := d.Next()
		if err == io.EOF {
			return items, d.Problems(), nil
		}
		if err != nil {
			return items, d.Problems(), err
		}
		items = append(items, it)
	}
}

// TestDelimBadByte checks the word-at-a-time search against a byte-by-byte one.
func TestDelimBadByte(t *testing.T) {
	slow := func(b []byte) int {
		for i := 0; i < len(b); {
			c := b[i]
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return i
			}
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				return i
			}
			i += n
		}
		return -1
	}
	base := []byte("id\tShirt, blue – Grün\r\n\"quoted\"\t0123456789abcdef ☕ \x7f\u0085")
	for i := 0; i <= len(base); i++ {
		for _, bad := range []byte{0, 1, 0x08, 0x0b, 0x0c, 0x1f, 0x80, 0xc3, 0xff, '\t', '\n', '\r', ' ', 'x', 0x7f} {
			b := append(append(append([]byte(nil), base[:i]...), bad), base[i:]...)
			if got, want := delimBadByte(b), slow(b); got != want {
				t.Errorf("%q: got %d, want %d", b, got, want)
			}
		}
	}
	if got := delimBadByte(bytes.Repeat([]byte("abcdefgh"), 100)); got != -1 {
		t.Errorf("ASCII text: got %d", got)
	}
}

// TestDelimitedRepeatsCapped: one cell of a repeatable column gives at most
// maxCellRepeats values, the rest dropped with a problem; a cell of commas costs
// no attribute per comma.
func TestDelimitedRepeatsCapped(t *testing.T) {
	var links, ships []string
	for i := 0; i < maxCellRepeats+500; i++ {
		links = append(links, "https://x/"+itoa(i+1)+".jpg")
		ships = append(ships, "US:CA:Ground:"+itoa(i+1)+" USD")
	}
	in := "id\tadditional_image_link\tshipping\n" +
		"R1\t" + strings.Join(links, ",") + "\t" + strings.Join(ships, ",") + "\n" +
		"R2\thttps://x/a.jpg,https://x/b.jpg\tUS:CA:Ground:1 USD\n"
	items, problems := mustReadAll(t, in)
	if len(items) != 2 {
		t.Fatalf("got %d items", len(items))
	}
	if got := items[0].All("additional_image_link"); len(got) != maxCellRepeats || got[maxCellRepeats-1] != links[maxCellRepeats-1] {
		t.Errorf("R1: %d additional_image_link values, want the first %d", len(got), maxCellRepeats)
	}
	n := 0
	for _, a := range items[0].Attrs {
		if a.Name == "shipping" {
			n++
			if len(a.Sub) != 4 {
				t.Fatalf("shipping %s", dumpAttr(a))
			}
		}
	}
	if n != maxCellRepeats {
		t.Errorf("R1: %d shipping values, want %d", n, maxCellRepeats)
	}
	if got := len(items[1].All("additional_image_link")); got != 2 {
		t.Errorf("R2: %d images", got)
	}
	if len(problems) != 2 || problems[0].Kind != ProblemOther || problems[0].ItemID != "R1" || !strings.Contains(problems[0].Msg, "additional_image_link has more than 1000 values") || !strings.Contains(problems[1].Msg, "shipping has more than 1000 values") {
		t.Errorf("problems %v", problems)
	}

	// A megabyte of commas in a repeatable cell and a sub-attribute one.
	commas := strings.Repeat(",", MaxValueBytes-10)
	in = "id,additional_image_link,installment\nC1,\"" + commas + "x\",\"6:" + commas + "\"\n"
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	items, problems, err := readAll(t, strings.NewReader(in), FormatAuto)
	runtime.ReadMemStats(&after)
	if err != nil || len(items) != 1 || len(problems) != 0 || items[0].Get("additional_image_link") != "x" {
		t.Fatalf("commas: %d items, problems %v, error %v", len(items), problems, err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 32<<20 {
		t.Errorf("a row of %d bytes of commas allocated %d MiB", len(in), got>>20)
	}
}

// TestDelimitedLongRowKeepsOnlyItsValues: an item from a row longer than
// MaxValueBytes holds only its kept values, not the row: a value of an
// ignored column is not kept alive by the item.
func TestDelimitedLongRowKeepsOnlyItsValues(t *testing.T) {
	junk := strings.Repeat("j", 3*MaxValueBytes)
	in := "id\t\ttitle\nA1\t" + junk + "\tShirt\n"
	items, _ := mustReadAll(t, in)
	if len(items) != 1 || items[0].Get("title") != "Shirt" {
		t.Fatalf("items %.200s", dump(items))
	}
	// The values share one string: its length is what the item holds.
	id, title := items[0].Get("id"), items[0].Get("title")
	if got := unsafeStringSpan(id, title); got > 64 {
		t.Errorf("the item's values span %d bytes of memory, want just theirs", got)
	}
}

// unsafeStringSpan returns how many bytes of memory lie from the start of a
// to the end of b, two substrings of one string.
func unsafeStringSpan(a, b string) int {
	pa, pb := uintptr(unsafe.Pointer(unsafe.StringData(a))), uintptr(unsafe.Pointer(unsafe.StringData(b)))
	return int(pb-pa) + len(b)
}

// TestDelimitedManyFields: a row keeps at most one span more than the header
// has columns, whatever its separators; the fields past that are counted as
// before (trailing blank ones are harmless, a non-blank one skips the row
// with its true field count), and a header of more than maxHeaderColumns columns
// is refused.
func TestDelimitedManyFields(t *testing.T) {
	in := "id\ttitle\n" +
		"A1\tShirt" + strings.Repeat("\t", 5000) + "\n" +
		"A2\tHat" + strings.Repeat("\t ", 100) + "\tx" + strings.Repeat("\t", 50) + "\n" +
		"A3,\"Cap\"\t\"Wool\"" + strings.Repeat("\t\"\"", 300) + "\n" +
		"A4\t\"Sock\"" + strings.Repeat("\t\"\"", 300) + "\t\"x\"\n"
	items, problems := mustReadAll(t, in)
	if got := dump(items); got != "@2 id=A1 title=Shirt\n@4 id=A3,\"Cap\" title=Wool\n" {
		t.Errorf("items:\n%s", got)
	}
	want := []string{
		`line 3 (item "A2"): row has 103 fields, the header has 2: row skipped`,
		`line 5 (item "A4"): row has 303 fields, the header has 2: row skipped`,
	}
	var got []string
	for _, p := range problems {
		got = append(got, p.String())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n got %q\nwant %q", got, want)
	}

	_, _, err := readAll(t, strings.NewReader(strings.Repeat("c,", maxHeaderColumns)+"last\nA1\n"), FormatAuto)
	var pe *ParseError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "more than 10000 columns") {
		t.Errorf("a header of %d columns: got %v", maxHeaderColumns+1, err)
	}
	if _, _, err := readAll(t, strings.NewReader(strings.Repeat("c,", maxHeaderColumns-1)+"last\n"), FormatAuto); err != nil {
		t.Errorf("a header of %d columns: %v", maxHeaderColumns, err)
	}
}
