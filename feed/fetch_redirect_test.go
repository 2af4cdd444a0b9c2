package feed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"
)

// loopbackOnly is a transport whose dialer fails the test if it is ever
// asked to connect anywhere but a loopback address; dials lists the
// addresses it connected to.
type loopbackOnly struct {
	*http.Transport
	mu    sync.Mutex
	dials []string
}

func newLoopbackOnly(t *testing.T) *loopbackOnly {
	t.Helper()
	lo := &loopbackOnly{}
	var d net.Dialer
	lo.Transport = &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		ip, perr := netip.ParseAddr(host)
		if err != nil || perr != nil || !ip.IsLoopback() {
			t.Errorf("the fetcher asked to connect to %s: only loopback addresses may be dialed", addr)
			return nil, fmt.Errorf("test: refusing to dial %s", addr)
		}
		lo.mu.Lock()
		lo.dials = append(lo.dials, addr)
		lo.mu.Unlock()
		return d.DialContext(ctx, network, addr)
	}}
	t.Cleanup(lo.Transport.CloseIdleConnections)
	return lo
}

func (lo *loopbackOnly) dialed() []string {
	lo.mu.Lock()
	defer lo.mu.Unlock()
	return append([]string(nil), lo.dials...)
}

// fakeDNS stands in for DNS in Request.lookupHost.
func fakeDNS(names map[string]string) func(context.Context, string) ([]netip.Addr, error) {
	return func(_ context.Context, host string) ([]netip.Addr, error) {
		if a, ok := names[strings.ToLower(host)]; ok {
			return []netip.Addr{netip.MustParseAddr(a)}, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
}

// only127001 counts 127.0.0.1 (the test servers) as a public address, so
// that a feed served there stands for a feed on the internet.
func only127001(ip netip.Addr) bool { return ip == netip.MustParseAddr("127.0.0.1") }

func hostPort(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

func TestFetchHTTPSNeverRedirectsToPlainHTTP(t *testing.T) {
	var plainHits atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plainHits.Add(1)
		io.WriteString(w, tsvFeed)
	}))
	defer plain.Close()
	target := strings.Replace(plain.URL, "http://", "http://leak-user:leak-pass@", 1) + "/feed.xml?token=leak-query"
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			var tlsHits atomic.Int32
			tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tlsHits.Add(1)
				http.Redirect(w, r, target, code)
			}))
			defer tlsSrv.Close()
			// The caller's own client trusts the test certificate and
			// would follow any redirect: the fetcher's checks still apply.
			client := tlsSrv.Client()
			client.CheckRedirect = func(*http.Request, []*http.Request) error { return nil }
			req := fastRequest(tlsSrv.URL + "/feed.xml")
			req.Client = client
			_, err := Fetch(context.Background(), req)
			want := fmt.Sprintf("feed url %s/feed.xml redirects to %s/feed.xml?…: an https feed never follows a redirect to plain http", tlsSrv.URL, plain.URL)
			if err == nil || err.Error() != want {
				t.Errorf("got %v\nwant %s", err, want)
			}
			if !errors.Is(err, ErrUnsafeTarget) {
				t.Errorf("got %v, want ErrUnsafeTarget", err)
			}
			if err != nil && strings.Contains(err.Error(), "leak") {
				t.Errorf("the error shows the target's user info or query: %v", err)
			}
			if tlsHits.Load() != 1 || plainHits.Load() != 0 {
				t.Errorf("https server hit %d times, plain server %d; want 1 and 0", tlsHits.Load(), plainHits.Load())
			}
		})
	}
}

// seen is what a test server received.
type seen struct {
	mu   sync.Mutex
	reqs []string // path apiKey authorization referer, one per request
}

func (s *seen) record(r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, fmt.Sprintf("%s key=%q auth=%q referer=%q", r.URL.Path, r.Header.Get("X-Api-Key"), r.Header.Get("Authorization"), r.Header.Get("Referer")))
}

func (s *seen) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.reqs...)
}

