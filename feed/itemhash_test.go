package feed

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/zeebo/xxh3"
	"golang.org/x/text/encoding/unicode"

	"github.com/feedsync/feedsync/feed/feedgen"
)

// scanned is what ScanItems hands fn, and what the Reader's items carry.
type scanned struct {
	line int
	raw  [16]byte
}

func (s scanned) String() string { return fmt.Sprintf("line %d %x", s.line, s.raw[:4]) }

// hashOutcome is a run of the Reader or of ScanItems: its items, the lines of
// the items the Reader skipped, and how it ended.
type hashOutcome struct {
	items   []scanned
	skipped []int
	err     error
}

// readHashed reads data with the Reader and WithItemHash(seed). A bufSize
// other than zero shrinks the scanner's buffer, so that items straddle refills.
func readHashed(data []byte, format Format, seed uint64, bufSize int, wrap func(io.Reader) io.Reader) hashOutcome {
	var in io.Reader = bytes.NewReader(data)
	if wrap != nil {
		in = wrap(in)
	}
	var out hashOutcome
	var r Reader
	if bufSize == 0 {
		r, out.err = NewReader(in, "test.xml", format, WithItemHash(seed))
		if out.err != nil {
			return out
		}
	} else {
		x, err := smallBufferReader(in, format, bufSize)
		if err != nil {
			out.err = err
			return out
		}
		x.hash, x.hashSeed = true, seed
		r = x
	}
	for {
		it, err := r.Next()
		if err != nil {
			if err != io.EOF {
				out.err = err
			}
			break
		}
		out.items = append(out.items, scanned{it.Line, it.Raw})
	}
	for _, p := range r.Problems() {
		if p.Kind == ProblemSkippedItem {
			out.skipped = append(out.skipped, p.Line)
		}
	}
	return out
}

// scanHashed is readHashed with ScanItems.
func scanHashed(data []byte, format Format, seed uint64, bufSize int, wrap func(io.Reader) io.Reader) hashOutcome {
	var in io.Reader = bytes.NewReader(data)
	if wrap != nil {
		in = wrap(in)
	}
	var out hashOutcome
	fn := func(line int, raw [16]byte) error {
		out.items = append(out.items, scanned{line, raw})
		return nil
	}
	if bufSize == 0 {
		out.err = ScanItems(in, "test.xml", format, seed, fn)
		return out
	}
	x, err := smallBufferReader(in, format, bufSize)
	if err == nil {
		err = x.err
	}
	if err != nil {
		out.err = err
		return out
	}
	out.err = x.scanItems(seed, fn)
	return out
}

// smallBufferReader is NewReader for XML with a scanner buffer of bufSize
// bytes (it grows for markup longer than half of it).
func smallBufferReader(in io.Reader, format Format, bufSize int) (*xmlReader, error) {
	br, source, format, _, err := openFeed(bufio.NewReaderSize(in, 16), "test.xml", format, nil)
	if err != nil {
		return nil, err
	}
	if format != FormatRSS && format != FormatAtom {
		return nil, fmt.Errorf("%s: not XML", format)
	}
	x := newXMLReader(br, source, format)
	x.s.buf = make([]byte, bufSize)
	return x, nil
}

// agree checks that ScanItems yields the Reader's items: the same lines and
// hashes in the same order, and where the Reader skipped an item (characters
// XML forbids), one more item on that line. When the Reader fails, ScanItems
// may fail too or not (it does not look inside items), but it yields the
// Reader's items first.
func agree(read, scan hashOutcome) (bool, string) {
	want := read.items
	got := scan.items
	skipped := append([]int(nil), read.skipped...)
	j := 0
	for i := 0; i < len(got); i++ {
		if j < len(want) && got[i] == want[j] {
			j++
			continue
		}
		if len(skipped) > 0 && got[i].line == skipped[0] {
			skipped = skipped[1:]
			continue
		}
		if read.err != nil && j == len(want) {
			return true, "" // past what the Reader read before it failed
		}
		return false, fmt.Sprintf("item %d: ScanItems gives %v, the Reader %v (Reader: %d items, %d skipped, err %v; ScanItems: %d items, err %v)",
			i, got[i], wantAt(want, j), len(want), len(read.skipped), read.err, len(got), scan.err)
	}
	if j < len(want) {
		return false, fmt.Sprintf("ScanItems gives %d items (err %v), the Reader %d more from %v (err %v)", len(got), scan.err, len(want)-j, want[j], read.err)
	}
	if read.err == nil && (scan.err != nil || len(skipped) > 0) {
		return false, fmt.Sprintf("the Reader reads %d items (%d skipped); ScanItems: %d items, err %v", len(want), len(read.skipped), len(got), scan.err)
	}
	return true, ""
}

