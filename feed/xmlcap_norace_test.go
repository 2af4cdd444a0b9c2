//go:build !race

package feed

const capRace = false
