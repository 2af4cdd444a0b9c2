package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/feedsync/feedsync/config"
	"github.com/feedsync/feedsync/engine"
	"github.com/feedsync/feedsync/publish"

	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"

	"github.com/feedsync/feedsync/push"
	"github.com/feedsync/feedsync/store"
	"github.com/feedsync/feedsync/tree"
)

// HeartbeatTimeout bounds one heartbeat request.
const HeartbeatTimeout = 10 * time.Second

// Options wires a Daemon. The Sink, and the DB when given, are opened by
// the caller for the daemon's whole life and closed by the caller after Run
// returns.
type Options struct {
	// State is the state file, held only while a run uses it, so that
	// `feedsync state`, `plan` and syncs by hand open it between runs.
	// When nil, DB is used, open all the time.
	State *store.Pool
	DB    *store.DB
	Sink  push.Sink
	// Log receives every line; per-feed lines carry a "feed" field.
	Log zerolog.Logger
	// Metrics is the Prometheus instrumentation; nil: NewMetrics().
	Metrics *Metrics
	// UserAgent is sent to feed servers and heartbeat URLs.
	UserAgent string
	// RunNow runs every feed once at start-up, besides its schedule.
	RunNow bool
	// Reload reads the configuration again (SIGHUP); nil refuses reloads.
	Reload func() (*config.Config, error)
	// HTTPClient requests heartbeats; nil: a client with HeartbeatTimeout.
	HTTPClient *http.Client
	// Publisher keeps and serves the shaped feeds of feeds with publish: true;
	// nil serves none.
	Publisher *publish.Publisher
	// Redact scrubs secrets from error texts: the syncer's (see
	// Syncer.Redact) and those /status and /healthz show. nil changes nothing.
	Redact func(string) string
}

// Daemon runs each configured feed on its cron schedule, never two runs of
// one feed at a time and at most run.concurrency runs at all, and serves
// /metrics, /healthz, /livez and /status. It is what `feedsync run` runs.
//
// One sync of one feed is Syncer.Sync; the daemon only decides when, keeps
// the outcome for health and status, and logs it.
type Daemon struct {
	opts    Options
	log     zerolog.Logger
	metrics *Metrics
	cron    *cron.Cron

	// runCtx is the context of every sync; it is cancelled only when the
	// grace period after a stop request has run out.
	runCtx     context.Context
	cancelRuns context.CancelFunc
	stopping   chan struct{} // closed when Run's context is done
	inflight   sync.WaitGroup

	mu      sync.Mutex
	started time.Time
	cfg     *config.Config
	sem     chan struct{} // run.concurrency tokens
	feeds   map[string]*feedState
	order   []string
	running map[string]bool // by feed name; outlives reloads
	stopped bool            // no new run may start

	damaged sync.Once // the state file's damage is logged once
}

// feedState is what the daemon knows of one feed; guarded by Daemon.mu.
type feedState struct {
	fc          config.Feed
	oc          *config.Orders // an orders export (fc then holds its name, url and schedule)
	keepIDs     bool           // an orders export maps its lines through this feed
	entry       cron.EntryID
	last        *engine.Summary
	lastEnded   time.Time
	lastSuccess time.Time
	lastErr     string
	failures    int // consecutive failed runs
	failSince   time.Time
}

// New checks the configuration's schedules and prepares the daemon;
// nothing runs before Run.
func New(cfg *config.Config, opts Options) (*Daemon, error) {
	if opts.DB == nil && opts.State == nil || opts.Sink == nil {
		return nil, errors.New("daemon: a state file and a sink are required")
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics()
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: HeartbeatTimeout}
	}
	runCtx, cancel := context.WithCancel(context.Background())
	d := &Daemon{
		opts:       opts,
		log:        opts.Log,
		metrics:    opts.Metrics,
		runCtx:     runCtx,
		cancelRuns: cancel,
		stopping:   make(chan struct{}),
		feeds:      map[string]*feedState{},
		running:    map[string]bool{},
	}
	cl := cronLogger{opts.Log}
	d.cron = cron.New(cron.WithLogger(cl), cron.WithLocation(time.Local))
	if err := d.apply(cfg); err != nil {
		cancel()
		return nil, err
	}
	return d, nil
}