func wantAt(w []scanned, j int) any {
	if j < len(w) {
		return w[j]
	}
	return "nothing"
}

// checkAgrees runs agree over every way of reading data: whole, one byte per
// read, and with buffers small enough that items straddle refills; the
// hashes must not depend on it.
func checkAgrees(t *testing.T, name string, data []byte, format Format) hashOutcome {
	t.Helper()
	const seed = 0x5eed
	xml := format == FormatRSS || format == FormatAtom
	if r, err := NewReader(bytes.NewReader(data), "test", format); err == nil {
		f := r.Format()
		xml = f == FormatRSS || f == FormatAtom
	}
	base := readHashed(data, format, seed, 0, nil)
	if ok, msg := agree(base, scanHashed(data, format, seed, 0, nil)); !ok {
		t.Fatalf("%s: %s", name, msg)
	}
	ways := []struct {
		name string
		buf  int
		wrap func(io.Reader) io.Reader
	}{
		{"one byte per read", 0, iotest.OneByteReader},
		{"half reads", 0, iotest.HalfReader},
		{"buffer 16", 16, nil},
		{"buffer 61, one byte per read", 61, iotest.OneByteReader},
		{"buffer 1000", 1000, nil},
	}
	for _, w := range ways {
		if w.buf > 0 && (len(data) > 1<<20 || !xml) {
			continue
		}
		r := readHashed(data, format, seed, w.buf, w.wrap)
		s := scanHashed(data, format, seed, w.buf, w.wrap)
		if ok, msg := agree(r, s); !ok {
			t.Fatalf("%s, %s: %s", name, w.name, msg)
		}
		if base.err == nil {
			if r.err != nil || !slicesEqual(r.items, base.items) {
				t.Fatalf("%s, %s: the Reader gives %d items (err %v), %d when the input comes whole", name, w.name, len(r.items), r.err, len(base.items))
			}
		}
	}
	return base
}

func slicesEqual(a, b []scanned) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// fuzzCorpusInput decodes a file of a Go fuzz corpus holding one []byte.
func fuzzCorpusInput(data []byte) ([]byte, bool) {
	lines := strings.SplitN(string(data), "\n", 2)
	if len(lines) != 2 || lines[0] != "go test fuzz v1" {
		return nil, false
	}
	v := strings.TrimSpace(lines[1])
	if !strings.HasPrefix(v, "[]byte(") || !strings.HasSuffix(v, ")") {
		return nil, false
	}
	s, err := strconv.Unquote(v[len("[]byte(") : len(v)-1])
	if err != nil {
		return nil, false
	}
	return []byte(s), true
}

// feedFiles lists the files under dir, recursively.
func feedFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// checkFeedFile compares ScanItems with the Reader on one file, whatever its
// format.
func checkFeedFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if _, err := NewReader(bytes.NewReader(data), path, FormatAuto); err != nil {
		t.Logf("%s: not a feed: %v", path, err)
		return
	}
	out := checkAgrees(t, path, data, FormatAuto)
	if out.err == nil && len(out.items) == 0 {
		t.Errorf("%s: no items", path)
	}
}

