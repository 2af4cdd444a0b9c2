package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/feedsync/feedsync/config"
	"github.com/feedsync/feedsync/tree"

	"github.com/rs/zerolog"

	"github.com/feedsync/feedsync/feed"
	"github.com/feedsync/feedsync/push"
	"github.com/feedsync/feedsync/store"
)

// lostAcksSink applies every operation to the catalog but acknowledges none
// and then fails: what the state sees of a process killed after the catalog
// took its operations and before their acknowledgements were committed.
type lostAcksSink struct{ *memorySink }

func (s lostAcksSink) Apply(ctx context.Context, ops <-chan push.Op, ack func(push.Result)) error {
	err := s.memorySink.Apply(ctx, ops, func(push.Result) {})
	if err != nil {
		return err
	}
	return errors.New("killed before the acknowledgements were committed")
}

// expectedCatalog is what a first sync of feedXML into an empty catalog
// gives: the catalog a clean run must converge to.
func expectedCatalog(t *testing.T, fc config.Feed, feedXML string) map[string]map[string]any {
	t.Helper()
	h := newHarness(t)
	h.fc.Policy, h.fc.OnMissing, h.fc.ProductID, h.fc.Fields = fc.Policy, fc.OnMissing, fc.ProductID, fc.Fields
	h.write(feedXML)
	h.mustSync()
	return h.sink.catalog
}

func assertCatalog(t *testing.T, got, want map[string]map[string]any) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	n := 0
	for id, w := range want {
		if g := got[id]; !reflect.DeepEqual(g, w) {
			if n++; n <= 5 {
				t.Errorf("product %s: catalog has %v, feed says %v", id, g, w)
			}
		}
	}
	for id, g := range got {
		if _, ok := want[id]; !ok {
			if n++; n <= 5 {
				t.Errorf("product %s is in the catalog (%v) but not in the feed", id, g)
			}
		}
	}
	t.Errorf("%d products differ from the feed", n)
}

// versionB changes every price of a, drops three products and adds three.
func versionB(a []item) []item {
	var b []item
	for i, it := range a {
		if i%10 == 3 {
			continue
		}
		it.price = fmt.Sprintf("%d.99 EUR", 100+i)
		b = append(b, it)
	}
	for i := 0; i < 3; i++ {
		b = append(b, item{id: fmt.Sprintf("NEW%d", i), title: "New", price: "1.00 EUR"})
	}
	return b
}

// Case 1 of the convergence issue: operations the catalog applied without
// their acknowledgement reaching the state, then the feed goes back to the
// bytes last committed. The uncertain products must be sent again.
func TestLostAcknowledgementsThenRevertConverges(t *testing.T) {
	for _, onMissing := range []string{config.OnMissingDelete, config.OnMissingUnavailable} {
		t.Run(onMissing, func(t *testing.T) {
			h := newHarness(t)
			h.fc.OnMissing, h.fc.MaxDelete = onMissing, config.MustMaxDelete("50%")
			a := catalogOf(30)
			feedA := rss(a...)
			h.write(feedA)
			h.mustSync()

			h.write(rss(versionB(a)...))
			s := &Syncer{DB: h.db, Sink: lostAcksSink{h.sink}}
			if _, err := s.Sync(context.Background(), &h.fc, Options{Mode: ModeSync, Log: zerolog.Nop()}); err == nil {
				t.Fatal("the killed run reported success")
			}
			if got := h.sink.catalog["P000"]["price"]; fmt.Sprint(got) != "100.99" {
				t.Fatalf("the killed run did not reach the catalog (P000 price %v); the test proves nothing", got)
			}

			h.write(feedA)
			sum := h.mustSync()
			want := expectedCatalog(t, h.fc, feedA)
			if onMissing == config.OnMissingUnavailable {
				// Products that were only ever in B may stay, marked out of stock.
				for i := 0; i < 3; i++ {
					id := fmt.Sprintf("NEW%d", i)
					if p, ok := h.sink.catalog[id]; ok {
						if p["availability"] != "out_of_stock" {
							t.Errorf("%s: %v, want it gone or out_of_stock", id, p)
						}
						want[id] = p
					}
				}
			}
			assertCatalog(t, h.sink.catalog, want)
			if sum.Fetch == FetchUnchangedBody {
				t.Errorf("the run after an unfinished one took the unchanged-body shortcut")
			}
			// Settled: the next run sends nothing.
			h.sink.takeOps()
			if s := h.mustSync(); s.Created+s.Updated+s.Deleted+s.Unavailable != 0 || len(h.sink.takeOps()) != 0 {
				t.Errorf("a run after convergence sent operations: %+v", s)
			}
			var uncertain int
			h.db.Each("shop", func(e store.Entry) error {
				if e.Uncertain {
					uncertain++
				}
				return nil
			})
			if uncertain != 0 {
				t.Errorf("%d products still uncertain after a clean run", uncertain)
			}
		})
	}
}

