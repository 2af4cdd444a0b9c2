package feed

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// readAll reads every item of a feed given as a string.
func readAll(t testing.TB, r io.Reader, format Format) ([]*Item, []Problem, error) {
	t.Helper()
	fr, err := NewReader(r, "test", format)
	if err != nil {
		return nil, nil, err
	}
	var items []*Item
	for {
		it, err := fr.Next()
		if err == io.EOF {
			return items, fr.Problems(), nil
		}
		if err != nil {
			return items, fr.Problems(), err
		}
		items = append(items, it)
	}
}

func mustReadAll(t *testing.T, in string) ([]*Item, []Problem) {
	t.Helper()
	items, problems, err := readAll(t, strings.NewReader(in), FormatAuto)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	// The same input fed one byte at a time must give the same result: the
	// window refill never changes how a row is split.
	slow, slowProblems, err := readAll(t, iotest.OneByteReader(strings.NewReader(in)), FormatAuto)
	if err != nil {
		t.Fatalf("read one byte at a time: %v", err)
	}
	if !reflect.DeepEqual(items, slow) || !reflect.DeepEqual(problems, slowProblems) {
		t.Fatalf("one byte at a time gives other items:\n got %s\nwant %s", dump(slow), dump(items))
	}
	return items, problems
}

// dump renders items compactly for failure messages and comparisons.
func dump(items []*Item) string {
	var b strings.Builder
	for _, it := range items {
		b.WriteString("@")
		b.WriteString(itoa(it.Line))
		for _, a := range it.Attrs {
			b.WriteString(" ")
			b.WriteString(dumpAttr(a))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func dumpAttr(a Attr) string {
	if len(a.Sub) == 0 {
		return a.Name + "=" + a.Value
	}
	parts := make([]string, len(a.Sub))
	for i, s := range a.Sub {
		parts[i] = dumpAttr(s)
	}
	return a.Name + "{" + strings.Join(parts, " ") + "}"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestDelimited(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     string // dump of the items
		problems []string
	}{
		{
			name: "TSVWithLF",
			in:   "id\ttitle\tprice\nA1\tShirt\t10.00 USD\nA2\tHat\t5 USD\n",
			want: "@2 id=A1 title=Shirt price=10.00 USD\n@3 id=A2 title=Hat price=5 USD\n",
		},
		{
			name: "CRLFAndNoFinalNewline",
			in:   "id\ttitle\r\nA1\tShirt\r\nA2\tHat",
			want: "@2 id=A1 title=Shirt\n@3 id=A2 title=Hat\n",
		},
		{
			name: "BOM",
			in:   "\ufeffid,title\nA1,Shirt\n",
			want: "@2 id=A1 title=Shirt\n",
		},
		{
			name: "HeaderSpacesUnderscoresAnyCase",
			in:   "ID\tImage Link\tITEM_GROUP_ID\tg:Sale Price\nA1\thttps://x/a.jpg\tG1\t3 USD\n",
			want: "@2 id=A1 image_link=https://x/a.jpg item_group_id=G1 sale_price=3 USD\n",
		},
		{
			name: "ValuesTrimmedEmptyCellsDropped",
			in:   "id\ttitle\tbrand\n  A1 \t Shirt  \t\n",
			want: "@2 id=A1 title=Shirt\n",
		},
		{
			name: "BlankLinesSkippedLinesCounted",
			in:   "id\ttitle\n\nA1\tShirt\n   \nA2\tHat\n\n",
			want: "@3 id=A1 title=Shirt\n@5 id=A2 title=Hat\n",
		},
		{
			name: "RawQuotesInUnquotedTSVFields",
			in:   "id\tdescription\tprice\nT1\tTurnkey trailer with 36\" flat top and \"llave en mano\" kit.\t1 USD\nT2\t\"My Food Truck\" transition package\t2 USD\n",
			want: "@2 id=T1 description=Turnkey trailer with 36\" flat top and \"llave en mano\" kit. price=1 USD\n@3 id=T2 description=\"My Food Truck\" transition package price=2 USD\n",
		},
		{
			name: "QuotedTSVFieldWithTab",
			in:   "id\tdescription\tprice\nC8\t\"Espresso cart, quoted\twith a tab\"\t3 USD\n",
			want: "@2 id=C8 description=Espresso cart, quoted\twith a tab price=3 USD\n",
		},
		{
			name: "CSVQuotingRFC4180",
			in:   "id,title,description\nB2,\"Levi's Atlas, 2nd ed.\",\"Maps, charts and \"\"field notes\"\".\"\n",
			want: "@2 id=B2 title=Levi's Atlas, 2nd ed. description=Maps, charts and \"field notes\".\n",
		},
		{
			name: "CSVMultiLineQuotedField",
			in:   "id,description,price\nM1,\"line one\nline two\",1 USD\nM2,plain,2 USD\n",
			want: "@2 id=M1 description=line one\nline two price=1 USD\n@4 id=M2 description=plain price=2 USD\n",
		},
		{
			name: "CSVMultiLineQuotedFieldCRLF",
			in:   "id,description,price\r\nM1,\"line one\r\nline two\",1 USD\r\nM2,plain,2 USD\r\n",
			want: "@2 id=M1 description=line one\r\nline two price=1 USD\n@4 id=M2 description=plain price=2 USD\n",
		},
		{
			name: "QuoteNeverClosedIsRaw",
			in:   "id\tdescription\nQ1\t\"12 inch pan\n",
			want: "@2 id=Q1 description=\"12 inch pan\n",
		},
		{
			name: "WrongFieldCountSkippedWithProblem",
			in:   "id\ttitle\tprice\nA1\tShirt\t1 USD\nA2\tHat\nA3\tCap\t3 USD\textra\nA4\tSock\t4 USD\n",
			want: "@2 id=A1 title=Shirt price=1 USD\n@5 id=A4 title=Sock price=4 USD\n",
			problems: []string{
				`line 3 (item "A2"): row has 2 fields, the header has 3: row skipped`,
				`line 4 (item "A3"): row has 4 fields, the header has 3: row skipped`,
			},
		},
		{
			name: "ExtraEmptyTrailingColumnsAccepted",
			in:   "id\ttitle\nA1\tShirt\t\t\n",
			want: "@2 id=A1 title=Shirt\n",
		},
		{
			name:     "DuplicateHeaderNotRepeatable",
			in:       "id\tmin energy efficiency class\tmin_energy_efficiency_class\nE1\tA\tG\n",
			want:     "@2 id=E1 min_energy_efficiency_class=A min_energy_efficiency_class=G\n",
			problems: []string{`line 1: duplicate header column "min_energy_efficiency_class" (columns 2 and 3): min_energy_efficiency_class is not repeatable, both values are kept`},
		},
		{
			name: "DuplicateHeaderRepeatable",
			in:   "id\tadditional_image_link\tadditional image link\nR1\thttps://x/1.jpg\thttps://x/2.jpg\n",
			want: "@2 id=R1 additional_image_link=https://x/1.jpg additional_image_link=https://x/2.jpg\n",
		},
		{
			name: "CommaRepeatsSplit",
			in:   "id\tadditional_image_link\tproduct_highlight\nR1\thttps://x/1.jpg,https://x/2.jpg , https://x/3.jpg\tWarm,\"Soft, light\"\n",
			want: "@2 id=R1 additional_image_link=https://x/1.jpg additional_image_link=https://x/2.jpg additional_image_link=https://x/3.jpg product_highlight=Warm product_highlight=Soft, light\n",
		},
		{
			name: "CSVQuotedListSplit",
			in:   "id,additional_image_link,title\nR1,\"https://x/1.jpg,https://x/2.jpg\",\"Tee, black\"\n",
			want: "@2 id=R1 additional_image_link=https://x/1.jpg additional_image_link=https://x/2.jpg title=Tee, black\n",
		},
		{
			name: "TSVWholeQuotedListIsOneValue",
			in:   "id\tadditional_image_link\nR1\t\"https://x/a,b.jpg\"\n",
			want: "@2 id=R1 additional_image_link=https://x/a,b.jpg\n",
		},
		{
			name: "ShippingDefaultOrder",
			in:   "id\tshipping\nS1\tUS:CA:Ground:5.00 USD\n",
			want: "@2 id=S1 shipping{country=US region=CA service=Ground price=5.00 USD}\n",
		},
		{
			name: "ShippingRepeatsAndEmptyParts",
			in:   "id\tshipping\nS1\tUS::Standard:0.00 USD,CA:QC:Express:9.50 CAD\n",
			want: "@2 id=S1 shipping{country=US service=Standard price=0.00 USD} shipping{country=CA region=QC service=Express price=9.50 CAD}\n",
		},
		{
			name: "ShippingHeaderNamesTheParts",
			in:   "id\tshipping(country:price)\tProduct Detail(Section Name:Attribute Name:Attribute Value)\nS1\tAT:6.49 EUR\tDisplay:Ratio:16:9\n",
			want: "@2 id=S1 shipping{country=AT price=6.49 EUR} product_detail{section_name=Display attribute_name=Ratio attribute_value=16:9}\n",
		},
		{
			name: "ShippingTooFewParts",
			in:   "id\tshipping\nS1\tUS:5.00 USD\n",
			want: "@2 id=S1 shipping=US:5.00 USD\n",
		},
		{
			name: "TaxAndInstallment",
			in:   "id\ttax\tinstallment\nX1\tUS:NY:8.875:yes\t6:50.00 USD\n",
			want: "@2 id=X1 tax{country=US region=NY rate=8.875 tax_ship=yes} installment{months=6 amount=50.00 USD}\n",
		},
		{
			name: "CommaFeedConfiguredAsTSVIsDetected",
			in:   "id,title\nA1,Shirt\n",
			want: "@2 id=A1 title=Shirt\n",
		},
		{
			name: "EmptyHeaderColumnIgnored",
			in:   "id\t\ttitle\nA1\tjunk\tShirt\n",
			want: "@2 id=A1 title=Shirt\n",
			problems: []string{
				"line 1: header column 2 has no name: its values are ignored",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, problems := mustReadAll(t, tt.in)
			if got := dump(items); got != tt.want {
				t.Errorf("items:\n got %s\nwant %s", got, tt.want)
			}
			var got []string
			for _, p := range problems {
				got = append(got, p.String())
			}
			if !reflect.DeepEqual(got, tt.problems) {
				t.Errorf("problems:\n got %q\nwant %q", got, tt.problems)
			}
		})
	}
}

// TestDelimitedEndsInsideQuotedField: a feed that ends inside an open quoted
// field was cut off (a truncated download, a full disk). Like a truncated XML
// document it stops the feed with a *ParseError naming the line (and column)
// of the opening quote and the row's id when it was read, after the items
// before it; it is not a skipped row followed by io.EOF. Lenient quotes that
// read legitimately, and a TSV cell that merely starts with a quote, still
// read.
func TestDelimitedEndsInsideQuotedField(t *testing.T) {
	const cut = "the feed ends inside a quoted field opened on this line (truncated download, or a missing closing quote?)"
	tests := []struct {
		name string
		in   string
		want string // dump of the items returned before the error
		err  string // the whole error; "" when the feed reads to io.EOF
		line int
		id   string
	}{
		{
			name: "CSVCutInLastField",
			in:   "id,title,description\nA1,Shirt,\"Soft, warm\"\nA2,Hat,\"Wool, knitted\nby hand",
			want: "@2 id=A1 title=Shirt description=Soft, warm\n",
			err:  `test:3:8 (near item "A2"): ` + cut,
			line: 3, id: "A2",
		},
		{
			name: "CSVCutWithCRLFAndBOM",
			in:   "\ufeffid,title,description\r\nA1,Shirt,\"Soft, warm\"\r\nA2,Hat,\"Wool,\r\nknitted",
			want: "@2 id=A1 title=Shirt description=Soft, warm\n",
			err:  `test:3:8 (near item "A2"): ` + cut,
			line: 3, id: "A2",
		},
		{
			name: "CSVCutAfterALineBreak",
			in:   "id,title,description\nA1,Shirt,Soft\nA2,Hat,\"Wool,\n",
			want: "@2 id=A1 title=Shirt description=Soft\n",
			err:  `test:3:8 (near item "A2"): ` + cut,
			line: 3, id: "A2",
		},
		{
			name: "CSVCutRightAfterTheOpeningQuote",
			in:   "id,title\nA1,Shirt\nA2,\"",
			want: "@2 id=A1 title=Shirt\n",
			err:  `test:3:4 (near item "A2"): ` + cut,
			line: 3, id: "A2",
		},
		{
			name: "CSVCutAfterADoubledQuote",
			in:   "id,title\nA1,\"12\"\" pan\"\nA2,\"14\"\"",
			want: "@2 id=A1 title=12\" pan\n",
			err:  `test:3:4 (near item "A2"): ` + cut,
			line: 3, id: "A2",
		},
		{
			name: "CSVCutInTheIDField",
			in:   "title,id\nShirt,A1\nHat,\"A2",
			want: "@2 title=Shirt id=A1\n",
			err:  `test:3:5: ` + cut,
			line: 3,
		},
		{
			name: "CSVCutInAFieldAfterAMultiLineOne",
			in:   "id,description,note\nA1,x,y\nA2,\"two\nlines\",\"cut here",
			want: "@2 id=A1 description=x note=y\n",
			err:  `test:4:8 (near item "A2"): ` + cut + "; the row starts on line 3",
			line: 4, id: "A2",
		},
		{
			name: "CSVCutInTheHeader",
			in:   "id,\"tit",
			err:  `test:1:4: ` + cut,
			line: 1,
		},
		{
			name: "CSVQuotedFieldOnTheLastLineNeverClosed",
			in:   "id,title\nA1,Shirt\nA2,\"Hat\n",
			want: "@2 id=A1 title=Shirt\n",
			err:  `test:3:4 (near item "A2"): ` + cut,
			line: 3, id: "A2",
		},
		{
			name: "CSVCompleteWithoutFinalNewline",
			in:   "id,title\nA1,\"Shirt, blue\"\nA2,\"Hat, red\"",
			want: "@2 id=A1 title=Shirt, blue\n@3 id=A2 title=Hat, red\n",
		},
		{
			name: "CSVCompleteCRLFWithoutFinalNewline",
			in:   "\ufeffid,title\r\nA1,\"Shirt,\r\nblue\"\r\nA2,\"Hat\"",
			want: "@2 id=A1 title=Shirt,\r\nblue\n@4 id=A2 title=Hat\n",
		},
		{
			name: "CSVLenientRawQuotesStillRead",
			in:   "id,description\nT1,36\" flat top\nT2,\"My Food Truck\" transition\nT3,\"36\" flat top",
			want: "@2 id=T1 description=36\" flat top\n@3 id=T2 description=\"My Food Truck\" transition\n@4 id=T3 description=\"36\" flat top\n",
		},
		{
			name: "TSVCutAfterALineBreak",
			in:   "id\tdescription\tprice\nA1\tShirt\t1 USD\nA2\t\"line one\nline two",
			want: "@2 id=A1 description=Shirt price=1 USD\n",
			err:  `test:3:4 (near item "A2"): ` + cut,
			line: 3, id: "A2",
		},
		{
			name: "TSVCutBeforeTheLastField",
			in:   "id\tdescription\tprice\nA1\tShirt\t1 USD\nA2\t\"Wool hat",
			want: "@2 id=A1 description=Shirt price=1 USD\n",
			err:  `test:3:4 (near item "A2"): ` + cut,
			line: 3, id: "A2",
		},
		{
			name: "TSVLaterRowDoesNotFit",
			in:   "id\tdescription\tprice\nA1\t\"Wool hat\t2 USD\nA2\tcut",
			err:  `test:2:4 (near item "A1"): ` + cut,
			line: 2, id: "A1",
		},
		{
			// Ambiguous: a complete row with a stray quote, or a row cut
			// inside its last field. Read raw, as Google's unquoted TSV is.
			name: "TSVStrayQuoteInTheLastFieldOfTheLastRow",
			in:   "id\ttitle\tdescription\nQ1\tPan\t\"12 inch pan",
			want: "@2 id=Q1 title=Pan description=\"12 inch pan\n",
		},
		{
			name: "TSVStrayQuoteThenRowsThatFit",
			in:   "id\tdescription\tprice\nQ1\t\"12 inch pan\t1 USD\n\nQ2\tLid\t2 USD\t\r\nQ3\t\"\"\t3 USD\n",
			want: "@2 id=Q1 description=\"12 inch pan price=1 USD\n@4 id=Q2 description=Lid price=2 USD\n@5 id=Q3 price=3 USD\n",
		},
		{
			name: "TSVStrayQuoteInTheHeader",
			in:   "id\t\"title\nA1\tShirt\n",
			want: "@2 id=A1 \"title=Shirt\n",
		},
		{
			name: "TSVHeaderCutInsideAQuote",
			in:   "id\t\"title\nA1",
			err:  `test:1:4: ` + cut,
			line: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range []struct {
				name string
				r    io.Reader
			}{
				{"Whole", strings.NewReader(tt.in)},
				{"OneByte", iotest.OneByteReader(strings.NewReader(tt.in))},
			} {
				items, problems, err := readAll(t, r.r, FormatAuto)
				if got := dump(items); got != tt.want {
					t.Errorf("%s: items:\n got %s\nwant %s", r.name, got, tt.want)
				}
				if len(problems) != 0 {
					t.Errorf("%s: problems %q, want none", r.name, problems)
				}
				if tt.err == "" {
					if err != nil {
						t.Errorf("%s: error %v, want none", r.name, err)
					}
					continue
				}
				var pe *ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("%s: got error %v, want a *ParseError", r.name, err)
				}
				if err.Error() != tt.err || pe.Line != tt.line || pe.ItemID != tt.id {
					t.Errorf("%s: got %q (line %d, item %q)\nwant %q (line %d, item %q)", r.name, err, pe.Line, pe.ItemID, tt.err, tt.line, tt.id)
				}
			}
		})
	}
}

// TestDelimitedEndsInsideQuotedFieldLarge: the cut is found past many window
// refills, and a Next after the error does not go on.
func TestDelimitedEndsInsideQuotedFieldLarge(t *testing.T) {
	data := syntheticDelimited(2000, ',')
	at := bytes.LastIndex(data, []byte(",\"Product 1999 of group")) + 20
	fr, err := NewReader(bytes.NewReader(data[:at]), "feed.csv", FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		_, err = fr.Next()
		if err != nil {
			break
		}
		n++
	}
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 2001 || pe.ItemID != "SKU-0001999" || !strings.HasPrefix(err.Error(), "feed.csv:2001:") {
		t.Fatalf("after %d items: got %v, want a ParseError at line 2001 near SKU-0001999", n, err)
	}
	if n != 1999 || len(fr.Problems()) != 0 {
		t.Errorf("got %d items and problems %v, want the 1999 complete rows and no problem", n, fr.Problems())
	}
	if _, err := fr.Next(); err == nil {
		t.Errorf("Next after the error returned an item")
	}
}

func TestDelimitedFormatFromHeader(t *testing.T) {
	for _, tt := range []struct {
		in     string
		format Format
		want   Format
	}{
		{"id\ttitle\nA\tB\n", FormatAuto, FormatTSV},
		{"id,title\nA,B\n", FormatAuto, FormatCSV},
		{"id,title\nA,B\n", FormatTSV, FormatCSV},
		{"id\ttitle, with comma\nA\tB\n", FormatCSV, FormatTSV},
		{"id\nA\n", FormatCSV, FormatCSV},
		{"id\nA\n", FormatAuto, FormatTSV},
	} {
		r, err := NewReader(strings.NewReader(tt.in), "test", tt.format)
		if err != nil {
			t.Fatal(err)
		}
		if r.Format() != tt.want {
			t.Errorf("%q as %s: got format %s, want %s", tt.in, tt.format, r.Format(), tt.want)
		}
	}
}

func TestDelimitedEmpty(t *testing.T) {
	for _, in := range []string{"", "\n\n  \n", "\ufeff"} {
		_, err := NewReader(strings.NewReader(in), "empty.tsv", FormatTSV)
		var pe *ParseError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "empty") {
			t.Errorf("%q: got %v, want a ParseError saying the feed is empty", in, err)
		}
	}
}

