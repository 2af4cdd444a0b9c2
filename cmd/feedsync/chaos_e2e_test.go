package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/feedsync/feedsync/push/pushtest"
)

// The convergence chaos test: a model of a shop's feed moves through random
// versions (price and title changes, products coming and going, reverts to
// the exact bytes of an earlier version, and versions that lose most of
// their products, which a guard must refuse without sending anything). The
// real binary syncs each version and is SIGKILLed at random moments, against
// a catalog that fails at random (5xx, 429, dropped connections, requests
// applied but answered 504 or hung up on). Then faults stop, and after one
// clean run the catalog must equal the final feed: for the JSONL sink byte
// for byte (the file replayed), for User.com's REST and import modes field
// for field; a further run sends nothing.
//
// `make test` runs a short seeded version; `make chaos` runs hundreds of
// steps (FEEDSYNC_CHAOS_STEPS, FEEDSYNC_CHAOS_SEED).

type chaosProduct struct {
	price int // cents
	rev   int // title revision
}

type chaosModel struct {
	pool     int
	products map[int]chaosProduct // present products by index
	rnd      *rand.Rand
}

func (m *chaosModel) clone() map[int]chaosProduct {
	out := make(map[int]chaosProduct, len(m.products))
	for k, v := range m.products {
		out[k] = v
	}
	return out
}

// mutate changes some prices and titles and lets a few products come and go.
func (m *chaosModel) mutate() {
	for i := 0; i < m.pool; i++ {
		p, ok := m.products[i]
		switch {
		case !ok && m.rnd.Float64() < 0.04:
			m.products[i] = chaosProduct{price: 1000 + m.rnd.IntN(9000)}
		case ok && m.rnd.Float64() < 0.03:
			delete(m.products, i)
		case ok && m.rnd.Float64() < 0.25:
			p.price = 1000 + m.rnd.IntN(9000)
			if m.rnd.IntN(2) == 0 {
				p.rev++
			}
			m.products[i] = p
		}
	}
}

