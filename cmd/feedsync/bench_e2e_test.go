//go:build benche2e

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBenchE2E is `make bench-e2e`: the whole sync of the 1M-item synthetic
// feeds, timed as a user would time it (the real binary, wall clock, peak
// RSS from the kernel), against the targets of the end-to-end speed issue.
// It needs testdata/bench/feed-1m.xml and feed-1m.tsv (make bench-e2e
// generates them). BENCH_RUNS sets how many runs each median takes (3).
func TestBenchE2E(t *testing.T) {
	benchDir := filepath.Join("..", "..", "testdata", "bench")
	xmlFeed, tsvFeed := filepath.Join(benchDir, "feed-1m.xml"), filepath.Join(benchDir, "feed-1m.tsv")
	for _, f := range []string{xmlFeed, tsvFeed} {
		if _, err := os.Stat(f); err != nil {
			t.Skipf("%s is missing: run make bench-e2e", f)
		}
	}
	runs := 3
	if n, err := fmt.Sscan(os.Getenv("BENCH_RUNS"), &runs); n != 1 || err != nil {
		runs = 3
	}
	dir := t.TempDir()
	xmlChanged := filepath.Join(dir, "feed-1m-changed.xml")
	wantXML := changeOnePercent(t, xmlFeed, xmlChanged)
	// The feed with white space added inside its first item: the same
	// products, but the first item's bytes differ, so the feed is not
	// recognised by its items' bytes and the whole pipeline parses it.
	xmlSpaced := filepath.Join(dir, "feed-1m-spaced.xml")
	spaceFirstItem(t, xmlFeed, xmlSpaced)

	// The same feed over HTTP from a local server that sends no
	// validators (no ETag, no Last-Modified), as many feed hosts do: only
	// the body's hash can tell that it did not change.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(xmlFeed)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer f.Close()
		st, _ := f.Stat()
		w.Header().Set("Content-Length", fmt.Sprint(st.Size()))
		io.Copy(w, f)
	}))
	defer srv.Close()

	var rows []benchRow
	scenario := func(name string, feedPath string, args []string, fresh bool, target float64, rssTarget int64, check func(benchSummary)) {
		var tm timings
		url := mustAbs(feedPath)
		if strings.HasPrefix(name, "http-") {
			url = srv.URL + "/feed.xml"
		}
		for i := 0; i < runs; i++ {
			work := filepath.Join(dir, name)
			if fresh {
				os.RemoveAll(work)
			}
			os.MkdirAll(work, 0o755)
			cfg := filepath.Join(work, "feedsync.yaml")
			writeBenchConfig(t, cfg, url)
			if !fresh && i == 0 {
				// The state a no-change run starts from: one full sync.
				if r := runTimed(t, cfg, "sync"); r.err != nil {
					t.Fatalf("%s: priming sync: %v", name, r.err)
				}
			}
			r := runTimed(t, cfg, append([]string{"sync"}, args...)...)
			if r.err != nil {
				t.Fatalf("%s: %v\n%s", name, r.err, r.stderr)
			}
			tm.add(r)
			if check != nil {
				check(r.sum)
			}
		}
		rows = append(rows, tm.row(name, feedPath, target, rssTarget))
	}

	scenario("xml-first-sync", xmlFeed, []string{"--json"}, true, 20, 0, func(s benchSummary) {
		if s.Created != s.Products || s.Products == 0 {
			t.Errorf("first sync: %+v", s)
		}
	})
	scenario("xml-no-change", xmlFeed, []string{"--json", "--full-scan"}, false, 12, 512, func(s benchSummary) {
		if s.Created+s.Updated != 0 || s.Unchanged != s.Products || s.Recognised != s.Items {
			t.Errorf("no-change sync sent products, or did not recognise the feed: %+v", s)
		}
	})
	benchParsed(t, dir, xmlFeed, xmlSpaced, runs, &rows)
	unchangedBody := func(s benchSummary) {
		if s.Fetch != "unchanged-body" || s.Created+s.Updated != 0 || s.Unchanged != s.Products {
			t.Errorf("unchanged body: %+v", s)
		}
	}
	scenario("xml-unchanged-file", xmlFeed, []string{"--json"}, false, 1.2, 64, unchangedBody)
	scenario("http-unchanged", xmlFeed, []string{"--json"}, false, 0, 64, unchangedBody)
	scenario("tsv-no-change", tsvFeed, []string{"--json", "--full-scan"}, false, 8, 512, func(s benchSummary) {
		if s.Created+s.Updated != 0 {
			t.Errorf("no-change TSV sync sent products: %+v", s)
		}
	})
	benchChanged(t, dir, xmlFeed, xmlChanged, wantXML, runs, &rows)

	fmt.Println()
	fmt.Println("scenario            wall s   target   CPU-s    MB/s   items/s    peak RSS MB  target  result")
	for _, r := range rows {
		ok := "ok"
		if r.target > 0 && r.wall > r.target || r.rssTarget > 0 && r.rssMB > r.rssTarget {
			ok = "MISSED"
		}
		tgt, rtgt := "-", "-"
		if r.target > 0 {
			tgt = fmt.Sprintf("≤%.0f", r.target)
		}
		if r.rssTarget > 0 {
			rtgt = fmt.Sprintf("≤%d", r.rssTarget)
		}
		fmt.Printf("%-18s %7.2f  %7s  %6.2f  %5.0f  %8.0f  %11d  %6s  %s  (%d created, %d updated, %d unchanged)\n",
			r.name, r.wall, tgt, r.cpu, r.mbs, r.items, r.rssMB, rtgt, ok, r.sum.Created, r.sum.Updated, r.sum.Unchanged)
	}
	var noChange, parsed, changed, first float64
	var created, updated int
	for _, r := range rows {
		switch r.name {
		case "xml-first-sync":
			first, created = r.wall, r.sum.Created
		case "xml-no-change":
			noChange = r.wall
		case "xml-parsed":
			parsed = r.wall
		case "xml-1pct-changed":
			changed, updated = r.wall, r.sum.Updated
		}
	}
	// The push time of the changed products, estimated from the first sync:
	// what it spent beyond a no-change run, per product sent (sink write,
	// fsync, state commit). Timings on this VM vary by up to 10% between
	// runs, so the check allows 10% of the no-change time for noise.
	// A changed feed is parsed: its baseline is the parsed no-change run.
	push := 0.0
	if created > 0 {
		push = (first - parsed) / float64(created) * float64(wantXML)
	}
	verdict := "ok"
	if updated != wantXML || changed > parsed+push+0.1*parsed {
		verdict = "MISSED"
	}
	fmt.Printf("1%% changed: %d updates (want %d); %.2f s against %.2f s with no change, parsed, + %.2f s push time (estimated from the first sync's cost per product sent), 10%% noise allowed: %s\n",
		updated, wantXML, changed, parsed, push, verdict)
	fmt.Printf("(median of %d runs each; %s)\n", runs, time.Now().UTC().Format(time.RFC3339))
	sideBySide(xmlFeed, map[string]float64{"recognised": noChange, "parsed": parsed})
}

