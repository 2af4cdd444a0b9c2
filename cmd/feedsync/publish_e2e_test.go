package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunPublishesTheShapedFeed: with publish: true the daemon serves the
// latest shaped feed at /feeds/<name>.xml, with an ETag that answers 304.
func TestRunPublishesTheShapedFeed(t *testing.T) {
	srv := newRunFeedServer(t, "shop.xml")
	addr := freeListenAddr(t)
	extra := fmt.Sprintf(`  - {name: shop, url: "%s/shop.xml", policy: parent, schedule: "@every 1s", publish: true}
metrics: {listen: "%s"}
`, srv.URL, addr)
	dir := workspace(t, nil, extra)
	p := startRun(t, "-c", filepath.Join(dir, "feedsync.yaml"), "--now")
	url := "http://" + addr + "/feeds/shop.xml"
	var body string
	p.waitFor(t, 20*time.Second, "the published feed", func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			return false
		}
		b := new(strings.Builder)
		fmt.Fprint(b, readAll(resp))
		body = b.String()
		return true
	})
	for _, want := range []string{"<g:id>TEE-BASIC</g:id>", "<title>Tee Basic</title>", "<g:id>MUG-01</g:id>"} {
		if !strings.Contains(body, want) {
			t.Errorf("published feed lacks %s:\n%s", want, body)
		}
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	etag := resp.Header.Get("ETag")
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("If-None-Match", etag)
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if etag == "" || resp2.StatusCode != http.StatusNotModified {
		t.Errorf("ETag %q, conditional GET answered %d; want 304", etag, resp2.StatusCode)
	}
	if code, _ := httpGet(t, "http://"+addr+"/feeds/nope.xml"); code != 404 {
		t.Errorf("an unpublished feed answered %d, want 404", code)
	}
	// One product changes: the next edition still holds every product,
	// those the run knew unchanged too.
	srv.mu.Lock()
	srv.bodies["shop.xml"] = bytes.Replace(srv.bodies["shop.xml"], []byte("USD 12.00"), []byte("USD 13.00"), 1)
	srv.mu.Unlock()
	p.waitFor(t, 20*time.Second, "the edition with the new price", func() bool {
		code, b := httpGet(t, url)
		body = b
		return code == 200 && strings.Contains(b, "<g:price>13 USD</g:price>")
	})
	for _, want := range []string{"<g:id>TEE-BASIC</g:id>", "<title>Tee Basic</title>", "<g:id>MUG-01</g:id>", "<g:id>HOODIE-1</g:id>", "<g:price>19.9 EUR</g:price>"} {
		if !strings.Contains(body, want) {
			t.Errorf("the edition after a change lacks %s:\n%s", want, body)
		}
	}
	if code := p.stop(t, syscall.SIGTERM, 20*time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// TestRunPublishesOnlyConfiguredFeedsAndNeverFollowsLinks: the daemon serves
// the editions of the feeds with publish: true in the running config alone.
// An edition left by a feed no longer configured is deleted at start; after a
// SIGHUP with a config that drops a feed, that feed's /feeds/x.xml answers
// 404 and its file is gone; a symbolic link planted at an edition's name is
// never served, and the reload deletes it.
func TestRunPublishesOnlyConfiguredFeedsAndNeverFollowsLinks(t *testing.T) {
	srv := newRunFeedServer(t, "shop.xml", "books.csv")
	addr := freeListenAddr(t)
	feedLine := func(name, file string) string {
		return fmt.Sprintf("  - {name: %s, url: \"%s/%s\", policy: parent, schedule: \"@every 1h\", publish: true}\n", name, srv.URL, file)
	}
	listen := fmt.Sprintf("metrics: {listen: \"%s\"}\n", addr)
	dir := workspace(t, nil, feedLine("shop", "shop.xml")+feedLine("books", "books.csv")+listen)
	cfg := filepath.Join(dir, "feedsync.yaml")
	pub := filepath.Join(dir, "state", "published")
	secret := filepath.Join(dir, "secret.txt")
	if err := os.WriteFile(secret, []byte("s3cret-token"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(pub, 0o755); err != nil {
		t.Fatal(err)
	}
	// Left by a feed an earlier config published.
	os.WriteFile(filepath.Join(pub, "retired.xml"), []byte("<rss>retired</rss>"), 0o644)

	p := startRun(t, "-c", cfg, "--now")
	base := "http://" + addr + "/feeds/"
	p.waitFor(t, 20*time.Second, "both feeds published", func() bool {
		for _, f := range []string{"shop.xml", "books.xml"} {
			resp, err := http.Get(base + f)
			if err != nil {
				return false
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return false
			}
		}
		return true
	})
	if code, _ := httpGet(t, base+"retired.xml"); code != http.StatusNotFound {
		t.Errorf("retired.xml (no such feed configured) answered %d, want 404", code)
	}
	if _, err := os.Stat(filepath.Join(pub, "retired.xml")); !os.IsNotExist(err) {
		t.Errorf("the edition of a feed no longer configured is still in the publish folder: %v", err)
	}

	// A link planted at a published feed's name is not followed.
	books := filepath.Join(pub, "books.xml")
	if err := os.Remove(books); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, books); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	if code, body := httpGet(t, base+"books.xml"); code != http.StatusNotFound || strings.Contains(body, "s3cret") {
		t.Errorf("books.xml as a symbolic link: status %d, body %q; want 404", code, body)
	}

	// SIGHUP with a config that drops shop.
	if err := os.WriteFile(cfg, []byte("state: state/feedsync.db\nlog: {level: info, format: json}\ncatalog: {kind: file, path: out/catalog.jsonl}\nfeeds:\n"+feedLine("books", "books.csv")+listen), 0o644); err != nil {
		t.Fatal(err)
	}
	p.cmd.Process.Signal(syscall.SIGHUP)
	p.waitFor(t, 10*time.Second, "the reload", func() bool { return len(p.stderr.lines("info", "config reloaded", "")) == 1 })
	if code, _ := httpGet(t, base+"shop.xml"); code != http.StatusNotFound {
		t.Errorf("shop.xml after a reload that dropped the feed: status %d, want 404", code)
	}
	if _, err := os.Stat(filepath.Join(pub, "shop.xml")); !os.IsNotExist(err) {
		t.Errorf("shop.xml is still in the publish folder after the reload dropped the feed: %v", err)
	}
	if _, err := os.Lstat(books); !os.IsNotExist(err) {
		t.Errorf("the planted link books.xml survived the reload: %v", err)
	}
	if b, err := os.ReadFile(secret); err != nil || string(b) != "s3cret-token" {
		t.Errorf("the link's target was touched: %q, %v", b, err)
	}
	if code, body := httpGet(t, base+"books.xml"); code != http.StatusNotFound || strings.Contains(body, "s3cret") {
		t.Errorf("books.xml after the reload: status %d, body %q; want 404 until its next run", code, body)
	}
	if code := p.stop(t, syscall.SIGTERM, 20*time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// TestBadSizeOrDurationExits2NamingTheKey: sizes and durations that earlier
// versions let through (NaN, Inf, exponents, fractional bytes, negative or
// overflowing durations) are configuration errors: exit 2, naming the key.
func TestBadSizeOrDurationExits2NamingTheKey(t *testing.T) {
	for _, c := range []struct{ extra, want string }{
		{`max_size: "NaN"`, `feeds[0].max_size: "NaN": want a size`},
		{`max_size: "Inf"`, `feeds[0].max_size: "Inf": want a size`},
		{`max_size: "1e30"`, `feeds[0].max_size: "1e30": want a size`},
		{`max_size: "0.5B"`, `feeds[0].max_size: "0.5B": not a whole number of bytes`},
		{`max_size: "  "`, `feeds[0].max_size: "  ": want a size`},
		{`timeout: "-5s"`, `feeds[0].timeout: "-5s": a duration cannot be negative`},
		{`timeout: "9999999999h"`, `feeds[0].timeout: "9999999999h": above the longest duration`},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, "feedsync.yaml")
		os.WriteFile(path, []byte("state: s.db\ncatalog: {kind: file, path: c.jsonl}\nfeeds:\n  - {name: shop, url: shop.xml, "+c.extra+"}\n"), 0o644)
		r := runBinary(t, nil, "sync", "-c", path)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant exit 2 and %q", c.extra, r.code, r.stderr, c.want)
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "feedsync.yaml")
	os.WriteFile(path, []byte("state: s.db\nmemory_limit: NaN\nfeeds:\n  - {name: shop, url: shop.xml}\n"), 0o644)
	if r := runBinary(t, nil, "sync", "-c", path); r.code != 2 || !strings.Contains(r.stderr, `memory_limit: "NaN": want a size`) {
		t.Errorf("memory_limit NaN: exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

func readAll(resp *http.Response) string {
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}
