package orders

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// writeBenchExport writes a Shopify-style export of orders orders with
// three line items each (order fields on the first row only) and returns
// its path and size.
func writeBenchExport(tb testing.TB, orders int) (string, int64) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "orders.csv")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprint(w, "Name,Email,Financial Status,Paid at,Fulfillment Status,Currency,Subtotal,Shipping,Taxes,Total,Shipping Method,Created at,"+
		"Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Billing Name,Billing City,Billing Country,Notes,Id\r\n")
	fin := []string{"paid", "paid", "pending", "refunded", "partially_refunded"}
	ful := []string{"fulfilled", "unfulfilled", "", "fulfilled", "fulfilled"}
	for i := 0; i < orders; i++ {
		id := 100000 + i
		k := i % len(fin)
		for l := 0; l < 3; l++ {
			sku := fmt.Sprintf("SKU-%05d-%s", (i*7+l*13)%20000, []string{"S", "M", "L"}[l])
			name := fmt.Sprintf("\"Product %d, size %d\"", (i*7+l*13)%20000, l)
			if l == 0 {
				fmt.Fprintf(w, "#%d,customer%d@example.com,%s,2026-11-20 10:15:00 +0100,%s,EUR,\"1,%03d.50\",4.90,12.34,\"1 %03d,40\",Standard,2026-11-20 10:12:00 +0100,%d,%s,19.90,%s,Customer %d,Berlin,DE,\"Leave it at the door,\r\nplease\",%d\r\n",
					id, i%30000, fin[k], ful[k], i%1000, i%1000, 1+l, name, sku, i, 5550000+i)
				continue
			}
			fmt.Fprintf(w, "#%d,customer%d@example.com,,,,,,,,,,,%d,%s,19.90,%s,,,,,\r\n", id, i%30000, 1+l, name, sku)
		}
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return path, st.Size()
}

// BenchmarkRead reads a generated 100k-order, 300k-row CSV export (42 MB,
// two attributes per order). Beside MB/s and allocations it reports the
// heap the deals keep (live-MB: after a collection, with the deals alive)
// and the file's size (file-MB).
func BenchmarkRead(b *testing.B) {
	path, size := writeBenchExport(b, 100_000)
	cfg := shopifyConfig()
	cfg.Columns.LineValue = "Lineitem price"
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	var deals []Deal
	for i := 0; i < b.N; i++ {
		deals, _ = readPath(b, path, cfg)
	}
	b.StopTimer()
	if len(deals) != 100_000 {
		b.Fatalf("%d deals, want 100000", len(deals))
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	live := ms.HeapAlloc
	runtime.KeepAlive(deals)
	deals = nil
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(live-ms.HeapAlloc)/(1<<20), "live-MB")
	b.ReportMetric(float64(size)/(1<<20), "file-MB")
}

// TestReadBigExport reads a 100k-order export and checks what its deals
// keep in memory (well under 200 MB).
func TestReadBigExport(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skips reading a 100k-order export")
	}
	path, _ := writeBenchExport(t, 100_000)
	cfg := shopifyConfig()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	deals, probs := readPath(t, path, cfg)
	runtime.GC()
	runtime.ReadMemStats(&ms)
	live := int64(ms.HeapAlloc) - int64(base)
	if len(deals) != 100_000 || len(probs) != 0 {
		t.Fatalf("%d deals, %d problems (%v…)", len(deals), len(probs), probs[:min(len(probs), 3)])
	}
	if n := len(deals[99_999].Products); n != 3 {
		t.Errorf("the last order has %d lines, want 3", n)
	}
	if live > 120<<20 {
		t.Errorf("the deals of 100k orders keep %d MB, want well under 200 MB", live>>20)
	}
	t.Logf("100k orders, 300k lines: the deals keep %.1f MB", float64(live)/(1<<20))
	runtime.KeepAlive(deals)
}

// BenchmarkReadJSONL reads a generated 100k-order JSONL export (three line
// items each, the e-mail and customer id in a nested object).
func BenchmarkReadJSONL(b *testing.B) {
	path := filepath.Join(b.TempDir(), "orders.jsonl")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := 0; i < 100_000; i++ {
		fmt.Fprintf(w, `{"id": %d, "status": "completed", "customer": {"id": %d, "email": "c%d@example.com"}, "total": "37.40", "currency": "EUR", `+
			`"created_at": "2026-11-20T10:12:00Z", "line_items": [{"sku": "TEE-%d", "quantity": 1, "total": 19.9}, `+
			`{"sku": "TEE-B", "quantity": 1, "total": "17.50"}, {"sku": "MUG", "quantity": 2, "total": 10}]}`+"\n", i, i%30000, i%30000, i%5000)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(path)
	cfg := Config{Columns: Columns{OrderID: "id", Status: "status", Email: "customer.email", CustomerID: "customer.id", Total: "total",
		Currency: "currency", Placed: "created_at", Lines: "line_items", LineProduct: "sku", LineQuantity: "quantity", LineValue: "total"},
		Stages: Stages{Preset: "woocommerce"}}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if deals, _ := readPath(b, path, cfg); len(deals) != 100_000 {
			b.Fatalf("%d deals", len(deals))
		}
	}
}
