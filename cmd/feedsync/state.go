package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/feedsync/feedsync"
	"github.com/feedsync/feedsync/store"
)

func newStateCmd() *cobra.Command {
	var reset, yes, jsonOut bool
	c := &cobra.Command{
		Use:   "state -c FILE [FEED]",
		Short: "Show what the state file holds: products by state, last runs, failing products",
		Args:  wrapArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
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
			if reset {
				if len(args) != 1 || !yes {
					return usagef("state --reset needs one FEED and --yes: it forgets every product of that feed, so the next sync creates them all again")
				}
				db, err := openStore(cfg, false)
				if err != nil {
					return err
				}
				defer db.Close()
				if err := db.Reset(args[0]); err != nil {
					return err
				}
				fmt.Fprintf(out, "%s: state forgotten\n", args[0])
				return nil
			}
			db, err := openStore(cfg, true)
			if err != nil {
				return err
			}
			defer db.Close()
			names := args
			if len(names) == 0 {
				if names, err = db.Feeds(); err != nil {
					return err
				}
			}
			for _, name := range names {
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
				type failing struct {
					ID    string `json:"id"`
					State string `json:"state"`
					Error string `json:"error"`
				}
				var failures []failing
				if err := db.Each(name, func(e store.Entry) error {
					if e.LastError != "" {
						failures = append(failures, failing{e.ID, e.State.String(), e.LastError})
					}
					return nil
				}); err != nil {
					return err
				}
				if jsonOut {
					_ = json.NewEncoder(out).Encode(map[string]any{"feed": name, "products": counts, "meta": meta, "runs": runs, "failing": failures})
					continue
				}
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
				for _, r := range runs {
					var s feedsync.Summary
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
				const show = 50
				for i, f := range failures {
					if i == show {
						fmt.Fprintf(out, "  … and %d more failing products (--json lists all)\n", len(failures)-show)
						break
					}
					fmt.Fprintf(out, "  failing %s (%s): %s\n", f.ID, f.State, f.Error)
				}
			}
			return nil
		},
	}
	addConfigFlag(c)
	c.Flags().BoolVar(&reset, "reset", false, "forget everything about FEED (needs --yes)")
	c.Flags().BoolVar(&yes, "yes", false, "confirm --reset")
	c.Flags().BoolVar(&jsonOut, "json", false, "print JSON")
	return c
}