// TestScanItemsFixtures: on every feed of testdata/feeds and every input
// of feed/testdata (the fuzz corpora), ScanItems yields the Reader's items.
func TestScanItemsFixtures(t *testing.T) {
	t.Parallel()
	n := 0
	for _, path := range feedFiles(t, "../testdata/feeds") {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		checkFeedFile(t, path, data)
		n++
	}
	for _, path := range feedFiles(t, "testdata") {
		if strings.HasPrefix(path, filepath.Join("testdata", "golden")) {
			continue // what the readers yield, not feeds
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if in, ok := fuzzCorpusInput(data); ok {
			data = in
		}
		checkAgrees(t, path, data, FormatRSS)
		n++
	}
	if n < 30 {
		t.Fatalf("only %d fixtures found", n)
	}
}

// TestScanItemsRealFeeds is TestScanItemsFixtures on the real shops' feeds.
func TestScanItemsRealFeeds(t *testing.T) {
	dir := os.Getenv("FEEDSYNC_REALFEEDS")
	if dir == "" {
		t.Skip("real feeds not available: set FEEDSYNC_REALFEEDS to the folder that holds them")
	}
	for _, path := range feedFiles(t, dir) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		checkFeedFile(t, path, data)
	}
}

// TestScanItemsGenerated: synthetic feeds, RSS and Atom, several sizes.
func TestScanItemsGenerated(t *testing.T) {
	t.Parallel()
	for _, f := range []feedgen.Format{feedgen.RSS, feedgen.Atom} {
		for _, items := range []int{0, 1, 7, 300} {
			var buf bytes.Buffer
			if err := feedgen.Write(&buf, feedgen.Options{Format: f, Items: items, Seed: uint64(items) + 3}); err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("%s-%d", f, items)
			out := checkAgrees(t, name, buf.Bytes(), FormatAuto)
			if out.err != nil || len(out.items) != items {
				t.Fatalf("%s: the Reader gives %d items, err %v", name, len(out.items), out.err)
			}
			seen := map[[16]byte]bool{}
			for _, it := range out.items {
				if it.raw == ([16]byte{}) || seen[it.raw] {
					t.Fatalf("%s: item on line %d has a zero or repeated Raw", name, it.line)
				}
				seen[it.raw] = true
			}
		}
	}
}

// trickyItems are items whose content holds what a skimming scanner could
// take for the item's end: each must come out as one item.
var trickyItems = []string{
	`<item><g:id>cdata</g:id><g:description><![CDATA[</item><item> ]] ]> <!-- -->]]></g:description></item>`,
	`<item><g:id>comment</g:id><!-- </item><item> - -></item> --></item>`,
	`<item><g:id>attr</g:id><g:image_link a='>' b="/>" c="'/item'" d='"'>x</g:image_link></item>`,
	`<item><g:id>slash</g:id><g:x b="/>">v</g:x><g:y c='/>'/><g:z d="a>" e='/'/></item>`,
	`<item><g:id>nested</g:id><g:item><g:item>i</g:item></g:item><item>plain</item><x:item xmlns:x="urn:x"><item/></x:item></item>`,
	`<item><g:id>pi</g:id><?php echo "</item>"; ?><?x?></item>`,
	`<item><g:id>entities</g:id><g:title>a &amp; b &lt;/item&gt; &#233; &#x3C;</g:title></item>`,
	`<item><g:id>selfclosing</g:id><g:a/><g:b x="1"/><g:c x="/"/><br/><p /></item>`,
	`<item/>`,
	`<item></item>`,
	`<item a="1" b='>'  />`,
	`<item ><g:id>spaces</g:id  ></item  >`,
	`<item><g:id>decl</g:id><!FOO "</item>" '>' <x> <!-- > --> ></item>`,
	`<item><g:id>text</g:id>] ]> > / " ' <g:title>]]></g:title></item>`,
	`<item xmlns:g="http://base.google.com/ns/1.0"><g:id>own-ns</g:id></item>`,
	`<g:item><g:id>prefixed</g:id></g:item>`,
	"<item>\n<g:id>lines</g:id>\n<g:title>a\r\nb</g:title>\n\n</item>",
}

func trickyFeed() string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0">` + "\n<channel>\n<title>t &amp; t</title>\n<!-- <item> -->\n")
	for _, it := range trickyItems {
		b.WriteString(it)
		b.WriteString("\n")
	}
	b.WriteString("</channel>\n</rss>\n")
	return b.String()
}

