package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/feedsync/feedsync/push/pushtest"
)

// The numbered cases of the convergence issue, each through the real binary.

// convergeWorkspace writes a config with one feed (or more) into a temp dir.
func convergeWorkspace(t *testing.T, catalog string, feeds ...string) (dir, cfg string) {
	t.Helper()
	dir = t.TempDir()
	cfg = filepath.Join(dir, "feedsync.yaml")
	body := "state: state.db\nlog: {level: info, format: json}\ncatalog: " + catalog + "\nfeeds:\n"
	for _, f := range feeds {
		body += "  - " + f + "\n"
	}
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, cfg
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// priced is a feed of n products P000… whose prices are base+i, minus the
// ids in gone, plus extra new ones.
func priced(n, base int, gone func(i int) bool, extra int) []byte {
	products := map[int]chaosProduct{}
	for i := 0; i < n; i++ {
		if gone == nil || !gone(i) {
			products[i] = chaosProduct{price: base + i}
		}
	}
	for i := 0; i < extra; i++ {
		products[n+i] = chaosProduct{price: base}
	}
	return chaosFeed(products)
}

// Case 1: REST, 300 products synced from A; B's sync is SIGKILLed while it
// pushes; A is put back byte for byte; one clean sync converges.
func TestKilledMidPushThenRevertConverges(t *testing.T) {
	var writes, stallAfter atomic.Int64
	stallAfter.Store(1 << 40)
	fake := pushtest.NewServer(pushtest.Options{SlowDelay: time.Minute, Script: func(n int, r *http.Request) pushtest.Fault {
		if r.Method == http.MethodPut || r.Method == http.MethodPost || r.Method == http.MethodDelete {
			if writes.Add(1) > stallAfter.Load() {
				return pushtest.Slow // hold it until the process dies
			}
		}
		return pushtest.None
	}})
	defer fake.Close()
	dir, cfg := convergeWorkspace(t, fmt.Sprintf("{kind: usercom, url: %q, mode: rest, rate: 100000, concurrency: 4, timeout: 90s, retries: 0}", fake.URL),
		"{name: shop, url: feed.xml, policy: variant, on_missing: delete, max_delete: 50%}")
	env := []string{"USERCOM_API_TOKEN=" + pushtest.Token}
	feedA := priced(300, 1000, nil, 0)
	writeFile(t, filepath.Join(dir, "feed.xml"), feedA)
	if r := runBinary(t, env, "sync", "-c", cfg); r.code != 0 {
		t.Fatalf("sync A: exit %d\n%s", r.code, r.stderr)
	}
	catalogA := fake.Catalog()

	// B: every price changed, 9 products gone, 9 new.
	writeFile(t, filepath.Join(dir, "feed.xml"), priced(300, 5000, func(i int) bool { return i%33 == 7 }, 9))
	mark := writes.Load()
	stallAfter.Store(mark + 200) // the catalog applies 200 writes, then stalls
	cmd := exec.Command(binary, "sync", "-c", cfg)
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for writes.Load() < mark+204 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // let the acknowledged part commit, as a real kill would
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	changed := 0
	for id, p := range fake.Catalog() {
		if a, ok := catalogA[id]; !ok || a["price"] != p["price"] {
			changed++
		}
	}
	if changed < 100 {
		t.Fatalf("only %d products reached the catalog from B before the kill; the test proves nothing", changed)
	}

	stallAfter.Store(1 << 40)
	writeFile(t, filepath.Join(dir, "feed.xml"), feedA)
	r := runBinary(t, env, "sync", "-c", cfg, "--json")
	if r.code != 0 {
		t.Fatalf("clean sync after the kill: exit %d\n%s", r.code, r.stderr)
	}
	got := fake.Catalog()
	bad := 0
	for id, a := range catalogA {
		if g, ok := got[id]; !ok || g["price"] != a["price"] {
			if bad++; bad <= 5 {
				t.Errorf("product %s: catalog %v, feed A says price %s", id, g, a["price"])
			}
		}
	}
	for id := range got {
		if _, ok := catalogA[id]; !ok {
			if bad++; bad <= 10 {
				t.Errorf("product %s is in the catalog but not in feed A", id)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d products differ from feed A after the clean run (of %d changed by the killed run)", bad, changed)
	}
}

// Case 2: a run refused by a guard sends nothing; when the old bytes come
// back, the catalog is still theirs.
func TestGuardRefusalSendsNothingAndRevertKeepsTheCatalog(t *testing.T) {
	dir, cfg := convergeWorkspace(t, `{kind: file, path: catalog.jsonl}`, "{name: shop, url: feed.xml, policy: variant, on_missing: delete}")
	feedA := priced(200, 1000, nil, 0)
	writeFile(t, filepath.Join(dir, "feed.xml"), feedA)
	if r := runBinary(t, nil, "sync", "-c", cfg); r.code != 0 {
		t.Fatalf("sync A: exit %d\n%s", r.code, r.stderr)
	}
	sinkPath := filepath.Join(dir, "catalog.jsonl")
	before, _ := os.ReadFile(sinkPath)
	writeFile(t, filepath.Join(dir, "feed.xml"), priced(200, 7000, func(i int) bool { return i%20 < 11 }, 0))
	r := runBinary(t, nil, "sync", "-c", cfg)
	if r.code != 1 || !strings.Contains(r.stderr, "refused: 110 removals, above max_delete 10%") {
		t.Fatalf("B: exit %d, want 1 with the guard's verdict\n%s", r.code, r.stderr)
	}
	if after, _ := os.ReadFile(sinkPath); string(after) != string(before) {
		t.Fatalf("the refused run wrote %d bytes to the catalog", len(after)-len(before))
	}
	writeFile(t, filepath.Join(dir, "feed.xml"), feedA)
	if r := runBinary(t, nil, "sync", "-c", cfg); r.code != 0 {
		t.Fatalf("A again: exit %d\n%s", r.code, r.stderr)
	}
	if got, want := replayJSONL(t, sinkPath), expectedChaosCatalogJSONL(t, "variant", feedA); !mapsEqual(got, want) {
		t.Errorf("the catalog is not feed A's after the revert")
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func expectedChaosCatalogJSONL(t *testing.T, policy string, feed []byte) map[string]string {
	t.Helper()
	dir, cfg := convergeWorkspace(t, `{kind: file, path: catalog.jsonl}`, "{name: shop, url: feed.xml, policy: "+policy+", on_missing: delete}")
	writeFile(t, filepath.Join(dir, "feed.xml"), feed)
	if r := runBinary(t, nil, "sync", "-c", cfg); r.code != 0 {
		t.Fatalf("fresh sync: exit %d\n%s", r.code, r.stderr)
	}
	return replayJSONL(t, filepath.Join(dir, "catalog.jsonl"))
}

// Case 3: a policy switch whose removals a guard refuses sends nothing, and
// plan shows the verdict and names the switch.
func TestPolicySwitchIsRefusedBeforeAnyPushAndPlanSaysSo(t *testing.T) {
	dir, cfg := convergeWorkspace(t, `{kind: file, path: catalog.jsonl}`, "{name: shop, url: feed.xml, policy: parent, on_missing: delete}")
	writeFile(t, filepath.Join(dir, "feed.xml"), priced(90, 1000, nil, 0))
	if r := runBinary(t, nil, "sync", "-c", cfg); r.code != 0 {
		t.Fatalf("sync: exit %d\n%s", r.code, r.stderr)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "catalog.jsonl"))
	data, _ := os.ReadFile(cfg)
	writeFile(t, cfg, []byte(strings.Replace(string(data), "policy: parent", "policy: variant", 1)))
	r := runBinary(t, nil, "plan", "-c", cfg)
	if !strings.Contains(r.stdout, "shop: would be refused: 30 removals, above max_delete 10%") || !strings.Contains(r.stdout, "policy switch parent → variant") {
		t.Errorf("plan does not give the verdict and the switch:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "FAILED") {
		t.Errorf("plan calls its own verdict a failure:\n%s", r.stdout)
	}
	r = runBinary(t, nil, "sync", "-c", cfg)
	if r.code != 1 || !strings.Contains(r.stderr, "refused: 30 removals") {
		t.Fatalf("sync: exit %d\n%s", r.code, r.stderr)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "catalog.jsonl")); string(after) != string(before) {
		t.Errorf("the refused policy switch wrote to the catalog: it now holds both shapes")
	}
}

// Case 4: two feeds of one catalog claim the same custom_id.
func TestSecondClaimOnACustomIDIsRefusedNamingBothFeeds(t *testing.T) {
	dir, cfg := convergeWorkspace(t, `{kind: file, path: catalog.jsonl}`,
		"{name: a, url: a.xml, policy: variant, on_missing: delete}",
		"{name: b, url: b.xml, policy: variant, on_missing: delete, max_delete: 100%}")
	writeFile(t, filepath.Join(dir, "a.xml"), priced(5, 1000, nil, 0))
	writeFile(t, filepath.Join(dir, "b.xml"), priced(8, 2000, func(i int) bool { return i < 4 }, 0)) // P004 is a's too
	r := runBinary(t, nil, "sync", "-c", cfg)
	if r.code != 0 || !strings.Contains(r.stderr, `custom_id \"P004\" belongs to feed \"a\" in this catalog: feed \"b\"'s product is skipped`) {
		t.Fatalf("exit %d; want a problem naming both feeds\n%s", r.code, r.stderr)
	}
	writeFile(t, filepath.Join(dir, "b.xml"), priced(8, 2000, func(i int) bool { return i < 5 }, 0)) // b drops P004
	if r := runBinary(t, nil, "sync", "-c", cfg); r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	cat := replayJSONL(t, filepath.Join(dir, "catalog.jsonl"))
	if !strings.Contains(cat["P004"], `"price":10.04`) {
		t.Errorf("P004 in the catalog: %q; want feed a's product", cat["P004"])
	}
}

// Case 5: a 40 KiB id is skipped with a problem naming its line; the run
// succeeds and the next one sends nothing.
func TestFortyKiBIDIsSkippedAndRunsSettle(t *testing.T) {
	dir, cfg := convergeWorkspace(t, `{kind: file, path: catalog.jsonl}`, "{name: shop, url: feed.xml, policy: variant}")
	feed := string(priced(3, 1000, nil, 0))
	long := strings.Repeat("L", 40<<10)
	feed = strings.Replace(feed, "</channel>", "<item><g:id>"+long+"</g:id><g:title>Long</g:title><g:link>https://shop.example/l</g:link><g:price>1.00 EUR</g:price><g:availability>in stock</g:availability></item>\n</channel>", 1)
	writeFile(t, filepath.Join(dir, "feed.xml"), []byte(feed))
	r := runBinary(t, nil, "sync", "-c", cfg, "--json")
	if r.code != 0 || !strings.Contains(r.stderr, "above the limit of 1000 bytes") || !strings.Contains(r.stderr, `"line":6`) {
		t.Fatalf("exit %d; want the long id skipped with a problem on line 6\n%.2000s", r.code, r.stderr)
	}
	sink := filepath.Join(dir, "catalog.jsonl")
	before, _ := os.ReadFile(sink)
	for i := 0; i < 2; i++ {
		if r := runBinary(t, nil, "sync", "-c", cfg, "--full-scan"); r.code != 0 {
			t.Fatalf("run %d: exit %d\n%.2000s", i+2, r.code, r.stderr)
		}
	}
	if after, _ := os.ReadFile(sink); len(after) != len(before) {
		t.Errorf("later runs sent %d more bytes", len(after)-len(before))
	}
}

// Case 6: a torn last line of the JSONL sink is cut back before the next
// run appends.
func TestTornJSONLTailIsRepaired(t *testing.T) {
	dir, cfg := convergeWorkspace(t, `{kind: file, path: catalog.jsonl}`, "{name: shop, url: feed.xml, policy: variant}")
	writeFile(t, filepath.Join(dir, "feed.xml"), priced(3, 1000, nil, 0))
	if r := runBinary(t, nil, "sync", "-c", cfg); r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	sink := filepath.Join(dir, "catalog.jsonl")
	f, _ := os.OpenFile(sink, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"op":"upsert","id":"P001","product":{"custom_id":"P0`)
	f.Close()
	writeFile(t, filepath.Join(dir, "feed.xml"), priced(3, 2000, nil, 0))
	r := runBinary(t, nil, "sync", "-c", cfg)
	if r.code != 0 || !strings.Contains(r.stderr, "never acknowledged") {
		t.Fatalf("exit %d; want the repair logged\n%s", r.code, r.stderr)
	}
	cat := replayJSONL(t, sink) // fails on a line that is not a whole operation
	if len(cat) != 3 || !strings.Contains(cat["P001"], `"price":20.01`) {
		t.Errorf("catalog after the repair: %v", cat)
	}
}

// Case 7: a catalog URL that answers 301 is an error naming where it moved;
// nothing is committed as created.
func TestCatalogRedirectIsAnErrorNamingTheLocation(t *testing.T) {
	fake := pushtest.NewServer(pushtest.Options{})
	defer fake.Close()
	moved := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, fake.URL+r.URL.Path, http.StatusMovedPermanently)
	}))
	defer moved.Close()
	dir, cfg := convergeWorkspace(t, fmt.Sprintf("{kind: usercom, url: %q, mode: rest, retries: 0}", moved.URL), "{name: shop, url: feed.xml, policy: variant}")
	writeFile(t, filepath.Join(dir, "feed.xml"), priced(3, 1000, nil, 0))
	env := []string{"USERCOM_API_TOKEN=" + pushtest.Token}
	r := runBinary(t, env, "sync", "-c", cfg)
	if r.code != 1 || !strings.Contains(r.stderr, "catalog.url moved to "+fake.URL) {
		t.Fatalf("exit %d; want an error naming the new location\n%s", r.code, r.stderr)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("the redirect was followed: %d requests reached the new location", n)
	}
	r = runBinary(t, env, "state", "-c", cfg, "shop")
	if strings.Contains(r.stdout, "3 live") {
		t.Errorf("products committed as created:\n%s", r.stdout)
	}
}
