package feed

import (
	"github.com/feedsync/feedsync/internal/realfeeds"

	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The -update flag rewrites golden files. Another test file of the package may
// register it first; then that registration is shared.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files under testdata/golden")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// goldenFeed is what a fixture reads to: the detected format, every item and
// every problem, in order.
type goldenFeed struct {
	Format   Format       `json:"format"`
	Items    []goldenItem `json:"items"`
	Problems []string     `json:"problems,omitempty"`
	Error    string       `json:"error,omitempty"`
	Columns  []string     `json:"columns,omitempty"`
}

type goldenItem struct {
	Line  int          `json:"line"`
	Attrs []goldenAttr `json:"attrs"`
}

type goldenAttr struct {
	Name  string       `json:"name"`
	Value string       `json:"value,omitempty"`
	Sub   []goldenAttr `json:"sub,omitempty"`
}

func toGolden(attrs []Attr) []goldenAttr {
	out := make([]goldenAttr, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, goldenAttr{Name: a.Name, Value: a.Value, Sub: toGoldenSub(a.Sub)})
	}
	return out
}

func toGoldenSub(attrs []Attr) []goldenAttr {
	if len(attrs) == 0 {
		return nil
	}
	return toGolden(attrs)
}

func readGolden(t *testing.T, path string) goldenFeed {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var g goldenFeed
	r, err := NewReader(f, filepath.Base(path), FormatAuto)
	if err != nil {
		g.Error = err.Error()
		return g
	}
	g.Format = r.Format()
	if d, ok := r.(*delimitedReader); ok {
		g.Columns = d.Columns()
	}
	for {
		it, err := r.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				g.Error = err.Error()
			}
			break
		}
		g.Items = append(g.Items, goldenItem{Line: it.Line, Attrs: toGolden(it.Attrs)})
	}
	for _, p := range r.Problems() {
		g.Problems = append(g.Problems, p.String())
	}
	return g
}

// TestDelimitedGolden reads every CSV, TSV and compressed fixture in
// ../testdata/feeds and compares the items with testdata/golden/<name>.json.
// Run with -update to rewrite the golden files after a deliberate change.
func TestDelimitedGolden(t *testing.T) {
	var paths []string
	for _, pat := range []string{"*.csv", "*.tsv", "*.gz", "*.zip"} {
		m, err := filepath.Glob(filepath.Join("..", "testdata", "feeds", pat))
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, m...)
	}
	if len(paths) == 0 {
		t.Fatal("no delimited fixtures in ../testdata/feeds")
	}
	for _, path := range paths {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			g := readGolden(t, path)
			got := encodeGolden(t, g)
			golden := filepath.Join("testdata", "golden", name+".json")
			if updateGolden() {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./feed -run TestDelimitedGolden -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (run with -update if the change is deliberate):\n%s", name, golden, lineDiff(string(want), string(got)))
			}
		})
	}
}

// encodeGolden writes a goldenFeed as JSON with one attribute per line:
// ["name", "value"] or ["name", [["sub", "value"], …]], so that a diff of a
// golden file reads like a diff of the feed.
func encodeGolden(t *testing.T, g goldenFeed) []byte {
	t.Helper()
	enc := func(v any) string {
		var b bytes.Buffer
		e := json.NewEncoder(&b)
		e.SetEscapeHTML(false)
		if err := e.Encode(v); err != nil {
			t.Fatal(err)
		}
		return strings.TrimSuffix(b.String(), "\n")
	}
	var pair func(a goldenAttr) any
	pair = func(a goldenAttr) any {
		if len(a.Sub) == 0 {
			return []string{a.Name, a.Value}
		}
		sub := make([]any, len(a.Sub))
		for i, s := range a.Sub {
			sub[i] = pair(s)
		}
		return []any{a.Name, sub}
	}
	var b strings.Builder
	b.WriteString("{\n")
	b.WriteString(`  "format": ` + enc(g.Format) + ",\n")
	if g.Error != "" {
		b.WriteString(`  "error": ` + enc(g.Error) + ",\n")
	}
	b.WriteString(`  "columns": ` + enc(g.Columns) + ",\n")
	b.WriteString(`  "problems": ` + enc(g.Problems) + ",\n")
	b.WriteString(`  "items": [`)
	for i, it := range g.Items {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n    {\"line\": " + itoa(it.Line) + ", \"attrs\": [")
		for j, a := range it.Attrs {
			if j > 0 {
				b.WriteString(",")
			}
			b.WriteString("\n      " + enc(pair(a)))
		}
		b.WriteString("\n    ]}")
	}
	b.WriteString("\n  ]\n}\n")
	return []byte(b.String())
}

