package pushtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

func call(t *testing.T, s *Server, token, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Token "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(b, &m)
	return resp.StatusCode, m
}

func TestFakeBehavesLikeTheAPI(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	steps := []struct {
		token, method, path, body string
		want                      int
	}{
		{"wrong", "GET", "/api/public/products-by-id/a/details/", "", 401},
		{Token, "GET", "/api/public/products-by-id/a/details/", "", 404},
		{Token, "GET", "/api/public/products-by-id/a/details", "", 404}, // no trailing slash
		{Token, "POST", "/api/public/products", `{"custom_id":"a"}`, 404},
		{Token, "POST", "/api/public/products/", `{"name":"no id"}`, 400},
		{Token, "POST", "/api/public/products/", `{"custom_id":"a","name":"A","price":1.5}`, 201},
		{Token, "POST", "/api/public/products/", `{"custom_id":"a","name":"A again"}`, 400}, // duplicate
		{Token, "GET", "/api/public/products-by-id/a/details/", "", 200},
		{Token, "PUT", "/api/public/products-by-id/a/", `{"name":"A2","price":2}`, 200},
		{Token, "PUT", "/api/public/products-by-id/zz/", `{"name":"Z"}`, 404},
		{Token, "DELETE", "/api/public/products-by-id/zz/", "", 404},
		{Token, "POST", "/api/public/attributes/", `{"name":"price_max","value_type":"float","content_type":"product"}`, 201},
		{Token, "POST", "/api/public/attributes/", `{"name":"price_max","value_type":"float","content_type":"product"}`, 400},
		{Token, "POST", "/api/public/attributes/", `{"name":"x","value_type":"colour","content_type":"product"}`, 400},
		{Token, "GET", "/api/public/import/status/?import_id=nope", "", 404},
	}
	for _, st := range steps {
		if got, body := call(t, s, st.token, st.method, st.path, st.body); got != st.want {
			t.Errorf("%s %s: %d %v, want %d", st.method, st.path, got, body, st.want)
		}
	}
	if got := s.Catalog()["a"]; got["name"] != "A2" || got["price"] != "2" || got["custom_id"] != "a" {
		t.Errorf("catalog a = %v", got)
	}
	if got, _ := call(t, s, Token, "DELETE", "/api/public/products-by-id/a/", ""); got != 204 {
		t.Errorf("DELETE: %d", got)
	}
	if len(s.Catalog()) != 0 {
		t.Errorf("catalog not empty after DELETE")
	}
}