// benchParsed times no-change runs that parse the whole feed: from the
// state of one feed, a sync of the other, whose first item differs by white
// space only — so its bytes are not recognised, its products are the same,
// and nothing is sent. The runs alternate between the two files, so that
// each one finds the first item other than the state learnt.
func benchParsed(t *testing.T, dir, feedPath, spacedPath string, runs int, rows *[]benchRow) {
	work := filepath.Join(dir, "xml-parsed")
	os.RemoveAll(work)
	os.MkdirAll(work, 0o755)
	cfg := filepath.Join(work, "feedsync.yaml")
	write := func(p string) { writeBenchConfig(t, cfg, mustAbs(p)) }
	write(feedPath)
	if r := runTimed(t, cfg, "sync"); r.err != nil {
		t.Fatalf("priming: %v", r.err)
	}
	var tm timings
	for i := 0; i < runs; i++ {
		if i%2 == 0 {
			write(spacedPath)
		} else {
			write(feedPath)
		}
		r := runTimed(t, cfg, "sync", "--json")
		if r.err != nil {
			t.Fatalf("parsed no-change: %v\n%s", r.err, r.stderr)
		}
		if r.sum.Created+r.sum.Updated != 0 || r.sum.Recognised != 0 || r.sum.Unchanged != r.sum.Products {
			t.Errorf("parsed no-change: %+v; want nothing sent and nothing recognised", r.sum)
		}
		tm.add(r)
	}
	*rows = append(*rows, tm.row("xml-parsed", feedPath, 12, 512))
}

