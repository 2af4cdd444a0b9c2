package push

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/feedsync/feedsync/push/pushtest"
)

func TestUserComRequests(t *testing.T) {
	t.Run("HeadersAndTrailingSlashes", func(t *testing.T) {
		h := newHarness(t, ModeREST, pushtest.Options{}, nil)
		o := apply(t, context.Background(), h.sink, creates(3, "h-", "1"))
		if o.err != nil {
			t.Fatal(o.err)
		}
		for _, r := range h.srv.Requests() {
			if r.Status >= 300 && r.Status != http.StatusNotFound {
				t.Errorf("%s %s: %d", r.Method, r.Path, r.Status)
			}
			if r.Accept != "*/*; version=2" {
				t.Errorf("%s %s: Accept %q", r.Method, r.Path, r.Accept)
			}
			if r.UserAgent != "feedsync/test" {
				t.Errorf("%s %s: User-Agent %q", r.Method, r.Path, r.UserAgent)
			}
			if p, _, _ := strings.Cut(r.Path, "?"); !strings.HasPrefix(p, "/api/public/") || !strings.HasSuffix(p, "/") {
				t.Errorf("path %q: want /api/public/…/", r.Path)
			}
		}
	})
	t.Run("FakeRefusesPathsWithoutTrailingSlash", func(t *testing.T) {
		srv := pushtest.NewServer(pushtest.Options{})
		defer srv.Close()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/public/products-by-id/x/details", nil)
		req.Header.Set("Authorization", "Token "+pushtest.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("got %d, want 404", resp.StatusCode)
		}
	})
	t.Run("TargetNamesTheApp", func(t *testing.T) {
		s, err := NewUserCom(UserComConfig{URL: "https://shop.user.com/", Token: "t"})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := s.Target(), "usercom:https://shop.user.com"; got != want {
			t.Errorf("Target() = %q, want %q", got, want)
		}
		if s.Mode() != ModeImport {
			t.Errorf("default mode %q, want import", s.Mode())
		}
		if _, err := NewUserCom(UserComConfig{URL: "https://shop.user.com", TokenEnv: "SHOP_TOKEN"}); err == nil || !strings.Contains(err.Error(), "set SHOP_TOKEN") {
			t.Errorf("no token: got %v", err)
		}
	})
}

