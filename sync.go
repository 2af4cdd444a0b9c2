package feedsync

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/feedsync/feedsync/feed"
	"github.com/feedsync/feedsync/push"
	"github.com/feedsync/feedsync/store"
	"github.com/feedsync/feedsync/tree"
)

// Mode is what a sync does.
type Mode string

// Modes of Sync.
const (
	ModeSync   Mode = "sync"   // delta: only products whose payload changed
	ModeResync Mode = "resync" // every product, whatever the stored hashes say
	ModePlan   Mode = "plan"   // the sync diff against a recording sink; no state written
)

// Fetch outcomes reported in Summary.Fetch.
const (
	FetchChanged       = "changed"
	FetchNotModified   = "not-modified"
	FetchUnchangedBody = "unchanged-body"
	// FetchFailed: the fetch or the parse failed; Summary.Error says why.
	FetchFailed = "failed"
)

// ErrTooManyDeletes is returned when a run's removals exceed max_delete.
var ErrTooManyDeletes = errors.New("too many removals")

// ErrRemovalRefused is returned when a run's removal phase was refused by a guard.
var ErrRemovalRefused = errors.New("removal refused")

// RefusedError is a run a guard refused before anything was sent: Msg is
// the verdict, Reason ErrTooManyDeletes or ErrRemovalRefused.
type RefusedError struct {
	Msg    string
	Reason error
}

func (e *RefusedError) Error() string { return e.Msg }
func (e *RefusedError) Unwrap() error { return e.Reason }

// Summary is the outcome of one sync of one feed, printed by --json and kept
// in the run history. The first keys are a public contract.
type Summary struct {
	Feed        string `json:"feed"`
	Items       int    `json:"items"`
	Products    int    `json:"products"`
	Created     int    `json:"created"`
	Updated     int    `json:"updated"`
	Unchanged   int    `json:"unchanged"`
	Deleted     int    `json:"deleted"`
	Failed      int    `json:"failed"`
	Fetch       string `json:"fetch"`
	DurationMS  int64  `json:"duration_ms"`
	Mode        Mode   `json:"mode"`
	Unavailable int    `json:"unavailable"` // products marked out of stock because they left the feed
	Skipped     int    `json:"skipped"`     // items or rows skipped with a problem
	Problems    int    `json:"problems"`    // problems reported (skipped items, duplicate variants, bad sale dates…)
	Bytes       int64  `json:"bytes"`
	Started     string `json:"started"`
	// Unconfirmed counts products the catalog's import neither confirmed nor
	// listed as failed: they are sent again on the next run.
	Unconfirmed int `json:"unconfirmed,omitempty"`
	// PolicySwitch is "parent → variant" (or the reverse) when this run
	// changes the feed's policy: the old shape's products leave the catalog
	// as on_missing says and the new shape's are created.
	PolicySwitch string `json:"policy_switch,omitempty"`
	Error        string `json:"error,omitempty"`
}

// Options of one Sync.
type Options struct {
	Mode            Mode
	AllowMassDelete bool
	// FullScan skips the fetch shortcuts (conditional GET, unchanged body)
	// but still sends only changes: the whole pipeline runs.
	FullScan  bool
	Now       func() time.Time
	Log       zerolog.Logger
	UserAgent string
	// OnProblem is told of every skipped item (nil: they are logged).
	OnProblem func(feed.Problem)
	// WrapBody wraps the feed's bytes before parsing (progress bars).
	WrapBody func(io.Reader) io.Reader
	// OnRead is told the item count once the whole feed was read.
	OnRead func(items int)
	// OnProduct is handed every product, unchanged ones too (publish).
	OnProduct func(*tree.Product)
	// OnPushed is told of acknowledged operations.
	OnPushed func(n int)
	// OnBuilt is handed the builder once every item was added (plan --explain).
	OnBuilt func(*tree.Builder)
	// OnTruncated is told of every product whose string fields were cut to
	// the catalog's limit (plan reports them).
	OnTruncated func(id string, fields []string)
}

// Syncer syncs feeds into one catalog, keeping state in one store.
type Syncer struct {
	DB   *store.DB
	Sink push.Sink
	// Redact scrubs secrets from every error text before it is stored (a
	// product's last error, the feed's, the run history) or returned; nil
	// changes nothing.
	Redact func(string) string
}

