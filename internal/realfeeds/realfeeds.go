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
		t.Skipf("real feeds not available: set %s to the folder that holds them", Env)
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
