package lint

import (
	"cmp"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
)

// Formats lists the output formats Write takes.
var Formats = []string{"text", "json", "sarif", "github", "junit"}

// WriteOptions tune Write.
type WriteOptions struct {
	// Color adds ANSI colours to the text format (for a terminal).
	Color bool
	// Version names the tool's version in SARIF and JSON.
	Version string
}

// Write renders a report in one of Formats.
func Write(w io.Writer, r *Report, format string, o WriteOptions) error {
	switch format {
	case "text", "":
		return writeText(w, r, o)
	case "json":
		return writeJSON(w, r, o)
	case "sarif":
		return writeSARIF(w, r, o)
	case "github":
		return writeGitHub(w, r)
	case "junit":
		return writeJUnit(w, r)
	}
	return fmt.Errorf("format %q: want %s", format, strings.Join(Formats, ", "))
}

// byRule groups findings by rule, in registry order.
func byRule(r *Report) (rules []Rule, groups map[string][]Finding) {
	groups = map[string][]Finding{}
	for _, f := range r.Findings {
		groups[f.Code] = append(groups[f.Code], f)
	}
	for _, c := range r.Counts {
		rule, _ := LookupRule(c.Code)
		rules = append(rules, rule)
	}
	return rules, groups
}

func omitted(r *Report, code string) int {
	for _, c := range r.Counts {
		if c.Code == code {
			return c.Omitted
		}
	}
	return 0
}

func count(r *Report, code string) int {
	for _, c := range r.Counts {
		if c.Code == code {
			return c.Count
		}
	}
	return 0
}

// location renders file:line.
func location(f Finding) string {
	if f.Line > 0 {
		return fmt.Sprintf("%s:%d", f.File, f.Line)
	}
	return f.File
}

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiBlue   = "\x1b[34m"
)

