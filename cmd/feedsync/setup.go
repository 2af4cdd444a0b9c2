package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/feedsync/feedsync/config"
	"github.com/feedsync/feedsync/internal/redact"
	"github.com/feedsync/feedsync/push"
	"github.com/feedsync/feedsync/store"
)

// addConfigFlag adds -c; its default comes from $FEEDSYNC_CONFIG, then ./feedsync.yaml.
func addConfigFlag(c *cobra.Command) {
	c.Flags().StringP("config", "c", "", "config file (default $FEEDSYNC_CONFIG, then ./feedsync.yaml)")
	completeConfig(c)
}

func configPath(c *cobra.Command) string {
	if p, _ := c.Flags().GetString("config"); p != "" {
		return p
	}
	if p := os.Getenv("FEEDSYNC_CONFIG"); p != "" {
		return p
	}
	return "feedsync.yaml"
}

func loadConfig(c *cobra.Command) (*config.Config, error) {
	cfg, err := config.Load(configPath(c))
	if err == nil {
		cfg.ApplyMemoryLimit()
	}
	return cfg, err
}

// scrub is the process's Redactor: every secret of every configuration this
// process loaded (redactor adds them), so that text written under an old
// configuration is scrubbed after a reload too. The logger writes through
// it, the syncer and the daemon scrub stored and shown errors with it.
var scrub = redact.New()

// redactor adds cfg's secrets (Config.Secrets) to the process's Redactor
// and returns it.
func redactor(cfg *config.Config) *redact.Redactor {
	scrub.Add(cfg.Secrets()...)
	return scrub
}

