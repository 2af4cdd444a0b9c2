package main

import (
	"github.com/feedsync/feedsync/internal/realfeeds"

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
	for _, want := range []string{"missing-price", "gtin-check-digit", "duplicate-variants", "hex-color", "Product identifiers › gtin: GS1 check digit <https://support.google.com/merchants/answer/7000891>", "error", "warning", "info"} {
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
	dir := realfeeds.Dir(t)
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

// Two feeds for one catalog: a.xml (RSS) and b.tsv. P-100 is in both; b's
// k1 differs from a's K1 in case only, which is another custom_id; b's group
// G-7 becomes custom_id G-7 under the parent policy, the id of a's item.
const sharedFeedA = `<?xml version="1.0" encoding="UTF-8"?>
<rss xmlns:g="http://base.google.com/ns/1.0" version="2.0"><channel><title>Shop A</title>
<item>
<g:id>K1</g:id><g:title>Steel kettle</g:title><g:description>Boils water fast</g:description>
<g:link>https://a.test/p/k1</g:link><g:image_link>https://a.test/i/k1.jpg</g:image_link>
<g:availability>in_stock</g:availability><g:price>15.00 USD</g:price><g:brand>Acme</g:brand><g:mpn>K1</g:mpn>
</item>
<item>
<g:id>P-100</g:id><g:title>Teapot</g:title><g:description>A glass teapot</g:description>
<g:link>https://a.test/p/p100</g:link><g:image_link>https://a.test/i/p100.jpg</g:image_link>
<g:availability>in_stock</g:availability><g:price>25.00 USD</g:price><g:brand>Acme</g:brand><g:mpn>P100</g:mpn>
</item>
<item>
<g:id>G-7</g:id><g:title>Mug</g:title><g:description>A stoneware mug</g:description>
<g:link>https://a.test/p/g7</g:link><g:image_link>https://a.test/i/g7.jpg</g:image_link>
<g:availability>in_stock</g:availability><g:price>8.00 USD</g:price><g:brand>Acme</g:brand><g:mpn>G7</g:mpn>
</item>
</channel></rss>
`

const sharedFeedB = "id\ttitle\tdescription\tlink\timage_link\tavailability\tprice\tbrand\tmpn\titem_group_id\tcolor\n" +
	"B1\tCup\tA paper cup\thttps://b.test/p/b1\thttps://b.test/i/b1.jpg\tin_stock\t2.00 USD\tBeta\tB1\t\t\n" +
	"P-100\tTeapot\tA glass teapot\thttps://b.test/p/p100\thttps://b.test/i/p100.jpg\tin_stock\t24.00 USD\tBeta\tBP100\t\t\n" +
	"k1\tKettle\tA small kettle\thttps://b.test/p/k1\thttps://b.test/i/k1.jpg\tin_stock\t12.00 USD\tBeta\tBK1\t\t\n" +
	"V1\tBowl red\tA stoneware bowl\thttps://b.test/p/v1\thttps://b.test/i/v1.jpg\tin_stock\t9.00 USD\tBeta\tBV1\tG-7\tRed\n" +
	"V2\tBowl blue\tA stoneware bowl\thttps://b.test/p/v2\thttps://b.test/i/v2.jpg\tin_stock\t9.00 USD\tBeta\tBV2\tG-7\tBlue\n"

func TestLintSharedCustomIDAcrossFeeds(t *testing.T) {
	dir, env := lintFiles(t, map[string]string{"a.xml": sharedFeedA, "b.tsv": sharedFeedB})
	a, b := filepath.Join(dir, "a.xml"), filepath.Join(dir, "b.tsv")

	// Each feed alone is clean, under either policy.
	for _, p := range []string{a, b} {
		for _, policy := range []string{"variant", "parent"} {
			if r := runBinary(t, env, "lint", "--policy", policy, p); r.code != 0 || !strings.Contains(r.stdout, "0 errors, 0 warnings, 0 infos in 1 file") {
				t.Fatalf("%s alone, --policy %s: code %d\n%s", p, policy, r.code, r.stdout)
			}
		}
	}

	// Together, under either policy: P-100 (line 3 of b.tsv) is a's (line 8).
	wantP100 := b + `:3 item "P-100" [id]: custom_id "P-100" is also a product of ` + a + ` (line 8): feeds that share a catalog must not share a custom_id; sync skips this feed's product`
	r := runBinary(t, env, "lint", "--policy", "variant", a, b)
	if r.code != 1 || !strings.Contains(r.stdout, "error shared-custom-id (1):") || !strings.Contains(r.stdout, wantP100) {
		t.Fatalf("variant: code %d; want exit 1 and\n%s\ngot:\n%s\n%s", r.code, wantP100, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, `"k1" is also`) || strings.Contains(r.stdout, `"G-7" is also`) {
		t.Errorf("variant: k1 (a case variant) or G-7 (a group id) reported as shared:\n%s", r.stdout)
	}

	// Under parent, group G-7 (first item V1, line 5) is custom_id G-7, a's item on line 13.
	wantG7 := b + `:5 item "V1" [item_group_id]: custom_id "G-7" (the parent of group "G-7") is also a product of ` + a + ` (line 13)`
	r = runBinary(t, env, "lint", "--policy", "parent", a, b)
	if r.code != 1 || !strings.Contains(r.stdout, "error shared-custom-id (2):") || !strings.Contains(r.stdout, wantP100) || !strings.Contains(r.stdout, wantG7) {
		t.Fatalf("parent: code %d; want exit 1 and\n%s\n%s\ngot:\n%s\n%s", r.code, wantP100, wantG7, r.stdout, r.stderr)
	}

	// JSON: the finding is on the later feed, and names the earlier one.
	r = runBinary(t, env, "lint", "--format", "json", a, b)
	var out struct {
		Findings []struct{ File, Rule, Message, ItemID string } `json:"findings"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != 1 {
		t.Fatalf("json: code %d, %v\n%s", r.code, err, r.stdout)
	}
	var got []string
	for _, f := range out.Findings {
		if f.Rule == "shared-custom-id" {
			got = append(got, f.File+" "+f.Message)
		}
	}
	if len(got) != 1 || !strings.HasPrefix(got[0], b+` custom_id "P-100"`) || !strings.Contains(got[0], a) {
		t.Errorf("json shared-custom-id findings: %q", got)
	}

	// --disable turns it off: the pair is clean again.
	if r := runBinary(t, env, "lint", "--disable", "shared-custom-id", "--policy", "parent", a, b); r.code != 0 {
		t.Errorf("disabled: code %d\n%s", r.code, r.stdout)
	}
}

// TestLintSharedCustomIDAgreesWithSync syncs the same two feeds into one
// catalog: sync skips b's products for exactly the custom_ids lint named.
func TestLintSharedCustomIDAgreesWithSync(t *testing.T) {
	for _, policy := range []string{"variant", "parent"} {
		t.Run(policy, func(t *testing.T) {
			cfg := "state: state.db\nlog: {level: info, format: json}\ncatalog: {kind: file, path: catalog.jsonl}\nfeeds:\n" +
				"  - {name: a, url: a.xml, policy: " + policy + "}\n  - {name: b, url: b.tsv, policy: " + policy + "}\n"
			dir, env := lintFiles(t, map[string]string{"a.xml": sharedFeedA, "b.tsv": sharedFeedB, "feedsync.yaml": cfg})
			r := runBinary(t, env, "lint", "--policy", policy, "--format", "json", filepath.Join(dir, "a.xml"), filepath.Join(dir, "b.tsv"))
			var out struct {
				Findings []struct{ Rule, Message string } `json:"findings"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
				t.Fatalf("lint: %v\n%s", err, r.stdout)
			}
			var linted []string
			for _, f := range out.Findings {
				if f.Rule == "shared-custom-id" {
					id, _, _ := strings.Cut(strings.TrimPrefix(f.Message, `custom_id "`), `"`)
					linted = append(linted, id)
				}
			}
			r = runBinary(t, env, "sync", "-c", filepath.Join(dir, "feedsync.yaml"))
			if r.code != 0 {
				t.Fatalf("sync: code %d\n%s", r.code, r.stderr)
			}
			refused := strings.Count(r.stderr, `belongs to feed \"a\" in this catalog: feed \"b\"'s product is skipped`)
			if refused != len(linted) || len(linted) == 0 {
				t.Fatalf("lint named %q; sync refused %d products:\n%s", linted, refused, r.stderr)
			}
			for _, id := range linted {
				if !strings.Contains(r.stderr, `custom_id \"`+id+`\" belongs to feed \"a\"`) {
					t.Errorf("sync did not refuse %q, which lint reported:\n%s", id, r.stderr)
				}
			}
		})
	}
}