// apply makes cfg the running configuration: feeds that left are
// unscheduled, new ones scheduled, changed ones rescheduled. A run in
// flight finishes with the configuration it started with.
func (d *Daemon) apply(cfg *config.Config) error {
	// Every schedule was parsed with the configuration: a bad one changes
	// nothing, as the configuration is refused as a whole.
	type entry struct {
		fc      config.Feed
		oc      *config.Orders
		keepIDs bool
	}
	var entries []entry
	for i := range cfg.Feeds {
		if cfg.Feeds[i].Schedule.Schedule == nil {
			return fmt.Errorf("feeds[%d].schedule: none", i)
		}
		entries = append(entries, entry{fc: cfg.Feeds[i], keepIDs: cfg.KeepsIDs(cfg.Feeds[i].Name)})
	}
	for i := range cfg.Orders {
		o := cfg.Orders[i]
		if o.Schedule.Schedule == nil {
			return fmt.Errorf("orders[%d].schedule: none", i)
		}
		entries = append(entries, entry{fc: config.Feed{Name: o.Name, URL: o.URL, Schedule: o.Schedule}, oc: &o})
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cfg == nil || d.cfg.Run.Concurrency != cfg.Run.Concurrency {
		// Runs holding a token of the old semaphore give it back there.
		d.sem = make(chan struct{}, max(cfg.Run.Concurrency, 1))
	}
	order := make([]string, 0, len(entries))
	for _, e := range entries {
		fc := e.fc
		order = append(order, fc.Name)
		fs, ok := d.feeds[fc.Name]
		if ok && fs.fc.Schedule.Spec == fc.Schedule.Spec {
			fs.fc, fs.oc, fs.keepIDs = fc, e.oc, e.keepIDs
			continue
		}
		if ok {
			d.cron.Remove(fs.entry)
		} else {
			fs = &feedState{}
			d.feeds[fc.Name] = fs
			var last time.Time
			_ = d.useState(context.Background(), time.Second, func(db *store.DB) error {
				if m, err := db.Meta(fc.Name); err == nil {
					last = m.LastSuccess
				}
				return nil
			})
			fs.lastSuccess = last
			d.metrics.AddFeed(fc.Name, last)
		}
		fs.fc, fs.oc, fs.keepIDs = fc, e.oc, e.keepIDs
		name := fc.Name
		l := cronLogger{d.feedLog(name)}
		job := cron.NewChain(cron.Recover(l), cron.SkipIfStillRunning(l)).Then(cron.FuncJob(func() { d.runFeed(name, "schedule") }))
		fs.entry = d.cron.Schedule(fc.Schedule.Schedule, job)
	}
	for name, fs := range d.feeds {
		if !slices.Contains(order, name) {
			d.cron.Remove(fs.entry)
			delete(d.feeds, name)
			d.metrics.RemoveFeed(name)
		}
	}
	d.order = order
	d.cfg = cfg
	if d.opts.Publisher != nil {
		// Serve only what this config publishes; delete the other editions.
		d.opts.Publisher.Configure(cfg, d.log)
	}
	return nil
}

// Reload reads the configuration again and applies it. An invalid one keeps
// the running configuration; the error says why and is logged. The state
// file, catalog, metrics.listen and log settings need a restart.
func (d *Daemon) Reload() error {
	err := d.reload()
	d.metrics.ObserveReload(err)
	if err != nil {
		d.log.Error().Err(err).Msg("config reload failed; keeping the running configuration")
		return err
	}
	return nil
}

func (d *Daemon) reload() error {
	if d.opts.Reload == nil {
		return errors.New("this daemon cannot reload its configuration")
	}
	cfg, err := d.opts.Reload()
	if err != nil {
		return err
	}
	d.mu.Lock()
	old := d.cfg
	stopped := d.stopped
	d.mu.Unlock()
	if stopped {
		return errors.New("the daemon is stopping")
	}
	for _, c := range []struct {
		key      string
		old, new any
	}{
		{"state", old.State, cfg.State},
		{"catalog", old.Catalog, cfg.Catalog},
		{"metrics.listen", old.Metrics.Listen, cfg.Metrics.Listen},
		{"log", old.Log, cfg.Log},
	} {
		if c.old != c.new {
			d.log.Warn().Str("key", c.key).Msg("config reload: this setting changed but takes effect only after a restart")
		}
	}
	// Keep what is still in force, so that /status and the next reload
	// compare against the running values.
	cfg.State, cfg.Catalog, cfg.Metrics, cfg.Log = old.State, old.Catalog, old.Metrics, old.Log
	if err := d.apply(cfg); err != nil {
		return err
	}
	for i := range cfg.Feeds {
		fc := &cfg.Feeds[i]
		log := d.feedLog(fc.Name)
		was, ok := old.Feed(fc.Name)
		switch {
		case !ok:
			log.Info().Str("schedule", fc.Schedule.Spec).Msg("feed added")
		case was.Schedule.Spec != fc.Schedule.Spec:
			log.Info().Str("schedule", fc.Schedule.Spec).Str("was", was.Schedule.Spec).Msg("schedule changed")
		case !reflect.DeepEqual(*was, *fc):
			log.Info().Msg("feed settings changed; a run in flight finishes with the old ones")
		}
	}
	for i := range old.Feeds {
		if _, ok := cfg.Feed(old.Feeds[i].Name); !ok {
			log := d.feedLog(old.Feeds[i].Name)
			log.Info().Msg("feed removed; its state stays in the state file")
		}
	}
	d.log.Info().Int("feeds", len(cfg.Feeds)).Int("concurrency", cfg.Run.Concurrency).Msg("config reloaded")
	return nil
}

func (d *Daemon) feedLog(name string) zerolog.Logger {
	return d.log.With().Str("feed", name).Logger()
}

// Run schedules the feeds and serves HTTP on metrics.listen until ctx is
// done; then it stops scheduling, lets runs in flight finish within
// run.grace, cancels those still going (Syncer commits what the catalog
// acknowledged) and returns. It returns an error only if it cannot start.
func (d *Daemon) Run(ctx context.Context) error {
	d.mu.Lock()
	listen := d.cfg.Metrics.Listen
	d.started = time.Now()
	d.mu.Unlock()
	var srv *http.Server
	if listen != "" {
		ln, err := net.Listen("tcp", listen)
		if err != nil {
			d.cancelRuns()
			return fmt.Errorf("metrics.listen: %w (is another feedsync running? pick another address)", err)
		}
		srv = &http.Server{Handler: d.Handler(), ReadHeaderTimeout: 10 * time.Second, WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				d.log.Error().Err(err).Msg("metrics server stopped")
			}
		}()
	}
	d.cron.Start()
	d.mu.Lock()
	names := slices.Clone(d.order)
	d.mu.Unlock()
	d.log.Info().Strs("feeds", names).Str("listen", listen).Bool("now", d.opts.RunNow).Msg("daemon started")
	for _, f := range d.Status().Feeds {
		log := d.feedLog(f.Name)
		log.Info().Str("schedule", f.Schedule).Any("next_run", f.NextRun).Msg("scheduled")
	}
	if d.opts.RunNow {
		for _, name := range names {
			job := cron.NewChain(cron.Recover(cronLogger{d.feedLog(name)})).Then(cron.FuncJob(func() { d.runFeed(name, "start") }))
			go job.Run()
		}
	}

	<-ctx.Done()
	d.stop()
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}
	return nil
}

