package main

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const lintCleanFeed = `<?xml version="1.0" encoding="UTF-8"?>
<rss xmlns:g="http://base.google.com/ns/1.0" version="2.0"><channel><title>Shop</title>
<item>
<g:id>K1</g:id><g:title>Steel kettle</g:title><g:description>Boils water fast</g:description>
<g:link>https://shop.test/p/k1</g:link><g:image_link>https://shop.test/i/k1.jpg</g:image_link>
<g:availability>in_stock</g:availability><g:price>15.00 USD</g:price><g:brand>Acme</g:brand>
<g:gtin>4006381333931</g:gtin><g:condition>new</g:condition>
</item>
</channel></rss>
`

// lintFiles writes feeds into a temp dir and returns the dir and an
// environment in which no config file is found by default.
func lintFiles(t *testing.T, files map[string]string) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, []string{"FEEDSYNC_CONFIG=" + filepath.Join(dir, "no-config.yaml"), "NO_COLOR=1"}
}

func TestLintExitCodes(t *testing.T) {
	noBrand := strings.Replace(lintCleanFeed, "<g:brand>Acme</g:brand>", "", 1)
	noCurrency := strings.Replace(lintCleanFeed, "15.00 USD", "15.00", 1)
	broken := strings.Replace(noBrand, "</item>", "</item>\n<item><g:id>K2</g:id><g:title>Salt & pepper</g:title></item>", 1)
	dir, env := lintFiles(t, map[string]string{"clean.xml": lintCleanFeed, "warn.xml": noBrand, "error.xml": noCurrency, "broken.xml": broken})
	p := func(name string) string { return filepath.Join(dir, name) }

	t.Run("CleanExits0", func(t *testing.T) {
		r := runBinary(t, env, "lint", p("clean.xml"))
		if r.code != 0 || !strings.Contains(r.stdout, "0 errors, 0 warnings, 0 infos in 1 file (1 item)") {
			t.Fatalf("code %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("WarningsExit0", func(t *testing.T) {
		r := runBinary(t, env, "lint", p("warn.xml"))
		if r.code != 0 || !strings.Contains(r.stdout, "missing-brand") {
			t.Fatalf("code %d\n%s", r.code, r.stdout)
		}
	})
	t.Run("WarningsAboveMaxExit1", func(t *testing.T) {
		r := runBinary(t, env, "lint", "--max-warnings", "0", p("warn.xml"))
		if r.code != 1 || !strings.Contains(r.stderr, "more than --max-warnings 0") {
			t.Fatalf("code %d\nstderr: %s", r.code, r.stderr)
		}
	})
	t.Run("ErrorsExit1", func(t *testing.T) {
		r := runBinary(t, env, "lint", p("clean.xml"), p("error.xml"))
		if r.code != 1 || !strings.Contains(r.stdout, "price-format") || !strings.Contains(r.stdout, "in 2 files (2 items)") {
			t.Fatalf("code %d\n%s", r.code, r.stdout)
		}
	})
	t.Run("DisabledErrorExits0", func(t *testing.T) {
		r := runBinary(t, env, "lint", "--disable", "price-format", p("error.xml"))
		if r.code != 0 {
			t.Fatalf("code %d\n%s", r.code, r.stdout)
		}
	})
	t.Run("MissingFileExits2", func(t *testing.T) {
		r := runBinary(t, env, "lint", "--format", "json", p("clean.xml"), p("nope.xml"))
		if r.code != 2 {
			t.Fatalf("code %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		var out struct {
			Summary  struct{ Items int }
			Findings []struct{ File, Rule string }
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("%v\n%s", err, r.stdout)
		}
		if out.Summary.Items != 1 || len(out.Findings) != 1 || out.Findings[0].Rule != "unreadable" || out.Findings[0].File != p("nope.xml") {
			t.Fatalf("got %+v", out)
		}
	})
	t.Run("MalformedXMLExits2WithWhatCameBefore", func(t *testing.T) {
		r := runBinary(t, env, "lint", p("broken.xml"))
		if r.code != 2 || !strings.Contains(r.stdout, "parse-error") || !strings.Contains(r.stdout, "missing-brand") {
			t.Fatalf("code %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("UnknownRuleExits2", func(t *testing.T) {
		r := runBinary(t, env, "lint", "--disable", "no-such-rule", p("clean.xml"))
		if r.code != 2 || !strings.Contains(r.stderr, "no-such-rule") {
			t.Fatalf("code %d\n%s", r.code, r.stderr)
		}
	})
	t.Run("BadFormatExits2", func(t *testing.T) {
		if r := runBinary(t, env, "lint", "--format", "xml", p("clean.xml")); r.code != 2 {
			t.Fatalf("code %d", r.code)
		}
	})
}

func TestLintGitHubFormat(t *testing.T) {
	feed := strings.Replace(lintCleanFeed, "15.00 USD", "15.00", 1)
	feed = strings.Replace(feed, "<g:brand>Acme</g:brand>", "", 1)
	dir, env := lintFiles(t, map[string]string{"shop.xml": feed})
	path := filepath.Join(dir, "shop.xml")
	r := runBinary(t, env, "lint", "--format", "github", path)
	if r.code != 1 {
		t.Fatalf("code %d\n%s", r.code, r.stdout)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	wantErr := "::error file=" + ghProperty(path) + ",line=3,title=price-format::item \"K1\": price \"15.00\" has no currency"
	wantWarn := "::warning file=" + ghProperty(path) + ",line=3,title=missing-brand::item \"K1\": the item has no brand"
	if len(lines) != 3 || !strings.HasPrefix(lines[1], wantErr) || lines[0] != wantWarn {
		t.Fatalf("got:\n%s\nwant lines:\n%s\n%s", r.stdout, wantWarn, wantErr)
	}
}

// ghProperty mirrors lint's escaping of workflow command properties.
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

func TestLintSARIFAndJUnit(t *testing.T) {
	feed := strings.Replace(lintCleanFeed, "4006381333931", "4006381333932", 1)
	dir, env := lintFiles(t, map[string]string{"shop.xml": feed})
	path := filepath.Join(dir, "shop.xml")
	r := runBinary(t, env, "lint", "--format", "sarif", path)
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				RuleID string `json:"ruleId"`
				Level  string `json:"level"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &log); err != nil || r.code != 1 {
		t.Fatalf("code %d, %v\n%s", r.code, err, r.stdout)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || len(log.Runs[0].Results) != 1 || log.Runs[0].Results[0].RuleID != "gtin-check-digit" || log.Runs[0].Results[0].Level != "error" {
		t.Fatalf("got %+v", log)
	}
	r = runBinary(t, env, "lint", "--format", "junit", path)
	var suites struct {
		Failures int `xml:"failures,attr"`
	}
	if err := xml.Unmarshal([]byte(r.stdout), &suites); err != nil || suites.Failures != 1 || r.code != 1 {
		t.Fatalf("code %d, %v, failures %d\n%s", r.code, err, suites.Failures, r.stdout)
	}
}

func TestLintConfigSectionAndFlagsOverride(t *testing.T) {
	feed := strings.Replace(lintCleanFeed, "<g:brand>Acme</g:brand>", "", 1)
	feed = strings.Replace(feed, "15.00 USD", "15.00", 1)
	cfg := "feeds:\n  - {name: shop, url: shop.xml}\nlint:\n  disable: [price-format]\n  max_warnings: 0\n"
	dir, env := lintFiles(t, map[string]string{"shop.xml": feed, "feedsync.yaml": cfg})
	path, cfgPath := filepath.Join(dir, "shop.xml"), filepath.Join(dir, "feedsync.yaml")

	// The config turns price-format off but allows no warnings: missing-brand fails.
	r := runBinary(t, env, "lint", "-c", cfgPath, path)
	if r.code != 1 || strings.Contains(r.stdout, "price-format") || !strings.Contains(r.stderr, "max-warnings 0") {
		t.Fatalf("config: code %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// Flags override it.
	r = runBinary(t, env, "lint", "-c", cfgPath, "--max-warnings", "5", path)
	if r.code != 0 {
		t.Fatalf("--max-warnings 5: code %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = runBinary(t, env, "lint", "-c", cfgPath, "--max-warnings", "5", "--enable", "price-format", path)
	if r.code != 1 || !strings.Contains(r.stdout, "price-format") {
		t.Fatalf("--enable price-format: code %d\n%s", r.code, r.stdout)
	}
	// $FEEDSYNC_CONFIG is read without -c.
	r = runBinary(t, []string{"FEEDSYNC_CONFIG=" + cfgPath}, "lint", path)
	if r.code != 1 || strings.Contains(r.stdout, "price-format") {
		t.Fatalf("FEEDSYNC_CONFIG: code %d\n%s", r.code, r.stdout)
	}
	// A -c that does not exist is a usage error.
	if r = runBinary(t, env, "lint", "-c", filepath.Join(dir, "missing.yaml"), path); r.code != 2 {
		t.Fatalf("missing -c: code %d", r.code)
	}
}

func TestLintRulesList(t *testing.T) {
	r := runBinary(t, nil, "lint", "--rules")
	if r.code != 0 {
		t.Fatalf("code %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"missing-price", "gtin-check-digit", "duplicate-variants", "hex-color", "§4.3 G02 [V] 7000891", "error", "warning", "info"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--rules output lacks %q", want)
		}
	}
	r = runBinary(t, nil, "lint", "--rules", "--format", "json")
	var rules []struct{ Code, Severity, Source string }
	if err := json.Unmarshal([]byte(r.stdout), &rules); err != nil || len(rules) < 40 {
		t.Fatalf("json rules: %v, %d rules", err, len(rules))
	}
}

func TestLintRealFeedsThroughTheBinary(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "realfeeds")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("real feeds not available: %v", err)
	}
	_, env := lintFiles(t, nil)
	r := runBinary(t, env, "lint", "--policy", "variant", "--format", "github", filepath.Join(dir, "samsung-kz_atom_variants_trimmed.xml"))
	if r.code != 1 || !strings.Contains(r.stdout, "title=duplicate-variants::") || !strings.Contains(r.stdout, "VG-SCLB00") {
		t.Fatalf("samsung: code %d\n%.2000s", r.code, r.stdout)
	}
	r = runBinary(t, env, "lint", filepath.Join(dir, "podrazdenacica-cz_rss_multishipping.xml"))
	if r.code != 0 {
		t.Fatalf("podrazdenacica: code %d\n%s", r.code, r.stdout)
	}
}

func TestLintURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/feed.xml" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		_, _ = io.WriteString(w, strings.Replace(lintCleanFeed, "15.00 USD", "15.00", 1))
	}))
	defer srv.Close()
	_, env := lintFiles(t, nil)
	r := runBinary(t, env, "lint", "--format", "github", srv.URL+"/feed.xml")
	if r.code != 1 || !strings.Contains(r.stdout, "title=price-format::") {
		t.Fatalf("code %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = runBinary(t, env, "lint", srv.URL+"/gone.xml")
	if r.code != 2 || !strings.Contains(r.stdout, "unreadable") || !strings.Contains(r.stdout, "404") {
		t.Fatalf("404: code %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}
