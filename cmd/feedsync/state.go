package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/feedsync/feedsync/config"
	"github.com/feedsync/feedsync/engine"
	"github.com/feedsync/feedsync/store"
)

// stateFlags are the state command's own flags.
type stateFlags struct {
	reset, yes, jsonOut bool
}

func newStateCmd() *cobra.Command {
	var f stateFlags
	c := &cobra.Command{
		Use:   "state -c FILE [FEED]",
		Short: "Show what the state file holds: products by state, last runs, failing products",
		Args:  wrapArgs(cobra.MaximumNArgs(1)),
		Example: `  feedsync state -c feedsync.yaml             every feed: products by state, last runs, failing products
  feedsync state shop --json                  one feed, as JSON
  feedsync state --reset shop --yes           forget shop: the next sync creates every product again`,
		ValidArgsFunction: completeFeeds(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runState(cmd, args, f)
		},
	}
	addConfigFlag(c)
	c.Flags().BoolVar(&f.reset, "reset", false, "forget everything about FEED (needs --yes)")
	c.Flags().BoolVar(&f.yes, "yes", false, "confirm --reset")
	c.Flags().BoolVar(&f.jsonOut, "json", false, "print JSON")
	return c
}

// runState runs the state command: it resets one feed's state with --reset,
// else reports on the feeds named (all of them by default).
func runState(cmd *cobra.Command, args []string, f stateFlags) (err error) {
	cfg, err := loadConfig(cmd)
	if err != nil {
		return err
	}
	// The state holds error texts of catalogs and feeds, and one
	// written by an older feedsync may hold a secret: everything
	// this command prints passes through the scrubber.
	red := redactor(cfg)
	defer func() { err = red.Error(err) }()
	out := red.Writer(cmd.OutOrStdout())
	defer func() {
		if ferr := out.Flush(); err == nil {
			err = ferr
		}
	}()
	if f.reset {
		return resetState(cfg, out, args, f.yes)
	}
	return reportState(cfg, out, args, f.jsonOut)
}

// resetState forgets every product of the one feed in args, once confirmed
// by --yes.
func resetState(cfg *config.Config, out io.Writer, args []string, yes bool) error {
	if len(args) != 1 || !yes {
		return usagef("state --reset needs one FEED and --yes: it forgets every product of that feed, so the next sync creates them all again")
	}
	db, err := openStore(cfg, false)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := knownFeed(cfg, db, args[0]); err != nil {
		return err
	}
	if err := db.Reset(args[0]); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			// Configured, never synced: nothing to forget.
			fmt.Fprintf(out, "%s: no state to forget\n", args[0])
			return nil
		}
		return err
	}
	fmt.Fprintf(out, "%s: state forgotten\n", args[0])
	return nil
}

// reportState reports on the feeds in names, or on every feed in the state
// when names is empty.
func reportState(cfg *config.Config, out io.Writer, names []string, jsonOut bool) error {
	db, err := openStore(cfg, true)
	if err != nil {
		return err
	}
	defer db.Close()
	if len(names) == 0 {
		if names, err = db.Feeds(); err != nil {
			return err
		}
	}
	for _, name := range names {
		if err := knownFeed(cfg, db, name); err != nil {
			return err
		}
	}
	for _, name := range names {
		if err := reportFeedState(db, out, name, jsonOut); err != nil {
			return err
		}
	}
	return nil
}

// failingProduct is a product whose last operation failed.
type failingProduct struct {
	ID    string `json:"id"`
	State string `json:"state"`
	Error string `json:"error"`
}

// reportFeedState prints one feed's state: its product counts, last
// success and error, last runs and failing products; with jsonOut as one
// JSON object.
func reportFeedState(db *store.DB, out io.Writer, name string, jsonOut bool) error {
	counts, err := db.Count(name)
	if err != nil {
		return err
	}
	meta, err := db.Meta(name)
	if err != nil {
		return err
	}
	runs, err := db.Runs(name, 5)
	if err != nil {
		return err
	}
	failures, err := failingProducts(db, name)
	if err != nil {
		return err
	}
	if jsonOut {
		_ = json.NewEncoder(out).Encode(map[string]any{"feed": name, "products": counts, "meta": meta, "runs": runs, "failing": failures})
		return nil
	}
	printFeedStatus(db, out, name, counts, meta)
	printRuns(out, runs)
	printFailing(out, failures)
	return nil
}