// stop stops scheduling and waits for the runs in flight, cancelling them
// after the grace period.
func (d *Daemon) stop() {
	d.mu.Lock()
	d.stopped = true
	grace := time.Duration(d.cfg.Run.Grace)
	d.mu.Unlock()
	close(d.stopping)
	d.cron.Stop()

	done := make(chan struct{})
	go func() { d.inflight.Wait(); close(done) }()
	select {
	case <-done:
		d.log.Info().Msg("stopped: no run was in flight")
		d.cancelRuns()
		return
	default:
	}
	d.log.Info().Stringer("grace", grace).Msg("stopping: waiting for runs in flight (a second signal exits at once)")
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
		d.log.Info().Msg("stopped: runs in flight finished")
	case <-t.C:
		d.log.Warn().Stringer("grace", grace).Msg("grace period over: cancelling runs in flight; what the catalog acknowledged is committed and the next start resumes")
		d.cancelRuns()
		<-done
		d.log.Info().Msg("stopped")
	}
	d.cancelRuns()
}

// runFeed is one scheduled (or start-up) run of a feed.
func (d *Daemon) runFeed(name, trigger string) {
	d.mu.Lock()
	fs, ok := d.feeds[name]
	switch {
	case d.stopped || !ok:
		d.mu.Unlock()
		return
	case d.running[name]:
		d.mu.Unlock()
		log := d.feedLog(name)
		log.Info().Str("trigger", trigger).Msg("run skipped: the previous run of this feed is still in progress")
		return
	}
	d.running[name] = true
	d.inflight.Add(1)
	sem := d.sem
	fc, oc, keepIDs := fs.fc, fs.oc, fs.keepIDs
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		delete(d.running, name)
		d.mu.Unlock()
		d.inflight.Done()
	}()

	select {
	case sem <- struct{}{}:
	case <-d.stopping:
		return
	}
	select {
	case <-d.stopping:
		<-sem
		return
	default:
	}
	log := d.feedLog(name)
	log.Debug().Str("trigger", trigger).Msg("run started")
	sum, err := d.syncOnce(&fc, oc, keepIDs, log)
	<-sem
	ended := time.Now()

	if err != nil && d.runCtx.Err() != nil {
		// Cancelled after the grace: not the feed's fault, so neither its
		// health nor its metrics change.
		log.Warn().Err(err).Msg("run interrupted by shutdown; acknowledged products were committed and the next start resumes")
		return
	}
	if errors.Is(err, store.ErrDamaged) {
		// The store refuses every call from now on: each feed fails its runs
		// (and /healthz) until a restart, which is also what it takes to use
		// a restored file.
		d.damaged.Do(func() {
			d.log.Error().Err(err).Msg("the state file is damaged: every feed fails until feedsync is stopped, the file restored from a backup (or moved aside to start afresh) and feedsync started again")
		})
	}
	if !d.record(name, sum, err, ended, log) {
		return // the feed left the configuration while it ran
	}
	d.metrics.ObserveRun(sum, err, ended)
	if err == nil && fc.Heartbeat != "" {
		d.heartbeat(fc.Heartbeat, log)
	}
}

