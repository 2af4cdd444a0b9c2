package publish

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feedsync/feedsync/feed"
	"github.com/feedsync/feedsync/tree"
)

// xmlItems reads the <item>s of an RSS document with encoding/xml: each
// child element's text keyed by "namespace-URI local-name" (" title" for a
// plain RSS element).
func xmlItems(t *testing.T, doc []byte) []map[string]string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	var items []map[string]string
	var cur map[string]string
	var key string
	var text strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the output is not well-formed XML: %v\n%s", err, doc)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			switch {
			case tok.Name.Local == "item" && tok.Name.Space == "":
				cur = map[string]string{}
			case cur != nil:
				key = tok.Name.Space + " " + tok.Name.Local
				text.Reset()
			}
		case xml.CharData:
			text.Write(tok)
		case xml.EndElement:
			switch {
			case tok.Name.Local == "item" && tok.Name.Space == "":
				items = append(items, cur)
				cur = nil
			case cur != nil:
				cur[key] = text.String()
			}
		}
	}
	if len(items) == 0 {
		t.Fatalf("no items in\n%s", doc)
	}
	return items
}

// channelLink is the text of the channel's own <link>, and whether there
// is one.
func channelLink(t *testing.T, doc []byte) (string, bool) {
	t.Helper()
	var rss struct {
		Channel struct {
			Links []string `xml:"link"`
		} `xml:"channel"`
	}
	if err := xml.Unmarshal(doc, &rss); err != nil {
		t.Fatalf("the output is not well-formed XML: %v", err)
	}
	if len(rss.Channel.Links) == 0 {
		return "", false
	}
	return rss.Channel.Links[0], true
}

func hasProblem(ps []feed.Problem, substr string) bool {
	for _, p := range ps {
		if strings.Contains(p.Msg, substr) {
			return true
		}
	}
	return false
}

// TestTransformChannelLink: RSS 2.0 requires the channel's <link>. It is
// opts.Link, else an http(s) source's public URL; with neither the channel
// is written without one and a Problem says so.
func TestTransformChannelLink(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "feeds", "shop.xml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, source, link string
		want               string // "" for no link
	}{
		{"LinkOption", "/srv/feeds/shop.xml", "https://shop.example.com/", "https://shop.example.com/"},
		{"LinkOptionWinsOverTheSource", "https://feeds.example.com/shop.xml", "https://shop.example.com/", "https://shop.example.com/"},
		{"HTTPSourceStandsIn", "https://feeds.example.com/shop.xml?token=SECRET", "", "https://feeds.example.com/shop.xml"},
		{"LocalSourceHasNone", "/srv/feeds/shop.xml", "", ""},
		{"StdinHasNone", "stdin", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, problems := transformBytes(t, data, TransformOptions{To: OutputXML, Source: c.source, Link: c.link})
			got, ok := channelLink(t, out)
			if got != c.want || ok != (c.want != "") {
				t.Errorf("channel link %q (present %v), want %q", got, ok, c.want)
			}
			warned := hasProblem(problems, "no channel link")
			if warned != (c.want == "") {
				t.Errorf("no-channel-link problem reported: %v, want %v; problems: %v", warned, c.want == "", problems)
			}
			for _, p := range problems {
				if strings.Contains(p.Msg, "no channel link") && (p.Line != 0 || p.ItemID != "" || p.Msg != NoChannelLink ||
					!strings.Contains(p.Msg, "--link") || !strings.Contains(p.Msg, "link:") || !strings.Contains(p.Msg, "RSS 2.0 requires one")) {
					t.Errorf("problem %+v: want one about the whole channel, naming --link, link: and RSS 2.0", p)
				}
			}
		})
	}
	t.Run("OnlyXMLHasAChannel", func(t *testing.T) {
		for _, to := range []OutputFormat{OutputCSV, OutputTSV, OutputJSONL} {
			if _, problems := transformBytes(t, data, TransformOptions{To: to, Source: "/srv/feeds/shop.xml"}); hasProblem(problems, "no channel link") {
				t.Errorf("%s: a channel link problem for an output without a channel", to)
			}
		}
	})
}

// TestTransformDerivedFieldsAreNotGoogleAttributes: the fields only the
// parent policy derives are written in feedsync's namespace, declared on
// <rss>, never in Google's; Google's attributes stay in g:.
func TestTransformDerivedFieldsAreNotGoogleAttributes(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "feeds", "shop.xml"))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := transformBytes(t, data, TransformOptions{Policy: tree.PolicyParent, To: OutputXML})
	if !bytes.Contains(out, []byte(`xmlns:fs="`+FeedsyncNS+`"`)) {
		t.Errorf("<rss> does not declare xmlns:fs=%q:\n%s", FeedsyncNS, out[:300])
	}
	checkDerivedNamespace(t, out)
}

