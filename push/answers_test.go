package push

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/feedsync/feedsync/push/pushtest"
)

// movedAPI is a server whose API answers every request with a redirect to
// /moved/…, where an API that acknowledges anything waits: the client must
// never get there.
type movedAPI struct {
	*httptest.Server
	moved atomic.Int32 // requests that reached /moved/
}

// newMovedAPI redirects with status; location makes the Location header from
// the server's URL and the escaped path asked for.
func newMovedAPI(t *testing.T, status int, location func(base, path string) string) *movedAPI {
	t.Helper()
	m := &movedAPI{}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/moved/") || strings.HasPrefix(r.URL.Path, "/login") {
			m.moved.Add(1)
			// What would acknowledge a create, an update, a lookup, an
			// upload and its status, had the redirect been followed.
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":1,"custom_id":"x","success":true,"data":{"import_id":"i-1","status":"finished","total_count":1,"succeeded":1,"failed":0,"rows_with_errors":[]}}`)
			return
		}
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Location", location("http://"+r.Host, r.URL.EscapedPath()))
		w.WriteHeader(status)
	}))
	t.Cleanup(m.Close)
	return m
}

func newMovedSink(t *testing.T, url, mode string, tweak func(*UserComConfig)) *UserCom {
	t.Helper()
	cfg := UserComConfig{
		URL: url, Token: pushtest.Token, Mode: mode, Concurrency: 2, Timeout: 2 * time.Second, Retries: 3,
		MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
		PollInterval: time.Millisecond, ImportTimeout: 2 * time.Second,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	s, err := NewUserCom(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestUserComNeverFollowsRedirects: a 3xx is the answer, not a detour.
// net/http would turn a redirected POST into a GET, and a 200 to that GET
// would acknowledge a product the catalog never got. The run stops with an
// error that says where the API went (without the Location's query or
// userinfo), nothing is acknowledged and nothing reaches the new place.
func TestUserComNeverFollowsRedirects(t *testing.T) {
	withSecrets := func(base, path string) string {
		return strings.Replace(base, "http://", "http://feedsync:hunter2@", 1) + "/moved" + path + "?sig=s3cr3t#frag"
	}
	relative := func(base, path string) string { return "/moved" + path + "?next=1" }
	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, mode := range []string{ModeREST, ModeImport} {
			t.Run(fmt.Sprintf("%d/%s", status, mode), func(t *testing.T) {
				location := withSecrets
				if status >= 307 {
					location = relative
				}
				api := newMovedAPI(t, status, location)
				sink := newMovedSink(t, api.URL, mode, nil)
				o := apply(t, context.Background(), sink, creates(3, "m-", "1"))
				var re *RedirectError
				if !errors.As(o.err, &re) || re.Status != status {
					t.Fatalf("Apply: %v, want a *RedirectError %d", o.err, status)
				}
				if len(o.results) != 0 {
					t.Errorf("%d products acknowledged after a redirect", len(o.results))
				}
				if n := api.moved.Load(); n != 0 {
					t.Errorf("%d requests followed the redirect", n)
				}
				want := "catalog.url moved to " + api.URL + "/moved; set it there"
				if !strings.Contains(o.err.Error(), want) || !strings.Contains(o.err.Error(), api.URL+"/moved/api/public/") {
					t.Errorf("error %q does not say %q and the Location", o.err, want)
				}
				for _, secret := range []string{"hunter2", "feedsync:", "s3cr3t", "next=1", "frag"} {
					if strings.Contains(o.err.Error(), secret) {
						t.Errorf("error %q shows %q of the Location", o.err, secret)
					}
				}
			})
		}
	}
	t.Run("ElsewhereThanTheAPI", func(t *testing.T) {
		api := newMovedAPI(t, http.StatusFound, func(base, _ string) string { return base + "/login?token=s3cr3t" })
		err := newMovedSink(t, api.URL, ModeImport, nil).DeclareAttributes(context.Background(), map[string]string{"price": "float"})
		var re *RedirectError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), "catalog.url redirects to "+api.URL+"/login;") || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("got %v, want a *RedirectError naming %s/login, without its query", err, api.URL)
		}
		if n := api.moved.Load(); n != 0 {
			t.Errorf("%d requests followed the redirect", n)
		}
	})
	t.Run("WithoutLocation", func(t *testing.T) {
		api := newMovedAPI(t, http.StatusMovedPermanently, func(string, string) string { return "" })
		o := apply(t, context.Background(), newMovedSink(t, api.URL, ModeREST, nil), creates(1, "m-", "1"))
		var re *RedirectError
		if !errors.As(o.err, &re) || !strings.Contains(o.err.Error(), "301 without a usable Location") || len(o.results) != 0 {
			t.Errorf("got %v and %d acks", o.err, len(o.results))
		}
	})
	t.Run("CallersOwnClientFollowsNoRedirectEither", func(t *testing.T) {
		// 301: net/http would follow it for the lookup's GET.
		api := newMovedAPI(t, http.StatusMovedPermanently, relative)
		own := &http.Client{Timeout: 5 * time.Second}
		sink := newMovedSink(t, api.URL, ModeREST, func(c *UserComConfig) { c.HTTPClient = own })
		o := apply(t, context.Background(), sink, creates(2, "m-", "1"))
		var re *RedirectError
		if !errors.As(o.err, &re) || len(o.results) != 0 || api.moved.Load() != 0 {
			t.Errorf("got %v, %d acks, %d requests followed", o.err, len(o.results), api.moved.Load())
		}
		if own.CheckRedirect != nil {
			t.Errorf("the caller's client was changed")
		}
		if sink.raw.client.Timeout != own.Timeout {
			t.Errorf("the sink's client lost the caller's settings")
		}
	})
}

