package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/feedsync/feedsync/config"
	"github.com/feedsync/feedsync/daemon"
	"github.com/feedsync/feedsync/publish"
	"github.com/feedsync/feedsync/store"
)

func newRunCmd() *cobra.Command {
	var now, quiet bool
	c := &cobra.Command{
		Use:   "run -c FILE [--now]",
		Short: "Run the daemon: each feed on its cron schedule, with /metrics, /healthz and /status",
		Long: `run keeps every configured feed in sync on its own cron schedule (feeds[].schedule)
until it is stopped (a feed without schedule: runs @hourly). It logs to standard
error, like every command, and never daemonises itself: run it under systemd,
Docker or Kubernetes (see deploy/ and the README).

It holds the state file only while a run uses it: feedsync state and plan work
beside it, and a sync by hand waits for the daemon's run in progress, if any.

HTTP on metrics.listen:
  /         a status page for people: each feed's last run, next run, last
            error and rejected products (HTML, no JavaScript)
  /metrics  Prometheus text format
  /healthz  200 while every feed's last run succeeded, else 503 naming the failing feeds
  /livez    200 while the process runs (for liveness probes)
  /status   JSON: each feed's last run summary and next run time

Signals:
  SIGTERM, SIGINT  stop scheduling, let runs in flight finish within run.grace,
                   then cancel them (acknowledged products are committed); exit 0.
                   A second signal exits at once with status 1.
  SIGHUP           reload the config file; an invalid one keeps the running config.`,
		Args: wrapArgs(cobra.NoArgs),
		Example: `  feedsync run -c /etc/feedsync/feedsync.yaml          the daemon, under systemd or Docker
  feedsync run --now -q                                 run every feed at start, log warnings only
  curl -s localhost:9464/status                         each feed's last run, as JSON`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDaemon(cmd, now, quiet)
		},
	}
	addConfigFlag(c)
	c.Flags().BoolVar(&now, "now", false, "also run every feed once at start-up")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "log warnings and errors only")
	return c
}

func runDaemon(cmd *cobra.Command, now, quiet bool) (err error) {
	path := configPath(cmd)
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	red := redactor(cfg)
	defer func() { err = red.Error(err) }()
	if err := cfg.RequireFeeds(); err != nil {
		return err
	}
	cfg.ApplyMemoryLimit()
	log := newLogger(cfg, os.Stderr, quiet)
	metrics := daemon.NewMetrics()
	sink, err := newSink(cfg, log, metrics)
	if err != nil {
		return err
	}
	defer sink.Close()
	state, err := openDaemonState(cfg, log)
	if err != nil {
		return err
	}
	defer state.release()

	var publisher *publish.Publisher
	for _, f := range cfg.Feeds {
		if f.Publish {
			if publisher, err = publish.NewPublisher(cfg.PublishDir); err != nil {
				return err
			}
			break
		}
	}
	d, err := daemon.New(cfg, daemon.Options{
		State: state.pool, Sink: sink, Log: log, Metrics: metrics, UserAgent: userAgent(), RunNow: now, Publisher: publisher,
		Redact: red.String,
		Reload: func() (*config.Config, error) {
			c, err := config.Load(path)
			if err == nil {
				// The new configuration's secrets join the old ones before
				// any run uses it.
				redactor(c)
				err = c.RequireFeeds()
			}
			return c, err
		},
	})
	if err != nil {
		return err
	}

	ctx, stop := context.WithCancel(cmd.Context())
	defer stop()
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, os.Interrupt, syscall.SIGHUP)
	defer signal.Stop(sigs)
	go func() {
		stopping := false
		for s := range sigs {
			switch {
			case s == syscall.SIGHUP && !stopping:
				log.Info().Msg("SIGHUP: reloading the config")
				_ = d.Reload() // logs why it failed
			case s == syscall.SIGHUP:
			case !stopping:
				stopping = true
				log.Info().Str("signal", s.String()).Msg("stopping")
				stop()
			default:
				log.Warn().Str("signal", s.String()).Msg("second signal: exiting now; the next start resumes from the committed state")
				os.Exit(exitFailed)
			}
		}
	}()

	log.Info().Str("version", versionString()).Str("config", path).Str("state", cfg.State).Msg("feedsync run")
	if err := d.Run(ctx); err != nil {
		return err
	}
	log.Info().Msg("exiting")
	return nil
}

// daemonState is the daemon's hold on its state file: the daemon lock for
// its whole life, the file itself only during runs (store.Pool).
type daemonState struct {
	lock *store.DaemonLock
	pool *store.Pool
}

// openDaemonState takes the daemon lock, checks that the state file opens
// (a damaged or newer file stops the daemon at start), and closes it again
// until the first run.
func openDaemonState(cfg *config.Config, log zerolog.Logger) (*daemonState, error) {
	if err := os.MkdirAll(filepath.Dir(cfg.State), 0o755); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	lock, err := store.LockDaemon(cfg.State)
	if err != nil {
		return nil, err
	}
	db, err := openStore(cfg, false)
	if err != nil {
		lock.Release()
		return nil, err
	}
	if err := db.Close(); err != nil {
		lock.Release()
		return nil, err
	}
	pool := store.NewPool(cfg.State, store.Options{})
	pool.Waiting = func(err error) {
		log.Warn().Err(err).Msg("the state file is busy (a sync or state --reset by hand?): the run waits for it")
	}
	return &daemonState{lock: lock, pool: pool}, nil
}

func (s *daemonState) release() { s.lock.Release() }
