//go:build race

package tree

// raceEnabled: the race detector slows the heavy property tests twentyfold.
const raceEnabled = true
