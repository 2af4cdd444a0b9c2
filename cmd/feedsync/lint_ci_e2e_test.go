package main

// Lint in CI (issue #17, items 9–13), through the real binary: the config's
// lint: section alone, JUnit that fails only on what fails the run, several
// reports from one pass with a cap per rule, SARIF that the official schema
// accepts with a real version and clean URIs, and --rules in every format.

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

const (
	sarifSchemaFile = "../../lint/testdata/sarif-2.1.0.json"
	junitSchemaFile = "../../lint/testdata/jenkins-junit.xsd"
)

// runBinaryIn is runBinary in another working directory.
func runBinaryIn(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	return runBinaryAt(t, binary, dir, env, args...)
}

func runBinaryAt(t *testing.T, bin, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
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

// lintNoBrand is lintCleanFeed without a brand: one missing-brand warning.
var lintNoBrand = strings.Replace(lintCleanFeed, "<g:brand>Acme</g:brand>", "", 1)

// lintManyNoBrand is a feed of n items without brand (and distinct GTIN-less
// identifiers): n missing-brand warnings and nothing else.
func lintManyNoBrand(n int) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<rss xmlns:g="http://base.google.com/ns/1.0" version="2.0"><channel><title>Shop</title>` + "\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "<item><g:id>K%d</g:id><g:title>Kettle %d</g:title><g:description>Boils water</g:description>"+
			"<g:link>https://shop.test/p/k%d</g:link><g:image_link>https://shop.test/i/k%d.jpg</g:image_link>"+
			"<g:availability>in_stock</g:availability><g:price>15.00 USD</g:price><g:mpn>M%d</g:mpn><g:condition>new</g:condition></item>\n", i, i, i, i, i)
	}
	b.WriteString("</channel></rss>\n")
	return b.String()
}

// Item 9: lint reads the lint: section of ./feedsync.yaml (or -c) and only
// that: a ${VAR} of another section, unset where lint runs, is no error.
func TestLintConfigReadsOnlyTheLintSection(t *testing.T) {
	const unsetToken, unsetHost = "FEEDSYNC_E2E_UNSET_TOKEN", "FEEDSYNC_E2E_UNSET_HOST"
	os.Unsetenv(unsetToken)
	os.Unsetenv(unsetHost)
	feed := strings.Replace(lintNoBrand, "15.00 USD", "15.00", 1) // + a price-format error
	cfg := `state: state.db
catalog:
  kind: usercom
  url: https://${` + unsetHost + `}.user.com
  token_env: ` + unsetToken + `
feeds:
  - name: shop
    url: https://${` + unsetHost + `}/feed.xml
    headers: {Authorization: "Bearer ${` + unsetToken + `}"}
lint:
  disable: [price-format]
  max_warnings: 0
`
	dir, _ := lintFiles(t, map[string]string{"shop.xml": feed, "feedsync.yaml": cfg})
	env := []string{"FEEDSYNC_CONFIG=", "NO_COLOR=1"}

	check := func(name string, r result) {
		t.Helper()
		// The section applies: price-format is off, and the one warning is
		// more than max_warnings 0.
		if r.code != 1 || strings.Contains(r.stdout, "price-format") || !strings.Contains(r.stdout, "missing-brand") || !strings.Contains(r.stderr, "more than --max-warnings 0") {
			t.Errorf("%s: code %d, want 1 with the lint: section applied\nstdout:\n%s\nstderr:\n%s", name, r.code, r.stdout, r.stderr)
		}
		if strings.Contains(r.stderr, "is not set") {
			t.Errorf("%s: lint complained of another section's variable: %s", name, r.stderr)
		}
	}
	check("./feedsync.yaml", runBinaryIn(t, dir, env, "lint", "shop.xml"))
	check("-c", runBinaryIn(t, t.TempDir(), env, "lint", "-c", filepath.Join(dir, "feedsync.yaml"), filepath.Join(dir, "shop.xml")))
	// The commands that sync still refuse the unset variables.
	if r := runBinaryIn(t, dir, env, "plan"); r.code != 2 || !strings.Contains(r.stderr, unsetHost+" is not set") {
		t.Errorf("plan: code %d, want 2 naming %s\n%s", r.code, unsetHost, r.stderr)
	}

	// The lint: section itself is checked as config.Load checks it: an
	// unknown key, an unset variable in it, a bad value are exit 2.
	for _, c := range []struct{ name, lint, want string }{
		{"UnknownKey", "lint: {disable: [price-format], max_warning: 0}\n", "lint.max_warning: unknown key (known: disable, enable, max_warnings)"},
		{"UnsetVariable", "lint: {max_warnings: '${" + unsetToken + "}'}\n", "lint.max_warnings: environment variable " + unsetToken + " is not set"},
		{"BadValue", "lint: {max_warnings: lots}\n", `lint.max_warnings: "lots": want a whole number`},
		{"MisspeltSection", "lnit: {max_warnings: 0}\n", "lnit: unknown key"},
		{"UnknownRule", "lint: {disable: [no-such-rule]}\n", `unknown rule code "no-such-rule"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, _ := lintFiles(t, map[string]string{"shop.xml": lintCleanFeed, "feedsync.yaml": "catalog: {kind: usercom, url: 'https://${" + unsetHost + "}.user.com'}\n" + c.lint})
			r := runBinaryIn(t, d, env, "lint", "shop.xml")
			if r.code != 2 || !strings.Contains(r.stderr, c.want) {
				t.Errorf("code %d, want 2 and %q\nstderr: %s", r.code, c.want, r.stderr)
			}
		})
	}
}