// Case 2: a run that failed after pushing (here: one product rejected) must
// not leave the unchanged-body shortcut pointing at the bytes of the run
// before it.
func TestFailedRunClearsTheShortcuts(t *testing.T) {
	h := newHarness(t)
	a := catalogOf(20)
	feedA := rss(a...)
	h.write(feedA)
	h.mustSync()

	b := append([]item(nil), a...)
	for i := range b {
		b[i].price = "99.00 EUR"
	}
	h.write(rss(b...))
	h.sink.reject["P007"] = true
	if _, err := h.run(ModeSync, false); err == nil {
		t.Fatal("a run with a rejected product succeeded")
	}
	delete(h.sink.reject, "P007")

	h.write(feedA)
	sum := h.mustSync()
	if sum.Fetch == FetchUnchangedBody {
		t.Fatalf("the shortcut trusted a body whose last sync did not finish: %+v", sum)
	}
	assertCatalog(t, h.sink.catalog, expectedCatalog(t, h.fc, feedA))
}

// Cases 2 and 3: guards run on the whole diff before anything is sent.
func TestRefusedRunSendsNothing(t *testing.T) {
	t.Run("max_delete", func(t *testing.T) {
		h := newHarness(t)
		h.fc.OnMissing = config.OnMissingDelete
		a := catalogOf(40)
		feedA := rss(a...)
		h.write(feedA)
		h.mustSync()
		h.sink.takeOps()

		// B: every price changed, 55% of the items gone.
		var b []item
		for i, it := range a {
			if i < 22 {
				continue
			}
			it.price = "1.00 EUR"
			b = append(b, it)
		}
		h.write(rss(b...))
		_, err := h.run(ModeSync, false)
		if !errors.Is(err, ErrTooManyDeletes) {
			t.Fatalf("got %v, want ErrTooManyDeletes", err)
		}
		if ops := h.sink.takeOps(); len(ops) != 0 {
			t.Fatalf("a refused run sent %d operations (first: %s %s)", len(ops), ops[0].Kind, ops[0].ID)
		}
		h.write(feedA)
		h.mustSync()
		assertCatalog(t, h.sink.catalog, expectedCatalog(t, h.fc, feedA))
	})
	t.Run("policy switch", func(t *testing.T) {
		h := newHarness(t)
		h.fc.Policy, h.fc.OnMissing = "parent", config.OnMissingDelete
		var items []item
		for g := 0; g < 10; g++ {
			for v := 0; v < 3; v++ {
				items = append(items, item{id: fmt.Sprintf("G%d-%d", g, v), group: fmt.Sprintf("G%d", g), title: "Shirt", price: "10.00 EUR"})
			}
		}
		h.write(rss(items...))
		h.mustSync()
		h.sink.takeOps()

		h.fc.Policy = "variant"
		plan, err := h.run(ModePlan, false)
		if !errors.Is(err, ErrTooManyDeletes) || !strings.Contains(err.Error(), "would be refused: 10 removals") {
			t.Errorf("plan: %v; want the verdict `would be refused: 10 removals …`", err)
		}
		if plan.PolicySwitch != "parent → variant" {
			t.Errorf("plan's policy_switch is %q", plan.PolicySwitch)
		}
		_, err = h.run(ModeSync, false)
		if !errors.Is(err, ErrTooManyDeletes) {
			t.Fatalf("sync: %v, want ErrTooManyDeletes", err)
		}
		if ops := h.sink.takeOps(); len(ops) != 0 {
			t.Fatalf("a refused policy switch sent %d operations: the catalog holds both shapes", len(ops))
		}
		sum, err := h.run(ModeSync, true)
		if err != nil || sum.Created != 30 || sum.Deleted != 10 || sum.PolicySwitch != "parent → variant" {
			t.Fatalf("with --allow-mass-delete: %v %+v", err, sum)
		}
		assertCatalog(t, h.sink.catalog, expectedCatalog(t, h.fc, rss(items...)))
	})
}