// TestUserComPortalAnswerIsNoAcknowledgement: only a 2xx with the API's JSON
// acknowledges. A 200 page from a captive portal or a proxy, to any call, is
// retried like a 5xx and, if it persists, stops the run with nothing
// acknowledged and the catalog untouched.
func TestUserComPortalAnswerIsNoAcknowledgement(t *testing.T) {
	for _, c := range []struct {
		call string
		mode string
		op   Op
		hit  func(r *http.Request) bool // the requests the portal answers
		// applied: the catalog changes all the same (the fake applies an
		// upload at once; the portal hides only its status).
		applied bool
	}{
		{"create", ModeREST, Op{Kind: Create, ID: "p", Payload: product("p", "1")},
			func(r *http.Request) bool { return r.Method == http.MethodPost }, false},
		{"lookup", ModeREST, Op{Kind: Create, ID: "p", Payload: product("p", "1")},
			func(r *http.Request) bool { return r.Method == http.MethodGet }, false},
		{"update", ModeREST, Op{Kind: Update, ID: "old", Payload: product("old", "2")},
			func(r *http.Request) bool { return r.Method == http.MethodPut }, false},
		{"delete", ModeREST, Op{Kind: Delete, ID: "old"},
			func(r *http.Request) bool { return r.Method == http.MethodDelete }, false},
		{"import", ModeImport, Op{Kind: Create, ID: "p", Payload: product("p", "1")},
			func(r *http.Request) bool { return r.Method == http.MethodPost }, false},
		{"import-status", ModeImport, Op{Kind: Create, ID: "p", Payload: product("p", "1")},
			func(r *http.Request) bool { return strings.Contains(r.URL.Path, "/import/status/") }, true},
	} {
		t.Run(c.call, func(t *testing.T) {
			h := newHarness(t, c.mode, pushtest.Options{Script: func(n int, r *http.Request) pushtest.Fault {
				if c.hit(r) {
					return pushtest.Portal
				}
				return pushtest.None
			}}, func(cfg *UserComConfig) { cfg.Retries = 2 })
			h.srv.Put("old", map[string]string{"name": "Old"})
			before := h.srv.Catalog()
			o := apply(t, context.Background(), h.sink, []Op{c.op})
			var ee *ExhaustedError
			var be *BadAnswerError
			if !errors.As(o.err, &ee) || !errors.As(o.err, &be) || be.Status != 200 {
				t.Fatalf("Apply: %v, want an ExhaustedError of a BadAnswerError", o.err)
			}
			if !strings.Contains(o.err.Error(), "text/html") || !strings.Contains(o.err.Error(), "Sign in to continue") {
				t.Errorf("error %q does not say what answered", o.err)
			}
			for _, r := range o.results {
				if r.Err == nil {
					t.Errorf("%s acknowledged by a portal page", r.Op.ID)
				}
			}
			if c.mode == ModeREST && len(o.results) != 0 {
				t.Errorf("%d results, want none: the run stopped", len(o.results))
			}
			if got := h.srv.Catalog(); !c.applied && fmt.Sprint(got) != fmt.Sprint(before) {
				t.Errorf("catalog %v, want it untouched: %v", got, before)
			}
			if n := h.obs.retries["not-json"]; n != 2 {
				t.Errorf("%d retries reported as not-json, want 2", n)
			}
		})
	}
	t.Run("attributes", func(t *testing.T) {
		h := newHarness(t, ModeImport, pushtest.Options{FaultRate: 1, Faults: []pushtest.Fault{pushtest.Portal}},
			func(cfg *UserComConfig) { cfg.Retries = 1 })
		var be *BadAnswerError
		if err := h.sink.DeclareAttributes(context.Background(), map[string]string{"price": "float"}); !errors.As(err, &be) {
			t.Errorf("got %v, want a BadAnswerError", err)
		}
		if len(h.srv.Attributes()) != 0 {
			t.Errorf("attributes %v", h.srv.Attributes())
		}
	})
	t.Run("PassingPortalIsRetried", func(t *testing.T) {
		h := newHarness(t, ModeREST, pushtest.Options{Script: func(n int, r *http.Request) pushtest.Fault {
			if n <= 3 {
				return pushtest.Portal
			}
			return pushtest.None
		}}, nil)
		ops := append(creates(2, "p-", "1"), Op{Kind: Delete, ID: "gone"})
		o := apply(t, context.Background(), h.sink, ops)
		if o.err != nil {
			t.Fatal(o.err)
		}
		wantAllAcked(t, o, ops)
		wantCatalog(t, h.srv.Catalog(), payloads(ops[:2]))
		if n := h.obs.retries["not-json"]; n != 3 {
			t.Errorf("%d retries reported as not-json, want 3", n)
		}
	})
}

