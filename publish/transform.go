package publish

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/beevik/etree"

	"github.com/feedsync/feedsync/feed"
	"github.com/feedsync/feedsync/push"
	"github.com/feedsync/feedsync/tree"
)

// OutputFormat is the syntax Transform writes.
type OutputFormat string

// The formats Transform writes.
const (
	OutputXML   OutputFormat = "xml"   // Google RSS 2.0 with the g: namespace (and fs: for derived fields)
	OutputCSV   OutputFormat = "csv"   // comma-separated, header of attribute names
	OutputTSV   OutputFormat = "tsv"   // Google's tab-separated text format
	OutputJSONL OutputFormat = "jsonl" // the JSONL sink's lines: {"op":"upsert","id":…,"product":{…}}
)

// ParseOutputFormat checks an output format name from a flag.
func ParseOutputFormat(s string) (OutputFormat, error) {
	switch f := OutputFormat(strings.ToLower(strings.TrimSpace(s))); f {
	case OutputXML, OutputCSV, OutputTSV, OutputJSONL:
		return f, nil
	case "rss":
		return OutputXML, nil
	}
	return "", fmt.Errorf("%q: want xml, csv, tsv or jsonl", s)
}

// TransformOptions configure Transform.
type TransformOptions struct {
	Policy    tree.Policy
	ProductID string            // product id source; "" means id
	Fields    map[string]string // the feed's `fields:` mapping
	Format    feed.Format       // the input's format; "" detects it
	To        OutputFormat
	Source    string // names the input in errors (a path or URL)
	Now       time.Time
	// Title, Link and Description fill the XML channel. "" gives defaults:
	// "Products", an http(s) Source without its secrets (user info, query,
	// fragment), and a line naming the policy. RSS 2.0 requires a channel
	// link: when there is none (a local Source and no Link) the channel is
	// written without one and a Problem says so.
	Title, Link, Description string
	// OnProblem is told of every skipped item and defect (nil: ignored).
	OnProblem func(feed.Problem)
	// OnRead is called once the whole input is read, with the item count;
	// OnProduct after each product written. Both are for progress display.
	OnRead    func(items int)
	OnProduct func()
	// SpillDir is where the tree's temporary spill goes ("": the system's).
	SpillDir string
}

// TransformSummary counts what a Transform did.
type TransformSummary struct {
	Items    int `json:"items"`
	Products int `json:"products"`
	Skipped  int `json:"skipped"`
}