func TestFetchCredentialsStayOnTheFeedOrigin(t *testing.T) {
	const key, user, pass = "key-s3cret", "shopuser", "pass-s3cret"
	wantAuth := "Basic " + basicAuth(user, pass)
	var seenA, seenB seen
	var failB atomic.Int32
	var a, b *httptest.Server
	a = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seenA.record(r)
		switch r.URL.Path {
		case "/cross":
			http.Redirect(w, r, b.URL+"/feed", http.StatusFound)
		case "/cross-retry":
			http.Redirect(w, r, b.URL+"/flaky", http.StatusFound)
		case "/cross-twice":
			http.Redirect(w, r, b.URL+"/onwards", http.StatusFound)
		case "/same":
			http.Redirect(w, r, a.URL+"/feed", http.StatusFound) // absolute: no user info
		case "/same-relative":
			http.Redirect(w, r, "/feed", http.StatusMovedPermanently)
		case "/bounce":
			http.Redirect(w, r, b.URL+"/back", http.StatusFound)
		default:
			io.WriteString(w, tsvFeed)
		}
	}))
	defer a.Close()
	b = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seenB.record(r)
		switch r.URL.Path {
		case "/back":
			http.Redirect(w, r, a.URL+"/after-bounce", http.StatusFound)
		case "/onwards":
			http.Redirect(w, r, b.URL+"/feed", http.StatusFound)
		case "/flaky":
			if failB.Add(1) == 1 {
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			io.WriteString(w, tsvFeed)
		default:
			io.WriteString(w, tsvFeed)
		}
	}))
	defer b.Close()

	fetch := func(t *testing.T, path string) (*Response, []string) {
		t.Helper()
		var logs bytes.Buffer
		req := fastRequest(strings.Replace(a.URL, "http://", "http://"+user+":"+pass+"@", 1) + path + "?token=query-s3cret")
		req.Headers = map[string]string{"X-Api-Key": key}
		req.Log = zerolog.New(&logs)
		req.Client = &http.Client{Transport: newLoopbackOnly(t).Transport}
		resp, err := Fetch(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := readBody(t, resp); err != nil || string(got) != tsvFeed {
			t.Fatalf("body %q, %v", got, err)
		}
		if strings.Contains(logs.String(), "s3cret") {
			t.Errorf("the log shows a secret: %s", logs.String())
		}
		var lines []string
		for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			if l != "" {
				lines = append(lines, l)
			}
		}
		return resp, lines
	}
	reset := func() {
		seenA.mu.Lock()
		seenA.reqs = nil
		seenA.mu.Unlock()
		seenB.mu.Lock()
		seenB.reqs = nil
		seenB.mu.Unlock()
	}

	t.Run("OtherHostGetsNeither", func(t *testing.T) {
		reset()
		_, logs := fetch(t, "/cross")
		if got := seenA.all(); len(got) != 1 || got[0] != fmt.Sprintf("/cross key=%q auth=%q referer=\"\"", key, wantAuth) {
			t.Errorf("the feed's own host saw %q; want the key and the basic auth", got)
		}
		if got := seenB.all(); len(got) != 1 || got[0] != `/feed key="" auth="" referer=""` {
			t.Errorf("the other host saw %q; want no key, no authorization, no referer", got)
		}
		if len(logs) != 1 || !strings.Contains(logs[0], `"level":"warn"`) || !strings.Contains(logs[0], `"headers_dropped":["X-Api-Key"]`) || !strings.Contains(logs[0], `"user_info_dropped":true`) {
			t.Errorf("logs %q; want one warning naming the dropped header", logs)
		}
	})

	t.Run("LoggedOncePerFetch", func(t *testing.T) {
		reset()
		resp, logs := fetch(t, "/cross-retry") // two attempts, each redirected
		if resp.Attempts != 2 {
			t.Errorf("attempts %d, want 2", resp.Attempts)
		}
		for _, r := range seenB.all() {
			if strings.Contains(r, "s3cret") || strings.Contains(r, "Basic") {
				t.Errorf("the other host saw %s", r)
			}
		}
		if len(logs) != 1 {
			t.Errorf("logs %q; want one warning", logs)
		}
		reset()
		_, logs = fetch(t, "/cross-twice") // two hops on the other host
		if got := seenB.all(); len(got) != 2 || strings.Contains(strings.Join(got, " "), "s3cret") {
			t.Errorf("the other host saw %q", got)
		}
		if len(logs) != 1 {
			t.Errorf("logs %q; want one warning", logs)
		}
	})

	t.Run("SameHostKeepsBoth", func(t *testing.T) {
		for _, path := range []string{"/same", "/same-relative"} {
			reset()
			_, logs := fetch(t, path)
			got := seenA.all()
			if len(got) != 2 || !strings.HasPrefix(got[1], fmt.Sprintf("/feed key=%q auth=%q", key, wantAuth)) {
				t.Errorf("%s: the feed's host saw %q; want the key and the basic auth after the redirect too", path, got)
			}
			if len(logs) != 0 {
				t.Errorf("%s: logs %q; want none", path, logs)
			}
		}
	})

	t.Run("NotSentBackAfterLeaving", func(t *testing.T) {
		reset()
		fetch(t, "/bounce")
		got := seenA.all()
		if len(got) != 2 || got[1] != `/after-bounce key="" auth="" referer=""` {
			t.Errorf("the feed's host, reached again through another, saw %q; want no credentials", got)
		}
	})
}