// Case 4: two feeds, one catalog, one shared custom_id.
func TestFeedsSharingACatalogNeverShareACustomID(t *testing.T) {
	h := newHarness(t)
	dir := filepath.Dir(h.path)
	fa, fb := h.fc, h.fc
	fa.Name, fa.URL, fa.OnMissing = "a", filepath.Join(dir, "a.xml"), config.OnMissingDelete
	fb.Name, fb.URL, fb.OnMissing, fb.MaxDelete = "b", filepath.Join(dir, "b.xml"), config.OnMissingDelete, config.MustMaxDelete("100%")
	write := func(path string, items ...item) {
		h.path = path
		h.write(rss(items...))
	}
	var problems []feed.Problem
	syncFeed := func(fc *config.Feed) Summary {
		t.Helper()
		s := &Syncer{DB: h.db, Sink: h.sink}
		sum, err := s.Sync(context.Background(), fc, Options{Mode: ModeSync, Log: zerolog.Nop(), Observer: ProblemFunc(func(p feed.Problem) { problems = append(problems, p) })})
		if err != nil {
			t.Fatalf("sync %s: %v", fc.Name, err)
		}
		return sum
	}
	shared := item{id: "X", title: "Feed a's X", price: "5.00 EUR"}
	write(fa.URL, shared, item{id: "A1", title: "a1", price: "1.00 EUR"})
	syncFeed(&fa)
	write(fb.URL, item{id: "X", title: "Feed b's X", price: "7.00 EUR"}, item{id: "B1", title: "b1", price: "1.00 EUR"})
	problems = nil
	sum := syncFeed(&fb)
	if got := h.sink.catalog["X"]["name"]; got != "Feed a's X" {
		t.Errorf("feed b overwrote feed a's product: name %v", got)
	}
	if sum.Skipped != 1 || len(problems) != 1 || !strings.Contains(problems[0].Msg, `feed "a"`) || !strings.Contains(problems[0].Msg, `feed "b"`) || problems[0].Line == 0 {
		t.Errorf("feed b's claim: summary %+v, problems %v; want one skipped product with a problem naming both feeds and the line", sum, problems)
	}

	// b drops X: nothing of a's goes.
	write(fb.URL, item{id: "B1", title: "b1", price: "1.00 EUR"})
	syncFeed(&fb)
	if _, ok := h.sink.catalog["X"]; !ok {
		t.Fatal("feed b deleted feed a's product")
	}
	// a still owns it and still updates it.
	write(fa.URL, item{id: "X", title: "Feed a's X v2", price: "5.00 EUR"}, item{id: "A1", title: "a1", price: "1.00 EUR"})
	if s := syncFeed(&fa); s.Updated != 1 || h.sink.catalog["X"]["name"] != "Feed a's X v2" {
		t.Errorf("feed a's own update: %+v, catalog %v", s, h.sink.catalog["X"])
	}
	// Once a lets X go (deleted), b may claim it.
	write(fa.URL, item{id: "A1", title: "a1", price: "1.00 EUR"})
	fa.MaxDelete = config.MustMaxDelete("100%")
	syncFeed(&fa)
	write(fb.URL, item{id: "X", title: "Feed b's X", price: "7.00 EUR"}, item{id: "B1", title: "b1", price: "1.00 EUR"})
	if s := syncFeed(&fb); s.Created != 1 || h.sink.catalog["X"]["name"] != "Feed b's X" {
		t.Errorf("after a released X, b's claim: %+v, catalog %v", s, h.sink.catalog["X"])
	}
	// plan says so too.
	write(fa.URL, shared, item{id: "A1", title: "a1", price: "1.00 EUR"})
	problems = nil
	s := &Syncer{DB: h.db, Sink: push.NewRecorder(h.sink.Target())}
	if sum, err := s.Sync(context.Background(), &fa, Options{Mode: ModePlan, Log: zerolog.Nop(), Observer: ProblemFunc(func(p feed.Problem) { problems = append(problems, p) })}); err != nil || sum.Skipped != 1 {
		t.Errorf("plan of a's claim on b's X: %v %+v", err, sum)
	}
	if len(problems) != 1 || !strings.Contains(problems[0].Msg, `belongs to feed "b"`) {
		t.Errorf("plan problems: %v", problems)
	}
}

// Resetting a feed gives up its custom_ids.
func TestResetReleasesOwnership(t *testing.T) {
	h := newHarness(t)
	h.write(rss(catalogOf(3)...))
	h.mustSync()
	if o, _ := owner(h.db, h.sink.Target(), "P001"); o != "shop" {
		t.Fatalf("owner of P001: %q", o)
	}
	if err := h.db.Reset("shop"); err != nil {
		t.Fatal(err)
	}
	if o, _ := owner(h.db, h.sink.Target(), "P001"); o != "" {
		t.Errorf("owner of P001 after reset: %q", o)
	}
}

// Case 8 at the engine: a CSV cut inside a quoted field removes nothing.
func TestCSVCutInsideAQuotedFieldRemovesNothing(t *testing.T) {
	h := newHarness(t)
	h.fc.OnMissing, h.fc.MaxDelete = config.OnMissingDelete, config.MustMaxDelete("50%")
	h.path = strings.TrimSuffix(h.path, ".xml") + ".csv"
	h.fc.URL = h.path
	var b strings.Builder
	b.WriteString("id,title,description,link,price,availability\n")
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&b, "P%d,Product %d,\"A long, quoted\ndescription\",https://example.com/%d,10.00 EUR,in stock\n", i, i, i)
	}
	full := b.String()
	h.write(full)
	h.mustSync()
	h.sink.takeOps()
	cut := full[:strings.LastIndex(full, "A long")+3]
	h.write(cut)
	_, err := h.run(ModeSync, false)
	if err == nil {
		t.Fatal("a CSV cut inside a quoted field synced as a shorter feed")
	}
	for _, op := range h.sink.takeOps() {
		t.Errorf("sent %s %s", op.Kind, op.ID)
	}
	if n, _ := h.db.Stored("shop"); n != 10 {
		t.Errorf("%d records, want 10", n)
	}
}

