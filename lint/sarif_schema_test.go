package lint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/feedsync/feedsync/feed"
	"github.com/feedsync/feedsync/tree"
)

// sarifSchemaPath is the official SARIF 2.1.0 JSON schema (see
// testdata/SCHEMAS.md for where it comes from).
const sarifSchemaPath = "testdata/sarif-2.1.0.json"

// compileSARIFSchema compiles the official schema, with format assertions on (uri,
// uri-reference, …), which draft 2020-12 leaves off by default.
func compileSARIFSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(sarifSchemaPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", sarifSchemaPath, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(sarifSchemaPath, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(sarifSchemaPath)
	if err != nil {
		t.Fatalf("%s: %v", sarifSchemaPath, err)
	}
	return s
}

func validateSARIF(t *testing.T, s *jsonschema.Schema, name string, raw []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, raw)
	}
	if err := s.Validate(inst); err != nil {
		t.Errorf("%s: not valid SARIF 2.1.0: %v", name, err)
	}
}

// sarifReports are reports with each kind of thing SARIF output holds:
// findings with and without line, item and attribute, an unreadable feed, a
// parse error, a clean feed, counts of findings left out, and file names
// of every kind (relative, with .., absolute, URL, standard input).
func sarifReports(t *testing.T) map[string]*Report {
	reports := map[string]*Report{"mixed": mixedReport(t)}
	l, _ := New(Options{Policy: tree.PolicyVariant})
	l.Unreadable("missing.xml", fmt.Errorf("no such file"))
	_ = l.Lint(strings.NewReader(rss(item("raw", "<g:title>a & b</g:title>"))), "broken.xml", feed.FormatAuto)
	reports["unreadable-and-broken"] = l.Report()
	empty, _ := New(Options{})
	_ = empty.Lint(strings.NewReader(rss(item())), "clean.xml", feed.FormatAuto)
	reports["clean"] = empty.Report()
	capped, _ := New(Options{MaxPerRule: 1})
	for _, name := range sarifFileNames {
		_ = capped.Lint(strings.NewReader(rss(item("-brand"), item("id", "A2", "-brand"))), name, feed.FormatAuto)
	}
	reports["capped-and-named"] = capped.Report()
	return reports
}

// sarifFileNames are feed names as lint gets them from the command line.
var sarifFileNames = []string{
	"testdata/mixed.rss", "./public/google feed.xml", "../feeds/x.xml", "feeds/../../up.xml", "feeds/./a/../b.xml",
	"/home/runner/work/feed.xml", "/home/runner/../work/./feed.xml", "/home/runner/work/shop/feeds/../a.xml", "file:///srv/feeds/../f.xml",
	"https://shop.test/feeds/../feed.xml?…", "<stdin>", "zboží/ceník.xml",
}

// TestSARIFSchema validates SARIF output, and the --rules SARIF log, against
// the official SARIF 2.1.0 schema.
func TestSARIFSchema(t *testing.T) {
	s := compileSARIFSchema(t)
	for name, r := range sarifReports(t) {
		for _, o := range []WriteOptions{{Version: "v1.2.3"}, {}, {BaseDir: "/home/runner/work/shop"}} {
			var buf bytes.Buffer
			if err := Write(&buf, r, "sarif", o); err != nil {
				t.Fatal(err)
			}
			validateSARIF(t, s, name, buf.Bytes())
		}
	}
	var buf bytes.Buffer
	if err := WriteRules(&buf, "sarif", WriteOptions{Version: "v1.2.3"}); err != nil {
		t.Fatal(err)
	}
	validateSARIF(t, s, "--rules", buf.Bytes())

	// The schema catches what it should: a wrong version, an unknown
	// property, a relative helpUri.
	for name, bad := range map[string]string{
		"version":  `{"version": "2.0", "runs": []}`,
		"property": `{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "bogus": 1}]}`,
		"helpUri":  `{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x", "rules": [{"id": "x", "helpUri": "docs/feed-rules.md"}]}}}]}`,
	} {
		inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(bad))
		if s.Validate(inst) == nil {
			t.Errorf("a log with a bad %s passed the schema", name)
		}
	}
}

// sarifLogDoc is what the SARIF tests read of a log.
type sarifLogDoc struct {
	Runs []struct {
		Tool struct {
			Driver struct {
				Version         string `json:"version"`
				SemanticVersion string `json:"semanticVersion"`
				Rules           []struct {
					ID, Name string
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		OriginalURIBaseIDs map[string]struct {
			URI string `json:"uri"`
		} `json:"originalUriBaseIds"`
		Artifacts []struct {
			Location sarifLocationDoc `json:"location"`
		} `json:"artifacts"`
		Results *[]struct {
			RuleID    string `json:"ruleId"`
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation sarifLocationDoc `json:"artifactLocation"`
				} `json:"physicalLocation"`
			} `json:"locations"`
		} `json:"results"`
		Properties *struct {
			Summary struct{ Errors, Warnings, Infos, Items int }
			Counts  []RuleCount `json:"counts"`
		} `json:"properties"`
	} `json:"runs"`
}

type sarifLocationDoc struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId"`
}