// chunkReader returns at most n bytes per Read.
type chunkReader struct {
	r io.Reader
	n int
}

func (c chunkReader) Read(p []byte) (int, error) {
	if len(p) > c.n {
		p = p[:c.n]
	}
	return c.r.Read(p)
}

// TestDelimitedLongRow: a row longer than the window grows it and reads
// whole. Its values take MaxValueBytes each, the most a value may take (see
// TestDelimitedLongValueCut for a longer one).
func TestDelimitedLongRow(t *testing.T) {
	long := strings.Repeat("x", MaxValueBytes)
	cols := []string{"description", "note_1", "note_2", "note_3", "note_4", "note_5"} // 6 MiB: grows the window
	in := "id\t" + strings.Join(cols, "\t") + "\nL1" + strings.Repeat("\t"+long, len(cols)) + "\nL2\tshort" + strings.Repeat("\t", len(cols)-1) + "\n"
	if len(in) < delimitedBufSize+delimitedBufSize/2 {
		t.Fatalf("the long row does not grow the window")
	}
	for _, r := range []io.Reader{strings.NewReader(in), chunkReader{strings.NewReader(in), 4093}} {
		items, problems, err := readAll(t, r, FormatAuto)
		if err != nil || len(items) != 2 || len(problems) != 0 {
			t.Fatalf("got %d items, problems %v, error %v; want 2 items", len(items), problems, err)
		}
		for _, c := range cols {
			if got := items[0].Get(c); got != long {
				t.Errorf("long %s: got %d bytes, want %d", c, len(got), len(long))
			}
		}
		if items[1].Line != 3 {
			t.Errorf("line of the row after the long one: got %d, want 3", items[1].Line)
		}
	}
}