// TestScanItemsTricky: content that looks like an item's end, in every
// encoding and wrapping the Reader accepts.
func TestScanItemsTricky(t *testing.T) {
	t.Parallel()
	plain := trickyFeed()
	crlf := strings.ReplaceAll(plain, "\n", "\r\n")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(plain))
	zw.Close()
	utf16le, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(strings.Replace(plain, `encoding="UTF-8"`, `encoding="UTF-16"`, 1))
	if err != nil {
		t.Fatal(err)
	}
	utf16be, err := unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewEncoder().String(strings.Replace(plain, `encoding="UTF-8"`, `encoding="UTF-16"`, 1))
	if err != nil {
		t.Fatal(err)
	}
	variants := []struct {
		name string
		data string
	}{
		{"plain", plain},
		{"CRLF", crlf},
		{"BOM", "\uFEFF" + plain},
		{"gzip", gz.String()},
		{"UTF-16LE with BOM", utf16le},
		{"UTF-16BE without BOM", utf16be},
	}
	var plainItems []scanned
	for _, v := range variants {
		out := checkAgrees(t, v.name, []byte(v.data), FormatRSS)
		if out.err != nil || len(out.items) != len(trickyItems) {
			t.Fatalf("%s: the Reader gives %d items (err %v), want %d", v.name, len(out.items), out.err, len(trickyItems))
		}
		switch v.name {
		case "plain":
			plainItems = out.items
		case "CRLF":
			// Lines stay, the bytes (and so the hashes) of multi-line items change.
			for i := range out.items {
				if out.items[i].line != plainItems[i].line {
					t.Errorf("CRLF: item %d on line %d, %d with LF", i, out.items[i].line, plainItems[i].line)
				}
				multiline := strings.Contains(trickyItems[i], "\n")
				if (out.items[i].raw == plainItems[i].raw) == multiline {
					t.Errorf("CRLF: item %d's Raw same as with LF: %v, want %v", i, !multiline, multiline)
				}
			}
		default:
			// The same bytes once decoded: the same hashes.
			for i := range out.items {
				if out.items[i] != plainItems[i] {
					t.Errorf("%s: item %d is %v, %v in UTF-8", v.name, i, out.items[i], plainItems[i])
				}
			}
		}
	}
}

// itemRaws reads feed with WithItemHash(seed) and returns its items' Raw.
func itemRaws(t *testing.T, feed string, format Format, seed uint64) [][16]byte {
	t.Helper()
	out := readHashed([]byte(feed), format, seed, 0, nil)
	if out.err != nil {
		t.Fatalf("%v\n%s", out.err, feed)
	}
	if ok, msg := agree(out, scanHashed([]byte(feed), format, seed, 0, nil)); !ok {
		t.Fatal(msg)
	}
	raws := make([][16]byte, len(out.items))
	for i, it := range out.items {
		raws[i] = it.raw
	}
	return raws
}

