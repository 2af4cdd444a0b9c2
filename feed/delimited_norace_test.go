//go:build !race

package feed

// delimRace: see delimited_race_test.go.
const delimRace = false
