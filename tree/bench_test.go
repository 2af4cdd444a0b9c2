package tree

import (
	"crypto/sha256"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedsync/feedsync/feed"
)

// synthItem makes item i of a synthetic feed with realistic field sizes: a
// 300-character description (cut to 256), two URLs, a category path. Items
// i < grouped belong to one of groups groups; the rest stand alone.
func synthItem(i, grouped, groups int) *feed.Item {
	colors := [...]string{"Red", "Blue", "Black", "White", "Green"}
	sizes := [...]string{"XS", "S", "M", "L", "XL"}
	avail := [...]string{"in_stock", "in_stock", "out_of_stock", "preorder"}
	id := fmt.Sprintf("SKU-%08d", i)
	kv := []string{
		"id", id,
		"title", fmt.Sprintf("Example Product %d - %s - %s", i%groups, colors[i/groups%5], sizes[i/groups/5%5]),
		"description", strings.Repeat(fmt.Sprintf("Product %d is soft and durable. ", i), 10)[:300],
		"link", "https://shop.example.com/products/example-product-" + id + "?variant=1",
		"image_link", "https://cdn.example.com/images/products/" + id + "/main.jpg",
		"availability", avail[i%4],
		"price", fmt.Sprintf("%d.%02d EUR", 10+i%90, i%100),
		"brand", "Example Brand",
		"gtin", fmt.Sprintf("4006381%06d", i%1000000),
		"condition", "new",
		"product_type", "Apparel > Tops > T-Shirts",
		"color", colors[i/groups%5],
		"size", sizes[i/groups/5%5],
	}
	if i < grouped {
		kv = append(kv, "item_group_id", fmt.Sprintf("GRP-%07d", i%groups))
	}
	if i%10 == 0 {
		kv = append(kv, "sale_price", fmt.Sprintf("%d EUR", 5+i%5), "sale_price_effective_date", "2026-01-01/2026-12-31")
	}
	return item(i+2, kv...)
}

type memRun struct {
	live, peak uint64 // HeapInuse after adding every item (after GC), and the highest seen
	products   int
	elapsed    time.Duration
}

// runSynthetic feeds n items through a Builder and a consumer that does what
// sync does with each product (canonical JSON, SHA-256, a set of seen ids).
func runSynthetic(tb testing.TB, policy Policy, n, grouped, groups int) memRun {
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	start := time.Now()
	b := NewBuilder(Options{Policy: policy, Now: now, SpillDir: os.TempDir()})
	defer b.Close()
	for i := 0; i < n; i++ {
		b.Add(synthItem(i, grouped, groups))
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	run := memRun{live: ms.HeapInuse}
	seen := make(map[string]struct{})
	err := b.Finish(func(p *Product) error {
		sha256.Sum256(p.JSON())
		seen[p.ID] = struct{}{}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	run.elapsed = time.Since(start)
	run.products = len(seen)
	close(stop)
	wg.Wait()
	run.peak = peak.Load()
	return run
}

// BenchmarkBuilder1M measures memory for a 1M-item feed (run with
// `make bench`, or: go test ./tree -run '^$' -bench Builder1M -benchtime 1x).
// live-MB is the heap in use once every item was added (after a GC): what the
// Builder keeps. peak-MB is the highest heap in use during Add and Finish,
// with a consumer that keeps the set of product ids as sync does.
func BenchmarkBuilder1M(b *testing.B) {
	const n = 1_000_000
	shapes := []struct {
		name            string
		grouped, groups int
	}{
		{"40pct-grouped-100k-groups", 400_000, 100_000},
		{"40pct-grouped-400k-groups", 400_000, 400_000},
		{"all-grouped-400k-groups", n, 400_000},
	}
	for _, s := range shapes {
		for _, pol := range []Policy{PolicyParent, PolicyVariant} {
			b.Run(s.name+"/"+string(pol), func(b *testing.B) {
				b.ReportAllocs()
				var run memRun
				for i := 0; i < b.N; i++ {
					run = runSynthetic(b, pol, n, s.grouped, s.groups)
				}
				b.ReportMetric(float64(run.live)/(1<<20), "live-MB")
				b.ReportMetric(float64(run.peak)/(1<<20), "peak-MB")
				b.ReportMetric(float64(run.products), "products")
			})
		}
	}
}

// TestMemoryBound is the memory budget as a test: skipped by -short and
// unless FEEDSYNC_MEMTEST=1, because it takes several seconds.
func TestMemoryBound(t *testing.T) {
	if testing.Short() || os.Getenv("FEEDSYNC_MEMTEST") == "" {
		t.Skip("set FEEDSYNC_MEMTEST=1 to run the 1M-item memory test")
	}
	run := runSynthetic(t, PolicyParent, 1_000_000, 1_000_000, 400_000)
	t.Logf("1M items, 400k groups, parent: live %d MB, peak %d MB, %d products, %v; %s", run.live>>20, run.peak>>20, run.products, run.elapsed, peakRSS())
	if run.peak > 512<<20 {
		t.Errorf("peak heap %d MB, want under 512 MB", run.peak>>20)
	}
}

// peakRSS reads the process's peak resident set size where Linux tells it.
func peakRSS() string {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "peak RSS unknown"
	}
	for _, l := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return "peak RSS " + strings.Join(strings.Fields(strings.TrimPrefix(l, "VmHWM:")), " ")
		}
	}
	return "peak RSS unknown"
}
