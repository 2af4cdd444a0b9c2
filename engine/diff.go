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
	var fixes []store.InputFix
	defer func() {
		d.mu.Lock()
		d.fixes = append(d.fixes, fixes...)
		d.mu.Unlock()
	}()
	for p := range work {
		if failed != nil {
			continue // drain
		}
		buf = p.AppendJSON(buf[:0])
		h := productHash(buf, d.target, d.policy)
		var rec store.Record
		var ok bool
		if !d.fresh {
			var err error
			if rec, ok, err = lookup.Get(p.ID); err != nil {
				failed = err
				continue
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
				fixes = append(fixes, store.InputFix{ID: p.ID, Hash: h, Input: in, Raws: storeRaws(p)})
				if len(fixes) >= learnBatch && d.learn != nil {
					// A fix holds for the hash it names whatever becomes
					// of the run; no read transaction is held while the
					// write waits for the commits.
					lookup.Close()
					d.learn(fixes)
					fixes = fixes[:0]
				}
			}
			continue
		}
		payload := bytes.Clone(buf)
		line := 0
		if len(p.Lines) > 0 {
			line = p.Lines[0]
		}
		op := push.Op{Kind: kind, ID: p.ID, Payload: payload, Deal: d.deal, Ref: opRef{hash: h, input: p.Input, raws: storeRaws(p), payload: payload, state: store.Live, line: line}}
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
