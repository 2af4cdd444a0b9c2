package feed

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// ErrUnsafeTarget is wrapped by the error of a fetch refused because of where
// it would lead, before any byte is sent there: a redirect to a scheme other
// than http or https, a redirect from https to plain http, or a connection to
// a loopback, private or link-local address that the feed's own URL does not
// allow (see Fetch). Such a fetch is not retried.
var ErrUnsafeTarget = errors.New("unsafe fetch target")

// addrClass is the kind of network an address is on; a set of them is a
// bit mask.
type addrClass uint8

const (
	classPublic addrClass = 1 << iota
	classLoopback
	classPrivate
	classLinkLocal
)

// addrRange is a range of addresses a public feed may not lead to.
type addrRange struct {
	prefix netip.Prefix
	class  addrClass
	what   string
}

var specialRanges = []addrRange{
	{netip.MustParsePrefix("127.0.0.0/8"), classLoopback, "loopback"},
	{netip.MustParsePrefix("::1/128"), classLoopback, "loopback"},
	{netip.MustParsePrefix("::/128"), classLoopback, "unspecified (this host)"},
	{netip.MustParsePrefix("0.0.0.0/8"), classPrivate, "this-network"},
	{netip.MustParsePrefix("10.0.0.0/8"), classPrivate, "private"},
	{netip.MustParsePrefix("172.16.0.0/12"), classPrivate, "private"},
	{netip.MustParsePrefix("192.168.0.0/16"), classPrivate, "private"},
	{netip.MustParsePrefix("100.64.0.0/10"), classPrivate, "shared (carrier-grade NAT)"},
	{netip.MustParsePrefix("fc00::/7"), classPrivate, "unique local (private)"},
	{netip.MustParsePrefix("fec0::/10"), classPrivate, "site-local (private)"},
	{netip.MustParsePrefix("169.254.169.254/32"), classLinkLocal, "link-local"}, // named apart: the metadata endpoint
	{netip.MustParsePrefix("169.254.0.0/16"), classLinkLocal, "link-local"},
	{netip.MustParsePrefix("fe80::/10"), classLinkLocal, "link-local"},
}

var (
	metadataAddr = netip.MustParseAddr("169.254.169.254")
	nat64Prefix  = netip.MustParsePrefix("64:ff9b::/96") // embeds an IPv4 address
)

// classifyAddr tells which range an address is in; class is classPublic
// for any other address.
func classifyAddr(ip netip.Addr) addrRange {
	ip = ip.WithZone("").Unmap()
	if nat64Prefix.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte(b[12:]))
	}
	for _, r := range specialRanges {
		if r.prefix.Contains(ip) {
			return r
		}
	}
	return addrRange{class: classPublic}
}

// allowedBy is the set of classes a feed whose own host is on the classes
// in own may lead to: public addresses always, and loopback and private
// addresses (an intranet) or link-local ones only from a feed that is there
// itself.
func allowedBy(own addrClass) addrClass {
	a := classPublic | own
	if own&(classLoopback|classPrivate) != 0 {
		a |= classLoopback | classPrivate
	}
	return a
}

// blockedError is a connection refused because of the address it leads to.
type blockedError struct {
	host string // as named in the URL; may be the address itself
	ip   netip.Addr
	rng  addrRange
}

func (e *blockedError) Error() string {
	where := e.rng.prefix.String()
	if e.ip.WithZone("").Unmap() == metadataAddr {
		where += ", the cloud metadata endpoint"
	}
	what := fmt.Sprintf("%s is a %s address (%s)", e.ip, e.rng.what, where)
	if h := strings.Trim(e.host, "[]"); h != "" && h != e.ip.String() {
		what = fmt.Sprintf("%s resolves to %s, a %s address (%s)", e.host, e.ip, e.rng.what, where)
	}
	return what + ": only a feed whose own URL is on such an address may reach one"
}

func (e *blockedError) Unwrap() error { return ErrUnsafeTarget }

// redirectError is a redirect that is not followed.
type redirectError struct {
	from, via, to string // redacted URLs; via is empty after one hop
	err           error
}

func (e *redirectError) Error() string {
	if e.via != "" {
		return fmt.Sprintf("feed url %s redirects (via %s) to %s: %v", e.from, e.via, e.to, e.err)
	}
	return fmt.Sprintf("feed url %s redirects to %s: %v", e.from, e.to, e.err)
}

func (e *redirectError) Unwrap() []error { return []error{ErrUnsafeTarget, e.err} }