// TestCompressedFixtureMatchesPlain checks that the gzip fixture reads to the
// same items as the file it compresses.
func TestCompressedFixtureMatchesPlain(t *testing.T) {
	plain := readGolden(t, filepath.Join("..", "testdata", "feeds", "northwind_meta.csv"))
	gz := readGolden(t, filepath.Join("..", "testdata", "feeds", "northwind_meta.csv.gz"))
	a, _ := json.Marshal(plain)
	b, _ := json.Marshal(gz)
	if !bytes.Equal(a, b) || len(plain.Items) == 0 {
		t.Errorf("the gzip fixture reads differently from the plain one:\n%s", lineDiff(string(a), string(b)))
	}
}

// lineDiff shows the first differing lines of two texts.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + itoa(i+1) + ":\n want " + wl + "\n  got " + gl
		}
	}
	return "(no line differs)"
}

// TestRealFeedsDelimited reads the real-world CSV and TSV feeds kept outside
// the repository (their licences forbid committing them).
func TestRealFeedsDelimited(t *testing.T) {
	dir := realfeeds.Dir(t)
	t.Run("MetaCatalogCSV", func(t *testing.T) {
		g := readGolden(t, filepath.Join(dir, "muse-wear-eg_meta_catalog.csv"))
		if g.Error != "" || g.Format != FormatCSV || len(g.Items) != 12 || len(g.Columns) != 13 || len(g.Problems) != 0 {
			t.Fatalf("got %s, %d items, %d columns, problems %q, error %q; want csv, 12 items, 13 columns", g.Format, len(g.Items), len(g.Columns), g.Problems, g.Error)
		}
		for _, it := range g.Items {
			if attr(it, "availability") != "in stock" || !strings.HasSuffix(attr(it, "price"), " EGP") {
				t.Errorf("line %d: availability %q price %q", it.Line, attr(it, "availability"), attr(it, "price"))
			}
		}
	})
	t.Run("GoogleTSVSpacedHeaders", func(t *testing.T) {
		g := readGolden(t, filepath.Join(dir, "vendibook-us_google_tsv_spaced_headers.tsv"))
		if g.Error != "" || g.Format != FormatTSV || len(g.Items) != 34 || len(g.Columns) != 38 {
			t.Fatalf("got %s, %d items, %d columns, error %q; want tsv, 34 items, 38 columns", g.Format, len(g.Items), len(g.Columns), g.Error)
		}
		if len(g.Problems) != 1 || !strings.Contains(g.Problems[0], `duplicate header column "min_energy_efficiency_class"`) || !strings.HasPrefix(g.Problems[0], "line 1:") {
			t.Errorf("problems %q; want the duplicate header on line 1", g.Problems)
		}
		for _, c := range []string{"image_link", "availability_date", "sale_price_effective_date", "item_group_id", "sell_on_google_quantity"} {
			found := false
			for _, col := range g.Columns {
				found = found || col == c
			}
			if !found {
				t.Errorf("column %q missing from %q", c, g.Columns)
			}
		}
		quotes := 0
		for i, it := range g.Items {
			if it.Line != i+2 {
				t.Errorf("item %d on line %d, want %d", i, it.Line, i+2)
			}
			if strings.Contains(attr(it, "description"), `"`) || strings.Contains(attr(it, "title"), `"`) {
				quotes++
			}
		}
		if quotes == 0 {
			t.Error("no raw quote kept in any title or description (36\" flat top)")
		}
	})
}

func attr(it goldenItem, name string) string {
	for _, a := range it.Attrs {
		if a.Name == name {
			return a.Value
		}
	}
	return ""
}
