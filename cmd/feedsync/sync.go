package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/feedsync/feedsync"
	"github.com/feedsync/feedsync/push"
	"github.com/feedsync/feedsync/store"
	"github.com/feedsync/feedsync/tree"
)

var syncHelp = map[feedsync.Mode][2]string{
	feedsync.ModeSync:   {"sync -c FILE [--json] [FEED...]", "One delta sync of the named feeds (all if none): only changed products travel"},
	feedsync.ModeResync: {"resync -c FILE [--json] [FEED...]", "Push every product regardless of stored hashes"},
	feedsync.ModePlan:   {"plan -c FILE [--json] [FEED...]", "Show what sync would send; sends nothing, writes no state"},
}

func newSyncCmd(mode feedsync.Mode) *cobra.Command {
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
	if mode != feedsync.ModePlan {
		c.Flags().BoolVar(&allowMassDelete, "allow-mass-delete", false, "allow this run to remove more products than max_delete")
	}
	if mode == feedsync.ModePlan {
		c.Flags().StringVar(&explain, "explain", "", "show, for one product (custom_id, or item_group_id under parent), the variants it came from and why each derived field has its value")
	}
	if mode != feedsync.ModeResync {
		c.Flags().BoolVar(&fullScan, "full-scan", false, "read and diff the whole feed even when the server says 304 or the body is unchanged")
	}
	return c
}

type syncFlags struct {
	jsonOut, quiet, allowMassDelete, fullScan bool
	explain                                   string
}

func runSync(cmd *cobra.Command, mode feedsync.Mode, names []string, f syncFlags) error {
	jsonOut, quiet := f.jsonOut, f.quiet
	cfg, err := loadConfig(cmd)
	if err != nil {
		return err
	}
	feeds, err := selectFeeds(cfg, names)
	if err != nil {
		return err
	}
	log := newLogger(cfg, os.Stderr, quiet || jsonOut)
	// plan records per feed what would be sent, with the catalog's target
	// so that hashes match, and needs no catalog (nor its token).
	var sink push.Sink
	var planTarget string
	if mode == feedsync.ModePlan {
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
	db, err := openStore(cfg, mode == feedsync.ModePlan)
	if err != nil {
		return err
	}
	defer db.Close()

	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	out := cmd.OutOrStdout()
	failed := 0
	for _, fc := range feeds {
		flog := log.With().Str("feed", fc.Name).Logger()
		s := &feedsync.Syncer{DB: db, Sink: sink, Redact: redactor(cfg).String}
		var rec *push.Recorder
		if mode == feedsync.ModePlan {
			rec = push.NewRecorder(planTarget)
			s.Sink = rec
		}
		var explained *tree.Explanation
		var explainErr error
		opts := feedsync.Options{Mode: mode, AllowMassDelete: f.allowMassDelete, FullScan: f.fullScan || f.explain != "", Log: flog, UserAgent: userAgent()}
		// Only plan lists the cut fields, and only of the products it would
		// send: a sync keeps no per-product map.
		var truncated map[string][]string
		if mode == feedsync.ModePlan {
			truncated = map[string][]string{}
			opts.OnTruncated = func(id string, fields []string) { truncated[id] = fields }
		}
		if f.explain != "" {
			opts.OnBuilt = func(b *tree.Builder) { explained, explainErr = b.Explain(f.explain) }
		}
		reading, pushing := progress(noProgress{}), progress(noProgress{})
		opts.WrapBody = func(r io.Reader) io.Reader {
			reading = newProgress(cmd, localSize(fc.URL), fc.Name+": reading feed", unitBytes)
			return reading.Reader(r)
		}
		opts.OnRead = func(int) {
			reading.Done()
			if mode != feedsync.ModePlan {
				pushing = newProgress(cmd, -1, fc.Name+": pushing products", unitProducts)
			}
		}
		opts.OnPushed = func(n int) { pushing.Add(n) }
		sum, err := s.Sync(ctx, fc, opts)
		reading.Done()
		pushing.Done()
		if f.explain != "" {
			if err == nil && explainErr == nil {
				if jsonOut {
					if err := json.NewEncoder(out).Encode(explained); err != nil {
						return err
					}
				} else {
					fmt.Fprintf(out, "%s: %s\n", fc.Name, explained.String())
				}
				continue
			}
			if err == nil {
				failed++
				fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v\n", fc.Name, explainErr)
				continue
			}
		}
		if errors.Is(err, store.ErrDamaged) {
			return err // every other feed would meet it too: exit 2
		}
		if err != nil {
			failed++
			flog.Error().Msg(err.Error())
		}
		var changes []planChange
		if rec != nil {
			if changes, err = describePlan(db, fc.Name, rec.Ops, truncated); err != nil {
				return err
			}
		}
		if jsonOut {
			line := any(sum)
			if rec != nil {
				line = struct {
					feedsync.Summary
					Changes []planChange `json:"changes"`
				}{sum, changes}
			}
			if err := json.NewEncoder(out).Encode(line); err != nil {
				return err
			}
			continue
		}
		printPlan(out, changes)
		printSummary(out, sum)
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

func printSummary(w io.Writer, s feedsync.Summary) {
	verb := map[feedsync.Mode]string{feedsync.ModePlan: "would be "}[s.Mode]
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
	case s.Mode == feedsync.ModePlan && strings.HasPrefix(s.Error, "would be refused"):
		fmt.Fprintf(w, "%s: %s\n", s.Feed, s.Error) // the verdict, not a failure of plan
	default:
		fmt.Fprintf(w, "%s: FAILED: %s\n", s.Feed, s.Error)
	}
}
