package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/feedsync/feedsync/store"
)

// A state file damaged under a running daemon (here: truncated, so that
// reading it faults) fails the runs of every feed, with the message in the
// log, /healthz and the metrics, and the daemon lives on.
func TestDaemonDamagedStateFailsRunsAndLivesOn(t *testing.T) {
	shop, books := newFeedServer(t, "shop.xml"), newFeedServer(t, "books.csv")
	td := startDaemon(t, fmt.Sprintf("  - {name: shop, url: %q, policy: parent, schedule: \"@every 1h\"}\n  - {name: books, url: %q, policy: variant, schedule: \"@every 1h\"}\n", shop.URL, books.URL), true, nil)
	eventually(t, 20*time.Second, "the first runs", func() bool {
		return td.runs("shop", ResultSuccess) == 1 && td.runs("books", ResultSuccess) == 1
	})
	eventually(t, 5*time.Second, "the first runs to end", func() bool {
		for _, f := range td.Status().Feeds {
			if f.Running {
				return false
			}
		}
		return true
	})

	if err := os.Truncate(filepath.Join(td.dir, "state.db"), 2*int64(os.Getpagesize())); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		td.runFeed("shop", "test")
		td.runFeed("books", "test")
	}

	for _, feed := range []string{"shop", "books"} {
		if n := td.runs(feed, ResultFailure); n != 2 {
			t.Errorf("%s: %d failed runs, want 2", feed, n)
		}
	}
	h := td.Health()
	if h.Status != "failing" || len(h.Failing) != 2 {
		t.Fatalf("health %+v, want both feeds failing", h)
	}
	for _, f := range h.Failing {
		if !strings.Contains(f.Error, "state file "+filepath.Join(td.dir, "state.db")+" is damaged (") {
			t.Errorf("%s fails with %q, want the damaged state file named", f.Feed, f.Error)
		}
	}
	if n := len(td.log.lines("error", "")); n != 3 {
		t.Errorf("%d error lines, want 3 (once the damage, once each feed's first failure):\n%s", n, td.log)
	}
	if lines := td.log.lines("error", "the state file is damaged: every feed fails until feedsync is stopped, the file restored from a backup (or moved aside to start afresh) and feedsync started again"); len(lines) != 1 {
		t.Errorf("%d lines on the damage, want 1:\n%s", len(lines), td.log)
	} else if e, _ := lines[0]["error"].(string); !strings.Contains(e, "is damaged (") {
		t.Errorf("the damage line's error is %q", e)
	}
	if _, err := td.opts.DB.Meta("shop"); !errors.Is(err, store.ErrDamaged) {
		t.Errorf("the store after the damage: %v, want ErrDamaged", err)
	}
	if err := td.stop(t); err != nil {
		t.Errorf("stop: %v", err)
	}
}
