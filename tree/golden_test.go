package tree

import (
	"github.com/feedsync/feedsync/internal/realfeeds"

	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feedsync/feedsync/feed"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// readFeed parses a feed file into items.
func readFeed(t *testing.T, path string) []*feed.Item {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := feed.NewReader(f, path, feed.FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	var items []*feed.Item
	for {
		it, err := r.Next()
		if err == io.EOF {
			return items
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		items = append(items, it)
	}
}

// render is the golden form of a build: products in emit order, then problems.
func render(t *testing.T, opts Options, items []*feed.Item) []byte {
	t.Helper()
	if opts.Now.IsZero() {
		opts.Now = now
	}
	b := NewBuilder(opts)
	defer b.Close()
	for _, it := range items {
		b.Add(it)
	}
	var buf bytes.Buffer
	err := b.Finish(func(p *Product) error {
		fmt.Fprintf(&buf, "# %s lines %v", p.ID, p.Lines)
		if len(p.Truncated) > 0 {
			fmt.Fprintf(&buf, " truncated %v", p.Truncated)
		}
		fmt.Fprintf(&buf, "\n%s\n", p.JSON())
		// The bytes written from the field list are encoding/json's bytes
		// of the map form.
		if want := slowJSON(p.ID, p.Payload()); !bytes.Equal(p.JSON(), want) {
			t.Errorf("%s: JSON\n %s\nmap form\n %s", p.ID, p.JSON(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range b.Problems() {
		fmt.Fprintf(&buf, "problem: %s\n", p)
	}
	return buf.Bytes()
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
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
		t.Fatalf("%v (run go test ./tree -run Golden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./tree -run Golden -update rewrites it; review the diff):\n got:\n%s\nwant:\n%s", name, got, want)
	}
}

func TestGolden(t *testing.T) {
	feeds, err := filepath.Glob("../testdata/feeds/*.xml")
	if err != nil || len(feeds) == 0 {
		t.Fatalf("no test feeds: %v", err)
	}
	for _, path := range feeds {
		items := readFeed(t, path)
		for _, pol := range []Policy{PolicyParent, PolicyVariant} {
			name := strings.TrimSuffix(filepath.Base(path), ".xml") + "." + string(pol) + ".golden"
			t.Run(name, func(t *testing.T) {
				checkGolden(t, name, render(t, Options{Policy: pol}, items))
			})
		}
	}
}

// realVariantFeed is a real shop feed with variants, kept outside the repo
// (its licence forbids redistribution), in $FEEDSYNC_REALFEEDS.
const realVariantFeed = "samsung-kz_atom_variants_trimmed.xml"

// TestRealVariantFeed checks the Samsung Kazakhstan feed: 222 entries in 84
// groups, one group (VG-SCLB00) with two identical variants. Only digests of
// the output are kept in the repo, never its product data.
func TestRealVariantFeed(t *testing.T) {
	items := readFeed(t, realfeeds.File(t, realVariantFeed))
	if len(items) != 222 {
		t.Fatalf("read %d items, want 222", len(items))
	}
	var digests bytes.Buffer
	for _, pol := range []Policy{PolicyParent, PolicyVariant} {
		opts := Options{Policy: pol}
		out := render(t, opts, items)
		ps, b := build(t, opts, items...)
		want := map[Policy]int{PolicyParent: 84, PolicyVariant: 222}[pol]
		if len(ps) != want {
			t.Errorf("%s: %d products, want %d", pol, len(ps), want)
		}
		var dup []string
		for _, p := range b.Problems() {
			if strings.Contains(p.Msg, "duplicate variant") {
				dup = append(dup, p.String())
			}
		}
		if len(dup) != 1 || !strings.Contains(dup[0], `item_group_id "VG-SCLB00"`) {
			t.Errorf("%s: duplicate-variant problems: got %q, want one for VG-SCLB00", pol, dup)
		}
		if b.Skipped() != 0 {
			t.Errorf("%s: %d items skipped, want 0: %s", pol, b.Skipped(), problemsText(b))
		}
		if pol == PolicyParent {
			p := ps["SM-S948B"]
			if p == nil || field(p, "variant_count") != "18" {
				t.Errorf("SM-S948B: want 18 variants, got %v", p)
			}
		}
		// Any order gives the same products.
		for seed := uint64(0); seed < 5; seed++ {
			shuffled := append([]*feed.Item(nil), items...)
			rand.New(rand.NewPCG(seed, 7)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			if fmt.Sprint(products(t, opts, shuffled)) != fmt.Sprint(products(t, opts, items)) {
				t.Errorf("%s: seed %d: shuffled feed gives other products", pol, seed)
			}
		}
		sum := sha256.Sum256(out)
		fmt.Fprintf(&digests, "%s %s\n", pol, hex.EncodeToString(sum[:]))
	}
	checkGolden(t, "samsung-kz.sha256", digests.Bytes())
}
