package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/feedsync/feedsync/engine"
	"github.com/feedsync/feedsync/push"
	"github.com/feedsync/feedsync/store"
	"github.com/feedsync/feedsync/tree"
)

var syncExamples = map[engine.Mode]string{
	engine.ModeSync: `  feedsync sync -c feedsync.yaml              every feed once
  feedsync sync -c feedsync.yaml shop --json  one feed, a JSON summary on stdout
  feedsync sync --full-scan shop              read and diff the whole feed even if unchanged
  feedsync sync --parse shop                  the same, parsing every item even if recognised`,
	engine.ModeResync: `  feedsync resync -c feedsync.yaml shop       send every product of shop again`,
	engine.ModePlan: `  feedsync plan -c feedsync.yaml              what a sync would send, per product and field
  feedsync plan --exit-code                   exit 1 when a sync would change anything (CI)
  feedsync plan --explain TEE-BASIC           where a product's fields come from (every feed searched)`,
}

var syncHelp = map[engine.Mode][2]string{
	engine.ModeSync:   {"sync -c FILE [--json] [FEED...]", "One delta sync of the named feeds (all if none): only changed products travel"},
	engine.ModeResync: {"resync -c FILE [--json] [FEED...]", "Push every product regardless of stored hashes"},
	engine.ModePlan:   {"plan -c FILE [--json] [FEED...]", "Show what sync would send; sends nothing, writes no state"},
}

func newSyncCmd(mode engine.Mode) *cobra.Command {
	var jsonOut, quiet, allowMassDelete, fullScan, parse, exitCode bool
	var explain string
	c := &cobra.Command{
		Use:               syncHelp[mode][0],
		Short:             syncHelp[mode][1],
		Example:           syncExamples[mode],
		ValidArgsFunction: completeFeeds(-1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSync(cmd, mode, args, syncFlags{jsonOut, quiet, allowMassDelete, fullScan, parse, exitCode, explain})
		},
	}
	addConfigFlag(c)
	c.Flags().BoolVar(&jsonOut, "json", false, "print one JSON summary per feed per line on stdout")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "log warnings and errors only")
	if mode != engine.ModePlan {
		c.Flags().BoolVar(&allowMassDelete, "allow-mass-delete", false, "allow this run to remove more products than max_delete")
	}
	if mode == engine.ModePlan {
		c.Flags().StringVar(&explain, "explain", "", "show, for one product (custom_id, or item_group_id under parent), the variants it came from and why each derived field has its value; without FEED, every feed is searched")
		c.Flags().BoolVar(&exitCode, "exit-code", false, "exit 1 when the sync would change anything (as git diff --exit-code), 0 when it would not")
	}
	if mode != engine.ModeResync {
		c.Flags().BoolVar(&fullScan, "full-scan", false, "read and diff the whole feed even when the server says 304 or the body is unchanged")
	}
	if mode == engine.ModeSync {
		c.Flags().BoolVar(&parse, "parse", false, "parse, build and diff every item even when each is recognised by its bytes (implies --full-scan)")
	}
	return c
}

type syncFlags struct {
	jsonOut, quiet, allowMassDelete, fullScan, parse, exitCode bool
	explain                                                    string
}

