package feed

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// xmlGoldenAttr, xmlGoldenItem and xmlGoldenFeed are the JSON form of what
// the XML reader yields (Plain included, unlike the delimited golden files).
type xmlGoldenAttr struct {
	Name  string          `json:"name"`
	Value string          `json:"value,omitempty"`
	Plain bool            `json:"plain,omitempty"`
	Sub   []xmlGoldenAttr `json:"sub,omitempty"`
}

type xmlGoldenItem struct {
	Line     int             `json:"line"`
	Attrs    []xmlGoldenAttr `json:"attrs"`
	Shadowed []xmlGoldenAttr `json:"shadowed,omitempty"`
}

type xmlGoldenFeed struct {
	Format   Format          `json:"format"`
	Items    []xmlGoldenItem `json:"items"`
	Problems []string        `json:"problems,omitempty"`
}

func toXMLGolden(attrs []Attr) []xmlGoldenAttr {
	out := []xmlGoldenAttr{}
	for _, a := range attrs {
		g := xmlGoldenAttr{Name: a.Name, Value: a.Value, Plain: a.Plain}
		if len(a.Sub) > 0 {
			g.Sub = toXMLGolden(a.Sub)
		}
		out = append(out, g)
	}
	return out
}

// TestXMLGolden reads every XML fixture through NewReader (format detection
// included) and compares the items with testdata/golden/<fixture>.json.
// go test ./feed -run XMLGolden -update rewrites them; review the diff.
func TestXMLGolden(t *testing.T) {
	var files []string
	for _, pat := range xmlFixtureGlobs {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			fh, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			r, err := NewReader(fh, name, FormatAuto)
			if err != nil {
				t.Fatal(err)
			}
			items, err := readItems(r)
			if err != nil {
				t.Fatal(err)
			}
			g := xmlGoldenFeed{Format: r.Format(), Items: []xmlGoldenItem{}}
			for _, it := range items {
				gi := xmlGoldenItem{Line: it.Line, Attrs: toXMLGolden(it.Attrs)}
				if len(it.Shadowed) > 0 {
					gi.Shadowed = toXMLGolden(it.Shadowed)
				}
				g.Items = append(g.Items, gi)
			}
			for _, p := range r.Problems() {
				g.Problems = append(g.Problems, p.String())
			}
			got, err := json.MarshalIndent(g, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", "golden", name+".json")
			if updateGolden() {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test ./feed -run XMLGolden -update creates it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (go test ./feed -run XMLGolden -update rewrites it; review the diff):\n got:\n%s", name, path, got)
			}
		})
	}
}