// checkDerivedNamespace checks every item of an XML output: no derived
// field in Google's namespace, at least one in feedsync's, and the Google
// attributes (id, price) still in Google's.
func checkDerivedNamespace(t *testing.T, out []byte) {
	t.Helper()
	derivedSeen := 0
	for i, it := range xmlItems(t, out) {
		for _, k := range tree.DerivedKeys() {
			a := tree.ItemAttr(k)
			if v, ok := it[GoogleNS+" "+a]; ok {
				t.Errorf("item %d: derived field %s = %q written in Google's namespace", i, a, v)
			}
			if _, ok := it[FeedsyncNS+" "+a]; ok {
				derivedSeen++
			}
		}
		if it[GoogleNS+" id"] == "" {
			t.Errorf("item %d: no g:id: %v", i, it)
		}
		for k := range it {
			if ns, _, _ := strings.Cut(k, " "); ns != "" && ns != GoogleNS && ns != FeedsyncNS {
				t.Errorf("item %d: element %q in an unexpected namespace", i, k)
			}
		}
	}
	if derivedSeen == 0 {
		t.Errorf("no derived field in feedsync's namespace:\n%s", out)
	}
}

// TestPublisherEditionWritesDerivedFieldsInFeedsyncNamespace: the daemon's
// published feeds use the same writer.
func TestPublisherEditionWritesDerivedFieldsInFeedsyncNamespace(t *testing.T) {
	dir := t.TempDir()
	p, err := NewPublisher(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	e, err := p.Begin("shop", TransformOptions{Policy: tree.PolicyParent})
	if err != nil {
		t.Fatal(err)
	}
	prod := tree.NewProduct("P1", map[string]any{"custom_id": "P1", "name": "Tee", "price": "10", "price_max": "12", "currency": "EUR",
		"colors": "Blue, Red", "sizes": "S, M", "variant_count": 3, "in_stock_count": 2})
	if err := e.Add(prod); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Commit(); err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(p.Path("shop"))
	if err != nil {
		t.Fatal(err)
	}
	checkDerivedNamespace(t, out)
	it := xmlItems(t, out)[0]
	for k, v := range map[string]string{"price_max": "12", "colors": "Blue, Red", "sizes": "S, M", "variant_count": "3", "in_stock_count": "2"} {
		if got := it[FeedsyncNS+" "+k]; got != v {
			t.Errorf("fs:%s = %q, want %q\n%s", k, got, v, out)
		}
	}
	if got := it[GoogleNS+" price"]; got != "10 EUR" {
		t.Errorf("g:price = %q, want 10 EUR", got)
	}
}

// TestTransformWarnsOfAPriceWithoutCurrency: a product written with a price
// but no currency is reported under lint's code for it (price-format), in
// every output format; the output is written all the same.
func TestTransformWarnsOfAPriceWithoutCurrency(t *testing.T) {
	data := []byte("id,title,price,sale_price\nA-1,Mug,5.00,\nA-2,Cup,6.00 EUR,\nA-3,Bowl,,4.00\n")
	for _, to := range []OutputFormat{OutputXML, OutputCSV, OutputTSV, OutputJSONL} {
		out, problems := transformBytes(t, data, TransformOptions{To: to, Source: "in.csv", Link: "https://shop.example.com/"})
		if !bytes.Contains(out, []byte("A-1")) || !bytes.Contains(out, []byte("A-3")) {
			t.Errorf("%s: the products were not written:\n%s", to, out)
		}
		got := map[string]string{}
		for _, p := range problems {
			if strings.Contains(p.Msg, "currency") {
				got[p.ItemID] = p.Msg
				if p.Line == 0 {
					t.Errorf("%s: problem %+v has no line", to, p)
				}
			}
		}
		if len(got) != 2 {
			t.Errorf("%s: currency problems for %d products, want A-1 and A-3: %v", to, len(got), problems)
		}
		if m := got["A-1"]; !strings.HasPrefix(m, "price-format: ") || !strings.Contains(m, `price "5"`) {
			t.Errorf("%s: A-1's problem %q: want the code price-format and the price", to, m)
		}
		if m := got["A-3"]; !strings.HasPrefix(m, "price-format: ") || !strings.Contains(m, `sale_price "4"`) {
			t.Errorf("%s: A-3's problem %q: want the code price-format and the sale price", to, m)
		}
		if _, ok := got["A-2"]; ok {
			t.Errorf("%s: a problem for A-2, priced in EUR", to)
		}
	}
}

// TestTransformCountsPricesWithoutCurrencyPastTheCap: the first products
// are named one by one, the rest counted in one more problem.
func TestTransformCountsPricesWithoutCurrencyPastTheCap(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,title,price\n")
	const n = 25
	for i := range n {
		fmt.Fprintf(&b, "P-%d,Item %d,%d.50\n", i, i, i+1)
	}
	_, problems := transformBytes(t, []byte(b.String()), TransformOptions{To: OutputCSV, Source: "in.csv"})
	named, total := 0, ""
	for _, p := range problems {
		switch {
		case strings.HasPrefix(p.Msg, "price-format: ") && p.ItemID != "":
			named++
		case strings.HasPrefix(p.Msg, "price-format: "):
			total = p.Msg
		}
	}
	if named == 0 || named >= n {
		t.Errorf("%d products named, want some but not all %d", named, n)
	}
	if !strings.Contains(total, fmt.Sprint(n)) {
		t.Errorf("no problem counting all %d products priced without a currency: %v", n, problems)
	}
}