// TestItemRawChanges: Raw follows the item's bytes, the seed, the namespace
// bindings that decide how they read and the format, and nothing else.
func TestItemRawChanges(t *testing.T) {
	t.Parallel()
	const head = `<rss xmlns:g="http://base.google.com/ns/1.0" xmlns:x="urn:x"><channel><title>shop</title>` + "\n"
	const a = `<item><g:id>A</g:id><g:price>1.00 EUR</g:price></item>`
	const b = `<item><g:id>B</g:id><g:price>2.00 EUR</g:price></item>`
	base := head + a + "\n" + b + "\n</channel></rss>"
	ref := itemRaws(t, base, FormatRSS, 7)
	if len(ref) != 2 || ref[0] == ref[1] {
		t.Fatalf("Raw %x", ref)
	}

	// Any byte of item a changed: its Raw changes, b's does not.
	for i := 0; i < len(a); i++ {
		for _, c := range []byte{' ', 'x', '1'} {
			if a[i] == c {
				continue
			}
			changed := a[:i] + string(c) + a[i+1:]
			feed := head + changed + "\n" + b + "\n</channel></rss>"
			out := readHashed([]byte(feed), FormatRSS, 7, 0, nil)
			if out.err != nil || len(out.items) != 2 {
				continue // no longer an item the Reader reads
			}
			if out.items[0].raw == ref[0] {
				t.Errorf("%s: same Raw as %s", changed, a)
			}
			if out.items[1].raw != ref[1] {
				t.Errorf("%s: the next item's Raw changed", changed)
			}
		}
	}

	same := func(name, feed string, format Format, seed uint64, want ...bool) {
		t.Helper()
		got := itemRaws(t, feed, format, seed)
		for i := range got {
			if (got[i] == ref[i]) != want[i] {
				t.Errorf("%s: item %d same Raw: %v, want %v", name, i, got[i] == ref[i], want[i])
			}
		}
	}
	same("another seed", base, FormatRSS, 8, false, false)
	same("Atom", base, FormatAtom, 7, false, false)
	same("g bound to another namespace", strings.Replace(base, `xmlns:g="http://base.google.com/ns/1.0"`, `xmlns:g="urn:other"`, 1), FormatRSS, 7, false, false)
	same("g bound to Atom", strings.Replace(base, `xmlns:g="http://base.google.com/ns/1.0"`, `xmlns:g="http://www.w3.org/2005/Atom"`, 1), FormatRSS, 7, false, false)
	same("g unbound", strings.Replace(base, `xmlns:g="http://base.google.com/ns/1.0"`, ``, 1), FormatRSS, 7, false, false)
	same("default namespace Google", strings.Replace(base, `<rss `, `<rss xmlns="http://base.google.com/ns/1.0" `, 1), FormatRSS, 7, false, false)
	same("channel title", strings.Replace(base, "shop", "other shop", 1), FormatRSS, 7, true, true)
	same("white space between items", strings.Replace(base, a+"\n", a+"\n\n  \t", 1), FormatRSS, 7, true, true)
	same("the other item", strings.Replace(base, "2.00", "3.00", 1), FormatRSS, 7, true, false)
	same("item moved", head+"<x:wrap>"+b+"</x:wrap>\n"+a+"\n</channel></rss>", FormatRSS, 7, false, false)
	same("order of items", head+b+"\n"+a+"\n</channel></rss>", FormatRSS, 7, false, false)
	// How the bindings are spelt does not matter, only what they mean.
	same("other URI for x", strings.Replace(base, `xmlns:x="urn:x"`, `xmlns:x="urn:y"`, 1), FormatRSS, 7, true, true)
	same("x dropped (an unbound prefix is other too)", strings.Replace(base, ` xmlns:x="urn:x"`, ``, 1), FormatRSS, 7, true, true)
	same("g declared on channel", strings.Replace(strings.Replace(base, ` xmlns:g="http://base.google.com/ns/1.0"`, ``, 1), `<channel>`, `<channel xmlns:g="http://base.google.com/ns/1.0">`, 1), FormatRSS, 7, true, true)
	same("g declared twice", strings.Replace(base, `<channel>`, `<channel xmlns:g='http://base.google.com/ns/1.0'>`, 1), FormatRSS, 7, true, true)

	// The same item straddling a refill, at every offset of a small buffer.
	for _, size := range []int{16, 33, 64, 100} {
		for pad := 0; pad < size; pad++ {
			feed := head + strings.Repeat(" ", pad) + a + "\n" + b + "\n</channel></rss>"
			for _, scan := range []bool{false, true} {
				var out hashOutcome
				if scan {
					out = scanHashed([]byte(feed), FormatRSS, 7, size, iotest.OneByteReader)
				} else {
					out = readHashed([]byte(feed), FormatRSS, 7, size, iotest.OneByteReader)
				}
				if out.err != nil || len(out.items) != 2 || out.items[0].raw != ref[0] || out.items[1].raw != ref[1] {
					t.Fatalf("buffer %d, %d bytes before the item, ScanItems %v: %v, err %v; want %x", size, pad, scan, out.items, out.err, ref)
				}
			}
		}
	}
}