// junitDoc is what the tests read of a JUnit report.
type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Failures int      `xml:"failures,attr"`
	Suites   []struct {
		Name       string `xml:"name,attr"`
		Tests      string `xml:"tests,attr"`
		Failures   int    `xml:"failures,attr"`
		Properties []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
		Cases []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Type    string `xml:"type,attr"`
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			SystemOut string `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// checkJUnit validates a JUnit report: against the Jenkins schema with
// xmllint when it is installed, and always with Go checks of the structure
// the schema requires (element order, required attributes, counts).
func checkJUnit(t *testing.T, raw string) junitDoc {
	t.Helper()
	var doc junitDoc
	if err := xml.Unmarshal([]byte(raw), &doc); err != nil {
		t.Fatalf("JUnit: %v\n%s", err, raw)
	}
	if len(doc.Suites) != 1 || doc.Suites[0].Name == "" || doc.Suites[0].Tests != fmt.Sprint(len(doc.Suites[0].Cases)) {
		t.Fatalf("JUnit: want one named testsuite whose tests attribute counts its testcases:\n%.2000s", raw)
	}
	failed := 0
	for _, c := range doc.Suites[0].Cases {
		if c.Name == "" {
			t.Error("JUnit: a testcase without a name")
		}
		if c.Failure != nil {
			failed++
		}
	}
	if doc.Failures != failed || doc.Suites[0].Failures != failed {
		t.Errorf("JUnit: failures %d/%d, %d failing testcases", doc.Failures, doc.Suites[0].Failures, failed)
	}
	// Order within elements, as the schema's sequences say: properties
	// before testcases; in a testcase, failure before system-out.
	order := regexp.MustCompile(`(?s)<testcase [^>]*>\s*<system-out>.*?</system-out>\s*<failure|<testcase.*<properties>`)
	if order.MatchString(raw) {
		t.Errorf("JUnit: elements out of the schema's order:\n%.2000s", raw)
	}
	if bin, err := exec.LookPath("xmllint"); err == nil {
		f := filepath.Join(t.TempDir(), "junit.xml")
		if err := os.WriteFile(f, []byte(raw), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(bin, "--noout", "--schema", junitSchemaFile, f).CombinedOutput(); err != nil {
			t.Errorf("xmllint --schema %s: %v\n%s", junitSchemaFile, err, out)
		}
	} else {
		t.Logf("xmllint is not installed (Debian: libxml2-utils): JUnit checked structurally, not against %s", junitSchemaFile)
	}
	return doc
}

func junitCase(doc junitDoc, name string) (failure *struct {
	Type    string `xml:"type,attr"`
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}, out string) {
	for _, c := range doc.Suites[0].Cases {
		if c.Name == name {
			return c.Failure, c.SystemOut
		}
	}
	return nil, ""
}

// Item 10: JUnit fails only on what fails the run.
func TestLintJUnitFailsOnlyWhatFailsTheRun(t *testing.T) {
	errFeed := strings.Replace(lintNoBrand, "15.00 USD", "15.00", 1)
	dir, env := lintFiles(t, map[string]string{"warn.xml": lintNoBrand, "error.xml": errFeed})
	warn, errPath := filepath.Join(dir, "warn.xml"), filepath.Join(dir, "error.xml")

	// A warning within the limit: exit 0, and no failure in JUnit either.
	r := runBinary(t, env, "lint", "--format", "junit", warn)
	doc := checkJUnit(t, r.stdout)
	f, out := junitCase(doc, "missing-brand")
	if r.code != 0 || doc.Failures != 0 || f != nil || !strings.Contains(out, "1 warning") || !strings.Contains(out, "the item has no brand") {
		t.Errorf("warnings within the limit: code %d, failures %d, missing-brand failure %v, system-out %q\n%s", r.code, doc.Failures, f, out, r.stdout)
	}
	// More warnings than --max-warnings: the run fails, and so do they.
	r = runBinary(t, env, "lint", "--format", "junit", "--max-warnings", "0", warn)
	doc = checkJUnit(t, r.stdout)
	if f, _ := junitCase(doc, "missing-brand"); r.code != 1 || doc.Failures != 1 || f == nil || f.Type != "warning" || !strings.Contains(f.Message, "--max-warnings") {
		t.Errorf("--max-warnings 0: code %d, failures %d, failure %+v", r.code, doc.Failures, f)
	}
	// An error fails; a warning beside it within the limit does not.
	r = runBinary(t, env, "lint", "--format", "junit", errPath)
	doc = checkJUnit(t, r.stdout)
	ef, _ := junitCase(doc, "price-format")
	wf, wout := junitCase(doc, "missing-brand")
	if r.code != 1 || doc.Failures != 1 || ef == nil || ef.Type != "error" || wf != nil || !strings.Contains(wout, "the item has no brand") {
		t.Errorf("error feed: code %d, failures %d, price-format %+v, missing-brand %+v %q", r.code, doc.Failures, ef, wf, wout)
	}
	// The config's max_warnings counts as the flag does.
	cdir, cenv := lintFiles(t, map[string]string{"warn.xml": lintNoBrand, "feedsync.yaml": "lint: {max_warnings: 0}\n"})
	r = runBinary(t, cenv, "lint", "--format", "junit", "-c", filepath.Join(cdir, "feedsync.yaml"), filepath.Join(cdir, "warn.xml"))
	if doc = checkJUnit(t, r.stdout); r.code != 1 || doc.Failures != 1 {
		t.Errorf("lint.max_warnings 0: code %d, failures %d", r.code, doc.Failures)
	}
}

// countingServer serves feed at /feed.xml and counts the requests.
func countingServer(t *testing.T, feed string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/xml")
		_, _ = io.WriteString(w, feed)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

type sarifDoc struct {
	Runs []struct {
		Tool struct {
			Driver struct {
				Version         string `json:"version"`
				SemanticVersion string `json:"semanticVersion"`
				Rules           []struct{ ID, Name string }
			} `json:"driver"`
		} `json:"tool"`
		OriginalURIBaseIDs map[string]struct {
			URI string `json:"uri"`
		} `json:"originalUriBaseIds"`
		Artifacts []struct {
			Location struct {
				URI       string `json:"uri"`
				URIBaseID string `json:"uriBaseId"`
			} `json:"location"`
		} `json:"artifacts"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI       string `json:"uri"`
						URIBaseID string `json:"uriBaseId"`
					} `json:"artifactLocation"`
					Region struct {
						StartLine int `json:"startLine"`
					} `json:"region"`
				} `json:"physicalLocation"`
			} `json:"locations"`
		} `json:"results"`
		Properties struct {
			Counts []struct {
				Rule    string `json:"rule"`
				Count   int    `json:"count"`
				Omitted int    `json:"omitted"`
			} `json:"counts"`
		} `json:"properties"`
	} `json:"runs"`
}