// Transform reads a feed from in, shapes it into products by the policy and
// field mapping exactly as a sync would, and writes the products to out as a
// feed in opts.To. Nothing is written before the whole input has been read,
// so a broken feed leaves out empty. Memory is that of the tree Builder: the
// output is written product by product.
//
// Written as XML, CSV or TSV, the output reads back (policy variant, product_id
// id, tree.ReadBackFields) into the same products; see tree.Product.Item
// for the mapping and its one exception, the parent-only derived fields
// (which the XML writes in feedsync's namespace, FeedsyncNS, where feedsync's
// own feed reader, like Google's, does not look).
//
// Besides the skipped items, opts.OnProblem is told of a product written
// with a price but no currency (price-format, lint's code for it) and of an
// XML channel written without the <link> RSS 2.0 requires (NoChannelLink;
// a Problem about no line or item). Neither fails the Transform.
func Transform(ctx context.Context, in io.Reader, out io.Writer, opts TransformOptions) (TransformSummary, error) {
	var sum TransformSummary
	if opts.Policy == "" {
		opts.Policy = tree.PolicyVariant
	}
	if _, err := tree.ParsePolicy(string(opts.Policy)); err != nil {
		return sum, fmt.Errorf("policy %w", err)
	}
	if opts.To == "" {
		opts.To = OutputXML
	}
	if _, err := ParseOutputFormat(string(opts.To)); err != nil {
		return sum, fmt.Errorf("output format %w", err)
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	r, err := feed.NewReader(in, opts.Source, opts.Format)
	if err != nil {
		return sum, err
	}
	topts := tree.Options{Policy: opts.Policy, ProductID: opts.ProductID, Fields: opts.Fields, Now: opts.Now, SpillDir: opts.SpillDir}
	b := tree.NewBuilder(topts)
	defer b.Close()
	if err := b.ReadAll(ctx, r); err != nil {
		sum.Items = b.Items()
		return sum, err
	}
	sum.Items = b.Items()
	if opts.OnRead != nil {
		opts.OnRead(sum.Items)
	}

	w := newProductWriter(out, opts, topts)
	if err := w.begin(); err != nil {
		return sum, err
	}
	// Like a sync, a product whose custom_id another product has already
	// taken (a group id equal to an item's id) is skipped, by the builder.
	err = b.Finish(func(p *tree.Product) error {
		if sum.Products%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if err := w.write(p); err != nil {
			return err
		}
		sum.Products++
		if opts.OnProduct != nil {
			opts.OnProduct()
		}
		return nil
	})
	if err == nil {
		err = w.end()
	}
	problems := append(append([]feed.Problem(nil), r.Problems()...), b.Problems()...)
	sum.Skipped = feed.SkippedItems(r.Problems()) + b.Skipped() // rows the reader skipped, items and products the tree skipped
	for _, p := range append(problems, w.problems()...) {
		if opts.OnProblem != nil {
			opts.OnProblem(p)
		}
	}
	return sum, err
}

func firstLine(p *tree.Product) int {
	if len(p.Lines) > 0 {
		return p.Lines[0]
	}
	return 0
}

// productWriter writes products in one output format.
type productWriter interface {
	begin() error
	write(p *tree.Product) error
	end() error
	problems() []feed.Problem
}

func newProductWriter(out io.Writer, opts TransformOptions, topts tree.Options) productWriter {
	bw := bufio.NewWriterSize(out, 256<<10)
	var w productWriter
	switch opts.To {
	case OutputCSV, OutputTSV:
		w = &delimitedWriter{w: bw, tsv: opts.To == OutputTSV, cols: tree.ItemColumns(topts)}
	case OutputJSONL:
		w = &jsonlWriter{w: bw}
	default:
		w = &xmlWriter{w: bw, opts: opts}
	}
	return &currencyCheck{productWriter: w}
}

// maxCurrencyProblems caps the products named one by one as priced without
// a currency; the rest are counted in one more Problem.
const maxCurrencyProblems = 10

// currencyCheck reports, as a Problem, each product written with a price
// (or sale price) but no currency: Google rejects such a price, and lint
// flags it under the same code (price-format). The product is written as it
// is; nothing fails.
type currencyCheck struct {
	productWriter
	n     int // products priced without a currency
	probs []feed.Problem
}

func (c *currencyCheck) write(p *tree.Product) error {
	pl := p.Payload()
	if cur, _ := pl[tree.FieldCurrency].(string); strings.TrimSpace(cur) == "" {
		for _, k := range []string{tree.FieldPrice, tree.FieldSalePrice} {
			v := strings.TrimSpace(fmt.Sprint(pl[k]))
			if pl[k] == nil || v == "" {
				continue
			}
			c.n++
			if c.n <= maxCurrencyProblems {
				c.probs = append(c.probs, feed.Problem{Line: firstLine(p), ItemID: p.ID, Msg: fmt.Sprintf(
					"price-format: %s %q is written without a currency, which Google rejects: give the feed's prices their ISO 4217 code (%s USD)",
					tree.ItemAttr(k), v, v)})
			}
			break
		}
	}
	return c.productWriter.write(p)
}

func (c *currencyCheck) problems() []feed.Problem {
	ps := append(append([]feed.Problem(nil), c.productWriter.problems()...), c.probs...)
	if c.n > maxCurrencyProblems {
		ps = append(ps, feed.Problem{Msg: fmt.Sprintf("price-format: %d products in all are written with a price but no currency", c.n)})
	}
	return ps
}

// xmlWriter writes Google RSS 2.0: the envelope by hand, each <item> built
// with etree and written at once, so memory does not grow with the feed.
type xmlWriter struct {
	w     *bufio.Writer
	opts  TransformOptions
	probs []feed.Problem
}

// GoogleNS is the namespace of Google's product attributes.
const GoogleNS = "http://base.google.com/ns/1.0"

// FeedsyncNS is feedsync's own namespace, bound to the prefix fs: in the XML
// that Transform and the Publisher write. It holds the fields only the
// parent policy derives (tree.DerivedKeys: price_max, colors, sizes,
// materials, patterns, variant_count, in_stock_count), which are not Google
// attributes and so must not be written in Google's g: namespace. The URI is
// a name, not a document; it stays as it is for as long as the elements in
// it mean what they mean now.
const FeedsyncNS = "https://github.com/feedsync/feedsync/ns/1.0"

// plainRSS are the item elements RSS 2.0 defines itself; the derived fields
// are written in the fs: namespace, every other attribute in the g:
// namespace.
var plainRSS = map[string]bool{"title": true, "link": true, "description": true}

// feedsyncAttrs are the attributes written in the fs: namespace.
var feedsyncAttrs = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range tree.DerivedKeys() {
		m[tree.ItemAttr(k)] = true
	}
	return m
}()

