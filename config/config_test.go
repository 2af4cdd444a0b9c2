package config

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestConfigDefaultsFillEveryFeed(t *testing.T) {
	cfg, err := Parse([]byte("feeds:\n  - {name: shop, url: shop.xml}\n"))
	if err != nil {
		t.Fatal(err)
	}
	f := cfg.Feeds[0]
	if f.Policy != "variant" || f.ProductID != "id" || f.OnMissing != "unavailable" || f.MaxDelete.String() != "10%" || f.Format != "auto" || f.Schedule.Spec != "@hourly" || f.MaxSize != 4<<30 {
		t.Errorf("feed defaults: got %+v", f)
	}
	if cfg.Catalog.Kind != "file" || cfg.Catalog.Mode != "import" || cfg.Catalog.Rate != 10 || cfg.Catalog.Concurrency != 4 || time.Duration(cfg.Catalog.Timeout) != 30*time.Second || cfg.Catalog.Retries != 6 {
		t.Errorf("catalog defaults: got %+v", cfg.Catalog)
	}
	if cfg.State != "./feedsync.db" || cfg.Log.Level != "info" || cfg.Log.Format != "console" || cfg.Metrics.Listen != "127.0.0.1:9464" {
		t.Errorf("top-level defaults: got %+v", cfg)
	}
}

