package lint

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feedsync/feedsync/feed"
	"github.com/feedsync/feedsync/tree"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// mixedReport lints testdata/mixed.rss, a feed with one or two defects of
// many kinds.
func mixedReport(t *testing.T) *Report {
	t.Helper()
	f, err := os.Open("testdata/mixed.rss")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l, err := New(Options{Policy: tree.PolicyVariant})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Lint(f, "testdata/mixed.rss", feed.FormatAuto); err != nil {
		t.Fatal(err)
	}
	return l.Report()
}

func TestOutputGolden(t *testing.T) {
	r := mixedReport(t)
	for _, tc := range []struct{ format, file string }{
		{"text", "mixed.txt"}, {"json", "mixed.json"}, {"sarif", "mixed.sarif"},
		{"github", "mixed.github"}, {"junit", "mixed.junit.xml"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, r, tc.format, WriteOptions{Version: "v1.2.3", BaseDir: "/src/feedsync"}); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", tc.file)
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s output differs from %s (go test -update rewrites it):\n%s", tc.format, path, buf.String())
			}
		})
	}
}

func TestTextColoursOnlyWhenAsked(t *testing.T) {
	r := mixedReport(t)
	var plain, colour bytes.Buffer
	_ = Write(&plain, r, "text", WriteOptions{})
	_ = Write(&colour, r, "text", WriteOptions{Color: true})
	if strings.Contains(plain.String(), "\x1b[") {
		t.Error("plain text holds ANSI escapes")
	}
	if !strings.Contains(colour.String(), "\x1b[31m") {
		t.Error("coloured text has no red")
	}
	if !strings.Contains(plain.String(), "errors,") || !strings.Contains(plain.String(), "(4 items)") {
		t.Errorf("no summary line:\n%s", plain.String())
	}
}

// TestSARIFStructure checks what SARIF 2.1.0 and GitHub code scanning need:
// version and $schema, rules with unique ids, results that name a rule, a
// level, a message and a physical location with a line.
func TestSARIFStructure(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, mixedReport(t), "sarif", WriteOptions{Version: "test"}); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID                   string            `json:"id"`
						ShortDescription     map[string]string `json:"shortDescription"`
						DefaultConfiguration map[string]string `json:"defaultConfiguration"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    *string `json:"ruleId"`
				RuleIndex *int    `json:"ruleIndex"`
				Level     string  `json:"level"`
				Message   struct {
					Text string `json:"text"`
				} `json:"message"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI       string `json:"uri"`
							URIBaseID string `json:"uriBaseId"`
						} `json:"artifactLocation"`
						Region *struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	dec := json.NewDecoder(&buf)
	if err := dec.Decode(&log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || !strings.Contains(log.Schema, "sarif") || len(log.Runs) != 1 {
		t.Fatalf("version %q, schema %q, %d runs", log.Version, log.Schema, len(log.Runs))
	}
	run := log.Runs[0]
	if run.Tool.Driver.Name == "" {
		t.Error("driver has no name")
	}
	ids := map[string]int{}
	for i, r := range run.Tool.Driver.Rules {
		if r.ID == "" || r.ShortDescription["text"] == "" {
			t.Errorf("rule %d: id %q, shortDescription %v", i, r.ID, r.ShortDescription)
		}
		if _, dup := ids[r.ID]; dup {
			t.Errorf("rule id %q twice", r.ID)
		}
		switch r.DefaultConfiguration["level"] {
		case "error", "warning", "note":
		default:
			t.Errorf("rule %s: level %q", r.ID, r.DefaultConfiguration["level"])
		}
		ids[r.ID] = i
	}
	if len(run.Results) == 0 {
		t.Fatal("no results")
	}
	for i, res := range run.Results {
		if res.RuleID == nil || res.RuleIndex == nil {
			t.Fatalf("result %d lacks ruleId or ruleIndex", i)
		}
		if idx, ok := ids[*res.RuleID]; !ok || idx != *res.RuleIndex {
			t.Errorf("result %d: ruleId %q, ruleIndex %d does not match the rules", i, *res.RuleID, *res.RuleIndex)
		}
		switch res.Level {
		case "error", "warning", "note", "none":
		default:
			t.Errorf("result %d: level %q", i, res.Level)
		}
		if res.Message.Text == "" || len(res.Locations) != 1 {
			t.Errorf("result %d: message %q, %d locations", i, res.Message.Text, len(res.Locations))
			continue
		}
		pl := res.Locations[0].PhysicalLocation
		if pl.ArtifactLocation.URI != "testdata/mixed.rss" || pl.ArtifactLocation.URIBaseID != "%SRCROOT%" || pl.Region == nil || pl.Region.StartLine < 1 {
			t.Errorf("result %d: location %+v", i, pl)
		}
	}
}

func TestGitHubEscaping(t *testing.T) {
	r := &Report{Files: []FileSummary{{File: "a,b:c.xml", Items: 1}}, Errors: 1,
		Findings: []Finding{{File: "a,b:c.xml", Line: 3, Code: "missing-price", Severity: Error, Message: "50% off\nnext"}}}
	var buf bytes.Buffer
	_ = Write(&buf, r, "github", WriteOptions{})
	want := "::error file=a%2Cb%3Ac.xml,line=3,title=missing-price::50%25 off%0Anext\n"
	if !strings.HasPrefix(buf.String(), want) {
		t.Errorf("got %q, want prefix %q", buf.String(), want)
	}
}
