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
	"sync"
	"sync/atomic"
	"time"

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
	Unconfirmed int    `json:"unconfirmed,omitempty"`
	Error       string `json:"error,omitempty"`
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
}

type opRef struct {
	hash    [32]byte
	payload []byte
	state   store.State
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
	err := s.sync(ctx, fc, opts, &sum, &touched)
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
	meta, err := s.DB.Meta(fc.Name)
	if err != nil {
		return fmt.Errorf("read state: %w", err)
	}
	fingerprint := s.configFingerprint(fc)
	shortcuts := opts.Mode != ModeResync && !opts.FullScan && meta.ConfigSHA256 == fingerprint

	maxSize, err := ParseSize(fc.MaxSize)
	if err != nil {
		return err
	}

	// Fetch.
	req := feed.Request{URL: fc.URL, Headers: fc.Headers, Timeout: time.Duration(fc.Timeout), UserAgent: opts.UserAgent, MaxBytes: maxSize}
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
		return s.succeed(fc.Name, meta, fingerprint, meta.BodyHash, resp, opts.Mode, now())
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
	sum.Problems = len(problems)
	sum.Skipped = skippedItems(r.Problems()) + b.Skipped()
	for _, p := range problems {
		if opts.OnProblem != nil {
			opts.OnProblem(p)
		} else {
			log.Warn().Int("line", p.Line).Str("item", p.ItemID).Msg(p.Msg)
		}
	}
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
		return s.succeed(fc.Name, meta, fingerprint, bodyHex, resp, opts.Mode, now())
	}

	// Typed attributes, once per feed and catalog, before the first push.
	if d, ok := s.Sink.(push.AttributeDeclarer); ok && opts.Mode != ModePlan && !meta.Attributes {
		if err := d.DeclareAttributes(ctx, push.ProductAttributes); err != nil {
			return fmt.Errorf("catalog %s: declare attributes: %w", s.Sink.Target(), err)
		}
		meta.Attributes = true
		if err := s.DB.SetMeta(fc.Name, meta); err != nil {
			return fmt.Errorf("record state: %w", err)
		}
	}

	// Diff and push.
	*touched = true
	target := s.Sink.Target()
	c := newCommitter(s.DB, fc.Name, opts.Mode != ModePlan, now)
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

	send := func(op push.Op) error {
		select {
		case ops <- op:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case err := <-sinkDone:
			sinkDone <- err // keep it for the final wait
			if err == nil {
				err = errors.New("the sink stopped early")
			}
			return err
		}
	}
	diffStart := time.Now()
	d := &differ{db: s.DB, feed: fc.Name, target: target, policy: fc.Policy, resync: opts.Mode == ModeResync, ops: ops, send: send}
	seen := newIDSet()
	diffErr := d.run(func(emit func(*tree.Product) error) error {
		return b.Finish(func(p *tree.Product) error {
			if !seen.add(p.ID) {
				problems = append(problems, feed.Problem{Line: p.Lines[0], ItemID: p.ID, Msg: "two products share this custom_id (a group id equal to another item's id?): the later one is skipped"})
				log.Warn().Int("line", p.Lines[0]).Str("product", p.ID).Msg("duplicate custom_id: product skipped")
				sum.Skipped++
				sum.Problems++
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

	// Removal, behind its guards.
	var removeErr error
	if diffErr == nil {
		removeErr = s.remove(fc, opts, maxDelete, seen, sum, send, log)
	}
	close(ops)
	sinkErr := <-sinkDone
	var unidentified *push.UnidentifiedError
	if errors.As(sinkErr, &unidentified) {
		sum.Unconfirmed = unidentified.Rows
	}
	if err := stopC(); err != nil && sinkErr == nil {
		sinkErr = fmt.Errorf("commit state: %w", err)
	}
	c.tally(sum)
	switch {
	case diffErr != nil:
		return diffErr
	case sinkErr != nil:
		return fmt.Errorf("catalog %s: %w", target, sinkErr)
	case removeErr != nil:
		return removeErr
	case sum.Failed > 0:
		return fmt.Errorf("%d products were rejected by the catalog (feedsync state %s lists them); they are retried on the next run", sum.Failed, fc.Name)
	}
	return s.succeed(fc.Name, meta, fingerprint, bodyHex, resp, opts.Mode, now())
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
	db        *store.DB
	feed      string
	target    string
	policy    string
	resync    bool
	ops       chan push.Op
	send      func(push.Op) error
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
		case d.resync, rec.Hash != h, rec.State != store.Live:
		default:
			d.unchanged.Add(1)
			continue
		}
		payload := bytes.Clone(buf)
		op := push.Op{Kind: kind, ID: p.ID, Payload: payload, Ref: opRef{hash: h, payload: payload, state: store.Live}}
		// Never block while holding the lookup's read transaction: a commit
		// in the ack path may be waiting for it.
		select {
		case d.ops <- op:
			continue
		default:
		}
		lookup.Close()
		if err := d.send(op); err != nil {
			failed = err
		}
	}
	return failed
}

// remove applies on_missing to the stored products this run did not see.
func (s *Syncer) remove(fc *FeedConfig, opts Options, maxDelete MaxDelete, seen *idSet, sum *Summary, send func(push.Op) error, log zerolog.Logger) error {
	if fc.OnMissing == OnMissingKeep {
		return nil
	}
	missing, err := s.DB.Missing(fc.Name, seen.has)
	if err != nil {
		return fmt.Errorf("read state: %w", err)
	}
	var todo []store.Entry
	for _, e := range missing {
		switch {
		case !e.Acknowledged():
			continue // never reached the catalog: nothing to remove
		case fc.OnMissing == OnMissingUnavailable && e.State == store.Unavailable && opts.Mode != ModeResync:
			continue // already marked
		}
		todo = append(todo, e)
	}
	if len(todo) == 0 {
		return nil
	}
	stored, err := s.DB.Stored(fc.Name)
	if err != nil {
		return fmt.Errorf("read state: %w", err)
	}
	if sum.Products == 0 {
		return fmt.Errorf("%w: the feed produced no products, so removing all %d stored products was refused; check the feed, or run `feedsync state --reset %s --yes` to start over", ErrRemovalRefused, len(todo), fc.Name)
	}
	if !maxDelete.Allows(len(todo), stored) && !opts.AllowMassDelete {
		return fmt.Errorf("%w: this run would remove %d of %d stored products, above max_delete %s; nothing was removed. If the feed really lost them, run once with --allow-mass-delete", ErrTooManyDeletes, len(todo), stored, maxDelete)
	}
	for _, e := range todo {
		if fc.OnMissing == OnMissingDelete {
			if err := send(push.Op{Kind: push.Delete, ID: e.ID, Ref: opRef{}}); err != nil {
				return err
			}
			continue
		}
		payload, err := markUnavailable(e.Payload, e.ID)
		if err != nil {
			log.Warn().Str("product", e.ID).Err(err).Msg("stored payload unreadable; sending a minimal unavailable update")
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
func (s *Syncer) succeed(name string, meta store.Meta, fingerprint, bodyHex string, resp *feed.Response, mode Mode, at time.Time) error {
	if mode == ModePlan {
		return nil
	}
	if resp.ETag != "" || resp.LastModified != "" || !resp.NotModified {
		meta.ETag, meta.LastModified = resp.ETag, resp.LastModified
	}
	meta.BodyHash = bodyHex
	meta.ConfigSHA256 = fingerprint
	meta.LastSuccess = at.UTC()
	meta.LastError, meta.LastErrorAt = "", time.Time{}
	if err := s.DB.SetMeta(name, meta); err != nil {
		return fmt.Errorf("record fetch state: %w", err)
	}
	return nil
}

// committer batches acknowledgements into store commits: every commitBatch
// acks or every commitEvery, whichever comes first, and once at the end. The
// commits run on a goroutine of their own, so the sink goes on sending while
// a batch is written; at most two batches wait for it.
type committer struct {
	db      *store.DB
	feed    string
	write   bool
	now     func() time.Time
	mu      sync.Mutex // guards pending and counts, and orders the batches
	pending []store.Ack
	counts  struct{ created, updated, deleted, unavailable, failed int }
	batches chan []store.Ack
	closed  bool // batches is closed: the run is over
	errMu   sync.Mutex
	err     error
}

const (
	commitBatch = 2048
	commitEvery = time.Second
)

func newCommitter(db *store.DB, feed string, write bool, now func() time.Time) *committer {
	return &committer{db: db, feed: feed, write: write, now: now, batches: make(chan []store.Ack, 2)}
}

func (c *committer) ack(r push.Result) {
	ref, _ := r.Op.Ref.(opRef)
	a := store.Ack{ID: r.Op.ID, At: c.now().UTC()}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case r.Err != nil:
		c.counts.failed++
		a.Err = r.Err.Error()
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
	c.pending = append(c.pending, a)
	if len(c.pending) >= commitBatch {
		c.handOverLocked()
	}
}

// handOverLocked queues the pending acks for the commit goroutine. It is
// called with mu held, so batches reach the store in the order they were
// acknowledged; it blocks while two batches already wait.
func (c *committer) handOverLocked() {
	if len(c.pending) == 0 || c.closed {
		return
	}
	c.batches <- c.pending
	c.pending = make([]store.Ack, 0, commitBatch)
}

func (c *committer) failed() error {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	return c.err
}

// start runs the commit goroutine and the timed hand-over; the returned
// func stops them, commits the rest and reports the first commit error.
// After a commit error no later batch is committed: the acks they hold are
// lost to the state, and the next run sends those products again.
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
			if err := c.db.Commit(c.feed, b); err != nil {
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