type dialFunc = func(ctx context.Context, network, addr string) (net.Conn, error)

// fetchPolicy holds what one Fetch over HTTP allows: where its redirects may
// lead, which addresses its connections may reach, and which requests carry
// its credentials. It is shared by the attempts of the fetch.
type fetchPolicy struct {
	cfg     *url.URL // the configured URL
	name    string   // cfg redacted, for messages
	headers map[string]string
	log     zerolog.Logger

	lookupHost func(ctx context.Context, host string) ([]netip.Addr, error) // nil: DNS
	publicAddr func(netip.Addr) bool                                        // test hook, may be nil

	// dialChecked is set when the transport's dialers check every address
	// they connect to; when false (a Client whose Transport is not an
	// *http.Transport) redirect targets named by host are resolved and
	// checked before they are followed.
	dialChecked bool
	proxy       func(*http.Request) (*url.URL, error) // the transport's, unwrapped; nil for none

	mu      sync.Mutex
	allowed addrClass       // 0 until the configured host was resolved
	proxies map[string]bool // host:port of the proxies the transport connects to
	warned  bool            // the dropped credentials were logged
}

func (p *fetchPolicy) rangeOf(ip netip.Addr) addrRange {
	if p.publicAddr != nil && p.publicAddr(ip.WithZone("").Unmap()) {
		return addrRange{class: classPublic}
	}
	return classifyAddr(ip)
}

// check refuses ip unless its class is in allowed.
func (p *fetchPolicy) check(host string, ip netip.Addr, allowed addrClass) error {
	r := p.rangeOf(ip)
	if r.class&allowed != 0 {
		return nil
	}
	return &blockedError{host: host, ip: ip, rng: r}
}

// resolve looks host up, unless it is an address.
func (p *fetchPolicy) resolve(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{ip}, nil
	}
	var ips []netip.Addr
	var err error
	if p.lookupHost != nil {
		ips, err = p.lookupHost(ctx, host)
	} else {
		ipNet := "ip"
		switch {
		case strings.HasSuffix(network, "4"):
			ipNet = "ip4"
		case strings.HasSuffix(network, "6"):
			ipNet = "ip6"
		}
		ips, err = net.DefaultResolver.LookupNetIP(ctx, ipNet, host)
	}
	if err == nil && len(ips) == 0 {
		err = &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return ips, err
}

// learn sets the allowed classes from the addresses of the configured host,
// unless they are known already, and returns them.
func (p *fetchPolicy) learn(ips []netip.Addr) addrClass {
	var own addrClass
	for _, ip := range ips {
		own |= p.rangeOf(ip).class
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.allowed == 0 {
		p.allowed = allowedBy(own)
	}
	return p.allowed
}

// allowedClasses returns the classes of addresses this fetch may reach,
// resolving the configured host the first time.
func (p *fetchPolicy) allowedClasses(ctx context.Context) (addrClass, error) {
	p.mu.Lock()
	a := p.allowed
	p.mu.Unlock()
	if a != 0 {
		return a, nil
	}
	ips, err := p.resolve(ctx, "tcp", p.cfg.Hostname())
	if err != nil {
		if p.proxied(&http.Request{URL: p.cfg}) {
			// The proxy resolves names: this host may not resolve
			// here. Without its addresses it counts as public.
			return p.learn(nil), nil
		}
		return 0, err
	}
	return p.learn(ips), nil
}

func (p *fetchPolicy) proxied(r *http.Request) bool {
	if p.proxy == nil {
		return false
	}
	u, err := p.proxy(r)
	return err == nil && u != nil
}

func (p *fetchPolicy) isProxy(addr string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.proxies[addr]
}

// wrapProxy records the proxies the transport connects to: the dialers let
// them through (they are the operator's), and redirect targets reached
// through a proxy are checked by name before they are followed.
func (p *fetchPolicy) wrapProxy(proxy func(*http.Request) (*url.URL, error)) func(*http.Request) (*url.URL, error) {
	p.proxy = proxy
	return func(r *http.Request) (*url.URL, error) {
		u, err := proxy(r)
		if err == nil && u != nil {
			port := u.Port()
			if port == "" {
				port = map[string]string{"http": "80", "https": "443", "socks5": "1080", "socks5h": "1080"}[u.Scheme]
			}
			p.mu.Lock()
			if p.proxies == nil {
				p.proxies = map[string]bool{}
			}
			p.proxies[net.JoinHostPort(u.Hostname(), port)] = true
			p.mu.Unlock()
		}
		return u, err
	}
}

// dialChecking resolves the host itself, checks every address and hands
// next only allowed addresses, so that what is checked is what is reached
// (a name that resolves to another address the second time, DNS
// rebinding, gains nothing).
func (p *fetchPolicy) dialChecking(next dialFunc) dialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if p.isProxy(addr) {
			return next(ctx, network, addr)
		}
		host, port, ips, allowed, err := p.resolveAllowed(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		var blocked, dialErr error
		for _, ip := range ips {
			if err := p.check(host, ip, allowed); err != nil {
				blocked = cmpOr(blocked, err)
				continue
			}
			c, err := next(ctx, network, net.JoinHostPort(ip.String(), port))
			if err == nil {
				return c, nil
			}
			dialErr = err
			if ctx.Err() != nil {
				break
			}
		}
		return nil, cmpOr(dialErr, blocked)
	}
}

