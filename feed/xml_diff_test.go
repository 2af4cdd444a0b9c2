package feed

import (
	"github.com/feedsync/feedsync/internal/realfeeds"

	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feedsync/feedsync/feed/feedgen"
)

// readItems reads every item of r, stopping at the first error.
func readItems(r Reader) ([]*Item, error) {
	var items []*Item
	for {
		it, err := r.Next()
		if err == io.EOF {
			return items, nil
		}
		if err != nil {
			return items, err
		}
		items = append(items, it)
	}
}

// scanXML reads data with the streaming scanner.
func scanXML(data []byte, format Format) ([]*Item, []Problem, error) {
	r := newXMLReader(bufio.NewReaderSize(bytes.NewReader(data), 64<<10), "test.xml", format)
	items, err := readItems(r)
	return items, r.Problems(), err
}

// refXML reads data with the encoding/xml reference reader.
func refXML(data []byte, format Format) ([]*Item, error) {
	r := newRefXMLReader(bufio.NewReaderSize(bytes.NewReader(data), 64<<10), "test.xml", format)
	return readItems(r)
}

// describeItem renders an item in one line per attribute, for diffs.
func describeItem(it *Item) string {
	var b strings.Builder
	fmt.Fprintf(&b, "line %d\n", it.Line)
	for _, a := range it.Attrs {
		fmt.Fprintf(&b, "  %s plain=%v %q\n", a.Name, a.Plain, a.Value)
		for _, s := range a.Sub {
			fmt.Fprintf(&b, "    %s plain=%v %q sub=%d\n", s.Name, s.Plain, s.Value, len(s.Sub))
		}
	}
	for _, a := range it.Shadowed {
		fmt.Fprintf(&b, "  shadowed %s plain=%v %q\n", a.Name, a.Plain, a.Value)
	}
	return b.String()
}

// sameItems compares two item lists and describes the first difference.
func sameItems(got, want []*Item) (bool, string) {
	for i := 0; i < len(got) && i < len(want); i++ {
		g, w := describeItem(got[i]), describeItem(want[i])
		if g != w {
			return false, fmt.Sprintf("item %d differs:\n got: %s\nwant: %s", i, g, w)
		}
	}
	if len(got) != len(want) {
		return false, fmt.Sprintf("got %d items, want %d", len(got), len(want))
	}
	return true, ""
}

// diffXML checks the scanner against the reference on data: when the
// reference reads it, the scanner must read the same items; when the
// reference fails, so must the scanner. It returns the items.
func diffXML(t testing.TB, name string, data []byte) []*Item {
	t.Helper()
	want, werr := refXML(data, FormatRSS)
	got, problems, gerr := scanXML(data, FormatRSS)
	if werr != nil {
		if gerr == nil {
			t.Errorf("%s: encoding/xml fails (%v), the scanner reads %d items", name, werr, len(got))
		}
		return got
	}
	if gerr != nil {
		t.Fatalf("%s: scanner: %v (encoding/xml reads %d items)", name, gerr, len(want))
	}
	if len(problems) > 0 {
		t.Errorf("%s: scanner reports problems on a feed encoding/xml reads: %v", name, problems)
	}
	if ok, msg := sameItems(got, want); !ok {
		t.Fatalf("%s: %s", name, msg)
	}
	return got
}

func TestXMLDifferentialFixtures(t *testing.T) {
	var files []string
	for _, pat := range xmlFixtureGlobs {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no XML fixtures found")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			items := diffXML(t, f, data)
			if len(items) == 0 {
				t.Errorf("%s: no items", f)
			}
		})
	}
}

func TestXMLDifferentialRealFeeds(t *testing.T) {
	t.Parallel()
	dir := realfeeds.Dir(t) // never copied into the repo
	files, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
	if len(files) == 0 {
		t.Skipf("no real feeds in %s=%s", realfeeds.Env, dir)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			diffXML(t, f, data)
		})
	}
}

// xmlFixtureGlobs find the XML fixtures. New ones are named *.rss and *.atom:
// the tree package's golden test reads every ../testdata/feeds/*.xml.
var xmlFixtureGlobs = []string{"../testdata/feeds/*.xml", "../testdata/feeds/*.rss", "../testdata/feeds/*.atom"}

// TestXMLDifferentialGenerated compares the readers on synthetic feeds from
// feedgen: RSS and Atom, several seeds, every pattern the generator mixes in.
func TestXMLDifferentialGenerated(t *testing.T) {
	t.Parallel()
	for _, f := range []feedgen.Format{feedgen.RSS, feedgen.Atom} {
		for seed := uint64(1); seed <= 3; seed++ {
			t.Run(fmt.Sprintf("%s-seed%d", f, seed), func(t *testing.T) {
				var buf bytes.Buffer
				if err := feedgen.Write(&buf, feedgen.Options{Format: f, Items: 250, Seed: seed}); err != nil {
					t.Fatal(err)
				}
				if items := diffXML(t, string(f), buf.Bytes()); len(items) != 250 {
					t.Errorf("got %d items, want 250", len(items))
				}
			})
		}
	}
}
