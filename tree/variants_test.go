package tree

import (
	"bytes"
	"hash/maphash"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/feedsync/feedsync/feed"
)

func TestVariantAttributes(t *testing.T) {
	want := []string{"color", "size", "material", "pattern", "age_group", "gender", "size_type", "size_system"}
	if len(VariantAttributes) != len(want) {
		t.Fatalf("VariantAttributes = %v, want %v", VariantAttributes, want)
	}
	for i, a := range VariantAttributes {
		if a != want[i] || variantIndex(a) != i {
			t.Errorf("VariantAttributes[%d] = %q (index %d), want %q", i, a, variantIndex(a), want[i])
		}
	}
	if variantIndex("title") != -1 || variantIndex("Color") != -1 {
		t.Error("variantIndex takes other names")
	}
	if got := VariantAttributeList(); got != "color, size, material, pattern, age_group, gender, size_type or size_system" {
		t.Errorf("VariantAttributeList() = %q", got)
	}
}

func TestItemVariantValues(t *testing.T) {
	it := &feed.Item{Attrs: []feed.Attr{
		{Name: "title", Value: "Shirt"}, {Name: "size_system", Value: "EU"}, {Name: "color", Value: "Red"},
		{Name: "color", Value: "Blue"}, {Name: "size", Value: ""}, {Name: "size", Value: "M"}, {Name: "gender", Value: "female"},
	}}
	v := ItemVariantValues(it)
	want := VariantValues{"Red", "", "", "", "", "female", "", "EU"}
	if v != want {
		t.Errorf("ItemVariantValues = %q, want %q", v, want)
	}
	for i, a := range VariantAttributes {
		if v[i] != it.Get(a) {
			t.Errorf("%s: %q, Get says %q", a, v[i], it.Get(a))
		}
	}
	if got := v.Describe(); got != `color "Red", gender "female", size_system "EU"` {
		t.Errorf("Describe() = %q", got)
	}
	if !v.Any() {
		t.Error("Any() = false")
	}
	var none VariantValues
	none[2] = "  "
	if none.Any() || none.Describe() != "" {
		t.Errorf("blank values: Any %v, Describe %q", none.Any(), none.Describe())
	}
}

// TestVariantKey checks AppendKey against its definition,
// strings.ToLower(collapse(s)), on random strings of letters, white space
// and non-ASCII runes.
func TestVariantKey(t *testing.T) {
	runes := []rune{'a', 'B', 'z', 'Z', '0', ' ', ' ', '\t', '\n', '\r', '\v', '\f', 'é', 'É', 'ß', 'İ', '\u00a0', '\u0085', '\u2003', 'Ж', 'ж', '/'}
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 20000; n++ {
		var v VariantValues
		for i := range v {
			var b strings.Builder
			for range r.IntN(8) {
				b.WriteRune(runes[r.IntN(len(runes))])
			}
			v[i] = b.String()
		}
		var want []byte
		for _, s := range v {
			want = append(want, strings.ToLower(collapse(s))...)
			want = append(want, 0)
		}
		if got := v.AppendKey([]byte("x")); !bytes.Equal(got[1:], want) || got[0] != 'x' {
			t.Fatalf("AppendKey(%q) = %q, want %q", v, got, want)
		}
	}
	seed := maphash.MakeSeed()
	a := VariantValues{"  Navy \t Blue ", "XL", "", "", "Adult"}
	b := VariantValues{"navy blue", "xl", "", "", "adult"}
	c := VariantValues{"navy blue", "xl", "", "", "adult", "", "", "EU"}
	if a.Hash(seed) != b.Hash(seed) {
		t.Error("values that differ in case and white space hash apart")
	}
	if b.Hash(seed) == c.Hash(seed) {
		t.Error("values that differ in size_system hash alike")
	}
	// A value does not run into the next one.
	if (&VariantValues{"ab", ""}).Hash(seed) == (&VariantValues{"a", "b"}).Hash(seed) {
		t.Error("the key does not separate values")
	}
}

func TestVariantHashAllocs(t *testing.T) {
	it := &feed.Item{Attrs: []feed.Attr{{Name: "id", Value: "A1"}, {Name: "color", Value: "Navy Blue"}, {Name: "size", Value: "XL"}, {Name: "gender", Value: "male"}}}
	seed := maphash.MakeSeed()
	if n := testing.AllocsPerRun(100, func() {
		v := ItemVariantValues(it)
		_ = v.Hash(seed)
	}); n != 0 {
		t.Errorf("%v allocations per ASCII item, want 0", n)
	}
}

func BenchmarkVariantHash(b *testing.B) {
	it := &feed.Item{Attrs: []feed.Attr{
		{Name: "id", Value: "SKU-1"}, {Name: "title", Value: "Merino crew neck, Navy Blue, XL"}, {Name: "description", Value: "Soft"},
		{Name: "link", Value: "https://shop.example/p/1"}, {Name: "image_link", Value: "https://shop.example/i/1.jpg"},
		{Name: "availability", Value: "in_stock"}, {Name: "price", Value: "59.00 EUR"}, {Name: "brand", Value: "Acme"},
		{Name: "item_group_id", Value: "MERINO-CREW"}, {Name: "color", Value: "Navy Blue"}, {Name: "size", Value: "XL"},
		{Name: "gender", Value: "male"}, {Name: "age_group", Value: "adult"}, {Name: "material", Value: "Merino wool"},
	}}
	seed := maphash.MakeSeed()
	b.ReportAllocs()
	for b.Loop() {
		v := ItemVariantValues(it)
		_ = v.Hash(seed)
	}
}