// TestItemRawWithoutOption: without WithItemHash, Raw is zero.
func TestItemRawWithoutOption(t *testing.T) {
	r, err := NewReader(strings.NewReader(trickyFeed()), "t.xml", FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	items, err := readItems(r)
	if err != nil || len(items) == 0 {
		t.Fatalf("%d items, %v", len(items), err)
	}
	for _, it := range items {
		if it.Raw != ([16]byte{}) {
			t.Fatalf("line %d: Raw %x without WithItemHash", it.Line, it.Raw)
		}
	}
}

// TestStreamingHashIsOneShot: an item hashed in pieces across refills gets
// the hash of its bytes in one piece, for every length and cut.
func TestStreamingHashIsOneShot(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 5000)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	h := xxh3.NewSeed128(0)
	for _, seed := range []uint64{0, 1, 0xdeadbeefcafe} {
		for n := 0; n <= len(data); n += 1 + n/40 {
			want := xxh3.Hash128Seed(data[:n], seed)
			for k := 0; k < 4; k++ {
				h.ResetSeed(seed)
				rest := data[:n]
				for len(rest) > 0 {
					c := 1 + rng.IntN(min(len(rest), 1100))
					h.Write(rest[:c])
					rest = rest[c:]
				}
				if got := h.Sum128(); got != want {
					t.Fatalf("seed %d, %d bytes: streaming %x, one-shot %x", seed, n, got.Bytes(), want.Bytes())
				}
			}
		}
	}
}

