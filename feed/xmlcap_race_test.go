//go:build race

package feed

// capRace is set under the race detector, which slows encoding/xml (the
// reference of TestXMLValueCapMatchesReference) tenfold.
const capRace = true
