package lint

import (
	"cmp"
	"slices"
)

// Finding is one defect: where it is, which rule it breaks, and what is wrong.
type Finding struct {
	File     string   `json:"file"`
	Line     int      `json:"line,omitempty"`
	ItemID   string   `json:"item_id,omitempty"`
	Attr     string   `json:"attribute,omitempty"`
	Code     string   `json:"rule"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
}

// FileSummary is what linting one feed saw.
type FileSummary struct {
	File   string `json:"file"`
	Format string `json:"format,omitempty"`
	Items  int    `json:"items"`
	// Fatal is true when the feed could not be read to its end.
	Fatal bool `json:"fatal,omitempty"`
}

// RuleCount is how many findings a rule had, and how many of them the
// report leaves out (beyond the per-rule cap).
type RuleCount struct {
	Code     string   `json:"rule"`
	Severity Severity `json:"severity"`
	Count    int      `json:"count"`
	Omitted  int      `json:"omitted,omitempty"`
}

// Report is the outcome of linting one or more feeds.
type Report struct {
	Files []FileSummary `json:"files"`
	// Findings are sorted by file, line, rule; capped per rule (see Counts).
	Findings []Finding `json:"findings"`
	// Counts has one entry per rule with findings, in registry order.
	Counts []RuleCount `json:"counts"`
	// Rules are the rules that ran.
	Rules    []Rule `json:"-"`
	Errors   int    `json:"errors"`
	Warnings int    `json:"warnings"`
	Infos    int    `json:"infos"`
}

// Fatal reports whether some feed could not be read to its end.
func (r *Report) Fatal() bool {
	for _, f := range r.Files {
		if f.Fatal {
			return true
		}
	}
	return false
}

// Items is the number of items read in all files.
func (r *Report) Items() int {
	n := 0
	for _, f := range r.Files {
		n += f.Items
	}
	return n
}

// Failed reports whether the lint fails: an error, or more warnings than
// maxWarnings (negative: no limit).
func (r *Report) Failed(maxWarnings int) bool {
	return r.Errors > 0 || maxWarnings >= 0 && r.Warnings > maxWarnings
}

// sortFindings orders findings by file (in the order linted), line, rule, attribute.
func sortFindings(fs []Finding, fileOrder map[string]int) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(fileOrder[a.File], fileOrder[b.File]),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Code, b.Code),
			cmp.Compare(a.Attr, b.Attr),
			cmp.Compare(a.ItemID, b.ItemID),
		)
	})
}
