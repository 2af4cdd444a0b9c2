package main

import (
	"github.com/spf13/cobra"
)

// notImplemented is the body of a command whose issue has not landed yet: it
// exits 2 with a clear message rather than pretending to work.
func notImplemented(name string) func(*cobra.Command, []string) error {
	return func(*cobra.Command, []string) error {
		return usagef("%s is not implemented yet in this version of feedsync", name)
	}
}
