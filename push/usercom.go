package push

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Catalog modes of UserCom.
const (
	ModeImport = "import" // bulk CSV import (published API): creates, updates, unavailable marks
	ModeREST   = "rest"   // one request per product; updates and deletes are assumed calls
)

// UserComConfig configures NewUserCom. Zero values of the tuning fields take
// the defaults noted.
type UserComConfig struct {
	URL      string // the app's URL, https://<app>.user.com; the API is URL + "/api/public/"
	Token    string // the REST API key; never logged or shown
	TokenEnv string // the environment variable it came from, named in errors
	Mode     string // ModeImport (default) or ModeREST

	Rate        float64       // requests per second over all workers; ≤ 0: no limit
	Burst       int           // token bucket size; default Concurrency
	Concurrency int           // REST workers; default 4
	Timeout     time.Duration // one request; default 30s
	Retries     int           // retries after the first attempt of a request (0: none)
	UserAgent   string        // "feedsync/<version>"
	Logger      zerolog.Logger
	Observer    Observer
	HTTPClient  *http.Client // default: a client tuned for Concurrency connections; used as a copy that follows no redirect

	MinBackoff       time.Duration // first retry delay bound; default 500ms
	MaxBackoff       time.Duration // retry delay cap; default 30s
	BreakerThreshold int           // consecutive failures that pause all workers; default 10
	BreakerCooldown  time.Duration // first pause; default 5s (doubles per failed probe, up to 2m)

	MaxFileSize     int64         // import: split CSV files above this many bytes; default 100 MB
	PollInterval    time.Duration // import: first status poll delay; default 1s
	MaxPollInterval time.Duration // import: status poll delay cap; default 30s
	ImportTimeout   time.Duration // import: give up on an unfinished import; default 1h
}

// rateHeadroom is the share of the configured rate the token bucket refills
// at. A token is taken when a request leaves, but the server counts arrivals;
// a new connection or a busy scheduler bunches a few of them together. 2%
// under the rate absorbs up to 20 ms of such jitter at any rate, so the API
// never sees more than Rate requests a second plus Burst.
const rateHeadroom = 0.98

// DefaultMaxFileSize is where import files are split (User.com takes ≤ 200 MB).
const DefaultMaxFileSize = 100 << 20

// UserCom is the User.com catalog sink. In import mode (the default) a run's
// upserts go out as CSV files through the bulk import; in REST mode each
// product is one or two requests, sent by Concurrency workers.
//
// Every request passes through the decorators RateLimited (a token bucket
// shared by all workers), CircuitBreaker and Retrying, in that order from the
// inside out.
type UserCom struct {
	cfg    UserComConfig
	base   string
	raw    *httpCaller
	caller Caller
	log    zerolog.Logger
	obs    Observer

	mu           sync.Mutex
	unidentified int
}

var _ Sink = (*UserCom)(nil)

// NewUserCom returns a User.com sink. It sends nothing until Apply or
// DeclareAttributes.
func NewUserCom(cfg UserComConfig) (*UserCom, error) {
	appURL, err := normalizeAppURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.Token == "" {
		env := cfg.TokenEnv
		if env == "" {
			env = "USERCOM_API_TOKEN"
		}
		return nil, fmt.Errorf("set %s (the environment variable named by catalog.token_env)", env)
	}
	switch cfg.Mode {
	case "":
		cfg.Mode = ModeImport
	case ModeImport, ModeREST:
	default:
		return nil, fmt.Errorf("catalog.mode %q: want import or rest", cfg.Mode)
	}
	cfg.URL = appURL
	if cfg.Concurrency < 1 {
		cfg.Concurrency = 4
	}
	if cfg.Burst < 1 {
		cfg.Burst = cfg.Concurrency
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Retries < 0 {
		cfg.Retries = 0
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "feedsync"
	}
	if cfg.Observer == nil {
		cfg.Observer = NopObserver{}
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 500 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 30 * time.Second
	}
	if cfg.BreakerThreshold <= 0 {
		cfg.BreakerThreshold = 10
	}
	if cfg.BreakerCooldown <= 0 {
		cfg.BreakerCooldown = 5 * time.Second
	}
	if cfg.MaxFileSize <= 0 {
		cfg.MaxFileSize = DefaultMaxFileSize
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.MaxPollInterval < cfg.PollInterval {
		cfg.MaxPollInterval = max(30*time.Second, cfg.PollInterval)
	}
	if cfg.ImportTimeout <= 0 {
		cfg.ImportTimeout = time.Hour
	}
	var client http.Client
	if cfg.HTTPClient != nil {
		client = *cfg.HTTPClient // a copy: the caller's client keeps its own redirect policy
	} else {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns = 2*cfg.Concurrency + 4
		tr.MaxIdleConnsPerHost = 2*cfg.Concurrency + 4
		client.Transport = tr
	}
	// Hand every 3xx back as it is (a *RedirectError): a followed redirect
	// turns a POST into a GET, and a 200 to that GET would acknowledge a
	// product the catalog never received.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	s := &UserCom{cfg: cfg, base: cfg.URL + "/api/public/", log: cfg.Logger, obs: cfg.Observer}
	s.raw = &httpCaller{base: s.base, token: cfg.Token, userAgent: cfg.UserAgent, client: &client, timeout: cfg.Timeout, obs: cfg.Observer,
		scrub: tokenRedactor(cfg.Token)}
	var c Caller = s.raw
	c = NewRateLimited(c, cfg.Rate*rateHeadroom, cfg.Burst)
	c = NewCircuitBreaker(c, cfg.BreakerThreshold, cfg.BreakerCooldown, 2*time.Minute, cfg.Logger)
	c = NewRetrying(c, cfg.Retries, cfg.MinBackoff, cfg.MaxBackoff, cfg.Observer)
	s.caller = c
	return s, nil
}

// Target names the catalog: "usercom:" and the app's URL. The mode is left
// out on purpose: switching between import and rest changes how products
// travel, not what the catalog holds, so it must not re-send every product.
func (s *UserCom) Target() string { return "usercom:" + s.cfg.URL }

// UserComTarget is the Target a User.com sink for the app at rawURL has,
// without building one (plan needs no token).
func UserComTarget(rawURL string) (string, error) {
	u, err := normalizeAppURL(rawURL)
	if err != nil {
		return "", err
	}
	return "usercom:" + u, nil
}

// normalizeAppURL accepts https://app.user.com, with or without a trailing
// slash or /api/public.
func normalizeAppURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("catalog.url %q: want the app's URL, such as https://example.user.com", raw)
	}
	u.Path = strings.TrimSuffix(u.Path, "/api/public")
	return u.String(), nil
}

