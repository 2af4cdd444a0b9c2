package feed

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/feedsync/feedsync/feed/feedgen"
)

// benchItems is the size of the in-memory feeds the parser benchmarks read:
// about 10 MB of RSS, enough to leave start-up costs out of the figures.
const benchItems = 5000

var (
	benchFeedsOnce sync.Once
	benchFeeds     map[feedgen.Format][]byte
)

func benchFeed(b *testing.B, f feedgen.Format) []byte {
	benchFeedsOnce.Do(func() {
		benchFeeds = make(map[feedgen.Format][]byte)
		for _, f := range feedgen.Formats {
			var buf bytes.Buffer
			if err := feedgen.Write(&buf, feedgen.Options{Format: f, Items: benchItems, Seed: 1}); err != nil {
				panic(err)
			}
			benchFeeds[f] = buf.Bytes()
		}
	})
	return benchFeeds[f]
}

// countItems reads every item of data through the public API and returns how many.
func countItems(b *testing.B, data []byte, format Format, opts ...ReaderOption) int {
	r, err := NewReader(bytes.NewReader(data), "bench", format, opts...)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			return n
		}
		if err != nil {
			b.Fatal(err)
		}
		n++
	}
}

func benchRead(b *testing.B, f feedgen.Format, format Format) {
	data := benchFeed(b, f)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	items := 0
	for b.Loop() {
		items += countItems(b, data, format)
	}
	b.ReportMetric(float64(items)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkRead measures NewReader + Next over every item of a synthetic
// feed held in memory, per format. MB/s comes from b.SetBytes.
func BenchmarkRead(b *testing.B) {
	b.Run("RSS", func(b *testing.B) { benchRead(b, feedgen.RSS, FormatRSS) })
	b.Run("Atom", func(b *testing.B) { benchRead(b, feedgen.Atom, FormatAtom) })
	b.Run("CSV", func(b *testing.B) { benchRead(b, feedgen.CSV, FormatCSV) })
	b.Run("TSV", func(b *testing.B) { benchRead(b, feedgen.TSV, FormatTSV) })
}

// BenchmarkReadReference is the encoding/xml reader on the same RSS feed,
// the baseline the scanner replaced.
func BenchmarkReadReference(b *testing.B) {
	data := benchFeed(b, feedgen.RSS)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := refXML(data, FormatRSS); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadFile reads the feeds `make bench` generates into
// testdata/bench (skipped when they are absent), streaming from disk.
func BenchmarkReadFile(b *testing.B) {
	files, _ := filepath.Glob("../testdata/bench/*")
	if len(files) == 0 {
		b.Skip("no feeds in ../testdata/bench: run make bench")
	}
	for _, path := range files {
		st, err := os.Stat(path)
		if err != nil || st.Size() > 300<<20 { // the 1M-item feeds: feedcount measures those
			continue
		}
		b.Run(filepath.Base(path), func(b *testing.B) {
			b.SetBytes(st.Size())
			items := 0
			for b.Loop() {
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				r, err := NewReader(f, path, FormatAuto)
				if err != nil {
					b.Fatal(err)
				}
				for {
					_, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					items++
				}
				f.Close()
			}
			b.ReportMetric(float64(items)/b.Elapsed().Seconds(), "items/s")
		})
	}
}

// BenchmarkScanItems measures ScanItems (items skipped and hashed, not
// parsed) over the synthetic feeds BenchmarkRead reads, and the Reader with
// WithItemHash beside it: what recognising an unchanged feed costs against
// reading it.
func BenchmarkScanItems(b *testing.B) {
	for _, c := range []struct {
		name   string
		f      feedgen.Format
		format Format
	}{{"RSS", feedgen.RSS, FormatRSS}, {"Atom", feedgen.Atom, FormatAtom}, {"CSV", feedgen.CSV, FormatCSV}, {"TSV", feedgen.TSV, FormatTSV}} {
		b.Run(c.name, func(b *testing.B) {
			data := benchFeed(b, c.f)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			items := 0
			for b.Loop() {
				err := ScanItems(bytes.NewReader(data), "bench", c.format, 1, func(int, [16]byte) error {
					items++
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(items)/b.Elapsed().Seconds(), "items/s")
		})
		b.Run(c.name+"/ReaderWithItemHash", func(b *testing.B) {
			data := benchFeed(b, c.f)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			items := 0
			for b.Loop() {
				items += countItems(b, data, c.format, WithItemHash(1))
			}
			b.ReportMetric(float64(items)/b.Elapsed().Seconds(), "items/s")
		})
	}
}