// TestScanItemsStops: fn's error stops the scan and comes back unchanged.
func TestScanItemsStops(t *testing.T) {
	stop := errors.New("unknown item")
	n := 0
	err := ScanItems(strings.NewReader(trickyFeed()), "t.xml", FormatAuto, 1, func(int, [16]byte) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if err != stop || n != 3 {
		t.Fatalf("err %v after %d items, want the sentinel after 3", err, n)
	}
}

// TestScanItemsStopsZip: a scan of a zip feed that stops early closes the
// archive's temporary file at once (the engine's recognition stops at the
// first item it does not know, on every run after a change). Linux only: it
// looks for the file among the process's open descriptors.
func TestScanItemsStopsZip(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("needs /proc/self/fd")
	}
	t.Setenv("TMPDIR", t.TempDir())
	openSpools := func() int {
		ents, _ := os.ReadDir("/proc/self/fd")
		n := 0
		for _, e := range ents {
			if l, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && strings.Contains(l, "feedsync-") && strings.Contains(l, ".zip") {
				n++
			}
		}
		return n
	}
	// Larger than the reader's buffers, so that a stop leaves some unread.
	var feed bytes.Buffer
	if err := feedgen.Write(&feed, feedgen.Options{Format: feedgen.RSS, Items: 500, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	z := zipBytes(t, [2]string{"feed.xml", feed.String()})
	stop := errors.New("unknown item")
	for _, tc := range []struct {
		name string
		fn   func(int, [16]byte) error
		want error
	}{
		{"stops at the first item", func(int, [16]byte) error { return stop }, stop},
		{"reads to the end", func(int, [16]byte) error { return nil }, nil},
	} {
		if err := ScanItems(bytes.NewReader(z), "t.zip", FormatAuto, 1, tc.fn); err != tc.want {
			t.Fatalf("%s: err %v, want %v", tc.name, err, tc.want)
		}
		if n := openSpools(); n != 0 {
			t.Errorf("%s: %d temporary zip files still open after ScanItems returned", tc.name, n)
		}
	}
}

// TestScanItemsErrors: outside items ScanItems fails where and as the Reader
// does.
func TestScanItemsErrors(t *testing.T) {
	const item = `<item><g:id>A</g:id></item>`
	for _, feed := range []string{
		rssHead + item + "\n<title>a &bogus; b</title>" + item + "</channel></rss>",
		rssHead + item + "\n<title>a</titel>" + item + "</channel></rss>",
		rssHead + item + "\n" + item,
		rssHead + item + "\n<item><g:id>B</g:id>",
		rssHead + item + "\n<item><g:id>B</g:id><![CDATA[ab",
		rssHead + item + "\n<item><g:id>B</g:id><!-- ab",
		rssHead + item + "\n<item a='b>\n",
		rssHead + item + "\n<item a='<b'/>",
		rssHead + item + "</channel></rss></x>",
		rssHead + item + "<!-- a -- b -->",
		`<?xml version="1.0" encoding="klingon"?><rss/>`,
		`<rss></rss><rss>`,
	} {
		read := readHashed([]byte(feed), FormatRSS, 1, 0, nil)
		scan := scanHashed([]byte(feed), FormatRSS, 1, 0, nil)
		if read.err == nil {
			t.Fatalf("the Reader reads %q", feed)
		}
		var rpe, spe *ParseError
		if !errors.As(read.err, &rpe) || !errors.As(scan.err, &spe) {
			t.Fatalf("%q: Reader %v, ScanItems %v: want *ParseError from both", feed, read.err, scan.err)
		}
		if spe.Line != rpe.Line || spe.Source != rpe.Source {
			t.Errorf("%q: ScanItems fails with %v, the Reader with %v", feed, spe, rpe)
		}
		if ok, msg := agree(read, scan); !ok {
			t.Errorf("%q: %s", feed, msg)
		}
	}
}

// TestScanItemsDelimited: a CSV or TSV row's Raw follows its bytes, the
// header and the separator; rows the Reader skips come out of ScanItems too.
func TestScanItemsDelimited(t *testing.T) {
	t.Parallel()
	const csv = "id,title,price\n1,a,1.00 EUR\n\n2,\"b\nc \"\"q\"\"\",2.00 EUR\r\n3,short\n4,\"d,e\",4.00 EUR"
	ref := itemRaws(t, csv, FormatAuto, 7)
	out := readHashed([]byte(csv), FormatAuto, 7, 0, nil)
	if len(ref) != 3 || len(out.skipped) != 1 || out.items[0].line != 2 || out.items[1].line != 4 || out.items[2].line != 7 {
		t.Fatalf("items %v, skipped %v", out.items, out.skipped)
	}
	checkAgrees(t, "csv", []byte(csv), FormatAuto)
	checkAgrees(t, "csv as TSV", []byte(csv), FormatTSV)
	tsv := strings.NewReplacer(",", "\t").Replace(csv)
	checkAgrees(t, "tsv", []byte(tsv), FormatAuto)
	if raws := itemRaws(t, tsv, FormatAuto, 7); raws[0] == ref[0] {
		t.Error("TSV: the same Raw as the CSV row")
	}
	same := func(name, feed string, seed uint64, want ...bool) {
		t.Helper()
		got := itemRaws(t, feed, FormatAuto, seed)
		if len(got) != len(want) {
			t.Fatalf("%s: %d items", name, len(got))
		}
		for i := range got {
			if (got[i] == ref[i]) != want[i] {
				t.Errorf("%s: item %d same Raw: %v, want %v", name, i, got[i] == ref[i], want[i])
			}
		}
	}
	same("another seed", csv, 8, false, false, false)
	same("header", strings.Replace(csv, "title", "Title", 1), 7, false, false, false)
	same("a value", strings.Replace(csv, "1.00", "1.01", 1), 7, false, true, true)
	same("a quoted value", strings.Replace(csv, "b\nc", "b\nC", 1), 7, true, false, true)
	same("line end", strings.Replace(csv, "\r\n", "\n", 1), 7, true, false, true)
	same("blank lines", strings.Replace(csv, "\n\n", "\n\n\n", 1), 7, true, true, true)
	same("skipped row", strings.Replace(csv, "3,short", "3,shorter", 1), 7, true, true, true)

	stop := errors.New("stop")
	n := 0
	err := ScanItems(strings.NewReader(csv), "t.csv", FormatAuto, 1, func(int, [16]byte) error { n++; return stop })
	if err != stop || n != 1 {
		t.Fatalf("err %v after %d rows, want the sentinel after 1", err, n)
	}
	if err := ScanItems(strings.NewReader(csv), "t", "json", 1, func(int, [16]byte) error { return nil }); !errors.Is(err, ErrNotScannable) {
		t.Fatalf("an unknown format: %v, want ErrNotScannable", err)
	}
	err = ScanItems(strings.NewReader("id,title\n1,\"open"), "t.csv", FormatAuto, 1, func(int, [16]byte) error { return nil })
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 2 {
		t.Fatalf("a CSV cut inside a quoted field: %v, want a *ParseError on line 2", err)
	}
}

// FuzzScanItemsAgrees: whenever the Reader reads an input, ScanItems reads it
// too and yields the same items (lines and hashes), whole or in small reads
// and buffers. ScanItems may accept inputs the Reader rejects.
func FuzzScanItemsAgrees(f *testing.F) {
	for _, pat := range xmlFixtureGlobs {
		files, _ := filepath.Glob(pat)
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data)
			}
		}
	}
	if files, err := filepath.Glob("testdata/fuzz/FuzzXMLReader/*"); err == nil {
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				if in, ok := fuzzCorpusInput(data); ok {
					f.Add(in)
				}
			}
		}
	}
	f.Add([]byte(trickyFeed()))
	f.Add([]byte(strings.ReplaceAll(trickyFeed(), "\n", "\r\n")))
	for _, it := range trickyItems {
		f.Add([]byte(rssHead + it + "</channel></rss>"))
	}
	var gen bytes.Buffer
	_ = feedgen.Write(&gen, feedgen.Options{Format: feedgen.RSS, Items: 3, Seed: 5})
	f.Add(gen.Bytes())
	f.Add([]byte("id,title,price\n1,a,1.00 EUR\n\n2,\"b\nc \"\"q\"\"\",2.00 EUR\r\n3,short\n"))
	f.Add([]byte("id\ttitle\n1\t\"a\n2\tb\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 256<<10 {
			return
		}
		read := readHashed(data, FormatRSS, 3, 0, nil)
		scan := scanHashed(data, FormatRSS, 3, 0, nil)
		if ok, msg := agree(read, scan); !ok {
			t.Fatal(msg)
		}
		small := scanHashed(data, FormatRSS, 3, 16, iotest.OneByteReader)
		if ok, msg := agree(read, small); !ok {
			t.Fatalf("small buffer: %s", msg)
		}
		// Any format, detected: CSV and TSV rows too.
		if ok, msg := agree(readHashed(data, FormatAuto, 3, 0, nil), scanHashed(data, FormatAuto, 3, 0, nil)); !ok {
			t.Fatalf("format detected: %s", msg)
		}
	})
}