// chaosFeed writes products as an RSS feed; every three ids make a group.
func chaosFeed(products map[int]chaosProduct) []byte {
	ids := make([]int, 0, len(products))
	for i := range products {
		ids = append(ids, i)
	}
	sort.Ints(ids)
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel><title>chaos</title>` + "\n")
	sizes := []string{"S", "M", "L"}
	for _, i := range ids {
		p := products[i]
		fmt.Fprintf(&b, "<item><g:id>P%03d</g:id><g:item_group_id>G%02d</g:item_group_id><g:title>Shirt %d rev %d</g:title>"+
			"<g:description>About shirt %d</g:description><g:link>https://shop.example/p/%d</g:link>"+
			"<g:price>%d.%02d EUR</g:price><g:availability>in stock</g:availability><g:size>%s</g:size></item>\n",
			i, i/3, i, p.rev, i, i, p.price/100, p.price%100, sizes[i%3])
	}
	b.WriteString("</channel></rss>\n")
	return b.Bytes()
}

type chaosSink struct {
	name      string
	catalog   string // the catalog: section of the config
	policy    string
	onMissing string
	fake      *pushtest.Server
	faults    *atomic.Bool
	file      string // JSONL sink path
}

func chaosSteps(t *testing.T) (steps int, seed uint64) {
	steps, seed = 14, 1
	if v := os.Getenv("FEEDSYNC_CHAOS_STEPS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("FEEDSYNC_CHAOS_STEPS=%q", v)
		}
		steps = n
	}
	if v := os.Getenv("FEEDSYNC_CHAOS_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("FEEDSYNC_CHAOS_SEED=%q", v)
		}
		seed = n
	}
	return steps, seed
}

func TestChaosConvergence(t *testing.T) {
	if testing.Short() {
		t.Skip("kills real processes; skipped with -short")
	}
	steps, seed := chaosSteps(t)
	for _, kind := range []string{"jsonl", "rest", "import"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			runChaos(t, kind, steps, seed)
		})
	}
}

func newChaosSink(t *testing.T, kind, dir string, seed uint64) *chaosSink {
	s := &chaosSink{name: kind, faults: &atomic.Bool{}}
	switch kind {
	case "jsonl":
		s.file = filepath.Join(dir, "catalog.jsonl")
		s.catalog = fmt.Sprintf("{kind: file, path: %q}", s.file)
		s.policy, s.onMissing = "parent", "delete"
		return s
	case "rest":
		s.policy, s.onMissing = "variant", "delete"
	case "import":
		s.policy, s.onMissing = "parent", "unavailable"
	}
	rnd := rand.New(rand.NewPCG(seed, 7))
	faults := []pushtest.Fault{pushtest.TooMany, pushtest.Internal, pushtest.BadGateway, pushtest.GatewayTimeout, pushtest.Drop, pushtest.DropAfter, pushtest.Slow}
	var mu = make(chan struct{}, 1)
	s.fake = pushtest.NewServer(pushtest.Options{Seed: seed, SlowDelay: 20 * time.Millisecond, ImportPolls: 1,
		Script: func(n int, r *http.Request) pushtest.Fault {
			if !s.faults.Load() {
				return pushtest.None
			}
			mu <- struct{}{}
			defer func() { <-mu }()
			if rnd.Float64() < 0.04 {
				return faults[rnd.IntN(len(faults))]
			}
			return pushtest.None
		}})
	t.Cleanup(s.fake.Close)
	mode := kind
	s.catalog = fmt.Sprintf("{kind: usercom, url: %q, mode: %s, rate: 100000, concurrency: 4, timeout: 2s, retries: 0}", s.fake.URL, mode)
	return s
}

func (s *chaosSink) config(dir, state string) string {
	cfg := filepath.Join(dir, "feedsync.yaml")
	body := fmt.Sprintf("state: %s\nlog: {level: warn, format: json}\ncatalog: %s\nfeeds:\n  - {name: shop, url: feed.xml, policy: %s, on_missing: %s, max_delete: 30%%}\n",
		state, s.catalog, s.policy, s.onMissing)
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		panic(err)
	}
	return cfg
}

// sent is what the catalog has received so far: requests, or the file's size.
func (s *chaosSink) sent() int {
	if s.fake != nil {
		return len(s.fake.Requests())
	}
	st, err := os.Stat(s.file)
	if err != nil {
		return 0
	}
	return int(st.Size())
}

// snapshot is the catalog's content: id → canonical product.
func (s *chaosSink) snapshot(t *testing.T) map[string]string {
	t.Helper()
	if s.fake != nil {
		out := map[string]string{}
		for id, fields := range s.fake.Catalog() {
			b, _ := json.Marshal(fields) // sorted keys
			out[id] = string(b)
		}
		return out
	}
	return replayJSONL(t, s.file)
}

// replayJSONL applies the sink file's lines in order; every line must be a
// whole JSON operation.
func replayJSONL(t *testing.T, path string) map[string]string {
	t.Helper()
	out := map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	n := 0
	for sc.Scan() {
		n++
		var line struct {
			Op      string          `json:"op"`
			ID      string          `json:"id"`
			Product json.RawMessage `json:"product"`
			Deal    json.RawMessage `json:"deal"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("%s line %d is not a whole operation (%v): %.120q", path, n, err, sc.Text())
		}
		switch line.Op {
		case "upsert":
			out[line.ID] = string(line.Product)
		case "delete":
			delete(out, line.ID)
		case "deal":
			out["deal:"+line.ID] = string(line.Deal) // orders' deals: never deleted
		default:
			t.Fatalf("%s line %d: op %q", path, n, line.Op)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func runChaos(t *testing.T, kind string, steps int, seed uint64) {
	dir := t.TempDir()
	sink := newChaosSink(t, kind, dir, seed)
	cfg := sink.config(dir, "state.db")
	env := []string{"USERCOM_API_TOKEN=" + pushtest.Token}
	feedPath := filepath.Join(dir, "feed.xml")
	rnd := rand.New(rand.NewPCG(seed, uint64(len(kind))))
	m := &chaosModel{pool: 90, products: map[int]chaosProduct{}, rnd: rnd}
	for i := 0; i < 60; i++ {
		m.products[i] = chaosProduct{price: 1000 + i}
	}
	var versions [][]byte
	typical := 150 * time.Millisecond
	var kills, refusals, reverts, failures, reframed, recognised int
	for step := 0; step < steps; step++ {
		var data []byte
		refusal := false
		switch r := rnd.Float64(); {
		case len(versions) > 1 && r < 0.25:
			data = versions[rnd.IntN(len(versions))] // back to earlier bytes
			reverts++
		case r < 0.35 && step > 0:
			// Most products gone: a guard must refuse it, sending nothing.
			// Whole groups go, so that parent products go too.
			gone := m.clone()
			drop := map[int]bool{}
			for g := 0; g*3 < m.pool; g++ {
				drop[g] = rnd.Float64() < 0.6
			}
			for id := range gone {
				if drop[id/3] {
					delete(gone, id)
				}
			}
			data, refusal = chaosFeed(gone), true
		default:
			m.mutate()
			data = chaosFeed(m.products)
			versions = append(versions, data)
		}
		if step > 0 && rnd.Float64() < 0.4 {
			// The same items in another frame: the body's hash differs, so
			// only the items' own hashes can recognise the feed.
			data = bytes.Replace(data, []byte("<title>chaos</title>"), fmt.Appendf(nil, "<title>chaos</title><lastBuildDate>step %d</lastBuildDate>", step), 1)
			reframed++
		}
		if err := os.WriteFile(feedPath, data, 0o644); err != nil {
			t.Fatal(err)
		}
		// No fault on the first run: it makes the state the guards judge
		// the next versions by (a first run stopped by a fault leaves too
		// few products for "most gone" to be refused).
		fault := rnd.Float64() < 0.5
		sink.faults.Store(fault && step > 0)
		before := sink.sent()
		kill := step > 0 && rnd.Float64() < 0.5
		delay := time.Duration(rnd.Int64N(int64(typical) + 1))
		start := time.Now()
		code, stdout, stderr, killed := runMaybeKilled(t, env, delay, kill, "sync", "-c", cfg, "--json")
		if strings.Contains(stdout, `"recognised":`) && !strings.Contains(stdout, `"recognised":0`) {
			recognised++
		}
		if !killed {
			typical = (typical + time.Since(start)) / 2
		}
		switch {
		case killed:
			kills++
		case code == 1 && strings.Contains(stderr, "refused: "):
			// The feed version at hand, or the drift of several killed runs,
			// would remove more than max_delete.
			refusals++
			if after := sink.sent(); after != before {
				t.Errorf("step %d: a refused run sent to the catalog (%d → %d)", step, before, after)
			}
		case refusal:
			t.Errorf("step %d: a feed that lost most of its products was not refused: exit %d\n%s", step, code, stderr)
		case code != 0:
			failures++ // a catalog fault stopped the run
			if !sink.faults.Load() {
				t.Errorf("step %d: sync failed without a fault: exit %d\n%s", step, code, stderr)
			}
		}
	}

	// The final feed: the last version the model reached, or an earlier one.
	final := chaosFeed(m.products)
	if len(versions) > 0 && rnd.IntN(3) == 0 {
		final = versions[rnd.IntN(len(versions))]
	}
	if err := os.WriteFile(feedPath, final, 0o644); err != nil {
		t.Fatal(err)
	}
	sink.faults.Store(false)
	if r := runBinary(t, env, "sync", "-c", cfg, "--allow-mass-delete"); r.code != 0 {
		t.Fatalf("the clean run: exit %d\n%s", r.code, r.stderr)
	}
	got := sink.snapshot(t)
	want := expectedChaosCatalog(t, kind, final)
	compareChaos(t, sink, got, want)

	before := sink.sent()
	if r := runBinary(t, env, "sync", "-c", cfg); r.code != 0 {
		t.Fatalf("the run after the clean one: exit %d\n%s", r.code, r.stderr)
	}
	if after := sink.sent(); after != before {
		t.Errorf("the run after convergence sent to the catalog (%d → %d)", before, after)
	}
	t.Logf("%s: %d steps (seed %d): %d killed, %d refused by a guard, %d reverts, %d reframed, %d recognised by the items' bytes, %d stopped by a catalog fault; %d products converged",
		kind, steps, seed, kills, refusals, reverts, reframed, recognised, failures, len(want))
}

// runMaybeKilled runs the binary, SIGKILLing it after delay when kill.
func runMaybeKilled(t *testing.T, env []string, delay time.Duration, kill bool, args ...string) (code int, stdout, stderr string, killed bool) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var outb, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &outb, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	if kill {
		select {
		case err = <-done:
		case <-time.After(delay):
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			return -1, outb.String(), errb.String(), true
		}
	} else {
		select {
		case err = <-done:
		case <-time.After(2 * time.Minute):
			cmd.Process.Signal(syscall.SIGKILL)
			t.Fatalf("sync did not finish in 2 minutes\n%s", errb.String())
		}
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), outb.String(), errb.String(), false
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, outb.String(), errb.String(), false
}

