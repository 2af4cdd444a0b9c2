package feed

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zeebo/xxh3"
)

const tsvFeed = "id\ttitle\tprice\nA1\tShirt\t10.00 USD\nA2\tHat\t5.00 USD\n"

// fastRetries keeps retry tests quick.
func fastRequest(url string) Request {
	return Request{URL: url, RetryBackoff: time.Millisecond, Timeout: 5 * time.Second}
}

func readBody(t *testing.T, resp *Response) ([]byte, error) {
	t.Helper()
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

func TestFetchHTTP(t *testing.T) {
	t.Run("OKBodyHashedAndCounted", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("ETag", `"v1"`)
			w.Header().Set("Last-Modified", "Mon, 02 Jan 2026 15:04:05 GMT")
			io.WriteString(w, tsvFeed)
		}))
		defer srv.Close()
		resp, err := Fetch(context.Background(), fastRequest(srv.URL+"/feed.tsv"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := readBody(t, resp)
		if err != nil || string(got) != tsvFeed {
			t.Fatalf("body %q, %v; want the feed", got, err)
		}
		if resp.ETag != `"v1"` || resp.LastModified != "Mon, 02 Jan 2026 15:04:05 GMT" {
			t.Errorf("validators: got %q %q", resp.ETag, resp.LastModified)
		}
		if resp.Body.Sum() != xxh3.Hash128([]byte(tsvFeed)).Bytes() || resp.Body.BytesRead() != int64(len(tsvFeed)) {
			t.Errorf("Sum or BytesRead do not describe the body")
		}
		if resp.Attempts != 1 {
			t.Errorf("attempts: got %d, want 1", resp.Attempts)
		}
	})

	t.Run("ConditionalGETRoundTrip", func(t *testing.T) {
		const etag, lastMod = `"abc123"`, "Tue, 03 Feb 2026 10:00:00 GMT"
		var gotINM, gotIMS atomic.Value
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			gotINM.Store(r.Header.Get("If-None-Match"))
			gotIMS.Store(r.Header.Get("If-Modified-Since"))
			if r.Header.Get("If-None-Match") == etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("ETag", etag)
			w.Header().Set("Last-Modified", lastMod)
			io.WriteString(w, tsvFeed)
		}))
		defer srv.Close()
		first, err := Fetch(context.Background(), fastRequest(srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := readBody(t, first); err != nil || first.NotModified {
			t.Fatalf("first fetch: %v, NotModified %v", err, first.NotModified)
		}
		if gotINM.Load() != "" {
			t.Errorf("first fetch sent If-None-Match %q", gotINM.Load())
		}
		req := fastRequest(srv.URL)
		req.ETag, req.LastModified = first.ETag, first.LastModified
		second, err := Fetch(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if !second.NotModified || second.Body != nil {
			t.Fatalf("second fetch: NotModified %v, Body %v; want a 304", second.NotModified, second.Body)
		}
		if gotINM.Load() != etag || gotIMS.Load() != lastMod {
			t.Errorf("validators sent: If-None-Match %q If-Modified-Since %q; want %q %q", gotINM.Load(), gotIMS.Load(), etag, lastMod)
		}
	})

	t.Run("UnchangedBodySameSum", func(t *testing.T) {
		// A server that ignores validators: the body hash tells the run that
		// nothing changed.
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, tsvFeed) }))
		defer srv.Close()
		var sums [2][16]byte
		for i := range sums {
			req := fastRequest(srv.URL)
			req.ETag = `"ignored"`
			resp, err := Fetch(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.NotModified {
				t.Fatal("NotModified from a server that ignores validators")
			}
			if _, err := readBody(t, resp); err != nil {
				t.Fatal(err)
			}
			sums[i] = resp.Body.Sum()
		}
		if sums[0] != sums[1] {
			t.Error("the same body hashed differently")
		}
	})

	t.Run("5xxRetriedThenSuccess", func(t *testing.T) {
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if hits.Add(1) <= 2 {
				http.Error(w, "busy", []int{http.StatusServiceUnavailable, http.StatusBadGateway}[hits.Load()-1])
				return
			}
			io.WriteString(w, tsvFeed)
		}))
		defer srv.Close()
		resp, err := Fetch(context.Background(), fastRequest(srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := readBody(t, resp); err != nil || string(got) != tsvFeed {
			t.Fatalf("body %q, %v", got, err)
		}
		if resp.Attempts != 3 || hits.Load() != 3 {
			t.Errorf("attempts %d, hits %d; want 3", resp.Attempts, hits.Load())
		}
	})

	t.Run("RetriesExhausted", func(t *testing.T) {
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			http.Error(w, "down", http.StatusInternalServerError)
		}))
		defer srv.Close()
		req := fastRequest(srv.URL)
		req.Retries = 2
		_, err := Fetch(context.Background(), req)
		var he *HTTPError
		if !errors.As(err, &he) || he.Status != 500 {
			t.Fatalf("got %v, want an HTTPError 500", err)
		}
		if hits.Load() != 3 || !strings.Contains(err.Error(), "gave up after 3 attempts") {
			t.Errorf("hits %d, error %q; want 3 attempts", hits.Load(), err)
		}
	})

	t.Run("404NotRetried", func(t *testing.T) {
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			http.NotFound(w, r)
		}))
		defer srv.Close()
		_, err := Fetch(context.Background(), fastRequest(srv.URL))
		if err == nil || hits.Load() != 1 || !strings.Contains(err.Error(), "404") {
			t.Errorf("got %v after %d hits; want a 404 after one", err, hits.Load())
		}
	})

	t.Run("429HonoursRetryAfter", func(t *testing.T) {
		var hits atomic.Int32
		var first time.Time
		var waited time.Duration
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if hits.Add(1) == 1 {
				first = time.Now()
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			waited = time.Since(first)
			io.WriteString(w, tsvFeed)
		}))
		defer srv.Close()
		resp, err := Fetch(context.Background(), fastRequest(srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		if waited < 900*time.Millisecond {
			t.Errorf("retried after %s, want at least the 1s of Retry-After", waited)
		}
	})

	t.Run("RetryAfterTooLongGivesUp", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusServiceUnavailable)
		}))
		defer srv.Close()
		start := time.Now()
		_, err := Fetch(context.Background(), fastRequest(srv.URL))
		if err == nil || !strings.Contains(err.Error(), "retry after 1h0m0s") || time.Since(start) > 2*time.Second {
			t.Errorf("got %v after %s; want a quick error naming the hour", err, time.Since(start))
		}
	})

	t.Run("ResetBeforeBodyRetried", func(t *testing.T) {
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if hits.Add(1) == 1 {
				conn, _, err := w.(http.Hijacker).Hijack()
				if err == nil {
					conn.Close() // no status line at all
				}
				return
			}
			io.WriteString(w, tsvFeed)
		}))
		defer srv.Close()
		resp, err := Fetch(context.Background(), fastRequest(srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := readBody(t, resp); string(got) != tsvFeed || hits.Load() != 2 {
			t.Errorf("body %q after %d hits", got, hits.Load())
		}
	})

	t.Run("TruncatedBody", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1000")
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, tsvFeed)
			w.(http.Flusher).Flush()
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}))
		defer srv.Close()
		resp, err := Fetch(context.Background(), fastRequest(srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		_, err = readBody(t, resp)
		if !errors.Is(err, ErrShortBody) || !strings.Contains(err.Error(), fmt.Sprintf("got %d of 1000 bytes", len(tsvFeed))) {
			t.Errorf("got %v, want ErrShortBody with the counts", err)
		}
	})

	t.Run("TruncatedBodyFailsTheParse", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1000")
			io.WriteString(w, tsvFeed)
			w.(http.Flusher).Flush()
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				conn.Close()
			}
		}))
		defer srv.Close()
		resp, err := Fetch(context.Background(), fastRequest(srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_, _, err = readAll(t, resp.Body, FormatAuto)
		if !errors.Is(err, ErrShortBody) {
			t.Errorf("parse of a cut-off download: got %v, want ErrShortBody", err)
		}
	})

	t.Run("TruncatedContentEncodingGzip", func(t *testing.T) {
		gz := gzipBytes(t, syntheticDelimited(200, '\t'))
		cut := gz[:len(gz)/2]
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Length", strconv.Itoa(len(cut)))
			w.Write(cut)
		}))
		defer srv.Close()
		resp, err := Fetch(context.Background(), fastRequest(srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_, _, err = readAll(t, resp.Body, FormatAuto)
		if !errors.Is(err, ErrShortBody) {
			t.Errorf("got %v, want ErrShortBody", err)
		}
	})

	t.Run("OversizeAnnounced", func(t *testing.T) {
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			w.Header().Set("Content-Length", "5000")
			io.WriteString(w, strings.Repeat("x", 5000))
		}))
		defer srv.Close()
		req := fastRequest(srv.URL)
		req.MaxBytes = 1000
		_, err := Fetch(context.Background(), req)
		if !errors.Is(err, ErrTooLarge) || hits.Load() != 1 {
			t.Errorf("got %v after %d hits, want ErrTooLarge at once", err, hits.Load())
		}
	})

	t.Run("OversizeStreamed", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for i := 0; i < 100; i++ { // chunked: no Content-Length
				io.WriteString(w, strings.Repeat("x", 1000))
				w.(http.Flusher).Flush()
			}
		}))
		defer srv.Close()
		req := fastRequest(srv.URL)
		req.MaxBytes = 10000
		resp, err := Fetch(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		got, err := readBody(t, resp)
		if !errors.Is(err, ErrTooLarge) || len(got) > 10001 {
			t.Errorf("read %d bytes, %v; want ErrTooLarge by 10000", len(got), err)
		}
	})

	t.Run("GzipBombFile", func(t *testing.T) {
		bomb := gzipBytes(t, bytes.Repeat([]byte("id\ttitle\n"), 1<<19)) // 4.5 MiB inflated
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(bomb) }))
		defer srv.Close()
		resp, err := Fetch(context.Background(), fastRequest(srv.URL+"/feed.tsv.gz"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		r, err := NewReader(resp.Body, srv.URL, FormatAuto, MaxDecompressedBytes(1<<20))
		if err == nil {
			for err == nil {
				_, err = r.Next()
			}
		}
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("got %v, want ErrTooLarge from the decompressed cap", err)
		}
	})

	t.Run("GzipBombContentEncoding", func(t *testing.T) {
		bomb := gzipBytes(t, bytes.Repeat([]byte("x"), 8<<20))
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(bomb)
		}))
		defer srv.Close()
		req := fastRequest(srv.URL)
		req.MaxBytes = 1 << 20
		resp, err := Fetch(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		got, err := readBody(t, resp)
		if !errors.Is(err, ErrTooLarge) || len(got) > 1<<20+1 {
			t.Errorf("read %d bytes, %v; want ErrTooLarge at 1 MiB", len(got), err)
		}
	})

	t.Run("Redirects", func(t *testing.T) {
		var srv *httptest.Server
		srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/r/"))
			if n > 0 {
				http.Redirect(w, r, fmt.Sprintf("%s/r/%d", srv.URL, n-1), http.StatusFound)
				return
			}
			io.WriteString(w, tsvFeed)
		}))
		defer srv.Close()
		resp, err := Fetch(context.Background(), fastRequest(srv.URL+"/r/5"))
		if err != nil {
			t.Fatalf("5 redirects: %v", err)
		}
		if got, _ := readBody(t, resp); string(got) != tsvFeed {
			t.Errorf("after 5 redirects: body %q", got)
		}
		_, err = Fetch(context.Background(), fastRequest(srv.URL+"/r/6"))
		if !errors.Is(err, ErrTooManyRedirects) {
			t.Errorf("6 redirects: got %v, want ErrTooManyRedirects", err)
		}
		req := fastRequest(srv.URL + "/r/3")
		req.MaxRedirects = 2
		if _, err = Fetch(context.Background(), req); !errors.Is(err, ErrTooManyRedirects) {
			t.Errorf("3 redirects with MaxRedirects 2: got %v", err)
		}
	})

	t.Run("SlowServerTimesOut", func(t *testing.T) {
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}))
		defer srv.Close()
		req := fastRequest(srv.URL)
		req.AttemptTimeout = 100 * time.Millisecond
		req.Retries = 1
		start := time.Now()
		_, err := Fetch(context.Background(), req)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no response within 100ms") {
			t.Errorf("got %v, want a timeout naming the limit", err)
		}
		if el := time.Since(start); el > 2*time.Second || hits.Load() != 2 {
			t.Errorf("took %s with %d hits; want two quick attempts", el, hits.Load())
		}
	})

	t.Run("TimeoutBoundsTheWholeFetch", func(t *testing.T) {
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}))
		defer srv.Close()
		req := fastRequest(srv.URL)
		req.Timeout = 300 * time.Millisecond // 4 attempts of 75ms each
		start := time.Now()
		_, err := Fetch(context.Background(), req)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("got %v, want a timeout", err)
		}
		if el := time.Since(start); el > time.Second || hits.Load() < 2 {
			t.Errorf("took %s with %d hits; want retries within the 300ms", el, hits.Load())
		}
	})

	t.Run("SlowBodyTimesOut", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "id\ttitle\n")
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}))
		defer srv.Close()
		req := fastRequest(srv.URL)
		req.Timeout = 200 * time.Millisecond
		resp, err := Fetch(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		_, err = readBody(t, resp)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "longer than the feed's timeout") {
			t.Errorf("got %v, want a timeout while reading", err)
		}
	})

	t.Run("CancelledContextStopsRetries", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "down", http.StatusBadGateway)
		}))
		defer srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		defer cancel()
		req := fastRequest(srv.URL)
		req.RetryBackoff = 10 * time.Second
		start := time.Now()
		_, err := Fetch(ctx, req)
		if err == nil || time.Since(start) > 2*time.Second {
			t.Errorf("got %v after %s; want a quick error", err, time.Since(start))
		}
	})
}

