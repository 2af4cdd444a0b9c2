package tree

import (
	"context"
	"io"
	"runtime"

	"github.com/feedsync/feedsync/feed"
)

// ReadAll adds every item r reads to the builder, on every core: the reader
// runs in a goroutine of its own and hands items over in batches; workers
// shape each batch (Prepare); the builder takes the batches back in feed
// order (AddPrepared), so the result is the same as adding the items one by
// one with Add. It is the one loop from a reader to a builder: sync,
// transform and publish all read feeds through it. It returns the reader's
// error, or ctx's; the bytes after the last item are the caller's to drain.
func (b *Builder) ReadAll(ctx context.Context, r feed.Reader) error {
	type batch struct {
		items    []*feed.Item
		prepared []*Prepared
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
				bt.prepared = make([]*Prepared, len(bt.items))
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
				flush(nil) // the last batch
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