// expectedChaosCatalog is what one sync of feed into an empty catalog of the
// same kind holds.
func expectedChaosCatalog(t *testing.T, kind string, feed []byte) map[string]string {
	t.Helper()
	dir := t.TempDir()
	sink := newChaosSink(t, kind, dir, 0)
	cfg := sink.config(dir, "fresh.db")
	if err := os.WriteFile(filepath.Join(dir, "feed.xml"), feed, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runBinary(t, []string{"USERCOM_API_TOKEN=" + pushtest.Token}, "sync", "-c", cfg); r.code != 0 {
		t.Fatalf("fresh sync: exit %d\n%s", r.code, r.stderr)
	}
	return sink.snapshot(t)
}

func compareChaos(t *testing.T, sink *chaosSink, got, want map[string]string) {
	t.Helper()
	bad := 0
	report := func(format string, args ...any) {
		if bad++; bad <= 8 {
			t.Errorf(format, args...)
		}
	}
	for id, w := range want {
		if g, ok := got[id]; !ok {
			report("%s: product %s is missing from the catalog", sink.name, id)
		} else if g != w {
			report("%s: product %s differs from the feed:\n catalog %s\n feed    %s", sink.name, id, g, w)
		}
	}
	for id, g := range got {
		if _, ok := want[id]; ok {
			continue
		}
		// on_missing unavailable keeps a product that left, out of stock.
		if sink.onMissing == "unavailable" && strings.Contains(g, `"availability":"out_of_stock"`) {
			continue
		}
		report("%s: product %s is in the catalog but not in the feed: %s", sink.name, id, g)
	}
	if bad > 0 {
		t.Errorf("%s: %d products differ between the catalog and the final feed", sink.name, bad)
	}
}