// resolveAllowed resolves addr's host and says which address classes it
// may reach: the feed's own host teaches the policy its classes, any other
// host gets what the feed's host allows.
func (p *fetchPolicy) resolveAllowed(ctx context.Context, network, addr string) (host, port string, ips []netip.Addr, allowed addrClass, err error) {
	host, port, err = net.SplitHostPort(addr)
	if err != nil {
		return "", "", nil, 0, err
	}
	if ips, err = p.resolve(ctx, network, host); err != nil {
		return "", "", nil, 0, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	if strings.EqualFold(host, p.cfg.Hostname()) {
		return host, port, ips, p.learn(ips), nil
	}
	if allowed, err = p.allowedClasses(ctx); err != nil {
		return "", "", nil, 0, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	return host, port, ips, allowed, nil
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// dialNet is the default dialer: net.Dialer resolves and races the
// addresses (Happy Eyeballs), and its ControlContext refuses each
// disallowed address before the socket connects.
func (p *fetchPolicy) dialNet(d net.Dialer) dialFunc {
	plain := d
	d.ControlContext = func(ctx context.Context, network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return err
		}
		allowed, err := p.allowedClasses(ctx)
		if err != nil {
			return err
		}
		return p.check("", ap.Addr(), allowed)
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if p.isProxy(addr) {
			return plain.DialContext(ctx, network, addr)
		}
		if _, err := p.allowedClasses(ctx); err != nil {
			return nil, &net.OpError{Op: "dial", Net: network, Err: err}
		}
		c, err := d.DialContext(ctx, network, addr)
		var be *blockedError
		if errors.As(err, &be) {
			be.host, _, _ = net.SplitHostPort(addr)
		}
		return c, err
	}
}

// checkOnly checks the addresses of the host before handing next the
// unchanged address: for a Transport's own TLS dialer, which may need the
// name.
func (p *fetchPolicy) checkOnly(next dialFunc) dialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if p.isProxy(addr) {
			return next(ctx, network, addr)
		}
		host, _, ips, allowed, err := p.resolveAllowed(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		for _, ip := range ips {
			if err := p.check(host, ip, allowed); err != nil {
				return nil, err
			}
		}
		return next(ctx, network, addr)
	}
}

// client returns the client of the fetch: a copy of base (nil for a new
// one) whose redirects are checked, and whose transport, when it is an
// *http.Transport, is a clone whose dialers check every address. done
// closes the clone's idle connections.
func (p *fetchPolicy) client(base *http.Client, maxRedirects int) (c *http.Client, done func()) {
	c = &http.Client{}
	if base != nil {
		cp := *base
		c = &cp
	}
	done = func() {}
	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	if t, ok := rt.(*http.Transport); ok {
		t = t.Clone()
		if t.Proxy != nil {
			t.Proxy = p.wrapProxy(t.Proxy)
		}
		switch {
		case c.Transport == nil && p.lookupHost == nil:
			t.DialContext = p.dialNet(net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}) // as http.DefaultTransport's
		case t.DialContext == nil && t.Dial == nil && p.lookupHost == nil:
			t.DialContext = p.dialNet(net.Dialer{})
		case t.DialContext != nil:
			t.DialContext = p.dialChecking(t.DialContext)
		case t.Dial != nil:
			dial := t.Dial
			t.DialContext = p.dialChecking(func(_ context.Context, network, addr string) (net.Conn, error) { return dial(network, addr) })
		default:
			var d net.Dialer
			t.DialContext = p.dialChecking(d.DialContext)
		}
		t.Dial = nil
		switch {
		case t.DialTLSContext != nil:
			t.DialTLSContext = p.checkOnly(t.DialTLSContext)
		case t.DialTLS != nil:
			dial := t.DialTLS
			t.DialTLSContext = p.checkOnly(func(_ context.Context, network, addr string) (net.Conn, error) { return dial(network, addr) })
		}
		t.DialTLS = nil
		p.dialChecked = true
		c.Transport = t
		done = t.CloseIdleConnections
	}
	callerCheck := c.CheckRedirect
	c.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if callerCheck != nil {
			if err := callerCheck(r, via); err != nil {
				return err
			}
		} else if len(via) > maxRedirects || maxRedirects < 0 {
			return fmt.Errorf("%w: the feed URL redirected more than %d times", ErrTooManyRedirects, max(maxRedirects, 0))
		}
		if err := p.checkRedirect(r, via); err != nil {
			return err
		}
		p.scopeCredentials(r, via)
		return nil
	}
	return c, done
}