func writeText(w io.Writer, r *Report, o WriteOptions) error {
	paint := func(code, s string) string {
		if !o.Color {
			return s
		}
		return code + s + ansiReset
	}
	sevColor := map[Severity]string{Error: ansiRed, Warning: ansiYellow, Info: ansiBlue}
	var b strings.Builder
	rules, groups := byRule(r)
	// Errors first, then warnings, then infos; registry order within each.
	slices.SortStableFunc(rules, func(a, b Rule) int { return cmp.Compare(b.Severity, a.Severity) })
	for _, rule := range rules {
		n := count(r, rule.Code)
		fmt.Fprintf(&b, "%s %s (%d): %s\n", paint(ansiBold+sevColor[rule.Severity], rule.Severity.String()), paint(ansiBold, rule.Code), n, rule.Summary)
		fmt.Fprintf(&b, "  %s\n", paint(ansiDim, "fix: "+rule.Hint))
		fmt.Fprintf(&b, "  %s\n", paint(ansiDim, "source: "+rule.Citation()))
		for _, f := range groups[rule.Code] {
			fmt.Fprintf(&b, "  %s", location(f))
			if f.ItemID != "" {
				fmt.Fprintf(&b, " item %q", f.ItemID)
			}
			if f.Attr != "" {
				fmt.Fprintf(&b, " [%s]", f.Attr)
			}
			fmt.Fprintf(&b, ": %s\n", f.Message)
		}
		if k := omitted(r, rule.Code); k > 0 {
			fmt.Fprintf(&b, "  … and %d more\n", k)
		}
		b.WriteByte('\n')
	}
	files := len(r.Files)
	summary := fmt.Sprintf("%s, %s, %s in %d %s (%s)",
		plural(r.Errors, "error"), plural(r.Warnings, "warning"), plural(r.Infos, "info"), files, pluralWord(files, "file"), plural(r.Items(), "item"))
	switch {
	case r.Fatal():
		summary = paint(ansiBold+ansiRed, summary+"; a feed could not be read to its end")
	case r.Errors > 0:
		summary = paint(ansiBold+ansiRed, summary)
	case r.Warnings > 0:
		summary = paint(ansiBold+ansiYellow, summary)
	}
	b.WriteString(summary + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func plural(n int, word string) string { return fmt.Sprintf("%d %s", n, pluralWord(n, word)) }

func pluralWord(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// jsonReport is the json format: a version, the files, counts and findings.
type jsonReport struct {
	Version  int           `json:"version"`
	Tool     string        `json:"tool"`
	Files    []FileSummary `json:"files"`
	Summary  jsonSummary   `json:"summary"`
	Counts   []RuleCount   `json:"counts"`
	Findings []Finding     `json:"findings"`
}

type jsonSummary struct {
	Items    int  `json:"items"`
	Errors   int  `json:"errors"`
	Warnings int  `json:"warnings"`
	Infos    int  `json:"infos"`
	Fatal    bool `json:"fatal"`
}

func writeJSON(w io.Writer, r *Report, o WriteOptions) error {
	out := jsonReport{
		Version: 1, Tool: strings.TrimSpace("feedsync " + o.Version), Files: r.Files,
		Summary:  jsonSummary{Items: r.Items(), Errors: r.Errors, Warnings: r.Warnings, Infos: r.Infos, Fatal: r.Fatal()},
		Counts:   r.Counts,
		Findings: r.Findings,
	}
	if out.Files == nil {
		out.Files = []FileSummary{}
	}
	if out.Counts == nil {
		out.Counts = []RuleCount{}
	}
	if out.Findings == nil {
		out.Findings = []Finding{}
	}
	return encodeJSON(w, out)
}

func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// SARIF 2.1.0, the subset code scanning reads.
const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	infoURI      = "https://github.com/feedsync/feedsync#linting-feeds-in-ci"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Artifacts   []sarifArtifact   `json:"artifacts,omitempty"`
	Results     []sarifResult     `json:"results"`
	Invocations []sarifInvocation `json:"invocations"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool `json:"executionSuccessful"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string        `json:"id"`
	Name                 string        `json:"name"`
	ShortDescription     sarifText     `json:"shortDescription"`
	Help                 sarifText     `json:"help"`
	HelpURI              string        `json:"helpUri"`
	DefaultConfiguration sarifConfig   `json:"defaultConfiguration"`
	Properties           sarifRuleProp `json:"properties"`
}

type sarifRuleProp struct {
	Category string   `json:"category"`
	Source   string   `json:"source"`
	Basis    string   `json:"basis"`
	Tags     []string `json:"tags"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifArtifact struct {
	Location sarifArtifactLocation `json:"location"`
}

type sarifArtifactLocation struct {
	URI string `json:"uri"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
	// PartialFingerprints keep a finding's identity across runs.
	PartialFingerprints map[string]string `json:"partialFingerprints,omitempty"`
	Properties          map[string]string `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	Region           *sarifRegion          `json:"region,omitempty"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

func sarifLevel(s Severity) string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	}
	return "note"
}

func writeSARIF(w io.Writer, r *Report, o WriteOptions) error {
	driver := sarifDriver{Name: "feedsync lint", Version: o.Version, InformationURI: infoURI, Rules: []sarifRule{}}
	index := map[string]int{}
	for _, rule := range registry {
		index[rule.Code] = len(driver.Rules)
		driver.Rules = append(driver.Rules, sarifRule{
			ID: rule.Code, Name: ruleName(rule.Code),
			ShortDescription:     sarifText{rule.Summary},
			Help:                 sarifText{"Fix: " + rule.Hint + ". Source: " + rule.Source + ", " + rule.URL + "."},
			HelpURI:              rule.URL,
			DefaultConfiguration: sarifConfig{sarifLevel(rule.Severity)},
			Properties:           sarifRuleProp{Category: rule.Category, Source: rule.Source, Basis: string(rule.Basis), Tags: []string{"feed", rule.Category}},
		})
	}
	run := sarifRun{Tool: sarifTool{driver}, Results: []sarifResult{}, Invocations: []sarifInvocation{{!r.Fatal()}}}
	for _, f := range r.Files {
		run.Artifacts = append(run.Artifacts, sarifArtifact{sarifArtifactLocation{artifactURI(f.File)}})
	}
	for _, f := range r.Findings {
		res := sarifResult{
			RuleID: f.Code, RuleIndex: index[f.Code], Level: sarifLevel(f.Severity),
			Message:   sarifText{sarifMessage(f)},
			Locations: []sarifLocation{{sarifPhysical{ArtifactLocation: sarifArtifactLocation{artifactURI(f.File)}}}},
		}
		if f.Line > 0 {
			res.Locations[0].PhysicalLocation.Region = &sarifRegion{StartLine: f.Line}
		}
		if f.ItemID != "" || f.Attr != "" {
			res.Properties = map[string]string{}
			if f.ItemID != "" {
				res.Properties["itemId"] = f.ItemID
				res.PartialFingerprints = map[string]string{"itemId/v1": f.Code + ":" + f.ItemID + ":" + f.Attr}
			}
			if f.Attr != "" {
				res.Properties["attribute"] = f.Attr
			}
		}
		run.Results = append(run.Results, res)
	}
	return encodeJSON(w, sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}})
}