// NoChannelLink is the message of the Problem reported when the XML channel
// is written without the <link> RSS 2.0 requires.
const NoChannelLink = "no channel link: pass --link URL or set link: on the feed in the configuration; RSS 2.0 requires one (written without it)"

func (x *xmlWriter) begin() error {
	title, link, desc := x.opts.Title, x.opts.Link, x.opts.Description
	if title == "" {
		title = "Products"
	}
	if desc == "" {
		desc = fmt.Sprintf("Shaped by feedsync transform (policy %s)", x.opts.Policy)
	}
	if link == "" {
		link = publicURL(x.opts.Source)
	}
	if link == "" {
		x.probs = append(x.probs, feed.Problem{Msg: NoChannelLink})
	}
	x.w.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	x.w.WriteString(`<rss version="2.0" xmlns:g="` + GoogleNS + `" xmlns:fs="` + FeedsyncNS + `">` + "\n<channel>\n")
	ch := etree.NewDocument()
	ch.WriteSettings.CanonicalText = true
	for _, kv := range [][2]string{{"title", title}, {"link", link}, {"description", desc}} {
		if kv[1] != "" {
			ch.CreateElement(kv[0]).SetText(kv[1])
		}
	}
	ch.Indent(etree.NoIndent)
	if _, err := ch.WriteTo(x.w); err != nil {
		return err
	}
	_, err := x.w.WriteString("\n")
	return err
}

func (x *xmlWriter) write(p *tree.Product) error {
	doc := etree.NewDocument()
	// Canonical text keeps a carriage return as &#xD; (a literal one would be
	// normalised away by the reader) and replaces characters XML cannot hold.
	doc.WriteSettings.CanonicalText = true
	item := doc.CreateElement("item")
	for _, a := range p.Item().Attrs {
		name := xmlName(a.Name)
		switch {
		case feedsyncAttrs[a.Name]:
			name = "fs:" + name
		case !plainRSS[name]:
			name = "g:" + name
		}
		item.CreateElement(name).SetText(a.Value)
	}
	doc.Indent(1)
	_, err := doc.WriteTo(x.w)
	return err
}

func (x *xmlWriter) end() error {
	if _, err := x.w.WriteString("</channel>\n</rss>\n"); err != nil {
		return err
	}
	return x.w.Flush()
}

func (x *xmlWriter) problems() []feed.Problem { return x.probs }

// publicURL is an http(s) source without what may be secret (user info,
// query, fragment), or "" for anything else.
func publicURL(src string) string {
	u, err := url.Parse(src)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}

