// Command feedgen writes a deterministic synthetic product feed (see package
// feedgen), for benchmarks:
//
//	feedgen -format rss -items 100000 -seed 1 -o testdata/bench/feed-100k.xml
//
// Import rule: it imports feedgen only, never feed: the feeds it writes
// must not depend on the parser they test.
package main
