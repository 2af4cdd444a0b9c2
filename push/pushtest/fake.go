package pushtest

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault is what the fake does to one request instead of (or besides)
// answering it.
type Fault int

// Faults. Drop and 429/500/502 leave the catalog untouched; GatewayTimeout
// and DropAfter apply the request and lose the answer, as a proxy that gives
// up on a slow backend does.
const (
	None              Fault = iota
	TooMany                 // 429 without Retry-After
	TooManyRetryAfter       // 429 with Retry-After: Options.RetryAfter
	Internal                // 500
	BadGateway              // 502
	GatewayTimeout          // applies the request, then answers 504
	Slow                    // waits Options.SlowDelay, then answers normally
	Drop                    // closes the connection without applying or answering
	DropAfter               // applies the request, then closes the connection
	// Portal answers 200 with an HTML page without applying the request,
	// as a captive portal or a misrouted proxy does.
	Portal
)

var faultNames = [...]string{"none", "429", "429+Retry-After", "500", "502", "504-after-apply", "slow", "drop", "drop-after-apply", "portal"}

func (f Fault) String() string {
	if int(f) < len(faultNames) {
		return faultNames[f]
	}
	return "fault(" + strconv.Itoa(int(f)) + ")"
}

// AllFaults is every fault but Slow and Portal, for mixed-fault soaks.
var AllFaults = []Fault{TooMany, TooManyRetryAfter, Internal, BadGateway, GatewayTimeout, Drop, DropAfter}

// Options shape a fake server. The zero value is a well-behaved API.
type Options struct {
	// Token is the valid API key; default Token.
	Token string
	// Seed makes the random faults and import ids repeatable.
	Seed uint64
	// FaultRate is the share of requests (0–1) that meet a fault drawn
	// uniformly from Faults (default AllFaults).
	FaultRate float64
	Faults    []Fault
	// Script overrides chance: the fault for request n (1-based, in arrival
	// order). Return None to answer normally.
	Script func(n int, r *http.Request) Fault
	// RetryAfter is the Retry-After header of TooManyRetryAfter: seconds or
	// an HTTP date; default "1".
	RetryAfter string
	// SlowDelay is how long Slow waits; default 2s.
	SlowDelay time.Duration
	// UnauthorizedAfter > 0 answers 401 to every request after the first N,
	// as if the key were revoked mid-run.
	UnauthorizedAfter int
	// ImportPolls is how many status polls answer "in_progress" before
	// "finished"; a negative value never finishes.
	ImportPolls int
	// RowErrorsCap is how many rows_with_errors the status lists; default 50.
	RowErrorsCap int
	// RejectRow fails an import row when it returns a message.
	RejectRow func(fields map[string]string) string
	// Reject answers 400 with the message it returns to a POST or PUT of a
	// product.
	Reject func(fields map[string]string) string
	// RejectDeal answers 400 with the message it returns to a POST
	// deals/update_or_create/; RejectUser likewise to a POST
	// users/update_or_create/. Both see the fields in Catalog's text form.
	RejectDeal func(fields map[string]string) string
	RejectUser func(fields map[string]string) string
	// MissingUserStatus is how a deal whose user_custom_id names no user is
	// refused (User.com does not publish it): 400 (the default) with
	// {"user_custom_id": ["User with custom_id … does not exist."]}, as a
	// Django REST framework API refuses an unknown related object, or 404
	// with {"detail": "User not found."}.
	MissingUserStatus int
}

// Token is the default valid API key (64 characters, like User.com's).
const Token = "fAkEt0kEn0123456789abcdef0123456789abcdef0123456789abcdef0123456"

// Request is one request the fake received.
type Request struct {
	N         int
	Time      time.Time // arrival
	Method    string
	Path      string // as sent, escaped, query included
	Op        string // what the fake took it for: create, update, delete, lookup, import, import-status, attributes, deal, user, unknown
	ID        string // the custom_id it concerned, if any
	Status    int    // 0 for a dropped connection
	Fault     Fault
	UserAgent string
	Accept    string
}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	*httptest.Server
	opts Options

	mu         sync.Mutex
	rnd        *rand.Rand
	n          int
	nextID     int
	catalog    map[string]map[string]string
	creates    map[string]int
	requests   []Request
	imports    map[string]*importJob
	attributes map[string]string
	files      [][]byte
	deals      map[string]map[string]string
	users      map[string]map[string]string
	ids        map[string]int // "deal:"/"user:" + custom_id → User.com's id
}

