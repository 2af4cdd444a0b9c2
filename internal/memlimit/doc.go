// Package memlimit keeps the Go heap's soft limit above what the program
// needs: memory_limit's "auto" (Follow).
//
// A soft limit below the live heap makes the collector run without pause —
// up to half the CPU — and a sync of a 3M-item feed took twice as long
// under the fixed 320 MiB limit as without one. Follow sets a floor and,
// after every collection, raises the limit to a margin above the live heap
// (and lowers it back towards the floor when the heap shrinks), so that a
// small feed's memory stays bounded and a big one is never starved.
//
// What it owns: the limit while Follow is in force. What it must not do:
// import any feedsync package; only config calls it.
package memlimit
