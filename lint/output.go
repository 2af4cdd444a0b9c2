package lint

import (
	"cmp"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Formats lists the output formats Write takes.
var Formats = []string{"text", "json", "sarif", "github", "junit"}

// WriteOptions tune Write.
type WriteOptions struct {
	// Color adds ANSI colours to the text format (for a terminal).
	Color bool
	// Version names the tool's version in SARIF (tool.driver.version) and
	// JSON: a release tag (v1.2.0) or a Go pseudo-version; empty means
	// DevVersion.
	Version string
	// FailWarnings says that the warnings fail the run (there are more than
	// --max-warnings allows). JUnit then reports them as failures; otherwise
	// only errors are failures, and warnings are reported in their
	// testcase's system-out without failing it.
	FailWarnings bool
	// BaseDir is the directory relative file names are relative to (empty:
	// the working directory). SARIF writes a file inside it as a clean path
	// relative to %SRCROOT%, which the run's originalUriBaseIds maps to
	// BaseDir (code scanning resolves such paths against the checkout), and
	// a file outside it (absolute, or climbing out with ..) as an absolute
	// file:// URI; neither has dot segments.
	BaseDir string
}

// DevVersion is the version of a build that carries none (not a release,
// not built from a module version): a valid semantic version that sorts
// before every release.
const DevVersion = "0.0.0-dev"

func (o WriteOptions) version() string {
	if v := strings.TrimSpace(o.Version); v != "" {
		return v
	}
	return DevVersion
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
		return writeJUnit(w, r, o)
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
		Version: 1, Tool: "feedsync " + o.version(), Files: r.Files,
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
	Tool               sarifTool                        `json:"tool"`
	OriginalURIBaseIDs map[string]sarifArtifactLocation `json:"originalUriBaseIds,omitempty"`
	Artifacts          []sarifArtifact                  `json:"artifacts,omitempty"`
	Results            []sarifResult                    `json:"results"`
	Invocations        []sarifInvocation                `json:"invocations"`
	Properties         *sarifRunProp                    `json:"properties,omitempty"`
}

// sarifRunProp keeps the counts of the report: with a cap per rule
// (--max-per-rule) results leave findings out, and the counts say how many.
type sarifRunProp struct {
	Summary jsonSummary `json:"summary"`
	Counts  []RuleCount `json:"counts"`
}

// sarifRulesLog is --rules --format sarif: the rules, and no results (no
// feed was linted).
type sarifRulesLog struct {
	Schema  string          `json:"$schema"`
	Version string          `json:"version"`
	Runs    []sarifRulesRun `json:"runs"`
}

type sarifRulesRun struct {
	Tool sarifTool `json:"tool"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool `json:"executionSuccessful"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name            string      `json:"name"`
	Version         string      `json:"version,omitempty"`
	SemanticVersion string      `json:"semanticVersion,omitempty"`
	InformationURI  string      `json:"informationUri"`
	Rules           []sarifRule `json:"rules"`
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
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
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

// sarifDriverFor is the tool.driver object: feedsync lint, its version and
// every rule, in registry order.
func sarifDriverFor(o WriteOptions) (sarifDriver, map[string]int) {
	v := o.version()
	driver := sarifDriver{Name: "feedsync lint", Version: v, SemanticVersion: semanticVersion(v), InformationURI: infoURI, Rules: []sarifRule{}}
	index := map[string]int{}
	for _, rule := range registry {
		index[rule.Code] = len(driver.Rules)
		driver.Rules = append(driver.Rules, sarifRule{
			ID: rule.Code, Name: ruleName(rule),
			ShortDescription:     sarifText{rule.Summary},
			Help:                 sarifText{"Fix: " + rule.Hint + ". Source: " + rule.Source + ", " + rule.URL + "."},
			HelpURI:              rule.URL,
			DefaultConfiguration: sarifConfig{sarifLevel(rule.Severity)},
			Properties:           sarifRuleProp{Category: rule.Category, Source: rule.Source, Basis: string(rule.Basis), Tags: []string{"feed", rule.Category}},
		})
	}
	return driver, index
}

// semverRE is Semantic Versioning 2.0's grammar, after an optional v.
var semverRE = regexp.MustCompile(`^v?((0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)(\.(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*))*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?)$`)

// semanticVersion is v without its leading v when it is a semantic
// version (v1.2.0, v0.0.0-20260101120000-abcdef012345+dirty), else "".
func semanticVersion(v string) string {
	if m := semverRE.FindStringSubmatch(v); m != nil {
		return m[1]
	}
	return ""
}

func writeSARIF(w io.Writer, r *Report, o WriteOptions) error {
	driver, index := sarifDriverFor(o)
	run := sarifRun{Tool: sarifTool{driver}, Results: []sarifResult{}, Invocations: []sarifInvocation{{!r.Fatal()}}}
	uris := newArtifactURIs(o.BaseDir)
	for _, f := range r.Files {
		run.Artifacts = append(run.Artifacts, sarifArtifact{uris.location(f.File)})
	}
	for _, f := range r.Findings {
		res := sarifResult{
			RuleID: f.Code, RuleIndex: index[f.Code], Level: sarifLevel(f.Severity),
			Message:   sarifText{sarifMessage(f)},
			Locations: []sarifLocation{{sarifPhysical{ArtifactLocation: uris.location(f.File)}}},
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
	if uris.usedBase {
		run.OriginalURIBaseIDs = map[string]sarifArtifactLocation{srcRoot: {URI: uris.baseURI}}
	}
	counts := r.Counts
	if counts == nil {
		counts = []RuleCount{}
	}
	run.Properties = &sarifRunProp{
		Summary: jsonSummary{Items: r.Items(), Errors: r.Errors, Warnings: r.Warnings, Infos: r.Infos, Fatal: r.Fatal()},
		Counts:  counts,
	}
	return encodeJSON(w, sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}})
}

// writeSARIFRules is the rule list as a SARIF log: one run whose
// tool.driver.rules are the rules, without results.
func writeSARIFRules(w io.Writer, o WriteOptions) error {
	driver, _ := sarifDriverFor(o)
	return encodeJSON(w, sarifRulesLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRulesRun{{sarifTool{driver}}}})
}

// ruleName is a rule's SARIF name: its code in PascalCase (missing-price →
// MissingPrice). A name must not differ from an id only in case, so a
// one-word code also names its category (unreadable → UnreadableFile).
func ruleName(rule Rule) string {
	name := pascal(rule.Code)
	if strings.EqualFold(name, rule.Code) {
		name += pascal(rule.Category)
	}
	return name
}

func pascal(code string) string {
	var b strings.Builder
	for _, p := range strings.Split(code, "-") {
		if p != "" {
			b.WriteString(strings.ToUpper(p[:1]) + p[1:])
		}
	}
	return b.String()
}

// srcRoot is the uriBaseId of relative artifact URIs, as code scanning
// names the checkout.
const srcRoot = "%SRCROOT%"

// artifactURIs makes file names SARIF artifact locations without dot
// segments: a path inside the base directory (relative, or absolute and
// below it) is a clean path relative to it, with uriBaseId %SRCROOT%; a path
// outside it (absolute, or climbing out with ..) is an absolute file:// URI,
// cleaned; a URL is cleaned of dot segments and keeps only valid URI
// characters.
type artifactURIs struct {
	base     string // absolute, cleaned; "" when it cannot be known
	baseURI  string // file:///base/
	usedBase bool
	done     map[string]sarifArtifactLocation
}

func newArtifactURIs(base string) *artifactURIs {
	a := &artifactURIs{done: map[string]sarifArtifactLocation{}}
	if base == "" {
		base = "."
	}
	if abs, err := filepath.Abs(base); err == nil {
		a.base = abs
		a.baseURI = fileURI(abs)
		if !strings.HasSuffix(a.baseURI, "/") {
			a.baseURI += "/"
		}
	}
	return a
}

func (a *artifactURIs) location(file string) sarifArtifactLocation {
	loc, ok := a.done[file]
	if !ok {
		loc = a.make(file)
		a.done[file] = loc
	}
	return loc
}

func (a *artifactURIs) make(file string) sarifArtifactLocation {
	if i := strings.Index(file, "://"); i > 0 && !strings.HasPrefix(file, "file://") {
		return sarifArtifactLocation{URI: cleanURL(file)}
	}
	if p, ok := strings.CutPrefix(file, "file://"); ok {
		if u, err := url.Parse(file); err == nil && u.Path != "" {
			p = u.Path
		}
		return sarifArtifactLocation{URI: fileURI(filepath.FromSlash(p))}
	}
	if file == "" || file == "<stdin>" {
		return sarifArtifactLocation{URI: escapePath(file)}
	}
	p := filepath.Clean(file)
	if a.base == "" {
		if filepath.IsAbs(p) {
			return sarifArtifactLocation{URI: fileURI(p)}
		}
		return sarifArtifactLocation{URI: escapePath(filepath.ToSlash(p))}
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(a.base, p)
	}
	if rel, err := filepath.Rel(a.base, p); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel) {
		a.usedBase = true
		return sarifArtifactLocation{URI: escapePath(filepath.ToSlash(rel)), URIBaseID: srcRoot}
	}
	return sarifArtifactLocation{URI: fileURI(p)}
}

