package lint

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/feedsync/feedsync/feed"
	"github.com/feedsync/feedsync/feed/feedgen"
	"github.com/feedsync/feedsync/tree"
)

// benchItems is the size of the generated feed: $LINT_BENCH_ITEMS, default
// 100000 (about 210 MB of RSS). LINT_BENCH_ITEMS=1000000 is the 1M-item case.
func benchItems() int {
	if n, err := strconv.Atoi(os.Getenv("LINT_BENCH_ITEMS")); err == nil && n > 0 {
		return n
	}
	return 100000
}

var (
	benchOnce sync.Map // format → path of the generated feed
)

// benchFeed writes (once per process) a feedgen feed of benchItems items.
func benchFeed(b *testing.B, format feedgen.Format) (string, int64) {
	b.Helper()
	n := benchItems()
	dir := os.Getenv("LINT_BENCH_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	path := filepath.Join(dir, "feedsync-lint-bench-"+strconv.Itoa(n)+"."+format.Ext())
	if _, ok := benchOnce.Load(path); !ok {
		if st, err := os.Stat(path); err != nil || st.Size() == 0 {
			f, err := os.Create(path)
			if err != nil {
				b.Fatal(err)
			}
			if err := feedgen.Write(f, feedgen.Options{Format: format, Items: n, Seed: 1}); err != nil {
				b.Fatal(err)
			}
			if err := f.Close(); err != nil {
				b.Fatal(err)
			}
		}
		benchOnce.Store(path, true)
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return path, st.Size()
}

// peakHeap samples the live heap while f runs and returns its maximum.
func peakHeap(f func()) uint64 {
	runtime.GC()
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// runtime/metrics, unlike ReadMemStats, does not stop the world.
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	f()
	close(done)
	wg.Wait()
	return peak.Load()
}

// cpuSeconds is the process's user and system CPU time so far: a figure
// that other load on the machine disturbs less than wall time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// BenchmarkParse is the baseline: read every item, check nothing.
func BenchmarkParse(b *testing.B) {
	for _, format := range []feedgen.Format{feedgen.RSS, feedgen.TSV} {
		b.Run(string(format), func(b *testing.B) {
			path, size := benchFeed(b, format)
			b.SetBytes(size)
			b.ResetTimer()
			var peak uint64
			cpu0 := cpuSeconds()
			for range b.N {
				peak = max(peak, peakHeap(func() {
					f, _ := os.Open(path)
					defer f.Close()
					r, err := feed.NewReader(bufio.NewReaderSize(f, 1<<20), path, feed.FormatAuto)
					if err != nil {
						b.Fatal(err)
					}
					for {
						if _, err := r.Next(); err == io.EOF {
							break
						} else if err != nil {
							b.Fatal(err)
						}
					}
				}))
			}
			b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(benchItems())*float64(b.N)/b.Elapsed().Seconds(), "items/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		})
	}
}

// BenchmarkLint lints the generated feed with every rule and a policy, so
// that the group records are kept too.
func BenchmarkLint(b *testing.B) {
	for _, format := range []feedgen.Format{feedgen.RSS, feedgen.TSV} {
		b.Run(string(format), func(b *testing.B) {
			path, size := benchFeed(b, format)
			b.SetBytes(size)
			b.ResetTimer()
			var peak uint64
			cpu0 := cpuSeconds()
			var r *Report
			for range b.N {
				peak = max(peak, peakHeap(func() {
					f, _ := os.Open(path)
					defer f.Close()
					l, err := New(Options{Policy: tree.PolicyVariant, Enable: []string{"id-characters", "image-extension"}})
					if err != nil {
						b.Fatal(err)
					}
					if err := l.Lint(f, path, feed.FormatAuto); err != nil {
						b.Fatal(err)
					}
					r = l.Report()
				}))
			}
			b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(benchItems())*float64(b.N)/b.Elapsed().Seconds(), "items/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(len(r.Findings)), "findings-kept")
		})
	}
}

// BenchmarkItemChecks measures the checks alone, on items already in
// memory: the cost the checking goroutine adds per item.
func BenchmarkItemChecks(b *testing.B) {
	for _, format := range []feedgen.Format{feedgen.RSS, feedgen.TSV} {
		b.Run(string(format), func(b *testing.B) {
			var buf bytes.Buffer
			if err := feedgen.Write(&buf, feedgen.Options{Format: format, Items: 20000, Seed: 1}); err != nil {
				b.Fatal(err)
			}
			r, err := feed.NewReader(&buf, "bench", feed.FormatAuto)
			if err != nil {
				b.Fatal(err)
			}
			var items []*feed.Item
			for {
				it, err := r.Next()
				if err != nil {
					break
				}
				items = append(items, it)
			}
			b.ResetTimer()
			for range b.N {
				l, _ := New(Options{Policy: tree.PolicyVariant})
				l.startFile("bench")
				l.f.delimited = format == feedgen.TSV || format == feedgen.CSV
				for _, it := range items {
					l.itemScanned(it, scanItems([]*feed.Item{it}, l.f.delimited, nil))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(items)), "ns/item")
		})
	}
}
