package push

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedsync/feedsync/orders"
	"github.com/feedsync/feedsync/push/pushtest"
)

// dealPayload is a deal as orders.Deal.Payload writes it: canonical JSON,
// keys sorted. user and email are left out when "".
func dealPayload(id, user, email string) []byte {
	p := map[string]any{
		"custom_id":  id,
		"name":       "Order " + id,
		"value":      json.Number("37.4"),
		"currency":   "EUR",
		"status":     2,
		"stage":      12,
		"stage_name": "fulfilled",
		"pipeline":   3,
		"order_products": []any{
			map[string]any{"product_custom_id": "A", "quantity": json.Number("2"), "value": json.Number("37.4"), "currency": "EUR"},
		},
		"placed_at":      "2024-05-01T10:00:00Z",
		"payment_method": "card",
	}
	if user != "" {
		p["user_custom_id"] = user
	}
	if email != "" {
		p["email"] = email
	}
	b, err := marshalNoEscape(p)
	if err != nil {
		panic(err)
	}
	return b
}

func dealOp(id, user, email string) Op {
	return Op{Kind: Create, ID: id, Payload: dealPayload(id, user, email), Deal: true, Ref: id}
}

// deals is n deals d0…, each for one of the users u0…u{users-1}.
func deals(n, users int) []Op {
	ops := make([]Op, n)
	for i := range ops {
		ops[i] = dealOp(fmt.Sprintf("d%d", i), fmt.Sprintf("u%d", i%users), "")
	}
	return ops
}

// wantDeal is what the fake holds for dealPayload(id, user, ""): the
// payload without stage_name or email.
func wantDeal(id, user string) map[string]string {
	w := map[string]string{
		"custom_id": id, "name": "Order " + id, "value": "37.4", "currency": "EUR", "status": "2", "stage": "12", "pipeline": "3",
		"order_products": `[{"currency":"EUR","product_custom_id":"A","quantity":2,"value":37.4}]`,
		"placed_at":      "2024-05-01T10:00:00Z", "payment_method": "card",
	}
	if user != "" {
		w["user_custom_id"] = user
	}
	return w
}

func wantAckedN(t *testing.T, o outcome, n int) {
	t.Helper()
	if o.err != nil {
		t.Fatalf("Apply: %v", o.err)
	}
	if len(o.results) != n {
		t.Errorf("%d results, want %d", len(o.results), n)
	}
	for _, r := range o.results {
		if r.Err != nil {
			t.Errorf("%s: %v", r.Op.ID, r.Err)
		}
	}
}

// opsOf is the fake's requests as "op:id status" lines.
func opsOf(srv *pushtest.Server) []string {
	var out []string
	for _, r := range srv.Requests() {
		out = append(out, fmt.Sprintf("%s:%s %d", r.Op, r.ID, r.Status))
	}
	return out
}

func TestDealsSentAndAcknowledged(t *testing.T) {
	for _, mode := range []string{ModeImport, ModeREST} {
		t.Run(mode, func(t *testing.T) {
			h := newHarness(t, mode, pushtest.Options{}, nil)
			if !h.sink.SendsDeals() {
				t.Fatal("SendsDeals() = false")
			}
			for i := range 5 {
				h.srv.PutUser(fmt.Sprintf("u%d", i), nil)
			}
			ops := deals(20, 5)
			wantAckedN(t, apply(t, context.Background(), h.sink, ops), 20)
			got := h.srv.Deals()
			if len(got) != 20 {
				t.Errorf("%d deals, want 20", len(got))
			}
			for i := range 20 {
				id := fmt.Sprintf("d%d", i)
				if g, w := fmt.Sprint(got[id]), fmt.Sprint(wantDeal(id, fmt.Sprintf("u%d", i%5))); g != w {
					t.Errorf("deal %s:\ngot  %s\nwant %s", id, g, w)
				}
			}
			for _, r := range h.srv.Requests() {
				if r.Op != "deal" || r.Method != http.MethodPost || r.Path != "/api/public/deals/update_or_create/" {
					t.Errorf("request %s %s (%s), want only POST /api/public/deals/update_or_create/", r.Method, r.Path, r.Op)
				}
			}
			if len(h.srv.Catalog()) != 0 || len(h.srv.Users()) != 5 {
				t.Errorf("catalog %v, users %v: deals must touch neither", h.srv.Catalog(), h.srv.Users())
			}
		})
	}
}

