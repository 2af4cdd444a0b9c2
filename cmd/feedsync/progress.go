package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

// progress shows one stage of a long command on a terminal: the bytes of a
// feed read (units of bytes, with rate and, when the total is known, ETA),
// then the products written or pushed. Stages are shown one after the other:
// call Done before starting the next. Every method is safe for concurrent use
// and does nothing when progress is not shown.
type progress interface {
	// Add counts n more units (bytes or products).
	Add(n int)
	// Reader returns r counting every byte read through it.
	Reader(r io.Reader) io.Reader
	// Done ends the stage, leaving its last state on its own line.
	Done()
	// Stop ends a stage cut short where it stands (a bar is not filled).
	Stop()
}

// Progress units.
const (
	unitBytes    = "bytes"
	unitProducts = "products"
)

// newProgress returns the progress of one stage: total is the number of
// units expected (-1 when unknown: a spinner with count and rate), label says
// what is counted ("reading feed", "pushing products"), unit is unitBytes or
// unitProducts. Progress is shown only when cmd's standard error is a
// terminal, and never with --json or --quiet, nor in the daemon (run).
func newProgress(cmd *cobra.Command, total int64, label, unit string) progress {
	w, ok := progressWriter(cmd)
	if !ok {
		return noProgress{}
	}
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(label),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100 * time.Millisecond),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(total > 0),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionUseANSICodes(true),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	}
	if unit == unitBytes {
		opts = append(opts, progressbar.OptionShowBytes(true))
	} else {
		opts = append(opts, progressbar.OptionShowIts(), progressbar.OptionSetItsString(unit))
	}
	if total <= 0 {
		total = -1
	}
	return &barProgress{bar: progressbar.NewOptions64(total, opts...), known: total > 0}
}

// progressWriter is where progress goes, and whether it is shown at all.
func progressWriter(cmd *cobra.Command) (io.Writer, bool) {
	for c := cmd; c != nil; c = c.Parent() {
		if c.Name() == "run" && c.Parent() != nil && c.Parent().Parent() == nil {
			return nil, false // the daemon logs; it never draws
		}
	}
	for _, name := range []string{"json", "quiet"} {
		if f := cmd.Flags().Lookup(name); f != nil && f.Value.String() == "true" {
			return nil, false
		}
	}
	if os.Getenv("FEEDSYNC_NO_PROGRESS") != "" {
		return nil, false
	}
	f, ok := cmd.ErrOrStderr().(*os.File)
	if !ok || !(isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		return nil, false
	}
	return f, true
}

type barProgress struct {
	bar   *progressbar.ProgressBar
	known bool
	once  sync.Once
}

func (p *barProgress) Add(n int) { _ = p.bar.Add(n) }

func (p *barProgress) Reader(r io.Reader) io.Reader { return &countingReader{r: r, p: p} }

func (p *barProgress) Done() {
	p.once.Do(func() {
		if p.known {
			_ = p.bar.Finish() // fills the bar; completion ends the line
			return
		}
		_ = p.bar.Exit() // a spinner keeps its count; completion ends the line
	})
}

func (p *barProgress) Stop() {
	p.once.Do(func() { _ = p.bar.Exit() })
}

type countingReader struct {
	r io.Reader
	p progress
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	if n > 0 {
		c.p.Add(n)
	}
	return n, err
}

// noProgress is progress that is not shown.
type noProgress struct{}

func (noProgress) Add(int)                      {}
func (noProgress) Reader(r io.Reader) io.Reader { return r }
func (noProgress) Done()                        {}
func (noProgress) Stop()                        {}