// Mode is ModeImport or ModeREST.
func (s *UserCom) Mode() string { return s.cfg.Mode }

// Close releases idle connections.
func (s *UserCom) Close() error {
	s.raw.client.CloseIdleConnections()
	return nil
}

// Unidentified is the number of import rows the last Apply left
// unacknowledged because the import reported more failed rows than it listed
// (it lists at most 50): those rows cannot be told apart from the rows that
// succeeded, so none of them is committed and the next run sends them again.
// Apply then also returns an *UnidentifiedError. Always 0 in REST mode.
func (s *UserCom) Unidentified() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unidentified
}

// Apply sends every op and acknowledges each once the catalog holds it; see
// Sink. A 400 for one product is that product's *RejectedError and the run
// goes on; a rejected token (*AuthError) or a redirect (*RedirectError) stops
// it at once; a request that kept failing through its retries
// (*ExhaustedError) stops it too, leaving the remaining products for the next
// run.
func (s *UserCom) Apply(ctx context.Context, ops <-chan Op, ack func(Result)) error {
	s.mu.Lock()
	s.unidentified = 0
	s.mu.Unlock()
	var mu sync.Mutex
	report := func(r Result) {
		mu.Lock()
		defer mu.Unlock()
		ack(r)
	}
	products := s.applyImport
	if s.cfg.Mode == ModeREST {
		products = s.applyREST
	}
	// Deals (Op.Deal) go one request each in either mode (deals.go).
	return s.applyWithDeals(ctx, ops, report, products)
}

// call sends r through the decorators and turns 401/403 into *AuthError.
func (s *UserCom) call(ctx context.Context, r *Request) (*Response, error) {
	resp, err := s.caller.Call(ctx, r)
	var ae *APIError
	if errors.As(err, &ae) && (ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden) {
		return nil, &AuthError{Status: ae.Status, TokenEnv: s.cfg.TokenEnv}
	}
	return resp, err
}

func statusOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// rejected turns a permanent 4xx into the product's *RejectedError; any
// other error is returned as it is (it stops the run).
func rejected(err error) error {
	var ae *APIError
	if errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 && !ae.Temporary() {
		return &RejectedError{Status: ae.Status, Msg: ae.Msg}
	}
	return err
}

func (s *UserCom) applyREST(ctx context.Context, ops <-chan Op, report func(Result)) error {
	var warn sync.Once
	assumed := func() {
		s.log.Warn().Msg("catalog.mode rest: updates (PUT products-by-id/{custom_id}/) and deletes (DELETE products-by-id/{custom_id}/) are not published by User.com; feedsync assumes them. Check them on your app before relying on them (see the README)")
	}
	return s.eachOp(ctx, "product", ops, report, func(ctx context.Context, op Op) error {
		warn.Do(assumed)
		return s.restOne(ctx, op)
	})
}

// eachOp sends ops with Concurrency workers through send: an acknowledged
// or a rejected op is reported; any other error stops the run, naming the
// op (what: product or deal). It returns the error that stopped it.
func (s *UserCom) eachOp(ctx context.Context, what string, ops <-chan Op, report func(Result), send func(context.Context, Op) error) error {
	run, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for range s.cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				var op Op
				var ok bool
				select {
				case <-run.Done():
					return
				case op, ok = <-ops:
					if !ok {
						return
					}
				}
				if run.Err() != nil {
					return
				}
				err := send(run, op)
				switch {
				case err == nil:
					report(Result{Op: op})
				case IsRejected(err):
					report(Result{Op: op, Err: err})
				default:
					cancel(fmt.Errorf("%s %q: %w", what, op.ID, err))
					return
				}
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return stopError(context.Cause(run))
}

