package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/feedsync/feedsync/config"
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
	// FetchInterrupted: the run was stopped (Ctrl-C, SIGTERM) while it
	// fetched or parsed.
	FetchInterrupted = "interrupted"
)

// ErrTooManyDeletes is returned when a run's removals exceed max_delete.
var ErrTooManyDeletes = errors.New("too many removals")

// ErrInterrupted is the error of a run stopped by its context (Ctrl-C,
// SIGTERM, a daemon's shutdown): Summary.Error and the state's last error
// say "interrupted". It wraps the context's error.
var ErrInterrupted = errors.New("interrupted")

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
	// Warnings counts the defects products were sent with, each a lint
	// rule (price-format, missing-price, url-format): lint calls them
	// errors, the catalog takes them.
	Warnings int `json:"warnings"`
	// Shaped counts the products whose payload the run built, encoded and
	// hashed; the others were known unchanged by what they are made from
	// (tree.Input) and cost no more than a lookup.
	Shaped int `json:"shaped"`
	// Recognised counts the items the run recognised by their bytes
	// alone, without parsing them: every item of the feed when the run
	// found each one as an unchanged product held (see recognise.go), else
	// none.
	Recognised int `json:"recognised"`
	// UnknownProducts counts the order lines (orders exports) whose product
	// the products_from feed does not have: sent as given, with a warning.
	UnknownProducts int    `json:"unknown_products,omitempty"`
	Bytes           int64  `json:"bytes"`
	Started         string `json:"started"`
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
	FullScan bool
	// Parse parses, builds and diffs every item even when the scan would
	// recognise the feed by its items' bytes (recognise.go); it implies
	// FullScan.
	Parse     bool
	Now       func() time.Time
	Log       zerolog.Logger
	UserAgent string
	// Observer is told what the run does as it happens; nil logs each
	// problem (LogProblems) and watches nothing else.
	Observer Observer
	// WrapBody wraps the feed's bytes before parsing (progress bars).
	WrapBody func(io.Reader) io.Reader
	// WrapScan wraps them before the scan that may recognise the feed by
	// its items' bytes (see recognise.go), which comes first; when the
	// scan does not recognise it, WrapBody wraps them for the parse.
	WrapScan func(io.Reader) io.Reader
	// KeepIDs keeps the feed's product ids in the state (store.PutIDs):
	// set it for a feed an orders export maps its lines through.
	KeepIDs bool
	// EveryProduct shapes every product, also those known unchanged by
	// what they are made from: set it when the Observer needs each
	// product (publishing).
	EveryProduct bool
}

// Observer is told what a run does as it happens, from the run's own
// goroutine (Pushed from the sink's). Embed NopObserver or LogProblems and
// override what you need.
type Observer interface {
	// Problem is told of every item skipped and every defect reported,
	// and of the first tree.MaxWarnings warnings (Code set).
	Problem(feed.Problem)
	// Read is told the item count once the whole feed was read.
	Read(items int)
	// Built is handed the builder once every item was added (plan --explain).
	Built(*tree.Builder)
	// Product is handed every product, unchanged ones too (publish).
	Product(*tree.Product)
	// Truncated is told of every product whose string fields were cut to
	// the catalog's limit (plan reports them).
	Truncated(id string, fields []string)
	// Pushed is told of n acknowledged operations.
	Pushed(n int)
}

// NopObserver watches nothing.
type NopObserver struct{}

func (NopObserver) Problem(feed.Problem)       {}
func (NopObserver) Read(int)                   {}
func (NopObserver) Built(*tree.Builder)        {}
func (NopObserver) Product(*tree.Product)      {}
func (NopObserver) Truncated(string, []string) {}
func (NopObserver) Pushed(int)                 {}

// LogProblems logs each problem as a warning and watches nothing else.
type LogProblems struct {
	NopObserver
	Log zerolog.Logger
}

func (l LogProblems) Problem(p feed.Problem) {
	ev := l.Log.Warn().Int("line", p.Line).Str("item", clip(p.ItemID))
	if p.Code != "" {
		ev = ev.Str("rule", p.Code)
	}
	ev.Msg(p.Msg)
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
	input   tree.Input  // what the payload was made from; zero when unknown
	raws    *store.Raws // what its items were; nil when unknown
	payload []byte
	state   store.State
	line    int    // the product's first feed line (0 for removals)
	seq     uint64 // its journal entry (see store.Intend); 0 while not journaled
	forget  bool   // no catalog operation: the state forgets the product
}

// Sync runs one sync of one feed: fetch, parse, build products, diff against
// the state, push what changed, and commit what the sink acknowledged. The
// returned Summary is filled in as far as the run got, also on error.
func (s *Syncer) Sync(ctx context.Context, fc *config.Feed, opts Options) (Summary, error) {
	return s.syncOne(ctx, fc, nil, opts)
}

// syncOne runs Sync of a product feed (oc nil) or SyncOrders of the orders
// export oc (fc its fetch settings).
func (s *Syncer) syncOne(ctx context.Context, fc *config.Feed, oc *config.Orders, opts Options) (Summary, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	sum := Summary{Feed: fc.Name, Mode: opts.Mode, Started: start.UTC().Format(time.RFC3339)}
	touched := false
	err := s.redactErr(s.sync(ctx, fc, oc, opts, &sum, &touched))
	if err != nil && ctx.Err() != nil {
		// Whatever failed once the run was stopped failed because it was
		// (a reader may not wrap the context's error).
		err = fmt.Errorf("%w: %w", ErrInterrupted, ctx.Err())
		if sum.Fetch == FetchFailed {
			sum.Fetch = FetchInterrupted
		}
	}
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