func TestUserComREST(t *testing.T) {
	t.Run("IDsAreEscapedInPaths", func(t *testing.T) {
		h := newHarness(t, ModeREST, pushtest.Options{}, nil)
		ids := []string{"a/b", "with space", "hash#1", "q?x=1&y", "zażółć-ünï", "100%", "dot.."}
		var ops []Op
		for _, id := range ids {
			ops = append(ops, Op{Kind: Create, ID: id, Payload: product(id, "1")})
		}
		if o := apply(t, context.Background(), h.sink, ops); o.err != nil {
			t.Fatal(o.err)
		}
		want := payloads(ops)
		wantCatalog(t, h.srv.Catalog(), want)
		var upd, del []Op
		for _, id := range ids {
			upd = append(upd, Op{Kind: Update, ID: id, Payload: product(id, "2")})
			del = append(del, Op{Kind: Delete, ID: id})
		}
		if o := apply(t, context.Background(), h.sink, upd); o.err != nil {
			t.Fatal(o.err)
		}
		wantCatalog(t, h.srv.Catalog(), payloads(upd))
		paths := map[string]bool{}
		for _, r := range h.srv.Requests() {
			paths[r.Method+" "+r.Path] = true
		}
		for _, p := range []string{
			"GET /api/public/products-by-id/a%2Fb/details/",
			"PUT /api/public/products-by-id/with%20space/",
			"PUT /api/public/products-by-id/hash%231/",
			"PUT /api/public/products-by-id/q%3Fx=1&y/",
			"PUT /api/public/products-by-id/za%C5%BC%C3%B3%C5%82%C4%87-%C3%BCn%C3%AF/",
			"PUT /api/public/products-by-id/100%25/",
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
		if n := len(h.srv.Catalog()); n != 0 {
			t.Errorf("%d products left after deleting all", n)
		}
	})
	t.Run("CreateLooksFirstAndUpdatesAnExistingProduct", func(t *testing.T) {
		h := newHarness(t, ModeREST, pushtest.Options{}, nil)
		h.srv.Put("old", map[string]string{"name": "Old", "price": "1"})
		op := Op{Kind: Create, ID: "old", Payload: product("old", "9.5")}
		if o := apply(t, context.Background(), h.sink, []Op{op}); o.err != nil {
			t.Fatal(o.err)
		}
		wantCatalog(t, h.srv.Catalog(), payloads([]Op{op}))
		var seq []string
		for _, r := range h.srv.Requests() {
			seq = append(seq, r.Op)
		}
		if got := strings.Join(seq, ","); got != "lookup,update" {
			t.Errorf("requests %s, want lookup,update (never a blind POST)", got)
		}
		if n := h.srv.Creates()["old"]; n != 0 {
			t.Errorf("created %d times, want 0", n)
		}
	})
	t.Run("UpdateOfAnUnknownProductCreatesIt", func(t *testing.T) {
		h := newHarness(t, ModeREST, pushtest.Options{}, nil)
		op := Op{Kind: Update, ID: "gone", Payload: product("gone", "2")}
		o := apply(t, context.Background(), h.sink, []Op{op})
		if o.err != nil {
			t.Fatal(o.err)
		}
		wantAllAcked(t, o, []Op{op})
		wantCatalog(t, h.srv.Catalog(), payloads([]Op{op}))
	})
	t.Run("LostCreateAnswerDoesNotDuplicate", func(t *testing.T) {
		// The POST reaches the server, the answer is lost; the retry meets
		// "already exists" and the client updates instead.
		h := newHarness(t, ModeREST, pushtest.Options{Script: func(n int, r *http.Request) pushtest.Fault {
			if r.Method == http.MethodPost && n == 2 {
				return pushtest.DropAfter
			}
			return pushtest.None
		}}, nil)
		op := Op{Kind: Create, ID: "p1", Payload: product("p1", "2")}
		o := apply(t, context.Background(), h.sink, []Op{op})
		if o.err != nil {
			t.Fatal(o.err)
		}
		wantAllAcked(t, o, []Op{op})
		wantCatalog(t, h.srv.Catalog(), payloads([]Op{op}))
		if n := h.srv.Creates()["p1"]; n != 1 {
			t.Errorf("created %d times", n)
		}
	})
	t.Run("BadProductIsRejectedWithTheServersMessageAndTheRunGoesOn", func(t *testing.T) {
		h := newHarness(t, ModeREST, pushtest.Options{Reject: func(f map[string]string) string {
			if f["custom_id"] == "c-00004" {
				return "price: A valid number is required."
			}
			return ""
		}}, nil)
		ops := creates(10, "c-", "1")
		o := apply(t, context.Background(), h.sink, ops)
		if o.err != nil {
			t.Fatalf("Apply: %v", o.err)
		}
		if len(o.results) != 10 {
			t.Fatalf("%d acks, want 10", len(o.results))
		}
		for _, r := range o.results {
			if r.Op.ID != "c-00004" {
				if r.Err != nil {
					t.Errorf("%s: %v", r.Op.ID, r.Err)
				}
				continue
			}
			var re *RejectedError
			if !errors.As(r.Err, &re) || re.Status != 400 || re.Msg != "price: A valid number is required." {
				t.Errorf("c-00004: got %#v, want a 400 RejectedError with the server's message", r.Err)
			}
		}
		posts := 0
		for _, r := range h.srv.Requests() {
			if r.Op == "create" && r.ID == "c-00004" {
				posts++
			}
		}
		if posts != 1 {
			t.Errorf("the rejected product was POSTed %d times: a 400 must not be retried", posts)
		}
	})
	t.Run("UnverifiedCallsAreLoggedOncePerRun", func(t *testing.T) {
		h := newHarness(t, ModeREST, pushtest.Options{}, nil)
		apply(t, context.Background(), h.sink, nil)
		if strings.Contains(h.logs.String(), "not published by User.com") {
			t.Errorf("warning logged for a run that sent nothing")
		}
		apply(t, context.Background(), h.sink, creates(5, "l-", "1"))
		if n := strings.Count(h.logs.String(), "not published by User.com"); n != 1 {
			t.Errorf("warning logged %d times, want once:\n%s", n, h.logs)
		}
	})
}

func TestUserComToken(t *testing.T) {
	const secret = "s3cr3t-t0ken-0123456789abcdef0123456789abcdef0123456789abcdef01"
	t.Run("WrongTokenStopsTheRunAtOnce", func(t *testing.T) {
		h := newHarness(t, ModeREST, pushtest.Options{}, func(c *UserComConfig) { c.Token = secret })
		o := apply(t, context.Background(), h.sink, creates(200, "t-", "1"))
		if !errors.Is(o.err, ErrTokenRejected) {
			t.Fatalf("Apply: %v, want the token rejected", o.err)
		}
		if want := "the API token in $USERCOM_API_TOKEN was rejected (401)"; !strings.Contains(o.err.Error(), want) {
			t.Errorf("error %q does not say %q", o.err, want)
		}
		if len(o.results) != 0 {
			t.Errorf("%d acks after a 401", len(o.results))
		}
		if n := len(h.srv.Requests()); n > 8 {
			t.Errorf("%d requests sent with a rejected token", n)
		}
		leaks(t, secret, h.logs.String(), o.err.Error())
	})
	t.Run("TokenRevokedMidRun", func(t *testing.T) {
		h := newHarness(t, ModeREST, pushtest.Options{UnauthorizedAfter: 30}, nil)
		o := apply(t, context.Background(), h.sink, creates(500, "t-", "1"))
		var ae *AuthError
		if !errors.As(o.err, &ae) || ae.Status != 401 {
			t.Fatalf("Apply: %v, want an AuthError 401", o.err)
		}
		if n := len(h.srv.Requests()); n > 30+h.sink.cfg.Concurrency {
			t.Errorf("%d requests: the run went on after the 401", n)
		}
		for _, r := range o.results {
			if _, ok := h.srv.Catalog()[r.Op.ID]; !ok || r.Err != nil {
				t.Errorf("%s acknowledged (%v) but not in the catalog", r.Op.ID, r.Err)
			}
		}
		leaks(t, pushtest.Token, h.logs.String(), o.err.Error())
	})
	t.Run("ForbiddenIsAnAuthErrorToo", func(t *testing.T) {
		h := newHarness(t, ModeImport, pushtest.Options{}, nil)
		if err := h.sink.DeclareAttributes(context.Background(), map[string]string{"price": "float"}); err != nil {
			t.Fatal(err)
		}
		var ae *AuthError
		e := &APIError{Status: 403}
		h2 := newHarness(t, ModeREST, pushtest.Options{}, func(c *UserComConfig) { c.TokenEnv = "SHOP_KEY" })
		h2.sink.caller = callerFunc(func(context.Context, *Request) (*Response, error) { return nil, e })
		o := apply(t, context.Background(), h2.sink, creates(3, "f-", "1"))
		if !errors.As(o.err, &ae) || !strings.Contains(o.err.Error(), "$SHOP_KEY was rejected (403)") {
			t.Errorf("got %v", o.err)
		}
	})
}

type callerFunc func(context.Context, *Request) (*Response, error)

func (f callerFunc) Call(ctx context.Context, r *Request) (*Response, error) { return f(ctx, r) }

// leaks fails if the secret appears in any of the texts.
func leaks(t *testing.T, secret string, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(s, secret) || strings.Contains(s, secret[:16]) {
			t.Errorf("the token appears in output:\n%s", s)
		}
	}
}

