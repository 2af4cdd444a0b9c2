package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feedsync/feedsync/push/pushtest"
)

// ordersWorkspace is a workspace with the demo shop feed under policy and
// the demo orders export, synced into the JSONL sink.
func ordersWorkspace(t *testing.T, policy, export string) (dir, cfg string) {
	t.Helper()
	dir = workspace(t, map[string]string{"shop": "shop.xml:" + policy}, "")
	setOrdersExport(t, dir, export)
	raw, _ := os.ReadFile(filepath.Join(dir, "feedsync.yaml"))
	extra := `orders:
  - name: shop-orders
    url: orders.csv
    columns: {order_id: Order Number, status: Order Status, email: Billing Email, customer_id: Customer ID,
              total: Order Total, currency: Currency, placed: Order Date, line_product: SKU, line_quantity: Quantity, line_value: Line Total}
    stages: woocommerce
    products_from: shop
`
	cfg = filepath.Join(dir, "feedsync.yaml")
	if err := os.WriteFile(cfg, append(raw, extra...), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, cfg
}

// setOrdersExport puts a demo export (or a body) in place as orders.csv.
func setOrdersExport(t *testing.T, dir, export string) {
	t.Helper()
	data := []byte(export)
	if !strings.Contains(export, "\n") {
		var err error
		if data, err = os.ReadFile(filepath.Join("..", "..", "testdata", "orders", export)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "orders.csv"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// deals folds the sink's deal lines into the deals they describe.
func deals(t *testing.T, dir string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, l := range sinkLines(t, filepath.Join(dir, "out", "catalog.jsonl")) {
		if l["op"] == "deal" {
			out[l["id"].(string)] = l["deal"].(map[string]any)
		}
	}
	return out
}

func orderSummary(t *testing.T, stdout string) map[string]any {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["feed"] == "shop-orders" {
			return m
		}
	}
	t.Fatalf("no summary of shop-orders in %q", stdout)
	return nil
}

// Orders become deals; an unchanged export sends nothing; a status change
// sends exactly one deal update.
func TestOrdersBecomeDealsAndOnlyChangesTravel(t *testing.T) {
	t.Parallel()
	dir, cfg := ordersWorkspace(t, "parent", "shop-orders.csv")
	r := runBinary(t, nil, "sync", "--json", "-c", cfg)
	if r.code != 0 {
		t.Fatalf("first sync: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if s := orderSummary(t, r.stdout); s["created"] != 4.0 {
		t.Errorf("first sync of the orders: %v, want 4 deals created", s)
	}
	d := deals(t, dir)
	if len(d) != 4 || d["1042"]["stage_name"] != "cancelled" || d["1040"]["stage_name"] != "fulfilled" || d["1043"]["stage_name"] != "placed" {
		t.Errorf("deals: %v", d)
	}
	r = runBinary(t, nil, "sync", "--json", "--full-scan", "-c", cfg)
	if s := orderSummary(t, r.stdout); r.code != 0 || s["created"] != 0.0 || s["updated"] != 0.0 || s["unchanged"] != 4.0 {
		t.Errorf("unchanged export: exit %d, %v; want 4 unchanged, nothing sent", r.code, s)
	}
	before := len(sinkLines(t, filepath.Join(dir, "out", "catalog.jsonl")))
	raw, _ := os.ReadFile(filepath.Join(dir, "orders.csv"))
	setOrdersExport(t, dir, strings.Replace(string(raw), "1043,on-hold", "1043,completed", 1))
	r = runBinary(t, nil, "sync", "--json", "-c", cfg, "shop-orders")
	s := orderSummary(t, r.stdout)
	if r.code != 0 || s["updated"] != 1.0 || s["created"] != 0.0 {
		t.Errorf("status change: exit %d, %v; want exactly one deal update\n%s", r.code, s, r.stderr)
	}
	lines := sinkLines(t, filepath.Join(dir, "out", "catalog.jsonl"))
	if len(lines) != before+1 || lines[len(lines)-1]["id"] != "1043" || deals(t, dir)["1043"]["stage_name"] != "fulfilled" {
		t.Errorf("the sink got %d lines after the status change, want 1 (1043 fulfilled): %v", len(lines)-before, lines[before:])
	}
	// plan shows the stage change before a sync sends it.
	setOrdersExport(t, dir, strings.Replace(string(raw), "1041,processing", "1041,completed", 1))
	r = runBinary(t, nil, "plan", "-c", cfg, "shop-orders")
	if r.code != 0 || !strings.Contains(r.stdout, "order 1041: placed → fulfilled") {
		t.Errorf("plan of a stage change: exit %d\n%s", r.code, r.stdout)
	}
}

// A variant SKU in an order line reaches the sink as its parent's id under
// the parent policy, and as itself under the variant policy.
func TestOrderLinesUseTheCatalogsProductIDs(t *testing.T) {
	t.Parallel()
	for policy, want := range map[string][]string{"parent": {"TEE-BASIC", "TEE-BASIC"}, "variant": {"TEE-RED-S", "TEE-BLUE-M"}} {
		dir, cfg := ordersWorkspace(t, policy, "shop-orders.csv")
		if r := runBinary(t, nil, "sync", "-c", cfg); r.code != 0 {
			t.Fatalf("%s: exit %d\n%s", policy, r.code, r.stderr)
		}
		lines, _ := deals(t, dir)["1040"]["order_products"].([]any)
		var got []string
		for _, l := range lines {
			got = append(got, fmt.Sprint(l.(map[string]any)["product_custom_id"]))
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: order 1040's products %v, want %v", policy, got, want)
		}
	}
}

// A guest checkout gets its User ID from its e-mail; no raw e-mail leaves
// feedsync; userid prints the same ID.
func TestGuestCheckoutUserIDFromEmail(t *testing.T) {
	t.Parallel()
	dir, cfg := ordersWorkspace(t, "parent", "shop-orders.csv")
	if r := runBinary(t, nil, "sync", "-c", cfg); r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	sum := sha256.Sum256([]byte("guest.buyer@example.org"))
	want := hex.EncodeToString(sum[:])
	if got := deals(t, dir)["1041"]["user_custom_id"]; got != want {
		t.Errorf("guest 1041's user_custom_id %v, want %s", got, want)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "out", "catalog.jsonl"))
	if strings.Contains(strings.ToLower(string(raw)), "@example") {
		t.Errorf("a raw e-mail reached the sink:\n%s", raw)
	}
	r := runBinary(t, nil, "userid", "-c", cfg, "  Guest.Buyer@Example.ORG ")
	if r.code != 0 || strings.TrimSpace(r.stdout) != want {
		t.Errorf("userid of a mixed-case e-mail: exit %d %q, want %s\n%s", r.code, r.stdout, want, r.stderr)
	}
}

// An unknown status is a problem naming the row, not a guess.
func TestUnknownOrderStatusIsAProblemNamingTheRow(t *testing.T) {
	t.Parallel()
	raw, _ := os.ReadFile(filepath.Join("..", "..", "testdata", "orders", "shop-orders.csv"))
	export := strings.Replace(string(raw), "1043,on-hold", "1043,awaiting-goat", 1)
	dir, cfg := ordersWorkspace(t, "parent", export)
	r := runBinary(t, nil, "sync", "--json", "-c", cfg)
	s := orderSummary(t, r.stdout)
	if s["created"] != 3.0 || s["skipped"] != 1.0 {
		t.Errorf("unknown status: %v; want 3 deals and 1 skipped\n%s", s, r.stderr)
	}
	if !strings.Contains(r.stderr, "awaiting-goat") || !strings.Contains(r.stderr, `"line":6`) || !strings.Contains(r.stderr, `"item":"1043"`) {
		t.Errorf("the problem does not name the row, order and status:\n%s", r.stderr)
	}
	if _, sent := deals(t, dir)["1043"]; sent {
		t.Error("an order with an unknown status was sent")
	}
}

// ids export writes the product feed's id map; ids check sorts ids from
// elsewhere into known, known by their parent, and unknown.
func TestIDsExportAndCheck(t *testing.T) {
	t.Parallel()
	dir, cfg := ordersWorkspace(t, "parent", "shop-orders.csv")
	if r := runBinary(t, nil, "sync", "-c", cfg); r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	r := runBinary(t, nil, "ids", "export", "-c", cfg, "shop")
	if r.code != 0 || !strings.Contains(r.stdout, "alias,custom_id\n") || !strings.Contains(r.stdout, "TEE-RED-S,TEE-BASIC\n") || !strings.Contains(r.stdout, "MUG-01,MUG-01\n") {
		t.Errorf("ids export: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	ids := filepath.Join(dir, "events.txt")
	os.WriteFile(ids, []byte("id\nTEE-RED-S\nMUG-01\nNOPE-1\n"), 0o644)
	r = runBinary(t, nil, "ids", "check", "-c", cfg, "shop", ids)
	if r.code != 1 || !strings.Contains(r.stdout, "parent   TEE-RED-S → TEE-BASIC") || !strings.Contains(r.stdout, "unknown  NOPE-1") ||
		!strings.Contains(r.stdout, "1 known as they are, 1 known by their parent's id, 1 unknown") {
		t.Errorf("ids check: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// Orders reach User.com as deals (the fake API): the variant's parent id,
// stage ids from the config, and a guest's user created on the refusal,
// without the e-mail; a second run sends nothing.
func TestOrdersToUserCom(t *testing.T) {
	t.Parallel()
	fake := pushtest.NewServer(pushtest.Options{})
	defer fake.Close()
	dir := workspace(t, map[string]string{"shop": "shop.xml:parent"}, "")
	setOrdersExport(t, dir, "shop-orders.csv")
	for _, id := range []string{"86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d"} { // Jane's User ID
		fake.PutUser(id, map[string]string{"custom_id": id})
	}
	cfg := filepath.Join(dir, "feedsync.yaml")
	raw, _ := os.ReadFile(cfg)
	body := strings.Replace(string(raw), "catalog: {kind: file, path: out/catalog.jsonl}",
		fmt.Sprintf("catalog: {kind: usercom, url: %q, token_env: USERCOM_API_TOKEN, mode: rest, retries: 2}", fake.URL), 1)
	body += `orders:
  - name: shop-orders
    url: orders.csv
    columns: {order_id: Order Number, status: Order Status, email: Billing Email, total: Order Total,
              currency: Currency, placed: Order Date, line_product: SKU, line_quantity: Quantity, line_value: Line Total}
    pipeline_id: 3
    stages: {preset: woocommerce, stages: {placed: {id: 11, status: 1}, fulfilled: {id: 12, status: 2}, cancelled: {id: 13, status: 3}}}
    products_from: shop
`
	os.WriteFile(cfg, []byte(body), 0o644)
	env := []string{"USERCOM_API_TOKEN=" + pushtest.Token}
	r := runBinary(t, env, "sync", "--json", "-c", cfg)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	d := fake.Deals()
	if len(d) != 4 || d["1043"]["stage"] != "11" || d["1040"]["stage"] != "12" || d["1042"]["status"] != "3" || d["1040"]["pipeline"] != "3" {
		t.Errorf("deals: %v", d)
	}
	if !strings.Contains(d["1040"]["order_products"], "TEE-BASIC") {
		t.Errorf("1040's products: %s", d["1040"]["order_products"])
	}
	guest := sha256.Sum256([]byte("guest.buyer@example.org"))
	u, ok := fake.Users()[hex.EncodeToString(guest[:])]
	if !ok || u["email"] != "" {
		t.Errorf("the guest's user: %v (created: %v); want created without an e-mail", u, ok)
	}
	before := len(fake.Requests())
	if r := runBinary(t, env, "sync", "-c", cfg, "shop-orders"); r.code != 0 || len(fake.Requests()) != before {
		t.Errorf("second run: exit %d, %d requests\n%s", r.code, len(fake.Requests())-before, r.stderr)
	}
}
