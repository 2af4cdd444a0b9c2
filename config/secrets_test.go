package config

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/feedsync/feedsync/internal/redact"
)

func TestConfigSecrets(t *testing.T) {
	t.Setenv("FS_TEST_TOKEN", "catalog-token-0123456789")
	t.Setenv("FS_TEST_FEED_TOKEN", "feed-bearer-abcdef")
	t.Setenv("FS_TEST_SHORT", "abc")
	raw := `
catalog: {kind: usercom, url: "https://capi:capi-pass-77@app.user.com", token_env: FS_TEST_TOKEN}
feeds:
  - name: shop
    url: "https://feeduser:p%40ssw0rd!@shop.example/feed.xml?key=query-key-123&lang=en&sig=a%2Fb%2Bc%3Dd"
    headers: {Authorization: "Bearer ${FS_TEST_FEED_TOKEN}", X-Short: "${FS_TEST_SHORT}", X-Basic: "Basic dXNlcm5hbWU6YmFzaWMtcGFzcw==", Accept: "text/html, application/xml"}
    heartbeat: "https://hc-ping.example/ping?token=heartbeat-secret"
  - name: local
    url: feeds/local.xml
`
	cfg, err := Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.Secrets()
	for _, want := range []string{
		"catalog-token-0123456789", "Token catalog-token-0123456789",
		base64.StdEncoding.EncodeToString([]byte("catalog-token-0123456789")),
		"capi-pass-77", "capi:capi-pass-77",
		"feeduser", "p@ssw0rd!", "feeduser:p%40ssw0rd!", "feeduser:p@ssw0rd!",
		base64.StdEncoding.EncodeToString([]byte("feeduser:p@ssw0rd!")),
		"query-key-123", "a%2Fb%2Bc%3Dd", "a/b+c=d",
		"Bearer feed-bearer-abcdef", "feed-bearer-abcdef",
		"Basic dXNlcm5hbWU6YmFzaWMtcGFzcw==", "dXNlcm5hbWU6YmFzaWMtcGFzcw==", "username:basic-pass", "basic-pass", "username",
		"heartbeat-secret",
		"text/html, application/xml", // every header value is a secret…
	} {
		if !slices.Contains(got, want) {
			t.Errorf("Secrets() lacks %q", want)
		}
	}
	// …but only an auth scheme's credential is one on its own.
	if slices.Contains(got, "application/xml") {
		t.Error(`Secrets() takes "application/xml" of an Accept header for a credential`)
	}
	for _, short := range []string{"abc", "en", "capi", ""} {
		if slices.Contains(got, short) {
			t.Errorf("Secrets() holds %q, shorter than %d bytes", short, redact.MinLen)
		}
	}
	if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Errorf("Secrets() is not sorted and unique: %q", got)
	}
	for _, s := range got {
		if strings.Contains(s, "local.xml") || strings.Contains(s, "shop.example") {
			t.Errorf("Secrets() holds a path or host: %q", s)
		}
	}
}