func basicAuth(user, pass string) string {
	r, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
	r.SetBasicAuth(user, pass)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

func TestFetchRefusesRedirectsToInternalAddresses(t *testing.T) {
	var hits atomic.Int32
	var target atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/feed" {
			io.WriteString(w, tsvFeed)
			return
		}
		http.Redirect(w, r, target.Load().(string), http.StatusFound)
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(hostPort(t, srv))
	dns := fakeDNS(map[string]string{
		"internal.example": "10.1.2.3",
		"metadata.example": "169.254.169.254",
		"router.example":   "fe80::1",
		"cdn.example":      "127.0.0.1", // public, as the test counts it
	})
	request := func(t *testing.T) (Request, *loopbackOnly) {
		lo := newLoopbackOnly(t)
		req := fastRequest(srv.URL + "/start")
		req.Client = &http.Client{Transport: lo.Transport}
		req.lookupHost, req.publicAddr = dns, only127001
		return req, lo
	}

	for _, tc := range []struct{ to, named string }{
		{"http://169.254.169.254/latest/meta-data/iam/", "169.254.169.254 is a link-local address (169.254.169.254/32, the cloud metadata endpoint)"},
		{"http://10.0.0.1/feed", "10.0.0.1 is a private address (10.0.0.0/8)"},
		{"http://192.168.1.1:8080/feed", "192.168.1.1 is a private address (192.168.0.0/16)"},
		{"http://[fe80::1]/feed", "fe80::1 is a link-local address (fe80::/10)"},
		{"https://[fd12::1]/feed", "fd12::1 is a unique local (private) address (fc00::/7)"},
		{"http://100.64.0.7/feed", "100.64.0.7 is a shared (carrier-grade NAT) address (100.64.0.0/10)"},
		{"http://[::ffff:10.0.0.1]/feed", "::ffff:10.0.0.1 is a private address (10.0.0.0/8)"},
		{"http://127.0.0.2:" + port + "/feed", "127.0.0.2 is a loopback address (127.0.0.0/8)"},
		{"http://0.0.0.0:" + port + "/feed", "0.0.0.0 is a this-network address (0.0.0.0/8)"},
		{"http://internal.example:" + port + "/feed", "internal.example resolves to 10.1.2.3, a private address (10.0.0.0/8)"},
		{"http://metadata.example/latest/", "metadata.example resolves to 169.254.169.254, a link-local address (169.254.169.254/32, the cloud metadata endpoint)"},
		{"http://router.example/", "router.example resolves to fe80::1, a link-local address (fe80::/10)"},
	} {
		t.Run(tc.to, func(t *testing.T) {
			hits.Store(0)
			target.Store(tc.to + "?sig=query-s3cret")
			req, lo := request(t)
			_, err := Fetch(context.Background(), req)
			want := fmt.Sprintf("feed url %s/start redirects to %s?…: %s: only a feed whose own URL is on such an address may reach one", srv.URL, tc.to, tc.named)
			if err == nil || err.Error() != want {
				t.Errorf("got  %v\nwant %s", err, want)
			}
			if !errors.Is(err, ErrUnsafeTarget) {
				t.Errorf("got %v, want ErrUnsafeTarget", err)
			}
			if hits.Load() != 1 {
				t.Errorf("%d requests, want 1: a refused redirect is not retried", hits.Load())
			}
			if d := lo.dialed(); len(d) != 1 || d[0] != hostPort(t, srv) {
				t.Errorf("dialed %q; want only the feed's own server", d)
			}
		})
	}

	t.Run("PublicNameFollowed", func(t *testing.T) {
		hits.Store(0)
		target.Store("http://cdn.example:" + port + "/feed")
		req, lo := request(t)
		resp, err := Fetch(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := readBody(t, resp); string(got) != tsvFeed {
			t.Errorf("body %q", got)
		}
		for _, d := range lo.dialed() {
			if d != hostPort(t, srv) {
				t.Errorf("dialed %s, want the address cdn.example resolved to", d)
			}
		}
	})

	t.Run("DNSRebindingOfTheFeedHost", func(t *testing.T) {
		// feed.example resolves to the (public) test server, then, when the
		// redirect needs a new connection, to a private address.
		var lookups atomic.Int32
		rebind := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Connection", "close")
			http.Redirect(w, r, "/second", http.StatusFound)
		}))
		defer rebind.Close()
		_, rport, _ := net.SplitHostPort(hostPort(t, rebind))
		lo := newLoopbackOnly(t)
		req := fastRequest("http://feed.example:" + rport + "/first")
		req.Client = &http.Client{Transport: lo.Transport}
		req.publicAddr = only127001
		req.lookupHost = func(_ context.Context, host string) ([]netip.Addr, error) {
			if lookups.Add(1) == 1 {
				return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
			}
			return []netip.Addr{netip.MustParseAddr("10.9.9.9")}, nil
		}
		_, err := Fetch(context.Background(), req)
		want := "feed url http://feed.example:" + rport + "/first redirects to http://feed.example:" + rport + "/second: feed.example resolves to 10.9.9.9, a private address (10.0.0.0/8)"
		if !errors.Is(err, ErrUnsafeTarget) || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("got  %v\nwant %s…", err, want)
		}
		if d := lo.dialed(); len(d) != 1 {
			t.Errorf("dialed %q; want the first address only", d)
		}
	})

	t.Run("OtherRoundTripperChecksNamesBeforeFollowing", func(t *testing.T) {
		// A Transport the fetcher cannot wrap: names are resolved and
		// checked before the redirect is followed.
		hits.Store(0)
		target.Store("http://internal.example:" + port + "/feed")
		req, lo := request(t)
		req.Client = &http.Client{Transport: roundTripFunc(lo.RoundTrip)}
		_, err := Fetch(context.Background(), req)
		if !errors.Is(err, ErrUnsafeTarget) || !strings.Contains(err.Error(), "internal.example resolves to 10.1.2.3") {
			t.Errorf("got %v, want the name refused", err)
		}
		if hits.Load() != 1 || len(lo.dialed()) != 1 {
			t.Errorf("%d requests, %d dials; want 1 and 1", hits.Load(), len(lo.dialed()))
		}
	})

	t.Run("ThroughAProxy", func(t *testing.T) {
		// The proxy (on loopback, the operator's) may be reached; what a
		// redirect names is resolved and checked before it is followed.
		var proxied atomic.Int32
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			proxied.Add(1)
			switch r.Host {
			case "shop.example":
				http.Redirect(w, r, target.Load().(string), http.StatusFound)
			default:
				t.Errorf("the proxy was asked for %s", r.URL)
				http.Error(w, "no", http.StatusBadGateway)
			}
		}))
		defer proxy.Close()
		pu, _ := url.Parse(proxy.URL)
		for _, to := range []string{"http://internal.example/feed", "http://10.0.0.1/feed"} {
			proxied.Store(0)
			target.Store(to)
			lo := newLoopbackOnly(t)
			lo.Transport.Proxy = http.ProxyURL(pu)
			req := fastRequest("http://shop.example/start")
			req.Client = &http.Client{Transport: lo.Transport}
			req.lookupHost = dns // shop.example does not resolve here: the proxy resolves it
			_, err := Fetch(context.Background(), req)
			if !errors.Is(err, ErrUnsafeTarget) || !strings.Contains(err.Error(), "redirects to "+to+": ") {
				t.Errorf("%s: got %v, want it refused", to, err)
			}
			if proxied.Load() != 1 {
				t.Errorf("%s: the proxy got %d requests, want 1", to, proxied.Load())
			}
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestFetchIntranetFeedRedirectsWithinIntranet(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, tsvFeed) }))
	defer other.Close()
	_, otherPort, _ := net.SplitHostPort(hostPort(t, other))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-other":
			http.Redirect(w, r, other.URL+"/feed", http.StatusFound)
		case "/to-name":
			http.Redirect(w, r, "http://files.intranet.example:"+otherPort+"/feed", http.StatusFound)
		case "/to-metadata":
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		}
	}))
	defer srv.Close()
	dns := fakeDNS(map[string]string{"files.intranet.example": "127.0.0.1", "feeds.intranet.example": "127.0.0.1"})
	_, port, _ := net.SplitHostPort(hostPort(t, srv))
	for _, tc := range []struct {
		name string
		req  func(t *testing.T) Request
	}{
		{"DefaultClient", func(t *testing.T) Request { return Request{} }},
		{"LoopbackOnlyTransport", func(t *testing.T) Request {
			return Request{Client: &http.Client{Transport: newLoopbackOnly(t).Transport}, lookupHost: dns}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			paths := []string{srv.URL + "/to-other"}
			if tc.name != "DefaultClient" { // names resolve through the test's DNS
				paths = append(paths, srv.URL+"/to-name", "http://feeds.intranet.example:"+port+"/to-other")
			}
			for _, u := range paths {
				req := tc.req(t)
				req.URL, req.RetryBackoff = u, fastRequest("").RetryBackoff
				resp, err := Fetch(context.Background(), req)
				if err != nil {
					t.Fatalf("%s: %v", u, err)
				}
				if got, _ := readBody(t, resp); string(got) != tsvFeed {
					t.Errorf("%s: body %q", u, got)
				}
			}
			if tc.name == "DefaultClient" {
				return // the default dialer would reach the address if the check failed
			}
			req := tc.req(t)
			req.URL = srv.URL + "/to-metadata"
			_, err := Fetch(context.Background(), req)
			if !errors.Is(err, ErrUnsafeTarget) || !strings.Contains(err.Error(), "redirects to http://169.254.169.254/latest/meta-data/: 169.254.169.254 is a link-local address") {
				t.Errorf("an intranet feed redirected to the metadata endpoint: got %v, want it refused", err)
			}
		})
	}
}

