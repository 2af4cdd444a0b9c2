package push

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/feedsync/feedsync/push/pushtest"
)

// sinkUnderTest is one sink the contract runs against, with a way to read
// back what its catalog holds.
type sinkUnderTest struct {
	sink    Sink
	catalog func() map[string]map[string]string
	creates func() map[string]int // nil when the catalog cannot tell
	deletes bool                  // whether Delete removes products
}

var contractSinks = map[string]func(t *testing.T) sinkUnderTest{
	"File": func(t *testing.T) sinkUnderTest {
		path := filepath.Join(t.TempDir(), "out", "catalog.jsonl")
		s := NewFileSink(path)
		s.BatchDelay = 5 * time.Millisecond
		return sinkUnderTest{sink: s, deletes: true, catalog: func() map[string]map[string]string { return replayJSONL(t, path) }}
	},
	"REST": func(t *testing.T) sinkUnderTest {
		h := newHarness(t, ModeREST, pushtest.Options{}, nil)
		return sinkUnderTest{sink: h.sink, deletes: true, catalog: h.srv.Catalog, creates: h.srv.Creates}
	},
	"Import": func(t *testing.T) sinkUnderTest {
		h := newHarness(t, ModeImport, pushtest.Options{ImportPolls: 2}, func(c *UserComConfig) { c.MaxFileSize = 4 << 10 })
		return sinkUnderTest{sink: h.sink, deletes: false, catalog: h.srv.Catalog, creates: h.srv.Creates}
	},
}

// replayJSONL reads a FileSink's output into the catalog it describes.
func replayJSONL(t *testing.T, path string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return out
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			Op      string          `json:"op"`
			ID      string          `json:"id"`
			Product json.RawMessage `json:"product"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if line.Op == "delete" {
			delete(out, line.ID)
			continue
		}
		fields, err := pushtest.Fields(line.Product)
		if err != nil {
			t.Fatal(err)
		}
		out[line.ID] = fields
	}
	return out
}

// TestSinkContract runs the same specification against every sink.
func TestSinkContract(t *testing.T) {
	for name, newSink := range contractSinks {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			t.Run("CreatesAreAcknowledgedOnceAndAppear", func(t *testing.T) {
				s := newSink(t)
				ops := creates(60, "c-", "10.50")
				o := apply(t, context.Background(), s.sink, ops)
				if o.err != nil {
					t.Fatalf("Apply: %v", o.err)
				}
				wantAllAcked(t, o, ops)
				wantCatalog(t, s.catalog(), payloads(ops))
			})
			t.Run("UpdatesChangeTheProduct", func(t *testing.T) {
				s := newSink(t)
				ops := creates(30, "u-", "10.50")
				if o := apply(t, context.Background(), s.sink, ops); o.err != nil {
					t.Fatal(o.err)
				}
				var upd []Op
				for i, op := range ops {
					upd = append(upd, Op{Kind: Update, ID: op.ID, Payload: product(op.ID, fmt.Sprintf("%d.99", i), "brand", "Acme"), Ref: i})
				}
				o := apply(t, context.Background(), s.sink, upd)
				if o.err != nil {
					t.Fatal(o.err)
				}
				wantAllAcked(t, o, upd)
				wantCatalog(t, s.catalog(), payloads(upd))
			})
			t.Run("ResendingIsIdempotent", func(t *testing.T) {
				// A run killed after sending and before committing sends the
				// same products again, as creates.
				s := newSink(t)
				ops := creates(40, "r-", "5")
				for run := 0; run < 2; run++ {
					o := apply(t, context.Background(), s.sink, ops)
					if o.err != nil {
						t.Fatalf("run %d: %v", run, o.err)
					}
					wantAllAcked(t, o, ops)
				}
				wantCatalog(t, s.catalog(), payloads(ops))
				if s.creates != nil {
					for id, n := range s.creates() {
						if n != 1 {
							t.Errorf("product %q created %d times, want once", id, n)
						}
					}
				}
			})
			t.Run("Deletes", func(t *testing.T) {
				s := newSink(t)
				ops := creates(20, "d-", "1")
				if o := apply(t, context.Background(), s.sink, ops); o.err != nil {
					t.Fatal(o.err)
				}
				dels := []Op{{Kind: Delete, ID: "d-00003"}, {Kind: Delete, ID: "d-00007"}, {Kind: Delete, ID: "never-existed"}}
				o := apply(t, context.Background(), s.sink, dels)
				if o.err != nil {
					t.Fatal(o.err)
				}
				if len(o.results) != len(dels) {
					t.Fatalf("got %d acks, want %d", len(o.results), len(dels))
				}
				want := payloads(ops)
				if s.deletes {
					wantAllAcked(t, o, dels)
					delete(want, "d-00003")
					delete(want, "d-00007")
				} else {
					for _, r := range o.results {
						if !IsRejected(r.Err) {
							t.Errorf("delete %q: got %v, want a *RejectedError (this catalog cannot delete)", r.Op.ID, r.Err)
						}
					}
				}
				wantCatalog(t, s.catalog(), want)
			})
			t.Run("CancellationStopsPromptlyAndAcksAreTrue", func(t *testing.T) {
				s := newSink(t)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				ch := make(chan Op)
				go func() {
					// Never closes: only cancellation ends this run.
					for i := 0; ; i++ {
						id := fmt.Sprintf("x-%05d", i)
						select {
						case ch <- Op{Kind: Create, ID: id, Payload: product(id, "3")}:
						case <-ctx.Done():
							return
						}
						if i == 25 {
							time.AfterFunc(50*time.Millisecond, cancel)
						}
					}
				}()
				o := applyChan(t, ctx, s.sink, ch)
				if !errors.Is(o.err, context.Canceled) {
					t.Errorf("Apply returned %v, want context.Canceled", o.err)
				}
				if o.took > 5*time.Second {
					t.Errorf("Apply took %s after cancellation", o.took)
				}
				got := s.catalog()
				for _, r := range o.results {
					if r.Err != nil {
						t.Errorf("%s: %v", r.Op.ID, r.Err)
						continue
					}
					if _, ok := got[r.Op.ID]; !ok {
						t.Errorf("product %q acknowledged but not in the catalog", r.Op.ID)
					}
				}
			})
		})
	}
}

func payloads(ops []Op) map[string][]byte {
	m := map[string][]byte{}
	for _, op := range ops {
		m[op.ID] = op.Payload
	}
	return m
}

// wantAllAcked checks that every op was acknowledged, without error, with its Ref.
func wantAllAcked(t *testing.T, o outcome, ops []Op) {
	t.Helper()
	if len(o.results) != len(ops) {
		t.Errorf("got %d acks, want %d", len(o.results), len(ops))
	}
	for _, op := range ops {
		rs := o.byID[op.ID]
		if len(rs) != 1 {
			t.Errorf("product %q acknowledged %d times, want once", op.ID, len(rs))
			continue
		}
		if rs[0].Err != nil {
			t.Errorf("product %q: %v", op.ID, rs[0].Err)
		}
		if rs[0].Op.Ref != op.Ref || rs[0].Op.Kind != op.Kind {
			t.Errorf("product %q: ack carries op %v/%v, want %v/%v", op.ID, rs[0].Op.Kind, rs[0].Op.Ref, op.Kind, op.Ref)
		}
	}
}
