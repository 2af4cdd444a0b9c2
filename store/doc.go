// Package store keeps feedsync's state in one bbolt file: per feed, the hash
// of every product the catalog acknowledged, fetch metadata (ETag,
// Last-Modified, body hash) and a short run history. It answers the diff
// (create, update, unchanged, missing) and records acknowledgements.
//
// It knows product IDs, hashes and opaque payload bytes; it knows nothing of
// feeds, policies or sinks. Transactions are short and never span network I/O:
// callers look up, push, then commit acknowledgements in batches.
//
// Import rule: store imports no other feedsync package. engine, daemon and
// cmd/feedsync import it; it must not import feed, tree, push, config or
// anything above them.
package store
