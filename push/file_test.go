package push

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func TestFileSinkConcurrentAppliesNeverInterleaveLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.jsonl")
	s := NewFileSink(path)
	s.BatchSize = 7
	big := strings.Repeat("x", 40<<10) // lines far larger than any write buffer
	var wg sync.WaitGroup
	const feeds, perFeed = 4, 60
	for f := 0; f < feeds; f++ {
		wg.Add(1)
		go func(f int) {
			defer wg.Done()
			ops := make(chan Op)
			acked := 0
			done := make(chan error)
			go func() { done <- s.Apply(context.Background(), ops, func(Result) { acked++ }) }()
			for i := 0; i < perFeed; i++ {
				payload, _ := json.Marshal(map[string]string{"custom_id": fmt.Sprintf("f%d-%d", f, i), "description": big})
				ops <- Op{Kind: Update, ID: fmt.Sprintf("f%d-%d", f, i), Payload: payload}
			}
			close(ops)
			if err := <-done; err != nil || acked != perFeed {
				t.Errorf("feed %d: %v, %d acks", f, err, acked)
			}
		}(f)
	}
	wg.Wait()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var l struct {
			Op, ID  string
			Product map[string]string
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil || l.Product["custom_id"] != l.ID {
			t.Fatalf("line %d is not a whole JSONL record: %v", n+1, err)
		}
		n++
	}
	if n != feeds*perFeed {
		t.Errorf("%d lines, want %d", n, feeds*perFeed)
	}
}

// TestQuoteIDIsEncodingJSON: the fast id quoting writes exactly what
// encoding/json (without HTML escaping) writes.
func TestQuoteIDIsEncodingJSON(t *testing.T) {
	for _, id := range []string{"", "SKU-1", "a b/c?d=e&f<g>", "quo\"te", "back\\slash", "tab\t", "del\x7f", "é", "\u2028", "\xff", "日本-1"} {
		got, err := quoteID(id)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := marshalNoEscape(id)
		if string(got) != string(want) {
			t.Errorf("%q: got %s, want %s", id, got, want)
		}
	}
}

// TestFileSinkRefusesPayloadsThatBreakLines: a payload that is not one JSON
// object on one line stops the Apply with the product's id, and nothing of
// it reaches the file.
func TestFileSinkRefusesPayloadsThatBreakLines(t *testing.T) {
	for _, payload := range []string{"", "[]", `"x"`, "{\"a\":1}\n", "{\"a\":\n1}"} {
		path := filepath.Join(t.TempDir(), "catalog.jsonl")
		ops := make(chan Op, 1)
		ops <- Op{Kind: Create, ID: "BAD-1", Payload: []byte(payload)}
		close(ops)
		err := NewFileSink(path).Apply(context.Background(), ops, func(Result) { t.Errorf("%q acknowledged", payload) })
		if err == nil || !strings.Contains(err.Error(), `"BAD-1"`) {
			t.Errorf("%q: got %v, want an error naming BAD-1", payload, err)
		}
		if b, _ := os.ReadFile(path); len(b) != 0 {
			t.Errorf("%q: the file holds %q", payload, b)
		}
	}
}

// applyFile runs one Apply of ops on s and checks every op was acknowledged.
func applyFile(t *testing.T, s *FileSink, ops ...Op) {
	t.Helper()
	ch := make(chan Op, len(ops))
	for _, op := range ops {
		ch <- op
	}
	close(ch)
	acked := 0
	if err := s.Apply(context.Background(), ch, func(r Result) {
		if r.Err == nil {
			acked++
		}
	}); err != nil {
		t.Fatal(err)
	}
	if acked != len(ops) {
		t.Fatalf("%d acks, want %d", acked, len(ops))
	}
}

// wantJSONLines checks that path holds exactly want, each a JSON object.
func wantJSONLines(t *testing.T, path string, want ...string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); got != strings.Join(want, "\n")+"\n" {
		t.Fatalf("the file holds\n%q\nwant\n%q", got, strings.Join(want, "\n")+"\n")
	}
	for i, l := range want {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Errorf("line %d is not JSON: %v", i+1, err)
		}
	}
}