// xmlName makes an attribute name a valid XML element name: characters
// other than letters, digits, '_', '-' and '.' become '_', and a name that
// does not start with a letter or '_' gets a leading '_'.
func xmlName(s string) string {
	ok := s != ""
	for i, r := range s {
		if !(unicode.IsLetter(r) || r == '_' || i > 0 && (unicode.IsDigit(r) || r == '-' || r == '.')) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case unicode.IsLetter(r) || r == '_' || unicode.IsDigit(r) || r == '-' || r == '.':
			if i == 0 && !(unicode.IsLetter(r) || r == '_') {
				b.WriteByte('_')
			}
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// delimitedWriter writes CSV or TSV with a fixed header: every attribute
// the policy and mapping can produce.
type delimitedWriter struct {
	w       *bufio.Writer
	tsv     bool
	csv     *csv.Writer
	cols    []string
	index   map[string]int
	row     []string
	dropped map[string]bool
	probs   []feed.Problem
}

func (d *delimitedWriter) begin() error {
	d.index = make(map[string]int, len(d.cols))
	for i, c := range d.cols {
		d.index[c] = i
	}
	d.row = make([]string, len(d.cols))
	if !d.tsv {
		d.csv = csv.NewWriter(d.w)
		return d.csv.Write(d.cols)
	}
	return d.writeTSV(d.cols)
}

func (d *delimitedWriter) write(p *tree.Product) error {
	clear(d.row)
	for _, a := range p.Item().Attrs {
		i, ok := d.index[a.Name]
		if !ok {
			if !d.dropped[a.Name] {
				if d.dropped == nil {
					d.dropped = map[string]bool{}
				}
				d.dropped[a.Name] = true
				d.probs = append(d.probs, feed.Problem{Line: firstLine(p), ItemID: p.ID, Msg: fmt.Sprintf("attribute %q has no column in the header: left out of the output", a.Name)})
			}
			continue
		}
		v := a.Value
		// A comma inside one value of a repeatable attribute (product_type)
		// would split it on the way back: quote the value inside the cell.
		if feed.IsRepeatable(a.Name) && strings.IndexByte(v, ',') >= 0 && !d.tsv && strings.IndexByte(v, '"') < 0 {
			v = `"` + v + `"`
		}
		d.row[i] = v
	}
	if d.csv != nil {
		return d.csv.Write(d.row)
	}
	return d.writeTSV(d.row)
}

// writeTSV writes one tab-separated line, quoting (RFC 4180 style, as
// Google's quoted-fields setting reads it) a value holding a tab, a line
// break, a leading quote, or a comma in a repeatable attribute.
func (d *delimitedWriter) writeTSV(fields []string) error {
	for i, v := range fields {
		if i > 0 {
			d.w.WriteByte('\t')
		}
		quote := strings.ContainsAny(v, "\t\n\r") || strings.HasPrefix(v, `"`) ||
			(i < len(d.cols) && feed.IsRepeatable(d.cols[i]) && strings.IndexByte(v, ',') >= 0)
		if !quote {
			d.w.WriteString(v)
			continue
		}
		d.w.WriteByte('"')
		d.w.WriteString(strings.ReplaceAll(v, `"`, `""`))
		d.w.WriteByte('"')
	}
	_, err := d.w.WriteString("\n")
	return err
}

func (d *delimitedWriter) end() error {
	if d.csv != nil {
		d.csv.Flush()
		if err := d.csv.Error(); err != nil {
			return err
		}
	}
	return d.w.Flush()
}

func (d *delimitedWriter) problems() []feed.Problem { return d.probs }

// jsonlWriter writes the JSONL sink's upsert lines, with the sink's own
// line writer.
type jsonlWriter struct {
	w   *bufio.Writer
	buf []byte
}

func (j *jsonlWriter) begin() error { return nil }

func (j *jsonlWriter) write(p *tree.Product) error {
	var err error
	if j.buf, err = push.AppendLine(j.buf[:0], push.Op{Kind: push.Create, ID: p.ID, Payload: p.JSON()}); err != nil {
		return err
	}
	_, err = j.w.Write(append(j.buf, '\n'))
	return err
}

func (j *jsonlWriter) end() error { return j.w.Flush() }

func (j *jsonlWriter) problems() []feed.Problem { return nil }
