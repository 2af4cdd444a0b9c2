package tree

import (
	"strings"
	"testing"
	"time"

	"github.com/feedsync/feedsync/feed"
)

// now is the clock of every test run: sale windows are judged against it.
var now = time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)

// item builds a feed item from "name", "value" pairs; line is its line.
func item(line int, kv ...string) *feed.Item {
	it := &feed.Item{Line: line}
	for i := 0; i+1 < len(kv); i += 2 {
		it.Attrs = append(it.Attrs, feed.Attr{Name: kv[i], Value: kv[i+1]})
	}
	return it
}

// build runs items through a Builder and returns the products by id.
func build(t *testing.T, opts Options, items ...*feed.Item) (map[string]*Product, *Builder) {
	t.Helper()
	if opts.Now.IsZero() {
		opts.Now = now
	}
	b := NewBuilder(opts)
	t.Cleanup(func() { b.Close() })
	for _, it := range items {
		b.Add(it)
	}
	out := map[string]*Product{}
	err := b.Finish(func(p *Product) error {
		if _, dup := out[p.ID]; dup {
			t.Errorf("product %q emitted twice", p.ID)
		}
		out[p.ID] = p
		return nil
	})
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	return out, b
}

// parent builds items under the parent policy and returns the one product.
func parent(t *testing.T, items ...*feed.Item) (*Product, *Builder) {
	t.Helper()
	ps, b := build(t, Options{Policy: PolicyParent}, items...)
	if len(ps) != 1 {
		t.Fatalf("got %d products, want 1", len(ps))
	}
	for _, p := range ps {
		return p, b
	}
	return nil, nil
}

// field returns a payload value as its JSON text ("" when absent).
func field(p *Product, key string) string {
	v, ok := p.Payload()[key]
	if !ok {
		return ""
	}
	return jsonValue(v)
}

// v is a variant of group G with the given id, availability and price;
// more attributes follow as pairs.
func v(line int, id, avail, price string, more ...string) *feed.Item {
	kv := []string{"id", id, "item_group_id", "G", "title", "Tee " + id, "link", "https://x.example/" + id, "age_group", "a-" + id}
	if avail != "" {
		kv = append(kv, "availability", avail)
	}
	if price != "" {
		kv = append(kv, "price", price)
	}
	it := item(line, kv...)
	for i := 0; i+1 < len(more); i += 2 {
		replaced := false
		for j := range it.Attrs {
			if it.Attrs[j].Name == more[i] {
				it.Attrs[j].Value, replaced = more[i+1], true
			}
		}
		if !replaced {
			it.Attrs = append(it.Attrs, feed.Attr{Name: more[i], Value: more[i+1]})
		}
	}
	return it
}

func problemsText(b *Builder) string {
	var s []string
	for _, p := range b.Problems() {
		s = append(s, p.String())
	}
	return strings.Join(s, "\n")
}
