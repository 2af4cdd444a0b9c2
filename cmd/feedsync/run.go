package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/feedsync/feedsync/config"
	"github.com/feedsync/feedsync/daemon"
	"github.com/feedsync/feedsync/publish"
)

func newRunCmd() *cobra.Command {
	var now bool
	c := &cobra.Command{
		Use:   "run -c FILE [--now]",
		Short: "Run the daemon: each feed on its cron schedule, with /metrics, /healthz and /status",
		Long: `run keeps every configured feed in sync on its own cron schedule (feeds[].schedule)
until it is stopped. It logs to standard output and never daemonises itself: run
it under systemd, Docker or Kubernetes (see deploy/ and the README).

HTTP on metrics.listen:
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
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDaemon(cmd, now)
		},
	}
	addConfigFlag(c)
	c.Flags().BoolVar(&now, "now", false, "also run every feed once at start-up")
	return c
}

func runDaemon(cmd *cobra.Command, now bool) (err error) {
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
	log := newLogger(cfg, os.Stdout, false)
	metrics := daemon.NewMetrics()
	sink, err := newSink(cfg, log, metrics)
	if err != nil {
		return err
	}
	defer sink.Close()
	db, err := openStore(cfg, false)
	if err != nil {
		return err
	}
	defer func() {
		if err := db.Close(); err != nil {
			log.Error().Err(err).Msg("close state file")
		}
	}()

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
		DB: db, Sink: sink, Log: log, Metrics: metrics, UserAgent: userAgent(), RunNow: now, Publisher: publisher,
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
