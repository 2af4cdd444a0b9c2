package lint

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// junitXSD is the Jenkins JUnit XML schema (see testdata/SCHEMAS.md).
const junitXSD = "testdata/jenkins-junit.xsd"

// xmlNode is an element of a parsed document: its attributes, child
// elements in order, and text.
type xmlNode struct {
	Name     string
	Attrs    map[string]string
	Children []*xmlNode
	Text     string
}

func parseXML(t *testing.T, raw []byte) *xmlNode {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(raw))
	var stack []*xmlNode
	var root *xmlNode
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, raw)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			n := &xmlNode{Name: tk.Name.Local, Attrs: map[string]string{}}
			if tk.Name.Space != "" {
				t.Errorf("element %s in namespace %s", tk.Name.Local, tk.Name.Space)
			}
			for _, a := range tk.Attr {
				n.Attrs[a.Name.Local] = a.Value
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			} else if root != nil {
				t.Fatal("more than one root element")
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(tk)
			}
		}
	}
	if root == nil {
		t.Fatal("no root element")
	}
	return root
}

// junitElements is the Jenkins schema (testdata/jenkins-junit.xsd) as data:
// for each element its attributes (required ones first, up to req), and
// its children's order, each with how often it may appear ("?" at most
// once, "*" any number, "+" at least once). Elements without children hold
// text only.
var junitElements = map[string]struct {
	attrs    []string
	req      int
	children []string
}{
	"testsuites": {[]string{"name", "time", "tests", "failures", "disabled", "errors"}, 0, []string{"testsuite*"}},
	"testsuite": {[]string{"name", "tests", "failures", "errors", "time", "disabled", "skipped", "timestamp", "hostname", "id", "package"}, 2,
		[]string{"properties?", "testcase*", "system-out?", "system-err?"}},
	"properties": {nil, 0, []string{"property+"}},
	"property":   {[]string{"name", "value"}, 2, nil},
	"testcase":   {[]string{"name", "assertions", "time", "classname", "status"}, 1, []string{"skipped?", "error*", "failure*", "system-out*", "system-err*"}},
	"failure":    {[]string{"type", "message"}, 0, nil},
	"error":      {[]string{"type", "message"}, 0, nil},
	"skipped":    {nil, 0, nil},
	"system-out": {nil, 0, nil},
	"system-err": {nil, 0, nil},
}

// checkJUnitStructure checks a document against junitElements: the Go
// assertions that run whether or not xmllint is installed.
func checkJUnitStructure(t *testing.T, n *xmlNode, at string) {
	t.Helper()
	spec, ok := junitElements[n.Name]
	if !ok {
		t.Errorf("%s: element <%s> is not in the schema", at, n.Name)
		return
	}
	for a := range n.Attrs {
		if !slices.Contains(spec.attrs, a) {
			t.Errorf("%s: <%s> has attribute %q, which the schema does not allow", at, n.Name, a)
		}
	}
	for _, a := range spec.attrs[:spec.req] {
		if _, ok := n.Attrs[a]; !ok {
			t.Errorf("%s: <%s> lacks the required attribute %q", at, n.Name, a)
		}
	}
	if spec.children == nil && len(n.Children) > 0 {
		t.Errorf("%s: <%s> holds elements; it may hold text only", at, n.Name)
	}
	i := 0
	for _, c := range spec.children {
		name, occ := c[:len(c)-1], c[len(c)-1]
		k := 0
		for i < len(n.Children) && n.Children[i].Name == name {
			checkJUnitStructure(t, n.Children[i], fmt.Sprintf("%s/%s[%d]", at, name, k))
			i++
			k++
		}
		if occ == '?' && k > 1 || occ == '+' && k == 0 {
			t.Errorf("%s: <%s> has %d <%s>, want %c", at, n.Name, k, name, occ)
		}
	}
	if i < len(n.Children) {
		t.Errorf("%s: <%s> in <%s> is out of the schema's order (%v)", at, n.Children[i].Name, n.Name, spec.children)
	}
}