func TestDealRequestMapping(t *testing.T) {
	if payloadProductsKey != orders.ProductsKey || orders.ProductIDKey != "product_custom_id" {
		t.Fatalf("the payload keeps its lines under %q (%q), push reads %q (product_custom_id)", orders.ProductsKey, orders.ProductIDKey, payloadProductsKey)
	}
	body, user, err := dealRequest(Op{Kind: Create, ID: "7", Deal: true, Payload: dealPayload("other", "u1", "a@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"currency":"EUR","custom_id":"7","name":"Order other","order_products":[{"currency":"EUR","product_custom_id":"A","quantity":2,"value":37.4}],` +
		`"payment_method":"card","pipeline":3,"placed_at":"2024-05-01T10:00:00Z","stage":12,"status":2,"user_custom_id":"u1","value":37.4}`
	if string(body) != want {
		t.Errorf("body\ngot  %s\nwant %s", body, want)
	}
	if user != (dealUser{id: "u1", email: "a@example.com"}) {
		t.Errorf("user %+v", user)
	}
	t.Run("Optional", func(t *testing.T) {
		body, user, err := dealRequest(Op{ID: "1", Payload: []byte(`{"custom_id":"1","name":"Order 1","stage":null,"status":1,"user_custom_id":""}`)})
		if err != nil || string(body) != `{"custom_id":"1","name":"Order 1","status":1}` || user != (dealUser{}) {
			t.Errorf("got %s %+v %v", body, user, err)
		}
	})
	t.Run("ProductIDsKey", func(t *testing.T) {
		var m map[string]any
		json.Unmarshal(dealPayload("1", "", ""), &m)
		ids, err := dealProducts(m[payloadProductsKey], "products_custom_id")
		if err != nil || fmt.Sprint(ids) != "[A]" {
			t.Errorf("got %v %v", ids, err)
		}
	})
	t.Run("Refused", func(t *testing.T) {
		for payload, want := range map[string]string{
			`[1]`:                                          "not a JSON object",
			`{"custom_id":"1","status":1}`:                 "without a name",
			`{"name":"x","status":7}`:                      "status 7",
			`{"name":"x","status":"won"}`:                  `status "won"`,
			`{"name":"x","status":null}`:                   "status null",
			`{"name":"x","stage":"placed"}`:                `stage "placed"`,
			`{"name":"x","pipeline":1.5}`:                  "pipeline 1.5",
			`{"name":"x","user_custom_id":42}`:             "user_custom_id 42",
			`{"name":"x","stage":12,"status":2.0}`:         "status 2.0",
			`{"name":"   ","stage":12,"status":2}`:         "without a name",
			`{"name":"x","pipeline":99999999999999999999}`: "pipeline",
		} {
			if _, _, err := dealRequest(Op{ID: "1", Payload: []byte(payload)}); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: got %v, want %q", payload, err, want)
			}
		}
	})
}

func TestDealsRetried(t *testing.T) {
	t.Run("429And5xxAndDrops", func(t *testing.T) {
		faults := []pushtest.Fault{pushtest.TooMany, pushtest.Internal, pushtest.BadGateway, pushtest.GatewayTimeout,
			pushtest.Drop, pushtest.DropAfter, pushtest.Portal, pushtest.TooManyRetryAfter}
		h := newHarness(t, ModeREST, pushtest.Options{RetryAfter: "0", Script: func(n int, r *http.Request) pushtest.Fault {
			if n <= len(faults) {
				return faults[n-1]
			}
			return pushtest.None
		}}, nil)
		for i := range 3 {
			h.srv.PutUser(fmt.Sprintf("u%d", i), nil)
		}
		wantAckedN(t, apply(t, context.Background(), h.sink, deals(12, 3)), 12)
		if got := h.srv.Deals(); len(got) != 12 {
			t.Errorf("%d deals, want 12", len(got))
		}
		h.obs.mu.Lock()
		defer h.obs.mu.Unlock()
		for _, reason := range []string{"429", "5xx", "connection", "not-json"} {
			if h.obs.retries[reason] == 0 {
				t.Errorf("no retry for %s: %v", reason, h.obs.retries)
			}
		}
		if h.obs.requests["deal"] != 12+len(faults) {
			t.Errorf("%d deal requests, want %d", h.obs.requests["deal"], 12+len(faults))
		}
	})
	t.Run("RetryAfterHonoured", func(t *testing.T) {
		h := newHarness(t, ModeImport, pushtest.Options{RetryAfter: "1", Script: func(n int, r *http.Request) pushtest.Fault {
			if n == 1 {
				return pushtest.TooManyRetryAfter
			}
			return pushtest.None
		}}, nil)
		h.srv.PutUser("u0", nil)
		o := apply(t, context.Background(), h.sink, deals(1, 1))
		wantAckedN(t, o, 1)
		if o.took < 900*time.Millisecond {
			t.Errorf("took %s, want the 1s Retry-After waited", o.took)
		}
		if got := strings.Join(opsOf(h.srv), ", "); got != "unknown: 429, deal:d0 200" {
			t.Errorf("requests %s", got)
		}
	})
	t.Run("Exhausted", func(t *testing.T) {
		h := newHarness(t, ModeREST, pushtest.Options{Script: func(int, *http.Request) pushtest.Fault { return pushtest.Internal }},
			func(c *UserComConfig) { c.Retries = 2 })
		h.srv.PutUser("u0", nil)
		o := apply(t, context.Background(), h.sink, deals(3, 1))
		var ee *ExhaustedError
		if !errors.As(o.err, &ee) || len(o.results) != 0 {
			t.Errorf("got %v and %d results, want an *ExhaustedError and nothing acknowledged", o.err, len(o.results))
		}
	})
}

func TestDealRejected(t *testing.T) {
	h := newHarness(t, ModeImport, pushtest.Options{RejectDeal: func(f map[string]string) string {
		if f["custom_id"] == "d3" {
			return "Invalid currency."
		}
		return ""
	}}, nil)
	h.srv.PutUser("u0", nil)
	ops := deals(8, 1)
	bad := dealOp("local", "u0", "")
	bad.Payload = []byte(`{"custom_id":"local","name":"Order local","stage":"fulfilled","status":2}`)
	del := Op{Kind: Delete, ID: "gone", Deal: true}
	o := apply(t, context.Background(), h.sink, append(ops, bad, del))
	if o.err != nil {
		t.Fatal(o.err)
	}
	if len(o.results) != 10 {
		t.Errorf("%d results, want 10", len(o.results))
	}
	for _, r := range o.results {
		var re *RejectedError
		switch {
		case r.Op.ID == "d3":
			if !errors.As(r.Err, &re) || re.Status != http.StatusBadRequest || !strings.Contains(re.Msg, "Invalid currency.") {
				t.Errorf("d3: %v, want a 400 *RejectedError", r.Err)
			}
		case r.Op.ID == "local":
			if !errors.As(r.Err, &re) || !strings.Contains(re.Msg, `stage "fulfilled"`) {
				t.Errorf("local: %v, want refused before sending", r.Err)
			}
		case r.Op.Kind == Delete:
			if !errors.As(r.Err, &re) {
				t.Errorf("deleting a deal: %v, want a *RejectedError", r.Err)
			}
		case r.Err != nil:
			t.Errorf("%s: %v", r.Op.ID, r.Err)
		}
	}
	got := h.srv.Deals()
	if _, ok := got["d3"]; ok || len(got) != 7 {
		t.Errorf("deals %v, want d0–d7 but d3", len(got))
	}
	for _, r := range h.srv.Requests() {
		if r.ID == "local" || r.Method != http.MethodPost {
			t.Errorf("request %s %s for %q", r.Method, r.Path, r.ID)
		}
	}
	if len(h.srv.Users()) != 1 {
		t.Errorf("users %v: a refusal not naming the user created one", h.srv.Users())
	}
}

func TestDealUnknownUser(t *testing.T) {
	for _, status := range []int{http.StatusBadRequest, http.StatusNotFound} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			h := newHarness(t, ModeREST, pushtest.Options{MissingUserStatus: status}, func(c *UserComConfig) { c.Concurrency = 1 })
			wantAckedN(t, apply(t, context.Background(), h.sink, []Op{dealOp("d1", "ghost", "")}), 1)
			want := fmt.Sprintf("deal:d1 %d, user:ghost 200, deal:d1 200", status)
			if got := strings.Join(opsOf(h.srv), ", "); got != want {
				t.Errorf("requests %s, want %s", got, want)
			}
			if u := h.srv.Users(); fmt.Sprint(u) != "map[ghost:map[custom_id:ghost]]" {
				t.Errorf("users %v", u)
			}
			if g, w := fmt.Sprint(h.srv.Deals()["d1"]), fmt.Sprint(wantDeal("d1", "ghost")); g != w {
				t.Errorf("deal\ngot  %s\nwant %s", g, w)
			}
		})
	}
	t.Run("ManyDealsOneUser", func(t *testing.T) {
		h := newHarness(t, ModeREST, pushtest.Options{}, nil)
		ops := deals(16, 2)
		wantAckedN(t, apply(t, context.Background(), h.sink, ops), 16)
		if u := h.srv.Users(); len(u) != 2 || len(h.srv.Deals()) != 16 {
			t.Errorf("%d users, %d deals", len(u), len(h.srv.Deals()))
		}
	})
	t.Run("UserRefused", func(t *testing.T) {
		h := newHarness(t, ModeREST, pushtest.Options{RejectUser: func(map[string]string) string { return "Quota exceeded." }}, nil)
		o := apply(t, context.Background(), h.sink, []Op{dealOp("d1", "ghost", "")})
		var re *RejectedError
		if o.err != nil || len(o.results) != 1 || !errors.As(o.results[0].Err, &re) || !strings.Contains(re.Msg, "could not be created: Quota exceeded.") {
			t.Fatalf("got %v, %+v", o.err, o.results)
		}
		if got := strings.Join(opsOf(h.srv), ", "); got != "deal:d1 400, user:ghost 400" {
			t.Errorf("requests %s", got)
		}
	})
	t.Run("RetriedOnce", func(t *testing.T) {
		// A deal still refused for its user once the user exists is
		// rejected after one more try, not sent in a loop.
		h := newHarness(t, ModeREST, pushtest.Options{RejectDeal: func(map[string]string) string { return "User does not exist." }}, nil)
		o := apply(t, context.Background(), h.sink, []Op{dealOp("d1", "ghost", "")})
		if o.err != nil || len(o.results) != 1 || !IsRejected(o.results[0].Err) {
			t.Fatalf("got %v, %+v", o.err, o.results)
		}
		if got := strings.Join(opsOf(h.srv), ", "); got != "deal:d1 400, user:ghost 200, deal:d1 400" {
			t.Errorf("requests %s", got)
		}
	})
	t.Run("NoUserNoCreation", func(t *testing.T) {
		h := newHarness(t, ModeREST, pushtest.Options{MissingUserStatus: http.StatusNotFound, RejectDeal: func(map[string]string) string { return "User does not exist." }}, nil)
		o := apply(t, context.Background(), h.sink, []Op{dealOp("d1", "", "")})
		if len(o.results) != 1 || !IsRejected(o.results[0].Err) || len(h.srv.Users()) != 0 || len(h.srv.Requests()) != 1 {
			t.Errorf("got %v, %+v; %d users, %d requests", o.err, o.results, len(h.srv.Users()), len(h.srv.Requests()))
		}
	})
}

