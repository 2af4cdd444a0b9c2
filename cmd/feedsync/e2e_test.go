package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// binary is the real feedsync, built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "feedsync-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "feedsync")
	if runtime.GOOS == "windows" {
		binary += ".exe"
	}
	// FEEDSYNC_E2E_BINARY runs the tests against another build (say, an
	// older release, to see a test fail where a bug was).
	if b := os.Getenv("FEEDSYNC_E2E_BINARY"); b != "" {
		binary = b
	} else {
		build := exec.Command("go", "build", "-o", binary, ".")
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build feedsync:", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

func runBinary(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run feedsync: %v", err)
	}
	return result{code, out.String(), errb.String()}
}

// workspace copies feeds from testdata into a temp dir and writes a config
// pointing at them, with temp state and sink files.
func workspace(t *testing.T, feeds map[string]string, extra string) (dir string) {
	t.Helper()
	dir = t.TempDir()
	var cfg strings.Builder
	cfg.WriteString("state: state/feedsync.db\nlog: {level: info, format: json}\ncatalog: {kind: file, path: out/catalog.jsonl}\nfeeds:\n")
	names := make([]string, 0, len(feeds))
	for name := range feeds {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		spec := feeds[name]
		src, policy, _ := strings.Cut(spec, ":")
		data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "feeds", src))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, src), data, 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&cfg, "  - {name: %s, url: %s, policy: %s}\n", name, src, policy)
	}
	cfg.WriteString(extra)
	if err := os.WriteFile(filepath.Join(dir, "feedsync.yaml"), []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

type summary struct {
	Feed       string `json:"feed"`
	Items      int    `json:"items"`
	Products   int    `json:"products"`
	Created    int    `json:"created"`
	Updated    int    `json:"updated"`
	Unchanged  int    `json:"unchanged"`
	Deleted    int    `json:"deleted"`
	Failed     int    `json:"failed"`
	Fetch      string `json:"fetch"`
	DurationMS *int64 `json:"duration_ms"`
	Recognised int    `json:"recognised"`
}

func parseSummaries(t *testing.T, stdout string) map[string]summary {
	t.Helper()
	out := map[string]summary{}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var s summary
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("stdout line %q is not a JSON summary: %v", sc.Text(), err)
		}
		if s.DurationMS == nil {
			t.Errorf("summary %q has no duration_ms", sc.Text())
		}
		out[s.Feed] = s
	}
	return out
}

func sinkLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("sink line %q: %v", l, err)
		}
		lines = append(lines, m)
	}
	return lines
}

