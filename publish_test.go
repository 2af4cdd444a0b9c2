package feedsync

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/feedsync/feedsync/tree"
)

func get(t *testing.T, h http.Handler, path string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestPublisherServesTheLatestEditionWithValidators(t *testing.T) {
	p, err := NewPublisher(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Run("NotPublishedYetIs404", func(t *testing.T) {
		if rec := get(t, p, "/feeds/shop.xml", nil); rec.Code != http.StatusNotFound {
			t.Errorf("status %d, want 404", rec.Code)
		}
	})
	write := func(s string) func(io.Writer) error {
		return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
	}
	if changed, err := p.Publish("shop", write("<rss>one</rss>")); err != nil || !changed {
		t.Fatalf("publish: changed %v, %v", changed, err)
	}
	first := get(t, p, "/feeds/shop.xml", nil)
	etag, lastMod := first.Header().Get("ETag"), first.Header().Get("Last-Modified")
	t.Run("ServesWithETagAndLastModified", func(t *testing.T) {
		if first.Code != http.StatusOK || first.Body.String() != "<rss>one</rss>" {
			t.Fatalf("status %d body %q", first.Code, first.Body.String())
		}
		if etag == "" || lastMod == "" {
			t.Errorf("ETag %q, Last-Modified %q: want both", etag, lastMod)
		}
		if ct := first.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/xml") {
			t.Errorf("Content-Type %q", ct)
		}
	})
	t.Run("IfNoneMatchGives304", func(t *testing.T) {
		rec := get(t, p, "/feeds/shop.xml", map[string]string{"If-None-Match": etag})
		if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
			t.Errorf("status %d, body %d bytes; want 304 and no body", rec.Code, rec.Body.Len())
		}
	})
	t.Run("IfModifiedSinceGives304", func(t *testing.T) {
		rec := get(t, p, "/feeds/shop.xml", map[string]string{"If-Modified-Since": lastMod})
		if rec.Code != http.StatusNotModified {
			t.Errorf("status %d, want 304", rec.Code)
		}
	})
	t.Run("SameBytesKeepValidators", func(t *testing.T) {
		if changed, err := p.Publish("shop", write("<rss>one</rss>")); err != nil || changed {
			t.Fatalf("publish again: changed %v, %v; want unchanged", changed, err)
		}
		rec := get(t, p, "/feeds/shop.xml", map[string]string{"If-None-Match": etag})
		if rec.Code != http.StatusNotModified {
			t.Errorf("status %d after publishing the same bytes, want 304", rec.Code)
		}
	})
	t.Run("NewEditionGetsNewETag", func(t *testing.T) {
		time.Sleep(10 * time.Millisecond)
		if changed, err := p.Publish("shop", write("<rss>two</rss>")); err != nil || !changed {
			t.Fatalf("publish: changed %v, %v", changed, err)
		}
		rec := get(t, p, "/feeds/shop.xml", map[string]string{"If-None-Match": etag})
		if rec.Code != http.StatusOK || rec.Body.String() != "<rss>two</rss>" || rec.Header().Get("ETag") == etag {
			t.Errorf("status %d body %q ETag %q (old %q)", rec.Code, rec.Body.String(), rec.Header().Get("ETag"), etag)
		}
	})
	t.Run("FailedEditionKeepsThePreviousOne", func(t *testing.T) {
		_, err := p.Publish("shop", func(w io.Writer) error {
			io.WriteString(w, "<rss>half")
			return errors.New("feed broke")
		})
		if err == nil {
			t.Fatal("no error")
		}
		if rec := get(t, p, "/feeds/shop.xml", nil); rec.Body.String() != "<rss>two</rss>" {
			t.Errorf("served %q after a failed edition", rec.Body.String())
		}
		ents, _ := os.ReadDir(filepath.Dir(p.Path("shop")))
		if len(ents) != 1 {
			t.Errorf("%d files in the publish directory, want 1", len(ents))
		}
	})
	t.Run("BadPathsAre404", func(t *testing.T) {
		for _, path := range []string{"/feeds/../secret.xml", "/feeds/shop.json", "/feeds/.hidden.xml", "/other/shop.xml", "/feeds/a/b.xml"} {
			if rec := get(t, p, path, nil); rec.Code != http.StatusNotFound {
				t.Errorf("%s: status %d, want 404", path, rec.Code)
			}
		}
	})
	t.Run("OnlyGetAndHead", func(t *testing.T) {
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/feeds/shop.xml", nil))
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("POST: status %d", rec.Code)
		}
	})
}

