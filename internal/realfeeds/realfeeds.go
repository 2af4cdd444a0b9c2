// Package realfeeds locates the real shops' feeds that some tests read. They
// live outside the repository (their licences forbid committing them), in
// the folder $FEEDSYNC_REALFEEDS names; `make test` sets it to
// ../shared/realfeeds when that folder exists. It imports no other feedsync
// package and is used by tests only.
package realfeeds

import (
	"os"
	"path/filepath"
	"testing"
)

// Env is the variable naming the folder.
const Env = "FEEDSYNC_REALFEEDS"

// Dir returns the folder, or skips the test with a message naming Env when
// it is unset or absent.
func Dir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(Env)
	if dir == "" {
		t.Skipf("real feeds not available: set %s to the folder that holds them (../shared/realfeeds)", Env)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("real feeds not available at %s=%s: %v", Env, dir, err)
	}
	return dir
}

// File is Dir joined with name.
func File(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(Dir(t), name)
}
