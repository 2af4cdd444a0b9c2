package push

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/feedsync/feedsync/internal/redact"
)

// Caller sends one request to the catalog API and returns its response. It is
// the seam the politeness and resilience decorators wrap (RateLimited,
// CircuitBreaker, Retrying), in the manner of restic's backend wrappers: the
// HTTP client knows nothing of rates or retries, and each decorator knows
// nothing of products.
//
// Call returns a non-nil *Response only for a 2xx status with a JSON object
// for body (or an empty body, if the request allows it). A 2xx with any other
// body is a *BadAnswerError; a 3xx is a *RedirectError (never followed); any
// other status is an *APIError; a transport failure (timeout, reset, refused)
// is a *TransportError; a cancelled ctx is ctx's error.
type Caller interface {
	Call(ctx context.Context, req *Request) (*Response, error)
}

// Request is one API call. Body, when set, is called for every attempt so a
// retry can send the same bytes again.
type Request struct {
	Op          string // observer label: "create", "update", "lookup"…
	Method      string
	Path        string // relative to the API base, with its trailing slash
	Query       url.Values
	ContentType string
	Body        func() (io.Reader, int64, error)
	Timeout     time.Duration // overrides the client's per-request timeout
	// EmptyOK accepts a 2xx without a body (DELETE answers 204). Every other
	// 2xx must carry a JSON object, as every User.com answer does.
	EmptyOK bool
}

// Response is a 2xx answer, its body read in full.
type Response struct {
	Status int
	Body   []byte
}

// APIError is an HTTP answer other than 2xx.
type APIError struct {
	Op     string
	Method string
	Path   string
	Status int
	// Msg is the server's message, from {"detail": …} or {"field": [msg]},
	// with the API token scrubbed (a proxy may echo the request's headers).
	Msg string
	// RetryAfter is the delay a 429 or 503 asked for; HasRetryAfter tells a
	// zero delay from none.
	RetryAfter    time.Duration
	HasRetryAfter bool
}

func (e *APIError) Error() string {
	msg := e.Msg
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("%s %s: %d: %s", e.Method, e.Path, e.Status, msg)
}

// Temporary reports whether the request may succeed if sent again: 429 and 5xx.
func (e *APIError) Temporary() bool { return e.Status == http.StatusTooManyRequests || e.Status >= 500 }

// TransportError is a request that got no HTTP answer: a timeout, a dropped
// or refused connection.
type TransportError struct {
	Op      string
	Method  string
	Path    string
	Timeout bool
	Err     error
}

