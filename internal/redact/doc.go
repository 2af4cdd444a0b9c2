// Package redact scrubs secrets from text before feedsync shows or stores
// it: a Redactor replaces every occurrence of a secret, in each of the forms
// it takes in feedsync's output (as is, JSON-escaped, Go-quoted,
// URL-escaped), with Mask.
//
// What it owns: finding secrets in strings, byte slices and errors, and a
// line-buffered io.Writer (for the logger) that never emits a line — or a
// secret — in pieces. It does not know where secrets come from: package
// config collects them from a loaded configuration (Config.Secrets), push
// hands it the catalog token it holds.
//
// What it must not import: any other feedsync package (config, engine,
// daemon, publish, push, feed, store, tree, lint, cmd/feedsync). It sits
// below all of them, so that each may use it without an import cycle; the
// standard library is all it needs.
package redact
