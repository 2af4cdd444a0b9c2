package engine

import (
	"sync"
	"time"

	"github.com/feedsync/feedsync/push"
	"github.com/feedsync/feedsync/store"
)

// committer batches acknowledgements into store commits: every batch acks
// (commitBatch, or commitSparse when the feed has records already) or every
// commitEvery, whichever comes first, and once at the end. The
// commits run on a goroutine of their own, so the sink goes on sending while
// a batch is written, and another compresses the next batch's payloads
// (store.Prepare) meanwhile; at most two more batches wait. It also counts the
// operations of each journal entry still unacknowledged: the commit that
// holds an entry's last acknowledgement drops the entry. Its redact
// (Syncer.Redact) scrubs each rejection before it is stored.
type committer struct {
	db          *store.DB
	feed        string
	write       bool
	now         func() time.Time
	batch       int // acks per commit
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

// A first sync's acks append records in feed order, a few pages each
// commit; later runs' land all over the file, and each page a commit reads
// maps some 64 KiB of it (see store's release): a smaller batch bounds
// that. 6,005 updates of the 1M feed took 3 commits, now 12.
const (
	commitBatch  = 2048
	commitSparse = 512
	commitEvery  = time.Second
)

// newCommitter returns a committer; fresh says the feed had no record when
// the run began.
func newCommitter(db *store.DB, feed string, write, fresh bool, now func() time.Time) *committer {
	batch := commitSparse
	if fresh {
		batch = commitBatch
	}
	return &committer{db: db, feed: feed, write: write, now: now, batch: batch, outstanding: map[uint64]int{}, batches: make(chan commitWork, 2)}
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
		a.Hash, a.Payload, a.State, a.Input, a.Raws = ref.hash, ref.payload, ref.state, ref.input, ref.raws
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
	if len(c.pending.acks) >= c.batch {
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
	c.pending = commitWork{acks: make([]store.Ack, 0, c.batch)}
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
	prepared := make(chan commitWork)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		defer close(prepared)
		for b := range c.batches {
			if c.failed() == nil {
				store.Prepare(b.acks)
			}
			prepared <- b
		}
	}()
	go func() {
		defer wg.Done()
		for b := range prepared {
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