// xmllintSchema validates raw against the Jenkins schema with xmllint, and
// reports false when xmllint is not installed.
func xmllintSchema(t *testing.T, xsd string, raw []byte) bool {
	t.Helper()
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		return false
	}
	f := filepath.Join(t.TempDir(), "junit.xml")
	if err := os.WriteFile(f, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--noout", "--schema", xsd, f).CombinedOutput()
	if err != nil {
		t.Errorf("xmllint --schema %s: %v\n%s", xsd, err, out)
	}
	return true
}

// junitCase is what the tests read of a testcase.
type junitCaseDoc struct {
	name, failureType, failureMsg, failure, out string
	failed                                      bool
}

func junitCases(t *testing.T, root *xmlNode) (suite *xmlNode, cases map[string]junitCaseDoc) {
	t.Helper()
	if root.Name != "testsuites" || len(root.Children) != 1 {
		t.Fatalf("root <%s> with %d children, want <testsuites> with one <testsuite>", root.Name, len(root.Children))
	}
	suite = root.Children[0]
	cases = map[string]junitCaseDoc{}
	for _, c := range suite.Children {
		if c.Name != "testcase" {
			continue
		}
		d := junitCaseDoc{name: c.Attrs["name"]}
		for _, e := range c.Children {
			switch e.Name {
			case "failure":
				d.failed, d.failureType, d.failureMsg, d.failure = true, e.Attrs["type"], e.Attrs["message"], e.Text
			case "system-out":
				d.out += e.Text
			}
		}
		cases[d.name] = d
	}
	return suite, cases
}

func writeJUnitDoc(t *testing.T, r *Report, o WriteOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, r, "junit", o); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestJUnitSchema validates JUnit output against the Jenkins JUnit schema:
// with xmllint when it is installed, and always with the structural checks.
func TestJUnitSchema(t *testing.T) {
	reports := sarifReports(t)
	linted := false
	for name, r := range reports {
		for _, fail := range []bool{false, true} {
			raw := writeJUnitDoc(t, r, WriteOptions{FailWarnings: fail})
			checkJUnitStructure(t, parseXML(t, raw), name)
			linted = xmllintSchema(t, junitXSD, raw)
		}
	}
	// The structural checks catch what the schema refuses.
	for _, bad := range []string{
		`<testsuites><testsuite tests="1"/></testsuites>`,                                                      // no name
		`<testsuites><testsuite name="x" tests="1"><testcase name="a"/><properties/></testsuite></testsuites>`, // order
		`<testsuites><testsuite name="x" tests="1"><testcase name="a"><system-out/><failure/></testcase></testsuite></testsuites>`,
		`<testsuites><testsuite name="x" tests="1"><testcase name="a" bogus="1"/></testsuite></testsuites>`,
	} {
		ft := &testing.T{}
		checkJUnitStructure(ft, parseXML(t, []byte(bad)), "bad")
		if !ft.Failed() {
			t.Errorf("the structural checks passed %s", bad)
		}
	}
	if !linted {
		t.Skip("xmllint is not installed (Debian: libxml2-utils): JUnit output was checked structurally, not with xmllint --schema " + junitXSD)
	}
}