// TestFileSinkCutsATornLastLine: a file left ending in part of a line (a
// process SIGKILLed mid-write, a full disk) is cut back to its last newline
// before the next line goes in, so that no acknowledged line is glued onto
// the broken one, and the cut is logged.
func TestFileSinkCutsATornLastLine(t *testing.T) {
	good := []string{
		`{"op":"upsert","id":"a","product":{"custom_id":"a","price":1}}`,
		`{"op":"delete","id":"b"}`,
	}
	next := Op{Kind: Update, ID: "c", Payload: []byte(`{"custom_id":"c","price":3}`)}
	nextLine := `{"op":"upsert","id":"c","product":{"custom_id":"c","price":3}}`
	for _, c := range []struct {
		name   string
		before string   // the file's content
		want   []string // its lines after one Apply of next
	}{
		{"HalfLine", good[0] + "\n" + good[1] + "\n" + `{"op":"upsert","id":"x","prod`, append(good[:2:2], nextLine)},
		{"NoNewlineAtAll", `{"op":"upsert","id":"x","product":{"custom_id":"x"`, []string{nextLine}},
		{"TornLineLongerThanOneRead", good[0] + "\n" + `{"op":"upsert","id":"x","product":{"d":"` + strings.Repeat("y", 150<<10), []string{good[0], nextLine}},
		{"CompleteFileIsLeftAlone", good[0] + "\n" + good[1] + "\n", append(good[:2:2], nextLine)},
		{"NoFileYet", "", []string{nextLine}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "catalog.jsonl")
			if c.before != "" {
				if err := os.WriteFile(path, []byte(c.before), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			logs := &syncBuffer{}
			s := NewFileSink(path)
			s.Log = zerolog.New(logs)
			applyFile(t, s, next)
			wantJSONLines(t, path, c.want...)
			cut := len(c.before) - len(strings.Join(c.want[:len(c.want)-1], "\n"))
			if len(c.want) > 1 {
				cut-- // the newline of the last line kept
			}
			if cut == 0 {
				if logs.String() != "" {
					t.Errorf("logged without a cut: %s", logs)
				}
				return
			}
			for _, want := range []string{path, fmt.Sprintf("its last %d bytes", cut), "never acknowledged", fmt.Sprintf(`"cut_bytes":%d`, cut)} {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("the log does not say %q:\n%s", want, logs)
				}
			}
		})
	}
}

// TestFileSinkRepairNeverCutsConcurrentLines: Applies sharing one sink while
// the file starts torn: the part-line goes, once, and every line any of them
// acknowledged stays whole.
func TestFileSinkRepairNeverCutsConcurrentLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.jsonl")
	if err := os.WriteFile(path, []byte(`{"op":"delete","id":"kept"}`+"\n"+`{"op":"upsert","id":"torn","product":{"custom_id":"to`), 0o644); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	s := NewFileSink(path)
	s.Log = zerolog.New(logs)
	s.BatchSize, s.BatchDelay = 3, time.Millisecond
	const feeds, perFeed = 6, 40
	var wg sync.WaitGroup
	for f := 0; f < feeds; f++ {
		wg.Add(1)
		go func(f int) {
			defer wg.Done()
			// Each feed runs several Applies, so that later Applies open the
			// file (and look at its tail) while others are writing.
			for run := 0; run < 4; run++ {
				ops := make(chan Op)
				acked := 0
				done := make(chan error)
				go func() { done <- s.Apply(context.Background(), ops, func(Result) { acked++ }) }()
				for i := 0; i < perFeed/4; i++ {
					id := fmt.Sprintf("f%d-%d-%d", f, run, i)
					ops <- Op{Kind: Update, ID: id, Payload: []byte(fmt.Sprintf(`{"custom_id":%q}`, id))}
				}
				close(ops)
				if err := <-done; err != nil || acked != perFeed/4 {
					t.Errorf("feed %d run %d: %v, %d acks", f, run, err, acked)
				}
			}
		}(f)
	}
	wg.Wait()
	got := replayJSONL(t, path) // fails on any line that is not JSON
	if len(got) != feeds*perFeed {
		t.Errorf("%d products in the file, want %d", len(got), feeds*perFeed)
	}
	b, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(b), `{"op":"delete","id":"kept"}`+"\n") || strings.Contains(string(b), `"torn"`) {
		t.Errorf("the complete first line must stay and the torn one go:\n%.200s", b)
	}
	if n := strings.Count(logs.String(), "never acknowledged"); n != 1 {
		t.Errorf("%d repairs logged, want 1:\n%s", n, logs)
	}
}

// TestFileSinkFailedWriteIsCutAtOnce: a write that stops part-way (a full
// disk) acknowledges nothing and leaves no part-line for the next write to
// glue onto.
func TestFileSinkFailedWriteIsCutAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.jsonl")
	logs := &syncBuffer{}
	s := NewFileSink(path)
	s.Log = zerolog.New(logs)
	applyFile(t, s, Op{Kind: Delete, ID: "a"})
	s.write = func(f *os.File, b []byte) (int, error) {
		n, _ := f.Write(b[:len(b)/2])
		return n, syscall.ENOSPC
	}
	ch := make(chan Op, 2)
	ch <- Op{Kind: Delete, ID: "lost-1"}
	ch <- Op{Kind: Delete, ID: "lost-2"}
	close(ch)
	err := s.Apply(context.Background(), ch, func(r Result) { t.Errorf("%s acknowledged after a failed write", r.Op.ID) })
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Apply: %v, want ENOSPC", err)
	}
	wantJSONLines(t, path, `{"op":"delete","id":"a"}`)
	if !strings.Contains(logs.String(), "never acknowledged") {
		t.Errorf("the cut is not logged:\n%s", logs)
	}
	s.write = nil
	applyFile(t, s, Op{Kind: Delete, ID: "b"})
	wantJSONLines(t, path, `{"op":"delete","id":"a"}`, `{"op":"delete","id":"b"}`)
}