func TestFetchSecretsStaySecret(t *testing.T) {
	var gotUser, gotPass, gotToken atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		gotUser.Store(u)
		gotPass.Store(p)
		gotToken.Store(r.Header.Get("X-Api-Token"))
		http.Error(w, "nope, sekr3t-pass was wrong", http.StatusInternalServerError)
	}))
	defer srv.Close()
	u := strings.Replace(srv.URL, "http://", "http://shopuser:sekr3t-pass@", 1) + "/feed.xml?token=sekr3t-query&x=1#frag"
	req := fastRequest(u)
	req.Headers = map[string]string{"X-Api-Token": "sekr3t-header"}
	req.Retries = 1
	_, err := Fetch(context.Background(), req)
	if err == nil {
		t.Fatal("want an error")
	}
	if gotUser.Load() != "shopuser" || gotPass.Load() != "sekr3t-pass" || gotToken.Load() != "sekr3t-header" {
		t.Errorf("credentials did not reach the server: %v %v %v", gotUser.Load(), gotPass.Load(), gotToken.Load())
	}
	msgs := []string{err.Error()}
	// Connection errors and parse errors name the source too.
	_, err = Fetch(context.Background(), Request{URL: "http://shopuser:sekr3t-pass@127.0.0.1:1/feed?token=sekr3t-query", Retries: -1})
	msgs = append(msgs, err.Error())
	_, err = NewReader(strings.NewReader(""), u, FormatAuto)
	msgs = append(msgs, err.Error())
	for _, m := range msgs {
		if strings.Contains(m, "sekr3t") || strings.Contains(m, "shopuser") {
			t.Errorf("error shows a secret: %s", m)
		}
	}
}

func TestFetchFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "feed.tsv")
	if err := os.WriteFile(p, []byte(tsvFeed), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{p, "file://" + p, "file://localhost" + p} {
		resp, err := Fetch(context.Background(), Request{URL: u})
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if got, err := readBody(t, resp); err != nil || string(got) != tsvFeed {
			t.Errorf("%s: body %q, %v", u, got, err)
		}
	}
	if _, err := Fetch(context.Background(), Request{URL: p, MaxBytes: 10}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("file over MaxBytes: got %v, want ErrTooLarge", err)
	}
	if _, err := Fetch(context.Background(), Request{URL: dir}); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: got %v", err)
	}
	if _, err := Fetch(context.Background(), Request{URL: filepath.Join(dir, "missing.tsv")}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v, want ErrNotExist", err)
	}
	if _, err := Fetch(context.Background(), Request{URL: "ftp://example.com/feed.tsv"}); err == nil || !strings.Contains(err.Error(), "unsupported scheme") {
		t.Errorf("ftp: got %v", err)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"7":                             7 * time.Second,
		"-3":                            0,
		"soon":                          0,
		"Fri, 02 Jan 2026 15:04:35 GMT": 30 * time.Second,
		"Fri, 02 Jan 2026 15:00:00 GMT": 0,
	} {
		if got := retryAfter(in, now); got != want {
			t.Errorf("retryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestJitterStaysInRange(t *testing.T) {
	for _, d := range []time.Duration{0, 1, 2, time.Millisecond, time.Second, 30 * time.Second} {
		for i := 0; i < 100; i++ {
			if j := jitter(d); j < d/2 || j > d {
				t.Fatalf("jitter(%s) = %s, want within [%s, %s]", d, j, d/2, d)
			}
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:pass@example.com/feed.xml?token=abc#x": "https://example.com/feed.xml?…",
		"https://example.com/feed.xml":                       "https://example.com/feed.xml",
		"http://example.com/a?":                              "http://example.com/a?…",
		"://bad":                                             "<invalid url>",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}