func TestUserComResilience(t *testing.T) {
	t.Run("RetriesTemporaryFailures", func(t *testing.T) {
		faults := []pushtest.Fault{pushtest.TooMany, pushtest.Internal, pushtest.BadGateway, pushtest.GatewayTimeout, pushtest.Drop, pushtest.DropAfter}
		for _, f := range faults {
			t.Run(f.String(), func(t *testing.T) {
				// No keep-alive: after a dropped connection, net/http may send
				// the next request on another pooled connection the server has
				// just closed; that attempt fails before the server sees it,
				// and the observer would count one request more (1 run in ~40).
				noKeepAlive := func(c *UserComConfig) {
					c.HTTPClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
				}
				h := newHarness(t, ModeREST, pushtest.Options{Script: func(n int, r *http.Request) pushtest.Fault {
					if n <= 2 {
						return f
					}
					return pushtest.None
				}}, noKeepAlive)
				ops := creates(3, "r-", "1")
				o := apply(t, context.Background(), h.sink, ops)
				if o.err != nil {
					t.Fatal(o.err)
				}
				wantAllAcked(t, o, ops)
				wantCatalog(t, h.srv.Catalog(), payloads(ops))
				if got := h.obs.total(); got != len(h.srv.Requests()) {
					t.Errorf("observer saw %d requests, the server %d", got, len(h.srv.Requests()))
				}
				if n := len(h.obs.retries); n == 0 {
					t.Errorf("no retry reported")
				}
			})
		}
	})
	t.Run("RunObserverFromContext", func(t *testing.T) {
		h := newHarness(t, ModeREST, pushtest.Options{Script: func(n int, r *http.Request) pushtest.Fault {
			if n == 1 {
				return pushtest.Internal
			}
			return pushtest.None
		}}, nil)
		run := newCountingObserver()
		o := apply(t, WithObserver(context.Background(), run), h.sink, creates(2, "o-", "1"))
		if o.err != nil {
			t.Fatal(o.err)
		}
		if run.total() != len(h.srv.Requests()) || run.retries["5xx"] != 1 || h.obs.total() != 0 {
			t.Errorf("run observer saw %d requests, %v retries; client observer %d; server %d",
				run.total(), run.retries, h.obs.total(), len(h.srv.Requests()))
		}
	})
	t.Run("TimeoutIsRetried", func(t *testing.T) {
		h := newHarness(t, ModeREST, pushtest.Options{SlowDelay: time.Second, Script: func(n int, r *http.Request) pushtest.Fault {
			if n == 1 {
				return pushtest.Slow
			}
			return pushtest.None
		}}, func(c *UserComConfig) { c.Timeout = 100 * time.Millisecond })
		ops := creates(1, "s-", "1")
		o := apply(t, context.Background(), h.sink, ops)
		if o.err != nil {
			t.Fatal(o.err)
		}
		wantAllAcked(t, o, ops)
		if h.obs.retries["timeout"] != 1 {
			t.Errorf("retries %v, want one timeout", h.obs.retries)
		}
	})
	t.Run("RetryAfterIsHonoured", func(t *testing.T) {
		for _, ra := range []func() string{
			func() string { return "1" },
			func() string { return time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat) }, // ≥ 1s after truncation
		} {
			ra := ra()
			h := newHarness(t, ModeREST, pushtest.Options{RetryAfter: ra, Script: func(n int, r *http.Request) pushtest.Fault {
				if n == 1 {
					return pushtest.TooManyRetryAfter
				}
				return pushtest.None
			}}, nil)
			o := apply(t, context.Background(), h.sink, creates(1, "ra-", "1"))
			if o.err != nil {
				t.Fatal(o.err)
			}
			reqs := h.srv.Requests()
			if gap := reqs[1].Time.Sub(reqs[0].Time); gap < 900*time.Millisecond {
				t.Errorf("Retry-After %q: retried after %s", ra, gap)
			}
		}
	})
	t.Run("GivesUpAfterRetries", func(t *testing.T) {
		h := newHarness(t, ModeREST, pushtest.Options{FaultRate: 1, Faults: []pushtest.Fault{pushtest.Internal}},
			func(c *UserComConfig) { c.Retries = 2; c.Concurrency = 1 })
		o := apply(t, context.Background(), h.sink, creates(5, "g-", "1"))
		var ee *ExhaustedError
		if !errors.As(o.err, &ee) || ee.Attempts != 3 {
			t.Fatalf("Apply: %v, want an ExhaustedError after 3 attempts", o.err)
		}
		if len(o.results) != 0 {
			t.Errorf("%d acks", len(o.results))
		}
	})
	t.Run("BreakerPausesAllWorkers", func(t *testing.T) {
		const cooldown = 300 * time.Millisecond
		h := newHarness(t, ModeREST, pushtest.Options{Script: func(n int, r *http.Request) pushtest.Fault {
			if n <= 5 {
				return pushtest.Internal
			}
			return pushtest.None
		}}, func(c *UserComConfig) {
			c.BreakerThreshold, c.BreakerCooldown, c.Concurrency = 3, cooldown, 4
			c.MinBackoff, c.MaxBackoff = time.Millisecond, 2*time.Millisecond
		})
		ops := creates(20, "b-", "1")
		o := apply(t, context.Background(), h.sink, ops)
		if o.err != nil {
			t.Fatal(o.err)
		}
		wantAllAcked(t, o, ops)
		reqs := h.srv.Requests()
		// Failures 1–3 open the breaker. Requests already on their way
		// may still arrive (how many depends on scheduling: a loaded
		// machine delays the third failure's handling), but then the
		// requests stop for the pause: the longest gap between two
		// requests after the third failure must be most of the cooldown
		// (half of it leaves room for a straggler). Without the breaker
		// the 20 creates follow each other within milliseconds.
		var third time.Time
		fails := 0
		for _, r := range reqs {
			if r.Status == 500 {
				fails++
				if fails == 3 {
					third = r.Time
					break
				}
			}
		}
		var after []time.Time
		for _, r := range reqs {
			if !r.Time.Before(third) {
				after = append(after, r.Time)
			}
		}
		slices.SortFunc(after, time.Time.Compare)
		var gap time.Duration
		for i := 1; i < len(after); i++ {
			gap = max(gap, after[i].Sub(after[i-1]))
		}
		if gap < cooldown/2 {
			t.Errorf("the longest gap between requests after the breaker opened is %s, want about the %s pause", gap, cooldown)
		}
		if !strings.Contains(h.logs.String(), "all requests paused") {
			t.Errorf("breaker not logged:\n%s", h.logs)
		}
	})
	t.Run("CancellationDuringSlowRequests", func(t *testing.T) {
		h := newHarness(t, ModeREST, pushtest.Options{SlowDelay: 5 * time.Second, Script: func(n int, r *http.Request) pushtest.Fault {
			if n > 20 {
				return pushtest.Slow
			}
			return pushtest.None
		}}, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		o := apply(t, ctx, h.sink, creates(100, "k-", "1"))
		if !errors.Is(o.err, context.DeadlineExceeded) {
			t.Errorf("Apply: %v", o.err)
		}
		if o.took > 2*time.Second {
			t.Errorf("Apply took %s after cancellation", o.took)
		}
		if len(o.results) < 5 {
			t.Errorf("only %d acks: the requests that completed before cancellation must be reported", len(o.results))
		}
		for _, r := range o.results {
			if _, ok := h.srv.Catalog()[r.Op.ID]; !ok {
				t.Errorf("%s acknowledged but not in the catalog", r.Op.ID)
			}
		}
	})
	t.Run("RateIsShared", func(t *testing.T) {
		h := newHarness(t, ModeREST, pushtest.Options{}, func(c *UserComConfig) { c.Rate, c.Burst, c.Concurrency = 100, 5, 8 })
		var upd []Op
		for i := 0; i < 150; i++ {
			id := fmt.Sprintf("q-%d", i)
			h.srv.Put(id, nil)
			upd = append(upd, Op{Kind: Update, ID: id, Payload: product(id, "1")})
		}
		o := apply(t, context.Background(), h.sink, upd)
		if o.err != nil {
			t.Fatal(o.err)
		}
		if n := h.srv.MaxInWindow(time.Second); n > 105 {
			t.Errorf("%d requests in one second, want ≤ rate+burst = 105", n)
		}
		if o.took < 1300*time.Millisecond {
			t.Errorf("150 requests at 100/s took %s", o.took)
		}
	})
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		h    string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"7", 7 * time.Second, true},
		{"0", 0, true},
		{"Sat, 28 Nov 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Sat, 28 Nov 2026 11:00:00 GMT", 0, true},
		{"soon", 0, false},
	} {
		got, ok := parseRetryAfter(c.h, now)
		if got != c.want || ok != c.ok {
			t.Errorf("parseRetryAfter(%q) = %s, %v; want %s, %v", c.h, got, ok, c.want, c.ok)
		}
	}
}

