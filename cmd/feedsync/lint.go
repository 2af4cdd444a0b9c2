package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/feedsync/feedsync/config"
	"github.com/feedsync/feedsync/feed"
	"github.com/feedsync/feedsync/lint"
	"github.com/feedsync/feedsync/tree"
)

func newLintCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "lint [--format text|json|sarif|github|junit] [--policy parent|variant] [-c FILE] [--max-warnings N] [--disable CODE,...] [--enable CODE,...] [--rules] PATH|URL...",
		Short: "Check feeds against Google's product data rules",
		Long: `lint reads each feed (a path, file:// or http(s) URL, or - for standard input)
and reports defects with the file, line, item id and attribute: missing or
malformed attributes, bad GTINs, duplicate ids, HTML and double escaping, and,
with --policy, variant groups that the policy could not shape cleanly.

Feeds linted in one run are taken to share a catalog: a custom_id that more
than one of them sends is an error on the later feed (shared-custom-id), as
sync skips that feed's product. Which ids are custom_ids follows --policy
(parent: a group's is its item_group_id); without it only items outside
variant groups are compared.

--rules lists every rule with its code, severity, fix and source: the section
of Google's product data specification (or help page) it rests on, with the
page's URL (docs/feed-rules.md has the same list). A lint: section
in the configuration (read when -c is given, or $FEEDSYNC_CONFIG or
./feedsync.yaml exists) sets disable, enable and max_warnings; flags override it.

Exit codes: 0 no errors; 1 errors, or more warnings than --max-warnings;
2 a feed could not be read at all (the findings before the stop are printed).`,
		Args: wrapArgs(func(cmd *cobra.Command, args []string) error {
			if rules, _ := cmd.Flags().GetBool("rules"); rules {
				return nil
			}
			return cobra.MinimumNArgs(1)(cmd, args)
		}),
		RunE: runLint,
	}
	f := c.Flags()
	f.String("format", "text", "output format: "+strings.Join(lint.Formats, ", "))
	f.String("policy", "", "also check variant groups as this policy would shape them: parent or variant")
	f.Int("max-warnings", -1, "fail when there are more warnings than this (-1: no limit)")
	f.StringSlice("disable", nil, "rule codes to turn off (comma-separated)")
	f.StringSlice("enable", nil, "rule codes to turn on, also those off by default (comma-separated)")
	f.Bool("rules", false, "list every rule with its code, severity, fix and Google source, and exit")
	addConfigFlag(c)
	return c
}

func runLint(cmd *cobra.Command, args []string) error {
	flags := cmd.Flags()
	format, _ := flags.GetString("format")
	out := cmd.OutOrStdout()
	if rules, _ := flags.GetBool("rules"); rules {
		if format != "json" {
			format = "text"
		}
		return lint.WriteRules(out, format)
	}
	if !slices.Contains(lint.Formats, format) {
		return usagef("--format %q: want %s", format, strings.Join(lint.Formats, ", "))
	}
	opts, maxWarnings, err := lintOptions(cmd)
	if err != nil {
		return err
	}
	l, err := lint.New(opts)
	if err != nil {
		return usagef("%v", err)
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	for _, src := range args {
		lintOne(ctx, cmd, l, src, cmd.InOrStdin())
	}
	r := l.Report()
	color := false
	if f, ok := out.(*os.File); ok && format == "text" && os.Getenv("NO_COLOR") == "" {
		color = isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
	}
	if err := lint.Write(out, r, format, lint.WriteOptions{Color: color, Version: version}); err != nil {
		return err
	}
	switch {
	case r.Fatal():
		return usageError{errors.New("lint: a feed could not be read to its end (see the unreadable or parse-error finding)")}
	case r.Errors > 0:
		return failedError{fmt.Sprintf("lint: %d errors", r.Errors)}
	case r.Failed(maxWarnings):
		return failedError{fmt.Sprintf("lint: %d warnings, more than --max-warnings %d", r.Warnings, maxWarnings)}
	}
	return nil
}

// lintOne fetches one feed and lints it; a feed that cannot be opened
// becomes an unreadable finding. A URL is named in every finding, in every
// format, without its user info and query (feed.SourceName): they may hold
// credentials, and lint output lands in CI logs and code scanning.
func lintOne(ctx context.Context, cmd *cobra.Command, l *lint.Linter, src string, stdin io.Reader) {
	if src == "-" {
		_ = l.Lint(stdin, "<stdin>", feed.FormatAuto)
		return
	}
	name := feed.SourceName(src)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	resp, err := feed.Fetch(ctx, feed.Request{URL: src, UserAgent: userAgent(), Timeout: 10 * time.Minute})
	if err != nil {
		l.Unreadable(name, err)
		return
	}
	defer resp.Body.Close()
	bar := newProgress(cmd, localSize(src), "reading "+name, unitBytes)
	defer bar.Done()
	_ = l.Lint(bar.Reader(resp.Body), name, feed.FormatAuto)
}

// lintOptions merges the config's lint section (when there is a config)
// with the flags, which win.
func lintOptions(cmd *cobra.Command) (lint.Options, int, error) {
	flags := cmd.Flags()
	var opts lint.Options
	maxWarnings := -1
	var cfgLint config.Lint
	path := configPath(cmd)
	explicit := flags.Changed("config")
	if _, err := os.Stat(path); explicit || err == nil {
		cfg, err := config.Load(path)
		if err != nil {
			return opts, 0, err
		}
		cfgLint = cfg.Lint
		maxWarnings = cfg.Lint.MaxWarnings
	}
	if flags.Changed("max-warnings") {
		maxWarnings, _ = flags.GetInt("max-warnings")
	}
	flagDisable, _ := flags.GetStringSlice("disable")
	flagEnable, _ := flags.GetStringSlice("enable")
	// A flag overrides the config for the same code.
	for _, c := range cfgLint.Disable {
		if !containsFold(flagEnable, c) {
			opts.Disable = append(opts.Disable, c)
		}
	}
	for _, c := range cfgLint.Enable {
		if !containsFold(flagDisable, c) {
			opts.Enable = append(opts.Enable, c)
		}
	}
	opts.Disable = append(opts.Disable, flagDisable...)
	for _, c := range flagEnable {
		if !containsFold(flagDisable, c) {
			opts.Enable = append(opts.Enable, c)
		}
	}
	if p, _ := flags.GetString("policy"); p != "" {
		pol, err := tree.ParsePolicy(p)
		if err != nil {
			return opts, 0, usagef("--policy %v", err)
		}
		opts.Policy = pol
	}
	return opts, maxWarnings, nil
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(strings.TrimSpace(v), strings.TrimSpace(s)) {
			return true
		}
	}
	return false
}