func writeSARIFDoc(t *testing.T, r *Report, o WriteOptions) sarifLogDoc {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, r, "sarif", o); err != nil {
		t.Fatal(err)
	}
	var doc sarifLogDoc
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil || len(doc.Runs) != 1 {
		t.Fatalf("%v, %d runs\n%s", err, len(doc.Runs), buf.Bytes())
	}
	return doc
}

// uriChars are the characters RFC 3986 allows in a URI reference.
var uriChars = regexp.MustCompile(`^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*$`)

// TestSARIFArtifactURIs: every artifact URI is a valid URI reference (ASCII,
// escaped) without dot segments; a path inside the base directory
// (relative, or absolute below it) is relative to %SRCROOT%, which
// originalUriBaseIds maps to the base; anything else is absolute.
func TestSARIFArtifactURIs(t *testing.T) {
	l, _ := New(Options{})
	for _, name := range sarifFileNames {
		_ = l.Lint(strings.NewReader(rss(item("-brand"))), name, feed.FormatAuto)
	}
	doc := writeSARIFDoc(t, l.Report(), WriteOptions{BaseDir: "/home/runner/work/shop"})
	run := doc.Runs[0]
	want := map[string]sarifLocationDoc{
		"testdata/mixed.rss":                    {"testdata/mixed.rss", "%SRCROOT%"},
		"./public/google feed.xml":              {"public/google%20feed.xml", "%SRCROOT%"},
		"../feeds/x.xml":                        {"file:///home/runner/work/feeds/x.xml", ""},
		"feeds/../../up.xml":                    {"file:///home/runner/work/up.xml", ""},
		"feeds/./a/../b.xml":                    {"feeds/b.xml", "%SRCROOT%"},
		"/home/runner/work/feed.xml":            {"file:///home/runner/work/feed.xml", ""},
		"/home/runner/../work/./feed.xml":       {"file:///home/work/feed.xml", ""},
		"/home/runner/work/shop/feeds/../a.xml": {"a.xml", "%SRCROOT%"},
		"file:///srv/feeds/../f.xml":            {"file:///srv/f.xml", ""},
		"https://shop.test/feeds/../feed.xml?…": {"https://shop.test/feed.xml?%E2%80%A6", ""},
		"<stdin>":         {"%3Cstdin%3E", ""},
		"zboží/ceník.xml": {"zbo%C5%BE%C3%AD/cen%C3%ADk.xml", "%SRCROOT%"},
	}
	if len(run.Artifacts) != len(sarifFileNames) {
		t.Fatalf("%d artifacts, want %d", len(run.Artifacts), len(sarifFileNames))
	}
	for i, name := range sarifFileNames {
		if got := run.Artifacts[i].Location; got != want[name] {
			t.Errorf("%q: artifact %+v, want %+v", name, got, want[name])
		}
	}
	if base := run.OriginalURIBaseIDs["%SRCROOT%"].URI; base != "file:///home/runner/work/shop/" {
		t.Errorf("originalUriBaseIds %%SRCROOT%% = %q", base)
	}
	locs := 0
	for _, res := range *run.Results {
		for _, loc := range res.Locations {
			checkURI(t, loc.PhysicalLocation.ArtifactLocation.URI)
			locs++
		}
	}
	if locs < len(sarifFileNames) {
		t.Errorf("%d result locations, want one per feed at least", locs)
	}
	for _, a := range run.Artifacts {
		checkURI(t, a.Location.URI)
	}
}

func checkURI(t *testing.T, uri string) {
	t.Helper()
	u, err := url.Parse(uri)
	if err != nil || !uriChars.MatchString(uri) {
		t.Errorf("artifact URI %q is not a valid URI reference (%v)", uri, err)
		return
	}
	for _, seg := range strings.Split(u.EscapedPath(), "/") {
		if seg == "." || seg == ".." {
			t.Errorf("artifact URI %q has a dot segment", uri)
		}
	}
}

// TestSARIFRuleNamesAndIDsDifferMoreThanCase: SARIF consumers match rules by
// id and name; two that differ only in letter case (an id "unreadable"
// and a name "Unreadable") are one rule to some and two to others.
func TestSARIFRuleNamesAndIDsDifferMoreThanCase(t *testing.T) {
	doc := writeSARIFDoc(t, mixedReport(t), WriteOptions{})
	rules := doc.Runs[0].Tool.Driver.Rules
	if len(rules) != len(Rules()) {
		t.Fatalf("%d rules, want %d", len(rules), len(Rules()))
	}
	seen := map[string]string{}
	for _, r := range rules {
		if r.ID == "" || r.Name == "" {
			t.Errorf("rule %+v lacks an id or a name", r)
		}
		for _, s := range []string{r.ID, r.Name} {
			if other, dup := seen[strings.ToLower(s)]; dup {
				t.Errorf("%q (rule %s) and %q differ only in case, or are the same", s, r.ID, other)
			}
			seen[strings.ToLower(s)] = s
		}
	}
}

