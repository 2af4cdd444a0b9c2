//go:build benche2e

package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// TestBenchOrdersE2E is the orders half of `make bench-e2e`: an export of
// 100k orders in 300k line rows (generated, deterministic), first sync and
// no-change sync (--full-scan) against the JSONL sink; median wall time and
// peak RSS. The target: no-change within 2 s.
func TestBenchOrdersE2E(t *testing.T) {
	dir := t.TempDir()
	export := filepath.Join(dir, "orders.csv")
	writeBenchOrders(t, export, 100000)
	cfg := filepath.Join(dir, "feedsync.yaml")
	os.WriteFile(cfg, []byte(`state: state.db
log: {level: warn}
catalog: {kind: file, path: catalog.jsonl}
orders:
  - name: big
    url: orders.csv
    columns: {order_id: Order Number, status: Order Status, email: Billing Email, customer_id: Customer ID, total: Order Total, currency: Currency, placed: Order Date, line_product: SKU, line_quantity: Quantity, line_value: Line Total}
    stages: woocommerce
`), 0o644)
	runs := 3
	var first, again []float64
	var rss1, rss2 int64
	for i := 0; i < runs; i++ {
		os.Remove(filepath.Join(dir, "state.db"))
		os.Remove(filepath.Join(dir, "catalog.jsonl"))
		r := runTimed(t, cfg, "sync", "--json")
		if r.err != nil || r.sum.Created != 100000 {
			t.Fatalf("first sync: %v %+v\n%s", r.err, r.sum, r.stderr)
		}
		first, rss1 = append(first, r.wall.Seconds()), max(rss1, r.maxRSS)
		r = runTimed(t, cfg, "sync", "--json", "--full-scan")
		if r.err != nil || r.sum.Unchanged != 100000 {
			t.Fatalf("no-change sync: %v %+v\n%s", r.err, r.sum, r.stderr)
		}
		again, rss2 = append(again, r.wall.Seconds()), max(rss2, r.maxRSS)
	}
	sort.Float64s(first)
	sort.Float64s(again)
	st, _ := os.Stat(export)
	fmt.Printf("\norders: %d MB export, 100000 orders, 300000 rows (median of %d)\n", st.Size()>>20, runs)
	fmt.Printf("orders-first-sync   %6.2f s  peak RSS %4d MB\n", first[runs/2], rss1/1024)
	verdict := "ok"
	if again[runs/2] > 2 {
		verdict = "MISSED"
	}
	fmt.Printf("orders-no-change    %6.2f s  peak RSS %4d MB  target ≤2 s: %s\n", again[runs/2], rss2/1024, verdict)
}

// writeBenchOrders writes a WooCommerce-style export: three line rows an
// order, the order's fields on its first row.
func writeBenchOrders(t *testing.T, path string, n int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	defer w.Flush()
	rnd := rand.New(rand.NewPCG(1, 2))
	statuses := []string{"pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed"}
	fmt.Fprintln(w, "Order Number,Order Status,Order Date,Billing Email,Customer ID,Order Total,Currency,SKU,Quantity,Line Total")
	for o := 0; o < n; o++ {
		var skus [3]int
		var qty [3]int
		var cents [3]int
		total := 0
		for l := range skus {
			skus[l], qty[l] = rnd.IntN(20000), 1+rnd.IntN(3)
			cents[l] = qty[l] * (500 + rnd.IntN(4500))
			total += cents[l]
		}
		for l := range skus {
			if l == 0 {
				fmt.Fprintf(w, "%d,%s,2026-11-%02d 10:00,user%d@example.com,%d,%d.%02d,EUR,SKU-%d,%d,%d.%02d\n",
					100000+o, statuses[rnd.IntN(len(statuses))], 1+o%28, o%30000, o%30000, total/100, total%100, skus[l], qty[l], cents[l]/100, cents[l]%100)
			} else {
				fmt.Fprintf(w, "%d,,,,,,,SKU-%d,%d,%d.%02d\n", 100000+o, skus[l], qty[l], cents[l]/100, cents[l]%100)
			}
		}
	}
}