// syncOnce runs Syncer.Sync, turning a panic into a failed run.
func (d *Daemon) syncOnce(fc *config.Feed, oc *config.Orders, keepIDs bool, log zerolog.Logger) (sum engine.Summary, err error) {
	defer func() {
		if r := recover(); r != nil {
			log.Error().Str("stack", string(debug.Stack())).Msgf("panic in sync: %v", r)
			sum.Feed = fc.Name
			err = fmt.Errorf("panic: %v", r)
			sum.Error = err.Error()
		}
	}()
	ctx := d.runCtx
	if d.opts.Metrics != nil {
		ctx = push.WithObserver(ctx, d.opts.Metrics.ForFeed(fc.Name))
	}
	opts := engine.Options{Mode: engine.ModeSync, Log: log, UserAgent: d.opts.UserAgent, KeepIDs: keepIDs}
	sync := func(opts engine.Options) (sum engine.Summary, err error) {
		serr := d.useState(ctx, 0, func(db *store.DB) error {
			s := &engine.Syncer{DB: db, Sink: d.opts.Sink, Redact: d.opts.Redact}
			if oc != nil {
				sum, err = s.SyncOrders(ctx, oc, opts)
			} else {
				sum, err = s.Sync(ctx, fc, opts)
			}
			return nil
		})
		if serr != nil {
			return engine.Summary{Feed: fc.Name, Mode: engine.ModeSync, Error: d.redact(serr.Error())}, serr
		}
		return sum, err
	}
	pub := d.opts.Publisher
	if !fc.Publish || pub == nil {
		return sync(opts)
	}
	// Publish: every product of the run goes into a new edition, which
	// replaces the served feed atomically only when the run succeeded.
	ed, err := pub.Begin(fc.Name, publish.TransformOptions{Policy: fc.Policy, ProductID: fc.ProductID, Fields: fc.Fields, Link: fc.Link})
	if err != nil {
		return engine.Summary{Feed: fc.Name, Error: err.Error()}, err
	}
	defer ed.Abort()
	opts.Observer = editionObserver{LogProblems: engine.LogProblems{Log: log}, ed: ed}
	opts.EveryProduct = true // the edition needs each product, unchanged ones too
	if _, serr := os.Stat(pub.Path(fc.Name)); serr != nil {
		opts.FullScan = true // no edition yet: a 304 would leave nothing to serve
	}
	sum, err = sync(opts)
	for _, p := range ed.Problems() {
		// The products' own defects were logged by the run as warnings;
		// the edition adds what only the published feed lacks.
		if p.Msg == publish.NoChannelLink {
			log.Warn().Msg("publish: " + p.Msg)
		}
	}
	if err == nil && ed.Products() > 0 {
		if _, err = ed.Commit(); err != nil {
			err = fmt.Errorf("publish %s: %w", fc.Name, err)
			sum.Error = err.Error()
		}
	}
	return sum, err
}