func TestDelimitedReadErrorStops(t *testing.T) {
	boom := errors.New("connection reset")
	in := io.MultiReader(strings.NewReader("id\ttitle\nA1\tShirt\nA2\tHa"), iotest.ErrReader(boom))
	items, _, err := readAll(t, in, FormatAuto)
	if !errors.Is(err, boom) {
		t.Fatalf("got error %v, want %v", err, boom)
	}
	for _, it := range items {
		if it.ID() == "A2" {
			t.Errorf("a row cut by the read error was returned: %s", dump([]*Item{it}))
		}
	}
}

func TestDelimitedSyntheticSameAtAnyReadSize(t *testing.T) {
	for _, sep := range []byte{'\t', ','} {
		data := syntheticDelimited(300, sep)
		items, problems, err := readAll(t, bytes.NewReader(data), FormatAuto)
		if err != nil || len(problems) != 0 || len(items) != 300 {
			t.Fatalf("sep %q: %d items, problems %v, err %v; want 300 items", sep, len(items), problems, err)
		}
		slow, _, err := readAll(t, iotest.HalfReader(iotest.OneByteReader(bytes.NewReader(data))), FormatAuto)
		if err != nil || !reflect.DeepEqual(items, slow) {
			t.Fatalf("sep %q: small reads differ (err %v)", sep, err)
		}
		if got := items[7].All("additional_image_link"); len(got) != 2 {
			t.Errorf("sep %q: additional_image_link of item 7: got %q, want 2 values", sep, got)
		}
	}
}

