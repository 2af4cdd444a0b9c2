package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// onTerminal runs the real binary with standard error on a pseudo-terminal
// and standard output on a pipe, and returns what each received.
func onTerminal(t *testing.T, args ...string) (screen, stdout string) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	var term bytes.Buffer
	copied := make(chan struct{})
	go func() { io.Copy(&term, ptmx); close(copied) }()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "FEEDSYNC_NO_PROGRESS=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, tty
	_ = cmd.Run() // callers check what was printed; lint exits 1 on findings
	tty.Close()
	select {
	case <-copied:
	case <-time.After(5 * time.Second):
		t.Fatal("terminal output did not end")
	}
	return term.String(), out.String()
}

// TestSyncShowsProgressOnlyOnATerminal: with standard error on a
// pseudo-terminal, sync draws the reading and pushing bars; piped, it prints
// no carriage return or escape code anywhere.
func TestSyncShowsProgressOnlyOnATerminal(t *testing.T) {
	dir := workspace(t, map[string]string{"shop": "shop.xml:parent"}, "")
	cfg := filepath.Join(dir, "feedsync.yaml")
	screen, stdout := onTerminal(t, "sync", "-c", cfg)
	for _, want := range []string{"shop: reading feed", "100%", "shop: pushing products"} {
		if !strings.Contains(screen, want) {
			t.Errorf("terminal lacks %q:\n%q", want, screen)
		}
	}
	if strings.ContainsAny(stdout, "\r\x1b") {
		t.Errorf("stdout holds progress codes:\n%q", stdout)
	}

	// The same feed again, past the unchanged-body shortcut: recognised by
	// its items' bytes, it is scanned and never read; the scan has a bar.
	screen, stdout = onTerminal(t, "sync", "-c", cfg, "--full-scan")
	if !strings.Contains(screen, "shop: recognising feed") || !strings.Contains(screen, "100%") || strings.Contains(screen, "shop: reading feed") {
		t.Errorf("a recognised feed's terminal shows no scan bar, or a reading one:\n%q", screen)
	}
	if !strings.Contains(stdout, "recognised") {
		t.Errorf("the second sync was not recognised:\n%s", stdout)
	}
	// A price changed in the last item: the scan stops there (the bar
	// shows the bytes read, which for so small a file are all of them),
	// and the feed is read.
	feedPath := filepath.Join(dir, "shop.xml")
	data, err := os.ReadFile(feedPath)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(data), "USD 12.00", "USD 12.50", 1)
	if changed == string(data) {
		t.Fatal("the fixture lacks the price the test changes")
	}
	if err := os.WriteFile(feedPath, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	screen, stdout = onTerminal(t, "sync", "-c", cfg)
	scan, read := strings.Index(screen, "shop: recognising feed"), strings.Index(screen, "shop: reading feed")
	if scan < 0 || read < scan {
		t.Errorf("a changed feed's terminal does not show the scan, then the read:\n%q", screen)
	}
	if strings.Contains(stdout, "recognised") {
		t.Errorf("a changed feed was recognised:\n%s", stdout)
	}

	// Piped: no bar at all.
	os.Remove(filepath.Join(dir, "state", "feedsync.db"))
	r := runBinary(t, nil, "sync", "-c", cfg)
	if r.code != 0 || strings.ContainsAny(r.stdout+r.stderr, "\r\x1b") {
		t.Errorf("piped sync: exit %d, output with progress codes:\n%q\n%q", r.code, r.stdout, r.stderr)
	}
}

// TestLintShowsProgressOnATerminal: lint draws the reading bar on a terminal.
func TestLintShowsProgressOnATerminal(t *testing.T) {
	screen, stdout := onTerminal(t, "lint", filepath.Join("..", "..", "testdata", "feeds", "shop.xml"))
	if !strings.Contains(screen, "reading ") || !strings.Contains(screen, "100%") {
		t.Errorf("terminal lacks the reading bar:\n%q", screen)
	}
	if strings.ContainsAny(stdout, "\r") {
		t.Errorf("stdout holds progress codes")
	}
}