// checkRedirect refuses a redirect that leaves http(s), goes from https to
// http, or names an address (or, where the dialer cannot check, a host
// resolving to one) that the feed may not reach.
func (p *fetchPolicy) checkRedirect(r *http.Request, via []*http.Request) error {
	prev := via[len(via)-1].URL
	refuse := func(err error) error {
		e := &redirectError{from: p.name, to: redact(r.URL.String()), err: err}
		if len(via) > 1 {
			e.via = redact(prev.String())
		}
		return e
	}
	switch r.URL.Scheme {
	case "http", "https":
	default:
		return refuse(errors.New("a feed is only followed to http:// or https:// URLs"))
	}
	if prev.Scheme == "https" && r.URL.Scheme == "http" {
		return refuse(errors.New("an https feed never follows a redirect to plain http"))
	}
	host := r.URL.Hostname()
	if host == "" {
		return refuse(errors.New("the redirect names no host"))
	}
	ip, err := netip.ParseAddr(host)
	literal := err == nil
	proxied := p.proxied(r)
	if !literal && p.dialChecked && !proxied {
		return nil // the dialer checks the addresses the name resolves to
	}
	allowed, err := p.allowedClasses(r.Context())
	if err != nil {
		return err
	}
	ips := []netip.Addr{ip}
	if !literal {
		if ips, err = p.resolve(r.Context(), "tcp", host); err != nil {
			if proxied {
				return nil // the proxy resolves it, or fails to
			}
			return err
		}
	}
	for _, ip := range ips {
		if err := p.check(host, ip, allowed); err != nil {
			return refuse(err)
		}
	}
	return nil
}

// scopeCredentials sends the configured headers and URL user info with a
// redirected request only while every hop stays on the configured origin
// (scheme, host and port); once a redirect leaves it, they are dropped, as
// is the Referer (it names the feed URL, query included), and this is
// logged once per fetch.
func (p *fetchPolicy) scopeCredentials(r *http.Request, via []*http.Request) {
	same := sameOrigin(p.cfg, r.URL)
	for _, v := range via {
		same = same && sameOrigin(p.cfg, v.URL)
	}
	if same {
		for k, v := range p.headers {
			r.Header.Set(k, v)
		}
		if u := p.cfg.User; u != nil && r.Header.Get("Authorization") == "" {
			pass, _ := u.Password()
			r.SetBasicAuth(u.Username(), pass)
		}
		return
	}
	for k := range p.headers {
		r.Header.Del(k)
	}
	r.Header.Del("Authorization")
	r.Header.Del("Referer")
	r.URL.User = nil
	if len(p.headers) == 0 && p.cfg.User == nil {
		return
	}
	p.mu.Lock()
	warned := p.warned
	p.warned = true
	p.mu.Unlock()
	if warned {
		return
	}
	names := make([]string, 0, len(p.headers))
	for k := range p.headers {
		names = append(names, http.CanonicalHeaderKey(k))
	}
	slices.Sort(names)
	p.log.Warn().Str("feed", p.name).Str("redirect", redact(r.URL.String())).
		Strs("headers_dropped", names).Bool("user_info_dropped", p.cfg.User != nil).
		Msg("the feed redirects to another origin (scheme, host or port): its configured headers and URL credentials are not sent there; if that host should get them, make it the feed's url")
}

// sameOrigin reports whether a and b have the same scheme, host and port.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && portOf(a) == portOf(b)
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}