// FuzzDelimited checks that any input either fails cleanly or reads to the
// same items whatever the read size, and never panics.
func FuzzDelimited(f *testing.F) {
	for _, s := range []string{
		"id\ttitle\nA1\tShirt\n",
		"id,title,description\nB2,\"Levi's, 2nd\",\"a \"\"b\"\" c\"\n",
		"id\tdescription\nT1\t36\" flat top\nT2\t\"My Food Truck\" x\n",
		"id,description\nM1,\"one\r\ntwo\"\r\nM2,x",
		"id\tshipping(country:price)\tshipping\nS\tUS:1 USD,CA:2 CAD\tUS:CA:G:1 USD\n",
		"\ufeffid\tid\n\"\t\"\"\n",
		"id,shipping,installment\nA,\"US:CA:G:1 USD,\"\"x:y,z\"\",CA:QC:E:2 CAD\",6:1,5 EUR\n",
		"id\ttax\tproduct_detail\nB\t\"a:b:c:d,e\",x:y:z:w\t:::,::,s:n:v:1:2\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		items, problems, err := readAll(t, bytes.NewReader(data), FormatTSV)
		if err != nil {
			return
		}
		slow, slowProblems, err := readAll(t, iotest.OneByteReader(bytes.NewReader(data)), FormatTSV)
		if err != nil {
			t.Fatalf("one byte at a time fails: %v", err)
		}
		if !reflect.DeepEqual(items, slow) || !reflect.DeepEqual(problems, slowProblems) {
			t.Fatalf("one byte at a time differs:\n got %s\nwant %s", dump(slow), dump(items))
		}
	})
}

