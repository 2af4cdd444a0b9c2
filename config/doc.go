// Package config is feedsync's configuration file: the Config, Feed,
// Catalog, Run, Lint, Log and Metrics types and their defaults (Defaults,
// FeedDefaults); Load and Parse, which read YAML, take ${VAR} in any value
// from the environment (an unset variable is an error) and validate the
// result; and the value types the file holds: Duration (at most
// MaxDuration), sizes (ParseSize), removal limits (ParseMaxDelete) and cron
// schedules.
//
// What it owns: turning a file into a Config that is safe to run. Unknown
// keys are errors, and every problem is reported at once as one *Error, each
// naming its key path and value (feeds[1].policy: "parents": want parent or
// variant). Relative paths are resolved against the file's directory.
// ApplyMemoryLimit applies memory_limit (GOMEMLIMIT wins), and
// Config.Secrets lists every secret the configuration holds (the catalog
// token, header values, URL user info and query values) for the scrubber in
// internal/redact.
//
// What it does not: run anything. One sync is package engine, scheduling is
// package daemon, published feeds are package publish; all of them read a
// Config.
//
// Import rule: config imports feed (format names), tree (policies and field
// mappings), internal/redact and internal/memlimit (memory_limit: auto)
// only, so that it validates each value where that value is defined. It must not import engine, daemon, publish, store,
// push, lint or cmd/feedsync: they sit above it.
package config