// ruleName turns a code into SARIF's PascalCase rule name (missing-price → MissingPrice).
func ruleName(code string) string {
	var b strings.Builder
	for _, p := range strings.Split(code, "-") {
		if p != "" {
			b.WriteString(strings.ToUpper(p[:1]) + p[1:])
		}
	}
	return b.String()
}

// artifactURI makes a file path a URI reference: relative paths stay
// relative (slashes, no ./), which code scanning resolves against the
// checkout; absolute paths become file:// URIs; URLs stay as they are.
func artifactURI(file string) string {
	if strings.Contains(file, "://") {
		return file
	}
	abs := filepath.IsAbs(file)
	file = filepath.ToSlash(file)
	file = strings.TrimPrefix(file, "./")
	u := (&url.URL{Path: file}).EscapedPath()
	if abs {
		if !strings.HasPrefix(u, "/") {
			u = "/" + u // a Windows drive path
		}
		return "file://" + u
	}
	return u
}

func sarifMessage(f Finding) string {
	msg := f.Message
	if f.ItemID != "" {
		msg = fmt.Sprintf("item %q: %s", f.ItemID, msg)
	}
	return msg
}

// writeGitHub writes GitHub Actions workflow commands: one annotation per finding.
func writeGitHub(w io.Writer, r *Report) error {
	var b strings.Builder
	for _, f := range r.Findings {
		cmd := "notice"
		switch f.Severity {
		case Error:
			cmd = "error"
		case Warning:
			cmd = "warning"
		}
		fmt.Fprintf(&b, "::%s file=%s", cmd, ghProperty(f.File))
		if f.Line > 0 {
			fmt.Fprintf(&b, ",line=%d", f.Line)
		}
		fmt.Fprintf(&b, ",title=%s::%s\n", ghProperty(f.Code), ghData(sarifMessage(f)))
	}
	for _, c := range r.Counts {
		if c.Omitted > 0 {
			fmt.Fprintf(&b, "::notice title=%s::%s\n", ghProperty(c.Code), ghData(fmt.Sprintf("%d more %s findings not annotated", c.Omitted, c.Code)))
		}
	}
	fmt.Fprintf(&b, "feedsync lint: %s, %s, %s (%s)\n", plural(r.Errors, "error"), plural(r.Warnings, "warning"), plural(r.Infos, "info"), plural(r.Items(), "item"))
	_, err := io.WriteString(w, b.String())
	return err
}

// ghData escapes a workflow command's message.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes a workflow command's property value.
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// JUnit XML: one testsuite per run, one testcase per rule that ran, a
// failure per error or warning finding; infos go to system-out.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	TestCases []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func writeJUnit(w io.Writer, r *Report) error {
	_, groups := byRule(r)
	suite := junitSuite{Name: "feedsync lint"}
	for _, rule := range r.Rules {
		tc := junitCase{Name: rule.Code, ClassName: "feedsync.lint." + rule.Category}
		var out, failed strings.Builder
		nfail, firstMsg := 0, ""
		for _, f := range groups[rule.Code] {
			text := location(f)
			if f.ItemID != "" {
				text += fmt.Sprintf(" item %q", f.ItemID)
			}
			if f.Attr != "" {
				text += " [" + f.Attr + "]"
			}
			text += ": " + f.Message
			if f.Severity == Info {
				out.WriteString(text + "\n")
				continue
			}
			if nfail == 0 {
				firstMsg = text
			}
			nfail++
			failed.WriteString(text + "\n")
		}
		k := omitted(r, rule.Code)
		if k > 0 {
			fmt.Fprintf(&out, "… and %d more findings\n", k)
		}
		tc.SystemOut = out.String()
		if nfail > 0 {
			if k > 0 && rule.Severity != Info {
				fmt.Fprintf(&failed, "… and %d more\n", k)
			}
			msg := fmt.Sprintf("%d %s: %s", nfail+k, pluralWord(nfail+k, "finding"), firstMsg)
			tc.Failure = &junitFailure{Message: msg, Type: rule.Severity.String(), Text: failed.String() + "fix: " + rule.Hint + "\nsource: " + rule.Citation()}
			suite.Failures++
		}
		suite.TestCases = append(suite.TestCases, tc)
	}
	suite.Tests = len(suite.TestCases)
	doc := junitSuites{Name: "feedsync lint", Tests: suite.Tests, Failures: suite.Failures, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