func (e *TransportError) Error() string {
	what := "connection failed"
	if e.Timeout {
		what = "timed out"
	}
	return fmt.Sprintf("%s %s: %s: %v", e.Method, e.Path, what, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// BadAnswerError is a 2xx answer whose body is not what the API sends: an
// HTML page from a captive portal, a proxy or a load balancer standing in
// front of the API. It acknowledges nothing. It is temporary, as a 5xx is
// (whatever answered may step aside), so it is retried and, if it persists,
// stops the run.
type BadAnswerError struct {
	Op          string
	Method      string
	Path        string
	Status      int
	ContentType string
	Body        string // the start of the body, on one line
}

func (e *BadAnswerError) Error() string {
	what := "an empty body"
	if e.Body != "" {
		what = fmt.Sprintf("%q", e.Body)
	}
	ct := e.ContentType
	if ct == "" {
		ct = "no Content-Type"
	}
	return fmt.Sprintf("%s %s: %d with %s (%s), not the API's JSON: is a proxy or captive portal answering for catalog.url?", e.Method, e.Path, e.Status, what, ct)
}

// RedirectError is a 3xx answer. The client never follows one: net/http
// turns a redirected POST into a GET, and a GET answered 200 at the new place
// would acknowledge a product the catalog never received. It stops the run:
// it is neither retried nor a product's rejection.
type RedirectError struct {
	Op     string
	Method string
	Path   string
	Status int
	// Location is where the answer points, resolved, without userinfo,
	// query or fragment; "" if the answer had none (or none readable).
	Location string
	// App is the app URL Location implies when it is the same call under
	// another base (a moved app, http to https); else "".
	App string
}

func (e *RedirectError) Error() string {
	switch {
	case e.App != "":
		return fmt.Sprintf("catalog.url moved to %s; set it there (%s %s answered %d with Location %s; feedsync follows no redirect)", e.App, e.Method, e.Path, e.Status, e.Location)
	case e.Location != "":
		return fmt.Sprintf("catalog.url redirects to %s; set catalog.url to the app's current URL (%s %s answered %d; feedsync follows no redirect)", e.Location, e.Method, e.Path, e.Status)
	}
	return fmt.Sprintf("%s %s: %d without a usable Location; check catalog.url (feedsync follows no redirect)", e.Method, e.Path, e.Status)
}

// AuthError is a 401 or 403: the token is wrong or lacks rights. It stops a
// run at once; every later request would fail the same way.
type AuthError struct {
	Status   int
	TokenEnv string
}

func (e *AuthError) Error() string {
	env := e.TokenEnv
	if env == "" {
		env = "USERCOM_API_TOKEN"
	}
	return fmt.Sprintf("the API token in $%s was rejected (%d): check that the variable holds the app's current public REST API key", env, e.Status)
}

// ErrTokenRejected matches any *AuthError with errors.Is.
var ErrTokenRejected = errors.New("API token rejected")

// Is makes errors.Is(err, ErrTokenRejected) true.
func (e *AuthError) Is(target error) bool { return target == ErrTokenRejected }

// httpCaller is the plain client: headers, one request, the body read.
// Every body it hands on, and every error built from one, has the token
// scrubbed: whatever the server (or a proxy in front of it) said may echo
// the request's Authorization header, and what it said ends up in logs,
// in the state file and on status pages.
type httpCaller struct {
	base      string // https://<app>.user.com/api/public/
	token     string
	userAgent string
	client    *http.Client
	timeout   time.Duration
	obs       Observer
	scrub     *redact.Redactor // the token; nil scrubs nothing
}

// tokenRedactor scrubs an API token as it is and as it is sent.
func tokenRedactor(token string) *redact.Redactor {
	return redact.New(token, "Token "+token)
}

var _ Caller = (*httpCaller)(nil)

func (c *httpCaller) Call(ctx context.Context, r *Request) (*Response, error) {
	target := c.base + r.Path
	if len(r.Query) > 0 {
		target += "?" + r.Query.Encode()
	}
	parent := ctx
	timeout := c.timeout
	if r.Timeout > 0 {
		timeout = r.Timeout
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var body io.Reader
	var size int64
	if r.Body != nil {
		var err error
		body, size, err = r.Body()
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", r.Method, r.Path, err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, target, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.Method, r.Path, err)
	}
	if body != nil {
		req.ContentLength = size
	} else {
		// An empty body that is not http.NoBody makes the request
		// non-replayable, so net/http never resends it on its own after a
		// dropped connection: every request the server sees has passed the
		// rate limiter and is reported to the Observer. Nothing extra goes
		// on the wire (net/http probes the body, finds it empty and sends
		// neither Content-Length nor chunks).
		req.Body, req.GetBody, req.ContentLength = emptyBody{}, nil, 0
	}
	req.Header.Set("Authorization", "Token "+c.token)
	req.Header.Set("Accept", "*/*; version=2")
	req.Header.Set("User-Agent", c.userAgent)
	if r.ContentType != "" {
		req.Header.Set("Content-Type", r.ContentType)
	}
	obs := observerFrom(parent, c.obs)
	start := time.Now()
	resp, err := c.client.Do(req)
	if err == nil {
		var b []byte
		b, err = io.ReadAll(io.LimitReader(resp.Body, 8<<20))
		resp.Body.Close()
		// Before anything reads it: messages are cut short, and a cut
		// token could no longer be found.
		b = c.scrub.Bytes(b)
		if err == nil {
			obs.Request(r.Op, resp.StatusCode, time.Since(start))
			switch {
			case resp.StatusCode >= 200 && resp.StatusCode < 300:
				if err := checkAnswer(r, resp, b); err != nil {
					err.Body = c.scrub.String(err.Body)
					return nil, err
				}
				return &Response{Status: resp.StatusCode, Body: b}, nil
			case resp.StatusCode >= 300 && resp.StatusCode < 400:
				err := redirectError(r, resp)
				err.Location, err.App = c.scrub.String(err.Location), c.scrub.String(err.App)
				return nil, err
			}
			// Scrubbed again once decoded: JSON may spell the token with
			// escapes the raw body did not match.
			e := &APIError{Op: r.Op, Method: r.Method, Path: r.Path, Status: resp.StatusCode, Msg: c.scrub.String(errorMessage(b))}
			e.RetryAfter, e.HasRetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
			return nil, e
		}
	}
	obs.Request(r.Op, 0, time.Since(start))
	if parent.Err() != nil {
		// The caller's own cancellation is not a transport failure.
		return nil, context.Cause(parent)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // drop the URL: the path is in the message already
	}
	var ne net.Error
	isTimeout := errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
	return nil, &TransportError{Op: r.Op, Method: r.Method, Path: r.Path, Timeout: isTimeout, Err: err}
}

// checkAnswer accepts a 2xx body only if it is a JSON object, or empty when
// r allows it: a portal's or proxy's 200 page must not acknowledge anything.
func checkAnswer(r *Request, resp *http.Response, b []byte) *BadAnswerError {
	t := bytes.TrimSpace(b)
	if (len(t) == 0 && r.EmptyOK) || (len(t) > 0 && t[0] == '{' && json.Valid(t)) {
		return nil
	}
	body := strings.Join(strings.Fields(string(t)), " ")
	if len(body) > 80 {
		body = body[:80] + "…"
	}
	return &BadAnswerError{Op: r.Op, Method: r.Method, Path: r.Path, Status: resp.StatusCode,
		ContentType: resp.Header.Get("Content-Type"), Body: strings.ToValidUTF8(body, "?")}
}

// redirectError describes a 3xx answer to r. Its Location is printed without
// userinfo, query or fragment, which may hold credentials.
func redirectError(r *Request, resp *http.Response) *RedirectError {
	e := &RedirectError{Op: r.Op, Method: r.Method, Path: r.Path, Status: resp.StatusCode}
	h := resp.Header.Get("Location")
	if h == "" {
		return e
	}
	loc, err := resp.Request.URL.Parse(h)
	if err != nil || loc.Scheme == "" || loc.Host == "" {
		return e
	}
	loc.User, loc.RawQuery, loc.ForceQuery, loc.Fragment, loc.RawFragment = nil, "", false, "", ""
	e.Location = loc.String()
	if suffix := "/api/public/" + r.Path; strings.HasSuffix(e.Location, suffix) {
		e.App = strings.TrimSuffix(e.Location, suffix)
	}
	return e
}

// pathf builds an API path, escaping each argument as one path segment:
// pathf("products-by-id/%s/", "a/b c") is "products-by-id/a%2Fb%20c/". The
// dot segments "." and ".." are escaped too ("%2E", "%2E%2E"), which
// url.PathEscape leaves alone: clients, proxies and servers resolve them, so
// that products-by-id/../ would reach another endpoint.
func pathf(format string, ids ...string) string {
	args := make([]any, len(ids))
	for i, id := range ids {
		switch id {
		case ".":
			args[i] = "%2E"
		case "..":
			args[i] = "%2E%2E"
		default:
			args[i] = url.PathEscape(id)
		}
	}
	return fmt.Sprintf(format, args...)
}

// errorMessage reads {"detail": "..."} or {"field": ["message"]} into one
// line; any other body is quoted, cut short.
func errorMessage(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return ""
	}
	var m map[string]any
	if json.Unmarshal(b, &m) == nil {
		if d, ok := m["detail"].(string); ok {
			return d
		}
		if len(m) > 0 {
			return joinFields(m)
		}
	}
	s := string(b)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strings.Join(strings.Fields(s), " ")
}

// joinFields is "key: value; key: value" of a JSON object, keys sorted:
// each field of an error body on one line.
func joinFields(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+flatten(m[k]))
	}
	return strings.Join(parts, "; ")
}

func flatten(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any:
		var parts []string
		for _, e := range v {
			parts = append(parts, flatten(e))
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		b, _ := json.Marshal(v)
		return string(b)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func parseRetryAfter(h string, now time.Time) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if allDigits(strings.TrimPrefix(h, "-")) {
		n, err := strconv.ParseInt(h, 10, 64)
		switch {
		case err != nil && h[0] != '-', err == nil && n > int64(math.MaxInt64/time.Second):
			// More seconds than a Duration holds: the longest wait there is,
			// which the cap then refuses, rather than a wrapped negative.
			return time.Duration(math.MaxInt64), true
		case err != nil || n < 0:
			return 0, true
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(h); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

type emptyBody struct{}

func (emptyBody) Read([]byte) (int, error) { return 0, io.EOF }
func (emptyBody) Close() error             { return nil }