// opRef is what an operation carries through the sink back to its commit.
type opRef struct {
	hash    [32]byte
	payload []byte
	state   store.State
	line    int    // the product's first feed line (0 for removals)
	seq     uint64 // its journal entry (see store.Intend); 0 while not journaled
	forget  bool   // no catalog operation: the state forgets the product
}

// Sync runs one sync of one feed: fetch, parse, build products, diff against
// the state, push what changed, and commit what the sink acknowledged. The
// returned Summary is filled in as far as the run got, also on error.
func (s *Syncer) Sync(ctx context.Context, fc *FeedConfig, opts Options) (Summary, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	sum := Summary{Feed: fc.Name, Mode: opts.Mode, Started: start.UTC().Format(time.RFC3339)}
	touched := false
	err := s.redactErr(s.sync(ctx, fc, opts, &sum, &touched))
	sum.DurationMS = now().Sub(start).Milliseconds()
	if err != nil {
		sum.Error = err.Error()
	}
	// A run that failed before anything was pushed leaves the state file as it
	// was; any other run is recorded in the history.
	if opts.Mode != ModePlan && (err == nil || touched) {
		if rerr := s.record(fc.Name, sum, err, now()); rerr != nil && err == nil {
			err = rerr
		}
	}
	return sum, err
}

func (s *Syncer) record(name string, sum Summary, runErr error, at time.Time) error {
	if err := s.DB.AddRun(name, sum); err != nil {
		return fmt.Errorf("record run: %w", err)
	}
	if runErr == nil {
		return nil
	}
	m, err := s.DB.Meta(name)
	if err != nil {
		return err
	}
	m.LastError, m.LastErrorAt = runErr.Error(), at.UTC()
	return s.DB.SetMeta(name, m)
}