func TestPublisherEditionWritesGoogleRSS(t *testing.T) {
	p, err := NewPublisher(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Begin("bad/name", TransformOptions{}); err == nil {
		t.Error("Begin accepted a name with a slash")
	}
	e, err := p.Begin("shop", TransformOptions{Policy: tree.PolicyParent})
	if err != nil {
		t.Fatal(err)
	}
	prod := tree.NewProduct("P1", map[string]any{"custom_id": "P1", "name": "Mug & Co", "price": "12.5", "currency": "EUR"})
	if err := e.Add(prod); err != nil {
		t.Fatal(err)
	}
	if rec := get(t, p, "/feeds/shop.xml", nil); rec.Code != http.StatusNotFound {
		t.Errorf("an edition was served before Commit (status %d)", rec.Code)
	}
	if _, err := e.Commit(); err != nil {
		t.Fatal(err)
	}
	rec := get(t, p, "/feeds/shop.xml", nil)
	for _, want := range []string{`xmlns:g="http://base.google.com/ns/1.0"`, "<title>shop</title>", "<g:id>P1</g:id>", "<title>Mug &amp; Co</title>", "<g:price>12.5 EUR</g:price>", "</rss>"} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("published feed lacks %q:\n%s", want, rec.Body.String())
		}
	}
}

// TestPublisherReaderNeverSeesHalfAFile reads while editions are published:
// every body is one whole edition.
func TestPublisherReaderNeverSeesHalfAFile(t *testing.T) {
	p, err := NewPublisher(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	edition := func(c byte) string { return "<rss>" + strings.Repeat(string(c), 200<<10) + "</rss>" }
	if _, err := p.Publish("shop", func(w io.Writer) error { _, err := io.WriteString(w, edition('A')); return err }); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	defer srv.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 30; i++ {
			c := byte('B' + i%20)
			p.Publish("shop", func(w io.Writer) error {
				s := edition(c)
				for len(s) > 0 { // in small pieces, to widen the window
					n := min(len(s), 4096)
					if _, err := io.WriteString(w, s[:n]); err != nil {
						return err
					}
					s = s[n:]
				}
				return nil
			})
		}
	}()
	for reading := true; reading; {
		select {
		case <-done:
			reading = false
		default:
		}
		resp, err := http.Get(srv.URL + "/feeds/shop.xml")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		s := string(b)
		if len(s) != len(edition('A')) || !strings.HasSuffix(s, "</rss>") || strings.Count(s, s[5:6]) != 200<<10 {
			t.Fatalf("read %d bytes that are not one whole edition", len(s))
		}
	}
}

func TestPublisherEditionSkipsDuplicatesAndAborts(t *testing.T) {
	p, err := NewPublisher(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e, err := p.Begin("shop", TransformOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"A", "a", "B"} {
		if err := e.Add(tree.NewProduct(id, map[string]any{"custom_id": id})); err != nil {
			t.Fatal(err)
		}
	}
	if e.Products() != 2 {
		t.Errorf("%d products written, want 2 (a repeats A)", e.Products())
	}
	e.Abort()
	if _, err := os.Stat(p.Path("shop")); !os.IsNotExist(err) {
		t.Errorf("an aborted edition was published: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(p.Path("shop"))); len(ents) != 0 {
		t.Errorf("%d files left after Abort", len(ents))
	}
	if _, err := e.Commit(); err == nil {
		t.Error("Commit after Abort succeeded")
	}
}