type importJob struct {
	id        string
	total     int
	succeeded int
	failed    int
	errors    []map[string]any
	polls     int
	started   time.Time
}

// NewServer starts a fake; Close it when done.
func NewServer(opts Options) *Server {
	if opts.Token == "" {
		opts.Token = Token
	}
	if len(opts.Faults) == 0 {
		opts.Faults = AllFaults
	}
	if opts.RetryAfter == "" {
		opts.RetryAfter = "1"
	}
	if opts.SlowDelay == 0 {
		opts.SlowDelay = 2 * time.Second
	}
	if opts.RowErrorsCap == 0 {
		opts.RowErrorsCap = 50
	}
	if opts.MissingUserStatus == 0 {
		opts.MissingUserStatus = http.StatusBadRequest
	}
	s := &Server{
		opts:       opts,
		rnd:        rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		catalog:    map[string]map[string]string{},
		creates:    map[string]int{},
		imports:    map[string]*importJob{},
		attributes: map[string]string{},
		deals:      map[string]map[string]string{},
		users:      map[string]map[string]string{},
		ids:        map[string]int{},
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Catalog returns a copy of the catalog: custom_id → field → value, every
// value in its text form (numbers as written).
func (s *Server) Catalog() map[string]map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]map[string]string, len(s.catalog))
	for id, p := range s.catalog {
		c := make(map[string]string, len(p))
		for k, v := range p {
			c[k] = v
		}
		out[id] = c
	}
	return out
}

// Put sets a product directly, as if it had been created earlier.
func (s *Server) Put(id string, fields map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := map[string]string{"custom_id": id}
	for k, v := range fields {
		c[k] = v
	}
	s.catalog[id] = c
}

// Creates returns how many times each custom_id went from absent to present.
func (s *Server) Creates() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.creates))
	for k, v := range s.creates {
		out[k] = v
	}
	return out
}

// Requests returns every request received so far, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	copy(out, s.requests)
	sort.Slice(out, func(i, j int) bool { return out[i].N < out[j].N })
	return out
}

// Attributes returns the declared attributes: name → value_type.
func (s *Server) Attributes() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.attributes))
	for k, v := range s.attributes {
		out[k] = v
	}
	return out
}

// Deals returns a copy of the deals: custom_id → field → value, in
// Catalog's text form (a list such as order_products as its JSON).
func (s *Server) Deals() map[string]map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copyRecords(s.deals)
}

// Users returns a copy of the users: custom_id → field → value.
func (s *Server) Users() map[string]map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copyRecords(s.users)
}

// PutUser sets a user directly, as if it had been created earlier.
func (s *Server) PutUser(id string, fields map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := map[string]string{"custom_id": id}
	for k, v := range fields {
		c[k] = v
	}
	s.users[id] = c
	s.idOf("user:" + id)
}

func copyRecords(m map[string]map[string]string) map[string]map[string]string {
	out := make(map[string]map[string]string, len(m))
	for id, f := range m {
		c := make(map[string]string, len(f))
		for k, v := range f {
			c[k] = v
		}
		out[id] = c
	}
	return out
}

// ImportFiles returns the CSV files received by the import, in order.
func (s *Server) ImportFiles() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.files...)
}

