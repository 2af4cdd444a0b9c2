package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/feedsync/feedsync/feed/feedgen"
)

func main() {
	format := flag.String("format", "rss", "rss, atom, csv or tsv")
	items := flag.Int("items", 1000, "number of items")
	seed := flag.Uint64("seed", 1, "random seed: the same seed gives the same feed")
	out := flag.String("o", "-", "output file, - for standard output")
	flag.Parse()
	if err := run(feedgen.Options{Format: feedgen.Format(*format), Items: *items, Seed: *seed}, *out); err != nil {
		fmt.Fprintln(os.Stderr, "feedgen:", err)
		os.Exit(1)
	}
}

// run writes to a temporary file renamed into place at the end, so that an
// interrupted run never leaves a truncated feed that looks complete.
func run(o feedgen.Options, out string) error {
	if out == "-" {
		return feedgen.Write(os.Stdout, o)
	}
	f, err := os.CreateTemp(dirOf(out), ".feedgen-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := feedgen.Write(f, o); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), out)
}

func dirOf(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[:i+1]
		}
	}
	return "."
}
