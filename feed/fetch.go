package feed

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/zeebo/xxh3"
)

// DefaultMaxBytes is the largest feed read by default: 4 GiB, User.com's own
// limit for a product feed.
const DefaultMaxBytes = 4 << 30

// ErrTooLarge is returned by a Body read past Request.MaxBytes.
var ErrTooLarge = errors.New("the feed is larger than the configured max size")

// ErrShortBody is returned when the server sent fewer bytes than it announced.
var ErrShortBody = errors.New("the feed ended short of its Content-Length: the download was cut off")

// ErrTooManyRedirects is returned when a feed URL redirects more than
// Request.MaxRedirects times.
var ErrTooManyRedirects = errors.New("too many redirects")

// Defaults of a Request's retry policy.
const (
	DefaultMaxRedirects = 5
	DefaultRetries      = 3
	DefaultRetryBackoff = time.Second
	maxRetryBackoff     = 30 * time.Second
	// maxRetryAfter is the longest Retry-After honoured; a server asking for
	// more fails the fetch, to be tried again at the next scheduled run.
	maxRetryAfter = 2 * time.Minute
)

// Request describes one fetch of a feed.
type Request struct {
	URL          string            // a path, file://, http:// or https://; user info is sent as basic auth, to this URL's origin only
	Headers      map[string]string // extra HTTP headers (auth), sent to URL's origin only; their values never appear in errors
	Timeout      time.Duration     // the whole fetch: every attempt, the waits between them and the body; 0 means none
	MaxBytes     int64             // 0 means DefaultMaxBytes
	ETag         string            // validators of the last successful fetch; empty to fetch unconditionally
	LastModified string
	UserAgent    string

	// Client is the HTTP client; nil means one with a transport like
	// http.DefaultTransport. Its CheckRedirect, if set, replaces the
	// MaxRedirects limit but not the redirect checks of Fetch, which run
	// after it. An *http.Transport is cloned for the fetch with its
	// dialers wrapped to check every address they connect to (its
	// DialContext is handed addresses, not names); any other RoundTripper
	// is used as is, and redirect targets are then resolved and checked
	// before they are followed.
	Client *http.Client

	// Log receives the warning that a redirect to another origin dropped
	// the configured headers and user info (once per fetch). The zero
	// Logger is silent.
	Log zerolog.Logger

	// AttemptTimeout bounds one attempt's wait for the response headers, so
	// that a hung server leaves time for a retry. 0 means Timeout divided
	// among the attempts (none when Timeout is 0).
	AttemptTimeout time.Duration

	MaxRedirects int           // 0 means DefaultMaxRedirects; negative means none followed
	Retries      int           // retries of a transient failure; 0 means DefaultRetries, negative none
	RetryBackoff time.Duration // first wait before a retry, doubled each time (capped at 30s, jittered); 0 means DefaultRetryBackoff

	// Test hooks: lookupHost stands in for DNS; publicAddr makes the
	// addresses it reports count as public.
	lookupHost func(ctx context.Context, host string) ([]netip.Addr, error)
	publicAddr func(netip.Addr) bool
}

// Response is an open feed body, or a 304.
type Response struct {
	NotModified  bool
	Body         *Body // nil when NotModified
	ETag         string
	LastModified string
	Attempts     int // HTTP requests made, retries included
}

// Body counts and hashes the bytes read through it, enforces the size cap,
// and reports a body shorter than announced as ErrShortBody.
type Body struct {
	rc       io.ReadCloser
	h        *xxh3.Hasher
	n        int64
	max      int64
	expected int64 // -1 when unknown
	cancel   context.CancelFunc
	ctx      context.Context // of the request; nil for a file
	timeout  time.Duration
	file     *os.File // a regular file's, which Rewind can read again
	size     int64    // the regular file's size, -1 otherwise
}

func newBody(rc io.ReadCloser, max, expected int64, cancel context.CancelFunc) *Body {
	if max <= 0 {
		max = DefaultMaxBytes
	}
	return &Body{rc: rc, h: xxh3.New(), max: max, expected: expected, cancel: cancel, size: -1}
}

