package engine

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog"

	"github.com/feedsync/feedsync/config"
	"github.com/feedsync/feedsync/feed"
	"github.com/feedsync/feedsync/push"
	"github.com/feedsync/feedsync/store"
	"github.com/feedsync/feedsync/tree"
)

// run is one sync of one feed as it goes: what each phase needs from the
// phases before it.
type run struct {
	s      *Syncer
	fc     *config.Feed
	opts   Options
	obs    Observer
	sum    *Summary
	log    zerolog.Logger
	now    func() time.Time
	target string // the catalog's
	write  bool   // not a plan: the state and the catalog change
	// touched: the state may have changed, so the run goes into the history.
	touched bool

	unresolved  map[string]bool // plan: ids of unfinished journal entries
	meta        store.Meta      // the feed's, as the run began
	fingerprint string          // of the settings that shape payloads
	inputSeed   uint64          // of the products' Inputs (see input.go)
	shortcuts   bool            // "the same bytes as last time" may end the run
	resp        *feed.Response
	bodyHex     string         // hash of the whole body
	expires     string         // store.Meta.Expires of the products built ("": none built)
	sample      []byte         // the first items' Raws, to keep (see store.SetRawSample); nil: keep the old
	readProbs   []feed.Problem // the reader's
	// readProbLines are the lines of readProbs; nil for none, and holding
	// line 0 for a problem without a line.
	readProbLines map[int]bool

	// orders: the run syncs an orders export's deals (see orders.go);
	// nil for a product feed.
	orders *config.Orders
}

// source is what a run's products come from: a product feed's
// tree.Builder, or an orders export's deals (dealSource).
type source interface {
	Items() int
	Problems() []feed.Problem
	Skipped() int
	Warnings() []feed.Problem
	WarningCount() int
	HasProduct(id string) bool
	ProductIDs() int
	Finish(emit func(*tree.Product) error) error
	Close() error
}

func (s *Syncer) sync(ctx context.Context, fc *config.Feed, oc *config.Orders, opts Options, sum *Summary, touched *bool) error {
	r := &run{s: s, fc: fc, orders: oc, opts: opts, obs: opts.Observer, sum: sum, log: opts.Log, now: opts.Now,
		target: s.Sink.Target(), write: opts.Mode != ModePlan}
	if r.now == nil {
		r.now = time.Now
	}
	if r.obs == nil {
		r.obs = LogProblems{Log: opts.Log}
	}
	defer func() { *touched = r.touched }()
	return r.do(ctx)
}

// do runs the phases in order: settle what earlier runs left, fetch,
// build the products, apply the guards, then diff, push and commit. Any
// phase may end the run; nothing reaches the catalog before the guards
// passed on the whole feed.
func (r *run) do(ctx context.Context) error {
	if err := r.settle(); err != nil {
		return err
	}
	if err := r.fetch(ctx); err != nil {
		return err
	}
	if r.resp.NotModified {
		// Nothing was read: the products are those the state holds.
		r.sum.Fetch = FetchNotModified
		stored, err := r.s.DB.Stored(r.fc.Name)
		if err != nil {
			return fmt.Errorf("read state: %w", err)
		}
		r.sum.Products, r.sum.Unchanged = stored, stored
		r.log.Debug().Int("products", stored).Msg("feed not modified since the last run (304)")
		return r.succeed(r.meta.BodyHash)
	}
	// (a closure: sameFile may fetch the feed again)
	defer func() { r.resp.Body.Close() }()
	if same, err := r.sameFile(ctx); err != nil || same {
		return err
	}
	if done, err := r.recognise(ctx); err != nil || done {
		return err
	}
	var b source
	var err error
	if r.orders != nil {
		b, err = r.buildDeals(ctx)
	} else {
		b, err = r.buildProducts(ctx)
	}
	if err != nil {
		return err
	}
	defer b.Close()
	r.expires = expiry(b)
	if r.shortcuts && r.bodyHex == r.meta.BodyHash {
		return r.unchanged(b)
	}
	// The known Inputs are read while the guards read the records: the
	// records do not change before the push, and the two scans share the
	// cores.
	known := r.startLoadKnown()
	defer known()
	rm, err := r.guard(b)
	if err != nil {
		return err
	}
	if err := r.declareAttributes(ctx, b); err != nil {
		return err
	}
	return r.push(ctx, b, rm, known)
}