func runSync(cmd *cobra.Command, mode engine.Mode, names []string, f syncFlags) error {
	cfg, err := loadConfig(cmd)
	if err != nil {
		return err
	}
	targets, err := selectTargets(cfg, names)
	if err != nil {
		return err
	}
	log := newLogger(cfg, os.Stderr, f.quiet || f.jsonOut)
	// plan records per feed what would be sent, with the catalog's target
	// so that hashes match, and needs no catalog (nor its token).
	var sink push.Sink
	var planTarget string
	if mode == engine.ModePlan {
		planTarget, err = catalogTarget(cfg)
	} else {
		sink, err = newSink(cfg, log)
	}
	if err != nil {
		return err
	}
	if sink != nil {
		defer sink.Close()
	}
	db, err := openStore(cfg, mode == engine.ModePlan)
	if err != nil {
		return err
	}
	defer db.Close()

	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	failed, changes, explained := 0, 0, 0
	for _, t := range targets {
		if f.explain != "" && t.orders != nil {
			continue // --explain explains products
		}
		s := &engine.Syncer{DB: db, Sink: sink, Redact: redactor(cfg).String}
		var rec *push.Recorder
		if mode == engine.ModePlan {
			rec = push.NewRecorder(planTarget)
			s.Sink = rec
		}
		res, err := syncFeed(ctx, cmd, s, rec, t, mode, f, log.With().Str("feed", t.name).Logger(), len(names) == 0)
		if err != nil {
			return err
		}
		if !res.ok {
			failed++
		}
		changes += res.changes
		if res.explained {
			explained++
		}
		if ctx.Err() != nil {
			break
		}
	}
	if ctx.Err() != nil {
		return interrupted{errors.New("interrupted: the state holds what the catalog acknowledged; the next run goes on from there")}
	}
	if failed > 0 {
		return failedError{fmt.Sprintf("%d of %s failed", failed, plural(len(targets), "feed"))}
	}
	if f.explain != "" && explained == 0 {
		return failedError{fmt.Sprintf("no feed has a product or item_group_id %q (searched %s)", f.explain, plural(countFeeds(targets), "feed"))}
	}
	if f.exitCode && changes > 0 {
		return failedError{fmt.Sprintf("plan: %s would change the catalog (--exit-code)", plural(changes, "operation"))}
	}
	return nil
}

// feedResult is what runSync needs to know of one feed's run.
type feedResult struct {
	ok        bool // the feed did not fail
	changes   int  // operations the run sent, or plan would send
	explained bool // --explain found the id in this feed
}

// syncFeed runs one feed and prints its outcome: the summary line (or
// JSON), plan's changes, or --explain's answer. ok is false when the feed
// failed; an error ends the whole command.
//
// searching: --explain looks in every feed, so an id this feed does not
// have is no failure of this feed.
func syncFeed(ctx context.Context, cmd *cobra.Command, s *engine.Syncer, rec *push.Recorder, t syncTarget, mode engine.Mode, f syncFlags, flog zerolog.Logger, searching bool) (res feedResult, err error) {
	out := cmd.OutOrStdout()
	name := t.name
	obs := &syncObserver{LogProblems: engine.LogProblems{Log: flog}, cmd: cmd, feed: name, plan: mode == engine.ModePlan, explain: f.explain,
		reading: noProgress{}, pushing: noProgress{}}
	// Only plan lists the cut fields, and only of the products it would
	// send: a sync keeps no per-product map.
	if obs.plan {
		obs.truncated = map[string][]string{}
	}
	opts := engine.Options{Mode: mode, AllowMassDelete: f.allowMassDelete, FullScan: f.fullScan || f.parse || f.explain != "", Parse: f.parse, Log: flog, UserAgent: userAgent(), Observer: obs, KeepIDs: t.keepIDs}
	// A feed recognised by its items' bytes is only scanned; one that is
	// not is scanned, then read: two bars, one after the other.
	opts.WrapScan = func(r io.Reader) io.Reader {
		obs.reading = newProgress(cmd, localSize(t.url), name+": recognising feed", unitBytes)
		return obs.reading.Reader(r)
	}
	opts.WrapBody = func(r io.Reader) io.Reader {
		obs.reading.Stop() // the scan's, which stopped at an item it did not know
		obs.reading = newProgress(cmd, localSize(t.url), name+": reading feed", unitBytes)
		return obs.reading.Reader(r)
	}
	var sum engine.Summary
	if t.orders != nil {
		sum, err = s.SyncOrders(ctx, t.orders, opts)
	} else {
		sum, err = s.Sync(ctx, t.feed, opts)
	}
	obs.reading.Done()
	obs.pushing.Done()
	if f.explain != "" {
		switch {
		case err == nil && obs.explainErr == nil:
			res = feedResult{ok: true, explained: true}
			if f.jsonOut {
				return res, json.NewEncoder(out).Encode(obs.explained)
			}
			fmt.Fprintf(out, "%s: %s\n", name, obs.explained.String())
			return res, nil
		case err == nil && searching && errors.Is(obs.explainErr, tree.ErrUnknownProduct):
			return feedResult{ok: true}, nil // another feed may have it
		case err == nil:
			fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v\n", name, obs.explainErr)
			return feedResult{}, nil
		}
	}
	if errors.Is(err, store.ErrDamaged) {
		return feedResult{}, err // every other feed would meet it too: exit 2
	}
	res.ok = err == nil
	res.changes = sum.Created + sum.Updated + sum.Deleted + sum.Unavailable
	if err != nil {
		flog.Error().Msg(err.Error())
	}
	var changes []planChange
	if rec != nil {
		if changes, err = describePlan(s.DB, name, rec.Ops, obs.truncated); err != nil {
			return feedResult{}, err
		}
		res.changes = len(rec.Ops)
	}
	if f.jsonOut {
		line := any(sum)
		if rec != nil {
			line = struct {
				engine.Summary
				Changes []planChange `json:"changes"`
			}{sum, changes}
		}
		return res, json.NewEncoder(out).Encode(line)
	}
	if t.orders != nil {
		printDealPlan(out, withNewStages(changes, rec))
	} else {
		printPlan(out, changes)
	}
	if t.orders != nil {
		printSummaryOf(out, sum, "order", "deal")
	} else {
		printSummary(out, sum)
	}
	return res, nil
}

