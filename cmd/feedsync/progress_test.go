package main

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/creack/pty"
	"github.com/spf13/cobra"
)

// TestProgressIsShownOnlyWhereItBelongs checks the rules of newProgress on a
// real terminal: never in the daemon, never with --json or --quiet, and never
// when standard error is not a terminal.
func TestProgressIsShownOnlyWhereItBelongs(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	go io.Copy(io.Discard, ptmx)
	t.Setenv("FEEDSYNC_NO_PROGRESS", "")

	root := newRootCmd()
	find := func(name string) *cobra.Command {
		c, _, err := root.Find([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		c.SetErr(tty)
		return c
	}
	shown := func(c *cobra.Command) bool {
		_, isBar := newProgress(c, 100, "reading feed", unitBytes).(*barProgress)
		return isBar
	}
	if !shown(find("transform")) {
		t.Error("transform on a terminal: no progress")
	}
	if !shown(find("sync")) {
		t.Error("sync on a terminal: no progress")
	}
	if shown(find("run")) {
		t.Error("the daemon (run) shows progress")
	}
	sync := find("sync")
	sync.Flags().Set("json", "true")
	if shown(sync) {
		t.Error("sync --json shows progress")
	}
	tr := find("transform")
	tr.Flags().Set("quiet", "true")
	if shown(tr) {
		t.Error("transform --quiet shows progress")
	}
	plan := find("plan")
	plan.SetErr(&bytes.Buffer{})
	if shown(plan) {
		t.Error("progress shown on a standard error that is not a terminal")
	}
	t.Setenv("FEEDSYNC_NO_PROGRESS", "1")
	if shown(find("resync")) {
		t.Error("FEEDSYNC_NO_PROGRESS=1 still shows progress")
	}
}

func TestProgressReaderCountsBytes(t *testing.T) {
	var p noProgress
	r := p.Reader(strings.NewReader("abc"))
	if b, _ := io.ReadAll(r); string(b) != "abc" {
		t.Errorf("read %q through noProgress", b)
	}
	var buf bytes.Buffer
	bar := &countingProgress{}
	n, _ := io.Copy(&buf, (&countingReader{r: strings.NewReader("hello"), p: bar}))
	if n != 5 || bar.n != 5 {
		t.Errorf("copied %d, counted %d; want 5 and 5", n, bar.n)
	}
}

type countingProgress struct{ n int }

func (c *countingProgress) Add(n int)                    { c.n += n }
func (c *countingProgress) Reader(r io.Reader) io.Reader { return r }
func (c *countingProgress) Done()                        {}
func (c *countingProgress) Stop()                        {}