// TestCheckAnswer: which 2xx bodies acknowledge.
func TestCheckAnswer(t *testing.T) {
	for _, c := range []struct {
		body    string
		emptyOK bool
		ok      bool
	}{
		{`{"id":1}`, false, true},
		{" {\"id\":1}\n", false, true},
		{"", true, true}, // DELETE's 204
		{`{}`, true, true},
		{"", false, false},
		{"<html><body>Sign in</body></html>", false, false},
		{"<html><body>Sign in</body></html>", true, false},
		{`{"id":1`, false, false},    // cut short
		{`[{"id":1}]`, false, false}, // no answer of the API is a list
		{`"created"`, false, false},  // nor a string
		{`{"a":1} trailing`, false, false},
	} {
		r := &Request{Op: "x", Method: http.MethodPost, Path: "p/", EmptyOK: c.emptyOK}
		err := checkAnswer(r, &http.Response{StatusCode: 200, Header: http.Header{}}, []byte(c.body))
		if (err == nil) != c.ok {
			t.Errorf("%q (empty ok: %v): %v, want ok %v", c.body, c.emptyOK, err, c.ok)
		}
	}
}

// TestUserComDotSegmentIDs: ids that are dot segments go out escaped
// ("%2E", "%2E%2E"), so that no client, proxy or server resolves them into
// another path; the fake, which resolves literal dot segments as a server
// does, ends up with exactly those ids.
func TestUserComDotSegmentIDs(t *testing.T) {
	h := newHarness(t, ModeREST, pushtest.Options{}, func(c *UserComConfig) { c.Logger = zerolog.Nop() })
	ids := []string{".", "..", "a.b", "%2E", "...", "a/../b", "./x", "../"}
	var ops, upd, del []Op
	for _, id := range ids {
		ops = append(ops, Op{Kind: Create, ID: id, Payload: product(id, "1")})
		upd = append(upd, Op{Kind: Update, ID: id, Payload: product(id, "2")})
		del = append(del, Op{Kind: Delete, ID: id})
	}
	for _, run := range [][]Op{ops, upd} {
		o := apply(t, context.Background(), h.sink, run)
		if o.err != nil {
			t.Fatal(o.err)
		}
		wantAllAcked(t, o, run)
		wantCatalog(t, h.srv.Catalog(), payloads(run))
	}
	paths := map[string]bool{}
	for _, r := range h.srv.Requests() {
		paths[r.Method+" "+r.Path] = true
		p, _, _ := strings.Cut(r.Path, "?")
		for _, seg := range strings.Split(p, "/") {
			if seg == "." || seg == ".." {
				t.Errorf("%s %s has a literal dot segment", r.Method, r.Path)
			}
		}
	}
	for _, p := range []string{
		"GET /api/public/products-by-id/%2E/details/",
		"GET /api/public/products-by-id/%2E%2E/details/",
		"PUT /api/public/products-by-id/%2E%2E/",
		"PUT /api/public/products-by-id/a.b/",
		"PUT /api/public/products-by-id/%252E/",
		"PUT /api/public/products-by-id/a%2F..%2Fb/",
	} {
		if !paths[p] {
			t.Errorf("no request %s", p)
		}
	}
	o := apply(t, context.Background(), h.sink, del)
	if o.err != nil {
		t.Fatal(o.err)
	}
	wantAllAcked(t, o, del)
	if c := h.srv.Catalog(); len(c) != 0 {
		t.Errorf("left after deleting all: %v", c)
	}
}

func TestPathf(t *testing.T) {
	for id, want := range map[string]string{
		".":      "products-by-id/%2E/",
		"..":     "products-by-id/%2E%2E/",
		"...":    "products-by-id/.../",
		".a":     "products-by-id/.a/",
		"a/../b": "products-by-id/a%2F..%2Fb/",
		"%2E":    "products-by-id/%252E/",
		"":       "products-by-id//",
	} {
		if got := pathf("products-by-id/%s/", id); got != want {
			t.Errorf("pathf(%q) = %q, want %q", id, got, want)
		}
	}
}
