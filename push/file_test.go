package push

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
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