// MaxInWindow is the largest number of requests that arrived within any
// window of length w.
func (s *Server) MaxInWindow(w time.Duration) int {
	reqs := s.Requests()
	times := make([]time.Time, len(reqs))
	for i, r := range reqs {
		times[i] = r.Time
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	best, lo := 0, 0
	for hi := range times {
		for times[hi].Sub(times[lo]) >= w {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// Fields turns a JSON product payload into the text form Catalog uses.
func Fields(payload []byte) (map[string]string, error) {
	d := json.NewDecoder(strings.NewReader(string(payload)))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = text(v)
	}
	return out, nil
}

func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

const prefix = "/api/public/"

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	s.mu.Lock()
	s.n++
	n := s.n
	fault := None
	switch {
	case s.opts.Script != nil:
		fault = s.opts.Script(n, r)
	case s.opts.FaultRate > 0 && s.rnd.Float64() < s.opts.FaultRate:
		fault = s.opts.Faults[s.rnd.IntN(len(s.opts.Faults))]
	}
	s.mu.Unlock()
	rec := Request{N: n, Time: arrived, Method: r.Method, Path: r.URL.RequestURI(), Fault: fault,
		UserAgent: r.UserAgent(), Accept: r.Header.Get("Accept"), Op: "unknown"}
	// A hung-up request is recorded before the hang-up: httptest's Close
	// does not wait for the handler of a hijacked connection, so a record
	// made after it could miss a test's count.
	recorded := false
	record := func() {
		if recorded {
			return
		}
		recorded = true
		s.mu.Lock()
		s.requests = append(s.requests, rec)
		s.mu.Unlock()
	}
	defer record()

	if s.opts.UnauthorizedAfter > 0 && n > s.opts.UnauthorizedAfter {
		rec.Status = reply(w, http.StatusUnauthorized, map[string]any{"detail": "Invalid token."})
		return
	}
	switch fault {
	case TooMany:
		rec.Status = reply(w, http.StatusTooManyRequests, map[string]any{"detail": "Request was throttled."})
		return
	case TooManyRetryAfter:
		w.Header().Set("Retry-After", s.opts.RetryAfter)
		rec.Status = reply(w, http.StatusTooManyRequests, map[string]any{"detail": "Request was throttled."})
		return
	case Internal:
		rec.Status = reply(w, http.StatusInternalServerError, map[string]any{"detail": "Server error."})
		return
	case BadGateway:
		rec.Status = proxyPage(w, http.StatusBadGateway, "502 Bad Gateway")
		return
	case Drop:
		record()
		hangUp(w)
		return
	case Portal:
		rec.Status = proxyPage(w, http.StatusOK, "Sign in to continue")
		return
	case Slow:
		// Read the body first: net/http notices a client hanging up (and
		// cancels r.Context()) only once the body is consumed.
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		t := time.NewTimer(s.opts.SlowDelay)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	out := httptest.NewRecorder()
	rec.Op, rec.ID = s.handle(out, r)
	switch fault {
	case GatewayTimeout:
		rec.Status = proxyPage(w, http.StatusGatewayTimeout, "504 Gateway Time-out")
		return
	case DropAfter:
		record()
		hangUp(w)
		return
	}
	for k, v := range out.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(out.Code)
	w.Write(out.Body.Bytes())
	rec.Status = out.Code
}

// proxyPage answers as a proxy in front of the API does: an HTML page, not JSON.
func proxyPage(w http.ResponseWriter, status int, title string) int {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(status)
	io.WriteString(w, "<html><body><h1>"+title+"</h1></body></html>")
	return status
}

func hangUp(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("pushtest: the server cannot hijack connections")
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		conn.Close()
	}
}

func reply(w http.ResponseWriter, status int, body any) int {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if body != nil {
		json.NewEncoder(w).Encode(body)
	}
	return status
}

var notFound = map[string]any{"detail": "Not found."}

// handle answers one request that met no fault (or one applied before a
// fault); it returns what the request was and the product it concerned.
func (s *Server) handle(w http.ResponseWriter, r *http.Request) (op, id string) {
	if r.Header.Get("Authorization") != "Token "+s.opts.Token {
		reply(w, http.StatusUnauthorized, map[string]any{"detail": "Invalid token."})
		return "unknown", ""
	}
	p := removeDotSegments(r.URL.EscapedPath())
	if !strings.HasPrefix(p, prefix) || !strings.HasSuffix(p, "/") {
		reply(w, http.StatusNotFound, notFound)
		return "unknown", ""
	}
	segs := strings.Split(strings.TrimSuffix(strings.TrimPrefix(p, prefix), "/"), "/")
	for i, seg := range segs {
		u, err := url.PathUnescape(seg)
		if err != nil {
			reply(w, http.StatusBadRequest, map[string]any{"detail": "Malformed path."})
			return "unknown", ""
		}
		segs[i] = u
	}
	route := func(method string, parts ...string) bool {
		if r.Method != method || len(parts) != len(segs) {
			return false
		}
		for i, part := range parts {
			if part != "*" && part != segs[i] {
				return false
			}
		}
		return true
	}
	switch {
	case route(http.MethodPost, "products"):
		return "create", s.create(w, r)
	case route(http.MethodGet, "products-by-id", "*", "details"):
		s.details(w, segs[1])
		return "lookup", segs[1]
	case route(http.MethodPut, "products-by-id", "*"):
		s.update(w, r, segs[1])
		return "update", segs[1]
	case route(http.MethodDelete, "products-by-id", "*"):
		s.delete(w, segs[1])
		return "delete", segs[1]
	case route(http.MethodPost, "products", "import"):
		s.importFile(w, r)
		return "import", ""
	case route(http.MethodGet, "import", "status"):
		s.importStatus(w, r)
		return "import-status", ""
	case route(http.MethodPost, "attributes"):
		s.attribute(w, r)
		return "attributes", ""
	case route(http.MethodPost, "deals", "update_or_create"):
		return "deal", s.dealUpsert(w, r)
	case route(http.MethodPost, "users", "update_or_create"):
		return "user", s.userUpsert(w, r)
	}
	reply(w, http.StatusNotFound, notFound)
	return "unknown", ""
}

// removeDotSegments resolves the literal "." and ".." segments of an escaped
// path as RFC 3986 (5.2.4) says, which servers and proxies do before routing:
// products-by-id/../ is the path /api/public/, never the product "..". An
// escaped dot ("%2E") is no dot segment.
func removeDotSegments(p string) string {
	segs := strings.Split(p, "/")
	out := make([]string, 0, len(segs))
	for i, seg := range segs {
		switch seg {
		case ".":
		case "..":
			if len(out) > 1 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
			continue
		}
		if i == len(segs)-1 {
			out = append(out, "") // a final dot segment leaves a trailing slash
		}
	}
	return strings.Join(out, "/")
}

func readProduct(r *http.Request) (map[string]string, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	return Fields(b)
}

func (s *Server) product(id string, f map[string]string) map[string]any {
	out := map[string]any{"custom_id": id}
	for k, v := range f {
		out[k] = v
	}
	return out
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) string {
	f, err := readProduct(r)
	if err != nil {
		reply(w, http.StatusBadRequest, map[string]any{"detail": "JSON parse error - " + err.Error()})
		return ""
	}
	id := f["custom_id"]
	if id == "" {
		reply(w, http.StatusBadRequest, map[string]any{"custom_id": []string{"This field is required."}})
		return ""
	}
	if s.opts.Reject != nil {
		if msg := s.opts.Reject(f); msg != "" {
			reply(w, http.StatusBadRequest, map[string]any{"detail": msg})
			return id
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.catalog[id]; ok {
		reply(w, http.StatusBadRequest, map[string]any{"custom_id": []string{"product with this custom id already exists."}})
		return id
	}
	s.catalog[id] = f
	s.creates[id]++
	s.nextID++
	body := s.product(id, f)
	body["id"] = s.nextID
	reply(w, http.StatusCreated, body)
	return id
}

func (s *Server) details(w http.ResponseWriter, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.catalog[id]
	if !ok {
		reply(w, http.StatusNotFound, notFound)
		return
	}
	reply(w, http.StatusOK, s.product(id, f))
}

// update replaces the product's fields with the body's (custom_id stays).
func (s *Server) update(w http.ResponseWriter, r *http.Request, id string) {
	f, err := readProduct(r)
	if err != nil {
		reply(w, http.StatusBadRequest, map[string]any{"detail": "JSON parse error - " + err.Error()})
		return
	}
	if s.opts.Reject != nil {
		if msg := s.opts.Reject(f); msg != "" {
			reply(w, http.StatusBadRequest, map[string]any{"detail": msg})
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.catalog[id]; !ok {
		reply(w, http.StatusNotFound, notFound)
		return
	}
	f["custom_id"] = id
	s.catalog[id] = f
	reply(w, http.StatusOK, s.product(id, f))
}

func (s *Server) delete(w http.ResponseWriter, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.catalog[id]; !ok {
		reply(w, http.StatusNotFound, notFound)
		return
	}
	delete(s.catalog, id)
	w.WriteHeader(http.StatusNoContent)
}

var separators = map[string]rune{"comma": ',', "tab": '\t', "semicolon": ';'}

// importFile takes a multipart CSV and applies it at once; the status
// reveals the outcome after ImportPolls polls. Empty cells leave a field as
// it was; a row's custom_id picks the product to create or update.
func (s *Server) importFile(w http.ResponseWriter, r *http.Request) {
	sepName := r.URL.Query().Get("separator")
	if sepName == "" {
		sepName = "comma"
	}
	sep, ok := separators[sepName]
	if !ok {
		reply(w, http.StatusBadRequest, map[string]any{"separator": []string{"Must be comma, tab or semicolon."}})
		return
	}
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		reply(w, http.StatusBadRequest, map[string]any{"detail": "Multipart form parse error - " + err.Error()})
		return
	}
	defer r.MultipartForm.RemoveAll()
	mapping := map[string]string{}
	if cm := r.FormValue("column_mapping"); cm != "" {
		if err := json.Unmarshal([]byte(cm), &mapping); err != nil {
			reply(w, http.StatusBadRequest, map[string]any{"column_mapping": []string{"Invalid JSON: " + err.Error()}})
			return
		}
	}
	file, _, err := r.FormFile("input_file")
	if err != nil {
		reply(w, http.StatusBadRequest, map[string]any{"input_file": []string{"No file was submitted."}})
		return
	}
	defer file.Close()
	raw, err := io.ReadAll(file)
	if err != nil {
		reply(w, http.StatusBadRequest, map[string]any{"input_file": []string{err.Error()}})
		return
	}
	cr := csv.NewReader(strings.NewReader(string(raw)))
	cr.Comma = sep
	records, err := cr.ReadAll()
	if err != nil || len(records) == 0 {
		reply(w, http.StatusBadRequest, map[string]any{"input_file": []string{fmt.Sprintf("Not a CSV file: %v", err)}})
		return
	}
	header := records[0]
	for i, c := range header {
		if to, ok := mapping[c]; ok {
			header[i] = to
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.files = append(s.files, raw)
	job := &importJob{id: s.uuid(), started: time.Now()}
	for n, rec := range records[1:] {
		job.total++
		fields := map[string]string{}
		for i, v := range rec {
			if i < len(header) && v != "" {
				fields[header[i]] = v
			}
		}
		id := fields["custom_id"]
		msg := ""
		switch {
		case id == "":
			msg = "custom_id: This field is required."
		case s.opts.RejectRow != nil:
			msg = s.opts.RejectRow(fields)
		}
		if msg != "" {
			job.failed++
			if len(job.errors) < s.opts.RowErrorsCap {
				job.errors = append(job.errors, map[string]any{"row": n + 1, "custom_id": id, "errors": []string{msg}})
			}
			continue
		}
		job.succeeded++
		p, ok := s.catalog[id]
		if !ok {
			p = map[string]string{}
			s.catalog[id] = p
			s.creates[id]++
		}
		for k, v := range fields {
			p[k] = v
		}
	}
	s.imports[job.id] = job
	reply(w, http.StatusOK, map[string]any{"success": true, "data": map[string]any{"import_id": job.id}})
}

func (s *Server) uuid() string {
	return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", s.rnd.Uint32(), s.rnd.Uint32()&0xffff, s.rnd.Uint32()&0xfff, s.rnd.Uint32()&0xfff, s.rnd.Uint64()&0xffffffffffff)
}

func (s *Server) importStatus(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	job, ok := s.imports[r.URL.Query().Get("import_id")]
	if !ok {
		reply(w, http.StatusNotFound, map[string]any{"success": false, "detail": "Import not found."})
		return
	}
	job.polls++
	data := map[string]any{"id": job.id, "total_count": job.total, "started_at": job.started.UTC().Format(time.RFC3339)}
	if s.opts.ImportPolls < 0 || job.polls <= s.opts.ImportPolls {
		data["status"] = "in_progress"
		data["succeeded"], data["failed"], data["finished_at"], data["rows_with_errors"] = 0, 0, nil, []any{}
	} else {
		data["status"] = "finished"
		data["succeeded"], data["failed"] = job.succeeded, job.failed
		data["finished_at"] = time.Now().UTC().Format(time.RFC3339)
		data["rows_with_errors"] = job.errors
		if job.errors == nil {
			data["rows_with_errors"] = []any{}
		}
	}
	reply(w, http.StatusOK, map[string]any{"success": true, "data": data})
}

var valueTypes = map[string]bool{"boolean": true, "integer": true, "float": true, "fixed": true, "date": true, "datetime": true, "string": true}

func (s *Server) attribute(w http.ResponseWriter, r *http.Request) {
	var a struct {
		Name        string `json:"name"`
		ValueType   string `json:"value_type"`
		ContentType string `json:"content_type"`
	}
	if err := json.NewDecoder(r.Body).Decode(&a); err != nil {
		reply(w, http.StatusBadRequest, map[string]any{"detail": "JSON parse error - " + err.Error()})
		return
	}
	switch {
	case a.Name == "":
		reply(w, http.StatusBadRequest, map[string]any{"name": []string{"This field is required."}})
		return
	case !valueTypes[a.ValueType]:
		reply(w, http.StatusBadRequest, map[string]any{"value_type": []string{fmt.Sprintf("%q is not a valid choice.", a.ValueType)}})
		return
	case a.ContentType != "product":
		reply(w, http.StatusBadRequest, map[string]any{"content_type": []string{fmt.Sprintf("%q is not a valid choice.", a.ContentType)}})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.attributes[a.Name]; ok {
		reply(w, http.StatusBadRequest, map[string]any{"name": []string{"attribute with this name already exists."}})
		return
	}
	s.attributes[a.Name] = a.ValueType
	reply(w, http.StatusCreated, map[string]any{"id": len(s.attributes), "name": a.Name, "value_type": a.ValueType, "content_type": "product"})
}

// idOf is the integer id User.com gives a record (key "deal:…" or
// "user:…"), assigned on first use; s.mu must be held.
func (s *Server) idOf(key string) int {
	if id, ok := s.ids[key]; ok {
		return id
	}
	s.nextID++
	s.ids[key] = s.nextID
	return s.nextID
}

// readObject reads a JSON object body, numbers kept as written.
func readObject(r *http.Request) (map[string]any, error) {
	d := json.NewDecoder(r.Body)
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("expected a JSON object")
	}
	return m, nil
}

func textFields(m map[string]any) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = text(v)
	}
	return out
}

// isInt reports whether v is a JSON integer; n is its value.
func isInt(v any) (n int64, ok bool) {
	num, isNum := v.(json.Number)
	if !isNum {
		return 0, false
	}
	n, err := num.Int64()
	return n, err == nil
}

// dealUpsert is POST deals/update_or_create/: keyed by custom_id, name
// required, status 0–4, stage and pipeline integer ids, order_products a
// list of objects naming product_custom_id or product_id,
// products_custom_id a list of strings, user_custom_id an existing user;
// any other key is an attribute. A known deal keeps the fields the request
// leaves out.
func (s *Server) dealUpsert(w http.ResponseWriter, r *http.Request) string {
	m, err := readObject(r)
	if err != nil {
		reply(w, http.StatusBadRequest, map[string]any{"detail": "JSON parse error - " + err.Error()})
		return ""
	}
	id, _ := m["custom_id"].(string)
	if id == "" {
		reply(w, http.StatusBadRequest, map[string]any{"custom_id": []string{"This field is required."}})
		return ""
	}
	bad := func(field, msg string) string {
		reply(w, http.StatusBadRequest, map[string]any{field: []string{msg}})
		return id
	}
	if name, _ := m["name"].(string); name == "" {
		return bad("name", "This field is required.")
	}
	if v, ok := m["status"]; ok {
		if n, isN := isInt(v); !isN || n < 0 || n > 4 {
			return bad("status", fmt.Sprintf("%q is not a valid choice.", text(v)))
		}
	}
	for _, k := range []string{"stage", "pipeline"} {
		if v, ok := m[k]; ok {
			if _, isN := isInt(v); !isN {
				return bad(k, "A valid integer is required.")
			}
		}
	}
	if v, ok := m["value"]; ok {
		if _, isNum := v.(json.Number); !isNum {
			return bad("value", "A valid number is required.")
		}
	}
	if v, ok := m["order_products"]; ok {
		list, isList := v.([]any)
		if !isList {
			return bad("order_products", "Expected a list of items.")
		}
		for _, e := range list {
			p, isObj := e.(map[string]any)
			if !isObj || (p["product_custom_id"] == nil && p["product_id"] == nil) {
				return bad("order_products", "Each item needs product_custom_id or product_id.")
			}
		}
	}
	if v, ok := m["products_custom_id"]; ok {
		list, isList := v.([]any)
		for _, e := range list {
			if _, isStr := e.(string); !isStr {
				isList = false
			}
		}
		if !isList {
			return bad("products_custom_id", "Expected a list of strings.")
		}
	}
	f := textFields(m)
	if s.opts.RejectDeal != nil {
		if msg := s.opts.RejectDeal(f); msg != "" {
			reply(w, http.StatusBadRequest, map[string]any{"detail": msg})
			return id
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := m["user_custom_id"]; ok && u != nil {
		uid, _ := u.(string)
		if _, known := s.users[uid]; !known {
			if s.opts.MissingUserStatus == http.StatusNotFound {
				reply(w, http.StatusNotFound, map[string]any{"detail": "User not found."})
			} else {
				reply(w, s.opts.MissingUserStatus, map[string]any{"user_custom_id": []string{fmt.Sprintf("User with custom_id %q does not exist.", uid)}})
			}
			return id
		}
	}
	d, ok := s.deals[id]
	if !ok {
		d = map[string]string{}
		s.deals[id] = d
	}
	for k, v := range f {
		d[k] = v
	}
	reply(w, http.StatusOK, map[string]any{"created": !ok, "id": s.idOf("deal:" + id), "custom_id": id})
	return id
}

// userUpsert is POST users/update_or_create/: keyed by custom_id (the v1
// key user_id is not taken), email checked, first_name and last_name at
// most 40 characters; a known user keeps the fields the request leaves out.
func (s *Server) userUpsert(w http.ResponseWriter, r *http.Request) string {
	m, err := readObject(r)
	if err != nil {
		reply(w, http.StatusBadRequest, map[string]any{"detail": "JSON parse error - " + err.Error()})
		return ""
	}
	id, _ := m["custom_id"].(string)
	if id == "" {
		reply(w, http.StatusBadRequest, map[string]any{"custom_id": []string{"This field is required."}})
		return ""
	}
	if v, ok := m["email"]; ok {
		if e, _ := v.(string); !strings.Contains(e, "@") {
			reply(w, http.StatusBadRequest, map[string]any{"email": []string{"Enter a valid email address."}})
			return id
		}
	}
	for _, k := range []string{"first_name", "last_name"} {
		if v, ok := m[k].(string); ok && len([]rune(v)) > 40 {
			reply(w, http.StatusBadRequest, map[string]any{k: []string{"Ensure this field has no more than 40 characters."}})
			return id
		}
	}
	f := textFields(m)
	if s.opts.RejectUser != nil {
		if msg := s.opts.RejectUser(f); msg != "" {
			reply(w, http.StatusBadRequest, map[string]any{"detail": msg})
			return id
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		u = map[string]string{}
		s.users[id] = u
	}
	for k, v := range f {
		u[k] = v
	}
	reply(w, http.StatusOK, map[string]any{"created": !ok, "id": s.idOf("user:" + id)})
	return id
}