// record keeps the outcome and logs the run's summary line: at info on
// success; on failure at error the first time, then at debug until the feed
// recovers, which is logged once at info. It reports whether the feed is
// still configured.
func (d *Daemon) record(name string, sum engine.Summary, err error, ended time.Time, log zerolog.Logger) bool {
	d.mu.Lock()
	fs, ok := d.feeds[name]
	if !ok { // removed by a reload while running: log the run, keep nothing
		fs = &feedState{}
	}
	fs.last = &sum
	fs.lastEnded = ended
	prevFailures, failSince, prevErr := fs.failures, fs.failSince, fs.lastErr
	if err != nil {
		if fs.failures == 0 {
			fs.failSince = ended
		}
		fs.failures++
		fs.lastErr = err.Error()
	} else {
		fs.failures, fs.failSince, fs.lastErr = 0, time.Time{}, ""
		fs.lastSuccess = ended
	}
	failures := fs.failures
	d.mu.Unlock()

	var ev *zerolog.Event
	switch {
	case err == nil:
		if prevFailures > 0 {
			log.Info().Int("failed_runs", prevFailures).Time("failing_since", failSince).Str("last_error", prevErr).Msg("recovered")
		}
		ev = log.Info()
	case failures == 1:
		ev = log.Error()
	default:
		ev = log.Debug()
	}
	if err != nil {
		ev = ev.Int("failed_runs", failures)
	}
	msg := "run finished"
	if err != nil {
		msg = "run failed"
	}
	summaryFields(ev, sum).Msg(msg)
	return ok
}

