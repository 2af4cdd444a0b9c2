package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runBinaryStdin runs feedsync with stdin as its standard input.
func runBinaryStdin(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run feedsync: %v", err)
	}
	return result{code, out.String(), errb.String()}
}

// TestTransformReadsStandardInput: `transform -` reads standard input as
// `lint -` does, detecting its format from the content, and names it stdin.
func TestTransformReadsStandardInput(t *testing.T) {
	shop := testFeed(t, "shop.xml")
	data, err := os.ReadFile(shop)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("SameOutputAsTheFile", func(t *testing.T) {
		for _, to := range []string{"xml", "csv", "jsonl"} {
			file := runBinary(t, nil, "transform", "--policy", "parent", "--to", to, shop)
			in := runBinaryStdin(t, data, "transform", "--policy", "parent", "--to", to, "-")
			if in.code != 0 || file.code != 0 {
				t.Fatalf("--to %s: exit %d (file %d), stderr:\n%s", to, in.code, file.code, in.stderr)
			}
			if in.stdout != file.stdout || in.stdout == "" {
				t.Errorf("--to %s: standard input gave\n%s\nthe file gave\n%s", to, in.stdout, file.stdout)
			}
			if !strings.Contains(in.stderr, "5 items → 3 products") {
				t.Errorf("--to %s: stderr lacks the summary:\n%s", to, in.stderr)
			}
		}
	})
	t.Run("DetectsDelimitedText", func(t *testing.T) {
		for name, feed := range map[string]string{
			"csv": "id,title,price\nA-1,Mug,5.00 EUR\nA-2,Cup,6.00 EUR\n",
			"tsv": "id\ttitle\tprice\nA-1\tMug\t5.00 EUR\nA-2\tCup\t6.00 EUR\n",
		} {
			r := runBinaryStdin(t, []byte(feed), "transform", "--to", "jsonl", "-")
			if r.code != 0 {
				t.Fatalf("%s: exit %d, stderr:\n%s", name, r.code, r.stderr)
			}
			if n := strings.Count(r.stdout, `{"op":"upsert"`); n != 2 || !strings.Contains(r.stdout, `"A-2"`) {
				t.Errorf("%s: %d upsert lines, want 2:\n%s", name, n, r.stdout)
			}
		}
	})
	t.Run("OutputFile", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "products.tsv")
		r := runBinaryStdin(t, data, "transform", "--to", "tsv", "-o", out, "-")
		if r.code != 0 {
			t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
		if b, _ := os.ReadFile(out); !strings.HasPrefix(string(b), "id\ttitle\t") {
			t.Errorf("output file:\n%s", b)
		}
	})
	t.Run("WithAConfiguredFeed", func(t *testing.T) {
		// --feed gives the settings; - replaces the feed's url.
		dir := workspace(t, map[string]string{"shop": "books.csv:variant"}, "")
		r := runBinaryStdin(t, data, "transform", "-c", filepath.Join(dir, "feedsync.yaml"), "--feed", "shop", "--policy", "parent", "--to", "jsonl", "-")
		if r.code != 0 {
			t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
		if n := strings.Count(r.stdout, `{"op":"upsert"`); n != 3 || !strings.Contains(r.stdout, "TEE-BASIC") {
			t.Errorf("%d upsert lines, want shop.xml's 3 parents:\n%s", n, r.stdout)
		}
	})
	t.Run("ErrorsNameStdin", func(t *testing.T) {
		for name, in := range map[string]string{
			"Empty":  "",
			"Broken": "<rss><channel><item><g:id>1</g:id>",
		} {
			r := runBinaryStdin(t, []byte(in), "transform", "-")
			if r.code != 1 {
				t.Errorf("%s: exit %d, want 1; stderr:\n%s", name, r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, "stdin") || strings.Contains(r.stderr, "open -") || strings.Contains(r.stderr, `"-"`) {
				t.Errorf("%s: the error does not name stdin:\n%s", name, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("%s: wrote output for a broken feed:\n%s", name, r.stdout)
			}
		}
	})
}

// channelOf is the RSS output's channel header: what comes before the
// first <item>.
func channelOf(out string) string {
	head, _, _ := strings.Cut(out, "<item>")
	return head
}

// TestTransformChannelLink: the XML channel's <link> (RSS 2.0 requires one)
// comes from --link, else the configured feed's link:, else an http(s)
// source; with none, a warning on standard error and the output all the
// same.
func TestTransformChannelLink(t *testing.T) {
	shop := testFeed(t, "shop.xml")
	const link = "https://shop.example.com/"
	t.Run("LinkFlag", func(t *testing.T) {
		r := runBinary(t, nil, "transform", "--link", link, shop)
		if r.code != 0 {
			t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
		if !strings.Contains(channelOf(r.stdout), "<link>"+link+"</link>") {
			t.Errorf("channel lacks <link>%s</link>:\n%s", link, channelOf(r.stdout))
		}
		if strings.Contains(r.stderr, "no channel link") {
			t.Errorf("warned of a missing link given --link:\n%s", r.stderr)
		}
	})
	t.Run("NoLinkWarns", func(t *testing.T) {
		for _, args := range [][]string{{"transform", shop}, {"transform", "-o", filepath.Join(t.TempDir(), "out.xml"), shop}} {
			r := runBinary(t, nil, args...)
			if r.code != 0 {
				t.Fatalf("%v: exit %d, want 0 (a warning); stderr:\n%s", args, r.code, r.stderr)
			}
			for _, want := range []string{"warning: no channel link", "--link", "link:", "RSS 2.0 requires one"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("%v: stderr lacks %q:\n%s", args, want, r.stderr)
				}
			}
			if strings.Contains(r.stderr, "line 0") {
				t.Errorf("%v: the warning names line 0:\n%s", args, r.stderr)
			}
		}
		r := runBinaryStdin(t, mustRead(t, shop), "transform", "--json", "-")
		var sum struct{ Problems []string }
		if err := json.Unmarshal([]byte(r.stderr), &sum); err != nil || r.code != 0 || len(sum.Problems) == 0 || !strings.HasPrefix(sum.Problems[0], "no channel link") {
			t.Errorf("stdin --json: exit %d, problems %q (%v), want the channel link warning", r.code, sum.Problems, err)
		}
		// Only XML has a channel.
		if r := runBinary(t, nil, "transform", "--to", "csv", shop); r.code != 0 || strings.Contains(r.stderr, "no channel link") {
			t.Errorf("--to csv: exit %d, stderr:\n%s", r.code, r.stderr)
		}
	})
	t.Run("FromTheConfiguredFeed", func(t *testing.T) {
		dir := workspace(t, map[string]string{"shop": "shop.xml:parent"}, "")
		cfg := filepath.Join(dir, "feedsync.yaml")
		raw, _ := os.ReadFile(cfg)
		withLink := strings.Replace(string(raw), "policy: parent}", "policy: parent, link: '"+link+"'}", 1)
		if withLink == string(raw) {
			t.Fatalf("could not add link: to\n%s", raw)
		}
		os.WriteFile(cfg, []byte(withLink), 0o644)
		r := runBinary(t, nil, "transform", "-c", cfg, "--feed", "shop")
		if r.code != 0 {
			t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
		if !strings.Contains(channelOf(r.stdout), "<link>"+link+"</link>") || strings.Contains(r.stderr, "no channel link") {
			t.Errorf("channel:\n%s\nstderr:\n%s", channelOf(r.stdout), r.stderr)
		}
		// --link wins over the configured one.
		r = runBinary(t, nil, "transform", "-c", cfg, "--feed", "shop", "--link", "https://other.example.com/")
		if r.code != 0 || !strings.Contains(channelOf(r.stdout), "<link>https://other.example.com/</link>") || strings.Contains(channelOf(r.stdout), link) {
			t.Errorf("--link over link: exit %d, channel:\n%s", r.code, channelOf(r.stdout))
		}
	})
	t.Run("AnHTTPSourceStandsIn", func(t *testing.T) {
		data := mustRead(t, shop)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(data) }))
		defer srv.Close()
		r := runBinary(t, nil, "transform", srv.URL+"/feed.xml?token=SECRET")
		if r.code != 0 || !strings.Contains(channelOf(r.stdout), "<link>"+srv.URL+"/feed.xml</link>") || strings.Contains(r.stderr, "no channel link") {
			t.Errorf("exit %d, channel:\n%s\nstderr:\n%s", r.code, channelOf(r.stdout), r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, "SECRET") {
			t.Errorf("the URL's query reached the output")
		}
	})
	t.Run("NotAURLIsAUsageError", func(t *testing.T) {
		for _, bad := range []string{"shop.example.com", "ftp://shop.example.com/", "/products"} {
			if r := runBinary(t, nil, "transform", "--link", bad, shop); r.code != 2 || !strings.Contains(r.stderr, "--link") {
				t.Errorf("--link %s: exit %d, want 2; stderr:\n%s", bad, r.code, r.stderr)
			}
		}
	})
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTransformDerivedFieldsHaveTheirOwnNamespace: price_max, colors and
// the other fields only the parent policy derives are not Google
// attributes, so the XML writes them in feedsync's namespace, never g:.
func TestTransformDerivedFieldsHaveTheirOwnNamespace(t *testing.T) {
	r := runBinary(t, nil, "transform", "--policy", "parent", "--link", "https://shop.example.com/", testFeed(t, "shop.xml"))
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, `<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0" xmlns:fs="https://github.com/feedsync/feedsync/ns/1.0">`) {
		t.Errorf("<rss> does not declare the fs: namespace:\n%s", channelOf(r.stdout))
	}
	for _, k := range []string{"price_max", "colors", "sizes", "variant_count", "in_stock_count"} {
		if strings.Contains(r.stdout, "<g:"+k+">") {
			t.Errorf("%s written in Google's namespace", k)
		}
		if !strings.Contains(r.stdout, "<fs:"+k+">") {
			t.Errorf("no <fs:%s> in the output:\n%s", k, r.stdout)
		}
	}
	for _, k := range []string{"id", "price", "availability"} {
		if !strings.Contains(r.stdout, "<g:"+k+">") {
			t.Errorf("Google attribute %s is no longer g:%s", k, k)
		}
	}
}

// TestTransformWarnsOfAPriceWithoutCurrency: a price with no currency is
// written, with a warning under lint's code for it, and exit 0.
func TestTransformWarnsOfAPriceWithoutCurrency(t *testing.T) {
	in := []byte("id,title,price\nA-1,Mug,5.00\nA-2,Cup,6.00 EUR\n")
	for _, to := range []string{"xml", "csv", "jsonl"} {
		r := runBinaryStdin(t, in, "transform", "--to", to, "--link", "https://shop.example.com/", "-")
		if r.code != 0 {
			t.Fatalf("--to %s: exit %d, want 0; stderr:\n%s", to, r.code, r.stderr)
		}
		if !strings.Contains(r.stdout, "A-1") {
			t.Errorf("--to %s: the product was not written:\n%s", to, r.stdout)
		}
		if !strings.Contains(r.stderr, `warning: line 2 (item "A-1"): price-format: price "5"`) || !strings.Contains(r.stderr, "currency") {
			t.Errorf("--to %s: stderr lacks the price-format warning for A-1:\n%s", to, r.stderr)
		}
		if strings.Contains(r.stderr, `"A-2"`) {
			t.Errorf("--to %s: a warning for A-2, priced in EUR:\n%s", to, r.stderr)
		}
	}
	// The feeds of testdata price everything: no such warning.
	if r := runBinary(t, nil, "transform", "--policy", "parent", testFeed(t, "shop.xml")); strings.Contains(r.stderr, "price-format") {
		t.Errorf("shop.xml: a price-format warning:\n%s", r.stderr)
	}
}
