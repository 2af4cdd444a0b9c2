package config

import (
	"encoding/base64"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/feedsync/feedsync/internal/redact"
)

// Secrets returns every secret the configuration holds, for a scrubber of
// logs, errors, stored records and reports (internal/redact):
//
//   - the catalog's API token, from the environment variable catalog.token_env
//     names, also as it travels ("Token <token>") and base64-encoded;
//   - every value of a feed's headers: (they carry tokens, usually from
//     ${ENV}), also the credential after an auth scheme ("Bearer <x>": <x>)
//     and a Basic credential decoded;
//   - the user info of the catalog URL, feed URLs and heartbeat URLs (the
//     user, the password, "user:password" and its base64, as basic auth
//     sends it), and the values of their query parameters (?key=…), as
//     written and decoded.
//
// Values shorter than redact.MinLen bytes are left out: scrubbing every "a"
// or "1" would garble every message and hide nothing worth hiding. The
// result is sorted and has no duplicates.
func (c *Config) Secrets() []string {
	set := map[string]bool{}
	add := func(v string) {
		if len(v) >= redact.MinLen {
			set[v] = true
		}
	}
	if c.Catalog.TokenEnv != "" {
		if tok := os.Getenv(c.Catalog.TokenEnv); tok != "" {
			add(tok)
			add("Token " + tok)
			add(base64.StdEncoding.EncodeToString([]byte(tok)))
		}
	}
	urlSecrets(c.Catalog.URL, add)
	for i := range c.Feeds {
		f := &c.Feeds[i]
		urlSecrets(f.URL, add)
		urlSecrets(f.Heartbeat, add)
		for _, v := range f.Headers {
			headerSecrets(v, add)
		}
	}
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// headerSecrets adds a header value, and its credential when the value is
// "<scheme> <credential>" (Bearer x, Token x, Basic x…).
func headerSecrets(v string, add func(string)) {
	add(v)
	v = strings.TrimSpace(v)
	add(v)
	scheme, cred, ok := strings.Cut(v, " ")
	cred = strings.TrimSpace(cred)
	if !ok || !authScheme.MatchString(scheme) || strings.ContainsAny(cred, " \t") {
		return // not a credential with its scheme ("text/html, application/xml")
	}
	add(cred)
	if strings.EqualFold(scheme, "Basic") {
		if dec, err := base64.StdEncoding.DecodeString(cred); err == nil {
			add(string(dec))
			user, pass, _ := strings.Cut(string(dec), ":")
			add(user)
			add(pass)
		}
	}
}

var authScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)

// urlSecrets adds the user info and the query values of a URL. A local path
// holds neither.
func urlSecrets(raw string, add func(string)) {
	if !strings.Contains(raw, "://") {
		return
	}
	u, err := url.Parse(raw)
	if err != nil {
		return
	}
	if u.User != nil {
		user := u.User.Username()
		pass, _ := u.User.Password()
		add(user)
		add(pass)
		add(user + ":" + pass)
		add(u.User.String()) // escaped, as url.URL writes it
		// and as written in the config, escaped its own way
		authority := raw[strings.Index(raw, "://")+3:]
		if i := strings.IndexAny(authority, "/?#"); i >= 0 {
			authority = authority[:i]
		}
		if at := strings.LastIndex(authority, "@"); at >= 0 {
			add(authority[:at])
			ru, rp, _ := strings.Cut(authority[:at], ":")
			add(ru)
			add(rp)
		}
		basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
		add(basic)
		add("Basic " + basic)
	}
	for _, param := range strings.FieldsFunc(u.RawQuery, func(r rune) bool { return r == '&' || r == ';' }) {
		_, v, ok := strings.Cut(param, "=")
		if !ok {
			v = param // ?<token>: a bare value
		}
		add(v)
		if dec, err := url.QueryUnescape(v); err == nil {
			add(dec)
		}
	}
}
