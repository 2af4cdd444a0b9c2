package orders

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feedsync/feedsync/feed"
)

// wooCols are the columns of testdata/woocommerce.csv.
var wooCols = Columns{OrderID: "Order Number", Status: "Order Status", Placed: "Order Date", Email: "Billing Email",
	CustomerID: "Customer ID", Total: "Order Total", Currency: "Currency", LineProduct: "SKU", LineQuantity: "Quantity",
	LineValue: "Line Total"}

func wooConfig() Config {
	return Config{Columns: wooCols, Stages: Stages{Preset: "woocommerce"}}
}

// shopifyConfig reads testdata/shopify.csv.
func shopifyConfig() Config {
	return Config{
		Columns: Columns{OrderID: "Name", Email: "Email", Status: "Financial Status+Fulfillment Status", Total: "Total",
			Currency: "Currency", Placed: "Created at", LineProduct: "Lineitem sku", LineQuantity: "Lineitem quantity"},
		Stages:     Stages{Preset: "shopify"},
		Attributes: []string{"Shipping Method", "Notes"},
	}
}

// writeFile writes content to a file in a fresh temporary directory.
func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// readPath reads an export file; a failing Read fails the test.
func readPath(t testing.TB, path string, cfg Config) ([]Deal, []feed.Problem) {
	t.Helper()
	deals, probs, err := readPathErr(t, path, cfg)
	if err != nil {
		t.Fatalf("Read(%s): %v", filepath.Base(path), err)
	}
	return deals, probs
}

func readPathErr(t testing.TB, path string, cfg Config) ([]Deal, []feed.Problem, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return Read(f, path, cfg)
}

// readText writes text to a temporary file named name and reads it.
func readText(t testing.TB, name, text string, cfg Config) ([]Deal, []feed.Problem) {
	t.Helper()
	return readPath(t, writeFile(t, name, text), cfg)
}

func byID(deals []Deal) map[string]*Deal {
	m := map[string]*Deal{}
	for i := range deals {
		m[deals[i].ID] = &deals[i]
	}
	return m
}

func ids(deals []Deal) string {
	var s []string
	for _, d := range deals {
		s = append(s, d.ID)
	}
	return strings.Join(s, " ")
}

// findProblem returns the problem whose message holds every part.
func findProblem(probs []feed.Problem, parts ...string) (feed.Problem, bool) {
next:
	for _, p := range probs {
		for _, s := range parts {
			if !strings.Contains(p.Msg, s) {
				continue next
			}
		}
		return p, true
	}
	return feed.Problem{}, false
}

func noProblems(t *testing.T, probs []feed.Problem) {
	t.Helper()
	for _, p := range probs {
		t.Errorf("unexpected problem: %s", p)
	}
}