// bodyRecorder keeps every request body a client sends.
type bodyRecorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	sent map[string][]string // path → bodies
}

func (b *bodyRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	b.mu.Lock()
	b.sent[r.URL.Path] = append(b.sent[r.URL.Path], string(body))
	b.mu.Unlock()
	return b.next.RoundTrip(r)
}

func (b *bodyRecorder) bodies(path string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.sent[path]...)
}

func TestDealEmail(t *testing.T) {
	newRecorded := func(t *testing.T) (*harness, *bodyRecorder) {
		rec := &bodyRecorder{next: http.DefaultTransport.(*http.Transport).Clone(), sent: map[string][]string{}}
		h := newHarness(t, ModeREST, pushtest.Options{}, func(c *UserComConfig) { c.HTTPClient = &http.Client{Transport: rec} })
		return h, rec
	}
	const dealsAt, usersAt = "/api/public/deals/update_or_create/", "/api/public/users/update_or_create/"
	t.Run("NotInPayload", func(t *testing.T) {
		h, rec := newRecorded(t)
		h.srv.PutUser("u0", nil)
		wantAckedN(t, apply(t, context.Background(), h.sink, deals(6, 3)), 6) // u1 and u2 are created
		// Two deals of one new user may both create it.
		if n := len(rec.bodies(usersAt)); n < 2 {
			t.Errorf("%d user requests, want u1 and u2 created", n)
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for path, bodies := range rec.sent {
			for _, b := range bodies {
				if strings.Contains(b, "email") || strings.Contains(b, "@") {
					t.Errorf("%s sent %s", path, b)
				}
			}
		}
		for id, u := range h.srv.Users() {
			if _, ok := u["email"]; ok {
				t.Errorf("user %s has an e-mail: %v", id, u)
			}
		}
	})
	t.Run("InPayload", func(t *testing.T) {
		h, rec := newRecorded(t)
		h.srv.PutUser("known", nil)
		ops := []Op{dealOp("d1", "new", "a@example.com"), dealOp("d2", "known", "b@example.com")}
		wantAckedN(t, apply(t, context.Background(), h.sink, ops), 2)
		if got := rec.bodies(usersAt); len(got) != 1 || got[0] != `{"custom_id":"new","email":"a@example.com"}` {
			t.Errorf("user requests %q", got)
		}
		for _, b := range rec.bodies(dealsAt) {
			if strings.Contains(b, "email") || strings.Contains(b, "@") {
				t.Errorf("deal request carries the e-mail: %s", b)
			}
		}
		if u := h.srv.Users(); u["new"]["email"] != "a@example.com" || u["known"]["email"] != "" {
			t.Errorf("users %v", u)
		}
		for id, d := range h.srv.Deals() {
			if _, ok := d["email"]; ok {
				t.Errorf("deal %s holds an e-mail: %v", id, d)
			}
		}
	})
}

func TestDealNotAcknowledgedWithoutAnswer(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault pushtest.Fault
		on    string // the request the fault meets
		check func(error) bool
	}{
		{"Drop", pushtest.Drop, "deals", func(err error) bool { var te *TransportError; return errors.As(err, &te) }},
		{"DropAfterApply", pushtest.DropAfter, "deals", func(err error) bool { var te *TransportError; return errors.As(err, &te) }},
		{"DropCreatingUser", pushtest.Drop, "users", func(err error) bool { var te *TransportError; return errors.As(err, &te) }},
		{"Portal", pushtest.Portal, "deals", func(err error) bool { var be *BadAnswerError; return errors.As(err, &be) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, ModeImport, pushtest.Options{Script: func(n int, r *http.Request) pushtest.Fault {
				if strings.Contains(r.URL.Path, "/"+tc.on+"/") {
					return tc.fault
				}
				return pushtest.None
			}}, func(c *UserComConfig) { c.Retries = 0 })
			o := apply(t, context.Background(), h.sink, []Op{dealOp("d1", "ghost", "")})
			if !tc.check(o.err) {
				t.Errorf("Apply: %v", o.err)
			}
			if len(o.results) != 0 {
				t.Errorf("acknowledged %+v", o.results)
			}
		})
	}
}

