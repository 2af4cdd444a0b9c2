package feedsync

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfigDefaultsFillEveryFeed(t *testing.T) {
	cfg, err := ParseConfig([]byte("feeds:\n  - {name: shop, url: shop.xml}\n"))
	if err != nil {
		t.Fatal(err)
	}
	f := cfg.Feeds[0]
	if f.Policy != "variant" || f.ProductID != "id" || f.OnMissing != "unavailable" || f.MaxDelete != "10%" || f.Format != "auto" || f.Schedule != "@hourly" || f.MaxSize != "4GiB" {
		t.Errorf("feed defaults: got %+v", f)
	}
	if cfg.Catalog.Kind != "file" || cfg.Catalog.Mode != "import" || cfg.Catalog.Rate != 10 || cfg.Catalog.Concurrency != 4 || time.Duration(cfg.Catalog.Timeout) != 30*time.Second || cfg.Catalog.Retries != 6 {
		t.Errorf("catalog defaults: got %+v", cfg.Catalog)
	}
	if cfg.State != "./feedsync.db" || cfg.Log.Level != "info" || cfg.Log.Format != "console" || cfg.Metrics.Listen != "127.0.0.1:9464" {
		t.Errorf("top-level defaults: got %+v", cfg)
	}
}

func TestConfigErrorsNameKeyAndValue(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"BadPolicy", "feeds:\n  - {name: a, url: x}\n  - {name: b, url: y, policy: parents}\n", `feeds[1].policy: "parents": want parent or variant`},
		{"UnknownTopKey", "stat: x\nfeeds: [{name: a, url: x}]\n", "stat: unknown key"},
		{"UnknownFeedKey", "feeds: [{name: a, url: x, polcy: parent}]\n", "feeds[0].polcy: unknown key"},
		{"DuplicateName", "feeds: [{name: a, url: x}, {name: a, url: y}]\n", `feeds[1].name: "a": already used by feeds[0]`},
		{"BadName", "feeds: [{name: My Shop, url: x}]\n", `feeds[0].name: "My Shop"`},
		{"BadSchedule", "feeds: [{name: a, url: x, schedule: '*/61 * * * *'}]\n", `feeds[0].schedule: "*/61 * * * *"`},
		{"BadOnMissing", "feeds: [{name: a, url: x, on_missing: drop}]\n", `feeds[0].on_missing: "drop": want delete, unavailable or keep`},
		{"BadMaxDelete", "feeds: [{name: a, url: x, max_delete: lots}]\n", `feeds[0].max_delete: "lots"`},
		{"BadRate", "catalog: {rate: fast}\nfeeds: [{name: a, url: x}]\n", `catalog.rate: "fast": want a number`},
		{"BadTimeout", "catalog: {timeout: 30}\nfeeds: [{name: a, url: x}]\n", `catalog.timeout: "30": want a duration`},
		{"BadKind", "catalog: {kind: sftp}\nfeeds: [{name: a, url: x}]\n", `catalog.kind: "sftp": want file or usercom`},
		{"FeedsNotAList", "feeds: {name: a}\n", "feeds: want a list"},
		{"DeleteNeedsRest", "catalog: {kind: usercom, url: 'https://x.user.com', mode: import}\nfeeds: [{name: a, url: x, on_missing: delete}]\n", `feeds[0].on_missing: "delete" needs catalog.mode rest`},
		{"SyntaxError", "feeds: [\n", "did not find expected node content"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(c.yaml))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *ConfigError", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %q, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestConfigExpandsEnvironment(t *testing.T) {
	t.Setenv("FEEDSYNC_TEST_TOKEN", "s3cret")
	cfg, err := ParseConfig([]byte("feeds:\n  - name: a\n    url: https://feeds.example.com/a.xml\n    headers: {Authorization: \"Bearer ${FEEDSYNC_TEST_TOKEN}\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Feeds[0].Headers["Authorization"]; got != "Bearer s3cret" {
		t.Errorf("got %q, want the expanded token", got)
	}
}

func TestConfigWithoutFeedsServesLintButNotSync(t *testing.T) {
	cfg, err := ParseConfig([]byte("lint: {max_warnings: 3}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Lint.MaxWarnings != 3 {
		t.Errorf("lint section: %+v", cfg.Lint)
	}
	if err := cfg.RequireFeeds(); err == nil || !strings.Contains(err.Error(), "feeds: no feeds configured") {
		t.Errorf("RequireFeeds: %v", err)
	}
}

func TestConfigResolvesPathsAgainstItsDirectory(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "feedsync.yaml")
	os.WriteFile(path, []byte("state: st/f.db\ncatalog: {path: out/c.jsonl}\nfeeds:\n  - {name: a, url: feeds/a.xml}\n  - {name: b, url: 'https://x.example.com/b.xml'}\n  - {name: c, url: /abs/c.xml}\n"), 0o644)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.State != filepath.Join(dir, "st/f.db") || cfg.Catalog.Path != filepath.Join(dir, "out/c.jsonl") {
		t.Errorf("state %q, catalog %q", cfg.State, cfg.Catalog.Path)
	}
	if cfg.Feeds[0].URL != filepath.Join(dir, "feeds/a.xml") || cfg.Feeds[1].URL != "https://x.example.com/b.xml" || cfg.Feeds[2].URL != "/abs/c.xml" {
		t.Errorf("feed urls: %q %q %q", cfg.Feeds[0].URL, cfg.Feeds[1].URL, cfg.Feeds[2].URL)
	}
}

func TestConfigExampleIsValidAndDocumentsEveryKey(t *testing.T) {
	cfg, err := LoadConfig("config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Feeds) == 0 {
		t.Fatal("the example has no feeds")
	}
	raw, _ := os.ReadFile("config.example.yaml")
	for _, key := range []string{"state:", "level:", "format:", "listen:", "concurrency:", "grace:", "kind:", "path:", "url:", "token_env:", "mode:", "rate:", "timeout:", "retries:",
		"name:", "schedule:", "policy:", "product_id:", "on_missing:", "max_delete:", "headers:", "max_size:", "fields:", "heartbeat:", "publish:", "publish_dir:", "memory_limit:", "max_warnings:", "disable:", "enable:"} {
		if !strings.Contains(string(raw), key) {
			t.Errorf("config.example.yaml does not document %s", key)
		}
	}
}

func TestMaxDelete(t *testing.T) {
	cases := []struct {
		spec      string
		n, stored int
		want      bool
	}{
		{"10%", 10, 100, true}, {"10%", 11, 100, false}, {"0%", 1, 100, false}, {"100%", 100, 100, true},
		{"5", 5, 1000, true}, {"5", 6, 1000, false},
	}
	for _, c := range cases {
		m, err := ParseMaxDelete(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Allows(c.n, c.stored); got != c.want {
			t.Errorf("%s allows %d of %d: got %v, want %v", c.spec, c.n, c.stored, got, c.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"4GiB": 4 << 30, "500MB": 500e6, "64 KiB": 64 << 10, "1048576": 1 << 20} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "big", "-1GB", "0"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q): want an error", in)
		}
	}
}