// TestFetchDefaultDialerRefusesByAddress runs the default dialer (no Client):
// it resolves names itself and checks each address before connecting.
func TestFetchDefaultDialerRefusesByAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no second loopback address here: %v", err)
	}
	var internalHits atomic.Int32
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		internalHits.Add(1)
		io.WriteString(w, tsvFeed)
	}))
	defer internal.Close()
	_, port, _ := net.SplitHostPort(hostPort(t, internal))
	public := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://localhost:"+port+"/feed", http.StatusFound)
	}))
	public.Listener.Close()
	public.Listener = ln
	public.Start()
	defer public.Close()
	req := fastRequest(public.URL + "/start")
	req.publicAddr = func(ip netip.Addr) bool { return ip == netip.MustParseAddr("127.0.0.2") }
	_, err = Fetch(context.Background(), req)
	if !errors.Is(err, ErrUnsafeTarget) || !strings.Contains(err.Error(), "redirects to http://localhost:"+port+"/feed: localhost resolves to ") || !strings.Contains(err.Error(), "a loopback address") {
		t.Errorf("got %v, want the redirect to localhost refused", err)
	}
	if internalHits.Load() != 0 {
		t.Errorf("the loopback server got %d requests, want none", internalHits.Load())
	}
}

func TestFetch304WithoutValidators(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusNotModified)
	}))
	defer srv.Close()
	resp, err := Fetch(context.Background(), fastRequest(srv.URL+"/feed.xml"))
	want := "fetch " + srv.URL + "/feed.xml: the server answered 304 Not Modified to a request without validators: nothing to compare with"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, %v\nwant %s", resp, err, want)
	}
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusNotModified || he.Temporary() {
		t.Errorf("got %#v, want a permanent HTTPError 304", err)
	}
	if hits.Load() != 1 {
		t.Errorf("%d requests, want 1", hits.Load())
	}
	req := fastRequest(srv.URL + "/feed.xml")
	req.LastModified = "Mon, 02 Jan 2026 15:04:05 GMT"
	if resp, err := Fetch(context.Background(), req); err != nil || !resp.NotModified {
		t.Errorf("with a validator: got %v, %v; want NotModified", resp, err)
	}
}