// FileSize is the size of a regular file's body as it was opened; -1 for a
// body that is not a regular file (HTTP, a pipe).
func (b *Body) FileSize() int64 { return b.size }

// Rewindable reports whether Rewind can read the body again: a regular
// file's can.
func (b *Body) Rewindable() bool { return b.file != nil }

// Announced is the length the server announced (Content-Length), -1 when
// it announced none or the body is not an HTTP one.
func (b *Body) Announced() int64 { return b.expected }

// Spool reads the rest of a body that cannot be read twice (HTTP) into an
// unlinked temporary file in dir ("": the system's), counting and hashing
// it as any read does: after it, Sum is the whole body's hash, and the body
// is a rewindable one at its end, whose Rewind reads the spooled bytes
// again. A caller learns whether a download changed at the cost of a copy
// to disk, and parses it only when it did. A body already rewindable is
// left as it is. A failed read (size cap, short body, timeout) is returned
// as Read returns it.
//
// When the temporary file cannot be written (no space, no directory), the
// body is still read to its end and hashed, and Spool returns an error
// wrapping ErrNotSpooled: the hash still tells an unchanged body, and a
// changed one must be fetched again to be parsed.
func (b *Body) Spool(dir string) error {
	if b.file != nil {
		return nil
	}
	var werr error
	f, err := os.CreateTemp(dir, "feedsync-body-*")
	removed := false
	if err != nil {
		werr = err
	} else {
		// Unlinked at once where the system allows it: a killed process
		// leaves nothing behind.
		removed = os.Remove(f.Name()) == nil
	}
	drop := func() {
		if f != nil {
			f.Close()
			if !removed {
				os.Remove(f.Name())
			}
			f = nil
		}
	}
	buf := make([]byte, 256<<10)
	for {
		n, rerr := b.Read(buf)
		if n > 0 && f != nil {
			if _, err := f.Write(buf[:n]); err != nil {
				werr = err
				drop()
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			drop()
			return rerr
		}
	}
	b.rc.Close()
	if b.cancel != nil {
		b.cancel()
		b.cancel = nil
	}
	b.ctx = nil
	if f == nil {
		b.rc = io.NopCloser(eofReader{})
		return fmt.Errorf("%w: %v (set TMPDIR to a directory with room for the feed)", ErrNotSpooled, werr)
	}
	b.rc = &spoolFile{File: f, name: f.Name(), removed: removed}
	b.file, b.size = f, b.n
	return nil
}

// ErrNotSpooled is returned by Spool when the body was hashed but could not
// be kept to be read again.
var ErrNotSpooled = errors.New("the feed could not be spooled to a temporary file")

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// spoolFile is a spooled body's file, removed on Close where it could not
// be unlinked while open.
type spoolFile struct {
	*os.File
	name    string
	removed bool
}

func (s *spoolFile) Close() error {
	err := s.File.Close()
	if !s.removed {
		os.Remove(s.name)
	}
	return err
}

// Rewind starts the body over, counters and hash too: a caller that hashed
// a file's bytes to learn whether they changed reads them again to parse.
func (b *Body) Rewind() error {
	if b.file == nil {
		return errors.New("this feed body cannot be read twice")
	}
	if _, err := b.file.Seek(0, io.SeekStart); err != nil {
		return err
	}
	b.h.Reset()
	b.n = 0
	return nil
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
	switch {
	case err == nil:
	case err == io.EOF:
		if b.expected >= 0 && b.n != b.expected {
			return n, fmt.Errorf("%w: got %d of %d bytes", ErrShortBody, b.n, b.expected)
		}
	case b.ctx != nil && errors.Is(context.Cause(b.ctx), errFetchTimeout):
		return n, fmt.Errorf("reading the feed: the download took longer than the feed's timeout (%s) after %d bytes: %w", b.timeout, b.n, context.DeadlineExceeded)
	case errors.Is(err, io.ErrUnexpectedEOF):
		if b.expected >= 0 {
			return n, fmt.Errorf("%w: got %d of %d bytes", ErrShortBody, b.n, b.expected)
		}
		return n, fmt.Errorf("%w: the connection closed after %d bytes", ErrShortBody, b.n)
	default:
		return n, fmt.Errorf("reading the feed after %d bytes: %w", b.n, err)
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

// Sum is the XXH3-128 hash of the raw bytes read so far; after EOF, of the
// whole body. It only tells an unchanged body from a changed one, so it need
// not be cryptographic, and it runs at memory speed (SHA-256 took over a
// second of CPU for a 2 GB feed).
func (b *Body) Sum() [16]byte { return b.h.Sum128().Bytes() }

// Fetch opens a feed. For HTTP it sends If-None-Match / If-Modified-Since from
// the request's validators; a 304 comes back as Response.NotModified (a 304
// to a request without validators is an error: there is nothing it could be
// unmodified from). Transient failures before the body starts (timeouts,
// connection resets, 5xx, 429, 408) are retried with capped exponential
// backoff and jitter, waiting at least what a Retry-After header asks. Errors
// name the URL without its user info and query, and never include header
// values.
//
// Redirects (at most MaxRedirects) are followed only where they are safe,
// else the fetch fails at once with ErrUnsafeTarget, naming the target and
// before anything is sent to it, and is not retried:
//   - only to http:// and https:// URLs (never file:// or another scheme),
//     and never from https to plain http;
//   - never to a loopback (127.0.0.0/8, ::1), private (10/8, 172.16/12,
//     192.168/16, 100.64/10, 0/8, fc00::/7) or link-local (169.254/16, the
//     cloud metadata endpoint 169.254.169.254 included, fe80::/10) address
//     unless the feed URL's own host is on one of the same kind: an intranet
//     feed (loopback or private) may redirect within loopback and private
//     addresses, a public one only to public addresses. A host name counts
//     by the addresses it resolves to, checked by the dialer on each
//     connection, so a name that resolves differently the second time
//     (DNS rebinding) gains nothing; the feed URL's own host is classified
//     by its addresses at the first connection. Through a proxy, names are
//     resolved and checked before a redirect is followed.
//
// Headers and the URL's user info (basic auth) are sent only to the feed
// URL's origin (scheme, host and port): once a redirect leaves it they are
// dropped, with the Referer, for the rest of that request, and Log gets a
// warning, once per fetch. Redirects within the origin keep them.
func Fetch(ctx context.Context, req Request) (*Response, error) {
	u := req.URL
	switch {
	case strings.HasPrefix(u, "http://"), strings.HasPrefix(u, "https://"):
		return fetchHTTP(ctx, req)
	case strings.HasPrefix(u, "file://"):
		pu, err := url.Parse(u)
		if err != nil {
			return nil, fmt.Errorf("feed url %q: %w", redact(u), err)
		}
		if pu.Host != "" && pu.Host != "localhost" {
			return nil, fmt.Errorf("feed url %q: a file URL names a local file (file:///path)", redact(u))
		}
		u = pu.Path
	case strings.Contains(u, "://"):
		return nil, fmt.Errorf("feed url %q: unsupported scheme: use a path, file://, http:// or https://", redact(u))
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
	max := req.MaxBytes
	if max <= 0 {
		max = DefaultMaxBytes
	}
	if st.Mode().IsRegular() && st.Size() > max {
		f.Close()
		return nil, fmt.Errorf("open feed %s: %w: %d bytes, the limit is %d", u, ErrTooLarge, st.Size(), max)
	}
	b := newBody(f, req.MaxBytes, -1, nil)
	if st.Mode().IsRegular() {
		b.file, b.size = f, st.Size()
	}
	return &Response{Body: b}, nil
}

func fetchHTTP(ctx context.Context, req Request) (*Response, error) {
	name := redact(req.URL)
	cfg, err := url.Parse(req.URL)
	if err != nil {
		return nil, fmt.Errorf("feed url %q: %w", name, cleanURLError(err))
	}
	maxRedirects := req.MaxRedirects
	if maxRedirects == 0 {
		maxRedirects = DefaultMaxRedirects
	}
	policy := &fetchPolicy{cfg: cfg, name: name, headers: req.Headers, log: req.Log, lookupHost: req.lookupHost, publicAddr: req.publicAddr}
	client, closeIdle := policy.client(req.Client, maxRedirects)
	retries := req.Retries
	if retries == 0 {
		retries = DefaultRetries
	}
	retries = max(retries, 0)
	backoff := req.RetryBackoff
	if backoff <= 0 {
		backoff = DefaultRetryBackoff
	}
	attemptTimeout := req.AttemptTimeout
	if attemptTimeout <= 0 && req.Timeout > 0 {
		attemptTimeout = req.Timeout / time.Duration(retries+1)
	}
	var cancelCtx context.CancelFunc
	if req.Timeout > 0 {
		ctx, cancelCtx = context.WithTimeoutCause(ctx, req.Timeout, errFetchTimeout)
	} else {
		ctx, cancelCtx = context.WithCancel(ctx)
	}
	cancel := func() { cancelCtx(); closeIdle() } // ends the fetch
	for attempt := 1; ; attempt++ {
		resp, wait, err := fetchOnce(ctx, cancel, client, req, name, attemptTimeout)
		if err == nil {
			resp.Attempts = attempt
			return resp, nil
		}
		if wait < 0 || attempt > retries || ctx.Err() != nil {
			cancel()
			if attempt > 1 && wait >= 0 {
				return nil, fmt.Errorf("%w (gave up after %d attempts)", err, attempt)
			}
			return nil, err
		}
		d := backoff
		for i := 1; i < attempt && d < maxRetryBackoff; i++ {
			d *= 2
		}
		d = jitter(min(d, maxRetryBackoff))
		if wait > maxRetryAfter {
			cancel()
			return nil, fmt.Errorf("%w: the server asks to retry after %s, longer than feedsync waits within a run (%s)", err, wait.Round(time.Second), maxRetryAfter)
		}
		d = max(d, wait)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			cancel()
			return nil, fmt.Errorf("%w (no retry: %w)", err, context.Cause(ctx))
		case <-t.C:
		}
	}
}

// jitter returns a duration between d/2 and d ("equal jitter"), so that
// feeds failing together do not retry together.
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// errFetchTimeout and errAttemptTimeout are the causes of the contexts that
// bound a whole fetch and one attempt's wait for headers.
var (
	errFetchTimeout   = errors.New("the feed's timeout expired")
	errAttemptTimeout = errors.New("no response headers in time")
)

// fetchOnce makes one request under ctx (the whole fetch; fetchCancel ends
// it and is handed to the Body). On failure wait is the least time to wait
// before a retry (0 when the server said nothing), or -1 when retrying cannot help.
func fetchOnce(fetchCtx context.Context, fetchCancel context.CancelFunc, client *http.Client, req Request, name string, attemptTimeout time.Duration) (*Response, time.Duration, error) {
	ctx, attemptCancel := context.WithCancelCause(fetchCtx)
	cancel := func() { attemptCancel(nil) }
	var headerTimer *time.Timer
	if attemptTimeout > 0 {
		headerTimer = time.AfterFunc(attemptTimeout, func() { attemptCancel(errAttemptTimeout) })
	}
	stopTimer := func() bool { // reports whether the timer had fired
		return headerTimer != nil && !headerTimer.Stop()
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, req.URL, nil)
	if err != nil {
		cancel()
		return nil, -1, fmt.Errorf("feed url %q: %w", name, cleanURLError(err))
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
	if stopTimer() && err == nil {
		// The headers came as the attempt's time ran out: the body would fail.
		resp.Body.Close()
		err = context.Canceled
	}
	if err != nil {
		cause := context.Cause(ctx)
		cancel()
		hop := ""
		var ue *url.Error
		if errors.As(err, &ue) {
			hop = redact(ue.URL) // the URL of the request that failed
		}
		err = cleanURLError(err)
		var re *redirectError
		var be *blockedError
		switch {
		case errors.As(err, &re):
			return nil, -1, re
		case errors.As(err, &be) && hop != "" && hop != name:
			return nil, -1, &redirectError{from: name, to: hop, err: be}
		case errors.As(err, &be):
			return nil, -1, fmt.Errorf("fetch %s: %w", name, be)
		}
		wait := time.Duration(0)
		switch {
		case errors.Is(cause, errAttemptTimeout):
			err = fmt.Errorf("no response within %s: %w", attemptTimeout, context.DeadlineExceeded)
		case errors.Is(cause, errFetchTimeout):
			err = fmt.Errorf("no response within the feed's timeout (%s): %w", req.Timeout, context.DeadlineExceeded)
		case !transient(err):
			wait = -1
		}
		return nil, wait, fmt.Errorf("fetch %s: %w", name, err)
	}
	out := &Response{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
	switch {
	case resp.StatusCode == http.StatusNotModified:
		resp.Body.Close()
		cancel()
		sent := hr.Header
		if resp.Request != nil {
			sent = resp.Request.Header // of the last redirect
		}
		if sent.Get("If-None-Match") == "" && sent.Get("If-Modified-Since") == "" {
			// Nothing to be unmodified from: taking it for "unchanged"
			// would skip a run on the server's word alone.
			return nil, -1, &HTTPError{URL: name, Status: resp.StatusCode}
		}
		fetchCancel()
		out.NotModified = true
		return out, 0, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		// Drain a little so that the connection can be reused by the retry.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		cancel()
		he := &HTTPError{URL: name, Status: resp.StatusCode}
		if !he.Temporary() {
			return nil, -1, he
		}
		return nil, retryAfter(resp.Header.Get("Retry-After"), time.Now()), he
	}
	max := req.MaxBytes
	if max <= 0 {
		max = DefaultMaxBytes
	}
	if resp.ContentLength > max {
		resp.Body.Close()
		cancel()
		return nil, -1, fmt.Errorf("fetch %s: %w: the server announced %d bytes, the limit is %d", name, ErrTooLarge, resp.ContentLength, max)
	}
	expected := resp.ContentLength
	if resp.Uncompressed {
		expected = -1
	}
	out.Body = newBody(resp.Body, max, expected, func() { cancel(); fetchCancel() })
	out.Body.ctx, out.Body.timeout = fetchCtx, req.Timeout
	return out, 0, nil
}

// cleanURLError drops the *url.Error wrapper, whose message repeats the URL
// (query and user name included).
func cleanURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// transient reports whether a failed request may succeed when repeated:
// timeouts, resets, refused or dropped connections. Redirect loops,
// certificate errors, unknown hosts and bad URLs are permanent.
func transient(err error) bool {
	if errors.Is(err, ErrTooManyRedirects) || errors.Is(err, ErrUnsafeTarget) || errors.Is(err, context.Canceled) {
		return false
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return false
	}
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var certInvalid x509.CertificateInvalidError
	if errors.As(err, &certErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr) || errors.As(err, &certInvalid) {
		return false
	}
	var recordErr tls.RecordHeaderError
	if errors.As(err, &recordErr) { // plain HTTP answered a TLS handshake
		return false
	}
	return true
}

// retryAfter reads a Retry-After header (seconds or an HTTP date).
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// HTTPError is a non-2xx answer from a feed server.
type HTTPError struct {
	URL    string
	Status int
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("fetch %s: the server answered %d %s", e.URL, e.Status, http.StatusText(e.Status))
	switch e.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		msg += ": check the feed's credentials (URL user info or headers)"
	case http.StatusNotFound:
		msg += ": check the feed URL"
	case http.StatusNotModified: // only an error without validators
		msg += " to a request without validators: nothing to compare with"
	}
	return msg
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
	if u.RawQuery != "" || u.ForceQuery {
		u.RawQuery = "…"
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}
