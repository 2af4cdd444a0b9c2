package feed

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

func TestDetectFormat(t *testing.T) {
	tests := []struct {
		name, in string
		want     Format
	}{
		{"RSS", `<?xml version="1.0"?><rss version="2.0"><channel></channel></rss>`, FormatRSS},
		{"RSSNoDeclaration", "\n\n  <rss xmlns:g=\"http://base.google.com/ns/1.0\"><channel/></rss>", FormatRSS},
		{"Atom", `<?xml version="1.0"?><!-- made by hand --><feed xmlns="http://www.w3.org/2005/Atom"></feed>`, FormatAtom},
		{"AtomPrefixed", `<atom:feed xmlns:atom="http://www.w3.org/2005/Atom"></atom:feed>`, FormatAtom},
		{"TSV", "id\ttitle\nA\tB\n", FormatTSV},
		{"CSV", "id,title\nA,B\n", FormatCSV},
		{"CSVWithBOMAndBlankLines", "\ufeff\n\nid,title\nA,B\n", FormatCSV},
		{"TSVWithCommasInHeader", "id\ttitle\tshipping(country:price)\nA\tB\tUS:1 USD\n", FormatTSV},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tt.in), "test", FormatAuto)
			if err != nil {
				t.Fatal(err)
			}
			if r.Format() != tt.want {
				t.Errorf("got %s, want %s", r.Format(), tt.want)
			}
		})
	}
}

func TestReaderGzip(t *testing.T) {
	gz := gzipBytes(t, []byte(tsvFeed))
	items, problems, err := readAll(t, bytes.NewReader(gz), FormatAuto)
	if err != nil || len(items) != 2 || len(problems) != 0 {
		t.Fatalf("gzip TSV: %d items, %v, %v; want 2 items", len(items), problems, err)
	}
	// The configured format does not stop decompression.
	if items, _, err := readAll(t, bytes.NewReader(gz), FormatTSV); err != nil || len(items) != 2 {
		t.Errorf("gzip TSV configured as tsv: %d items, %v", len(items), err)
	}
}

func TestReaderTruncatedGzip(t *testing.T) {
	big := syntheticDelimited(2000, '\t')
	gz := gzipBytes(t, big)
	for _, cut := range []int{len(gz) - 4, len(gz) / 2, 12} {
		_, _, err := readAll(t, bytes.NewReader(gz[:cut]), FormatAuto)
		if !errors.Is(err, ErrTruncated) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("gzip cut at %d of %d: got %v, want ErrTruncated", cut, len(gz), err)
		}
	}
}

// TestReaderTruncatedGzipCSV: a cut gzip stream fails as truncated whatever
// the CSV inside; a whole gzip stream of a CSV cut inside a quoted field fails
// as the CSV does.
func TestReaderTruncatedGzipCSV(t *testing.T) {
	csv := syntheticDelimited(2000, ',')
	gz := gzipBytes(t, csv)
	for _, cut := range []int{len(gz) - 4, len(gz) - 9, len(gz) / 2, 12} {
		_, _, err := readAll(t, bytes.NewReader(gz[:cut]), FormatAuto)
		if !errors.Is(err, ErrTruncated) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("gzip cut at %d of %d: got %v, want ErrTruncated", cut, len(gz), err)
		}
	}
	at := bytes.LastIndex(csv, []byte(",\"Product 1999 of group")) + 20
	items, _, err := readAll(t, bytes.NewReader(gzipBytes(t, csv[:at])), FormatAuto)
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 2001 || !strings.Contains(err.Error(), "ends inside a quoted field") || len(items) != 1999 {
		t.Errorf("gzip of a CSV cut in a quoted field: %d items, %v; want 1999 items and a ParseError at line 2001", len(items), err)
	}
}

func TestReaderGzipBomb(t *testing.T) {
	gz := gzipBytes(t, bytes.Repeat([]byte("id\ttitle\n"), 1<<16))
	_, _, err := func() ([]*Item, []Problem, error) {
		r, err := NewReader(bytes.NewReader(gz), "bomb.tsv.gz", FormatAuto, MaxDecompressedBytes(64<<10))
		if err != nil {
			return nil, nil, err
		}
		for {
			if _, err := r.Next(); err != nil {
				return nil, nil, err
			}
		}
	}()
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "bomb.tsv.gz") {
		t.Errorf("got %v, want ErrTooLarge naming the source", err)
	}
}

func zipBytes(t testing.TB, files ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.Create(f[0])
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, f[1])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReaderZip(t *testing.T) {
	z := zipBytes(t, [2]string{"feeds/", ""}, [2]string{"feeds/products.tsv", tsvFeed}, [2]string{"other.csv", "id,title\nX,Y\n"})
	items, _, err := readAll(t, bytes.NewReader(z), FormatAuto)
	if err != nil || len(items) != 2 || items[0].ID() != "A1" {
		t.Fatalf("zip: %s, %v; want the 2 items of the first file", dump(items), err)
	}
	t.Run("Truncated", func(t *testing.T) {
		_, _, err := readAll(t, bytes.NewReader(z[:len(z)-30]), FormatAuto)
		if !errors.Is(err, ErrTruncated) {
			t.Errorf("got %v, want ErrTruncated", err)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		_, _, err := readAll(t, bytes.NewReader(zipBytes(t, [2]string{"dir/", ""})), FormatAuto)
		if err == nil || !strings.Contains(err.Error(), "no file") {
			t.Errorf("got %v, want an error saying the archive holds no file", err)
		}
	})
	t.Run("Bomb", func(t *testing.T) {
		z := zipBytes(t, [2]string{"big.tsv", "id\n" + strings.Repeat("x\n", 1<<20)})
		_, err := NewReader(bytes.NewReader(z), "big.zip", FormatAuto, MaxDecompressedBytes(1<<20))
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("got %v, want ErrTooLarge", err)
		}
	})
	t.Run("TempFileGone", func(t *testing.T) {
		dir := t.TempDir()
		t.Setenv("TMPDIR", dir) // where the zip is spooled
		r, err := NewReader(bytes.NewReader(z), "feed.zip", FormatAuto)
		if err != nil {
			t.Fatal(err)
		}
		for err == nil {
			_, err = r.Next()
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("spool files left behind: %v", entries)
		}
	})
}
