package feedgen

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Format is the syntax of a generated feed.
type Format string

// The formats Write produces.
const (
	RSS  Format = "rss"
	Atom Format = "atom"
	CSV  Format = "csv"
	TSV  Format = "tsv"
)

// Formats lists every format, in the order benchmarks report them.
var Formats = []Format{RSS, Atom, CSV, TSV}

// Ext returns the file name extension conventionally used for f.
func (f Format) Ext() string {
	switch f {
	case Atom:
		return "atom.xml"
	case RSS:
		return "xml"
	}
	return string(f)
}

// Options says what Write generates.
type Options struct {
	Format Format
	Items  int    // number of items (rows)
	Seed   uint64 // the same seed gives the same feed
}

// VariantShare is the share of items that belong to a variant group.
const VariantShare = 0.4

// Write writes a feed of o.Items items to w.
func Write(w io.Writer, o Options) error {
	switch o.Format {
	case RSS, Atom, CSV, TSV:
	default:
		return fmt.Errorf("feedgen: unknown format %q: want rss, atom, csv or tsv", o.Format)
	}
	if o.Items < 0 {
		return fmt.Errorf("feedgen: negative item count %d", o.Items)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	g := &generator{o: o, rng: rand.New(rand.NewPCG(o.Seed, 0x9e3779b97f4a7c15))}
	g.header()
	for i := 0; i < o.Items; i++ {
		g.next(i)
		switch o.Format {
		case RSS, Atom:
			g.xmlItem()
		default:
			g.textRow()
		}
		if len(g.buf) >= 256<<10 {
			if _, err := bw.Write(g.buf); err != nil {
				return err
			}
			g.buf = g.buf[:0]
		}
	}
	g.footer()
	if _, err := bw.Write(g.buf); err != nil {
		return err
	}
	return bw.Flush()
}

// product is one generated item.
type product struct {
	id, group        string
	title            string
	description      string
	html             bool // description holds markup (CDATA in XML)
	link, image      string
	extraImages      []string
	availability     string
	price, salePrice string
	brand, gtin, mpn string
	color, size      string
	gender, age      string
	category, ptype  string
	shipping         []shipping
	labels           []string
	nativeAtom       bool // Atom: title, link and summary as Atom elements
	charRefs         bool // XML: non-ASCII written as &#NNN; references
}

type shipping struct{ country, service, price string }

type generator struct {
	o   Options
	rng *rand.Rand
	buf []byte
	p   product

	// The current variant group: its base and how many variants remain.
	groupLeft  int
	groupBase  int
	groupIndex int
	groupSeq   int
}

var (
	brands = []string{"Northwind", "Příroda", "Krämer & Söhne", "Сибирь", "Campware", "Ridge", "O'Neill Outdoor", "Hinode 日の出"}
	nouns  = []string{"Tee", "Hoodie", "Tent", "Mug", "Jacket", "Backpack", "Sneaker", "Lamp", "Kettle", "Scarf", "Chair", "Blanket"}
	adjs   = []string{"Classic", "Trail", "Organic", "Lightweight", "Ultra", "Heritage", "Compact", "Thermo", "Soft-touch", "All-weather"}
	colors = []string{"Red", "Blue", "Green", "Black", "White", "Sand", "Šedá", "Grün", "Синий", "Navy"}
	sizes  = []string{"XS", "S", "M", "L", "XL", "XXL", "36", "38", "40", "42"}
	words  = []string{
		"comfortable", "durable", "fabric", "for", "everyday", "use", "made", "from", "recycled", "materials",
		"with", "reinforced", "seams", "and", "a", "water-repellent", "finish", "designed", "in", "Europe",
		"pohodlný", "materiál", "z", "bavlny", "und", "wasserdicht", "für", "jeden", "Tag", "прочный",
		"материал", "для", "походов", "軽量", "防水", "&", "<", ">", "\"quoted\"", "it's", "–", "€", "café", "naïve",
	}
	categories = []string{
		"Apparel & Accessories > Clothing > Shirts & Tops",
		"Sporting Goods > Outdoor Recreation > Camping & Hiking > Tents",
		"Home & Garden > Kitchen & Dining > Tableware > Drinkware > Mugs",
		"Apparel & Accessories > Shoes",
		"Luggage & Bags > Backpacks",
	}
	availabilities = []string{"in_stock", "in stock", "out_of_stock", "preorder", "backorder", "in_stock", "in_stock"}
	countries      = []string{"DE", "AT", "CZ", "US", "GB", "FR"}
	services       = []string{"Standard", "Express", "Zásilkovna", "DHL Paket", "Почта"}
	currencies     = []string{"EUR", "EUR", "CZK", "USD", "RUB"}
)

func (g *generator) pick(s []string) string { return s[g.rng.IntN(len(s))] }

func (g *generator) money(lo, hi int, cur string) string {
	cents := lo*100 + g.rng.IntN((hi-lo)*100)
	return strconv.Itoa(cents/100) + "." + fmt.Sprintf("%02d", cents%100) + " " + cur
}

// next draws item i. Variant groups come in runs of 2–5 items; a run starts
// with probability 0.16, so that about 40% of items are variants.
func (g *generator) next(i int) {
	r := g.rng
	p := &g.p
	*p = product{extraImages: p.extraImages[:0], shipping: p.shipping[:0], labels: p.labels[:0]}
	if g.groupLeft == 0 && r.Float64() < 0.16 {
		g.groupLeft = 2 + r.IntN(4)
		g.groupBase = i
		g.groupSeq = 0
	}
	base := i
	if g.groupLeft > 0 {
		base = g.groupBase
		g.groupLeft--
		g.groupSeq++
		p.group = "G" + strconv.Itoa(base)
	}
	noun := nouns[base%len(nouns)]
	adj := adjs[(base/len(nouns))%len(adjs)]
	p.brand = brands[(base/7)%len(brands)]
	cur := currencies[base%len(currencies)]
	p.id = "P" + strconv.Itoa(base)
	p.title = p.brand + " " + adj + " " + noun + " “" + strconv.Itoa(base%97) + "”"
	if p.group != "" {
		p.color = colors[(g.groupSeq*3+base)%len(colors)]
		p.size = sizes[(g.groupSeq+base)%len(sizes)]
		p.id += "-" + strconv.Itoa(g.groupSeq)
		p.title += " – " + p.color + " / " + p.size
		p.gender = "unisex"
		p.age = "adult"
	}
	// The description carries most of the bytes: about 1 KB of words.
	var d strings.Builder
	n := 70 + r.IntN(60)
	p.html = r.IntN(5) == 0
	for k := 0; k < n; k++ {
		if k > 0 {
			d.WriteByte(' ')
		}
		if p.html && k%40 == 39 {
			d.WriteString("<br>")
		}
		d.WriteString(words[r.IntN(len(words))])
	}
	p.description = d.String()
	slug := strings.ToLower(adj + "-" + noun)
	p.link = "https://shop.example.com/p/" + slug + "-" + strconv.Itoa(base) + "?variant=" + p.id + "&utm_source=feed&utm_medium=merchant"
	p.image = "https://cdn.example.com/img/" + p.id + "/main(1).jpg?w=1200&h=1200"
	for k := r.IntN(4); k > 0; k-- {
		p.extraImages = append(p.extraImages, "https://cdn.example.com/img/"+p.id+"/alt-"+strconv.Itoa(k)+".jpg?w=1200&h=1200")
	}
	p.availability = g.pick(availabilities)
	p.price = g.money(5, 400, cur)
	if r.IntN(4) == 0 {
		p.salePrice = g.money(3, 5, cur)
	}
	p.gtin = fmt.Sprintf("400%010d", (uint64(base)*7919+uint64(g.groupSeq))%10000000000)
	p.mpn = "MPN-" + strconv.Itoa(base) + "-" + strconv.Itoa(g.groupSeq)
	p.category = categories[base%len(categories)]
	p.ptype = p.category + " > " + noun
	for k := 1 + r.IntN(3); k > 0; k-- {
		p.shipping = append(p.shipping, shipping{country: g.pick(countries), service: g.pick(services), price: g.money(0, 15, cur)})
	}
	p.labels = append(p.labels, "season-"+strconv.Itoa(base%4), "margin-"+strconv.Itoa(r.IntN(3)))
	p.nativeAtom = g.o.Format == Atom && i%2 == 1
	p.charRefs = r.IntN(10) == 0
}

func (g *generator) header() {
	switch g.o.Format {
	case RSS:
		g.buf = append(g.buf, `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0">
<channel>
<title>feedgen synthetic shop</title>
<link>https://shop.example.com/</link>
<description>Synthetic feed for benchmarks &amp; tests</description>
`...)
	case Atom:
		g.buf = append(g.buf, `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:g="http://base.google.com/ns/1.0">
<title>feedgen synthetic shop</title>
<link rel="self" href="https://shop.example.com/feed.atom"/>
<updated>2026-01-01T00:00:00Z</updated>
`...)
	case CSV, TSV:
		sep := g.sep()
		for i, c := range textColumns {
			if i > 0 {
				g.buf = append(g.buf, sep)
			}
			g.buf = append(g.buf, c...)
		}
		g.buf = append(g.buf, '\n')
	}
}

func (g *generator) footer() {
	switch g.o.Format {
	case RSS:
		g.buf = append(g.buf, "</channel>\n</rss>\n"...)
	case Atom:
		g.buf = append(g.buf, "</feed>\n"...)
	}
}

// xmlText appends s escaped for XML character data.
func (g *generator) xmlText(s string, charRefs bool) {
	for _, c := range s {
		switch {
		case c == '&':
			g.buf = append(g.buf, "&amp;"...)
		case c == '<':
			g.buf = append(g.buf, "&lt;"...)
		case c == '>':
			g.buf = append(g.buf, "&gt;"...)
		case c >= 0x80 && charRefs:
			g.buf = append(g.buf, "&#"...)
			g.buf = strconv.AppendInt(g.buf, int64(c), 10)
			g.buf = append(g.buf, ';')
		default:
			g.buf = append(g.buf, string(c)...)
		}
	}
}

func (g *generator) gElem(name, value string) {
	g.buf = append(g.buf, "<g:"...)
	g.buf = append(g.buf, name...)
	g.buf = append(g.buf, '>')
	g.xmlText(value, g.p.charRefs)
	g.buf = append(g.buf, "</g:"...)
	g.buf = append(g.buf, name...)
	g.buf = append(g.buf, ">\n"...)
}

func (g *generator) xmlItem() {
	p := &g.p
	open, close := "<item>\n", "</item>\n"
	if g.o.Format == Atom {
		open, close = "<entry>\n", "</entry>\n"
	}
	g.buf = append(g.buf, open...)
	g.gElem("id", p.id)
	if p.nativeAtom {
		g.buf = append(g.buf, "<title>"...)
		g.xmlText(p.title, false)
		g.buf = append(g.buf, "</title>\n<link href=\""...)
		g.xmlText(p.link, false)
		g.buf = append(g.buf, "\"/>\n<summary>"...)
		g.xmlText(p.description, false)
		g.buf = append(g.buf, "</summary>\n"...)
	} else {
		g.gElem("title", p.title)
		if p.html {
			g.buf = append(g.buf, "<g:description><![CDATA["...)
			g.buf = append(g.buf, p.description...)
			g.buf = append(g.buf, "]]></g:description>\n"...)
		} else {
			g.gElem("description", p.description)
		}
		g.gElem("link", p.link)
	}
	g.gElem("image_link", p.image)
	for _, u := range p.extraImages {
		g.gElem("additional_image_link", u)
	}
	g.gElem("availability", p.availability)
	if p.availability == "preorder" || p.availability == "backorder" {
		g.gElem("availability_date", "2027-03-25T13:00+0000")
	}
	g.gElem("price", p.price)
	if p.salePrice != "" {
		g.gElem("sale_price", p.salePrice)
	}
	g.gElem("brand", p.brand)
	g.gElem("condition", "new")
	g.gElem("gtin", p.gtin)
	g.gElem("mpn", p.mpn)
	if p.group != "" {
		g.gElem("item_group_id", p.group)
		g.gElem("color", p.color)
		g.gElem("size", p.size)
		g.gElem("gender", p.gender)
		g.gElem("age_group", p.age)
	}
	g.gElem("google_product_category", p.category)
	g.gElem("product_type", p.ptype)
	for _, s := range p.shipping {
		g.buf = append(g.buf, "<g:shipping>\n"...)
		g.gElem("country", s.country)
		g.gElem("service", s.service)
		g.gElem("price", s.price)
		g.buf = append(g.buf, "</g:shipping>\n"...)
	}
	for k, l := range p.labels {
		g.gElem("custom_label_"+strconv.Itoa(k), l)
	}
	g.buf = append(g.buf, close...)
}

// textColumns are the header of CSV and TSV feeds. Repeated values are
// comma-separated in one cell; shipping uses Google's country:region:service:price.
var textColumns = []string{
	"id", "title", "description", "link", "image_link", "additional_image_link", "availability",
	"availability_date", "price", "sale_price", "brand", "condition", "gtin", "mpn", "item_group_id",
	"color", "size", "gender", "age_group", "google_product_category", "product_type", "shipping",
	"custom_label_0", "custom_label_1",
}

func (g *generator) sep() byte {
	if g.o.Format == CSV {
		return ','
	}
	return '\t'
}

// cell appends one value: CSV quotes it when needed (RFC 4180); TSV values
// never hold tabs, line breaks or quotes, so they are written as they are.
func (g *generator) cell(first bool, v string) {
	if !first {
		g.buf = append(g.buf, g.sep())
	}
	if g.o.Format == TSV {
		g.buf = append(g.buf, strings.ReplaceAll(v, `"`, "”")...)
		return
	}
	if !strings.ContainsAny(v, ",\"\n\r") {
		g.buf = append(g.buf, v...)
		return
	}
	g.buf = append(g.buf, '"')
	g.buf = append(g.buf, strings.ReplaceAll(v, `"`, `""`)...)
	g.buf = append(g.buf, '"')
}

func (g *generator) textRow() {
	p := &g.p
	date := ""
	if p.availability == "preorder" || p.availability == "backorder" {
		date = "2027-03-25T13:00+0000"
	}
	var ship strings.Builder
	for k, s := range p.shipping {
		if k > 0 {
			ship.WriteByte(',')
		}
		ship.WriteString(s.country + "::" + s.service + ":" + s.price)
	}
	label1 := ""
	if len(p.labels) > 1 {
		label1 = p.labels[1]
	}
	for k, v := range []string{
		p.id, p.title, p.description, p.link, p.image, strings.Join(p.extraImages, ","), p.availability,
		date, p.price, p.salePrice, p.brand, "new", p.gtin, p.mpn, p.group,
		p.color, p.size, p.gender, p.age, p.category, p.ptype, ship.String(),
		p.labels[0], label1,
	} {
		g.cell(k == 0, v)
	}
	g.buf = append(g.buf, '\n')
}
