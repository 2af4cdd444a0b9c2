package engine

import (
	"bytes"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/feedsync/feedsync/push"
	"github.com/feedsync/feedsync/store"
	"github.com/feedsync/feedsync/tree"
)

// differ turns products into operations: it encodes each payload, hashes it
// and looks up the stored hash, on as many workers as there are cores. Only
// changed products become operations.
type differ struct {
	db     *store.DB
	feed   string
	target string
	policy string
	resync bool
	deal   bool // the products are orders' deals (push.Op.Deal)
	// unresolved: ids of unfinished journal entries (plan, which does not
	// fold them into the records as a sync does).
	unresolved map[string]bool
	// fresh: the feed had no product record when the diff began (a first
	// sync), so there is nothing to look up: the records this run
	// commits meanwhile are those of products the diff saw already.
	fresh bool
	// send hands an operation on; it may block. try hands it on only if
	// that needs no wait.
	send      func(push.Op) error
	try       func(push.Op) bool
	unchanged atomic.Int64

	// fixes: products unchanged by their payload's hash whose record
	// lacks the Input they are made from (an older state, another
	// program): recorded after the diff (store.SetInputs), or by learn
	// on the way, a batch at a time, when it is set — a new build learns
	// every product's, and holding them all would grow memory with the
	// feed.
	mu    sync.Mutex
	fixes []store.InputFix
	learn func([]store.InputFix)
}

// learnBatch is how many fixes a worker gathers before it hands them to
// differ.learn (a variable for tests).
var learnBatch = 8192

// diffBatch is how many products the producer hands a worker at a time:
// one hand-over per product woke a sleeping worker, a futex call, most of
// the time.
const diffBatch = 64

// run feeds the products that produce emits to the workers and waits for them.
func (d *differ) run(produce func(emit func(*tree.Product) error) error) error {
	workers := min(runtime.GOMAXPROCS(0), 4)
	work := make(chan []*tree.Product, 2*workers)
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
	batch := make([]*tree.Product, 0, diffBatch)
	hand := func() error {
		select {
		case work <- batch:
			batch = make([]*tree.Product, 0, diffBatch)
			return nil
		case <-quit:
			return errors.New("diff stopped")
		}
	}
	err := produce(func(p *tree.Product) error {
		if batch = append(batch, p); len(batch) < diffBatch {
			return nil
		}
		return hand()
	})
	if err == nil && len(batch) > 0 {
		err = hand()
	}
	close(work)
	wg.Wait()
	select {
	case werr := <-errs:
		return werr
	default:
	}
	return err
}

func (d *differ) work(work <-chan []*tree.Product) error {
	lookup := d.db.Lookup(d.feed)
	defer lookup.Close()
	var failed error
	var buf []byte // the payload, until it turns out to have changed
	var fixes []store.InputFix
	defer func() {
		d.mu.Lock()
		d.fixes = append(d.fixes, fixes...)
		d.mu.Unlock()
	}()
	for batch := range work {
		for _, p := range batch {
			if failed != nil {
				break // drain
			}
			failed = d.one(p, lookup, &buf, &fixes)
		}
	}
	return failed
}

// one diffs product p: an operation when it changed, a fix when only its
// record's Input or Raws are missing. buf is the worker's payload buffer.
func (d *differ) one(p *tree.Product, lookup *store.Lookup, buf *[]byte, fixes *[]store.InputFix) error {
	*buf = p.AppendJSON((*buf)[:0])
	h := productHash(*buf, d.target, d.policy)
	var rec store.Record
	var ok bool
	if !d.fresh {
		var err error
		if rec, ok, err = lookup.Get(p.ID); err != nil {
			return err
		}
	}
	kind := push.Update
	switch {
	case !ok || !rec.Acknowledged():
		kind = push.Create
	case d.resync, rec.Hash != h, rec.State != store.Live, rec.Uncertain, d.unresolved[p.ID]:
	default:
		d.unchanged.Add(1)
		if in := p.Input; in != (tree.Input{}) && (rec.Input != in || (rec.Raws == nil) != (p.Raws == nil)) {
			*fixes = append(*fixes, store.InputFix{ID: p.ID, Hash: h, Input: in, Raws: storeRaws(p)})
			if len(*fixes) >= learnBatch && d.learn != nil {
				// A fix holds for the hash it names whatever becomes
				// of the run; no read transaction is held while the
				// write waits for the commits.
				lookup.Close()
				d.learn(*fixes)
				*fixes = (*fixes)[:0]
			}
		}
		return nil
	}
	payload := bytes.Clone(*buf)
	line := 0
	if len(p.Lines) > 0 {
		line = p.Lines[0]
	}
	op := push.Op{Kind: kind, ID: p.ID, Payload: payload, Deal: d.deal, Ref: opRef{hash: h, input: p.Input, raws: storeRaws(p), payload: payload, state: store.Live, line: line}}
	// Never block while holding the lookup's read transaction: a commit
	// in the ack path may be waiting for it.
	if d.try != nil && d.try(op) {
		return nil
	}
	lookup.Close()
	return d.send(op)
}