func TestBackoffIsCappedWithFullJitter(t *testing.T) {
	rt := NewRetrying(nil, 10, 10*time.Millisecond, 80*time.Millisecond, nil)
	for attempt := 0; attempt < 10; attempt++ {
		bound := min(10*time.Millisecond<<attempt, 80*time.Millisecond)
		var maxSeen time.Duration
		for i := 0; i < 200; i++ {
			d := rt.backoff(attempt)
			if d < 0 || d > bound {
				t.Fatalf("attempt %d: backoff %s outside [0, %s]", attempt, d, bound)
			}
			maxSeen = max(maxSeen, d)
		}
		if maxSeen < bound/2 {
			t.Errorf("attempt %d: largest of 200 backoffs %s, want near %s", attempt, maxSeen, bound)
		}
	}
}

func TestDeclareAttributes(t *testing.T) {
	h := newHarness(t, ModeImport, pushtest.Options{}, nil)
	for run := 0; run < 2; run++ { // the second time every attribute exists
		if err := h.sink.DeclareAttributes(context.Background(), ProductAttributes); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
	}
	got := h.srv.Attributes()
	for name, typ := range ProductAttributes {
		if got[name] != typ {
			t.Errorf("attribute %s: %q, want %q", name, got[name], typ)
		}
	}
	if err := h.sink.DeclareAttributes(context.Background(), map[string]string{"odd": "colour"}); err == nil || !strings.Contains(err.Error(), "odd") {
		t.Errorf("a bad type: got %v", err)
	}
}
