package redact

import (
	"bytes"
	"encoding/json"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Mask is what a secret is replaced with.
const Mask = "[REDACTED]"

// MinLen is the shortest secret a Redactor takes: a shorter value ("a",
// "1", "shop") would be scrubbed out of every word it occurs in, and hides
// too little to be worth it.
const MinLen = 6

// maxPending bounds what a Writer holds back while it waits for the end of
// a line; beyond it, the part that can hold no incomplete secret is written.
const maxPending = 64 << 10

// Redactor replaces secrets with Mask. Its methods are safe for concurrent
// use, also with Add; a nil *Redactor changes nothing.
//
// Every occurrence of a secret in any of its Forms is replaced. Occurrences
// that overlap, or a secret inside another, become one Mask, so that no part
// of either is left.
type Redactor struct {
	mu  sync.Mutex // serialises Add
	cur atomic.Pointer[needles]
}

type needles struct {
	secrets map[string]bool
	forms   []string // every form of every secret, longest first
	bforms  [][]byte // forms as bytes, for Bytes
	maxLen  int
}

// New returns a Redactor of secrets; values shorter than MinLen are ignored.
func New(secrets ...string) *Redactor {
	r := &Redactor{}
	r.Add(secrets...)
	return r
}

// Add makes r scrub secrets too (values shorter than MinLen are ignored).
// Secrets are never dropped: text written before a configuration changed may
// still carry the old ones.
func (r *Redactor) Add(secrets ...string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.cur.Load()
	next := &needles{secrets: map[string]bool{}}
	if old != nil {
		for s := range old.secrets {
			next.secrets[s] = true
		}
	}
	added := false
	for _, s := range secrets {
		if len(s) >= MinLen && !next.secrets[s] {
			next.secrets[s], added = true, true
		}
	}
	if !added && old != nil {
		return
	}
	seen := map[string]bool{}
	for s := range next.secrets {
		for _, f := range Forms(s) {
			if !seen[f] {
				seen[f] = true
				next.forms = append(next.forms, f)
				next.maxLen = max(next.maxLen, len(f))
			}
		}
	}
	sort.Slice(next.forms, func(i, j int) bool {
		a, b := next.forms[i], next.forms[j]
		if len(a) != len(b) {
			return len(a) > len(b)
		}
		return a < b
	})
	for _, f := range next.forms {
		next.bforms = append(next.bforms, []byte(f))
	}
	r.cur.Store(next)
}

// Len is the number of secrets r scrubs.
func (r *Redactor) Len() int {
	if r == nil {
		return 0
	}
	if n := r.cur.Load(); n != nil {
		return len(n.secrets)
	}
	return 0
}

// Forms are the spellings of secret that Redactor looks for: as it is;
// JSON-escaped (with and without HTML escaping, as encoding/json and zerolog
// write it, and escaped twice, as JSON inside a JSON string); Go-quoted (%q,
// zerolog's console writer); and URL-escaped (query and path).
func Forms(secret string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(f string) {
		if f != "" && !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	add(secret)
	for _, html := range []bool{true, false} {
		once := jsonInner(secret, html)
		add(once)
		add(jsonInner(once, html))
	}
	add(unquote(strconv.Quote(secret)))
	add(unquote(strconv.QuoteToASCII(secret)))
	add(url.QueryEscape(secret))
	add(url.PathEscape(secret))
	return out
}

// jsonInner is s as a JSON string, without the quotes.
func jsonInner(s string, escapeHTML bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	if enc.Encode(s) != nil {
		return ""
	}
	return unquote(strings.TrimSuffix(b.String(), "\n"))
}

func unquote(q string) string {
	if len(q) >= 2 {
		return q[1 : len(q)-1]
	}
	return ""
}

type span struct{ start, end int }

// spans returns where s holds a secret, sorted and merged: overlapping
// occurrences are one span.
func (n *needles) spans(s string) []span {
	if n == nil {
		return nil
	}
	var sp []span
	for _, f := range n.forms {
		if len(f) > len(s) {
			continue
		}
		for i := 0; i <= len(s)-len(f); {
			j := strings.Index(s[i:], f)
			if j < 0 {
				break
			}
			sp = append(sp, span{i + j, i + j + len(f)})
			i += j + 1 // overlapping occurrences of the same form too
		}
	}
	return merge(sp)
}

// spansBytes is spans of a byte slice, without copying it.
func (n *needles) spansBytes(b []byte) []span {
	if n == nil {
		return nil
	}
	var sp []span
	for _, f := range n.bforms {
		if len(f) > len(b) {
			continue
		}
		for i := 0; i <= len(b)-len(f); {
			j := bytes.Index(b[i:], f)
			if j < 0 {
				break
			}
			sp = append(sp, span{i + j, i + j + len(f)})
			i += j + 1
		}
	}
	return merge(sp)
}

// merge sorts spans and joins those that overlap.
func merge(sp []span) []span {
	if len(sp) == 0 {
		return nil
	}
	sort.Slice(sp, func(i, j int) bool {
		if sp[i].start != sp[j].start {
			return sp[i].start < sp[j].start
		}
		return sp[i].end > sp[j].end
	})
	merged := sp[:1]
	for _, x := range sp[1:] {
		last := &merged[len(merged)-1]
		if x.start < last.end {
			last.end = max(last.end, x.end)
			continue
		}
		merged = append(merged, x)
	}
	return merged
}

// mask writes s with every span replaced by Mask.
func mask(s string, sp []span) string {
	var b strings.Builder
	b.Grow(len(s))
	at := 0
	for _, x := range sp {
		b.WriteString(s[at:x.start])
		b.WriteString(Mask)
		at = x.end
	}
	b.WriteString(s[at:])
	return b.String()
}

// String returns s with every secret replaced by Mask.
func (r *Redactor) String(s string) string {
	if r == nil {
		return s
	}
	sp := r.cur.Load().spans(s)
	if sp == nil {
		return s
	}
	return mask(s, sp)
}

// Bytes returns b with every secret replaced by Mask: b itself when it holds
// none, else a new slice.
func (r *Redactor) Bytes(b []byte) []byte {
	if r == nil {
		return b
	}
	sp := r.cur.Load().spansBytes(b)
	if sp == nil {
		return b
	}
	out := make([]byte, 0, len(b))
	at := 0
	for _, x := range sp {
		out = append(out, b[at:x.start]...)
		out = append(out, Mask...)
		at = x.end
	}
	return append(out, b[at:]...)
}

// Error returns err with its message scrubbed: err itself when the message
// holds no secret, else an error whose Error is the scrubbed message and
// which unwraps to err, so that errors.Is and errors.As still see through it
// (the errors they find carry their own, unscrubbed, messages).
func (r *Redactor) Error(err error) error {
	if r == nil {
		return err
	}
	return ErrorWith(r.String, err)
}

// ErrorWith is Redactor.Error with any scrubbing function (nil changes
// nothing), for callers that are handed one rather than a Redactor.
func ErrorWith(scrub func(string) string, err error) error {
	if err == nil || scrub == nil {
		return err
	}
	msg := err.Error()
	if clean := scrub(msg); clean != msg {
		return &redactedError{msg: clean, err: err}
	}
	return err
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// Writer returns a writer that scrubs what it writes to w, a line at a time:
// a line is held back until its newline arrives, so a secret split across
// two writes is still found. (zerolog writes each event as one line in one
// Write; a line without its newline is written by Flush.) A line longer
// than 64 KiB is written in parts, each cut where no secret can be split.
// It is safe for concurrent use.
func (r *Redactor) Writer(w io.Writer) *Writer { return &Writer{r: r, w: w} }

// Writer is Redactor.Writer's writer.
type Writer struct {
	r   *Redactor
	w   io.Writer
	mu  sync.Mutex
	buf []byte // the start of a line whose newline has not come yet
}

// Write scrubs p's complete lines and writes them; the rest waits for its
// newline (or Flush).
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) == 0 && len(p) > 0 && p[len(p)-1] == '\n' {
		// The usual case: one whole line (or several).
		if _, err := w.w.Write(w.r.Bytes(p)); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	if i := bytes.LastIndexByte(w.buf, '\n'); i >= 0 {
		if err := w.emit(i + 1); err != nil {
			return 0, err
		}
	}
	if len(w.buf) > maxPending {
		if err := w.emitSafe(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush writes what is held back, scrubbed, even without its newline.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) == 0 {
		return nil
	}
	return w.emit(len(w.buf))
}

// emit scrubs and writes buf[:n] and keeps the rest.
func (w *Writer) emit(n int) error {
	_, err := w.w.Write(w.r.Bytes(w.buf[:n]))
	w.buf = append(w.buf[:0], w.buf[n:]...)
	return err
}

// emitSafe writes the longest start of buf that no secret can straddle: a
// secret found in buf is complete, and one that starts in the part written
// would have ended within buf.
func (w *Writer) emitSafe() error {
	var n *needles
	if w.r != nil {
		n = w.r.cur.Load()
	}
	longest := 0
	if n != nil {
		longest = n.maxLen
	}
	s := string(w.buf)
	cut := len(s) - max(longest-1, 0)
	if cut <= 0 {
		return nil
	}
	sp := n.spans(s)
	var before []span
	for _, x := range sp {
		if x.start >= cut {
			break
		}
		if x.end > cut { // a secret across the cut: keep it whole for later
			cut = x.start
			break
		}
		before = append(before, x)
	}
	if cut == 0 {
		return nil
	}
	out := s[:cut]
	if before != nil {
		out = mask(out, before)
	}
	_, err := io.WriteString(w.w, out)
	w.buf = append(w.buf[:0], w.buf[cut:]...)
	return err
}
