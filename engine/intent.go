package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/feedsync/feedsync/feed"
	"github.com/feedsync/feedsync/push"
	"github.com/feedsync/feedsync/store"
)

// intentBatch bounds how many operations one journal entry names.
const intentBatch = 4096

// intentLinger is how long the stage waits for a batch to fill.
const intentLinger = 100 * time.Millisecond

// intentStage stands between the differ and the sink: it journals each
// batch of operations (store.Intend) before handing it to the sink, so that
// a product whose operation may have reached the catalog is known to the
// state before it does; and it refuses the operations on custom_ids another
// feed of the same catalog owns. In plan it journals nothing and only looks
// the owners up.
type intentStage struct {
	ctx      context.Context
	db       *store.DB
	feed     string
	target   string
	write    bool
	c        *committer
	in       chan push.Op
	out      chan<- push.Op // the sink's; closed when the stage ends
	sinkDone chan error     // the sink's Apply result, put back once read
	done     chan struct{}  // closed when run returns, after err is set
	err      error

	mu      sync.Mutex
	probs   []feed.Problem
	refused int // upserts refused because another feed owns the id
}

func newIntentStage(ctx context.Context, db *store.DB, feedName, target string, write bool, c *committer, out chan<- push.Op, sinkDone chan error) *intentStage {
	return &intentStage{ctx: ctx, db: db, feed: feedName, target: target, write: write, c: c,
		in: make(chan push.Op, 1024), out: out, sinkDone: sinkDone, done: make(chan struct{})}
}

// send hands an operation to the stage; it blocks while the stage is busy
// and fails once the stage stopped.
func (st *intentStage) send(op push.Op) error {
	select {
	case st.in <- op:
		return nil
	case <-st.done:
		if st.err != nil {
			return st.err
		}
		return errors.New("the intent journal stopped early")
	case <-st.ctx.Done():
		return st.ctx.Err()
	}
}

// trySend hands an operation to the stage if that needs no wait.
func (st *intentStage) trySend(op push.Op) bool {
	select {
	case st.in <- op:
		return true
	default:
		return false
	}
}

// close tells the stage that no more operations come, waits until it handed
// every one to the sink, and returns its error.
func (st *intentStage) close() error {
	close(st.in)
	<-st.done
	return st.err
}

// intended is a batch whose journal entry is written: its operations may
// be sent.
type intended struct {
	batch  []push.Op
	owners []string
	seq    uint64
}

// run journals the batches on its own goroutine and hands them to the sink
// on another (forward): the next batch's journal entry is written while
// the sink takes the one before, so that the sink never waits for the
// transaction, which waits in turn for the commit that holds the file.
// Nothing is sent before its entry is written.
func (st *intentStage) run() {
	defer close(st.done)
	ready := make(chan intended, 1)
	free := make(chan []push.Op, 2) // batches the forwarder is done with
	failed := make(chan struct{})   // closed when the forwarder stopped on an error
	var ferr error
	forwarded := make(chan struct{})
	go func() {
		defer close(forwarded)
		if ferr = st.forward(ready, free); ferr != nil {
			close(failed) // journal stops at its next step
		}
	}()
	err := st.journal(ready, free, failed)
	close(ready)
	<-forwarded
	close(st.out)
	if ferr != nil {
		err = ferr
	}
	st.err = err
}

