// Package feedgen writes deterministic synthetic product feeds — RSS 2.0,
// Atom 1.0, CSV and TSV — of any number of items, for benchmarks and tests.
//
// It exists because real feeds cannot be committed (their licences forbid it)
// and are small: proving that a parser keeps ≥ 250 MB/s and bounded memory on a
// 2 GB feed needs a 2 GB feed, and proving that two parsers agree needs many
// feeds with every pattern real shops produce. Each item is about 2.1 KB of
// RSS (1M items ≈ 2.1 GB) and carries what real feeds carry: 40% of items in
// variant groups (item_group_id, color, size), entity references, CDATA and
// markup in descriptions, non-ASCII text (Czech, German, Russian, Japanese),
// repeated additional images and shipping blocks with sub-attributes.
//
// The same Options always give the same bytes, so figures measured on
// different machines or days are comparable. feedgen does not read feeds and
// does not depend on package feed; data leaves only through Write.
//
// Import rule: feedgen imports no other feedsync package, and only tests
// and its own commands import it: feedsync's packages must not.
//
// The command feed/feedgen/cmd/feedgen writes a feed to a file;
// feed/feedgen/cmd/feedcount reads one with package feed and prints MB/s,
// items/s and peak memory.
package feedgen
