package redact

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"
)

func TestStringReplacesEveryOccurrence(t *testing.T) {
	r := New("s3cr3t-token")
	got := r.String("a s3cr3t-token b s3cr3t-token")
	if want := "a " + Mask + " b " + Mask; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if s := "nothing here"; r.String(s) != s {
		t.Errorf("a string without secrets changed: %q", r.String(s))
	}
}

func TestShortValuesAreNotSecrets(t *testing.T) {
	r := New("a", "shop", "12345", "")
	if r.Len() != 0 {
		t.Errorf("Len = %d, want 0: values under %d bytes are ignored", r.Len(), MinLen)
	}
	if s := "a shop with 12345 products"; r.String(s) != s {
		t.Errorf("short values were scrubbed: %q", r.String(s))
	}
}

// A secret with characters that JSON, Go quoting and URLs escape differently
// is found in each spelling.
func TestEscapedForms(t *testing.T) {
	secret := "p&ss<w>rd\"\\\tü\u2028x"
	r := New(secret)
	var spellings []string
	for _, html := range []bool{true, false} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		enc.Encode(map[string]string{"error": "boom " + secret + " end"})
		spellings = append(spellings, b.String())
		// JSON in a JSON string, as a server's JSON body inside a log field.
		inner := b.String()
		b.Reset()
		enc.Encode(map[string]string{"body": inner})
		spellings = append(spellings, b.String())
	}
	spellings = append(spellings,
		fmt.Sprintf("%q", "boom "+secret),
		fmt.Sprintf("%+q", "boom "+secret),
	)
	for _, s := range spellings {
		got := r.String(s)
		if !strings.Contains(got, Mask) {
			t.Errorf("no mask in %q → %q", s, got)
		}
		for _, f := range Forms(secret) {
			if strings.Contains(got, f) {
				t.Errorf("%q still holds the form %q of the secret: %q", s, f, got)
			}
		}
		for _, part := range []string{"p&ss", "p\\u0026ss", "rd\\\""} {
			if strings.Contains(got, part) {
				t.Errorf("%q keeps a piece %q of the secret: %q", s, part, got)
			}
		}
		// Masking inside a JSON string keeps the JSON valid.
		if strings.HasPrefix(s, "{") {
			var m map[string]any
			if err := json.Unmarshal([]byte(got), &m); err != nil {
				t.Errorf("masked JSON %q is not JSON: %v", got, err)
			}
		}
	}
	// URL escaping, as url.QueryEscape writes it.
	r2 := New("abc def/ghi&jkl")
	if got := r2.String("GET /x?key=abc+def%2Fghi%26jkl"); strings.Contains(got, "abc+def") {
		t.Errorf("query-escaped secret left: %q", got)
	}
}

func TestOverlappingAndNestedSecrets(t *testing.T) {
	for _, c := range []struct {
		name    string
		secrets []string
		in      string
		want    string
	}{
		{"overlap", []string{"abcdef123", "123xyz789"}, "<abcdef123xyz789>", "<" + Mask + ">"},
		{"overlap reversed order", []string{"123xyz789", "abcdef123"}, "<abcdef123xyz789>", "<" + Mask + ">"},
		{"nested", []string{"Token s3cr3t-value", "s3cr3t-value"}, "Authorization: Token s3cr3t-value.", "Authorization: " + Mask + "."},
		{"inner alone", []string{"Token s3cr3t-value", "s3cr3t-value"}, "key=s3cr3t-value", "key=" + Mask},
		{"self overlap", []string{"aaaaaa"}, "xaaaaaaaax", "x" + Mask + "x"},
		{"adjacent", []string{"secret1", "secret2"}, "secret1secret2", Mask + Mask},
		{"chain of three", []string{"aaaa11bb", "11bbbb22", "22cccc33"}, "aaaa11bbbb22cccc33!", Mask + "!"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := New(c.secrets...)
			got := r.String(c.in)
			if got != c.want {
				t.Errorf("String(%q) = %q, want %q", c.in, got, c.want)
			}
			if b := string(r.Bytes([]byte(c.in))); b != c.want {
				t.Errorf("Bytes(%q) = %q, want %q", c.in, b, c.want)
			}
		})
	}
}

func TestErrorKeepsTheChain(t *testing.T) {
	r := New("s3cr3t-token")
	base := fmt.Errorf("open: %w", fs.ErrNotExist)
	err := fmt.Errorf("catalog said %q: %w", "Token s3cr3t-token", base)
	red := r.Error(err)
	if strings.Contains(red.Error(), "s3cr3t-token") || !strings.Contains(red.Error(), Mask) {
		t.Errorf("Error() = %q", red.Error())
	}
	if !errors.Is(red, fs.ErrNotExist) {
		t.Error("errors.Is does not see through the scrubbed error")
	}
	if clean := errors.New("clean"); r.Error(clean) != clean {
		t.Error("an error without secrets was wrapped")
	}
	if r.Error(nil) != nil {
		t.Error("Error(nil) is not nil")
	}
}

func TestNilRedactorChangesNothing(t *testing.T) {
	var r *Redactor
	if r.String("x s3cr3t") != "x s3cr3t" || string(r.Bytes([]byte("ab"))) != "ab" || r.Len() != 0 {
		t.Error("a nil Redactor changed something")
	}
	var b bytes.Buffer
	w := r.Writer(&b)
	w.Write([]byte("line\npartial"))
	w.Write(bytes.Repeat([]byte("x"), maxPending+10))
	w.Flush()
	if b.Len() != len("line\npartial")+maxPending+10 {
		t.Errorf("wrote %d bytes", b.Len())
	}
}

