//go:build race

package feed

// delimRace: the race detector makes moving hundreds of megabytes slow;
// tests that do so run fewer variants under it.
const delimRace = true
