package push

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/feedsync/feedsync/push/pushtest"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// countingObserver counts what a client reports.
type countingObserver struct {
	mu       sync.Mutex
	requests map[string]int // op → count
	statuses map[int]int
	retries  map[string]int // reason → count
}

func newCountingObserver() *countingObserver {
	return &countingObserver{requests: map[string]int{}, statuses: map[int]int{}, retries: map[string]int{}}
}

func (o *countingObserver) Request(op string, status int, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.requests[op]++
	o.statuses[status]++
}

func (o *countingObserver) Retry(_ string, reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.retries[reason]++
}

func (o *countingObserver) total() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, c := range o.requests {
		n += c
	}
	return n
}

// harness is a User.com client against a fake, with fast backoffs and its
// logs captured.
type harness struct {
	srv  *pushtest.Server
	sink *UserCom
	logs *syncBuffer
	obs  *countingObserver
}

func newHarness(t testing.TB, mode string, opts pushtest.Options, tweak func(*UserComConfig)) *harness {
	t.Helper()
	srv := pushtest.NewServer(opts)
	t.Cleanup(srv.Close)
	h := &harness{srv: srv, logs: &syncBuffer{}, obs: newCountingObserver()}
	cfg := UserComConfig{
		URL: srv.URL, Token: pushtest.Token, TokenEnv: "USERCOM_API_TOKEN", Mode: mode,
		Concurrency: 4, Timeout: 2 * time.Second, Retries: 8, UserAgent: "feedsync/test",
		Logger: zerolog.New(h.logs), Observer: h.obs,
		MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		BreakerThreshold: 8, BreakerCooldown: 20 * time.Millisecond,
		PollInterval: time.Millisecond, MaxPollInterval: 5 * time.Millisecond, ImportTimeout: 10 * time.Second,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	sink, err := NewUserCom(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	h.sink = sink
	return h
}

// outcome is what one Apply reported.
type outcome struct {
	results []Result
	byID    map[string][]Result
	err     error
	took    time.Duration
}

// apply runs sink.Apply over ops and checks that no op is acknowledged twice
// and that ack is never called concurrently.
func apply(t testing.TB, ctx context.Context, sink Sink, ops []Op) outcome {
	t.Helper()
	ch := make(chan Op)
	go func() {
		defer close(ch)
		for _, op := range ops {
			select {
			case ch <- op:
			case <-ctx.Done():
				return
			}
		}
	}()
	return applyChan(t, ctx, sink, ch)
}

func applyChan(t testing.TB, ctx context.Context, sink Sink, ch <-chan Op) outcome {
	t.Helper()
	var o outcome
	o.byID = map[string][]Result{}
	var inAck sync.Mutex
	start := time.Now()
	var mu sync.Mutex
	o.err = sink.Apply(ctx, ch, func(r Result) {
		if !inAck.TryLock() {
			t.Errorf("ack called concurrently")
			return
		}
		defer inAck.Unlock()
		mu.Lock()
		defer mu.Unlock()
		o.results = append(o.results, r)
		o.byID[r.Op.ID] = append(o.byID[r.Op.ID], r)
	})
	o.took = time.Since(start)
	for id, rs := range o.byID {
		if len(rs) > 1 {
			t.Errorf("product %q acknowledged %d times, want once", id, len(rs))
		}
	}
	return o
}

// product is a test payload.
func product(id string, price string, extra ...string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"availability":"in_stock","currency":"EUR","custom_id":%q,"name":"Product %s","price":%s`, id, id, price)
	for i := 0; i+1 < len(extra); i += 2 {
		fmt.Fprintf(&b, `,%q:%q`, extra[i], extra[i+1])
	}
	b.WriteString("}")
	return []byte(b.String())
}

func creates(n int, prefix string, price string) []Op {
	ops := make([]Op, n)
	for i := range ops {
		id := fmt.Sprintf("%s%05d", prefix, i)
		ops[i] = Op{Kind: Create, ID: id, Payload: product(id, price), Ref: i}
	}
	return ops
}

// wantCatalog checks that catalog holds exactly the payloads of want.
func wantCatalog(t testing.TB, got map[string]map[string]string, want map[string][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("catalog has %d products, want %d", len(got), len(want))
	}
	bad := 0
	for id, payload := range want {
		w, err := pushtest.Fields(payload)
		if err != nil {
			t.Fatal(err)
		}
		g, ok := got[id]
		switch {
		case !ok:
			t.Errorf("product %q missing from the catalog", id)
			bad++
		case fmt.Sprint(g) != fmt.Sprint(w):
			t.Errorf("product %q:\ngot  %v\nwant %v", id, g, w)
			bad++
		}
		if bad > 5 {
			t.Fatal("too many differences")
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("unexpected product %q in the catalog", id)
		}
	}
}