// FuzzDelimitedMatchesEncodingCSV is a differential test: whatever strict
// encoding/csv reads as a well-formed three-column CSV, the delimited reader
// reads to the same values (trimmed, empty ones dropped) on the same lines.
func FuzzDelimitedMatchesEncodingCSV(f *testing.F) {
	for _, s := range []string{
		"A1,Shirt,10 USD\n",
		"\"a, b\",\"c \"\"d\"\"\",e\nx,y,z",
		"1,\"multi\nline\",3\n\n4,5,6\n",
		" spaced , , \"\" \n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		if strings.ContainsRune(body, '\r') || delimBadByte([]byte(body)) >= 0 {
			return // encoding/csv rewrites \r\n inside quotes; not compared. The reader skips rows that are not text.
		}
		in := "a,b,c\n" + body
		cr := csv.NewReader(strings.NewReader(in))
		cr.FieldsPerRecord = 3
		var want []string
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return
			}
			line, _ := cr.FieldPos(0)
			if line == 1 {
				continue
			}
			s := "@" + itoa(line)
			for i, v := range rec {
				if v = strings.TrimSpace(v); v != "" {
					s += " " + "abc"[i:i+1] + "=" + v
				}
			}
			want = append(want, s)
		}
		items, problems, err := readAll(t, strings.NewReader(in), FormatCSV)
		if err != nil || len(problems) != 0 {
			t.Fatalf("%q: error %v, problems %v; encoding/csv reads it", in, err, problems)
		}
		var got []string
		for _, it := range items {
			s := "@" + itoa(it.Line)
			for _, a := range it.Attrs {
				s += " " + a.Name + "=" + a.Value
			}
			got = append(got, s)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n got %q\nwant %q", in, got, want)
		}
	})
}

