package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/feedsync/feedsync/store"
)

func TestSecondProcessOnTheStateFileFailsFast(t *testing.T) {
	dir := workspace(t, map[string]string{"shop": "shop.xml:parent"}, "")
	cfg := filepath.Join(dir, "feedsync.yaml")
	if r := runBinary(t, nil, "sync", "-c", cfg); r.code != 0 {
		t.Fatalf("sync: exit %d\n%s", r.code, r.stderr)
	}
	db, err := store.Open(filepath.Join(dir, "state", "feedsync.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	r := runBinary(t, nil, "sync", "-c", cfg)
	if r.code != 2 || !strings.Contains(r.stderr, "is in use by another feedsync process") {
		t.Errorf("exit %d, stderr %q; want 2 and the in-use message", r.code, r.stderr)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v to give up", d)
	}
}

func TestPlanShowsChangedFieldsAndWritesNothing(t *testing.T) {
	dir := workspace(t, map[string]string{"books": "books.csv:variant"}, "")
	cfg := filepath.Join(dir, "feedsync.yaml")
	if r := runBinary(t, nil, "plan", "-c", cfg); r.code != 0 || !strings.Contains(r.stdout, "create      BK-001") {
		t.Fatalf("plan before any sync: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "state")); !os.IsNotExist(err) {
		t.Errorf("plan created the state directory")
	}
	if r := runBinary(t, nil, "sync", "-c", cfg); r.code != 0 {
		t.Fatalf("sync: exit %d\n%s", r.code, r.stderr)
	}
	statePath := filepath.Join(dir, "state", "feedsync.db")
	before, _ := os.ReadFile(statePath)
	feedPath := filepath.Join(dir, "books.csv")
	data, _ := os.ReadFile(feedPath)
	os.WriteFile(feedPath, []byte(strings.Replace(string(data), "22.00 USD", "24.00 USD", 1)), 0o644)

	r := runBinary(t, nil, "plan", "-c", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "update      BK-003  (price: 22 → 24)") || !strings.Contains(r.stdout, "would be 0 created, 1 updated, 2 unchanged") {
		t.Errorf("plan after a price change: exit %d\n%s", r.code, r.stdout)
	}
	r = runBinary(t, nil, "plan", "-c", cfg, "--json")
	if !strings.Contains(r.stdout, `"changes":[{"op":"update","id":"BK-003","fields":[{"field":"price","old":22,"new":24}]}]`) {
		t.Errorf("plan --json:\n%s", r.stdout)
	}
	after, _ := os.ReadFile(statePath)
	if string(before) != string(after) {
		t.Error("plan changed the state file")
	}
	lines := sinkLines(t, filepath.Join(dir, "out", "catalog.jsonl"))
	if len(lines) != 3 {
		t.Errorf("plan wrote to the sink: %d lines", len(lines))
	}
}

func TestStateShowsCountsRunsAndResets(t *testing.T) {
	dir := workspace(t, map[string]string{"books": "books.csv:variant"}, "")
	cfg := filepath.Join(dir, "feedsync.yaml")
	runBinary(t, nil, "sync", "-c", cfg)
	r := runBinary(t, nil, "state", "-c", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "books: 3 products (3 live, 0 unavailable, 0 failed)") || !strings.Contains(r.stdout, "sync   3 created") {
		t.Errorf("state: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runBinary(t, nil, "state", "-c", cfg, "--reset", "books"); r.code != 2 {
		t.Errorf("--reset without --yes: exit %d, want 2", r.code)
	}
	if r := runBinary(t, nil, "state", "-c", cfg, "--reset", "books", "--yes"); r.code != 0 {
		t.Errorf("--reset --yes: exit %d\n%s", r.code, r.stderr)
	}
	r = runBinary(t, nil, "sync", "-c", cfg, "--json")
	if s := parseSummaries(t, r.stdout)["books"]; s.Created != 3 {
		t.Errorf("after reset: %+v, want 3 created", s)
	}
}

func TestPlanNeedsNoCatalogToken(t *testing.T) {
	dir := workspace(t, map[string]string{"books": "books.csv:variant"}, "")
	cfg := filepath.Join(dir, "feedsync.yaml")
	data, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(data), "catalog: {kind: file, path: out/catalog.jsonl}", "catalog: {kind: usercom, url: 'https://shop.user.com', token_env: FEEDSYNC_TEST_NO_TOKEN}", 1)), 0o644)
	if r := runBinary(t, nil, "plan", "-c", cfg); r.code != 0 || !strings.Contains(r.stdout, "would be 3 created") {
		t.Errorf("plan with usercom and no token: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runBinary(t, nil, "sync", "-c", cfg); r.code != 2 || !strings.Contains(r.stderr, "set FEEDSYNC_TEST_NO_TOKEN") {
		t.Errorf("sync with usercom and no token: exit %d, want 2 and what to set\n%s", r.code, r.stderr)
	}
}

func TestPlanExplain(t *testing.T) {
	dir := workspace(t, map[string]string{"shop": "shop.xml:parent"}, "")
	cfg := filepath.Join(dir, "feedsync.yaml")
	r := runBinary(t, nil, "plan", "-c", cfg, "--explain", "TEE-BASIC")
	if r.code != 0 || !strings.Contains(r.stdout, "price           19.9") || !strings.Contains(r.stdout, "lowest of 2 in_stock variants") {
		t.Errorf("plan --explain: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runBinary(t, nil, "plan", "-c", cfg, "--explain", "NO-SUCH"); r.code != 1 || !strings.Contains(r.stderr, "NO-SUCH") {
		t.Errorf("plan --explain of an unknown id: exit %d\n%s", r.code, r.stderr)
	}
}
