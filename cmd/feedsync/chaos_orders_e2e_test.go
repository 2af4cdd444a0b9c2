package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// The convergence chaos test for orders exports: an export moves through
// random versions (statuses move on, new orders come, old ones leave the
// export window, reverts to earlier bytes) while the product feed its lines
// map through stays; the real binary syncs each version into the JSONL sink
// and is SIGKILLed at random moments. After one clean run every order of the
// final export is its deal, byte for byte (the file replayed), every order
// that left the export is still there (orders are never deleted), and a
// further run sends nothing.
func TestChaosOrdersConvergence(t *testing.T) {
	if testing.Short() {
		t.Skip("kills real processes; skipped with -short")
	}
	steps, seed := chaosSteps(t)
	dir := t.TempDir()
	products := map[int]chaosProduct{}
	for i := 0; i < 30; i++ {
		products[i] = chaosProduct{price: 1000 + i}
	}
	if err := os.WriteFile(filepath.Join(dir, "feed.xml"), chaosFeed(products), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := chaosOrdersConfig(t, dir, "state.db", "catalog.jsonl")
	rnd := rand.New(rand.NewPCG(seed, 7))
	m := &chaosOrders{rnd: rnd, orders: map[int]chaosOrder{}}
	for i := 0; i < 40; i++ {
		m.add()
	}
	export := filepath.Join(dir, "orders.csv")
	var versions, synced [][]byte // every version; those a run finished with
	typical := 100 * time.Millisecond
	kills, reverts := 0, 0
	for step := 0; step < steps; step++ {
		var data []byte
		if len(versions) > 1 && rnd.Float64() < 0.25 {
			data, reverts = versions[rnd.IntN(len(versions))], reverts+1
		} else {
			m.mutate()
			data = m.csv()
			versions = append(versions, data)
		}
		if err := os.WriteFile(export, data, 0o644); err != nil {
			t.Fatal(err)
		}
		kill := step > 0 && rnd.Float64() < 0.5
		delay := time.Duration(rnd.Int64N(int64(typical) + 1))
		start := time.Now()
		code, _, stderr, killed := runMaybeKilled(t, nil, delay, kill, "sync", "-c", cfg)
		switch {
		case killed:
			kills++
		case code != 0:
			t.Errorf("step %d: sync failed: exit %d\n%s", step, code, stderr)
		default:
			typical = (typical + time.Since(start)) / 2
			synced = append(synced, data)
		}
	}
	final := m.csv()
	if len(versions) > 0 && rnd.IntN(3) == 0 {
		final = versions[rnd.IntN(len(versions))]
	}
	if err := os.WriteFile(export, final, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runBinary(t, nil, "sync", "-c", cfg); r.code != 0 {
		t.Fatalf("the clean run: exit %d\n%s", r.code, r.stderr)
	}
	got := replayJSONL(t, filepath.Join(dir, "catalog.jsonl"))

	// What one sync of the final export into an empty catalog sends.
	fresh := t.TempDir()
	os.WriteFile(filepath.Join(fresh, "feed.xml"), chaosFeed(products), 0o644)
	os.WriteFile(filepath.Join(fresh, "orders.csv"), final, 0o644)
	if r := runBinary(t, nil, "sync", "-c", chaosOrdersConfig(t, fresh, "fresh.db", "fresh.jsonl")); r.code != 0 {
		t.Fatalf("fresh sync: exit %d\n%s", r.code, r.stderr)
	}
	want := replayJSONL(t, filepath.Join(fresh, "fresh.jsonl"))
	bad := 0
	for id, w := range want {
		if g := got[id]; g != w {
			if bad++; bad <= 8 {
				t.Errorf("%s differs from the final export:\n catalog %s\n export  %s", id, g, w)
			}
		}
	}
	for _, id := range m.everSeen() {
		if _, ok := got["deal:"+id]; !ok && m.everSynced(id, synced, final) {
			t.Errorf("order %s left the export and its deal was lost", id)
		}
	}
	size := func() int64 { st, _ := os.Stat(filepath.Join(dir, "catalog.jsonl")); return st.Size() }
	before := size()
	if r := runBinary(t, nil, "sync", "-c", cfg); r.code != 0 || size() != before {
		t.Errorf("the run after convergence: exit %d, sent %d bytes", r.code, size()-before)
	}
	deals := 0
	for id := range want {
		if strings.HasPrefix(id, "deal:") {
			deals++
		}
	}
	t.Logf("orders: %d steps (seed %d): %d killed, %d reverts; %d deals converged", steps, seed, kills, reverts, deals)
}

func chaosOrdersConfig(t *testing.T, dir, state, catalog string) string {
	t.Helper()
	cfg := filepath.Join(dir, "feedsync.yaml")
	body := fmt.Sprintf(`state: %s
log: {level: warn, format: json}
catalog: {kind: file, path: %s}
feeds:
  - {name: shop, url: feed.xml, policy: parent}
orders:
  - name: orders
    url: orders.csv
    columns: {order_id: id, status: status, email: email, total: total, currency: currency, line_product: sku, line_quantity: qty, line_value: value}
    stages: woocommerce
    products_from: shop
`, state, catalog)
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

type chaosOrder struct {
	status string
	skus   []int
}

type chaosOrders struct {
	rnd    *rand.Rand
	next   int
	orders map[int]chaosOrder // the export window
	seen   map[int]bool
}

var chaosStatuses = []string{"pending", "processing", "on-hold", "completed", "cancelled", "refunded"}

func (m *chaosOrders) add() {
	o := chaosOrder{status: chaosStatuses[m.rnd.IntN(2)]}
	for n := 1 + m.rnd.IntN(3); n > 0; n-- {
		o.skus = append(o.skus, m.rnd.IntN(30))
	}
	m.orders[m.next] = o
	if m.seen == nil {
		m.seen = map[int]bool{}
	}
	m.seen[m.next] = true
	m.next++
}

// mutate moves some statuses on, adds orders and lets the oldest leave.
func (m *chaosOrders) mutate() {
	for id, o := range m.orders {
		if m.rnd.Float64() < 0.2 {
			o.status = chaosStatuses[m.rnd.IntN(len(chaosStatuses))]
			m.orders[id] = o
		}
	}
	for n := m.rnd.IntN(6); n > 0; n-- {
		m.add()
	}
	ids := m.ids()
	for i := 0; i < len(ids)-45; i++ {
		delete(m.orders, ids[i])
	}
}

func (m *chaosOrders) ids() []int {
	ids := make([]int, 0, len(m.orders))
	for id := range m.orders {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids
}

// csv writes the export: one row per line item, the order's fields on its
// first row.
func (m *chaosOrders) csv() []byte {
	var b strings.Builder
	b.WriteString("id,status,email,total,currency,sku,qty,value\n")
	for _, id := range m.ids() {
		o := m.orders[id]
		total := 0
		for _, s := range o.skus {
			total += 1000 + s
		}
		for i, s := range o.skus {
			sku := fmt.Sprintf("P%03d", s)
			if i == 0 {
				fmt.Fprintf(&b, "%d,%s,buyer%d@example.com,%d.00,EUR,%s,1,%d.00\n", 5000+id, o.status, id%7, total, sku, 1000+s)
			} else {
				fmt.Fprintf(&b, "%d,,,,,%s,1,%d.00\n", 5000+id, sku, 1000+s)
			}
		}
	}
	return []byte(b.String())
}

func (m *chaosOrders) everSeen() []string {
	var out []string
	for id := range m.seen {
		out = append(out, fmt.Sprint(5000+id))
	}
	return out
}

// everSynced reports whether an export a run finished with held id (an
// order that left before any run finished never reached the catalog).
func (m *chaosOrders) everSynced(id string, versions [][]byte, final []byte) bool {
	needle := "\n" + id + ","
	for _, v := range append(versions, final) {
		if strings.Contains(string(v), needle) {
			return true
		}
	}
	return false
}
