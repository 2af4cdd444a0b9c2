//go:build !unix

package store

import "os"

// Without flock there is no daemon lock: a second daemon meets the state
// file's own lock during its first run, and other commands fail fast.
func lockFile(*os.File) error { return nil }

func unlockFile(*os.File) {}
