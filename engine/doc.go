// Package engine runs one sync of one feed into one catalog. Syncer.Sync
// is the whole pipeline:
//
//	fetch → build → guards → diff → intent journal → push → commit
//
// It fetches the feed (package feed; conditional GET and the unchanged-body
// shortcut, unless Options.FullScan or a sale window's edge passed), tries
// to recognise it by its items' bytes without parsing it (recognise.go),
// else builds the products by the feed's
// policy (package tree), and refuses the run before anything is sent when a
// guard says so (*RefusedError: the feed produced no products, or its
// removals exceed max_delete, as a policy switch's usually do). Then it
// diffs each product's hash against the state (package store), journals
// every batch of operations before the sink sees it (store.Intend), pushes
// through a sink (package push) and commits the hashes of what the sink
// acknowledged, in batches.
//
// What it owns: the modes (ModeSync, ModeResync, ModePlan), Options (the
// mode, the guard override, the full scan), the Observer a caller hands a
// run to watch it (problems, progress, products for plan and publish),
// Summary (the outcome of a run, printed by --json and kept in the run
// history), what happens to products that left the feed (on_missing), one
// owner per custom_id among the feeds of a catalog, and the redaction of
// secrets from every error it stores or returns (Syncer.Redact).
//
// What it does not: decide when a feed runs (package daemon, or the CLI),
// read the configuration file (package config), or write published feeds
// (Observer.Product hands every product to a caller that does).
//
// Import rule: engine imports config, feed, tree, store, push and
// internal/redact. It must not import daemon, publish, lint or cmd/feedsync:
// they sit above it.
package engine
