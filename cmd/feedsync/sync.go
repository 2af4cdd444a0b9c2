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

	"github.com/feedsync/feedsync/config"
	"github.com/feedsync/feedsync/engine"
	"github.com/feedsync/feedsync/push"
	"github.com/feedsync/feedsync/store"
	"github.com/feedsync/feedsync/tree"
)

var syncHelp = map[engine.Mode][2]string{
	engine.ModeSync:   {"sync -c FILE [--json] [FEED...]", "One delta sync of the named feeds (all if none): only changed products travel"},
	engine.ModeResync: {"resync -c FILE [--json] [FEED...]", "Push every product regardless of stored hashes"},
	engine.ModePlan:   {"plan -c FILE [--json] [FEED...]", "Show what sync would send; sends nothing, writes no state"},
}

func newSyncCmd(mode engine.Mode) *cobra.Command {
	var jsonOut, quiet, allowMassDelete, fullScan bool
	var explain string
	c := &cobra.Command{
		Use:   syncHelp[mode][0],
		Short: syncHelp[mode][1],
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSync(cmd, mode, args, syncFlags{jsonOut, quiet, allowMassDelete, fullScan, explain})
		},
	}
	addConfigFlag(c)
	c.Flags().BoolVar(&jsonOut, "json", false, "print one JSON summary per feed per line on stdout")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "log warnings and errors only")
	if mode != engine.ModePlan {
		c.Flags().BoolVar(&allowMassDelete, "allow-mass-delete", false, "allow this run to remove more products than max_delete")
	}
	if mode == engine.ModePlan {
		c.Flags().StringVar(&explain, "explain", "", "show, for one product (custom_id, or item_group_id under parent), the variants it came from and why each derived field has its value")
	}
	if mode != engine.ModeResync {
		c.Flags().BoolVar(&fullScan, "full-scan", false, "read and diff the whole feed even when the server says 304 or the body is unchanged")
	}
	return c
}

type syncFlags struct {
	jsonOut, quiet, allowMassDelete, fullScan bool
	explain                                   string
}

func runSync(cmd *cobra.Command, mode engine.Mode, names []string, f syncFlags) error {
	cfg, err := loadConfig(cmd)
	if err != nil {
		return err
	}
	feeds, err := selectFeeds(cfg, names)
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
	failed := 0
	for _, fc := range feeds {
		s := &engine.Syncer{DB: db, Sink: sink, Redact: redactor(cfg).String}
		var rec *push.Recorder
		if mode == engine.ModePlan {
			rec = push.NewRecorder(planTarget)
			s.Sink = rec
		}
		ok, err := syncFeed(ctx, cmd, s, rec, fc, mode, f, log.With().Str("feed", fc.Name).Logger())
		if err != nil {
			return err
		}
		if !ok {
			failed++
		}
		if ctx.Err() != nil {
			break
		}
	}
	if ctx.Err() != nil {
		return failedError{"interrupted"}
	}
	if failed > 0 {
		return failedError{fmt.Sprintf("%d of %d feeds failed", failed, len(feeds))}
	}
	return nil
}

// syncFeed runs one feed and prints its outcome: the summary line (or
// JSON), plan's changes, or --explain's answer. ok is false when the feed
// failed; an error ends the whole command.
func syncFeed(ctx context.Context, cmd *cobra.Command, s *engine.Syncer, rec *push.Recorder, fc *config.Feed, mode engine.Mode, f syncFlags, flog zerolog.Logger) (ok bool, err error) {
	out := cmd.OutOrStdout()
	obs := &syncObserver{LogProblems: engine.LogProblems{Log: flog}, cmd: cmd, feed: fc.Name, plan: mode == engine.ModePlan, explain: f.explain,
		reading: noProgress{}, pushing: noProgress{}}
	// Only plan lists the cut fields, and only of the products it would
	// send: a sync keeps no per-product map.
	if obs.plan {
		obs.truncated = map[string][]string{}
	}
	opts := engine.Options{Mode: mode, AllowMassDelete: f.allowMassDelete, FullScan: f.fullScan || f.explain != "", Log: flog, UserAgent: userAgent(), Observer: obs}
	opts.WrapBody = func(r io.Reader) io.Reader {
		obs.reading = newProgress(cmd, localSize(fc.URL), fc.Name+": reading feed", unitBytes)
		return obs.reading.Reader(r)
	}
	sum, err := s.Sync(ctx, fc, opts)
	obs.reading.Done()
	obs.pushing.Done()
	if f.explain != "" {
		switch {
		case err == nil && obs.explainErr == nil:
			if f.jsonOut {
				return true, json.NewEncoder(out).Encode(obs.explained)
			}
			fmt.Fprintf(out, "%s: %s\n", fc.Name, obs.explained.String())
			return true, nil
		case err == nil:
			fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v\n", fc.Name, obs.explainErr)
			return false, nil
		}
	}
	if errors.Is(err, store.ErrDamaged) {
		return false, err // every other feed would meet it too: exit 2
	}
	ok = err == nil
	if err != nil {
		flog.Error().Msg(err.Error())
	}
	var changes []planChange
	if rec != nil {
		if changes, err = describePlan(s.DB, fc.Name, rec.Ops, obs.truncated); err != nil {
			return false, err
		}
	}
	if f.jsonOut {
		line := any(sum)
		if rec != nil {
			line = struct {
				engine.Summary
				Changes []planChange `json:"changes"`
			}{sum, changes}
		}
		return ok, json.NewEncoder(out).Encode(line)
	}
	printPlan(out, changes)
	printSummary(out, sum)
	return ok, nil
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

func printSummary(w io.Writer, s engine.Summary) {
	verb := map[engine.Mode]string{engine.ModePlan: "would be "}[s.Mode]
	fmt.Fprintf(w, "%s: %d items → %d products; %s%d created, %d updated, %d unchanged, %d deleted, %d marked unavailable, %d failed",
		s.Feed, s.Items, s.Products, verb, s.Created, s.Updated, s.Unchanged, s.Deleted, s.Unavailable, s.Failed)
	if s.Skipped > 0 {
		fmt.Fprintf(w, ", %d skipped", s.Skipped)
	}
	if s.Unconfirmed > 0 {
		fmt.Fprintf(w, ", %d unconfirmed (sent again next run)", s.Unconfirmed)
	}
	fmt.Fprintf(w, " (fetch %s, %d ms)\n", s.Fetch, s.DurationMS)
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