func TestFetchRedirectToOtherSchemeNotRetried(t *testing.T) {
	for _, to := range []string{"file:///etc/passwd", "ftp://example.com/feed.tsv", "gopher://example.com/1"} {
		t.Run(to, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				http.Redirect(w, r, to, http.StatusFound)
			}))
			defer srv.Close()
			_, err := Fetch(context.Background(), fastRequest(srv.URL+"/feed"))
			want := "feed url " + srv.URL + "/feed redirects to " + to + ": a feed is only followed to http:// or https:// URLs"
			if err == nil || err.Error() != want {
				t.Errorf("got  %v\nwant %s", err, want)
			}
			if !errors.Is(err, ErrUnsafeTarget) {
				t.Errorf("got %v, want ErrUnsafeTarget", err)
			}
			if hits.Load() != 1 {
				t.Errorf("%d requests, want exactly 1", hits.Load())
			}
		})
	}
}

func TestClassifyAddr(t *testing.T) {
	for in, want := range map[string]addrClass{
		"8.8.8.8": classPublic, "2606:4700::1111": classPublic, "172.32.0.1": classPublic, "100.128.0.1": classPublic,
		"127.0.0.1": classLoopback, "127.255.255.254": classLoopback, "::1": classLoopback, "::": classLoopback,
		"0.0.0.0": classPrivate, "10.255.0.1": classPrivate, "172.16.0.1": classPrivate, "172.31.255.255": classPrivate,
		"192.168.0.1": classPrivate, "100.64.0.1": classPrivate, "fc00::1": classPrivate, "fdff::1": classPrivate,
		"::ffff:192.168.1.1": classPrivate, "64:ff9b::a00:1": classPrivate,
		"169.254.169.254": classLinkLocal, "169.254.0.1": classLinkLocal, "fe80::1": classLinkLocal, "fe80::1%eth0": classLinkLocal,
		"64:ff9b::a9fe:a9fe": classLinkLocal,
	} {
		if got := classifyAddr(netip.MustParseAddr(in)).class; got != want {
			t.Errorf("classifyAddr(%s) = %b, want %b", in, got, want)
		}
	}
	if allowedBy(classPublic)&(classLoopback|classPrivate|classLinkLocal) != 0 {
		t.Error("a public feed may reach internal addresses")
	}
	if a := allowedBy(classLoopback); a&classPrivate == 0 || a&classLinkLocal != 0 {
		t.Errorf("a loopback feed allows %b", a)
	}
}
