package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/feedsync/feedsync/store"
)

func newIDsCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "ids export|check -c FILE FEED ...",
		Short: "The product ids a feed's catalog knows: export the map, or check ids from elsewhere against it",
		Long: `A product feed that an orders export maps its lines through (products_from) keeps,
in the state, every id a product may be named by — item id, product id, sku, gtin,
mpn — and the custom_id the catalog knows it by under the feed's policy (under
parent, a variant's SKU leads to its group's id). A sync of the feed keeps it.

  ids export FEED         the map, as CSV (alias,custom_id) or --json
  ids check FEED [FILE]   ids from events or an export (one per line, or the
                          first CSV column; FILE or standard input): which the
                          catalog has as they are, which are variants it knows by
                          their parent, and which are unknown. Exit 1 when any
                          id is unknown.`,
		Example: `  feedsync ids export -c feedsync.yaml shop > ids.csv
  feedsync ids check -c feedsync.yaml shop datalayer-ids.txt`,
	}
	var jsonOut bool
	export := &cobra.Command{
		Use:               "export -c FILE FEED",
		Short:             "Write a feed's id map (alias,custom_id) for the storefront's dataLayer and other systems",
		Args:              wrapArgs(cobra.ExactArgs(1)),
		ValidArgsFunction: completeFeeds(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withIDs(cmd, args[0], func(m *store.IDMap) error { return exportIDs(cmd.OutOrStdout(), m, jsonOut) })
		},
	}
	addConfigFlag(export)
	export.Flags().BoolVar(&jsonOut, "json", false, "a JSON object alias → custom_id instead of CSV")
	check := &cobra.Command{
		Use:               "check -c FILE FEED [FILE]",
		Short:             "Check ids from events or an export against a feed's id map",
		Args:              wrapArgs(cobra.RangeArgs(1, 2)),
		ValidArgsFunction: completeFeeds(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := cmd.InOrStdin()
			if len(args) == 2 && args[1] != "-" {
				f, err := os.Open(args[1])
				if err != nil {
					return usagef("%v", err)
				}
				defer f.Close()
				in = f
			}
			return withIDs(cmd, args[0], func(m *store.IDMap) error { return checkIDs(cmd.OutOrStdout(), in, m) })
		},
	}
	addConfigFlag(check)
	c.AddCommand(export, check)
	return c
}

// withIDs opens the state read-only and fn's feed's id map.
func withIDs(cmd *cobra.Command, feed string, fn func(*store.IDMap) error) error {
	cfg, err := loadConfig(cmd)
	if err != nil {
		return err
	}
	if _, ok := cfg.Feed(feed); !ok {
		var known []string
		for _, f := range cfg.Feeds {
			known = append(known, f.Name)
		}
		return usagef("unknown feed %q (known: %s)", feed, strings.Join(known, ", "))
	}
	db, err := openStore(cfg, true)
	if err != nil {
		return err
	}
	defer db.Close()
	has, err := db.HasIDs(feed)
	if err != nil {
		return err
	}
	if !has {
		return failedError{fmt.Sprintf("feed %s keeps no product ids yet: name it in an orders export's products_from and sync it", feed)}
	}
	m, err := db.IDs(feed)
	if err != nil {
		return err
	}
	defer m.Close()
	return fn(m)
}

func exportIDs(out io.Writer, m *store.IDMap, jsonOut bool) error {
	if jsonOut {
		all := map[string]string{}
		if err := m.Each(func(a, c string) error { all[a] = c; return nil }); err != nil {
			return err
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(all)
	}
	w := csv.NewWriter(out)
	if err := w.Write([]string{"alias", "custom_id"}); err != nil {
		return err
	}
	if err := m.Each(func(a, c string) error { return w.Write([]string{a, c}) }); err != nil {
		return err
	}
	w.Flush()
	return w.Error()
}

// checkIDs sorts each id of in into known (the catalog has it as it is),
// via parent (a variant the catalog knows by its parent) and unknown.
func checkIDs(out io.Writer, in io.Reader, m *store.IDMap) error {
	known, parent, unknown := 0, 0, 0
	err := eachLine(in, func(line string) error {
		id, _, _ := strings.Cut(line, ",")
		id = strings.Trim(strings.TrimSpace(id), `"`)
		if id == "" || strings.EqualFold(id, "id") || strings.EqualFold(id, "alias") {
			return nil // a header
		}
		custom, ok := m.Custom(id)
		switch {
		case !ok:
			unknown++
			fmt.Fprintf(out, "unknown  %s\n", id)
		case custom != id:
			parent++
			fmt.Fprintf(out, "parent   %s → %s\n", id, custom)
		default:
			known++
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d known as they are, %d known by their parent's id, %d unknown\n", known, parent, unknown)
	if unknown > 0 {
		return failedError{fmt.Sprintf("%d unknown ids", unknown)}
	}
	return nil
}