func TestDealsMixedWithProducts(t *testing.T) {
	for _, mode := range []string{ModeImport, ModeREST} {
		t.Run(mode, func(t *testing.T) {
			h := newHarness(t, mode, pushtest.Options{ImportPolls: 1}, nil)
			products := creates(10, "p", "1")
			var ops []Op
			for i, d := range deals(10, 4) {
				ops = append(ops, products[i], d)
			}
			wantAckedN(t, apply(t, context.Background(), h.sink, ops), 20)
			wantCatalog(t, h.srv.Catalog(), payloads(products))
			if len(h.srv.Deals()) != 10 || len(h.srv.Users()) != 4 {
				t.Errorf("%d deals, %d users", len(h.srv.Deals()), len(h.srv.Users()))
			}
		})
	}
	t.Run("DealFailureStopsProducts", func(t *testing.T) {
		h := newHarness(t, ModeREST, pushtest.Options{Script: func(n int, r *http.Request) pushtest.Fault {
			if strings.Contains(r.URL.Path, "/deals/") {
				return pushtest.Drop
			}
			return pushtest.None
		}}, func(c *UserComConfig) { c.Retries = 0 })
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ops := append(deals(1, 1), creates(200, "p", "1")...)
		o := apply(t, ctx, h.sink, ops)
		var te *TransportError
		if !errors.As(o.err, &te) || !strings.Contains(o.err.Error(), `deal "d0"`) {
			t.Errorf("Apply: %v, want the deal's transport error", o.err)
		}
		if len(o.byID["d0"]) != 0 || len(o.results) >= 201 {
			t.Errorf("%d results, d0 %+v", len(o.results), o.byID["d0"])
		}
	})
	t.Run("AuthStops", func(t *testing.T) {
		h := newHarness(t, ModeImport, pushtest.Options{UnauthorizedAfter: 2}, func(c *UserComConfig) { c.Concurrency = 1 })
		h.srv.PutUser("u0", nil)
		o := apply(t, context.Background(), h.sink, deals(10, 1))
		if !errors.Is(o.err, ErrTokenRejected) || len(o.results) != 2 {
			t.Errorf("got %v after %d results, want the rejected token after 2", o.err, len(o.results))
		}
	})
}