// summaryFields adds the counts of `sync --json` to a log line.
func summaryFields(ev *zerolog.Event, s engine.Summary) *zerolog.Event {
	ev = ev.Str("mode", string(s.Mode)).Str("fetch", s.Fetch).
		Int("items", s.Items).Int("products", s.Products).
		Int("created", s.Created).Int("updated", s.Updated).Int("unchanged", s.Unchanged).
		Int("deleted", s.Deleted).Int("unavailable", s.Unavailable).Int("failed", s.Failed).
		Int("skipped", s.Skipped).Int64("bytes", s.Bytes).Int64("duration_ms", s.DurationMS)
	if s.Error != "" {
		ev = ev.Str("error", s.Error)
	}
	return ev
}

// heartbeat requests a feed's dead man's switch URL; failures are warnings.
// The URL is a secret of sorts (anyone who knows it can fake the pings), so
// logs name its host only.
func (d *Daemon) heartbeat(rawURL string, log zerolog.Logger) {
	ctx, cancel := context.WithTimeout(d.runCtx, HeartbeatTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		log.Warn().Msg("heartbeat failed: the heartbeat URL is not valid")
		return
	}
	log = log.With().Str("heartbeat_host", req.URL.Host).Logger()
	if d.opts.UserAgent != "" {
		req.Header.Set("User-Agent", d.opts.UserAgent)
	}
	resp, err := d.opts.HTTPClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL
		}
		log.Warn().Err(err).Msg("heartbeat failed")
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		log.Warn().Int("status", resp.StatusCode).Msg("heartbeat failed: the monitoring service answered with an error")
		return
	}
	log.Debug().Int("status", resp.StatusCode).Msg("heartbeat sent")
}

// Handler serves the daemon's HTTP endpoints:
//
//	/metrics  Prometheus text format
//	/healthz  200 while every feed's last run succeeded (or it has not run
//	          yet), else 503 naming the failing feeds: for alerting
//	/livez    200 while the process serves HTTP: for liveness probes, so that
//	          a failing feed does not get the process restarted
//	/status   each feed's last run summary and next run time
//	/         the same for people: an HTML page (see statuspage.go)
func (d *Daemon) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", d.metrics.Handler())
	mux.HandleFunc("GET /healthz", d.serveHealth)
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /status", d.serveStatus)
	if d.opts.Publisher != nil {
		mux.Handle("GET /feeds/", d.opts.Publisher)
		mux.Handle("HEAD /feeds/", d.opts.Publisher)
	}
	mux.HandleFunc("GET /{$}", d.serveStatusPage)
	return mux
}

// Health is the /healthz body.
type Health struct {
	Status  string        `json:"status"` // ok | failing
	Feeds   int           `json:"feeds"`
	Failing []FeedFailure `json:"failing,omitempty"`
}

// FeedFailure names a feed whose last run failed.
type FeedFailure struct {
	Feed       string    `json:"feed"`
	Error      string    `json:"error"`
	FailedRuns int       `json:"failed_runs"`
	Since      time.Time `json:"since"`
}

// Health reports whether every feed's last run succeeded.
func (d *Daemon) Health() Health {
	d.mu.Lock()
	defer d.mu.Unlock()
	h := Health{Status: "ok", Feeds: len(d.order)}
	for _, name := range d.order {
		fs := d.feeds[name]
		if fs.failures > 0 {
			h.Failing = append(h.Failing, FeedFailure{Feed: name, Error: d.redact(fs.lastErr), FailedRuns: fs.failures, Since: fs.failSince.UTC()})
		}
	}
	if len(h.Failing) > 0 {
		h.Status = "failing"
	}
	return h
}

func (d *Daemon) serveHealth(w http.ResponseWriter, r *http.Request) {
	h := d.Health()
	code := http.StatusOK
	if h.Status != "ok" {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, h)
}

// Status is the /status body.
type Status struct {
	Started  time.Time    `json:"started"`
	Stopping bool         `json:"stopping"`
	Feeds    []FeedStatus `json:"feeds"`
}