// settle folds what earlier runs left unsettled into the state: products
// whose operations reached the sink without an acknowledgement become
// uncertain and are sent again; the feed's records claim their custom_ids
// in its catalog. It reads the feed's metadata and decides whether the
// fetch shortcuts hold: only after a run that finished, with the same
// settings (the first intent of any run clears them, store.Intend).
func (r *run) settle() error {
	name := r.fc.Name
	if r.write {
		n, err := r.s.DB.Recover(name, r.now().UTC())
		if err != nil {
			return fmt.Errorf("read state: %w", err)
		}
		if n > 0 {
			r.log.Warn().Int("products", n).Msg("an earlier run ended before the catalog confirmed its last operations: those products are sent again as the feed has them")
		}
		conflicts, err := r.s.DB.Adopt(name, r.target)
		if err != nil {
			return fmt.Errorf("read state: %w", err)
		}
		for _, id := range conflicts {
			r.log.Warn().Str("product", clip(id)).Msg("this feed's state holds a custom_id another feed of the same catalog claimed first: it stays that feed's")
		}
	} else {
		var err error
		if r.unresolved, err = r.s.DB.Unresolved(name); err != nil {
			return fmt.Errorf("read state: %w", err)
		}
	}
	var err error
	if r.meta, err = r.s.DB.Meta(name); err != nil {
		return fmt.Errorf("read state: %w", err)
	}
	r.fingerprint = r.s.configFingerprint(r.fc)
	if r.orders != nil {
		r.fingerprint = ordersFingerprint(r.fingerprint, r.orders)
	}
	r.inputSeed = inputSeed(r.fingerprint)
	r.shortcuts = r.opts.Mode != ModeResync && !r.opts.FullScan && !r.opts.Parse && r.meta.ConfigSHA256 == r.fingerprint
	if r.shortcuts && !r.current() {
		r.shortcuts = false
	}
	if r.opts.KeepIDs && r.shortcuts {
		// The ids are kept by a run that reads the feed: the first run
		// that keeps them reads it.
		has, err := r.s.DB.HasIDs(name)
		if err != nil {
			return fmt.Errorf("read state: %w", err)
		}
		r.shortcuts = has
	}
	return nil
}

// current reports whether the products of the last finished run's body are
// still those the same bytes make: the clock has not reached a sale window's
// start or end in it (store.Meta.Expires). A state that does not say (one of
// an older feedsync) is not current: its next run reads the feed.
func (r *run) current() bool {
	switch r.meta.Expires {
	case "never":
		return true
	case "":
		return false
	}
	t, err := time.Parse(time.RFC3339Nano, r.meta.Expires)
	if err != nil {
		return false
	}
	if !r.now().Before(t) {
		r.log.Info().Time("at", t).Msg("a sale window of the feed starts or ends since the last run: the feed is read again, unchanged or not")
		return false
	}
	return true
}

// expiry is store.Meta.Expires for the products of a source: when the
// clock alone changes them (tree.Builder.Expires), or "never".
func expiry(b source) string {
	if e, ok := b.(interface{ Expires() time.Time }); ok {
		return expiresAt(e.Expires())
	}
	return "never"
}

