package publish

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

	"github.com/feedsync/feedsync/config"

	"github.com/rs/zerolog"

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
	for _, id := range []string{"A", "a", "A"} {
		if err := e.Add(tree.NewProduct(id, map[string]any{"custom_id": id})); err != nil {
			t.Fatal(err)
		}
	}
	if e.Products() != 2 {
		t.Errorf("%d products written, want 2 (the second A repeats the first; custom_ids compare byte for byte, tree.IDKey)", e.Products())
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

func publishString(t *testing.T, p *Publisher, name, body string) {
	t.Helper()
	if _, err := p.Publish(name, func(w io.Writer) error { _, err := io.WriteString(w, body); return err }); err != nil {
		t.Fatalf("publish %s: %v", name, err)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestPublisherServesOnlyTheConfiguredFeeds: once told which feeds publish,
// the Publisher serves those alone and deletes every other edition; an
// edition of a feed dropped while it was being written is not published.
func TestPublisherServesOnlyTheConfiguredFeeds(t *testing.T) {
	dir := t.TempDir()
	p, err := NewPublisher(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	publishString(t, p, "shop", "<rss>shop</rss>")
	publishString(t, p, "old", "<rss>old</rss>")
	// An edition of a feed the config never named, left by an earlier run.
	os.WriteFile(filepath.Join(dir, "stale.xml"), []byte("<rss>stale</rss>"), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not an edition"), 0o644)
	if rec := get(t, p, "/feeds/stale.xml", nil); rec.Code != http.StatusNotFound {
		t.Errorf("a file the Publisher did not publish answered %d, want 404", rec.Code)
	}
	inFlight, err := p.Begin("old", TransformOptions{})
	if err != nil {
		t.Fatal(err)
	}
	removed, err := p.SetFeeds([]string{"shop", "new"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(removed, ",") != "old.xml,stale.xml" {
		t.Errorf("removed %q, want old.xml and stale.xml", removed)
	}
	for path, want := range map[string]int{"/feeds/shop.xml": 200, "/feeds/old.xml": 404, "/feeds/stale.xml": 404, "/feeds/new.xml": 404} {
		if rec := get(t, p, path, nil); rec.Code != want {
			t.Errorf("%s: status %d, want %d", path, rec.Code, want)
		}
	}
	names := dirNames(t, dir)
	if len(names) != 3 || names[1] != "notes.txt" || names[2] != "shop.xml" || !strings.HasPrefix(names[0], ".old.xml.tmp-") {
		t.Errorf("publish folder holds %q; want the edition in progress, notes.txt and shop.xml", names)
	}
	if changed, err := inFlight.Commit(); err != nil || changed {
		t.Errorf("committing an edition of a feed no longer published: changed %v, %v; want it dropped quietly", changed, err)
	}
	if names := dirNames(t, dir); len(names) != 2 {
		t.Errorf("after the dropped edition the folder holds %q", names)
	}
	if rec := get(t, p, "/feeds/old.xml", nil); rec.Code != http.StatusNotFound {
		t.Errorf("old.xml answered %d after its edition was dropped", rec.Code)
	}
	publishString(t, p, "new", "<rss>new</rss>")
	if rec := get(t, p, "/feeds/new.xml", nil); rec.Code != http.StatusOK || rec.Body.String() != "<rss>new</rss>" {
		t.Errorf("new.xml: status %d, body %q", rec.Code, rec.Body.String())
	}
	// Dropping every feed empties the folder of editions.
	if _, err := p.SetFeeds(nil); err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, dir); len(names) != 1 || names[0] != "notes.txt" {
		t.Errorf("with no published feed the folder holds %q", names)
	}
	if rec := get(t, p, "/feeds/shop.xml", nil); rec.Code != http.StatusNotFound {
		t.Errorf("shop.xml answered %d with no feed published", rec.Code)
	}
}

// TestPublisherConfigureFollowsThePublishFlag: Configure serves the feeds
// with publish: true and logs each edition it deletes.
func TestPublisherConfigureFollowsThePublishFlag(t *testing.T) {
	dir := t.TempDir()
	p, err := NewPublisher(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	publishString(t, p, "a", "<rss>a</rss>")
	publishString(t, p, "b", "<rss>b</rss>")
	os.WriteFile(filepath.Join(dir, ".a.xml.tmp-crashed"), []byte("<rss>half"), 0o600)
	var logs strings.Builder
	cfg := &config.Config{PublishDir: dir, Feeds: []config.Feed{{Name: "a", Publish: true}, {Name: "b"}}}
	p.Configure(cfg, zerolog.New(&logs))
	if rec := get(t, p, "/feeds/a.xml", nil); rec.Code != http.StatusOK {
		t.Errorf("a (publish: true): status %d", rec.Code)
	}
	if rec := get(t, p, "/feeds/b.xml", nil); rec.Code != http.StatusNotFound {
		t.Errorf("b (publish: false): status %d, want 404", rec.Code)
	}
	if names := dirNames(t, dir); len(names) != 1 || names[0] != "a.xml" {
		t.Errorf("folder holds %q, want a.xml alone (b's edition and the crashed temporary file deleted)", names)
	}
	if !strings.Contains(logs.String(), filepath.Join(dir, "b.xml")) || !strings.Contains(logs.String(), ".a.xml.tmp-crashed") {
		t.Errorf("the deletions are not logged:\n%s", logs.String())
	}
}

// TestPublisherNeverFollowsSymlinks: an edition that is a symbolic link,
// to a file outside the folder or inside it, is never served; publishing
// replaces the link instead of writing through it; and replacing the folder
// itself changes nothing served.
func TestPublisherNeverFollowsSymlinks(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "published")
	secret := filepath.Join(base, "secret.txt")
	os.WriteFile(secret, []byte("s3cret"), 0o644)
	p, err := NewPublisher(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.SetFeeds([]string{"shop", "evil", "inner", "gone"}); err != nil {
		t.Fatal(err)
	}
	publishString(t, p, "shop", "<rss>shop</rss>")
	if err := os.Symlink(secret, filepath.Join(dir, "evil.xml")); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	os.Symlink("shop.xml", filepath.Join(dir, "inner.xml"))
	for _, path := range []string{"/feeds/evil.xml", "/feeds/inner.xml"} {
		rec := get(t, p, path, nil)
		if rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), "s3cret") || strings.Contains(rec.Body.String(), "<rss>") {
			t.Errorf("%s (a symbolic link): status %d, body %q; want 404", path, rec.Code, rec.Body.String())
		}
	}
	t.Run("PublishReplacesTheLink", func(t *testing.T) {
		publishString(t, p, "evil", "<rss>evil</rss>")
		if b, _ := os.ReadFile(secret); string(b) != "s3cret" {
			t.Fatalf("publishing wrote through the link: the target now holds %q", b)
		}
		if st, err := os.Lstat(filepath.Join(dir, "evil.xml")); err != nil || !st.Mode().IsRegular() {
			t.Errorf("evil.xml after publishing: %v, %v; want a regular file", st, err)
		}
		if rec := get(t, p, "/feeds/evil.xml", nil); rec.Code != http.StatusOK || rec.Body.String() != "<rss>evil</rss>" {
			t.Errorf("status %d, body %q", rec.Code, rec.Body.String())
		}
	})
	t.Run("SetFeedsDeletesLinks", func(t *testing.T) {
		os.Symlink(secret, filepath.Join(dir, "gone.xml"))
		if _, err := p.SetFeeds([]string{"shop", "evil", "inner", "gone"}); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"inner.xml", "gone.xml"} {
			if _, err := os.Lstat(filepath.Join(dir, f)); !os.IsNotExist(err) {
				t.Errorf("%s (a symbolic link) is still there: %v", f, err)
			}
		}
		if b, err := os.ReadFile(secret); err != nil || string(b) != "s3cret" {
			t.Errorf("the link's target was touched: %q, %v", b, err)
		}
	})
	t.Run("ReplacedFolderChangesNothing", func(t *testing.T) {
		other := filepath.Join(base, "other")
		os.MkdirAll(other, 0o755)
		os.WriteFile(filepath.Join(other, "shop.xml"), []byte("<rss>planted</rss>"), 0o644)
		os.WriteFile(filepath.Join(other, "inner.xml"), []byte("<rss>planted</rss>"), 0o644)
		if err := os.Rename(dir, dir+".moved"); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(other, dir); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/feeds/shop.xml", "/feeds/inner.xml"} {
			if rec := get(t, p, path, nil); strings.Contains(rec.Body.String(), "planted") {
				t.Errorf("%s served the replaced folder's file", path)
			}
		}
		if rec := get(t, p, "/feeds/shop.xml", nil); rec.Code != http.StatusOK || rec.Body.String() != "<rss>shop</rss>" {
			t.Errorf("shop.xml: status %d, body %q; want the edition in the folder opened at start", rec.Code, rec.Body.String())
		}
		var logs strings.Builder
		p.Configure(&config.Config{PublishDir: dir, Feeds: []config.Feed{{Name: "shop", Publish: true}}}, zerolog.New(&logs))
		if !strings.Contains(logs.String(), "was moved or replaced") {
			t.Errorf("the replaced folder is not logged:\n%s", logs.String())
		}
		if _, err := os.Stat(filepath.Join(other, "inner.xml")); err != nil {
			t.Errorf("Configure deleted a file in the folder that replaced publish_dir: %v", err)
		}
	})
}