// TestJUnitFailsOnlyWhatFailsTheRun: error findings fail their testcase;
// warnings do only when they fail the run (FailWarnings); otherwise they,
// and infos, are listed in system-out. The failures attributes count the
// failing testcases, and the suite's properties count the findings.
func TestJUnitFailsOnlyWhatFailsTheRun(t *testing.T) {
	r := mixedReport(t)
	sev := map[string]Severity{}
	for _, c := range r.Counts {
		sev[c.Code] = c.Severity
	}
	if r.Errors == 0 || r.Warnings == 0 || r.Infos == 0 {
		t.Fatalf("testdata/mixed.rss should have errors, warnings and infos: %d, %d, %d", r.Errors, r.Warnings, r.Infos)
	}
	for _, failWarnings := range []bool{false, true} {
		root := parseXML(t, writeJUnitDoc(t, r, WriteOptions{FailWarnings: failWarnings}))
		suite, cases := junitCases(t, root)
		if len(cases) != len(r.Rules) || suite.Attrs["tests"] != strconv.Itoa(len(r.Rules)) {
			t.Fatalf("%d testcases, tests=%s; want one per rule that ran (%d)", len(cases), suite.Attrs["tests"], len(r.Rules))
		}
		failed := 0
		for code, c := range cases {
			s, hasFindings := sev[code]
			wantFail := hasFindings && (s == Error || s == Warning && failWarnings)
			if c.failed != wantFail {
				t.Errorf("FailWarnings %v: %s (%v, findings %v) failed %v, want %v", failWarnings, code, s, hasFindings, c.failed, wantFail)
			}
			if c.failed {
				failed++
				if c.failureType != s.String() || !strings.Contains(c.failure, "fix: ") {
					t.Errorf("%s: failure type %q, text %q", code, c.failureType, c.failure)
				}
			}
			if hasFindings && !c.failed && (!strings.Contains(c.out, "testdata/mixed.rss:") || !strings.Contains(c.out, "fix: ")) {
				t.Errorf("%s: a %v that does not fail is not listed in system-out: %q", code, s, c.out)
			}
			if !hasFindings && (c.failed || c.out != "") {
				t.Errorf("%s: no findings, yet failure %q, system-out %q", code, c.failure, c.out)
			}
		}
		if suite.Attrs["failures"] != strconv.Itoa(failed) || root.Attrs["failures"] != strconv.Itoa(failed) {
			t.Errorf("failures attributes %s, %s; %d testcases failed", suite.Attrs["failures"], root.Attrs["failures"], failed)
		}
		props := map[string]string{}
		for _, c := range suite.Children {
			if c.Name == "properties" {
				for _, p := range c.Children {
					props[p.Attrs["name"]] = p.Attrs["value"]
				}
			}
		}
		if props["errors"] != strconv.Itoa(r.Errors) || props["warnings"] != strconv.Itoa(r.Warnings) || props["infos"] != strconv.Itoa(r.Infos) {
			t.Errorf("properties %v; want errors %d, warnings %d, infos %d", props, r.Errors, r.Warnings, r.Infos)
		}
	}
}

// TestJUnitWarningsOnlyPass: a run with warnings and no errors that does
// not fail has no failure in JUnit either.
func TestJUnitWarningsOnlyPass(t *testing.T) {
	r := lintString(t, rss(item("-brand"), item("id", "A2", "-brand")), Options{MaxPerRule: 1, Disable: []string{"gtin-reused"}})
	if r.Errors != 0 || r.Warnings != 2 {
		t.Fatalf("want 2 warnings only: %+v", r.Counts)
	}
	root := parseXML(t, writeJUnitDoc(t, r, WriteOptions{}))
	_, cases := junitCases(t, root)
	if root.Attrs["failures"] != "0" || cases["missing-brand"].failed {
		t.Fatalf("warnings within the limit failed the JUnit report:\n%s", writeJUnitDoc(t, r, WriteOptions{}))
	}
	if out := cases["missing-brand"].out; !strings.Contains(out, "2 warnings") || !strings.Contains(out, "… and 1 more") {
		t.Errorf("system-out %q: want the count and the findings left out", out)
	}
	_, cases = junitCases(t, parseXML(t, writeJUnitDoc(t, r, WriteOptions{FailWarnings: true})))
	if c := cases["missing-brand"]; !c.failed || !strings.Contains(c.failureMsg, "2 warnings") || !strings.Contains(c.failure, "… and 1 more") {
		t.Errorf("FailWarnings: missing-brand %+v", c)
	}
}