// Every problem at once: a value that cannot be decoded, an unknown key and
// a value that fails validation are reported together, each once.
func TestConfigReportsEveryProblemAtOnce(t *testing.T) {
	_, err := Parse([]byte("feeds: [{name: a, url: x, polcy: parent, schedule: '*/61 * * * *', max_delete: lots, max_size: huge, policy: parents}]\n"))
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a *Error", err)
	}
	for _, want := range []string{"feeds[0].polcy: unknown key", `feeds[0].schedule: "*/61 * * * *"`, `feeds[0].max_delete: "lots"`, `feeds[0].max_size: "huge"`, `feeds[0].policy: "parents"`} {
		if n := strings.Count(err.Error(), want); n != 1 {
			t.Errorf("%q reported %d times in %q", want, n, err)
		}
	}
	if len(ce.Problems) != 5 {
		t.Errorf("%d problems, want 5: %q", len(ce.Problems), ce.Problems)
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
			_, err := Parse([]byte(c.yaml))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *Error", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %q, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestConfigExpandsEnvironment(t *testing.T) {
	t.Setenv("FEEDSYNC_TEST_TOKEN", "s3cret")
	cfg, err := Parse([]byte("feeds:\n  - name: a\n    url: https://feeds.example.com/a.xml\n    headers: {Authorization: \"Bearer ${FEEDSYNC_TEST_TOKEN}\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Feeds[0].Headers["Authorization"]; got != "Bearer s3cret" {
		t.Errorf("got %q, want the expanded token", got)
	}
}

func TestConfigWithoutFeedsServesLintButNotSync(t *testing.T) {
	cfg, err := Parse([]byte("lint: {max_warnings: 3}\n"))
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
	cfg, err := Load(path)
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
	cfg, err := Load(filepath.Join("..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Feeds) == 0 {
		t.Fatal("the example has no feeds")
	}
	raw, _ := os.ReadFile(filepath.Join("..", "config.example.yaml"))
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

// TestParseSizeIsStrict: a size is a positive decimal with an optional unit
// that comes to a whole number of bytes from 1 to 1PiB; anything else is an
// error naming the input.
func TestParseSizeIsStrict(t *testing.T) {
	for in, want := range map[string]int64{
		"1": 1, "1B": 1, " 2 B ": 2, "1.5KiB": 1536, "1.5GB": 15e8, "0.5KB": 500, "0001KiB": 1024,
		"1.000KiB": 1024, "1PiB": 1 << 50, "1125899906842624": 1 << 50, "1PB": 1e15, "4TiB": 4 << 40,
		"0.001KB": 1, "0.0009765625KiB": 1,
	} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for in, why := range map[string]string{
		"NaN": "want a size", "Inf": "want a size", "+Inf": "want a size", "infinity": "want a size",
		"1e30": "want a size", "1e3": "want a size", "1e-3KiB": "want a size", "0x10": "want a size",
		"": "want a size", "  ": "want a size", "-1": "want a size", "+1": "want a size", "1_000": "want a size",
		"1,5MB": "want a size", ".5MB": "want a size", "1.": "want a size", "1.5.1MB": "want a size",
		"4gib": "want a size", "B": "want a size", "1 2": "want a size",
		"0.5B": "not a whole number of bytes", "1.5": "not a whole number of bytes", "0.0001KB": "not a whole number of bytes",
		"0": "at least 1 byte", "0B": "at least 1 byte", "0.0GiB": "at least 1 byte",
		"1125899906842625": "above the largest size", "1.5PiB": "above the largest size", "1.125899906842625PB": "above the largest size",
		"1025TiB": "above the largest size", "99999999999999999999999999": "above the largest size",
	} {
		_, err := ParseSize(in)
		if err == nil {
			t.Errorf("ParseSize(%q): accepted, want an error", in)
			continue
		}
		if q := strconv.Quote(in); !strings.Contains(err.Error(), q) || !strings.Contains(err.Error(), why) {
			t.Errorf("ParseSize(%q): %q; want it to name %s and say %q", in, err, q, why)
		}
	}
}

// TestConfigRejectsBadSizesAndDurationsNamingTheKey: every key read by
// ParseSize or as a Duration refuses a value that earlier versions let
// through (NaN, Inf, fractional bytes, negative or overflowing durations).
func TestConfigRejectsBadSizesAndDurationsNamingTheKey(t *testing.T) {
	feed := func(kv string) string { return "feeds:\n  - {name: a, url: x, " + kv + "}\n" }
	cases := []struct{ name, yaml, want string }{
		{"MaxSizeNaN", feed(`max_size: "NaN"`), `feeds[0].max_size: "NaN": want a size`},
		{"MaxSizeInf", feed(`max_size: "Inf"`), `feeds[0].max_size: "Inf": want a size`},
		{"MaxSizeExponent", feed(`max_size: "1e30"`), `feeds[0].max_size: "1e30": want a size`},
		{"MaxSizeHalfAByte", feed(`max_size: "0.5B"`), `feeds[0].max_size: "0.5B": not a whole number of bytes`},
		{"MaxSizeNegative", feed(`max_size: "-1"`), `feeds[0].max_size: "-1": want a size`},
		{"MaxSizeTinyExponent", feed(`max_size: "1e-3KiB"`), `feeds[0].max_size: "1e-3KiB": want a size`},
		{"MaxSizeHex", feed(`max_size: "0x10"`), `feeds[0].max_size: "0x10": want a size`},
		{"MaxSizeEmpty", feed(`max_size: ""`), `feeds[0].max_size: "": want a size`},
		{"MaxSizeBlank", feed(`max_size: "  "`), `feeds[0].max_size: "  ": want a size`},
		{"MaxSizeHuge", feed(`max_size: 2PiB`), `feeds[0].max_size: "2PiB": above the largest size feedsync accepts (1PiB)`},
		{"MemoryLimitNaN", "memory_limit: NaN\n" + feed("policy: parent"), `memory_limit: "NaN": want a size`},
		{"MemoryLimitFraction", "memory_limit: 1.5\n" + feed("policy: parent"), `memory_limit: "1.5": not a whole number of bytes`},
		{"MemoryLimitEmpty", "memory_limit: ''\n" + feed("policy: parent"), `memory_limit: "": want a size`},
		{"TimeoutNegative", feed("timeout: -5s"), `feeds[0].timeout: "-5s": a duration cannot be negative`},
		{"TimeoutNegativeZero", feed("timeout: -0s"), `feeds[0].timeout: "-0s": a duration cannot be negative`},
		{"TimeoutOverflow", feed("timeout: 9999999999h"), `feeds[0].timeout: "9999999999h": above the longest duration feedsync accepts (168h)`},
		{"TimeoutAboveAWeek", feed("timeout: 169h"), `feeds[0].timeout: "169h": above the longest duration`},
		{"TimeoutEmpty", feed(`timeout: ""`), `feeds[0].timeout: "": want a duration`},
		{"TimeoutNaN", feed("timeout: NaN"), `feeds[0].timeout: "NaN": want a duration`},
		{"TimeoutExponent", feed("timeout: 1e3s"), `feeds[0].timeout: "1e3s": want a duration`},
		{"TimeoutBelowANanosecond", feed("timeout: 0.5ns"), `feeds[0].timeout: "0.5ns": shorter than a nanosecond`},
		{"TimeoutMapping", feed("timeout: {s: 1}"), `feeds[0].timeout: want a duration such as 30s or 5m, got a mapping`},
		{"GraceNegative", "run: {grace: -1m}\n" + feed("policy: parent"), `run.grace: "-1m": a duration cannot be negative`},
		{"CatalogTimeoutOverflow", "catalog: {timeout: 9223372036854775808ns}\n" + feed("policy: parent"), `catalog.timeout: "9223372036854775808ns": above the longest duration`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.yaml))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *Error", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %q, want it to contain %q", err, c.want)
			}
		})
	}
	t.Run("GoodValuesStillParse", func(t *testing.T) {
		cfg, err := Parse([]byte("memory_limit: 0\nrun: {grace: 0}\ncatalog: {timeout: 1h30m}\n" + feed("max_size: 1.5GB, timeout: 168h")))
		if err != nil {
			t.Fatal(err)
		}
		if time.Duration(cfg.Catalog.Timeout) != 90*time.Minute || time.Duration(cfg.Feeds[0].Timeout) != MaxDuration || cfg.Run.Grace != 0 {
			t.Errorf("durations: catalog %s, feed %s, grace %s", time.Duration(cfg.Catalog.Timeout), time.Duration(cfg.Feeds[0].Timeout), time.Duration(cfg.Run.Grace))
		}
		if n := cfg.Feeds[0].MaxSize; n != 15e8 {
			t.Errorf("max_size: %d", n)
		}
	})
}

