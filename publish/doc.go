// Package publish writes shaped feeds for other consumers.
//
// Transform, behind `feedsync transform`, reads a feed, shapes it into
// products by a policy and field mapping exactly as a sync does (package
// tree), and writes them in an OutputFormat: Google RSS 2.0 with the g:
// namespace (the parent's derived fields, not Google attributes, in
// feedsync's own fs: namespace, FeedsyncNS), CSV, Google's TSV, or the
// JSONL sink's lines (push.AppendLine). Nothing is written before the whole
// input is read; the XML, CSV and TSV outputs read back into the same
// products (derived fields aside).
//
// Publisher keeps the latest shaped feed of each feed with publish: true as
// <dir>/<name>.xml and serves it at /feeds/<name>.xml with ETag,
// Last-Modified and 304s. An edition (Begin, Add, Commit) replaces the file
// atomically (WriteFileAtomic) and only when its bytes changed; only the
// feeds the running configuration publishes are served (Configure), the
// others' editions are deleted, and a symbolic link is never served or
// written through.
//
// What it does not: sync, schedule or serve HTTP on its own. The daemon
// hands it each run's products and mounts it on its listener.
//
// Import rule: publish imports config, feed and tree. It sits above engine
// and may import it, though it needs nothing from it today. It must not
// import daemon (which imports publish), lint or cmd/feedsync.
package publish