// An id too long for a state key is skipped with a problem; the run
// succeeds and the next one sends nothing.
func TestOverlongIDIsSkipped(t *testing.T) {
	h := newHarness(t)
	items := catalogOf(5)
	items = append(items, item{id: strings.Repeat("x", 40<<10), title: "Long", price: "1.00 EUR"})
	h.write(rss(items...))
	sum, err := h.run(ModeSync, false)
	if err != nil || sum.Created != 5 || sum.Skipped != 1 {
		t.Fatalf("got %v, %+v; want 5 created and the long id skipped", err, sum)
	}
	h.sink.takeOps()
	if s := h.mustSync(); s.Created+s.Updated != 0 || len(h.sink.takeOps()) != 0 {
		t.Errorf("second run sent operations: %+v", s)
	}
}

// The journal: a run that stops leaves its unresolved entries, which the
// next run folds into uncertain records; plan sees them without writing.
func TestUnfinishedRunLeavesUncertainProducts(t *testing.T) {
	h := newHarness(t)
	h.write(rss(catalogOf(10)...))
	s := &Syncer{DB: h.db, Sink: lostAcksSink{h.sink}}
	if _, err := s.Sync(context.Background(), &h.fc, Options{Mode: ModeSync, Log: zerolog.Nop()}); err == nil {
		t.Fatal("no error")
	}
	un, err := h.db.Unresolved("shop")
	if err != nil || len(un) != 10 {
		t.Fatalf("unresolved: %v %v; want the 10 products sent", len(un), err)
	}
	plan, err := h.run(ModePlan, false)
	if err != nil || plan.Created != 10 {
		t.Errorf("plan: %v %+v; want 10 creates", err, plan)
	}
	if un, _ := h.db.Unresolved("shop"); len(un) != 10 {
		t.Errorf("plan changed the journal")
	}
	sum := h.mustSync()
	if sum.Created != 10 {
		t.Errorf("sync: %+v; want the 10 uncertain products sent", sum)
	}
	if un, _ := h.db.Unresolved("shop"); len(un) != 0 {
		t.Errorf("%d journal ids left after a clean run", len(un))
	}
	raw, _ := json.Marshal(sum)
	if strings.Contains(string(raw), "policy_switch") {
		t.Errorf("summary of a run without a policy switch: %s", raw)
	}
}

// A product whose row the reader skips (here: not UTF-8) is not removed:
// bad input loses nothing.
func TestSkippedRowIsNotRemoved(t *testing.T) {
	h := newHarness(t)
	h.fc.OnMissing = config.OnMissingDelete
	h.path = strings.TrimSuffix(h.path, ".xml") + ".csv"
	h.fc.URL = h.path
	head := "id,title,description,link,price,availability\n"
	row := func(id, title string) string {
		return id + "," + title + ",About it,https://example.com/" + id + ",10.00 EUR,in stock\n"
	}
	h.write(head + row("P1", "Kettle") + row("P2", "Teapot") + row("P3", "Mug"))
	h.mustSync()
	h.sink.takeOps()
	h.write(head + row("P1", "Kettle") + row("P2", "Tea\xe8pot") + row("P3", "Mug"))
	sum := h.mustSync()
	if sum.Skipped != 1 || sum.Deleted != 0 {
		t.Errorf("summary %+v; want the bad row skipped and nothing deleted", sum)
	}
	if _, ok := h.sink.catalog["P2"]; !ok {
		t.Error("P2 was removed because its row could not be read")
	}
}

// owner is the feed that owns id in target ("" when none does).
func owner(db *store.DB, target, id string) (string, error) {
	o, err := db.Owners("", target, []string{id})
	if err != nil {
		return "", err
	}
	return o[0], nil
}

// ProblemFunc is an Observer that hands each problem to the func and
// watches nothing else.
type ProblemFunc func(feed.Problem)

func (f ProblemFunc) Problem(p feed.Problem)   { f(p) }
func (ProblemFunc) Read(int)                   {}
func (ProblemFunc) Built(*tree.Builder)        {}
func (ProblemFunc) Product(*tree.Product)      {}
func (ProblemFunc) Truncated(string, []string) {}
func (ProblemFunc) Pushed(int)                 {}
