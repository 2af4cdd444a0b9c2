package push

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/feedsync/feedsync/push/pushtest"
)

// BenchmarkUserComREST pushes b.N products through the REST client to the
// fake on loopback and reports products per second. Run it with a fixed
// count, so the rate-limited case runs long enough to be measured:
//
//	go test -run '^$' -bench UserCom -benchtime 3000x ./push/
//
// Rate200 must reach ≥ 95% of its rate (the %rate metric); Unlimited must
// pass 3,000 products/s.
func BenchmarkUserComREST(b *testing.B) {
	for _, c := range []struct {
		name  string
		rate  float64
		burst int
		kind  Kind
	}{
		{"Rate200/Update", 200, 8, Update},
		{"Unlimited/Update", 0, 8, Update},
		{"Unlimited/Create", 0, 8, Create}, // look up, then POST: two requests a product
	} {
		b.Run(c.name, func(b *testing.B) {
			h := newHarness(b, ModeREST, pushtest.Options{}, func(cfg *UserComConfig) {
				cfg.Rate, cfg.Burst, cfg.Concurrency = c.rate, c.burst, 8
			})
			ops := make([]Op, b.N)
			for i := range ops {
				id := fmt.Sprintf("bench-%07d", i)
				if c.kind == Update {
					h.srv.Put(id, map[string]string{"name": "old"})
				}
				ops[i] = Op{Kind: c.kind, ID: id, Payload: product(id, "9.99", "brand", "Bench")}
			}
			b.ResetTimer()
			start := time.Now()
			o := apply(b, context.Background(), h.sink, ops)
			elapsed := time.Since(start)
			b.StopTimer()
			if o.err != nil || len(o.results) != b.N {
				b.Fatalf("Apply: %v, %d of %d acknowledged", o.err, len(o.results), b.N)
			}
			perSec := float64(b.N) / elapsed.Seconds()
			b.ReportMetric(perSec, "products/s")
			b.ReportMetric(float64(len(h.srv.Requests()))/elapsed.Seconds(), "requests/s")
			if c.rate > 0 {
				b.ReportMetric(100*perSec/c.rate, "%rate")
			}
		})
	}
}

// BenchmarkUserComImport pushes b.N products as one bulk import (the fake
// finishes an import on its first status poll).
func BenchmarkUserComImport(b *testing.B) {
	h := newHarness(b, ModeImport, pushtest.Options{}, nil)
	ops := creates(b.N, "bench-", "9.99")
	b.ResetTimer()
	start := time.Now()
	o := apply(b, context.Background(), h.sink, ops)
	elapsed := time.Since(start)
	b.StopTimer()
	if o.err != nil || len(o.results) != b.N {
		b.Fatalf("Apply: %v, %d of %d acknowledged", o.err, len(o.results), b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "products/s")
}
