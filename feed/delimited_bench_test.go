package feed

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/feedsync/feedsync/feed/feedgen"
)

// syntheticDelimited writes a deterministic feed of n rows in the shape of
// real Google/Meta text feeds: 20 columns, a few empty, descriptions of a
// couple hundred bytes (with commas, so CSV quotes them), shipping in text form,
// comma-separated additional images, non-ASCII text and an occasional raw
// quote (36" flat top).
func syntheticDelimited(n int, sep byte) []byte {
	cols := []string{"id", "title", "description", "link", "image_link", "additional_image_link", "availability", "price", "sale_price", "brand", "gtin", "condition", "item_group_id", "color", "size", "product_type", "google_product_category", "shipping", "custom_label_0", "identifier_exists"}
	var b bytes.Buffer
	b.Grow(n * 700)
	b.WriteString(strings.Join(cols, string(sep)))
	b.WriteByte('\n')
	colors := []string{"Black", "White", "Red", "Navy", "Бежевый", "Grün"}
	sizes := []string{"XS", "S", "M", "L", "XL", "XXL"}
	field := func(s string, last bool) {
		if sep == ',' && strings.ContainsAny(s, ",\"\n") {
			b.WriteByte('"')
			b.WriteString(strings.ReplaceAll(s, `"`, `""`))
			b.WriteByte('"')
		} else {
			b.WriteString(s)
		}
		if last {
			b.WriteByte('\n')
		} else {
			b.WriteByte(sep)
		}
	}
	for i := 0; i < n; i++ {
		g := i / 6
		desc := fmt.Sprintf("Product %d of group %d: soft, durable and machine-washable; a classic cut that works for every season, made from organic cotton – certified, fair and warm. Fits true to size.", i, g)
		if i%50 == 0 && sep == '\t' {
			desc += ` With a 36" flat top.`
		}
		field(fmt.Sprintf("SKU-%07d", i), false)
		field(fmt.Sprintf("Classic Tee %d – %s / %s", g, colors[i%len(colors)], sizes[i%len(sizes)]), false)
		field(desc, false)
		field(fmt.Sprintf("https://shop.example.com/p/%d?variant=%d&utm_source=feed", g, i), false)
		field(fmt.Sprintf("https://cdn.example.com/img/%d/main.jpg", g), false)
		field(fmt.Sprintf("https://cdn.example.com/img/%d/a.jpg,https://cdn.example.com/img/%d/b.jpg", g, g), false)
		field([]string{"in stock", "out of stock", "in_stock", "preorder"}[i%4], false)
		field(fmt.Sprintf("%d.%02d USD", 10+i%90, i%100), false)
		if i%3 == 0 {
			field(fmt.Sprintf("%d.00 USD", 5+i%80), false)
		} else {
			field("", false)
		}
		field("Acme Apparel", false)
		field(fmt.Sprintf("4%012d", i), false)
		field("new", false)
		field(fmt.Sprintf("GRP-%06d", g), false)
		field(colors[i%len(colors)], false)
		field(sizes[i%len(sizes)], false)
		field("Apparel & Accessories > Clothing > Shirts & Tops", false)
		field("212", false)
		field("US:CA:Ground:4.95 USD", false)
		field("", false)
		field("yes", true)
	}
	return b.Bytes()
}

func benchmarkDelimited(b *testing.B, sep byte) {
	benchmarkDelimitedData(b, syntheticDelimited(20000, sep))
}

func benchmarkDelimitedData(b *testing.B, data []byte) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	items := 0
	for i := 0; i < b.N; i++ {
		r, err := NewReader(bytes.NewReader(data), "bench", FormatAuto)
		if err != nil {
			b.Fatal(err)
		}
		for {
			it, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			items++
			benchSink = it
		}
		if p := r.Problems(); len(p) > 0 {
			b.Fatalf("problems: %v", p[0])
		}
	}
	b.ReportMetric(float64(items)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkDelimitedTSV and BenchmarkDelimitedCSV measure the reader end to
// end (bytes to Items); BenchmarkEncodingCSV is the encoding/csv baseline on
// the same CSV (records only, no Items).
func BenchmarkDelimitedTSV(b *testing.B) { benchmarkDelimited(b, '\t') }
func BenchmarkDelimitedCSV(b *testing.B) { benchmarkDelimited(b, ',') }

// BenchmarkDelimitedFeedgen reads the shared generator's CSV and TSV (the
// feeds `make bench` uses): every CSV row quoted, 24 columns, 1–3 shipping
// blocks per row.
func BenchmarkDelimitedFeedgen(b *testing.B) {
	for _, f := range []feedgen.Format{feedgen.CSV, feedgen.TSV} {
		b.Run(strings.ToUpper(string(f)), func(b *testing.B) {
			var buf bytes.Buffer
			if err := feedgen.Write(&buf, feedgen.Options{Format: f, Items: 20000, Seed: 1}); err != nil {
				b.Fatal(err)
			}
			benchmarkDelimitedData(b, buf.Bytes())
		})
	}
}

// BenchmarkEncodingCSVItems is the like-for-like baseline: encoding/csv
// (LazyQuotes) on the generator's CSV, turning each record into an Item with
// trimmed values as the reader does, so the two can be compared on a loaded
// machine by their ratio.
var benchSink *Item

func BenchmarkEncodingCSVItems(b *testing.B) {
	var buf bytes.Buffer
	if err := feedgen.Write(&buf, feedgen.Options{Format: feedgen.CSV, Items: 20000, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cr := csv.NewReader(bytes.NewReader(data))
		cr.LazyQuotes = true
		header, err := cr.Read()
		if err != nil {
			b.Fatal(err)
		}
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			line, _ := cr.FieldPos(0)
			it := &Item{Line: line, Attrs: make([]Attr, 0, len(rec))}
			for j, v := range rec {
				if v = strings.TrimSpace(v); v != "" {
					it.Attrs = append(it.Attrs, Attr{Name: header[j], Value: v})
				}
			}
			benchSink = it
		}
	}
}

func BenchmarkEncodingCSV(b *testing.B) {
	data := syntheticDelimited(20000, ',')
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cr := csv.NewReader(bytes.NewReader(data))
		cr.ReuseRecord = true
		for {
			_, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}