// syncObserver shows a run's progress, logs its problems, and keeps what
// plan (the cut fields) and --explain print.
type syncObserver struct {
	engine.LogProblems
	cmd              *cobra.Command
	feed             string
	plan             bool
	explain          string
	reading, pushing progress
	truncated        map[string][]string
	explained        *tree.Explanation
	explainErr       error
}

func (o *syncObserver) Read(int) {
	o.reading.Done()
	if !o.plan {
		o.pushing = newProgress(o.cmd, -1, o.feed+": pushing products", unitProducts)
	}
}

func (o *syncObserver) Built(b *tree.Builder) {
	if o.explain != "" {
		o.explained, o.explainErr = b.Explain(o.explain)
	}
}

func (o *syncObserver) Truncated(id string, fields []string) {
	if o.truncated != nil {
		o.truncated[id] = fields
	}
}

func (o *syncObserver) Pushed(n int) { o.pushing.Add(n) }

func printSummary(w io.Writer, s engine.Summary) { printSummaryOf(w, s, "item", "product") }

// printSummaryOf prints the summary line of a run whose input has items
// (or orders) and whose output products (or deals).
func printSummaryOf(w io.Writer, s engine.Summary, item, product string) {
	verb := map[engine.Mode]string{engine.ModePlan: "would be "}[s.Mode]
	if s.Fetch == engine.FetchNotModified {
		// Nothing was read: say so, with what the state holds.
		fmt.Fprintf(w, "%s: not modified since the last run (the server answered 304); the state holds %s, %s%d sent (%d ms)\n",
			s.Feed, plural(s.Products, product), verb, s.Created+s.Updated+s.Deleted+s.Unavailable, s.DurationMS)
		if s.Error != "" {
			fmt.Fprintf(w, "%s: FAILED: %s\n", s.Feed, s.Error)
		}
		return
	}
	fmt.Fprintf(w, "%s: %s → %s; %s%d created, %d updated, %d unchanged, %d deleted, %d marked unavailable, %d failed",
		s.Feed, plural(s.Items, item), plural(s.Products, product), verb, s.Created, s.Updated, s.Unchanged, s.Deleted, s.Unavailable, s.Failed)
	if s.Skipped > 0 {
		fmt.Fprintf(w, ", %d skipped", s.Skipped)
	}
	if s.Warnings > 0 {
		fmt.Fprintf(w, ", %s (sent with a defect lint reports)", plural(s.Warnings, "warning"))
	}
	if s.Unconfirmed > 0 {
		fmt.Fprintf(w, ", %d unconfirmed (sent again next run)", s.Unconfirmed)
	}
	recognised := ""
	if s.Recognised > 0 {
		recognised = ", every " + item + " recognised by its bytes"
	}
	fmt.Fprintf(w, " (fetch %s%s, %d ms)\n", s.Fetch, recognised, s.DurationMS)
	if s.PolicySwitch != "" {
		fmt.Fprintf(w, "%s: policy switch %s: the products of the old shape leave the catalog as on_missing says, those of the new shape are created\n", s.Feed, s.PolicySwitch)
	}
	switch {
	case s.Error == "":
	case s.Mode == engine.ModePlan && strings.HasPrefix(s.Error, "would be refused"):
		fmt.Fprintf(w, "%s: %s\n", s.Feed, s.Error) // the verdict, not a failure of plan
	default:
		fmt.Fprintf(w, "%s: FAILED: %s\n", s.Feed, s.Error)
	}
}

// plural is "1 item", "2 items".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
