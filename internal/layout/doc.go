// Package layout holds no code: its test checks that imports between
// feedsync's packages run one way, as the README's Layout section draws
// them — feed → tree → store → push, the engine above them, daemon and
// publish above the engine, cmd on top, and config below the engine. It
// must not be imported.
package layout