// configFingerprint covers every setting that shapes payloads, their target
// or what happens to products that left the feed.
func (s *Syncer) configFingerprint(fc *FeedConfig) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s", s.Sink.Target(), fc.Policy, fc.ProductID, fc.Format, fc.OnMissing)
	keys := make([]string, 0, len(fc.Fields))
	for k := range fc.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "\x00%s=%s", k, fc.Fields[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// productHash is SHA-256 of the payload, the catalog target and the policy:
// a change of any of them re-sends exactly the products it affects.
func productHash(payload []byte, target string, policy string) [32]byte {
	h := sha256.New()
	h.Write(payload)
	h.Write([]byte{0})
	h.Write([]byte(target))
	h.Write([]byte{0})
	h.Write([]byte(policy))
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

func (s *Syncer) sync(ctx context.Context, fc *FeedConfig, opts Options, sum *Summary, touched *bool) error {
	log := opts.Log
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	policy, err := tree.ParsePolicy(fc.Policy)
	if err != nil {
		return err
	}
	format, err := feed.ParseFormat(fc.Format)
	if err != nil {
		return err
	}
	maxDelete, err := ParseMaxDelete(fc.MaxDelete)
	if err != nil {
		return err
	}
	maxSize, err := ParseSize(fc.MaxSize)
	if err != nil {
		return err
	}
	target := s.Sink.Target()
	write := opts.Mode != ModePlan

	// What earlier runs left unsettled: products whose operations reached
	// the sink without an acknowledgement are uncertain and sent again; the
	// owner index learns this feed's products for its catalog.
	var unresolved map[string]bool
	if write {
		n, err := s.DB.Recover(fc.Name, now().UTC())
		if err != nil {
			return fmt.Errorf("read state: %w", err)
		}
		if n > 0 {
			log.Warn().Int("products", n).Msg("an earlier run ended before the catalog confirmed its last operations: those products are sent again as the feed has them")
		}
		conflicts, err := s.DB.Adopt(fc.Name, target)
		if err != nil {
			return fmt.Errorf("read state: %w", err)
		}
		for _, id := range conflicts {
			log.Warn().Str("product", clip(id)).Msg("this feed's state holds a custom_id another feed of the same catalog claimed first: it stays that feed's")
		}
	} else if unresolved, err = s.DB.Unresolved(fc.Name); err != nil {
		return fmt.Errorf("read state: %w", err)
	}
	meta, err := s.DB.Meta(fc.Name)
	if err != nil {
		return fmt.Errorf("read state: %w", err)
	}
	fingerprint := s.configFingerprint(fc)
	// The shortcuts hold only after a run that finished: the first intent of
	// any run clears them (store.Intend), a finished run sets them again.
	shortcuts := opts.Mode != ModeResync && !opts.FullScan && meta.ConfigSHA256 == fingerprint

	// Fetch.
	req := feed.Request{URL: fc.URL, Headers: fc.Headers, Timeout: time.Duration(fc.Timeout), UserAgent: opts.UserAgent, MaxBytes: maxSize, Log: log}
	if shortcuts {
		req.ETag, req.LastModified = meta.ETag, meta.LastModified
	}
	resp, err := feed.Fetch(ctx, req)
	if err != nil {
		sum.Fetch = FetchFailed
		return err
	}
	if resp.NotModified {
		sum.Fetch = FetchNotModified
		log.Debug().Msg("feed not modified since the last run (304)")
		return s.succeed(fc, fingerprint, meta.BodyHash, resp, opts.Mode, now())
	}
	body := resp.Body
	defer body.Close()

	// Parse and build products. Nothing is pushed before the whole feed is read:
	// a broken feed stops here with the state untouched.
	var in io.Reader = body
	if opts.WrapBody != nil {
		in = opts.WrapBody(body)
	}
	r, err := feed.NewReader(in, fc.URL, format, feed.MaxDecompressedBytes(maxSize))
	if err != nil {
		sum.Fetch = FetchFailed
		return err
	}
	b := tree.NewBuilder(tree.Options{Policy: policy, ProductID: fc.ProductID, Fields: fc.Fields, Now: now()})
	defer b.Close()
	parseStart := time.Now()
	if err := buildProducts(ctx, r, in, b); err != nil {
		sum.Fetch = FetchFailed
		sum.Items = b.Items()
		return err
	}
	sum.Bytes = body.BytesRead()
	sum.Items = b.Items()
	problems := append(append([]feed.Problem(nil), r.Problems()...), b.Problems()...)
	sum.Skipped = skippedItems(r.Problems()) + b.Skipped()
	log.Debug().Int("items", b.Items()).Dur("took", time.Since(parseStart)).Msg("feed read and grouped")
	if opts.OnRead != nil {
		opts.OnRead(b.Items())
	}
	if opts.OnBuilt != nil {
		opts.OnBuilt(b)
	}
	bodySum := body.Sum()
	bodyHex := hex.EncodeToString(bodySum[:])
	sum.Fetch = FetchChanged
	if shortcuts && bodyHex == meta.BodyHash {
		s.report(opts, sum, problems)
		sum.Fetch = FetchUnchangedBody
		_ = b.Finish(func(p *tree.Product) error {
			sum.Products++
			if opts.OnProduct != nil {
				opts.OnProduct(p)
			}
			return nil
		})
		sum.Unchanged = sum.Products
		log.Debug().Msg("feed body unchanged since the last successful run")
		return s.succeed(fc, fingerprint, bodyHex, resp, opts.Mode, now())
	}

	// Guards, on the whole diff, before anything is sent: a refused run
	// sends nothing.
	rm, err := s.planRemovals(fc, opts, b, skippedIDs(r.Problems()), maxDelete)
	if err != nil {
		s.report(opts, sum, problems)
		return err
	}
	if meta.Policy != "" && meta.Policy != fc.Policy {
		sum.PolicySwitch = meta.Policy + " → " + fc.Policy
		log.Info().Str("from", meta.Policy).Str("to", fc.Policy).Int("removals", len(rm.send)).Msg("policy switch: the products of the old shape leave the catalog as on_missing says, those of the new one are created")
	}
	if rm.refused != nil && write {
		*touched = true // recorded in the history, so that state and status show it
		s.report(opts, sum, problems)
		return rm.refused
	}

	// Typed attributes, once per feed and catalog, before the first push.
	if d, ok := s.Sink.(push.AttributeDeclarer); ok && write && !meta.Attributes {
		if err := d.DeclareAttributes(ctx, push.ProductAttributes); err != nil {
			s.report(opts, sum, problems)
			return fmt.Errorf("catalog %s: declare attributes: %w", target, err)
		}
		if err := s.updateMeta(fc.Name, func(m *store.Meta) { m.Attributes = true }); err != nil {
			return fmt.Errorf("record state: %w", err)
		}
	}

	// Diff and push: intent before effect, acknowledgement before commit.
	*touched = true
	c := newCommitter(s.DB, fc.Name, target, write, now)
	c.redact = s.redact
	ops := make(chan push.Op, 256)
	sinkCtx, cancelSink := context.WithCancel(ctx)
	defer cancelSink()
	sinkDone := make(chan error, 1)
	ack := c.ack
	if opts.OnPushed != nil {
		ack = func(r push.Result) { c.ack(r); opts.OnPushed(1) }
	}
	go func() { sinkDone <- s.Sink.Apply(sinkCtx, ops, ack) }()
	stopC := c.start()
	st := newIntentStage(ctx, s.DB, fc.Name, target, write, c, ops, sinkDone)
	go st.run()

	diffStart := time.Now()
	d := &differ{db: s.DB, feed: fc.Name, target: target, policy: fc.Policy, resync: opts.Mode == ModeResync, unresolved: unresolved, send: st.send, try: st.trySend}
	seen := newIDSet()
	diffErr := d.run(func(emit func(*tree.Product) error) error {
		return b.Finish(func(p *tree.Product) error {
			if !seen.add(p.ID) {
				problems = append(problems, feed.Problem{Line: p.Lines[0], ItemID: p.ID, Msg: "two products share this custom_id (a group id equal to another item's id?): the later one is skipped"})
				sum.Skipped++
				return nil
			}
			sum.Products++
			if len(p.Truncated) > 0 && opts.OnTruncated != nil {
				opts.OnTruncated(p.ID, p.Truncated)
			}
			if opts.OnProduct != nil {
				opts.OnProduct(p)
			}
			return emit(p)
		})
	})
	sum.Unchanged = int(d.unchanged.Load())
	log.Debug().Int("products", sum.Products).Int("unchanged", sum.Unchanged).Dur("took", time.Since(diffStart)).Msg("products built and diffed")

	// Removals, whose guards passed above.
	var removeErr error
	if diffErr == nil {
		removeErr = s.remove(fc, rm, c, st.send, log)
	}
	stageErr := st.close()
	sinkErr := <-sinkDone
	if sinkErr == nil && stageErr != nil {
		sinkErr = stageErr
	}
	var unidentified *push.UnidentifiedError
	if errors.As(sinkErr, &unidentified) {
		sum.Unconfirmed = unidentified.Rows
	}
	if err := stopC(); err != nil && sinkErr == nil {
		sinkErr = fmt.Errorf("commit state: %w", err)
	}
	c.tally(sum)
	problems = append(problems, st.problems()...)
	sum.Skipped += st.refused
	s.report(opts, sum, problems)
	switch {
	case diffErr != nil:
		return diffErr
	case sinkErr != nil:
		return fmt.Errorf("catalog %s: %w", target, sinkErr)
	case removeErr != nil:
		return removeErr
	case rm.refused != nil:
		return rm.refused // plan: the verdict the sync would meet
	case sum.Failed > 0:
		return fmt.Errorf("%d products were rejected by the catalog (feedsync state %s lists them); they are retried on the next run", sum.Failed, fc.Name)
	}
	return s.succeed(fc, fingerprint, bodyHex, resp, opts.Mode, now())
}

// report counts the run's problems and hands each to OnProblem or the log.
func (s *Syncer) report(opts Options, sum *Summary, problems []feed.Problem) {
	sum.Problems = len(problems)
	for _, p := range problems {
		if opts.OnProblem != nil {
			opts.OnProblem(p)
		} else {
			opts.Log.Warn().Int("line", p.Line).Str("item", clip(p.ItemID)).Msg(p.Msg)
		}
	}
}

// clip shortens an id for a message.
func clip(id string) string {
	const n = 200
	if len(id) <= n {
		return id
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(id[cut]) {
		cut--
	}
	return id[:cut] + "…"
}

// skippedIDs are the ids of the items the reader skipped with a problem,
// where it could read them.
func skippedIDs(ps []feed.Problem) map[string]bool {
	var out map[string]bool
	for _, p := range ps {
		if p.Kind == feed.ProblemSkippedItem && p.ItemID != "" && !strings.HasSuffix(p.ItemID, "…") {
			if out == nil {
				out = map[string]bool{}
			}
			out[p.ItemID] = true
		}
	}
	return out
}

// skippedItems counts the reader's problems that skipped an item or row
// (a header defect is reported but skips nothing).
func skippedItems(ps []feed.Problem) int {
	n := 0
	for _, p := range ps {
		if p.Kind == feed.ProblemSkippedItem {
			n++
		}
	}
	return n
}

// idSet is the set of product ids a run has seen, kept as 128-bit keyed
// hashes (16 bytes an id instead of the id itself: a 1M-product run saves
// tens of MB). Two of a million ids collide with a chance below 2^-88;
// even then the harm is one product skipped as a duplicate for one run.
type idSet struct {
	seeds [2]maphash.Seed
	m     map[[2]uint64]struct{}
}

func newIDSet() *idSet {
	return &idSet{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, m: make(map[[2]uint64]struct{})}
}

func (s *idSet) key(id string) [2]uint64 {
	return [2]uint64{maphash.String(s.seeds[0], id), maphash.String(s.seeds[1], id)}
}

// add reports whether id is new, and adds it.
func (s *idSet) add(id string) bool {
	k := s.key(id)
	if _, ok := s.m[k]; ok {
		return false
	}
	s.m[k] = struct{}{}
	return true
}

func (s *idSet) has(id string) bool {
	_, ok := s.m[s.key(id)]
	return ok
}

// buildProducts reads every item into the builder, on every core: the
// reader runs in a goroutine of its own and hands items over in batches;
// workers shape each batch (tree.Builder.Prepare); the builder takes the
// batches back in feed order (AddPrepared), so the result is the same as
// adding the items one by one. The rest of the body is drained (a body shorter
// than announced is an error) once the last item was read.
func buildProducts(ctx context.Context, r feed.Reader, body io.Reader, b *tree.Builder) error {
	type batch struct {
		items    []*feed.Item
		prepared []*tree.Prepared
		err      error
		done     chan struct{} // closed once prepared is filled
	}
	const batchSize = 256
	workers := max(runtime.GOMAXPROCS(0), 1)
	ordered := make(chan *batch, 4*workers) // in feed order, to the builder
	jobs := make(chan *batch, 4*workers)    // to the shaping workers
	stop := make(chan struct{})
	defer close(stop)
	// The workers end when the reader closes jobs; on an early return, stop
	// ends the reader.
	for i := 0; i < workers; i++ {
		go func() {
			for bt := range jobs {
				bt.prepared = make([]*tree.Prepared, len(bt.items))
				for i, it := range bt.items {
					bt.prepared[i] = b.Prepare(it)
				}
				close(bt.done)
			}
		}()
	}
	go func() {
		defer close(ordered)
		defer close(jobs)
		buf := make([]*feed.Item, 0, batchSize)
		flush := func(err error) bool {
			bt := &batch{items: buf, err: err, done: make(chan struct{})}
			buf = make([]*feed.Item, 0, batchSize)
			select {
			case ordered <- bt:
			case <-stop:
				return false
			}
			select {
			case jobs <- bt:
				return true
			case <-stop:
				return false
			}
		}
		for {
			it, err := r.Next()
			if err == io.EOF {
				_, err = io.Copy(io.Discard, body)
				flush(err) // the last batch, with the drain's outcome
				return
			}
			if err != nil {
				flush(err)
				return
			}
			buf = append(buf, it)
			if len(buf) == batchSize && !flush(nil) {
				return
			}
		}
	}()
	for bt := range ordered {
		select {
		case <-bt.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		for _, p := range bt.prepared {
			b.AddPrepared(p)
		}
		if bt.err != nil {
			return bt.err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// differ turns products into operations: it encodes each payload, hashes it
// and looks up the stored hash, on as many workers as there are cores. Only
// changed products become operations.
type differ struct {
	db     *store.DB
	feed   string
	target string
	policy string
	resync bool
	// unresolved: ids of unfinished journal entries (plan, which does not
	// fold them into the records as a sync does).
	unresolved map[string]bool
	// send hands an operation on; it may block. try hands it on only if
	// that needs no wait.
	send      func(push.Op) error
	try       func(push.Op) bool
	unchanged atomic.Int64
}

// run feeds the products that produce emits to the workers and waits for them.
func (d *differ) run(produce func(emit func(*tree.Product) error) error) error {
	workers := min(runtime.GOMAXPROCS(0), 4)
	work := make(chan *tree.Product, 64*workers)
	quit := make(chan struct{})
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	var stopOnce sync.Once
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := d.work(work); err != nil {
				errs <- err
				stopOnce.Do(func() { close(quit) })
			}
		}()
	}
	err := produce(func(p *tree.Product) error {
		select {
		case work <- p:
			return nil
		case <-quit:
			return errors.New("diff stopped")
		}
	})
	close(work)
	wg.Wait()
	select {
	case werr := <-errs:
		return werr
	default:
	}
	return err
}

func (d *differ) work(work <-chan *tree.Product) error {
	lookup := d.db.Lookup(d.feed)
	defer lookup.Close()
	var failed error
	var buf []byte // the payload, until it turns out to have changed
	for p := range work {
		if failed != nil {
			continue // drain
		}
		buf = p.AppendJSON(buf[:0])
		h := productHash(buf, d.target, d.policy)
		rec, ok, err := lookup.Get(p.ID)
		if err != nil {
			failed = err
			continue
		}
		kind := push.Update
		switch {
		case !ok || !rec.Acknowledged():
			kind = push.Create
		case d.resync, rec.Hash != h, rec.State != store.Live, rec.Uncertain, d.unresolved[p.ID]:
		default:
			d.unchanged.Add(1)
			continue
		}
		payload := bytes.Clone(buf)
		line := 0
		if len(p.Lines) > 0 {
			line = p.Lines[0]
		}
		op := push.Op{Kind: kind, ID: p.ID, Payload: payload, Ref: opRef{hash: h, payload: payload, state: store.Live, line: line}}
		// Never block while holding the lookup's read transaction: a commit
		// in the ack path may be waiting for it.
		if d.try != nil && d.try(op) {
			continue
		}
		lookup.Close()
		if err := d.send(op); err != nil {
			failed = err
		}
	}
	return failed
}

// removals is what on_missing asks of the stored products a run did not
// see, decided before anything is sent.
type removals struct {
	send    []store.Entry // deletes or unavailable marks, as on_missing says
	forget  []string      // records of products that never reached the catalog
	refused error         // a guard's refusal: nothing may be sent
}

// planRemovals lists the stored products the feed no longer has and what to
// do with each, and applies the guards on the whole of it: zero products,
// and max_delete. The product ids are known once every item was added, so
// this runs before the first operation is sent.
func (s *Syncer) planRemovals(fc *FeedConfig, opts Options, b *tree.Builder, skipped map[string]bool, maxDelete MaxDelete) (removals, error) {
	var rm removals
	// A product whose row was skipped with a problem (bad text, too long)
	// is still in the feed: bad input loses nothing.
	missing, err := s.DB.Missing(fc.Name, func(id string) bool { return b.HasProduct(id) || skipped[id] })
	if err != nil {
		return rm, fmt.Errorf("read state: %w", err)
	}
	for _, e := range missing {
		switch {
		case e.Uncertain && fc.OnMissing == OnMissingKeep:
			continue // stays uncertain, and is sent again if it comes back
		case e.Uncertain:
			// The catalog may hold it: remove it for sure.
		case !e.Acknowledged():
			rm.forget = append(rm.forget, e.ID) // never reached the catalog
			continue
		case fc.OnMissing == OnMissingKeep:
			continue
		case fc.OnMissing == OnMissingUnavailable && e.State == store.Unavailable && opts.Mode != ModeResync:
			continue // already marked
		}
		rm.send = append(rm.send, e)
	}
	if len(rm.send) == 0 {
		return rm, nil
	}
	stored, err := s.DB.Stored(fc.Name)
	if err != nil {
		return rm, fmt.Errorf("read state: %w", err)
	}
	verb, sent := "refused", "nothing was sent"
	if opts.Mode == ModePlan {
		verb, sent = "would be refused", "nothing would be sent"
	}
	what := "removals"
	if fc.OnMissing == OnMissingUnavailable {
		what = "unavailable marks"
	}
	switch {
	case b.ProductIDs() == 0:
		rm.refused = &RefusedError{Reason: ErrRemovalRefused, Msg: fmt.Sprintf("%s: the feed produced no products, so the %d %s of all stored products were refused and %s; check the feed, or run `feedsync state --reset %s --yes` to start over", verb, len(rm.send), what, sent, fc.Name)}
	case !maxDelete.Allows(len(rm.send), stored) && !opts.AllowMassDelete:
		rm.refused = &RefusedError{Reason: ErrTooManyDeletes, Msg: fmt.Sprintf("%s: %d %s, above max_delete %s of %d stored products; %s. If the feed really lost them, run once with --allow-mass-delete", verb, len(rm.send), what, maxDelete, stored, sent)}
	}
	return rm, nil
}

// remove sends the removals planRemovals decided on, and forgets the
// records of products that never reached the catalog.
func (s *Syncer) remove(fc *FeedConfig, rm removals, c *committer, send func(push.Op) error, log zerolog.Logger) error {
	for _, id := range rm.forget {
		c.ack(push.Result{Op: push.Op{Kind: push.Delete, ID: id, Ref: opRef{forget: true}}})
	}
	for _, e := range rm.send {
		if fc.OnMissing == OnMissingDelete {
			if err := send(push.Op{Kind: push.Delete, ID: e.ID, Ref: opRef{}}); err != nil {
				return err
			}
			continue
		}
		payload, err := markUnavailable(e.Payload, e.ID)
		if err != nil {
			log.Warn().Str("product", clip(e.ID)).Err(err).Msg("stored payload unreadable; sending a minimal unavailable update")
		}
		ref := opRef{hash: productHash(payload, s.Sink.Target(), fc.Policy), payload: payload, state: store.Unavailable}
		if err := send(push.Op{Kind: push.Update, ID: e.ID, Payload: payload, Ref: ref}); err != nil {
			return err
		}
	}
	return nil
}

// markUnavailable returns the last acknowledged payload with availability set
// to out_of_stock, canonical like every payload.
func markUnavailable(last []byte, id string) ([]byte, error) {
	m := map[string]any{}
	var err error
	if len(last) > 0 {
		d := json.NewDecoder(bytes.NewReader(last))
		d.UseNumber()
		err = d.Decode(&m)
	}
	if err != nil || len(m) == 0 {
		m = map[string]any{"custom_id": id}
	}
	m["availability"] = feed.OutOfStock
	return tree.NewProduct(id, m).JSON(), err
}

// succeed records the fetch metadata of a fully successful run, which the
// next run's shortcuts rely on.
func (s *Syncer) succeed(fc *FeedConfig, fingerprint, bodyHex string, resp *feed.Response, mode Mode, at time.Time) error {
	if mode == ModePlan {
		return nil
	}
	err := s.updateMeta(fc.Name, func(meta *store.Meta) {
		if resp.ETag != "" || resp.LastModified != "" || !resp.NotModified {
			meta.ETag, meta.LastModified = resp.ETag, resp.LastModified
		}
		meta.BodyHash = bodyHex
		meta.ConfigSHA256 = fingerprint
		meta.Policy = fc.Policy
		meta.LastSuccess = at.UTC()
		meta.LastError, meta.LastErrorAt = "", time.Time{}
	})
	if err != nil {
		return fmt.Errorf("record fetch state: %w", err)
	}
	return nil
}

// updateMeta reads the feed's metadata afresh, changes it and writes it back
// (store.Intend and Adopt change it during a run).
func (s *Syncer) updateMeta(name string, fn func(*store.Meta)) error {
	m, err := s.DB.Meta(name)
	if err != nil {
		return err
	}
	fn(&m)
	return s.DB.SetMeta(name, m)
}

// committer batches acknowledgements into store commits: every commitBatch
// acks or every commitEvery, whichever comes first, and once at the end. The
// commits run on a goroutine of their own, so the sink goes on sending while
// a batch is written; at most two batches wait for it. It also counts the
// operations of each journal entry still unacknowledged: the commit that
// holds an entry's last acknowledgement drops the entry. Its redact
// (Syncer.Redact) scrubs each rejection before it is stored.
type committer struct {
	db          *store.DB
	feed        string
	target      string
	write       bool
	now         func() time.Time
	redact      func(string) string
	mu          sync.Mutex // guards pending, outstanding and counts, and orders the batches
	pending     commitWork
	outstanding map[uint64]int // journal entry → its operations not yet acknowledged
	counts      struct{ created, updated, deleted, unavailable, failed int }
	batches     chan commitWork
	closed      bool // batches is closed: the run is over
	errMu       sync.Mutex
	err         error
}

type commitWork struct {
	acks     []store.Ack
	resolved []uint64
}

const (
	commitBatch = 2048
	commitEvery = time.Second
)

func newCommitter(db *store.DB, feed, target string, write bool, now func() time.Time) *committer {
	return &committer{db: db, feed: feed, target: target, write: write, now: now, outstanding: map[uint64]int{}, batches: make(chan commitWork, 2)}
}

// expect registers n operations of journal entry seq, before any of them is
// sent.
func (c *committer) expect(seq uint64, n int) {
	if seq == 0 || n == 0 {
		return
	}
	c.mu.Lock()
	c.outstanding[seq] += n
	c.mu.Unlock()
}

func (c *committer) ack(r push.Result) {
	ref, _ := r.Op.Ref.(opRef)
	a := store.Ack{ID: r.Op.ID, At: c.now().UTC(), Seq: ref.seq}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case ref.forget:
		a.Forget = true
	case r.Err != nil:
		c.counts.failed++
		a.Err = r.Err.Error()
		if c.redact != nil {
			a.Err = c.redact(a.Err)
		}
	case r.Op.Kind == push.Delete:
		c.counts.deleted++
		a.Delete = true
	default:
		switch {
		case ref.state == store.Unavailable:
			c.counts.unavailable++
		case r.Op.Kind == push.Create:
			c.counts.created++
		default:
			c.counts.updated++
		}
		a.Hash, a.Payload, a.State = ref.hash, ref.payload, ref.state
	}
	if !c.write {
		return
	}
	c.pending.acks = append(c.pending.acks, a)
	if ref.seq != 0 {
		if c.outstanding[ref.seq]--; c.outstanding[ref.seq] <= 0 {
			delete(c.outstanding, ref.seq)
			c.pending.resolved = append(c.pending.resolved, ref.seq)
		}
	}
	if len(c.pending.acks) >= commitBatch {
		c.handOverLocked()
	}
}

// handOverLocked queues the pending acks for the commit goroutine. It is
// called with mu held, so batches reach the store in the order they were
// acknowledged; it blocks while two batches already wait.
func (c *committer) handOverLocked() {
	if (len(c.pending.acks) == 0 && len(c.pending.resolved) == 0) || c.closed {
		return
	}
	c.batches <- c.pending
	c.pending = commitWork{acks: make([]store.Ack, 0, commitBatch)}
}

func (c *committer) failed() error {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	return c.err
}

// start runs the commit goroutine and the timed hand-over; the returned
// func stops them, commits the rest and reports the first commit error.
// After a commit error no later batch is committed: the acks they hold are
// lost to the state, their journal entries stay, and the next run sends
// those products again.
func (c *committer) start() func() error {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for b := range c.batches {
			if c.failed() != nil {
				continue
			}
			if err := c.db.CommitBatch(c.feed, b.acks, b.resolved); err != nil {
				c.errMu.Lock()
				c.err = err
				c.errMu.Unlock()
			}
		}
	}()
	go func() {
		defer wg.Done()
		t := time.NewTicker(commitEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				c.mu.Lock()
				c.handOverLocked()
				c.mu.Unlock()
			}
		}
	}()
	var once sync.Once
	return func() error {
		once.Do(func() {
			close(done)
			c.mu.Lock()
			c.handOverLocked()
			close(c.batches)
			c.closed = true
			c.mu.Unlock()
			wg.Wait()
		})
		return c.failed()
	}
}

func (c *committer) tally(sum *Summary) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sum.Created = c.counts.created
	sum.Updated = c.counts.updated
	sum.Deleted = c.counts.deleted
	sum.Unavailable = c.counts.unavailable
	sum.Failed = c.counts.failed
}