// fileURI is the file:// URI of an absolute path, cleaned.
func fileURI(p string) string {
	u := escapePath(path.Clean(filepath.ToSlash(p)))
	if !strings.HasPrefix(u, "/") {
		u = "/" + u // a Windows drive path
	}
	return "file://" + u
}

func escapePath(p string) string { return (&url.URL{Path: p}).EscapedPath() }

// cleanURL removes the dot segments of a URL's path, and escapes what a URI
// may not hold (feed.SourceName shows a query as …).
func cleanURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return escapeNonURI(s)
	}
	u = u.ResolveReference(&url.URL{}) // RFC 3986 remove_dot_segments
	u.RawQuery = escapeNonURI(u.RawQuery)
	u.RawFragment, u.Fragment = "", ""
	return u.String()
}

// escapeNonURI percent-encodes the bytes that are not allowed anywhere in a
// URI (non-ASCII, controls, space and a few others), leaving % escapes and
// reserved characters as they are.
func escapeNonURI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"<>\^`+"`"+`{|}`, c) >= 0 {
			b.WriteString("%" + strings.ToUpper(strconv.FormatUint(uint64(c)|0x100, 16)[1:]))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
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

// JUnit XML, as the Jenkins JUnit plugin (and GitLab) read it: one
// testsuite per run, one testcase per rule that ran. A testcase fails on
// what fails the run: its error findings, and its warning findings only
// when the warnings are more than --max-warnings allows (FailWarnings).
// Other findings, warnings and infos, are listed in the testcase's
// system-out without failing it, and the suite's properties count them.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Properties []junitProperty `xml:"properties>property"`
	TestCases  []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
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

func writeJUnit(w io.Writer, r *Report, o WriteOptions) error {
	_, groups := byRule(r)
	suite := junitSuite{Name: "feedsync lint", Properties: []junitProperty{
		{"files", strconv.Itoa(len(r.Files))},
		{"items", strconv.Itoa(r.Items())},
		{"errors", strconv.Itoa(r.Errors)},
		{"warnings", strconv.Itoa(r.Warnings)},
		{"infos", strconv.Itoa(r.Infos)},
		{"warnings_fail", strconv.FormatBool(o.FailWarnings && r.Warnings > 0)},
	}}
	for _, rule := range r.Rules {
		tc := junitCase{Name: rule.Code, ClassName: "feedsync.lint." + rule.Category}
		findings := groups[rule.Code]
		n := count(r, rule.Code)
		if n == 0 {
			suite.TestCases = append(suite.TestCases, tc)
			continue
		}
		var b strings.Builder
		for _, f := range findings {
			b.WriteString(junitLine(f) + "\n")
		}
		if k := omitted(r, rule.Code); k > 0 {
			fmt.Fprintf(&b, "… and %d more\n", k)
		}
		b.WriteString("fix: " + rule.Hint + "\nsource: " + rule.Citation())
		fails := rule.Severity == Error || rule.Severity == Warning && o.FailWarnings
		if fails {
			first := ""
			if len(findings) > 0 {
				first = ": " + junitLine(findings[0])
			}
			msg := fmt.Sprintf("%d %s%s", n, pluralWord(n, rule.Severity.String()), first)
			if rule.Severity == Warning {
				msg = fmt.Sprintf("%d %s, and the warnings are more than --max-warnings allows%s", n, pluralWord(n, "warning"), first)
			}
			tc.Failure = &junitFailure{Message: msg, Type: rule.Severity.String(), Text: b.String()}
			suite.Failures++
		} else {
			note := ""
			if rule.Severity == Warning {
				note = " (not failing the run)"
			}
			tc.SystemOut = fmt.Sprintf("%s%s\n", plural(n, rule.Severity.String()), note) + b.String() + "\n"
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

// junitLine is one finding: file:line item "id" [attribute]: message.
func junitLine(f Finding) string {
	text := location(f)
	if f.ItemID != "" {
		text += fmt.Sprintf(" item %q", f.ItemID)
	}
	if f.Attr != "" {
		text += " [" + f.Attr + "]"
	}
	return text + ": " + f.Message
}
