// Package feedsync holds what ties the parts together: the configuration
// (defaults, YAML with ${ENV} expansion, validation that names the key) and
// Sync, one sync of one feed from fetch to commit. The parts live in feed
// (fetch, parse), tree (products per policy), store (state, diff) and push
// (catalog sinks); cmd/feedsync parses flags and maps errors to exit codes.
package feedsync