func TestSyncTwiceSendsNothingTheSecondTime(t *testing.T) {
	dir := workspace(t, map[string]string{"shop": "shop.xml:parent", "garage": "garage.tsv:variant", "books": "books.csv:variant", "outdoor": "outdoor.atom.xml:variant"}, "")
	cfg := filepath.Join(dir, "feedsync.yaml")

	r := runBinary(t, nil, "sync", "-c", cfg, "--json")
	if r.code != 0 {
		t.Fatalf("first sync: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	first := parseSummaries(t, r.stdout)
	want := map[string]summary{
		"shop":    {Items: 5, Products: 3, Created: 3, Fetch: "changed"},
		"garage":  {Items: 3, Products: 3, Created: 3, Fetch: "changed"},
		"books":   {Items: 3, Products: 3, Created: 3, Fetch: "changed"},
		"outdoor": {Items: 3, Products: 3, Created: 3, Fetch: "changed"},
	}
	for name, w := range want {
		got := first[name]
		if got.Items != w.Items || got.Products != w.Products || got.Created != w.Created || got.Updated != 0 || got.Failed != 0 || got.Fetch != w.Fetch {
			t.Errorf("first sync of %s: got %+v, want %+v", name, got, w)
		}
	}
	lines := sinkLines(t, filepath.Join(dir, "out", "catalog.jsonl"))
	if len(lines) != 12 {
		t.Fatalf("sink has %d lines after the first sync, want 12", len(lines))
	}
	ids := map[string]bool{}
	for _, l := range lines {
		if l["op"] != "upsert" {
			t.Errorf("sink line op %v, want upsert", l["op"])
		}
		id, _ := l["id"].(string)
		p, _ := l["product"].(map[string]any)
		if p["custom_id"] != id {
			t.Errorf("sink line id %q but product custom_id %v", id, p["custom_id"])
		}
		ids[id] = true
	}
	for _, id := range []string{"TEE-BASIC", "HOODIE-1", "MUG-01", "TRK-22", "BK-002", "TENT-2P-SAND"} {
		if !ids[id] {
			t.Errorf("sink has no product %q", id)
		}
	}

	r = runBinary(t, nil, "sync", "-c", cfg, "--json")
	if r.code != 0 {
		t.Fatalf("second sync: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	for name, s := range parseSummaries(t, r.stdout) {
		if s.Created != 0 || s.Updated != 0 || s.Deleted != 0 || s.Unchanged != want[name].Products {
			t.Errorf("second sync of %s: got %+v, want 0 created, 0 updated, %d unchanged", name, s, want[name].Products)
		}
	}
	if n := len(sinkLines(t, filepath.Join(dir, "out", "catalog.jsonl"))); n != 12 {
		t.Errorf("sink has %d lines after the second sync, want still 12", n)
	}

	// The whole feeds read again (--full-scan): each one, RSS, Atom, TSV
	// and CSV, is recognised by its items' bytes, and says so.
	r = runBinary(t, nil, "sync", "-c", cfg, "--json", "--full-scan")
	if r.code != 0 {
		t.Fatalf("full scan: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	for name, s := range parseSummaries(t, r.stdout) {
		if s.Recognised != want[name].Items || s.Unchanged != want[name].Products || s.Created+s.Updated != 0 {
			t.Errorf("full scan of %s: got %+v, want all %d items recognised, nothing sent", name, s, want[name].Items)
		}
	}
	r = runBinary(t, nil, "sync", "-c", cfg, "--full-scan", "shop")
	if r.code != 0 || !strings.Contains(r.stdout, "shop: 5 items → 3 products; 0 created, 0 updated, 3 unchanged, 0 deleted, 0 marked unavailable, 0 failed (fetch changed, every item recognised by its bytes, ") {
		t.Errorf("full scan, text: exit %d, stdout:\n%s", r.code, r.stdout)
	}

	// --parse: the same feeds parsed, built and diffed in full; nothing
	// recognised, nothing sent.
	r = runBinary(t, nil, "sync", "-c", cfg, "--json", "--parse")
	if r.code != 0 {
		t.Fatalf("--parse: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	for name, s := range parseSummaries(t, r.stdout) {
		if s.Recognised != 0 || s.Items != want[name].Items || s.Unchanged != want[name].Products || s.Created+s.Updated != 0 || s.Fetch != "changed" {
			t.Errorf("--parse of %s: got %+v, want %d items parsed, nothing recognised or sent", name, s, want[name].Items)
		}
	}

	// One changed price: exactly one update reaches the sink.
	feedPath := filepath.Join(dir, "books.csv")
	data, _ := os.ReadFile(feedPath)
	changed := strings.Replace(string(data), "22.00 USD", "24.00 USD", 1)
	if err := os.WriteFile(feedPath, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runBinary(t, nil, "sync", "-c", cfg, "--json", "books")
	if r.code != 0 {
		t.Fatalf("third sync: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	s := parseSummaries(t, r.stdout)["books"]
	if s.Updated != 1 || s.Created != 0 || s.Unchanged != 2 {
		t.Errorf("after one price change: got %+v, want 1 updated, 2 unchanged", s)
	}
	lines = sinkLines(t, filepath.Join(dir, "out", "catalog.jsonl"))
	last := lines[len(lines)-1]
	if len(lines) != 13 || last["id"] != "BK-003" || last["product"].(map[string]any)["price"] != 24.0 {
		t.Errorf("after one price change: %d sink lines, last %v; want 13, BK-003 at 24", len(lines), last)
	}
}

func TestBadConfigExits2NamingTheKey(t *testing.T) {
	dir := workspace(t, map[string]string{"shop": "shop.xml:parents"}, "")
	r := runBinary(t, nil, "sync", "-c", filepath.Join(dir, "feedsync.yaml"))
	if r.code != 2 {
		t.Fatalf("exit %d, want 2; stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, `feeds[0].policy: "parents": want parent or variant`) {
		t.Errorf("stderr does not name the key and value:\n%s", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "state")); !os.IsNotExist(err) {
		t.Errorf("a bad config created state: %v", err)
	}
}

func TestUnknownKeyAndUnsetEnvExit2(t *testing.T) {
	dir := workspace(t, map[string]string{"shop": "shop.xml:parent"}, "bogus: 1\n")
	r := runBinary(t, nil, "sync", "-c", filepath.Join(dir, "feedsync.yaml"))
	if r.code != 2 || !strings.Contains(r.stderr, "bogus: unknown key") {
		t.Errorf("unknown key: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	cfg := "state: s.db\nfeeds:\n  - name: shop\n    url: shop.xml\n    headers: {Authorization: \"Bearer ${FEEDSYNC_TEST_UNSET_TOKEN}\"}\n"
	path := filepath.Join(dir, "env.yaml")
	os.WriteFile(path, []byte(cfg), 0o644)
	r = runBinary(t, nil, "sync", "-c", path)
	if r.code != 2 || !strings.Contains(r.stderr, "feeds[0].headers.Authorization: environment variable FEEDSYNC_TEST_UNSET_TOKEN is not set") {
		t.Errorf("unset env var: exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

func TestMissingFeedFileExits1AndLeavesStateUntouched(t *testing.T) {
	dir := workspace(t, map[string]string{"shop": "shop.xml:parent"}, "")
	cfg := filepath.Join(dir, "feedsync.yaml")
	if r := runBinary(t, nil, "sync", "-c", cfg); r.code != 0 {
		t.Fatalf("first sync: exit %d\n%s", r.code, r.stderr)
	}
	statePath := filepath.Join(dir, "state", "feedsync.db")
	before, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "shop.xml"))
	r := runBinary(t, nil, "sync", "-c", cfg)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, filepath.Join(dir, "shop.xml")) {
		t.Errorf("stderr does not name the missing path:\n%s", r.stderr)
	}
	after, _ := os.ReadFile(statePath)
	if !bytes.Equal(before, after) {
		t.Error("the state file changed after a failed fetch")
	}
}

func TestBrokenFeedExits1NamingLineAndItem(t *testing.T) {
	dir := workspace(t, map[string]string{"shop": "shop.xml:parent"}, "")
	feedPath := filepath.Join(dir, "shop.xml")
	data, _ := os.ReadFile(feedPath)
	broken := strings.Replace(string(data), "<g:price>USD 12.00</g:price>", "<g:price>USD 12.00</g:prize>", 1)
	os.WriteFile(feedPath, []byte(broken), 0o644)
	r := runBinary(t, nil, "sync", "-c", filepath.Join(dir, "feedsync.yaml"), "--json")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	s := parseSummaries(t, r.stdout)["shop"]
	if s.Created != 0 {
		t.Errorf("a broken feed pushed %d products", s.Created)
	}
	if !strings.Contains(r.stderr, "shop.xml:82") || !strings.Contains(r.stderr, `MUG-01`) {
		t.Errorf("error does not name file, line and item:\n%s", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "catalog.jsonl")); !os.IsNotExist(err) {
		t.Error("a broken feed wrote to the sink")
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"sync", "--no-such-flag"},
		{"no-such-command"},
		{"version", "extra"},
		{"run", "-c", "x.yaml"},
	} {
		if r := runBinary(t, nil, args...); r.code != 2 {
			t.Errorf("feedsync %v: exit %d, want 2; stderr: %s", args, r.code, r.stderr)
		}
	}
	dir := workspace(t, map[string]string{"shop": "shop.xml:parent"}, "")
	if r := runBinary(t, nil, "sync", "-c", filepath.Join(dir, "feedsync.yaml"), "nosuchfeed"); r.code != 2 || !strings.Contains(r.stderr, `no feed named "nosuchfeed"`) {
		t.Errorf("unknown feed: exit %d, stderr: %s", r.code, r.stderr)
	}
}

func TestConfigFromEnvironment(t *testing.T) {
	dir := workspace(t, map[string]string{"shop": "shop.xml:parent"}, "")
	r := runBinary(t, []string{"FEEDSYNC_CONFIG=" + filepath.Join(dir, "feedsync.yaml")}, "sync", "--json")
	if r.code != 0 || parseSummaries(t, r.stdout)["shop"].Created != 3 {
		t.Errorf("sync with $FEEDSYNC_CONFIG: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

func TestVersionAndHelp(t *testing.T) {
	r := runBinary(t, nil, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "feedsync ") {
		t.Errorf("version: exit %d, %q", r.code, r.stdout)
	}
	r = runBinary(t, nil, "--help")
	for _, cmd := range []string{"sync", "resync", "plan", "run", "lint", "transform", "state", "version"} {
		if !strings.Contains(r.stdout, "  "+cmd+" ") {
			t.Errorf("--help does not list %s:\n%s", cmd, r.stdout)
		}
	}
}