// TestSARIFVersion: tool.driver.version is the version given, else
// DevVersion; semanticVersion is it without its v.
func TestSARIFVersion(t *testing.T) {
	r := mixedReport(t)
	for _, c := range []struct{ in, version, semantic string }{
		{"", "0.0.0-dev", "0.0.0-dev"},
		{"v0.4.1", "v0.4.1", "0.4.1"},
		{"v0.0.0-20261202102136-b5c5a96f00d1+dirty", "v0.0.0-20261202102136-b5c5a96f00d1+dirty", "0.0.0-20261202102136-b5c5a96f00d1+dirty"},
		{"custom build", "custom build", ""},
	} {
		d := writeSARIFDoc(t, r, WriteOptions{Version: c.in}).Runs[0].Tool.Driver
		if d.Version != c.version || d.SemanticVersion != c.semantic {
			t.Errorf("Version %q: driver version %q, semanticVersion %q; want %q, %q", c.in, d.Version, d.SemanticVersion, c.version, c.semantic)
		}
	}
}

// TestSARIFKeepsCountsOfWhatItLeavesOut: with a cap per rule, the results
// hold the capped findings and the run's properties the full counts.
func TestSARIFKeepsCountsOfWhatItLeavesOut(t *testing.T) {
	var items []string
	for i := 0; i < 7; i++ {
		items = append(items, item("id", fmt.Sprintf("A%d", i), "-brand"))
	}
	r := lintString(t, rss(items...), Options{MaxPerRule: 2})
	run := writeSARIFDoc(t, r, WriteOptions{}).Runs[0]
	n := 0
	for _, res := range *run.Results {
		if res.RuleID == "missing-brand" {
			n++
		}
	}
	if n != 2 || run.Properties == nil {
		t.Fatalf("%d missing-brand results (want 2), properties %+v", n, run.Properties)
	}
	found := false
	for _, c := range run.Properties.Counts {
		if c.Code == "missing-brand" {
			found = c.Count == 7 && c.Omitted == 5 && c.Severity == Warning
		}
	}
	if !found || run.Properties.Summary.Warnings != r.Warnings || run.Properties.Summary.Items != 7 {
		t.Errorf("properties %+v: want missing-brand counted 7, 5 left out", *run.Properties)
	}
}

// TestSARIFRuleHelp checks that every rule in the SARIF log links Google's
// page for it (helpUri, absolute) and names it in its help text.
func TestSARIFRuleHelp(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, mixedReport(t), "sarif", WriteOptions{Version: "test"}); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID      string
						HelpURI string
						Help    struct{ Text string }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	rules := log.Runs[0].Tool.Driver.Rules
	if len(rules) != len(Rules()) {
		t.Fatalf("%d SARIF rules, want %d", len(rules), len(Rules()))
	}
	for i, r := range rules {
		want := Rules()[i]
		u, err := url.Parse(r.HelpURI)
		if err != nil || u.Scheme != "https" || u.Host == "" || r.HelpURI != want.URL {
			t.Errorf("%s: helpUri %q, want the absolute %q", r.ID, r.HelpURI, want.URL)
		}
		if !strings.Contains(r.Help.Text, want.Source) || !strings.Contains(r.Help.Text, want.URL) {
			t.Errorf("%s: help %q does not cite %q and %s", r.ID, r.Help.Text, want.Source, want.URL)
		}
	}
}

// TestWriteRules: the rule list in each of RulesFormats, and an error for
// another format.
func TestWriteRules(t *testing.T) {
	var text, js, sarif bytes.Buffer
	if err := WriteRules(&text, "text"); err != nil || !strings.Contains(text.String(), "missing-price") {
		t.Fatalf("text: %v\n%s", err, text.String())
	}
	if err := WriteRules(&js, "json"); err != nil {
		t.Fatal(err)
	}
	var list []Rule
	if err := json.Unmarshal(js.Bytes(), &list); err != nil || len(list) != len(Rules()) || list[0] != Rules()[0] {
		t.Fatalf("json: %v, %d rules\n%.300s", err, len(list), js.String())
	}
	if err := WriteRules(&sarif, "sarif", WriteOptions{Version: "v0.9.0"}); err != nil {
		t.Fatal(err)
	}
	var doc sarifLogDoc
	if err := json.Unmarshal(sarif.Bytes(), &doc); err != nil || len(doc.Runs) != 1 {
		t.Fatalf("sarif: %v\n%.300s", err, sarif.String())
	}
	run := doc.Runs[0]
	if len(run.Tool.Driver.Rules) != len(Rules()) || run.Tool.Driver.Version != "v0.9.0" || run.Results != nil && len(*run.Results) > 0 {
		t.Errorf("sarif rules log: %d rules, version %q, results %v", len(run.Tool.Driver.Rules), run.Tool.Driver.Version, run.Results)
	}
	if err := WriteRules(&bytes.Buffer{}, "junit"); err == nil || !strings.Contains(err.Error(), "text, json, sarif") {
		t.Errorf("junit: got %v, want an error naming the rule formats", err)
	}
}
