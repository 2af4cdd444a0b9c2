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

func newLintCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "lint [--format text|json|sarif|github|junit] [--policy parent|variant] PATH|URL...",
		Short: "Check feeds against Google's product data rules (not implemented yet)",
		Args:  wrapArgs(cobra.MinimumNArgs(1)),
		RunE:  notImplemented("feedsync lint"),
	}
	c.Flags().String("format", "text", "output format: text, json, sarif, github or junit")
	c.Flags().String("policy", "", "also check variant groups as this policy would shape them: parent or variant")
	return c
}
