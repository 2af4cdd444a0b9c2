package main

import (
	"fmt"
	"net/http"
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
	if code := p.stop(t, syscall.SIGTERM, 20*time.Second); code != 0 {
		t.Errorf("exit %d", code)
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