// expiresAt is store.Meta.Expires for the moment t (zero: "never").
func expiresAt(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// fetch gets the feed, conditionally when the shortcuts hold.
func (r *run) fetch(ctx context.Context) error {
	req := feed.Request{URL: r.fc.URL, Headers: r.fc.Headers, Timeout: time.Duration(r.fc.Timeout),
		UserAgent: r.opts.UserAgent, MaxBytes: int64(r.fc.MaxSize), Log: r.log}
	if r.shortcuts {
		req.ETag, req.LastModified = r.meta.ETag, r.meta.LastModified
	}
	resp, err := feed.Fetch(ctx, req)
	if err != nil {
		r.sum.Fetch = FetchFailed
		return err
	}
	r.resp = resp
	return nil
}

// build reads the whole feed into a builder and drains and hashes the rest
// of the body. Nothing is pushed before the whole feed is read: a broken
// feed stops here with the state untouched.
func (r *run) build(ctx context.Context) (*tree.Builder, error) {
	body := r.resp.Body
	var in io.Reader = body
	if r.opts.WrapBody != nil {
		in = r.opts.WrapBody(body)
	}
	rd, err := feed.NewReader(in, r.fc.URL, r.fc.Format, feed.MaxDecompressedBytes(int64(r.fc.MaxSize)), feed.WithItemHash(r.inputSeed))
	if err != nil {
		r.sum.Fetch = FetchFailed
		return nil, err
	}
	b := tree.NewBuilder(tree.Options{Policy: r.fc.Policy, ProductID: r.fc.ProductID, Fields: r.fc.Fields, Now: r.now(), InputSeed: r.inputSeed, Items: r.meta.Items})
	start := time.Now()
	smp := &sampler{Reader: rd}
	err = b.ReadAll(ctx, smp)
	if err == nil {
		// A body shorter than announced is an error, and the hash covers
		// every byte.
		_, err = io.Copy(io.Discard, in)
	}
	if err != nil {
		r.sum.Fetch = FetchFailed
		r.sum.Items = b.Items()
		b.Close()
		return nil, err
	}
	r.sum.Bytes = body.BytesRead()
	r.sum.Items = b.Items()
	r.readProbs = rd.Problems()
	r.sample = smp.sample
	r.readProbLines = problemLines(r.readProbs)
	r.sum.Skipped = feed.SkippedItems(r.readProbs) + b.Skipped()
	r.log.Debug().Int("items", b.Items()).Str("took", took(start)).Msg("feed read and grouped")
	r.obs.Read(b.Items())
	r.obs.Built(b)
	h := body.Sum()
	r.bodyHex = hex.EncodeToString(h[:])
	r.sum.Fetch = FetchChanged
	return b, nil
}

// sameFile ends a run whose feed has the very bytes of the last finished
// run, at the cost of a hash: no parse, nothing diffed or sent. A file is
// hashed first only when it has the size that run read; a download (that
// announced that size, or none) is spooled to a temporary file while it is
// hashed. Any other body, or a changed one (read again from its start),
// goes on to the parse, whose hash decides as before.
func (r *run) sameFile(ctx context.Context) (bool, error) {
	body := r.resp.Body
	if !r.shortcuts || r.meta.BodyHash == "" || r.meta.BodySize <= 0 {
		return false, nil
	}
	start := time.Now()
	if !body.Rewindable() {
		if n := body.Announced(); n >= 0 && n != r.meta.BodySize {
			return false, nil // changed: parsed as it downloads
		}
		if err := body.Spool(""); errors.Is(err, feed.ErrNotSpooled) {
			return r.unspooled(ctx, err)
		} else if err != nil {
			r.sum.Fetch = FetchFailed
			return false, err
		}
	}
	if body.FileSize() != r.meta.BodySize {
		return false, body.Rewind()
	}
	if _, err := io.Copy(io.Discard, body); err != nil {
		r.sum.Fetch = FetchFailed
		return false, err
	}
	h := body.Sum()
	if hex.EncodeToString(h[:]) != r.meta.BodyHash {
		if err := body.Rewind(); err != nil {
			r.sum.Fetch = FetchFailed
			return false, err
		}
		return false, nil
	}
	r.log.Debug().Str("took", took(start)).Msg("feed unchanged since the last successful run (hashed, not read)")
	return true, r.sameAsLast()
}

// sameAsLast ends a run whose body was found, by its hash, to be the last
// finished run's: the summary says what that run read.
func (r *run) sameAsLast() error {
	r.sum.Fetch = FetchUnchangedBody
	r.sum.Bytes = r.resp.Body.BytesRead()
	r.sum.Items, r.sum.Products, r.sum.Unchanged = r.meta.Items, r.meta.Products, r.meta.Products
	return r.succeed(r.meta.BodyHash)
}

// unspooled decides on a download that was hashed but could not be kept:
// unchanged, the run ends as sameFile ends it; changed, the feed is
// fetched again, without validators, and parsed as it downloads.
func (r *run) unspooled(ctx context.Context, spoolErr error) (bool, error) {
	h := r.resp.Body.Sum()
	if hex.EncodeToString(h[:]) == r.meta.BodyHash && r.resp.Body.BytesRead() == r.meta.BodySize {
		return true, r.sameAsLast()
	}
	r.log.Warn().Err(spoolErr).Msg("the feed changed and could not be kept to parse: it is downloaded again")
	r.resp.Body.Close()
	shortcuts := r.shortcuts
	r.shortcuts = false // no validators: the changed body itself
	err := r.fetch(ctx)
	r.shortcuts = shortcuts
	return false, err
}

// buildProducts builds a product feed's products and, for a feed that
// orders map their lines through (Options.KeepIDs), keeps its product ids.
func (r *run) buildProducts(ctx context.Context) (source, error) {
	b, err := r.build(ctx)
	if err != nil {
		return nil, err
	}
	unchanged := r.shortcuts && r.bodyHex == r.meta.BodyHash
	if r.opts.KeepIDs && r.write && !unchanged {
		if err := r.s.DB.PutIDs(r.fc.Name, b.EachID); err != nil {
			b.Close()
			return nil, fmt.Errorf("record product ids: %w", err)
		}
	}
	return b, nil
}

// unchanged ends a run whose body is byte for byte the last finished
// run's: the products are counted and observed, nothing is diffed.
func (r *run) unchanged(b source) error {
	r.sum.Fetch = FetchUnchangedBody
	_ = b.Finish(func(p *tree.Product) error {
		r.sum.Products++
		r.obs.Product(p)
		return nil
	})
	r.sum.Unchanged = r.sum.Products
	r.report(b, nil)
	r.log.Debug().Msg("feed body unchanged since the last successful run")
	return r.succeed(r.bodyHex)
}

// guard decides the removals and applies the guards on the whole diff,
// before anything is sent: a refused run sends nothing.
func (r *run) guard(b source) (removals, error) {
	rm, err := r.planRemovals(b, feed.SkippedIDs(r.readProbs))
	if err != nil {
		r.report(b, nil)
		return rm, err
	}
	if r.meta.Policy != "" && r.meta.Policy != string(r.fc.Policy) {
		r.sum.PolicySwitch = r.meta.Policy + " → " + string(r.fc.Policy)
		r.log.Info().Str("from", r.meta.Policy).Str("to", string(r.fc.Policy)).Int("removals", len(rm.send)).Msg("policy switch: the products of the old shape leave the catalog as on_missing says, those of the new one are created")
	}
	if rm.refused != nil && r.write {
		r.touched = true // recorded in the history, so that state and status show it
		r.report(b, nil)
		return rm, rm.refused
	}
	return rm, nil
}

// declareAttributes declares the typed attributes, once per feed and
// catalog, before the first push.
func (r *run) declareAttributes(ctx context.Context, b source) error {
	d, ok := r.s.Sink.(push.AttributeDeclarer)
	if !ok || !r.write || r.meta.Attributes || r.orders != nil {
		return nil
	}
	if err := d.DeclareAttributes(ctx, push.ProductAttributes); err != nil {
		r.report(b, nil)
		return fmt.Errorf("catalog %s: declare attributes: %w", r.target, err)
	}
	if err := r.s.updateMeta(r.fc.Name, func(m *store.Meta) { m.Attributes = true }); err != nil {
		return fmt.Errorf("record state: %w", err)
	}
	return nil
}

// push diffs the products against the state and sends what changed, then
// the removals: intent before effect (intentStage), acknowledgement before
// commit (committer).
func (r *run) push(ctx context.Context, b source, rm removals, loaded func() (knownInputs, error)) error {
	r.touched = true
	known, err := loaded()
	if err != nil {
		r.report(b, nil)
		return fmt.Errorf("read state: %w", err)
	}
	r.log.Debug().Int("known", len(known)).Bool("shortcut", known != nil).Msg("products known by what they are made from")
	stored, err := r.s.DB.HasProducts(r.fc.Name)
	if err != nil {
		r.report(b, nil)
		return fmt.Errorf("read state: %w", err)
	}
	c := newCommitter(r.s.DB, r.fc.Name, r.write, !stored, r.now)
	c.redact = r.s.redact
	ops := make(chan push.Op, 256)
	sinkCtx, cancelSink := context.WithCancel(ctx)
	defer cancelSink()
	sinkDone := make(chan error, 1)
	ack := func(res push.Result) { c.ack(res); r.obs.Pushed(1) }
	go func() { sinkDone <- r.s.Sink.Apply(sinkCtx, ops, ack) }()
	stopCommits := c.start()
	st := newIntentStage(ctx, r.s.DB, r.fc.Name, r.target, r.write, c, ops, sinkDone)
	go st.run()

	diffStart := time.Now()
	d := &differ{db: r.s.DB, feed: r.fc.Name, target: r.target, policy: string(r.fc.Policy), resync: r.opts.Mode == ModeResync, deal: r.orders != nil,
		unresolved: r.unresolved, fresh: !stored, send: st.send, try: st.trySend, learn: r.recordInputs}
	skipped := 0
	diffErr := d.run(func(emit func(*tree.Product) error) error {
		shaped := func(p *tree.Product) error {
			r.sum.Products++
			r.sum.Shaped++
			if p.Raws != nil && r.readerReported(p) {
				p.Raws = nil // recognised by its bytes, it would not be reported again
			}
			if len(p.Truncated) > 0 {
				r.obs.Truncated(p.ID, p.Truncated)
			}
			r.obs.Product(p)
			return emit(p)
		}
		if rs, ok := b.(*recognisedSource); ok {
			skipped = rs.ProductIDs() // each unchanged, none shaped
			return nil
		}
		if kf, ok := b.(knownFinisher); ok && known != nil {
			has := known.has
			if r.readProbLines != nil {
				// The reader reported problems: the products it reported
				// lose their Raws (above), and a feed with reports is not
				// recognised, so a record without Raws is no reason to
				// shape its product.
				has = func(id string, in tree.Input, _ bool) bool { return known.has(id, in, false) }
			}
			var err error
			skipped, err = kf.FinishKnown(has, shaped)
			return err
		}
		return b.Finish(shaped)
	})
	r.sum.Products += skipped
	r.sum.Unchanged = int(d.unchanged.Load()) + skipped
	if diffErr == nil {
		r.recordInputs(d.fixes)
	}
	r.log.Debug().Int("products", r.sum.Products).Int("unchanged", r.sum.Unchanged).Str("took", took(diffStart)).Msg("products built and diffed")

	// Removals, whose guards passed.
	var removeErr error
	if diffErr == nil {
		removeErr = r.remove(rm, c, st.send)
	}
	stageErr := st.close()
	sinkErr := <-sinkDone
	if sinkErr == nil && stageErr != nil {
		sinkErr = stageErr
	}
	var unidentified *push.UnidentifiedError
	if errors.As(sinkErr, &unidentified) {
		r.sum.Unconfirmed = unidentified.Rows
	}
	if err := stopCommits(); err != nil && sinkErr == nil {
		sinkErr = fmt.Errorf("commit state: %w", err)
	}
	c.tally(r.sum)
	r.report(b, st)
	switch {
	case diffErr != nil:
		return diffErr
	case sinkErr != nil:
		return fmt.Errorf("catalog %s: %w", r.target, sinkErr)
	case removeErr != nil:
		return removeErr
	case rm.refused != nil:
		return rm.refused // plan: the verdict the sync would meet
	case r.sum.Failed > 0:
		if r.sum.Failed == 1 {
			return fmt.Errorf("1 product was rejected by the catalog (feedsync state %s lists it); it is retried on the next run", r.fc.Name)
		}
		return fmt.Errorf("%d products were rejected by the catalog (feedsync state %s lists them); they are retried on the next run", r.sum.Failed, r.fc.Name)
	}
	return r.succeed(r.bodyHex)
}

// knownFinisher is a source that can skip the products known unchanged by
// what they are made from (tree.Builder).
type knownFinisher interface {
	FinishKnown(known func(id string, in tree.Input, raws bool) bool, emit func(*tree.Product) error) (int, error)
}

// report counts the run's problems — the reader's, the builder's and the
// intent stage's — and hands each to the observer.
func (r *run) report(b source, st *intentStage) {
	problems := append(append([]feed.Problem(nil), r.readProbs...), b.Problems()...)
	r.sum.Skipped = feed.SkippedItems(r.readProbs) + b.Skipped()
	if st != nil {
		problems = append(problems, st.problems()...)
		r.sum.Skipped += st.refused
	}
	r.sum.Problems = len(problems)
	r.sum.Warnings = b.WarningCount()
	for _, p := range problems {
		r.obs.Problem(p)
	}
	for _, p := range b.Warnings() {
		r.obs.Problem(p)
	}
	if n := b.WarningCount() - len(b.Warnings()); n > 0 {
		r.log.Warn().Int("warnings", n).Msg("more products with the same defects: not listed one by one")
	}
}

// took is the time since start as a log value with its unit ("2.198s").
func took(start time.Time) string { return time.Since(start).Round(time.Millisecond).String() }