// TestScanItemsOverlongRow: a row longer than a row may be, which the Reader
// skips, comes out of ScanItems as a row with a Raw no row has.
func TestScanItemsOverlongRow(t *testing.T) {
	if delimRace || testing.Short() {
		t.Skip("reads 70 MB")
	}
	newFeed := func() io.Reader {
		return newDelimGenReader("id,title\nA0,ok\nA1,", "x", 70_000_000, "\nA2,ok\n")
	}
	r, err := NewReader(newFeed(), "t.csv", FormatAuto, WithItemHash(1))
	if err != nil {
		t.Fatal(err)
	}
	items, err := readItems(r)
	if err != nil || len(items) != 2 || SkippedItems(r.Problems()) != 1 {
		t.Fatalf("the Reader: %d items, %d skipped, err %v", len(items), SkippedItems(r.Problems()), err)
	}
	var got []scanned
	err = ScanItems(newFeed(), "t.csv", FormatAuto, 1, func(line int, raw [16]byte) error {
		got = append(got, scanned{line, raw})
		return nil
	})
	if err != nil || len(got) != 3 || got[0] != (scanned{2, items[0].Raw}) || got[2] != (scanned{4, items[1].Raw}) || got[1].line != 3 || got[1].raw == items[0].Raw || got[1].raw == items[1].Raw {
		t.Fatalf("ScanItems: %v, err %v; the Reader's items on lines %d and %d", got, err, items[0].Line, items[1].Line)
	}
}