func TestAddConcurrentWithUse(t *testing.T) {
	r := New("first-secret")
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			r.Add(fmt.Sprintf("added-secret-%d", i))
		}()
		go func() {
			defer wg.Done()
			for range 100 {
				if strings.Contains(r.String("first-secret"), "first") {
					t.Error("an Add made the Redactor forget a secret")
					return
				}
			}
		}()
	}
	wg.Wait()
	if r.Len() != 5 {
		t.Errorf("Len = %d, want 5", r.Len())
	}
	if got := r.String("added-secret-3 added-secret-0"); got != Mask+" "+Mask {
		t.Errorf("got %q", got)
	}
}

// A secret written in pieces over several writes is still found: the writer
// holds a line back until its newline.
func TestWriterFindsASecretSplitAcrossWrites(t *testing.T) {
	secret := "Token 0123456789abcdef"
	r := New(secret)
	line := `{"level":"error","error":"POST products/: 400: echo ` + secret + `"}` + "\n"
	for _, chunk := range []int{1, 2, 3, 5, 7, 13, len(line)} {
		var b bytes.Buffer
		w := r.Writer(&b)
		input := line + line + "tail " + secret
		for i := 0; i < len(input); i += chunk {
			w.Write([]byte(input[i:min(i+chunk, len(input))]))
			if strings.Contains(b.String(), "0123456789") {
				t.Fatalf("chunk %d: a piece of the secret was written: %q", chunk, b.String())
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		want := r.String(line + line + "tail " + secret)
		if b.String() != want {
			t.Errorf("chunk %d: wrote %q, want %q", chunk, b.String(), want)
		}
		if strings.Contains(b.String(), "0123456789") {
			t.Errorf("chunk %d: the secret was written: %q", chunk, b.String())
		}
	}
}

// A line longer than maxPending is written in parts, but never cut inside
// a secret.
func TestWriterLongLineNeverCutsASecret(t *testing.T) {
	secret := "very-long-secret-" + strings.Repeat("z", 40)
	r := New(secret)
	for _, at := range []int{0, maxPending - 30, maxPending - 1, maxPending, maxPending + 5, 2*maxPending - 20} {
		var line strings.Builder
		for line.Len() < 3*maxPending {
			if line.Len() >= at && !strings.Contains(line.String(), secret) {
				line.WriteString(secret)
			}
			line.WriteString("0123456789")
		}
		text := line.String() + secret + "\n"
		for _, chunk := range []int{1000, 4097, 65536} {
			var out bytes.Buffer
			w := r.Writer(&out)
			for i := 0; i < len(text); i += chunk {
				w.Write([]byte(text[i:min(i+chunk, len(text))]))
			}
			w.Flush()
			if strings.Contains(out.String(), "zzzzzzzzzz") {
				t.Errorf("secret at %d, chunks of %d: a piece of the secret was written", at, chunk)
			}
			if want := r.String(text); out.String() != want {
				t.Errorf("secret at %d, chunks of %d: output differs from String (len %d vs %d)", at, chunk, out.Len(), len(want))
			}
		}
	}
}

// The logger's writer scrubs zerolog's JSON and console output, where the
// secret appears escaped.
func TestWriterUnderZerolog(t *testing.T) {
	secret := `tok&<en>"quoted"\x`
	r := New(secret)
	var jsonOut, consoleOut bytes.Buffer
	jl := zerolog.New(r.Writer(&jsonOut))
	cl := zerolog.New(zerolog.ConsoleWriter{Out: r.Writer(&consoleOut), NoColor: true})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, l := range []zerolog.Logger{jl, cl} {
				l.Error().Str("body", `{"detail":"Authorization: Token `+secret+`"}`).Int("n", i).Msg("rejected: Token " + secret)
				l.Info().Err(errors.New("echo " + secret)).Msg("x")
			}
		}()
	}
	wg.Wait()
	for name, out := range map[string]string{"json": jsonOut.String(), "console": consoleOut.String()} {
		for _, f := range append(Forms(secret), "tok&", `tok\u0026`, "<en>", `\u003cen`) {
			if strings.Contains(out, f) {
				t.Errorf("%s log holds %q:\n%s", name, f, out)
			}
		}
		if n := strings.Count(out, "\n"); n != 40 {
			t.Errorf("%s log has %d lines, want 40", name, n)
		}
	}
	sc := bufio.NewScanner(&jsonOut)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Errorf("scrubbed JSON log line %q is not JSON: %v", sc.Text(), err)
		}
	}
}

// A log line through a Redactor of a typical configuration's secrets (a
// token, two feeds with a header and user info each, a heartbeat).
func BenchmarkBytesLogLine(b *testing.B) {
	r := New("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "Token 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"Bearer feed-token-one-1234567", "feed-token-one-1234567", "Bearer feed-token-two-7654321", "feed-token-two-7654321",
		"shopuser", "shop-password-1", "shopuser:shop-password-1", "c2hvcHVzZXI6c2hvcC1wYXNzd29yZC0x", "query-key-abcdef", "hb-token-998877")
	line := []byte(`{"level":"info","feed":"shop","mode":"sync","fetch":"changed","items":1200,"products":480,"created":3,"updated":7,"unchanged":470,"deleted":0,"unavailable":0,"failed":0,"skipped":0,"bytes":2400000,"duration_ms":812,"time":"2026-12-02T07:52:34Z","message":"run finished"}` + "\n")
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		r.Bytes(line)
	}
}
