// Command feedcount reads a feed file with package feed, counts its items and
// prints the throughput and the process's peak resident memory (VmHWM), which
// is how `make bench` shows that memory does not grow with the feed's size:
//
//	feedcount testdata/bench/feed-1m.xml
//	rss    2107.4 MB    7.50 s    281.0 MB/s    133333 items/s  peak RSS   17 MB  1000000 items  (…)
//
// Import rule: it imports feed only, so that the memory it reports is the
// parser's and nothing else's.
package main