func TestParseSubAttr(t *testing.T) {
	a, err := parseSubAttr("shipping", "US::Ground:5.00 USD", subAttrNames["shipping"], nil)
	if err != nil || dumpAttr(a) != "shipping{country=US service=Ground price=5.00 USD}" {
		t.Errorf("got %s, %v", dumpAttr(a), err)
	}
	for _, v := range []string{"US:5.00 USD", ":::"} {
		if _, err := parseSubAttr("shipping", v, subAttrNames["shipping"], nil); err == nil {
			t.Errorf("%q: want an error", v)
		}
	}
	_, err = parseSubAttr("shipping", "US:5.00 USD", subAttrNames["shipping"], nil)
	if want := `shipping "US:5.00 USD" has 2 parts, want 4 (country:region:service:price)`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

// TestProblemKinds: callers (lint, the sync's skipped count) tell problems
// apart by Kind, never by their wording.
func TestProblemKinds(t *testing.T) {
	kinds := func(ps []Problem) []ProblemKind {
		var out []ProblemKind
		for _, p := range ps {
			out = append(out, p.Kind)
		}
		return out
	}
	_, ps := mustReadAll(t, "id\ttitle\ttitle\t\tprice\nA\tx\ty\tz\t1 EUR\nB\tshort row\n")
	want := []ProblemKind{ProblemDuplicateHeader, ProblemOther, ProblemSkippedItem}
	if got := kinds(ps); !slices.Equal(got, want) {
		t.Errorf("TSV problems %v: kinds %v, want %v", ps, got, want)
	}
	items, ps := mustReadAll(t, rssHead+"<item><g:id>A</g:id><g:title>bad \x01 byte</g:title></item><item><g:id>B</g:id></item></channel></rss>")
	if len(items) != 1 || !slices.Equal(kinds(ps), []ProblemKind{ProblemSkippedItem}) {
		t.Errorf("RSS: %d items, problems %v; want B kept and A skipped", len(items), ps)
	}
}