// FeedStatus is one feed in /status.
type FeedStatus struct {
	Name     string `json:"name"`
	Schedule string `json:"schedule"`
	Running  bool   `json:"running"`
	// NextRun is nil while the daemon is stopping.
	NextRun *time.Time `json:"next_run"`
	// LastRun is the last run's summary (as `sync --json` prints it); nil
	// before the first run of this process.
	LastRun     *engine.Summary `json:"last_run"`
	LastRunEnd  *time.Time      `json:"last_run_end"`
	LastSuccess *time.Time      `json:"last_success"`
	FailedRuns  int             `json:"failed_runs"`
	LastError   string          `json:"last_error,omitempty"`
}

// Status reports every feed's last run and next run time.
func (d *Daemon) Status() Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := Status{Started: d.started.UTC(), Stopping: d.stopped, Feeds: []FeedStatus{}}
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		t = t.UTC()
		return &t
	}
	for _, name := range d.order {
		fs := d.feeds[name]
		f := FeedStatus{
			Name: name, Schedule: fs.fc.Schedule.Spec, Running: d.running[name],
			LastRunEnd: opt(fs.lastEnded), LastSuccess: opt(fs.lastSuccess),
			FailedRuns: fs.failures, LastError: d.redact(fs.lastErr),
		}
		if fs.last != nil {
			s := *fs.last
			s.Error = d.redact(s.Error)
			f.LastRun = &s
		}
		if !d.stopped {
			e := d.cron.Entry(fs.entry)
			next := e.Next
			if next.IsZero() && e.Schedule != nil {
				// cron fills Next once its loop takes a new entry in; until
				// then (just after a start or reload) the schedule says it.
				next = e.Schedule.Next(time.Now())
			}
			f.NextRun = opt(next)
		}
		st.Feeds = append(st.Feeds, f)
	}
	return st
}

func (d *Daemon) serveStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, d.Status())
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// cronLogger adapts zerolog to cron's Logger. Cron's routine messages
// (schedule, wake, run) go to debug; a skipped run to info; errors and
// recovered panics to error.
type cronLogger struct{ log zerolog.Logger }

var _ cron.Logger = cronLogger{}

func (l cronLogger) Info(msg string, keysAndValues ...any) {
	ev := l.log.Debug()
	if msg == "skip" {
		ev, msg = l.log.Info(), "run skipped: the previous run of this feed is still in progress"
	} else {
		msg = "cron: " + msg
	}
	cronKeyValues(ev, keysAndValues).Msg(msg)
}

func (l cronLogger) Error(err error, msg string, keysAndValues ...any) {
	cronKeyValues(l.log.Error().Err(err), keysAndValues).Msg("cron: " + msg)
}

func cronKeyValues(ev *zerolog.Event, kv []any) *zerolog.Event {
	for i := 0; i+1 < len(kv); i += 2 {
		ev = ev.Interface(fmt.Sprint(kv[i]), kv[i+1])
	}
	return ev
}

// editionObserver puts every product of a run into a published feed's new
// edition, and logs the run's problems.
type editionObserver struct {
	engine.LogProblems
	ed *publish.Edition
}

func (o editionObserver) Product(p *tree.Product) {
	if err := o.ed.Add(p); err != nil {
		o.Log.Warn().Str("product", p.ID).Err(err).Msg("publish: product left out")
	}
}

// useState runs fn with the state file: the daemon's own DB, or one opened
// from its pool for fn's time, waiting for another process that holds the
// file (a sync by hand) until ctx ends, or wait when it is not 0.
func (d *Daemon) useState(ctx context.Context, wait time.Duration, fn func(*store.DB) error) error {
	if d.opts.State == nil {
		return fn(d.opts.DB)
	}
	if wait > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, wait)
		defer cancel()
	}
	return d.opts.State.Use(ctx, fn)
}
