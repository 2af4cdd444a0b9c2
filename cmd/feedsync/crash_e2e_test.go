package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/feedsync/feedsync/push/pushtest"
)

// crashFeed writes an RSS feed of n products with a version tag in the names.
func crashFeed(t *testing.T, path string, n int, version string) map[string]string {
	t.Helper()
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel>` + "\n")
	want := map[string]string{}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("C-%04d", i)
		name := fmt.Sprintf("Crash test product %d %s", i, version)
		want[id] = name
		fmt.Fprintf(&b, "<item><g:id>%s</g:id><g:title>%s</g:title><g:link>https://example.com/%s</g:link><g:price>%d.50 EUR</g:price><g:availability>in stock</g:availability></item>\n", id, name, id, 10+i)
	}
	b.WriteString("</channel></rss>\n")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return want
}

// TestKilledSyncConverges kills the real binary with SIGKILL at seeded random
// moments of a sync against a slow catalog, runs it again, and checks that the
// catalog ends equal to the feed: no product missing, none created twice.
func TestKilledSyncConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("kills real processes; skipped with -short")
	}
	const products, trials = 150, 20
	totalResent := 0
	for trial := 0; trial < trials; trial++ {
		fake := pushtest.NewServer(pushtest.Options{Seed: uint64(trial), FaultRate: 1, Faults: []pushtest.Fault{pushtest.Slow}, SlowDelay: 2 * time.Millisecond})
		dir := t.TempDir()
		feedPath := filepath.Join(dir, "feed.xml")
		// Half the trials start from a synced catalog and kill an update run.
		version := "v1"
		want := crashFeed(t, feedPath, products, version)
		cfg := filepath.Join(dir, "feedsync.yaml")
		os.WriteFile(cfg, []byte(fmt.Sprintf(`state: state.db
log: {level: warn, format: json}
catalog: {kind: usercom, url: %q, mode: rest, rate: 100000, concurrency: 4, timeout: 5s, retries: 3}
feeds:
  - {name: crash, url: feed.xml, policy: variant, on_missing: keep}
`, fake.URL)), 0o644)
		env := []string{"USERCOM_API_TOKEN=" + pushtest.Token}
		if trial%2 == 1 {
			if r := runBinary(t, env, "sync", "-c", cfg); r.code != 0 {
				t.Fatalf("trial %d: initial sync: exit %d\n%s", trial, r.code, r.stderr)
			}
			version = "v2"
			want = crashFeed(t, feedPath, products, version)
		}
		before := len(fake.Requests())

		rnd := rand.New(rand.NewPCG(uint64(trial), 42))
		killAfter := time.Duration(rnd.IntN(250)) * time.Millisecond
		cmd := exec.Command(binary, "sync", "-c", cfg)
		cmd.Env = append(os.Environ(), env...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		killed := false
		select {
		case <-done:
		case <-time.After(killAfter):
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			killed = true
		}
		firstRun := len(fake.Requests()) - before

		if r := runBinary(t, env, "sync", "-c", cfg, "--json"); r.code != 0 {
			t.Fatalf("trial %d: sync after the kill: exit %d\n%s", trial, r.code, r.stderr)
		}
		got := fake.Catalog()
		for id, name := range want {
			if got[id]["name"] != name {
				t.Errorf("trial %d (killed %v after %v): product %s is %q in the catalog, want %q", trial, killed, killAfter, id, got[id]["name"], name)
			}
		}
		if len(got) != len(want) {
			t.Errorf("trial %d: catalog has %d products, want %d", trial, len(got), len(want))
		}
		for id, n := range fake.Creates() {
			if n > 1 {
				t.Errorf("trial %d: product %s created %d times", trial, id, n)
			}
		}
		// Re-sent: writes (create/update) beyond one per product over both runs.
		writes := 0
		for _, r := range fake.Requests()[before:] {
			if (r.Op == "create" || r.Op == "update") && r.Status >= 200 && r.Status < 300 {
				writes++
			}
		}
		resent := writes - products
		if resent < 0 {
			t.Errorf("trial %d: %d successful writes for %d products", trial, writes, products)
		}
		totalResent += max(resent, 0)
		t.Logf("trial %2d: killed=%-5v after %3v (%3d requests before the kill); re-sent %d products", trial, killed, killAfter, firstRun, resent)

		// A third run sends nothing: the state equals the catalog.
		mark := len(fake.Requests())
		if r := runBinary(t, env, "sync", "-c", cfg); r.code != 0 {
			t.Fatalf("trial %d: third sync: exit %d\n%s", trial, r.code, r.stderr)
		}
		if extra := len(fake.Requests()) - mark; extra != 0 {
			t.Errorf("trial %d: an unchanged feed after convergence sent %d requests", trial, extra)
		}
		fake.Close()
	}
	t.Logf("%d trials: %d products re-sent in all (in flight at the kill, idempotent upserts)", trials, totalResent)
}
