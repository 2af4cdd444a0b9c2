package lint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/feedsync/feedsync/feed"
	"github.com/feedsync/feedsync/tree"
)

// TestSARIFSchema validates SARIF output against a JSON schema: the
// official SARIF 2.1.0 schema when testdata/sarif-schema-2.1.0.json is
// present (it is not vendored here), else the hand-written excerpt
// testdata/sarif-2.1.0-subset.schema.json, which keeps the official
// constraints (required properties, enums, additionalProperties false) for
// every object lint writes.
func TestSARIFSchema(t *testing.T) {
	path := "testdata/sarif-schema-2.1.0.json"
	if _, err := os.Stat(path); err != nil {
		path = "testdata/sarif-2.1.0-subset.schema.json"
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	reports := map[string]*Report{"mixed": mixedReport(t)}
	l, _ := New(Options{Policy: tree.PolicyVariant})
	l.Unreadable("missing.xml", fmt.Errorf("no such file"))
	_ = l.Lint(strings.NewReader(rss(item("raw", "<g:title>a & b</g:title>"))), "broken.xml", feed.FormatAuto)
	reports["unreadable-and-broken"] = l.Report()
	empty, _ := New(Options{})
	_ = empty.Lint(strings.NewReader(rss(item())), "clean.xml", feed.FormatAuto)
	reports["clean"] = empty.Report()
	for name, r := range reports {
		var buf bytes.Buffer
		if err := Write(&buf, r, "sarif", WriteOptions{Version: "test"}); err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		v := &validator{root: schema}
		v.check(schema, doc, "$")
		for _, e := range v.errs {
			t.Errorf("%s: %s", name, e)
		}
	}

	// The validator itself catches what it should.
	v := &validator{root: schema}
	v.check(schema, map[string]any{"version": "2.0", "runs": []any{map[string]any{"tool": map[string]any{"driver": map[string]any{}}, "bogus": 1}}}, "$")
	if len(v.errs) < 3 {
		t.Errorf("a bad log passed the validator: %v", v.errs)
	}
	v = &validator{root: schema}
	v.check(map[string]any{"$ref": "#/definitions/reportingDescriptor"}, map[string]any{"id": "x", "helpUri": "docs/feed-rules.md"}, "$")
	if len(v.errs) != 1 {
		t.Errorf("a relative helpUri passed the validator: %v", v.errs)
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

// validator checks a JSON value against the JSON Schema keywords SARIF's
// schema uses: type, enum, properties, required, additionalProperties,
// items, minItems, uniqueItems, minimum, maximum, pattern, anyOf, allOf,
// oneOf, local $ref, and format uri and uri-reference. Descriptions are
// not checked.
type validator struct {
	root map[string]any
	errs []string
}

func (v *validator) fail(at, format string, args ...any) {
	v.errs = append(v.errs, at+": "+fmt.Sprintf(format, args...))
}

func (v *validator) resolve(ref string) map[string]any {
	node := any(v.root)
	for _, p := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, _ := node.(map[string]any)
		node = m[p]
	}
	m, _ := node.(map[string]any)
	return m
}

// valid reports whether x matches s without recording errors.
func (v *validator) valid(s map[string]any, x any, at string) bool {
	sub := &validator{root: v.root}
	sub.check(s, x, at)
	return len(sub.errs) == 0
}

func (v *validator) check(s map[string]any, x any, at string) {
	if s == nil {
		return
	}
	if ref, ok := s["$ref"].(string); ok {
		target := v.resolve(ref)
		if target == nil {
			v.fail(at, "unresolved $ref %s", ref)
			return
		}
		v.check(target, x, at)
	}
	if t, ok := s["type"]; ok && !typeMatches(t, x) {
		v.fail(at, "type %v, got %T", t, x)
		return
	}
	if e, ok := s["enum"].([]any); ok {
		found := false
		for _, want := range e {
			if fmt.Sprint(want) == fmt.Sprint(x) {
				found = true
			}
		}
		if !found {
			v.fail(at, "%v not in enum %v", x, e)
		}
	}
	for _, key := range []string{"allOf", "anyOf", "oneOf"} {
		list, ok := s[key].([]any)
		if !ok {
			continue
		}
		n := 0
		for _, sub := range list {
			sm, _ := sub.(map[string]any)
			if v.valid(sm, x, at) {
				n++
			}
		}
		switch {
		case key == "allOf" && n != len(list), key == "anyOf" && n == 0, key == "oneOf" && n != 1:
			v.fail(at, "%s: %d of %d subschemas match", key, n, len(list))
		}
	}
	switch x := x.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		if req, ok := s["required"].([]any); ok {
			for _, r := range req {
				if _, ok := x[r.(string)]; !ok {
					v.fail(at, "missing required property %q", r)
				}
			}
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if ps, ok := props[k].(map[string]any); ok {
				v.check(ps, x[k], at+"."+k)
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					v.fail(at, "property %q is not allowed", k)
				}
			case map[string]any:
				v.check(ap, x[k], at+"."+k)
			}
		}
	case []any:
		if m, ok := s["minItems"].(float64); ok && float64(len(x)) < m {
			v.fail(at, "%d items, want at least %v", len(x), m)
		}
		if u, ok := s["uniqueItems"].(bool); ok && u {
			seen := map[string]bool{}
			for _, e := range x {
				b, _ := json.Marshal(e)
				if seen[string(b)] {
					v.fail(at, "duplicate item %s", b)
				}
				seen[string(b)] = true
			}
		}
		if is, ok := s["items"].(map[string]any); ok {
			for i, e := range x {
				v.check(is, e, fmt.Sprintf("%s[%d]", at, i))
			}
		}
	case float64:
		if m, ok := s["minimum"].(float64); ok && x < m {
			v.fail(at, "%v below minimum %v", x, m)
		}
		if m, ok := s["maximum"].(float64); ok && x > m {
			v.fail(at, "%v above maximum %v", x, m)
		}
	case string:
		if p, ok := s["pattern"].(string); ok {
			if re, err := regexp.Compile(p); err == nil && !re.MatchString(x) {
				v.fail(at, "%q does not match %s", x, p)
			}
		}
		switch s["format"] {
		case "uri": // RFC 3986 URI: absolute, with a scheme
			if u, err := url.Parse(x); err != nil || !u.IsAbs() || strings.ContainsAny(x, " \t\n") {
				v.fail(at, "%q is not an absolute URI", x)
			}
		case "uri-reference":
			if _, err := url.Parse(x); err != nil || strings.ContainsAny(x, " \t\n") {
				v.fail(at, "%q is not a URI reference", x)
			}
		}
	}
}

func typeMatches(t any, x any) bool {
	switch t := t.(type) {
	case []any:
		for _, one := range t {
			if typeMatches(one, x) {
				return true
			}
		}
		return false
	case string:
		switch t {
		case "object":
			_, ok := x.(map[string]any)
			return ok
		case "array":
			_, ok := x.([]any)
			return ok
		case "string":
			_, ok := x.(string)
			return ok
		case "boolean":
			_, ok := x.(bool)
			return ok
		case "number":
			_, ok := x.(float64)
			return ok
		case "integer":
			f, ok := x.(float64)
			return ok && f == math.Trunc(f)
		case "null":
			return x == nil
		}
	}
	return true
}
