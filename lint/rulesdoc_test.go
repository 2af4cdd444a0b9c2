package lint

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/feedsync/feedsync/tree"
)

// rulesDoc is docs/feed-rules.md, generated from the registry.
const rulesDoc = "../docs/feed-rules.md"

// TestFeedRulesDoc keeps docs/feed-rules.md what the registry says: every
// rule with its code, severity, category, summary, fix hint and Google
// source. go test ./lint -run TestFeedRulesDoc -update rewrites the file.
func TestFeedRulesDoc(t *testing.T) {
	got := renderRulesDoc(Rules())
	if *update {
		if err := os.WriteFile(rulesDoc, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(rulesDoc)
	if err != nil {
		t.Fatalf("%v (go test ./lint -run TestFeedRulesDoc -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is not what the rule registry says: run go test ./lint -run TestFeedRulesDoc -update and review the diff", rulesDoc)
	}
	// Belt and braces, should the generator drop something: every rule's
	// entry names its severity and links its source.
	doc := string(want)
	for _, r := range Rules() {
		entry := fmt.Sprintf("### `%s`\n\n- Severity: %s\n", r.Code, r.Severity)
		if !strings.Contains(doc, entry) || !strings.Contains(doc, "("+r.URL+")") {
			t.Errorf("%s lacks rule %s (%s) or its source %s", rulesDoc, r.Code, r.Severity, r.URL)
		}
	}
}

// mdText escapes text for a Markdown paragraph or list item.
func mdText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "*", `\*`, "|", `\|`, "`", "\\`", "[", `\[`, "]", `\]`).Replace(s)
}

// variantAttrsMD lists tree.VariantAttributes as code: `color`, … and `size_system`.
func variantAttrsMD() string {
	var q []string
	for _, a := range tree.VariantAttributes {
		q = append(q, "`"+a+"`")
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}

func renderRulesDoc(rules []Rule) []byte {
	var b bytes.Buffer
	b.WriteString(`# Feed rules

<!-- Generated from lint's rule registry (lint/rules.go) by
go test ./lint -run TestFeedRulesDoc -update; the test fails when this file
and the registry differ. Edit the registry, not this file. -->

` + "`feedsync lint`" + ` checks product feeds against the rules of Google Merchant
Center's [product data specification](https://support.google.com/merchants/answer/7052112)
and the help pages around it. This page lists every rule: its code (for
` + "`--disable`, `--enable`" + ` and the ` + "`lint:`" + ` section of the configuration), its
severity and category, what it catches, how to fix a finding, and the part
of Google's documentation it rests on. ` + "`feedsync lint --rules`" + ` prints the same
list (` + "`--rules --format json`" + ` as JSON, ` + "`--rules --format sarif`" + ` as a
SARIF log without results), and SARIF output links each rule's page as its
` + "`helpUri`" + `.

Severity:

- **error**: Google disapproves the item, or cannot read the file or the
  row. Any error makes ` + "`feedsync lint`" + ` exit with code 1.
- **warning**: Google warns, truncates or ignores a value, or the item
  performs worse; ` + "`--max-warnings`" + ` can fail a run on warnings.
- **info**: hygiene, or a best practice.

Basis, how firmly Google's page states the rule:

- **google**: the cited page states it.
- **unconfirmed**: the rule follows Google's specification as it is commonly
  documented, but the current page was not confirmed to state it. Such a rule
  is never an error.
- **feedsync**: feedsync's own check, for a defect real shop feeds show or one
  the sync would trip over; the source is the Google page nearest to it.

Rules marked *off by default* run only with ` + "`--enable CODE`" + `; rules marked
*needs --policy* look at variant groups and run only with ` + "`--policy parent`" + `
or ` + "`--policy variant`" + `.

Duplicate variants: two items of one ` + "`item_group_id`" + ` are duplicates when their
` + variantAttrsMD() + ` are all equal,
compared case-insensitively with white space collapsed. ` + "`feedsync lint`" + ` and the
sync find the same duplicates from one definition (` + "`tree.VariantAttributes`" + `).

## Rules

| Code | Severity | Category | Basis |
|---|---|---|---|
`)
	for _, r := range rules {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s | %s | %s |\n", r.Code, r.Code, r.Severity, r.Category, r.Basis)
	}
	var cats []string
	for _, r := range rules {
		if !slices.Contains(cats, r.Category) {
			cats = append(cats, r.Category)
		}
	}
	for _, cat := range cats {
		fmt.Fprintf(&b, "\n## Category %s\n", cat)
		for _, r := range rules {
			if r.Category != cat {
				continue
			}
			fmt.Fprintf(&b, "\n### `%s`\n\n", r.Code)
			fmt.Fprintf(&b, "- Severity: %s\n", r.Severity)
			fmt.Fprintf(&b, "- Category: %s\n", r.Category)
			if r.Off {
				fmt.Fprintf(&b, "- *Off by default*: `--enable %s`\n", r.Code)
			}
			if r.Policy {
				b.WriteString("- *Needs --policy*\n")
			}
			fmt.Fprintf(&b, "- Catches: %s\n", mdText(r.Summary))
			fmt.Fprintf(&b, "- Fix: %s\n", mdText(r.Hint))
			fmt.Fprintf(&b, "- Source: [%s](%s)\n", mdText(r.Source), r.URL)
			fmt.Fprintf(&b, "- Basis: %s\n", r.Basis)
		}
	}
	return b.Bytes()
}
