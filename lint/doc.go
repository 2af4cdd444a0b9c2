// Package lint checks product feeds against Google Merchant Center's product
// data rules (../shared/FEED-SPEC.md §4) and writes the findings for people
// (text) and for CI systems (JSON, SARIF 2.1.0, GitHub workflow commands,
// JUnit XML).
//
// It is its own package because the rule registry and the output formats
// serve one command, feedsync lint, and use both feed (items, reader
// problems, price and availability parsing) and tree (the variant policy):
// feed and tree stay about reading and shaping, and nothing that syncs a
// catalog pays for linting.
//
// Data enters as a byte stream (Linter.Lint) or as items (Linter.Check) and
// leaves as a Report. Linting streams: item rules run on each item as it is
// read and are then done with it; feed-wide checks (duplicate ids, variant
// groups) keep compact records — a hash and a line per id, a few strings per
// variant — never items. Findings are kept up to a cap per rule and counted
// beyond it, so a million items with the same defect cost a counter, not a
// million findings.
//
// Every rule has a stable code, a severity, a one-line fix hint and its
// source in FEED-SPEC.md; a fact the spec marks unverified [U] is at most a
// warning. Rules lists them all.
package lint