func TestFakeImport(t *testing.T) {
	s := NewServer(Options{ImportPolls: 1, RejectRow: func(f map[string]string) string {
		if f["price"] == "bad" {
			return "price: A valid number is required."
		}
		return ""
	}})
	defer s.Close()
	var csv strings.Builder
	csv.WriteString("id;title;price\n")
	for i := 0; i < 60; i++ {
		csv.WriteString("p" + string(rune('A'+i%26)) + strings.Repeat("x", i/26) + ";Name;bad\n")
	}
	csv.WriteString("ok;Fine;3.5\n")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("column_mapping", `{"id":"custom_id","title":"name"}`)
	fw, _ := mw.CreateFormFile("input_file", "p.csv")
	io.WriteString(fw, csv.String())
	mw.Close()
	req, _ := http.NewRequest("POST", s.URL+"/api/public/products/import/?separator=semicolon", &body)
	req.Header.Set("Authorization", "Token "+Token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var started struct {
		Data struct {
			ImportID string `json:"import_id"`
		} `json:"data"`
	}
	json.NewDecoder(resp.Body).Decode(&started)
	resp.Body.Close()
	if resp.StatusCode != 200 || started.Data.ImportID == "" {
		t.Fatalf("import: %d %+v", resp.StatusCode, started)
	}
	status := func() map[string]any {
		_, m := call(t, s, Token, "GET", "/api/public/import/status/?import_id="+started.Data.ImportID, "")
		return m["data"].(map[string]any)
	}
	if st := status(); st["status"] != "in_progress" {
		t.Errorf("first poll: %v", st["status"])
	}
	st := status()
	if st["status"] != "finished" || st["total_count"] != 61.0 || st["succeeded"] != 1.0 || st["failed"] != 60.0 {
		t.Errorf("status %v", st)
	}
	if rows := st["rows_with_errors"].([]any); len(rows) != 50 {
		t.Errorf("%d rows_with_errors, want the cap of 50", len(rows))
	}
	if got := s.Catalog()["ok"]; got["name"] != "Fine" || got["price"] != "3.5" {
		t.Errorf("catalog ok = %v", got)
	}
}

func TestFakeFaultsAreRepeatable(t *testing.T) {
	seq := func() []Fault {
		s := NewServer(Options{Seed: 7, FaultRate: 0.5, RetryAfter: "0"})
		// No reused connections: net/http silently resends a GET whose reused
		// connection was dropped, which would add requests by chance.
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		for i := 0; i < 30; i++ {
			req, _ := http.NewRequest("GET", s.URL+"/api/public/products-by-id/a/details/", nil)
			req.Header.Set("Authorization", "Token "+Token)
			if resp, err := client.Do(req); err == nil {
				resp.Body.Close()
			}
		}
		s.Close() // waits for every handler, so every request is recorded
		var out []Fault
		for _, r := range s.Requests() {
			out = append(out, r.Fault)
		}
		return out
	}
	a, b := seq(), seq()
	if len(a) != len(b) {
		t.Fatalf("%d vs %d requests", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("request %d: %v vs %v with the same seed", i, a[i], b[i])
		}
	}
}

// TestFakeDotSegments: a literal dot segment is resolved, as a server in
// front of the API resolves it, so it never names a product; an escaped one
// is the id it spells.
func TestFakeDotSegments(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	steps := []struct {
		method, path, body string
		want               int
	}{
		{"POST", "/api/public/products/", `{"custom_id":".","name":"Dot"}`, 201},
		{"POST", "/api/public/products/", `{"custom_id":"..","name":"Dot dot"}`, 201},
		{"GET", "/api/public/products-by-id/%2E/details/", "", 200},
		{"GET", "/api/public/products-by-id/%2E%2E/details/", "", 200},
		{"GET", "/api/public/products-by-id/%2e%2e/details/", "", 200},
		{"GET", "/api/public/products-by-id/../details/", "", 404}, // is /api/public/details/
		{"GET", "/api/public/products-by-id/./details/", "", 404},  // is /api/public/products-by-id/details/
		{"GET", "/api/public/import/../products-by-id/%2E/details/", "", 200},
		{"PUT", "/api/public/products-by-id/%2E%2E/", `{"name":"Renamed"}`, 200},
		{"PUT", "/api/public/products-by-id/../", `{"name":"Lost"}`, 404},
		{"DELETE", "/api/public/products-by-id/%2E/", "", 204},
	}
	for _, st := range steps {
		if got, body := call(t, s, Token, st.method, st.path, st.body); got != st.want {
			t.Errorf("%s %s: %d %v, want %d", st.method, st.path, got, body, st.want)
		}
	}
	c := s.Catalog()
	if len(c) != 1 || c[".."]["name"] != "Renamed" {
		t.Errorf("catalog %v, want only %q, renamed", c, "..")
	}
	var paths []string
	for _, r := range s.Requests() {
		paths = append(paths, r.Path)
	}
	if paths[5] != "/api/public/products-by-id/../details/" {
		t.Errorf("requests record %q, want the path as sent", paths[5])
	}
}

// TestFakePortal: the Portal fault answers 200 with a page, as a captive
// portal does, and applies nothing.
func TestFakePortal(t *testing.T) {
	s := NewServer(Options{Script: func(n int, r *http.Request) Fault { return Portal }})
	defer s.Close()
	req, _ := http.NewRequest("POST", s.URL+"/api/public/products/", strings.NewReader(`{"custom_id":"a"}`))
	req.Header.Set("Authorization", "Token "+Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || json.Valid(b) {
		t.Errorf("got %d %s %q, want 200 and an HTML page", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	if len(s.Catalog()) != 0 {
		t.Errorf("the portal applied the request: %v", s.Catalog())
	}
	if r := s.Requests(); len(r) != 1 || r[0].Fault != Portal || r[0].Status != 200 {
		t.Errorf("recorded %+v", r)
	}
}

func TestFakeDealsAndUsers(t *testing.T) {
	s := NewServer(Options{RejectDeal: func(f map[string]string) string {
		if f["custom_id"] == "bad" {
			return "Deal refused."
		}
		return ""
	}})
	defer s.Close()
	s.PutUser("u1", nil)
	steps := []struct {
		method, path, body string
		want               int
	}{
		{"POST", "/api/public/deals/update_or_create", `{"custom_id":"d1","name":"D"}`, 404}, // no trailing slash
		{"GET", "/api/public/deals/update_or_create/", "", 404},
		{"POST", "/api/public/deals/update_or_create/", `{"name":"no id"}`, 400},
		{"POST", "/api/public/deals/update_or_create/", `{"custom_id":"d1"}`, 400}, // no name
		{"POST", "/api/public/deals/update_or_create/", `{"custom_id":"d1","name":"D","status":5}`, 400},
		{"POST", "/api/public/deals/update_or_create/", `{"custom_id":"d1","name":"D","stage":"placed"}`, 400},
		{"POST", "/api/public/deals/update_or_create/", `{"custom_id":"d1","name":"D","pipeline":1.5}`, 400},
		{"POST", "/api/public/deals/update_or_create/", `{"custom_id":"d1","name":"D","order_products":[{"quantity":1}]}`, 400},
		{"POST", "/api/public/deals/update_or_create/", `{"custom_id":"d1","name":"D","products_custom_id":[1]}`, 400},
		{"POST", "/api/public/deals/update_or_create/", `{"custom_id":"bad","name":"D"}`, 400},
		{"POST", "/api/public/deals/update_or_create/", `{"custom_id":"d1","name":"D","user_custom_id":"u2"}`, 400}, // unknown user
		{"POST", "/api/public/deals/update_or_create/", `{"custom_id":"d1","name":"D","status":2,"stage":7,"value":37.4,"user_custom_id":"u1","order_products":[{"product_custom_id":"A","quantity":2}]}`, 200},
		{"POST", "/api/public/deals/update_or_create/", `{"custom_id":"d1","name":"D2","status":3}`, 200}, // update keeps the rest
		{"POST", "/api/public/users/update_or_create/", `{"user_id":"u2"}`, 400},                          // v1 key
		{"POST", "/api/public/users/update_or_create/", `{"custom_id":"u2","email":"nope"}`, 400},
		{"POST", "/api/public/users/update_or_create/", `{"custom_id":"u2","first_name":"` + strings.Repeat("x", 41) + `"}`, 400},
		{"POST", "/api/public/users/update_or_create/", `{"custom_id":"u2","email":"a@example.com"}`, 200},
		{"POST", "/api/public/deals/update_or_create/", `{"custom_id":"d2","name":"D","user_custom_id":"u2"}`, 200},
	}
	for _, st := range steps {
		if got, body := call(t, s, Token, st.method, st.path, st.body); got != st.want {
			t.Errorf("%s %s %s: %d %v, want %d", st.method, st.path, st.body, got, body, st.want)
		}
	}
	deals := s.Deals()
	if len(deals) != 2 {
		t.Errorf("deals %v, want d1 and d2", deals)
	}
	d1 := deals["d1"]
	if d1["name"] != "D2" || d1["status"] != "3" || d1["stage"] != "7" || d1["value"] != "37.4" || d1["user_custom_id"] != "u1" ||
		d1["order_products"] != `[{"product_custom_id":"A","quantity":2}]` {
		t.Errorf("deal d1 = %v", d1)
	}
	if u := s.Users(); len(u) != 2 || u["u2"]["email"] != "a@example.com" || u["u1"]["custom_id"] != "u1" {
		t.Errorf("users %v", u)
	}
	if len(s.Catalog()) != 0 {
		t.Errorf("deals reached the product catalog: %v", s.Catalog())
	}
	var ops []string
	for _, r := range s.Requests() {
		ops = append(ops, r.Op+":"+r.ID)
	}
	if got := strings.Join(ops[len(ops)-3:], " "); got != "user:u2 user:u2 deal:d2" {
		t.Errorf("last requests %s", got)
	}
}

func TestFakeMissingUser(t *testing.T) {
	for _, status := range []int{0, 400, 404} {
		s := NewServer(Options{MissingUserStatus: status})
		got, body := call(t, s, Token, "POST", "/api/public/deals/update_or_create/", `{"custom_id":"d","name":"D","user_custom_id":"ghost"}`)
		s.Close()
		want := status
		if want == 0 {
			want = 400
		}
		if got != want {
			t.Errorf("MissingUserStatus %d: got %d %v", status, got, body)
		}
		if !strings.Contains(strings.ToLower(jsonText(body)), "user") {
			t.Errorf("MissingUserStatus %d: %v does not name the user", status, body)
		}
	}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestFakeDealFaults: the faults apply to deals and users as to products;
// the ones after apply (504, drop-after) leave the deal stored.
func TestFakeDealFaults(t *testing.T) {
	faults := []Fault{TooManyRetryAfter, Internal, BadGateway, GatewayTimeout, Drop, DropAfter, Portal}
	s := NewServer(Options{RetryAfter: "3", Script: func(n int, r *http.Request) Fault {
		if n <= len(faults) {
			return faults[n-1]
		}
		return None
	}})
	defer s.Close()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	var statuses []int
	for i := range faults {
		req, _ := http.NewRequest("POST", s.URL+"/api/public/deals/update_or_create/", strings.NewReader(`{"custom_id":"d`+string(rune('0'+i))+`","name":"D"}`))
		req.Header.Set("Authorization", "Token "+Token)
		resp, err := client.Do(req)
		if err != nil {
			statuses = append(statuses, 0)
			continue
		}
		if faults[i] == TooManyRetryAfter && resp.Header.Get("Retry-After") != "3" {
			t.Errorf("429 without Retry-After: 3")
		}
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
	}
	if got, want := fmt.Sprint(statuses), "[429 500 502 504 0 0 200]"; got != want {
		t.Errorf("statuses %s, want %s", got, want)
	}
	deals := s.Deals()
	if _, ok := deals["d3"]; !ok || len(deals) != 2 || deals["d5"] == nil {
		t.Errorf("deals %v, want only d3 (504 after apply) and d5 (dropped after apply)", deals)
	}
}
