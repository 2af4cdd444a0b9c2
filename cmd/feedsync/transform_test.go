package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testFeed(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "testdata", "feeds", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTransformCommand(t *testing.T) {
	shop := testFeed(t, "shop.xml")
	t.Run("ToStandardOutput", func(t *testing.T) {
		r := runBinary(t, nil, "transform", "--policy", "parent", shop)
		if r.code != 0 {
			t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
		if !strings.Contains(r.stdout, "<g:id>TEE-BASIC</g:id>") || !strings.HasSuffix(r.stdout, "</rss>\n") {
			t.Errorf("stdout is not the shaped feed:\n%s", r.stdout)
		}
		if !strings.Contains(r.stderr, "5 items → 3 products; written to standard output") {
			t.Errorf("stderr lacks the summary:\n%s", r.stderr)
		}
	})
	t.Run("PipedOutputHasNoProgressEscapes", func(t *testing.T) {
		for _, to := range []string{"xml", "csv", "tsv", "jsonl"} {
			r := runBinary(t, nil, "transform", "--to", to, shop)
			if r.code != 0 {
				t.Fatalf("--to %s: exit %d, stderr:\n%s", to, r.code, r.stderr)
			}
			if strings.ContainsAny(r.stderr, "\r\x1b") {
				t.Errorf("--to %s: stderr has progress escapes: %q", to, r.stderr)
			}
			if strings.Contains(r.stdout, "\x1b") {
				t.Errorf("--to %s: stdout has escape codes", to)
			}
		}
	})
	t.Run("OutputFileIsWrittenAtomically", func(t *testing.T) {
		dir := t.TempDir()
		out := filepath.Join(dir, "products.tsv")
		r := runBinary(t, nil, "transform", "--policy", "variant", "--to", "tsv", "-o", out, shop)
		if r.code != 0 {
			t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if lines := strings.Count(string(data), "\n"); lines < 6 || !strings.HasPrefix(string(data), "id\ttitle\t") {
			t.Errorf("output file:\n%s", data)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Errorf("%d files in the output directory, want 1", len(ents))
		}
		// A broken feed leaves the previous output alone.
		broken := filepath.Join(dir, "broken.xml")
		os.WriteFile(broken, []byte("<rss><channel><item><g:id>1</g:id>"), 0o644)
		r = runBinary(t, nil, "transform", "--to", "tsv", "-o", out, broken)
		if r.code != 1 {
			t.Errorf("broken feed: exit %d, want 1; stderr:\n%s", r.code, r.stderr)
		}
		if again, _ := os.ReadFile(out); !bytes.Equal(again, data) {
			t.Errorf("a failed transform changed the output file")
		}
	})
	t.Run("SettingsFromAConfiguredFeed", func(t *testing.T) {
		dir := workspace(t, map[string]string{"shop": "shop.xml:parent"}, "")
		r := runBinary(t, nil, "transform", "-c", filepath.Join(dir, "feedsync.yaml"), "--feed", "shop", "--to", "jsonl", "--json")
		if r.code != 0 {
			t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
		if n := strings.Count(r.stdout, `{"op":"upsert"`); n != 3 {
			t.Errorf("%d upsert lines, want 3 parents:\n%s", n, r.stdout)
		}
		var sum struct{ Items, Products int }
		if err := json.Unmarshal([]byte(r.stderr), &sum); err != nil || sum.Items != 5 || sum.Products != 3 {
			t.Errorf("--json summary on stderr %q: %+v %v", r.stderr, sum, err)
		}
	})
	t.Run("FromAURL", func(t *testing.T) {
		data, err := os.ReadFile(shop)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(data) }))
		defer srv.Close()
		r := runBinary(t, nil, "transform", "--policy", "parent", "--to", "jsonl", srv.URL+"/feed.xml?token=SECRET")
		if r.code != 0 {
			t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
		if n := strings.Count(r.stdout, `{"op":"upsert"`); n != 3 {
			t.Errorf("%d upsert lines, want 3:\n%s", n, r.stdout)
		}
		if strings.Contains(r.stdout+r.stderr, "SECRET") {
			t.Errorf("the URL's query reached the output")
		}
	})
	t.Run("UsageErrors", func(t *testing.T) {
		for _, args := range [][]string{
			{"transform"},
			{"transform", "--policy", "tree", shop},
			{"transform", "--to", "xlsx", shop},
		} {
			if r := runBinary(t, nil, args...); r.code != 2 {
				t.Errorf("%v: exit %d, want 2; stderr:\n%s", args, r.code, r.stderr)
			}
		}
		if r := runBinary(t, nil, "transform", filepath.Join(t.TempDir(), "missing.xml")); r.code != 1 {
			t.Errorf("missing file: exit %d, want 1", r.code)
		}
	})
}

// TestTransformShowsProgressOnATerminal runs transform with standard error
// on a pseudo-terminal: the bar is drawn there, and standard output (a pipe)
// holds only the feed.
func TestTransformShowsProgressOnATerminal(t *testing.T) {
	screen, stdout := onTerminal(t, "transform", "--policy", "variant", "--to", "csv", testFeed(t, "shop.xml"))
	for _, want := range []string{"reading feed", "writing products", "100%", "5/5"} {
		if !strings.Contains(screen, want) {
			t.Errorf("terminal lacks %q:\n%q", want, screen)
		}
	}
	if !strings.ContainsAny(screen, "\r\x1b") {
		t.Errorf("terminal output has no carriage return or escape: no bar was drawn:\n%q", screen)
	}
	if strings.ContainsAny(stdout, "\r\x1b") || !strings.HasPrefix(stdout, "id,title,") {
		t.Errorf("standard output is not the plain feed:\n%q", stdout)
	}

	// --quiet and --json draw nothing, terminal or not.
	for _, flag := range []string{"--quiet", "--json"} {
		if screen, _ := onTerminal(t, "transform", flag, "--to", "csv", testFeed(t, "shop.xml")); strings.Contains(screen, "reading feed") {
			t.Errorf("%s: a bar was drawn:\n%q", flag, screen)
		}
	}
}

func TestShellCompletion(t *testing.T) {
	help := runBinary(t, nil, "--help")
	if help.code != 0 || !strings.Contains(help.stdout, "completion") {
		t.Errorf("--help does not list completion (exit %d):\n%s", help.code, help.stdout)
	}
	for shell, marker := range map[string]string{
		"bash": "__start_feedsync",
		"zsh":  "#compdef feedsync",
		"fish": "complete -c feedsync",
	} {
		r := runBinary(t, nil, "completion", shell)
		if r.code != 0 || !strings.Contains(r.stdout, marker) {
			t.Errorf("completion %s: exit %d, want a script with %q; stderr:\n%s", shell, r.code, marker, r.stderr)
		}
	}
	// The script completes subcommands: ask cobra's hidden completer.
	r := runBinary(t, nil, "__complete", "tra")
	if r.code != 0 || !strings.Contains(r.stdout, "transform") {
		t.Errorf("__complete tra: exit %d, stdout:\n%s", r.code, r.stdout)
	}
}
