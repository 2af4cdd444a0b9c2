package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/feedsync/feedsync/internal/redact"
	"github.com/feedsync/feedsync/push"
	"github.com/feedsync/feedsync/store"
)

// rejectingSink rejects every product with a message that echoes a secret,
// then stops the run with an error that names it too.
type rejectingSink struct {
	*memorySink
	secret string
}

var errAuthEcho = errors.New("auth echo")

func (r *rejectingSink) Apply(ctx context.Context, ops <-chan push.Op, ack func(push.Result)) error {
	n := 0
	for op := range ops {
		if n++; n > 3 {
			return fmt.Errorf("catalog answered 500 (you sent Authorization: Token %s): %w", r.secret, errAuthEcho)
		}
		ack(push.Result{Op: op, Err: &push.RejectedError{Status: 400, Msg: `{"detail":"bad; header Token ` + r.secret + `"}`}})
	}
	return nil
}

// What a sync stores — each product's last error, the feed's last error,
// the run history — and what it returns passes through Syncer.Redact.
func TestSyncerRedactScrubsWhatIsStoredAndReturned(t *testing.T) {
	const secret = "s3cr3t&<token>-0123456789"
	h := newHarness(t)
	h.write(rss(catalogOf(10)...))
	red := redact.New(secret)
	s := &Syncer{DB: h.db, Sink: &rejectingSink{memorySink: h.sink, secret: secret}, Redact: red.String}
	sum, err := s.Sync(context.Background(), &h.fc, Options{Mode: ModeSync, Log: zerolog.Nop()})
	if err == nil {
		t.Fatal("the run succeeded")
	}
	if !errors.Is(err, errAuthEcho) {
		t.Errorf("errors.Is no longer sees through the returned error: %v", err)
	}
	leaks := func(what, s string) {
		t.Helper()
		for _, f := range append(redact.Forms(secret), "0123456789") {
			if strings.Contains(s, f) {
				t.Errorf("%s holds the secret (%q): %s", what, f, s)
			}
		}
	}
	leaks("the returned error", err.Error())
	leaks("Summary.Error", sum.Error)
	if !strings.Contains(sum.Error, redact.Mask) {
		t.Errorf("Summary.Error does not show the mask: %s", sum.Error)
	}
	failing := 0
	if err := h.db.Each(h.fc.Name, func(e store.Entry) error {
		if e.LastError != "" {
			failing++
			leaks("product "+e.ID+"'s last error", e.LastError)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if failing != 3 {
		t.Errorf("%d products with an error, want 3", failing)
	}
	meta, err := h.db.Meta(h.fc.Name)
	if err != nil {
		t.Fatal(err)
	}
	if meta.LastError == "" {
		t.Error("no last error recorded for the feed")
	}
	leaks("the feed's last error", meta.LastError)
	runs, err := h.db.Runs(h.fc.Name, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 {
		t.Fatalf("%d runs recorded, want 1", len(runs))
	}
	leaks("the run history", string(runs[0]))

	// Without Redact nothing changes: the same run stores the secret.
	h2 := newHarness(t)
	h2.write(rss(catalogOf(10)...))
	s2 := &Syncer{DB: h2.db, Sink: &rejectingSink{memorySink: h2.sink, secret: secret}}
	sum2, _ := s2.Sync(context.Background(), &h2.fc, Options{Mode: ModeSync, Log: zerolog.Nop()})
	if !strings.Contains(sum2.Error, secret) {
		t.Errorf("without Redact the error changed: %s", sum2.Error)
	}
}