// newLogger logs to w: console lines for people, JSON for machines. Every
// line passes through redactor(cfg) on its way to w, so that no secret of
// the configuration reaches a log, in whatever field or spelling.
func newLogger(cfg *config.Config, w io.Writer, quiet bool) zerolog.Logger {
	level, err := zerolog.ParseLevel(cfg.Log.Level)
	if err != nil {
		level = zerolog.InfoLevel
	}
	if quiet && level < zerolog.WarnLevel {
		level = zerolog.WarnLevel
	}
	noColor := true
	if f, ok := w.(*os.File); ok {
		noColor = !isatty.IsTerminal(f.Fd())
	}
	// zerolog writes each event as one line in one Write: the redacting
	// writer never holds anything back.
	w = redactor(cfg).Writer(w)
	if cfg.Log.Format == "console" {
		w = zerolog.ConsoleWriter{Out: w, NoColor: noColor, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}

// openStore opens the state file, creating its directory. When another
// process holds it: a daemon's run (see store.DaemonLock) holds it for a
// while only, so openStore waits its turn, saying so on stderr, until the
// run is over or Ctrl-C; anything else fails fast with ErrLocked.
func openStore(cfg *config.Config, readOnly bool) (*store.DB, error) {
	if !readOnly {
		if err := os.MkdirAll(filepath.Dir(cfg.State), 0o755); err != nil {
			return nil, fmt.Errorf("state directory: %w", err)
		}
	}
	opts := store.Options{Timeout: 2 * time.Second, ReadOnly: readOnly}
	db, err := store.Open(cfg.State, opts)
	if !errors.Is(err, store.ErrLocked) {
		return db, err
	}
	pid := store.DaemonPID(cfg.State)
	if pid == 0 {
		return nil, err
	}
	who := "the feedsync daemon"
	if pid > 0 {
		who = fmt.Sprintf("the feedsync daemon (pid %d)", pid)
	}
	fmt.Fprintf(os.Stderr, "state file %s is in use by a run of %s: waiting for the run to finish (Ctrl-C to give up)…\n", cfg.State, who)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts.Timeout = time.Second
	for {
		db, err := store.Open(cfg.State, opts)
		if !errors.Is(err, store.ErrLocked) {
			return db, err
		}
		if ctx.Err() != nil {
			return nil, interrupted{fmt.Errorf("%w; gave up waiting", err)}
		}
	}
}

// newSink builds the configured catalog sink. The User.com client reports
// its requests and retries to obs when given (the daemon's metrics).
func newSink(cfg *config.Config, log zerolog.Logger, obs ...push.Observer) (push.Sink, error) {
	switch cfg.Catalog.Kind {
	case "file":
		s := push.NewFileSink(cfg.Catalog.Path)
		s.Log = log.With().Str("catalog", "file").Logger()
		return s, nil
	case "usercom":
		c := cfg.Catalog
		token := os.Getenv(c.TokenEnv)
		if token == "" {
			return nil, usagef("set %s (the environment variable named by catalog.token_env)", c.TokenEnv)
		}
		var observer push.Observer
		if len(obs) > 0 {
			observer = obs[0]
		}
		s, err := push.NewUserCom(push.UserComConfig{
			URL: c.URL, Token: token, TokenEnv: c.TokenEnv, Mode: c.Mode,
			Rate: c.Rate, Concurrency: c.Concurrency, Timeout: time.Duration(c.Timeout), Retries: c.Retries,
			UserAgent: userAgent(), Logger: log.With().Str("catalog", "usercom").Logger(),
			Observer: observer,
		})
		if err != nil {
			return nil, usagef("%v", err)
		}
		return s, nil
	}
	return nil, usagef("catalog.kind %q: want file or usercom", cfg.Catalog.Kind)
}

// catalogTarget is the Target of the configured catalog's sink, without
// building one.
func catalogTarget(cfg *config.Config) (string, error) {
	if cfg.Catalog.Kind == "usercom" {
		t, err := push.UserComTarget(cfg.Catalog.URL)
		if err != nil {
			return "", usagef("%v", err)
		}
		return t, nil
	}
	return push.NewFileSink(cfg.Catalog.Path).Target(), nil
}

// selectFeeds returns the named feeds, or all when none is named.
func selectFeeds(cfg *config.Config, names []string) ([]*config.Feed, error) {
	if err := cfg.RequireFeeds(); err != nil {
		return nil, err
	}
	if len(names) == 0 {
		out := make([]*config.Feed, len(cfg.Feeds))
		for i := range cfg.Feeds {
			out[i] = &cfg.Feeds[i]
		}
		return out, nil
	}
	var out []*config.Feed
	for _, n := range names {
		f, ok := cfg.Feed(n)
		if !ok {
			var known []string
			for _, f := range cfg.Feeds {
				known = append(known, f.Name)
			}
			return nil, usagef("no feed named %q in %s (configured: %v)", n, cfg.Path, known)
		}
		out = append(out, f)
	}
	return out, nil
}

// syncTarget is one thing sync, resync and plan run: a product feed, or an
// orders export.
type syncTarget struct {
	name, url string
	feed      *config.Feed
	orders    *config.Orders
	keepIDs   bool // an orders export maps its lines through this feed
}

// selectTargets returns the product feeds and orders exports named (all of
// them when none is): the feeds first, so that the product ids orders map
// through are fresh.
func selectTargets(cfg *config.Config, names []string) ([]syncTarget, error) {
	if len(cfg.Feeds) == 0 && len(cfg.Orders) == 0 {
		return nil, cfg.RequireFeeds()
	}
	feed := func(f *config.Feed) syncTarget {
		return syncTarget{name: f.Name, url: f.URL, feed: f, keepIDs: cfg.KeepsIDs(f.Name)}
	}
	order := func(o *config.Orders) syncTarget { return syncTarget{name: o.Name, url: o.URL, orders: o} }
	var out []syncTarget
	if len(names) == 0 {
		for i := range cfg.Feeds {
			out = append(out, feed(&cfg.Feeds[i]))
		}
		for i := range cfg.Orders {
			out = append(out, order(&cfg.Orders[i]))
		}
		return out, nil
	}
	var fs, os []syncTarget
	for _, n := range names {
		if f, ok := cfg.Feed(n); ok {
			fs = append(fs, feed(f))
			continue
		}
		if o, ok := cfg.Order(n); ok {
			os = append(os, order(o))
			continue
		}
		var known []string
		for _, f := range cfg.Feeds {
			known = append(known, f.Name)
		}
		for _, o := range cfg.Orders {
			known = append(known, o.Name)
		}
		return nil, usagef("no feed named %q in %s (configured: %v)", n, cfg.Path, known)
	}
	return append(fs, os...), nil
}

// countFeeds counts the product feeds among targets.
func countFeeds(targets []syncTarget) int {
	n := 0
	for _, t := range targets {
		if t.feed != nil {
			n++
		}
	}
	return n
}