// failingProducts lists the products of feed name that have an error.
func failingProducts(db *store.DB, name string) ([]failingProduct, error) {
	var failures []failingProduct
	err := db.Each(name, func(e store.Entry) error {
		if e.LastError != "" {
			failures = append(failures, failingProduct{e.ID, e.State.String(), e.LastError})
		}
		return nil
	})
	return failures, err
}

// printFeedStatus prints a feed's product counts, what the next sync sends
// again, and its last success and last error.
func printFeedStatus(db *store.DB, out io.Writer, name string, counts store.Counts, meta store.Meta) {
	fmt.Fprintf(out, "%s: %d products (%d live, %d unavailable, %d failed", name, counts.Total, counts.Live, counts.Unavailable, counts.Failed)
	if counts.Pending > 0 {
		fmt.Fprintf(out, ", %d pending", counts.Pending)
	}
	fmt.Fprintln(out, ")")
	if un, err := db.Unresolved(name); err == nil && len(un) > 0 {
		fmt.Fprintf(out, "  unfinished:   a run ended before the catalog confirmed %d products; the next sync sends them again\n", len(un))
	}
	if counts.Uncertain > 0 {
		fmt.Fprintf(out, "  uncertain:    %d products whose last operation was never acknowledged; the next sync sends them again\n", counts.Uncertain)
	}
	if !meta.LastSuccess.IsZero() {
		fmt.Fprintf(out, "  last success: %s\n", meta.LastSuccess.Format("2006-01-02 15:04:05Z07:00"))
	}
	if meta.LastError != "" {
		fmt.Fprintf(out, "  last error:   %s (%s)\n", meta.LastError, meta.LastErrorAt.Format("2006-01-02 15:04:05Z07:00"))
	}
	if t, err := time.Parse(time.RFC3339Nano, meta.Expires); err == nil {
		fmt.Fprintf(out, "  sale edge:    %s (a sale window starts or ends: the first sync from then reads the feed, unchanged or not)\n", t.Format("2006-01-02 15:04:05Z07:00"))
	}
}

// printRuns prints one line per recorded run summary, skipping any that
// does not decode.
func printRuns(out io.Writer, runs []json.RawMessage) {
	for _, r := range runs {
		var s engine.Summary
		if json.Unmarshal(r, &s) != nil {
			continue
		}
		fmt.Fprintf(out, "  %s %-6s %d created, %d updated, %d unchanged, %d deleted, %d unavailable, %d failed (fetch %s, %d ms)",
			s.Started, s.Mode, s.Created, s.Updated, s.Unchanged, s.Deleted, s.Unavailable, s.Failed, s.Fetch, s.DurationMS)
		if s.Error != "" {
			fmt.Fprintf(out, " FAILED: %s", s.Error)
		}
		fmt.Fprintln(out)
	}
}

// maxFailingShown caps the failing products state lists without --json.
const maxFailingShown = 50

// printFailing prints the failing products, at most maxFailingShown of them.
func printFailing(out io.Writer, failures []failingProduct) {
	for i, f := range failures {
		if i == maxFailingShown {
			fmt.Fprintf(out, "  … and %d more failing products (--json lists all)\n", len(failures)-maxFailingShown)
			break
		}
		fmt.Fprintf(out, "  failing %s (%s): %s\n", f.ID, f.State, f.Error)
	}
}

// knownFeed accepts a feed that is configured or that the state file holds
// (a feed removed from the configuration can still be shown and reset); any
// other name is a usage error that lists the known ones.
func knownFeed(cfg *config.Config, db *store.DB, name string) error {
	if _, ok := cfg.Feed(name); ok {
		return nil
	}
	if _, ok := cfg.Order(name); ok {
		return nil
	}
	inState, err := db.Feeds()
	if err != nil {
		return err
	}
	if slices.Contains(inState, name) {
		return nil
	}
	known := make([]string, 0, len(cfg.Feeds)+len(cfg.Orders)+len(inState))
	for _, f := range cfg.Feeds {
		known = append(known, f.Name)
	}
	for _, o := range cfg.Orders {
		known = append(known, o.Name)
	}
	for _, n := range inState {
		if !slices.Contains(known, n) {
			known = append(known, n)
		}
	}
	return usagef("unknown feed %q: no feed of that name in %s or in the state file (known: %s)", name, cfg.Path, strings.Join(known, ", "))
}
