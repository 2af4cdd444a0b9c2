// Package lint checks product feeds against Google Merchant Center's product
// data rules (the product data specification,
// https://support.google.com/merchants/answer/7052112, and the help pages
// around it) and writes the findings for people
// (text) and for CI systems (JSON, SARIF 2.1.0, GitHub workflow commands,
// JUnit XML).
//
// It is its own package because the rule registry and the output formats
// serve one command, feedsync lint, and use both feed (items, reader
// problems, price and availability parsing) and tree (the variant policy):
// feed and tree stay about reading and shaping, and nothing that syncs a
// catalog pays for linting.
//
// Data enters as a byte stream (Linter.Lint, one call per feed) and leaves as
// a Report, which Write renders. Linting streams: the reader runs on its own
// goroutine and hands items over in batches; item rules run on each item and
// are then done with it; feed-wide checks (duplicate ids, variant
// groups) keep compact records — a hash and a line per id, a few strings per
// variant — never items. The id records outlive their feed: the feeds of one
// run are checked against each other for shared custom_ids, which the sync
// refuses between feeds of one catalog. Findings are kept up to a cap per
// rule and counted beyond it, so a million items with the same defect cost a
// counter, not a million findings.
//
// The XML reader turns raw HTML tags inside a value into text and trims
// values, so what only the bytes show (raw markup, the plain form of a
// title beside its g: form, a byte order mark, header spelling) is seen by a
// sniffer on the byte stream, on the reader's side.
//
// Every rule has a stable code, a severity, a one-line fix hint and its
// source: the section of Google's documentation it rests on, by name and
// URL, and how firmly the page states it (Basis); a rule Google's current
// page was not confirmed to state is at most a warning. Rules lists them
// all; docs/feed-rules.md is generated from them.
//
// Import rule: lint imports feed and tree only. It must not import config,
// engine, daemon, publish, store, push or internal/redact, and only
// cmd/feedsync imports lint.
package lint
