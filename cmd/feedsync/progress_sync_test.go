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

// TestSyncShowsProgressOnlyOnATerminal: with standard error on a
// pseudo-terminal, sync draws the reading and pushing bars; piped, it prints
// no carriage return or escape code anywhere.
func TestSyncShowsProgressOnlyOnATerminal(t *testing.T) {
	dir := workspace(t, map[string]string{"shop": "shop.xml:parent"}, "")
	cfg := filepath.Join(dir, "feedsync.yaml")
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	var term bytes.Buffer
	copied := make(chan struct{})
	go func() { io.Copy(&term, ptmx); close(copied) }()
	cmd := exec.Command(binary, "sync", "-c", cfg)
	cmd.Env = append(os.Environ(), "FEEDSYNC_NO_PROGRESS=")
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, tty
	if err := cmd.Run(); err != nil {
		t.Fatalf("sync: %v", err)
	}
	tty.Close()
	select {
	case <-copied:
	case <-time.After(5 * time.Second):
		t.Fatal("terminal output did not end")
	}
	for _, want := range []string{"shop: reading feed", "100%", "shop: pushing products"} {
		if !strings.Contains(term.String(), want) {
			t.Errorf("terminal lacks %q:\n%q", want, term.String())
		}
	}
	if strings.ContainsAny(stdout.String(), "\r\x1b") {
		t.Errorf("stdout holds progress codes:\n%q", stdout.String())
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
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	var term bytes.Buffer
	copied := make(chan struct{})
	go func() { io.Copy(&term, ptmx); close(copied) }()
	cmd := exec.Command(binary, "lint", filepath.Join("..", "..", "testdata", "feeds", "shop.xml"))
	cmd.Env = append(os.Environ(), "FEEDSYNC_NO_PROGRESS=")
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, tty
	_ = cmd.Run() // exit 1: the example feed has findings
	tty.Close()
	select {
	case <-copied:
	case <-time.After(5 * time.Second):
		t.Fatal("terminal output did not end")
	}
	if !strings.Contains(term.String(), "reading ") || !strings.Contains(term.String(), "100%") {
		t.Errorf("terminal lacks the reading bar:\n%q", term.String())
	}
	if strings.ContainsAny(stdout.String(), "\r") {
		t.Errorf("stdout holds progress codes")
	}
}