// journal gathers the operations into batches and journals each before it
// hands it to the forwarder.
func (st *intentStage) journal(ready chan<- intended, free <-chan []push.Op, failed <-chan struct{}) error {
	for {
		var op push.Op
		var ok bool
		select {
		case op, ok = <-st.in:
		case <-st.ctx.Done():
			return st.ctx.Err()
		case <-failed:
			return nil
		}
		if !ok {
			return nil
		}
		var batch []push.Op
		select {
		case batch = <-free:
		default:
			batch = make([]push.Op, 0, intentBatch)
		}
		batch = append(batch, op)
		open := true
		// Each journal entry costs a transaction, two fsyncs and a
		// freelist write: wait a moment for more operations, which a
		// fast differ fills in no time and a slow one would not send
		// any sooner than the sink can take them.
		linger := time.NewTimer(intentLinger)
	fill:
		for len(batch) < intentBatch {
			select {
			case op, ok := <-st.in:
				if !ok {
					open = false
					break fill
				}
				batch = append(batch, op)
			case <-linger.C:
				break fill
			case <-st.ctx.Done():
				break fill
			case <-failed:
				break fill
			}
		}
		linger.Stop()
		select {
		case <-failed:
			return nil // nothing of it was journaled, nothing is sent
		default:
		}
		owners, seq, err := st.intend(batch)
		if err != nil {
			return err
		}
		n := 0
		for i := range batch {
			if owners[i] == "" {
				n++
			}
		}
		st.c.expect(seq, n)
		select {
		case ready <- intended{batch: batch, owners: owners, seq: seq}:
		case <-failed:
			return nil
		case <-st.ctx.Done():
			return st.ctx.Err()
		}
		if !open {
			return nil
		}
	}
}

// forward hands each journaled batch to the sink, in order, and the batch
// back to journal for reuse.
func (st *intentStage) forward(ready <-chan intended, free chan<- []push.Op) error {
	for b := range ready {
		if err := st.flush(b); err != nil {
			return err
		}
		clear(b.batch)
		select {
		case free <- b.batch[:0]:
		default:
		}
	}
	return nil
}

// flush hands a journaled batch to the sink.
func (st *intentStage) flush(b intended) error {
	for i, op := range b.batch {
		if b.owners[i] != "" {
			st.refuse(op, b.owners[i])
			continue
		}
		ref, _ := op.Ref.(opRef)
		ref.seq = b.seq
		op.Ref = ref
		select {
		case st.out <- op:
		case err := <-st.sinkDone:
			st.sinkDone <- err // keep it for the final wait
			if err == nil {
				err = errors.New("the sink stopped early")
			}
			return err
		case <-st.ctx.Done():
			return st.ctx.Err()
		}
	}
	return nil
}

// intend writes the batch's journal entry and claims its ids; owners[i] is
// the other feed that owns batch[i]'s id, or "".
func (st *intentStage) intend(batch []push.Op) (owners []string, seq uint64, err error) {
	if !st.write {
		ids := make([]string, len(batch))
		for i, op := range batch {
			ids[i] = op.ID
		}
		if owners, err = st.db.Owners(st.feed, st.target, ids); err != nil {
			return nil, 0, fmt.Errorf("read state: %w", err)
		}
		return owners, 0, nil
	}
	intents := make([]store.Intent, len(batch))
	for i, op := range batch {
		intents[i] = store.Intent{ID: op.ID}
	}
	seq, owners, err = st.db.Intend(st.feed, st.target, intents)
	if err != nil {
		return nil, 0, fmt.Errorf("record intent in the state: %w", err)
	}
	return owners, seq, nil
}

// refuse drops an operation on an id another feed owns. An upsert is
// skipped with a problem naming both feeds; a removal is not sent, and the
// state forgets the product: it is the other feed's.
func (st *intentStage) refuse(op push.Op, owner string) {
	ref, _ := op.Ref.(opRef)
	if op.Kind == push.Delete || ref.state == store.Unavailable {
		st.c.ack(push.Result{Op: push.Op{Kind: push.Delete, ID: op.ID, Ref: opRef{forget: true}}})
		st.mu.Lock()
		st.probs = append(st.probs, feed.Problem{ItemID: op.ID, Kind: feed.ProblemOther,
			Msg: fmt.Sprintf("left the feed, but feed %q owns custom_id %q in this catalog now: not removed", owner, clip(op.ID))})
		st.mu.Unlock()
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.refused++
	st.probs = append(st.probs, feed.Problem{Line: ref.line, ItemID: op.ID, Kind: feed.ProblemSkippedItem,
		Msg: fmt.Sprintf("custom_id %q belongs to feed %q in this catalog: feed %q's product is skipped (feeds that share a catalog must not share a custom_id)", clip(op.ID), owner, st.feed)})
}

// problems are the refusals, once the stage ended.
func (st *intentStage) problems() []feed.Problem {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.probs
}
