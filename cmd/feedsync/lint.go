package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
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
		Use:   "lint [--format text|json|sarif|github|junit] [--sarif FILE] [--junit FILE] [--json FILE] [--policy parent|variant] [-c FILE] [--max-warnings N] [--max-per-rule N] [--disable CODE,...] [--enable CODE,...] [--rules] PATH|URL...",
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

One run can write several reports of the same findings: --format picks
standard output's, and --sarif FILE, --junit FILE and --json FILE write more
to files (say --format github --sarif lint.sarif --junit lint.xml in CI).
--max-per-rule N keeps at most N findings of each rule in the reports (1000
unless given); the rest are counted ("… and 430 more" in text, the counts in
JSON and in SARIF's run properties). JUnit fails a rule's testcase on
errors, and on warnings only when they are more than --max-warnings; other
findings are listed in its system-out.

--rules lists every rule with its code, severity, fix and source: the section
of Google's product data specification (or help page) it rests on, with the
page's URL (docs/feed-rules.md has the same list); --format json lists them
as JSON, --format sarif as a SARIF log without results. A lint: section
in the configuration (read when -c is given, or $FEEDSYNC_CONFIG or
./feedsync.yaml exists) sets disable, enable and max_warnings; flags override
it. Only that section is read: a ${VAR} elsewhere in the file (the catalog's
token, a feed's headers) need not be set for lint.

Exit codes: 0 no errors; 1 errors, or more warnings than --max-warnings;
2 a feed could not be read at all (the findings before the stop are printed).`,
		Args: wrapArgs(func(cmd *cobra.Command, args []string) error {
			if rules, _ := cmd.Flags().GetBool("rules"); rules {
				return nil
			}
			return cobra.MinimumNArgs(1)(cmd, args)
		}),
		Example: `  feedsync lint public/google-feed.xml
  feedsync lint --policy parent --max-warnings 0 https://shop.example/feed.xml
  feedsync lint --format github --sarif feed.sarif --junit feed-lint.xml public/google-feed.xml
  feedsync lint --format json --max-per-rule 20 public/google-feed.xml
  feedsync lint --rules --format sarif`,
		RunE: runLint,
	}
	f := c.Flags()
	f.String("format", "text", "output format: "+strings.Join(lint.Formats, ", "))
	f.String("policy", "", "also check variant groups as this policy would shape them: parent or variant")
	f.Int("max-warnings", -1, "fail when there are more warnings than this (-1: no limit)")
	f.StringSlice("disable", nil, "rule codes to turn off (comma-separated)")
	f.StringSlice("enable", nil, "rule codes to turn on, also those off by default (comma-separated)")
	f.Bool("rules", false, "list every rule with its code, severity, fix and Google source (--format text, json or sarif), and exit")
	f.Int("max-per-rule", lint.DefaultMaxPerRule, "keep at most N findings of each rule in the reports, and count the rest")
	for _, r := range extraReports {
		f.String(r, "", "also write a "+reportNames[r]+" report of the same findings to `FILE`")
	}
	addConfigFlag(c)
	completeFlag(c, "format", completeValues(lint.Formats...))
	completeFlag(c, "policy", completeValues("parent", "variant"))
	for _, r := range extraReports {
		if err := c.MarkFlagFilename(r); err != nil {
			panic(err)
		}
	}
	return c
}

// extraReports are the formats that --FORMAT FILE writes to a file besides
// standard output's report.
var extraReports = []string{"sarif", "junit", "json"}

var reportNames = map[string]string{"sarif": "SARIF 2.1.0", "junit": "JUnit XML", "json": "JSON"}

func runLint(cmd *cobra.Command, args []string) error {
	flags := cmd.Flags()
	format, _ := flags.GetString("format")
	out := cmd.OutOrStdout()
	if rules, _ := flags.GetBool("rules"); rules {
		for _, r := range extraReports {
			if flags.Changed(r) {
				return usagef("--rules prints the rules on standard output (--format %s), not to --%s", r, r)
			}
		}
		switch {
		case slices.Contains(lint.RulesFormats, format):
		case slices.Contains(lint.Formats, format):
			format = "text" // github and junit have no form for a rule list
		default:
			return usagef("--format %q: --rules lists the rules as %s", format, strings.Join(lint.RulesFormats, ", "))
		}
		return lint.WriteRules(out, format, lint.WriteOptions{Version: lintVersion()})
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
	// The report files are made before the lint pass, so that a path that
	// cannot be written fails at once, not after a long feed.
	files, err := openReports(cmd)
	if err != nil {
		return err
	}
	defer func() {
		for _, f := range files {
			f.discard()
		}
	}()
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	for _, src := range args {
		lintOne(ctx, cmd, l, src, cmd.InOrStdin())
	}
	r := l.Report()
	wo := lint.WriteOptions{Version: lintVersion(), FailWarnings: maxWarnings >= 0 && r.Warnings > maxWarnings}
	for _, f := range files {
		if err := f.write(r, wo); err != nil {
			return err
		}
	}
	color := false
	if f, ok := out.(*os.File); ok && format == "text" && os.Getenv("NO_COLOR") == "" {
		color = isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
	}
	so := wo
	so.Color = color
	if err := lint.Write(out, r, format, so); err != nil {
		return err
	}
	switch {
	case r.Fatal():
		return usageError{errors.New("lint: a feed could not be read to its end (see the unreadable or parse-error finding)")}
	case r.Errors > 0:
		return failedError{"lint: " + plural(r.Errors, "error")}
	case r.Failed(maxWarnings):
		return failedError{fmt.Sprintf("lint: %s, more than --max-warnings %d", plural(r.Warnings, "warning"), maxWarnings)}
	}
	return nil
}

// reportFile is a report that --sarif, --junit or --json asked for: written
// to a temporary file beside the target, which replaces the target once it
// is complete (a failed write leaves no half report).
type reportFile struct {
	format, path string
	tmp          *os.File
}

// openReports creates the report files' temporary files.
func openReports(cmd *cobra.Command) ([]*reportFile, error) {
	var files []*reportFile
	seen := map[string]string{}
	fail := func(err error) ([]*reportFile, error) {
		for _, f := range files {
			f.discard()
		}
		return nil, err
	}
	for _, format := range extraReports {
		if !cmd.Flags().Changed(format) {
			continue
		}
		path, _ := cmd.Flags().GetString(format)
		switch {
		case strings.TrimSpace(path) == "":
			return fail(usagef("--%s: want a file name", format))
		case path == "-":
			return fail(usagef("--%s -: standard output has --format's report; use --format %s, or name a file", format, format))
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return fail(usagef("--%s %s: %v", format, path, err))
		}
		if other, dup := seen[abs]; dup {
			return fail(usagef("--%s %s: --%s writes that file already", format, path, other))
		}
		seen[abs] = format
		if fi, err := os.Stat(path); err == nil && fi.IsDir() {
			return fail(usagef("--%s %s: is a directory", format, path))
		}
		tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
		if err != nil {
			return fail(usagef("--%s %s: cannot write the report: %v", format, path, err))
		}
		files = append(files, &reportFile{format: format, path: path, tmp: tmp})
	}
	return files, nil
}

func (f *reportFile) write(r *lint.Report, o lint.WriteOptions) error {
	err := lint.Write(f.tmp, r, f.format, o)
	if cerr := f.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.tmp.Name(), f.path)
	}
	if err != nil {
		return usagef("--%s %s: cannot write the report: %v", f.format, f.path, err)
	}
	f.tmp = nil
	return nil
}

// discard removes a temporary file that did not become its report.
func (f *reportFile) discard() {
	if f.tmp != nil {
		f.tmp.Close()
		os.Remove(f.tmp.Name())
		f.tmp = nil
	}
}

// lintVersion is the version lint's reports name (SARIF's tool.driver.version,
// JSON's tool): the release this binary was built as (-X main.version), else
// the module version the go command recorded (go install …@v1.2.0, or a
// pseudo-version), else lint.DevVersion.
func lintVersion() string {
	if version != "dev" && strings.TrimSpace(version) != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return lint.DevVersion
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
		// The lint: section only: lint needs nothing else of the
		// configuration, and a ${VAR} of another section (the catalog's
		// token) need not be set where lint runs.
		l, err := config.LoadLint(path)
		if err != nil {
			return opts, 0, err
		}
		cfgLint = *l
		maxWarnings = l.MaxWarnings
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
	if flags.Changed("max-per-rule") {
		n, _ := flags.GetInt("max-per-rule")
		if n < 1 {
			return opts, 0, usagef("--max-per-rule %d: want 1 or more", n)
		}
		opts.MaxPerRule = n
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