// restOne applies one op. Create looks first, as User.com's own plugins do.
func (s *UserCom) restOne(ctx context.Context, op Op) error {
	if op.Kind == Delete {
		_, err := s.call(ctx, &Request{Op: "delete", Method: http.MethodDelete, Path: pathf("products-by-id/%s/", op.ID), EmptyOK: true})
		if statusOf(err) == http.StatusNotFound {
			return nil // gone already
		}
		return rejected(err)
	}
	if op.Kind != Create && op.Kind != Update {
		return &RejectedError{Msg: fmt.Sprintf("unknown operation %v", op.Kind)}
	}
	body, err := productBody(op)
	if err != nil {
		return &RejectedError{Msg: err.Error()}
	}
	if op.Kind == Create {
		exists, err := s.exists(ctx, op.ID)
		if err != nil {
			return err
		}
		if !exists {
			return s.create(ctx, op.ID, body)
		}
	}
	return s.update(ctx, op.ID, body, true)
}

func (s *UserCom) exists(ctx context.Context, id string) (bool, error) {
	_, err := s.call(ctx, &Request{Op: "lookup", Method: http.MethodGet, Path: pathf("products-by-id/%s/details/", id)})
	switch {
	case err == nil:
		return true, nil
	case statusOf(err) == http.StatusNotFound:
		return false, nil
	}
	return false, rejected(err)
}

// create POSTs a product. A 400 may mean it exists already (an earlier
// attempt reached the server but its answer was lost): look, and update if so.
func (s *UserCom) create(ctx context.Context, id string, body []byte) error {
	_, err := s.call(ctx, jsonRequest("create", http.MethodPost, "products/", body))
	if statusOf(err) != http.StatusBadRequest {
		return rejected(err)
	}
	exists, lerr := s.exists(ctx, id)
	if lerr != nil {
		return lerr
	}
	if !exists {
		return rejected(err)
	}
	return s.update(ctx, id, body, false)
}

// update PUTs a product; a 404 creates it.
func (s *UserCom) update(ctx context.Context, id string, body []byte, mayCreate bool) error {
	_, err := s.call(ctx, jsonRequest("update", http.MethodPut, pathf("products-by-id/%s/", id), body))
	if statusOf(err) == http.StatusNotFound && mayCreate {
		return s.create(ctx, id, body)
	}
	return rejected(err)
}

func jsonRequest(op, method, path string, body []byte) *Request {
	return &Request{Op: op, Method: method, Path: path, ContentType: "application/json",
		Body: func() (io.Reader, int64, error) { return bytes.NewReader(body), int64(len(body)), nil }}
}

// productBody is the op's payload with custom_id set to the op's id.
func productBody(op Op) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(op.Payload, &m); err != nil {
		return nil, fmt.Errorf("payload is not a JSON object: %v", err)
	}
	id, err := marshalNoEscape(op.ID)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(m["custom_id"], id) {
		return op.Payload, nil
	}
	m["custom_id"] = id
	return marshalNoEscape(m)
}

// AttributeDeclarer is a sink whose catalog wants its typed attributes
// declared once, before the first push (User.com creates an undeclared
// attribute as a string). DeclareAttributes is idempotent: an attribute that
// exists already is no error.
type AttributeDeclarer interface {
	DeclareAttributes(ctx context.Context, attrs map[string]string) error
}

var _ AttributeDeclarer = (*UserCom)(nil)

// ProductAttributes are the attributes feedsync sends with a type other than
// string, plus the string ones it always sends, for DeclareAttributes.
var ProductAttributes = map[string]string{
	"price":          "float",
	"price_max":      "float",
	"sale_price":     "float",
	"variant_count":  "integer",
	"in_stock_count": "integer",
	"availability":   "string",
	"currency":       "string",
	"item_group_id":  "string",
}

// DeclareAttributes defines product attributes with their types (name →
// boolean|integer|float|fixed|date|datetime|string) through POST attributes/,
// so that User.com does not create them as strings on first use. An
// attribute that exists already is fine. The caller runs it once per catalog,
// before the first push, and remembers that it did (store.Meta.Attributes).
func (s *UserCom) DeclareAttributes(ctx context.Context, attrs map[string]string) error {
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		body, err := json.Marshal(map[string]string{"name": n, "value_type": attrs[n], "content_type": "product"})
		if err != nil {
			return err
		}
		_, err = s.call(ctx, jsonRequest("attributes", http.MethodPost, "attributes/", body))
		if statusOf(err) == http.StatusBadRequest && alreadyExists(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("declare product attribute %s (%s): %w", n, attrs[n], err)
		}
	}
	return nil
}

func alreadyExists(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	m := strings.ToLower(ae.Msg)
	return strings.Contains(m, "exist") || strings.Contains(m, "unique") || strings.Contains(m, "already")
}
