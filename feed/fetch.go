package feed

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// DefaultMaxBytes is the largest feed read by default: 4 GiB, User.com's own
// limit for a product feed.
const DefaultMaxBytes = 4 << 30

// ErrTooLarge is returned by a Body read past Request.MaxBytes.
var ErrTooLarge = errors.New("the feed is larger than the configured max size")

// ErrShortBody is returned when the server sent fewer bytes than it announced.
var ErrShortBody = errors.New("the feed ended short of its Content-Length: the download was cut off")

// Request describes one fetch of a feed.
type Request struct {
	URL          string            // a path, file://, http:// or https://
	Headers      map[string]string // extra HTTP headers (auth)
	Timeout      time.Duration     // whole request; 0 means none
	MaxBytes     int64             // 0 means DefaultMaxBytes
	ETag         string            // validators of the last successful fetch; empty to fetch unconditionally
	LastModified string
	Client       *http.Client // nil means a client with capped redirects
	UserAgent    string
}

// Response is an open feed body, or a 304.
type Response struct {
	NotModified  bool
	Body         *Body // nil when NotModified
	ETag         string
	LastModified string
}

// Body counts and hashes the bytes read through it, enforces the size cap,
// and reports a body shorter than announced as ErrShortBody.
type Body struct {
	rc       io.ReadCloser
	h        hash.Hash
	n        int64
	max      int64
	expected int64 // -1 when unknown
	cancel   context.CancelFunc
}

func newBody(rc io.ReadCloser, max, expected int64, cancel context.CancelFunc) *Body {
	if max <= 0 {
		max = DefaultMaxBytes
	}
	return &Body{rc: rc, h: sha256.New(), max: max, expected: expected, cancel: cancel}
}

func (b *Body) Read(p []byte) (int, error) {
	if int64(len(p)) > b.max-b.n+1 {
		p = p[:b.max-b.n+1]
	}
	n, err := b.rc.Read(p)
	b.n += int64(n)
	b.h.Write(p[:n])
	if b.n > b.max {
		return n, fmt.Errorf("%w (%d bytes)", ErrTooLarge, b.max)
	}
	if err == io.EOF && b.expected >= 0 && b.n != b.expected {
		return n, fmt.Errorf("%w: got %d of %d bytes", ErrShortBody, b.n, b.expected)
	}
	if err != nil && err != io.EOF {
		return n, fmt.Errorf("reading the feed: %w", err)
	}
	return n, err
}

// Close releases the body.
func (b *Body) Close() error {
	err := b.rc.Close()
	if b.cancel != nil {
		b.cancel()
	}
	return err
}

// BytesRead is the number of raw bytes read so far.
func (b *Body) BytesRead() int64 { return b.n }

// Sum is the SHA-256 of the raw bytes read so far; after EOF, of the whole body.
func (b *Body) Sum() [32]byte {
	var s [32]byte
	copy(s[:], b.h.Sum(nil))
	return s
}

// Fetch opens a feed. For HTTP it sends If-None-Match / If-Modified-Since from
// the request's validators; a 304 comes back as Response.NotModified.
func Fetch(ctx context.Context, req Request) (*Response, error) {
	u := req.URL
	switch {
	case strings.HasPrefix(u, "http://"), strings.HasPrefix(u, "https://"):
		return fetchHTTP(ctx, req)
	case strings.HasPrefix(u, "file://"):
		pu, err := url.Parse(u)
		if err != nil {
			return nil, fmt.Errorf("feed url %q: %w", u, err)
		}
		u = pu.Path
	}
	f, err := os.Open(u)
	if err != nil {
		return nil, fmt.Errorf("open feed: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open feed: %w", err)
	}
	if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("open feed: %s is a directory, not a feed file", u)
	}
	return &Response{Body: newBody(f, req.MaxBytes, -1, nil)}, nil
}

const maxRedirects = 5

func fetchHTTP(ctx context.Context, req Request) (*Response, error) {
	client := req.Client
	if client == nil {
		client = &http.Client{CheckRedirect: func(r *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("stopped after %d redirects", maxRedirects)
			}
			return nil
		}}
	}
	var cancel context.CancelFunc
	if req.Timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, req.Timeout)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, req.URL, nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("feed url %q: %w", redact(req.URL), err)
	}
	if req.UserAgent != "" {
		hr.Header.Set("User-Agent", req.UserAgent)
	}
	for k, v := range req.Headers {
		hr.Header.Set(k, v)
	}
	if req.ETag != "" {
		hr.Header.Set("If-None-Match", req.ETag)
	}
	if req.LastModified != "" {
		hr.Header.Set("If-Modified-Since", req.LastModified)
	}
	resp, err := client.Do(hr)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("fetch %s: %w", redact(req.URL), err)
	}
	out := &Response{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
	switch {
	case resp.StatusCode == http.StatusNotModified:
		resp.Body.Close()
		cancel()
		out.NotModified = true
		return out, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		resp.Body.Close()
		cancel()
		return nil, &HTTPError{URL: redact(req.URL), Status: resp.StatusCode}
	}
	max := req.MaxBytes
	if max <= 0 {
		max = DefaultMaxBytes
	}
	if resp.ContentLength > max {
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("fetch %s: %w: the server announced %d bytes, the limit is %d", redact(req.URL), ErrTooLarge, resp.ContentLength, max)
	}
	expected := resp.ContentLength
	if resp.Uncompressed {
		expected = -1
	}
	out.Body = newBody(resp.Body, max, expected, cancel)
	return out, nil
}

// HTTPError is a non-2xx answer from a feed server.
type HTTPError struct {
	URL    string
	Status int
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("fetch %s: the server answered %d %s", e.URL, e.Status, http.StatusText(e.Status))
}

// Temporary reports whether retrying may help (5xx, 429, 408).
func (e *HTTPError) Temporary() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests || e.Status == http.StatusRequestTimeout
}

// redact drops user info and query from a URL for messages: both may carry secrets.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<invalid url>"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	return u.String()
}
