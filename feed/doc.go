// Package feed reads product feeds: it fetches bytes from a file or an HTTP
// server (with conditional GET and size limits), detects the format from the
// content (RSS 2.0, Atom 1.0, CSV, TSV, optionally gzip-compressed), and streams
// Items, one at a time, each with its ordered attributes and the line it starts on.
// Normalisation (trimmed values, canonical availability, exact decimal prices) is
// done here, once.
//
// It does not group items (package tree does) and it never holds a whole
// document in memory: memory grows with the size of one item, not of the feed.
//
// With WithItemHash each RSS/Atom item also carries Raw, a hash of its bytes;
// ScanItems yields the same hashes (and lines) without parsing the items, so
// that a caller can tell that a feed holds only items it has read before at a
// fraction of the cost of reading it.
//
// Data enters through Fetch (or any io.Reader handed to NewReader or
// ScanItems) and leaves through Reader.Next or ScanItems' callback.
//
// Import rule: feed imports no other feedsync package. It sits at the
// bottom with store and internal/redact; tree, lint, config, engine and
// publish import it, and it must not import any of them.
package feed
