package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/feedsync/feedsync/push/pushtest"
)

// statusPageBrowsers are the headless browsers the status page test looks
// for in PATH, in this order.
var statusPageBrowsers = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// TestRunServesTheStatusPage: `feedsync run` serves a human status page at
// /: every feed's last run, next run, last error, rejected products and
// links, with the markup that a feed and a catalog sent shown as text. The
// page is read over net/http, then in a real headless browser when one is
// installed (else the test skips at the end, having checked the page).
// Every request goes to a loopback address.
func TestRunServesTheStatusPage(t *testing.T) {
	t.Parallel()
	srv := newRunFeedServer(t, "shop.xml", "books.csv")
	fake := pushtest.NewServer(pushtest.Options{Reject: func(f map[string]string) string {
		if f["custom_id"] == "MUG-01" {
			return `price: <script>alert("catalog")</script> is not a price`
		}
		return ""
	}})
	t.Cleanup(fake.Close)
	addr := freeListenAddr(t)
	dir := t.TempDir()
	gone := filepath.Join(dir, `<script>alert("feed")</script>`, "gone.xml") // never there
	cfg := filepath.Join(dir, "feedsync.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, `state: state/feedsync.db
log: {level: debug, format: json}
metrics: {listen: %q}
run: {concurrency: 3, grace: 5s}
catalog: {kind: usercom, url: %q, token_env: FS_PAGE_TOKEN, mode: rest, rate: 200, concurrency: 1, retries: 1}
feeds:
  - {name: books, url: "%s/books.csv", policy: variant, schedule: "@hourly", publish: true}
  - {name: shop, url: "%s/shop.xml", policy: parent, schedule: "@hourly"}
  - {name: gone, url: %q, schedule: "@hourly"}
`, addr, fake.URL, srv.URL, srv.URL, gone), 0o644); err != nil {
		t.Fatal(err)
	}

	p := startRunEnv(t, []string{"FS_PAGE_TOKEN=" + pushtest.Token}, "-c", cfg, "--now")
	base := "http://" + addr + "/"
	p.waitFor(t, 30*time.Second, "a run of each feed", func() bool {
		var st struct {
			Feeds []struct {
				LastRun *struct{} `json:"last_run"`
			} `json:"feeds"`
		}
		code, body := pageGet(base+"status", "")
		if code != http.StatusOK || json.Unmarshal([]byte(body), &st) != nil || len(st.Feeds) != 3 {
			return false
		}
		for _, f := range st.Feeds {
			if f.LastRun == nil {
				return false
			}
		}
		return true
	})

	// Over net/http, as a browser asks for it.
	code, body := pageGet(base, "text/html,application/xhtml+xml,*/*;q=0.8")
	if code != http.StatusOK {
		t.Fatalf("GET /: %d\n%s", code, body)
	}
	checkStatusPage(t, "the page", body, true)
	if strings.Contains(body, pushtest.Token) {
		t.Errorf("the page shows the catalog token:\n%s", body)
	}
	// Its links lead somewhere, resolved as a browser resolves them.
	for _, link := range []string{"metrics", "status", "healthz", "livez", "feeds/books.xml", "#feed-shop"} {
		if !strings.Contains(body, `href="`+link+`"`) {
			t.Errorf("the page has no link to %s", link)
			continue
		}
		if strings.HasPrefix(link, "#") {
			continue
		}
		u, _ := url.Parse(base)
		target := u.ResolveReference(&url.URL{Path: link}).String()
		if code, _ := pageGet(target, ""); code != http.StatusOK && !(link == "healthz" && code == http.StatusServiceUnavailable) {
			t.Errorf("the page's link %s (%s): %d", link, target, code)
		}
	}

	// In a real browser: the page loads and its DOM holds the same, with no
	// script element.
	browser := ""
	for _, name := range statusPageBrowsers {
		if path, err := exec.LookPath(name); err == nil {
			browser = path
			break
		}
	}
	skip := ""
	if browser == "" {
		skip = fmt.Sprintf("no headless browser in PATH (looked for %s): the status page was checked over net/http only", strings.Join(statusPageBrowsers, ", "))
	} else {
		dom, log, err := dumpDOM(t, browser, base)
		switch {
		case err != nil && !strings.Contains(dom, "<html"):
			// A stub (say, a wrapper that asks for a snap) is no browser.
			skip = fmt.Sprintf("%s did not run (%v): the status page was checked over net/http only\n%s", browser, err, log)
		case err != nil || !strings.Contains(dom, "<html"):
			t.Errorf("%s --dump-dom %s: %v; DOM:\n%s\nits log:\n%s", browser, base, err, dom, log)
		default:
			checkStatusPage(t, filepath.Base(browser)+"'s DOM", dom, false)
		}
	}

	if code := p.stop(t, syscall.SIGTERM, 15*time.Second); code != 0 {
		t.Errorf("feedsync run: exit %d after SIGTERM, want 0", code)
	}
	if skip != "" {
		t.Skip(skip)
	}
}

// checkStatusPage checks what the status page of TestRunServesTheStatusPage
// shows. html/template writes a quote in text as &#34;, a browser's DOM as
// is: quoted says which.
func checkStatusPage(t *testing.T, what, page string, quoted bool) {
	t.Helper()
	q := `"`
	if quoted {
		q = "&#34;"
	}
	if strings.Contains(strings.ToLower(page), "<script") {
		t.Errorf("%s holds a script element: markup from a feed or the catalog was not escaped:\n%s", what, page)
	}
	for _, want := range []string{
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		"<title>feedsync: 2 failing</title>",
		// books: created, published.
		`<a href="#feed-books">books</a> <span class="badge">ok</span>`,
		`<td data-label="Created" class="n">3</td>`,
		`<a href="feeds/books.xml">`,
		// shop: MUG-01 rejected, with markup in the refusal.
		`<a href="#feed-shop">shop</a> <span class="badge">failing (1 run)</span>`,
		`<td data-label="Failed" class="n">1</td>`,
		"Rejected products (1)",
		"<code>MUG-01</code>",
		"&lt;script&gt;alert(" + q + "catalog" + q + ")&lt;/script&gt; is not a price",
		// gone: its fetch failed, with markup in the error.
		`<a href="#feed-gone">gone</a> <span class="badge">failing (1 run)</span>`,
		`<td data-label="Fetch">failed</td>`,
		"&lt;script&gt;alert(" + q + "feed" + q + ")&lt;/script&gt;",
		"UTC (in ", // next runs
	} {
		if !strings.Contains(page, want) {
			t.Errorf("%s has no %s:\n%s", what, want, page)
		}
	}
}

// dumpDOM loads page in a headless browser and returns the DOM it built
// and what it logged. The browser gets a profile of its own and may reach
// loopback only: any other host fails to resolve, and its requests would go
// to a dead proxy.
func dumpDOM(t *testing.T, browser, page string) (dom, log string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := []string{
		"--headless", "--disable-gpu", "--disable-dev-shm-usage",
		"--user-data-dir=" + t.TempDir(), "--no-first-run", "--no-default-browser-check",
		"--disable-extensions", "--disable-default-apps", "--disable-sync", "--disable-component-update",
		"--disable-background-networking", "--disable-domain-reliability",
		"--proxy-server=http://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
		"--window-size=390,844", // a phone
	}
	if os.Geteuid() == 0 {
		args = append(args, "--no-sandbox") // the sandbox refuses root
	}
	cmd := exec.CommandContext(ctx, browser, append(args, "--dump-dom", page)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	return out.String(), errb.String(), err
}

// pageGet requests target with this Accept header (none when ""); an error
// is a status of 0.
func pageGet(target, accept string) (int, string) {
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		return 0, ""
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}
