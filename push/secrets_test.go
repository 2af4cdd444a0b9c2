package push

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/feedsync/feedsync/push/pushtest"
)

// echoToken is an API key with characters JSON escapes (& < >), so that an
// echo of it in a JSON body differs from the key as sent.
const echoToken = "tok&en<0123456789>abcdefABCDEF0123456789"

// leaksToken reports whether s holds the token or a 10-byte piece of it, in
// any spelling a message or log could give it.
func leaksToken(s string) (string, bool) {
	for _, tok := range []string{echoToken, pushtest.Token, strings.NewReplacer("&", `\u0026`, "<", `\u003c`, ">", `\u003e`).Replace(echoToken)} {
		for i := 0; i+10 <= len(tok); i++ {
			if strings.Contains(s, tok[i:i+10]) {
				return tok[i : i+10], true
			}
		}
	}
	return "", false
}

// A catalog, or a proxy in front of it, that echoes the request's
// Authorization header in its error bodies does not get the token into any
// error or log line: APIError.Msg, a product's RejectedError, the error
// that stops a run (a 5xx, an HTML 2xx) are built from scrubbed bodies.
func TestServerTextNeverCarriesTheToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/public/products-by-id/"), "/")
		switch id {
		case "detail": // {"detail": …}, JSON-escaped by encoding/json
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"detail": "invalid request; you sent Authorization: " + auth})
		case "fields": // {"field": [msgs]}
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string][]string{"name": {"required"}, "headers": {"Authorization: " + auth}})
		case "unescaped": // a hand-written JSON body, \u escapes for every letter
			w.WriteHeader(http.StatusBadRequest)
			var b strings.Builder
			for _, r := range auth {
				b.WriteString(`\u00`)
				b.WriteString(strings.ToLower(string("0123456789ABCDEF"[r>>4])) + string("0123456789ABCDEF"[r&15]))
			}
			w.Write([]byte(`{"detail":"` + b.String() + `"}`))
		case "html500": // a proxy's page, the token across the 200-byte cut
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte("<html><body><h1>500</h1><pre>" + strings.Repeat("x", 120) + " Authorization: " + auth + "</pre></body></html>"))
		case "portal": // a 200 that is no API answer, the token across the 80-byte cut
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html><body>" + strings.Repeat("y", 30) + " Authorization: " + auth + "</body></html>"))
		case "redirect":
			w.Header().Set("Location", "/moved/"+strings.ReplaceAll(auth, " ", "/")+"/api/public/products-by-id/redirect/")
			w.WriteHeader(http.StatusFound)
		default:
			w.WriteHeader(http.StatusOK)
			w.Write([]byte(`{"id":1}`))
		}
	}))
	defer srv.Close()
	logs := &syncBuffer{}
	for _, id := range []string{"detail", "fields", "unescaped", "html500", "portal", "redirect"} {
		sink, err := NewUserCom(UserComConfig{URL: srv.URL, Token: echoToken, Mode: ModeREST, Retries: 1,
			MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond, Logger: zerolog.New(logs)})
		if err != nil {
			t.Fatal(err)
		}
		o := apply(t, context.Background(), sink, []Op{{Kind: Update, ID: id, Payload: product(id, "1")}})
		sink.Close()
		var texts []string
		if o.err != nil {
			texts = append(texts, o.err.Error())
		}
		for _, r := range o.results {
			if r.Err != nil {
				texts = append(texts, r.Err.Error())
			}
		}
		if len(texts) == 0 {
			t.Errorf("%s: no error at all", id)
		}
		for _, s := range texts {
			if piece, ok := leaksToken(s); ok {
				t.Errorf("%s: the error holds %q of the token: %s", id, piece, s)
			}
			if id != "redirect" && !strings.Contains(s, "[REDACTED]") {
				t.Errorf("%s: the error does not show where the token was scrubbed: %s", id, s)
			}
		}
	}
	if piece, ok := leaksToken(logs.String()); ok {
		t.Errorf("the client's log holds %q of the token:\n%s", piece, logs)
	}
}

// The import's rows_with_errors come from a 2xx body: scrubbed as well.
func TestImportRowErrorsNeverCarryTheToken(t *testing.T) {
	h := newHarness(t, ModeImport, pushtest.Options{
		RejectRow: func(f map[string]string) string {
			if f["custom_id"] == "R00001" {
				return "row refused; request had Authorization: Token " + pushtest.Token
			}
			return ""
		},
	}, nil)
	o := apply(t, context.Background(), h.sink, creates(3, "R", "1"))
	if o.err != nil {
		t.Fatal(o.err)
	}
	rejected := 0
	for _, r := range o.results {
		if r.Err == nil {
			continue
		}
		rejected++
		if piece, ok := leaksToken(r.Err.Error()); ok {
			t.Errorf("row %s: the error holds %q of the token: %v", r.Op.ID, piece, r.Err)
		}
	}
	if rejected != 1 {
		t.Errorf("%d rows rejected, want 1", rejected)
	}
	if piece, ok := leaksToken(h.logs.String()); ok {
		t.Errorf("the log holds %q of the token", piece)
	}
}