// An orders entry's mistakes name their keys.
func TestOrdersConfigErrorsNameTheKey(t *testing.T) {
	good := "feeds: [{name: shop, url: x}]\norders:\n  - {name: o, url: o.csv, columns: {order_id: Id, status: Status, email: Mail, line_product: SKU}, stages: woocommerce, products_from: shop}\n"
	if _, err := Parse([]byte(good)); err != nil {
		t.Fatalf("a good orders entry: %v", err)
	}
	cases := map[string]string{
		"feeds: [{name: shop, url: x}]\norders: [{name: shop, url: o.csv, columns: {order_id: Id, status: S, email: M, line_product: SKU}}]\n":                                                           `orders[0].name: "shop": already used by feeds[0]`,
		"feeds: [{name: shop, url: x}]\norders: [{name: o, url: o.csv, columns: {status: S, email: M, line_product: SKU}}]\n":                                                                            "orders[0].columns.order_id",
		"feeds: [{name: shop, url: x}]\norders: [{name: o, url: o.csv, columns: {order_id: Id, status: S, email: M, line_product: SKU}, stages: prestashop}]\n":                                          "orders[0].stages",
		"feeds: [{name: shop, url: x}]\norders: [{name: o, url: o.csv, columns: {order_id: Id, status: S, email: M, line_product: SKU}, products_from: nosuch}]\n":                                       `orders[0].products_from: "nosuch": no such feed`,
		"feeds: [{name: shop, url: x}]\norders: [{name: o, url: o.csv, columns: {order_id: Id, status: S, email: M, line_product: SKU}, user_id: phone}]\n":                                              "orders[0].user_id",
		"feeds: [{name: shop, url: x}]\norders: [{name: o, url: o.csv, columns: {order_id: Id, status: S, email: M, line_product: SKU}, stages: {preset: woocommerce, statuses: {on-hold: nowhere}}}]\n": "orders[0].stages",
	}
	for yaml, want := range cases {
		_, err := Parse([]byte(yaml))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want it to name %q", yaml, err, want)
		}
	}
}

// memory_limit takes auto (the default), 0 and sizes.
func TestMemoryLimitValues(t *testing.T) {
	if d := Defaults(); d.MemoryLimit != "auto" {
		t.Errorf("default memory_limit %q, want auto", d.MemoryLimit)
	}
	for _, v := range []string{"auto", "0", "512MiB"} {
		if _, err := Parse([]byte("memory_limit: " + v + "\nfeeds:\n  - {name: shop, url: shop.xml}\n")); err != nil {
			t.Errorf("memory_limit %s: %v", v, err)
		}
	}
}
