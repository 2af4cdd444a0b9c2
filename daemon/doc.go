// Package daemon is what `feedsync run` runs. A Daemon schedules each
// configured feed on its cron schedule (robfig/cron), never two runs of one
// feed at a time and at most run.concurrency runs at all; runs each through
// engine.Syncer; keeps every feed's last outcome for health and status and
// logs it; and after a successful run requests the feed's heartbeat URL.
//
// What it owns:
//   - Reload: a new configuration replaces the feeds and their schedules
//     (feeds that left are unscheduled, new ones scheduled, changed ones
//     rescheduled); an invalid one keeps the running one.
//   - Run: the HTTP endpoints on metrics.listen (/metrics, /healthz, /livez,
//     /status and, with a publish.Publisher, the published feeds under
//     /feeds/), and the stop: when Run's context is done it stops
//     scheduling, gives runs in flight run.grace, then cancels them.
//   - Metrics: feedsync's Prometheus series in a private registry; it is
//     also the push.Observer of the catalog clients.
//   - For a feed with publish: true, each run's products go into a new
//     edition of its published feed, served only once the run succeeded.
//
// What it does not: sync (package engine), write feeds (package publish) or
// handle signals — cmd/feedsync turns SIGTERM and SIGINT into a cancelled
// context and SIGHUP into Reload.
//
// Import rule: daemon imports config, engine, publish, push, store and tree.
// It must not import lint or cmd/feedsync, and no other feedsync package may
// import it: only cmd/feedsync does.
package daemon