// spaceFirstItem copies an RSS feed with a line break added before the end
// tag of its first item: other bytes, the same products.
func spaceFirstItem(t *testing.T, src, dst string) {
	t.Helper()
	copyFeed(t, src, dst, func(in io.Reader, out io.Writer) error {
		head := make([]byte, 1<<20)
		n, _ := io.ReadFull(in, head)
		head = head[:n]
		i := bytes.Index(head, []byte("</item>"))
		if i < 0 {
			return fmt.Errorf("%s: no </item> in its first MiB", src)
		}
		if _, err := out.Write(append(append(append([]byte(nil), head[:i]...), '\n'), head[i:]...)); err != nil {
			return err
		}
		_, err := io.Copy(out, in)
		return err
	})
}

// writeBenchConfig writes the config of a bench run: one feed, big, at url
// under the parent policy, into the JSONL sink, state beside the config.
func writeBenchConfig(t *testing.T, cfg, url string) {
	t.Helper()
	body := fmt.Sprintf("state: state.db\nlog: {level: warn, format: json}\ncatalog: {kind: file, path: catalog.jsonl}\nfeeds:\n  - {name: big, url: %q, policy: parent}\n", url)
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// copyFeed writes dst from src through edit, which reads in and writes out.
func copyFeed(t *testing.T, src, dst string, edit func(in io.Reader, out io.Writer) error) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(out, 1<<20)
	err = edit(in, w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

// sideBySide runs the Python reference of a no-change sync on the same feed
// (bench/lxml_hash.py: lxml iterparse and SHA-256 per item, $FEEDSYNC_PYTHON
// or python3) and prints the ratio; without lxml it says so and goes on.
func sideBySide(feedPath string, noChange map[string]float64) {
	pythons := []string{os.Getenv("FEEDSYNC_PYTHON")}
	if pythons[0] == "" {
		pythons = []string{"python3", "/usr/bin/python3"} // a virtualenv's python3 may lack Debian's lxml
	}
	var cmd *exec.Cmd
	var out, errb bytes.Buffer
	var err error
	var wall float64
	for _, python := range pythons {
		cmd = exec.Command(python, filepath.Join("..", "..", "bench", "lxml_hash.py"), feedPath)
		out.Reset()
		errb.Reset()
		cmd.Stdout, cmd.Stderr = &out, &errb
		start := time.Now()
		err = cmd.Run()
		wall = time.Since(start).Seconds()
		if err == nil {
			break
		}
	}
	if err != nil {
		fmt.Printf("side by side: the lxml reference did not run (%v: %s); set FEEDSYNC_PYTHON to a python3 with lxml\n", err, bytes.TrimSpace(errb.Bytes()))
		return
	}
	var cpu float64
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
		rss = ru.Maxrss / 1024
	}
	fmt.Printf("side by side: lxml iterparse + SHA-256 per item %.2f s wall, %.1f CPU-s, %d MB (%s)\n", wall, cpu, rss, strings.TrimSpace(out.String()))
	for _, kind := range []string{"recognised", "parsed"} {
		verdict := "ok"
		if wall < 5*noChange[kind] {
			verdict = "MISSED"
		}
		fmt.Printf("  feedsync no change, %s: %.2f s: %.1f× faster (target ≥5×): %s\n", kind, noChange[kind], wall/noChange[kind], verdict)
	}
}

// benchChanged times a sync of a feed where 1% of the products changed,
// from the state of the unchanged feed each time: exactly that many updates.
func benchChanged(t *testing.T, dir, feedPath, changedPath string, want, runs int, rows *[]benchRow) {
	var tm timings
	work := filepath.Join(dir, "xml-1pct")
	for i := 0; i < runs; i++ {
		os.RemoveAll(work)
		os.MkdirAll(work, 0o755)
		cfg := filepath.Join(work, "feedsync.yaml")
		write := func(p string) { writeBenchConfig(t, cfg, mustAbs(p)) }
		write(feedPath)
		if r := runTimed(t, cfg, "sync"); r.err != nil {
			t.Fatalf("priming: %v", r.err)
		}
		write(changedPath)
		r := runTimed(t, cfg, "sync", "--json")
		if r.err != nil {
			t.Fatalf("1%% changed: %v\n%s", r.err, r.stderr)
		}
		if r.sum.Updated != want || r.sum.Created != 0 {
			t.Errorf("1%% changed: %+v; want exactly %d updates", r.sum, want)
		}
		tm.add(r)
	}
	*rows = append(*rows, tm.row("xml-1pct-changed", changedPath, 0, 0))
}

// timings gathers the timed runs of one scenario.
type timings struct {
	walls, cpus []float64
	rss         int64 // KiB, the highest
	last        benchSummary
}

func (tm *timings) add(r timedRun) {
	tm.walls = append(tm.walls, r.wall.Seconds())
	tm.cpus = append(tm.cpus, r.cpu.Seconds())
	tm.rss = max(tm.rss, r.maxRSS)
	tm.last = r.sum
}

// row is the scenario's line: medians, and rates over the feed's size.
func (tm *timings) row(name, feedPath string, target float64, rssTarget int64) benchRow {
	sort.Float64s(tm.walls)
	sort.Float64s(tm.cpus)
	med := tm.walls[len(tm.walls)/2]
	st, _ := os.Stat(feedPath)
	return benchRow{name: name, wall: med, cpu: tm.cpus[len(tm.cpus)/2], mbs: float64(st.Size()) / 1e6 / med, items: float64(tm.last.Items) / med,
		rssMB: tm.rss / 1024, target: target, rssTarget: rssTarget, sum: tm.last}
}

type benchRow struct {
	name             string
	wall, cpu        float64 // median wall time and CPU time (user+system), seconds
	mbs, items       float64
	rssMB, rssTarget int64
	target           float64
	sum              benchSummary
}

type benchSummary struct {
	Items, Products, Created, Updated, Unchanged, Shaped, Recognised int
	Fetch                                                            string
}

type timedRun struct {
	wall   time.Duration
	cpu    time.Duration // user + system
	maxRSS int64         // KiB
	sum    benchSummary
	stderr string
	err    error
}

func runTimed(t *testing.T, cfg string, args ...string) timedRun {
	t.Helper()
	// Each timed run starts with the dirty pages of the runs before it
	// (gigabytes of catalog and state) written out, so that it is not
	// charged with their writeback.
	syscall.Sync()
	cmd := exec.Command(binary, append(args, "-c", cfg)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := timedRun{wall: time.Since(start), stderr: errb.String(), err: err}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSS = ru.Maxrss
		r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if line := bytes.TrimSpace(out.Bytes()); len(line) > 0 && line[0] == '{' {
		_ = json.Unmarshal(line, &r.sum)
	}
	return r
}

// changeOnePercent copies an RSS feed, changing the mpn of every 100th
// standalone item (one without item_group_id, so exactly one product
// changes), and returns how many products changed.
func changeOnePercent(t *testing.T, src, dst string) int {
	t.Helper()
	changed := 0
	copyFeed(t, src, dst, func(in io.Reader, out io.Writer) error {
		sc := bufio.NewScanner(bufio.NewReaderSize(in, 1<<20))
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		sc.Split(splitAfter([]byte("</item>")))
		standalone := 0
		for sc.Scan() {
			chunk := sc.Bytes()
			if bytes.Contains(chunk, []byte("</item>")) && !bytes.Contains(chunk, []byte("<g:item_group_id>")) {
				if standalone%100 == 0 {
					chunk = bytes.Replace(chunk, []byte("<g:mpn>"), []byte("<g:mpn>X"), 1)
					changed++
				}
				standalone++
			}
			if _, err := out.Write(chunk); err != nil {
				return err
			}
		}
		return sc.Err()
	})
	return changed
}

// splitAfter splits a stream into chunks that end with sep (the last one
// may not).
func splitAfter(sep []byte) bufio.SplitFunc {
	return func(data []byte, atEOF bool) (int, []byte, error) {
		if i := bytes.Index(data, sep); i >= 0 {
			return i + len(sep), data[:i+len(sep)], nil
		}
		if atEOF && len(data) > 0 {
			return len(data), data, nil
		}
		return 0, nil, nil
	}
}

func mustAbs(p string) string {
	a, _ := filepath.Abs(p)
	return a
}