// checkSARIF validates a log against the official SARIF 2.1.0 schema and
// decodes it.
func checkSARIF(t *testing.T, raw []byte) sarifDoc {
	t.Helper()
	f, err := os.Open(sarifSchemaFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	schemaDoc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("sarif-2.1.0.json", schemaDoc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("sarif-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("SARIF: %v\n%.2000s", err, raw)
	}
	if err := schema.Validate(inst); err != nil {
		t.Errorf("SARIF is not valid against %s: %v", sarifSchemaFile, err)
	}
	var doc sarifDoc
	if err := json.Unmarshal(raw, &doc); err != nil || len(doc.Runs) != 1 {
		t.Fatalf("SARIF: %v, %d runs", err, len(doc.Runs))
	}
	return doc
}

type jsonDoc struct {
	Counts []struct {
		Rule    string `json:"rule"`
		Count   int    `json:"count"`
		Omitted int    `json:"omitted"`
	} `json:"counts"`
	Findings []struct {
		Rule string `json:"rule"`
		Line int    `json:"line"`
	} `json:"findings"`
}

// Item 11: one run, several reports of the same findings, from one lint
// pass; --max-per-rule caps each rule's findings and counts the rest.
func TestLintSeveralReportsFromOnePass(t *testing.T) {
	feed := strings.Replace(lintManyNoBrand(3), "<g:price>15.00 USD</g:price>", "<g:price>15.00</g:price>", 1)
	srv, requests := countingServer(t, feed)
	dir := t.TempDir()
	_, env := lintFiles(t, nil)
	sarifPath, junitPath, jsonPath := filepath.Join(dir, "out.sarif"), filepath.Join(dir, "out.xml"), filepath.Join(dir, "out.json")

	r := runBinary(t, env, "lint", "--format", "github", "--sarif", sarifPath, "--junit", junitPath, "--json", jsonPath, srv.URL+"/feed.xml")
	if r.code != 1 || requests.Load() != 1 {
		t.Fatalf("code %d (want 1), %d fetches of the feed (want one lint pass)\n%s\n%s", r.code, requests.Load(), r.stdout, r.stderr)
	}
	// The same findings in each: rule and line.
	var gh []string
	for _, line := range strings.Split(r.stdout, "\n") {
		if m := regexp.MustCompile(`^::(?:error|warning|notice) file=[^,]*,line=(\d+),title=([a-z0-9-]+)::`).FindStringSubmatch(line); m != nil {
			gh = append(gh, m[2]+":"+m[1])
		}
	}
	rawSARIF, err := os.ReadFile(sarifPath)
	if err != nil {
		t.Fatal(err)
	}
	var fromSARIF []string
	for _, res := range checkSARIF(t, rawSARIF).Runs[0].Results {
		fromSARIF = append(fromSARIF, fmt.Sprintf("%s:%d", res.RuleID, res.Locations[0].PhysicalLocation.Region.StartLine))
	}
	rawJSON, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var js jsonDoc
	if err := json.Unmarshal(rawJSON, &js); err != nil {
		t.Fatal(err)
	}
	var fromJSON []string
	for _, f := range js.Findings {
		fromJSON = append(fromJSON, fmt.Sprintf("%s:%d", f.Rule, f.Line))
	}
	if len(gh) != 4 || fmt.Sprint(gh) != fmt.Sprint(fromSARIF) || fmt.Sprint(gh) != fmt.Sprint(fromJSON) {
		t.Errorf("findings differ between reports:\ngithub %v\nsarif  %v\njson   %v", gh, fromSARIF, fromJSON)
	}
	rawJUnit, err := os.ReadFile(junitPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := checkJUnit(t, string(rawJUnit))
	if f, _ := junitCase(doc, "price-format"); f == nil || doc.Failures != 1 {
		t.Errorf("JUnit file: failures %d, price-format %+v", doc.Failures, f)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 3 {
		t.Errorf("%d files in the report directory, want the 3 reports and no temporary file left", len(entries))
	}

	// Bad report paths are usage errors, before the feed is read.
	before := requests.Load()
	for _, args := range [][]string{
		{"--sarif", filepath.Join(dir, "no-such-dir", "out.sarif")},
		{"--junit", "-"},
		{"--json", ""},
		{"--sarif", dir},
		{"--sarif", sarifPath, "--junit", sarifPath},
		{"--max-per-rule", "0"},
	} {
		r := runBinary(t, env, append(append([]string{"lint"}, args...), srv.URL+"/feed.xml")...)
		if r.code != 2 || !strings.Contains(r.stderr, args[0]) {
			t.Errorf("%q: code %d, want 2 naming %s\n%s", args, r.code, args[0], r.stderr)
		}
	}
	if requests.Load() != before {
		t.Errorf("the feed was fetched %d times for runs that could not write their reports", requests.Load()-before)
	}
}

func TestLintMaxPerRule(t *testing.T) {
	dir, env := lintFiles(t, map[string]string{"many.xml": lintManyNoBrand(7)})
	path := filepath.Join(dir, "many.xml")

	// Without the flag every finding is shown, as before.
	r := runBinary(t, env, "lint", path)
	if r.code != 0 || strings.Count(r.stdout, "the item has no brand") != 7 || strings.Contains(r.stdout, "more") {
		t.Fatalf("no cap: code %d\n%s", r.code, r.stdout)
	}
	r = runBinary(t, env, "lint", "--max-per-rule", "2", path)
	if r.code != 0 || strings.Count(r.stdout, "the item has no brand") != 2 || !strings.Contains(r.stdout, "… and 5 more") || !strings.Contains(r.stdout, "missing-brand (7)") {
		t.Errorf("text, --max-per-rule 2: code %d\n%s", r.code, r.stdout)
	}
	r = runBinary(t, env, "lint", "--max-per-rule", "2", "--format", "json", path)
	var js jsonDoc
	if err := json.Unmarshal([]byte(r.stdout), &js); err != nil {
		t.Fatal(err)
	}
	if len(js.Findings) != 2 || len(js.Counts) != 1 || js.Counts[0].Count != 7 || js.Counts[0].Omitted != 5 {
		t.Errorf("json, --max-per-rule 2: %+v", js)
	}
	r = runBinary(t, env, "lint", "--max-per-rule", "2", "--format", "sarif", path)
	run := checkSARIF(t, []byte(r.stdout)).Runs[0]
	if len(run.Results) != 2 || len(run.Properties.Counts) != 1 || run.Properties.Counts[0].Count != 7 || run.Properties.Counts[0].Omitted != 5 {
		t.Errorf("sarif, --max-per-rule 2: %d results, counts %+v", len(run.Results), run.Properties.Counts)
	}
	// The cap does not change what fails the run: 7 warnings are counted.
	if r := runBinary(t, env, "lint", "--max-per-rule", "2", "--max-warnings", "6", path); r.code != 1 || !strings.Contains(r.stderr, "7 warnings") {
		t.Errorf("--max-warnings 6 with a cap of 2: code %d\n%s", r.code, r.stderr)
	}
}

var semver = regexp.MustCompile(`^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

// Item 12: SARIF that the official schema accepts, with the binary's real
// version, rule names and ids that differ by more than case, and artifact
// URIs without dot segments.
func TestLintSARIFSchemaVersionAndURIs(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"feeds", "work"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "feeds", "x.xml"), []byte(lintNoBrand), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"FEEDSYNC_CONFIG=" + filepath.Join(dir, "no-config.yaml")}

	// From work/: ../feeds/x.xml is outside the working directory.
	r := runBinaryIn(t, filepath.Join(dir, "work"), env, "lint", "--format", "sarif", "../feeds/x.xml")
	run := checkSARIF(t, []byte(r.stdout)).Runs[0]
	want := "file://" + filepath.ToSlash(filepath.Join(dir, "feeds", "x.xml"))
	if r.code != 0 || len(run.Results) != 1 || run.Results[0].Locations[0].PhysicalLocation.ArtifactLocation.URI != want || run.Artifacts[0].Location.URI != want {
		t.Errorf("../feeds/x.xml: code %d, want the URI %s\n%s", r.code, want, r.stdout)
	}
	// From the top: feeds/../feeds/./x.xml is feeds/x.xml below %SRCROOT%.
	r = runBinaryIn(t, dir, env, "lint", "--format", "sarif", "feeds/../feeds/./x.xml")
	run = checkSARIF(t, []byte(r.stdout)).Runs[0]
	loc := run.Results[0].Locations[0].PhysicalLocation.ArtifactLocation
	if loc.URI != "feeds/x.xml" || loc.URIBaseID != "%SRCROOT%" || run.OriginalURIBaseIDs["%SRCROOT%"].URI != "file://"+filepath.ToSlash(dir)+"/" {
		t.Errorf("feeds/../feeds/./x.xml: location %+v, base %+v", loc, run.OriginalURIBaseIDs)
	}
	uris := []string{loc.URI}
	for _, a := range run.Artifacts {
		uris = append(uris, a.Location.URI)
	}
	for _, uri := range uris {
		u, err := url.Parse(uri)
		if err != nil || strings.Contains("/"+u.Path+"/", "/../") || strings.Contains("/"+u.Path+"/", "/./") {
			t.Errorf("artifact URI %q has dot segments", uri)
		}
	}

	// The version is a real one: the binary's module version, not "dev".
	d := run.Tool.Driver
	if !semver.MatchString(d.Version) || d.Version == "dev" || d.SemanticVersion == "" || strings.TrimPrefix(d.Version, "v") != d.SemanticVersion {
		t.Errorf("tool.driver version %q, semanticVersion %q: want a semantic version", d.Version, d.SemanticVersion)
	}
	// No two rule ids or names differ only in case.
	seen := map[string]string{}
	for _, rule := range d.Rules {
		for _, s := range []string{rule.ID, rule.Name} {
			if other, dup := seen[strings.ToLower(s)]; dup {
				t.Errorf("rule %s: %q and %q differ only in case", rule.ID, s, other)
			}
			seen[strings.ToLower(s)] = s
		}
	}
}

// The version a release build names, and a build that has none.
func TestLintSARIFVersionOfABuild(t *testing.T) {
	if os.Getenv("FEEDSYNC_E2E_BINARY") != "" {
		t.Skip("builds feedsync from this source, not FEEDSYNC_E2E_BINARY")
	}
	if testing.Short() {
		t.Skip("builds feedsync twice")
	}
	dir, env := lintFiles(t, map[string]string{"x.xml": lintCleanFeed})
	for _, c := range []struct {
		name    string
		flags   []string
		version string
	}{
		{"release", []string{"-ldflags", "-X main.version=v0.7.3"}, "v0.7.3"},
		{"no version", []string{"-buildvcs=false"}, "0.0.0-dev"},
	} {
		bin := filepath.Join(t.TempDir(), "feedsync")
		build := exec.Command("go", append(append([]string{"build", "-o", bin}, c.flags...), ".")...)
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build %v: %v\n%s", c.flags, err, out)
		}
		r := runBinaryAt(t, bin, dir, env, "lint", "--format", "sarif", "x.xml")
		if d := checkSARIF(t, []byte(r.stdout)).Runs[0].Tool.Driver; d.Version != c.version || d.SemanticVersion != strings.TrimPrefix(c.version, "v") {
			t.Errorf("%s: driver version %q, semanticVersion %q; want %q", c.name, d.Version, d.SemanticVersion, c.version)
		}
		r = runBinaryAt(t, bin, dir, env, "lint", "--format", "json", "x.xml")
		if !strings.Contains(r.stdout, `"tool": "feedsync `+c.version+`"`) {
			t.Errorf("%s: json tool is not feedsync %s:\n%.300s", c.name, c.version, r.stdout)
		}
	}
}

// Item 13: --rules in the format asked for, and the attributes of Google's
// current specification known.
func TestLintRulesInEveryFormat(t *testing.T) {
	r := runBinary(t, nil, "lint", "--rules", "--format", "sarif")
	if r.code != 0 {
		t.Fatalf("--rules --format sarif: code %d\n%s", r.code, r.stderr)
	}
	run := checkSARIF(t, []byte(r.stdout)).Runs[0]
	if len(run.Tool.Driver.Rules) < 40 || len(run.Results) != 0 || run.Tool.Driver.Version == "" {
		t.Errorf("--rules --format sarif: %d rules, %d results, version %q", len(run.Tool.Driver.Rules), len(run.Results), run.Tool.Driver.Version)
	}
	var raw map[string]any
	_ = json.Unmarshal([]byte(r.stdout), &raw)
	if runs, _ := raw["runs"].([]any); len(runs) == 1 {
		if _, has := runs[0].(map[string]any)["results"]; has {
			t.Error("--rules --format sarif has results: no feed was linted")
		}
	}
	r = runBinary(t, nil, "lint", "--rules", "--format", "json")
	var rules []struct{ Code, Severity, URL string }
	if err := json.Unmarshal([]byte(r.stdout), &rules); err != nil || r.code != 0 || len(rules) != len(run.Tool.Driver.Rules) {
		t.Errorf("--rules --format json: code %d, %v, %d rules", r.code, err, len(rules))
	}
	if r = runBinary(t, nil, "lint", "--rules", "--format", "xml"); r.code != 2 || !strings.Contains(r.stderr, "text, json, sarif") {
		t.Errorf("--rules --format xml: code %d, want 2\n%s", r.code, r.stderr)
	}
	if r = runBinary(t, nil, "lint", "--rules", "--sarif", "rules.sarif"); r.code != 2 {
		t.Errorf("--rules --sarif FILE: code %d, want 2", r.code)
	}

	attrs := []string{"ads_grouping", "ads_labels", "canonical_link", "display_ads_id", "display_ads_similar_id", "display_ads_title",
		"display_ads_link", "display_ads_value", "handling_cutoff_time", "shipping_handling_business_days",
		"shipping_transit_business_days", "sustainability_incentives", "video_link"}
	var extra strings.Builder
	for _, a := range attrs {
		fmt.Fprintf(&extra, "<g:%s>x</g:%s>", a, a)
	}
	dir, env := lintFiles(t, map[string]string{"spec.xml": strings.Replace(lintCleanFeed, "</item>", extra.String()+"</item>", 1)})
	r = runBinary(t, env, "lint", "--format", "json", filepath.Join(dir, "spec.xml"))
	if strings.Contains(r.stdout, "unknown-attribute") {
		t.Errorf("attributes of Google's specification reported as unknown:\n%s", r.stdout)
	}
}
