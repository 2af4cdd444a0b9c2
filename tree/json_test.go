package tree

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// TestJSONIsEncodingJSON: Product.JSON must give exactly the bytes
// encoding/json gives, or stored payload hashes would change.
func TestJSONIsEncodingJSON(t *testing.T) {
	pieces := []string{"a", "Tee", "é", "–", "\u2028", "\u2029", "\"", "\\", "\n", "\t", "\x01", "\x7f", "<b>", "&", "\xff", "\xe2\x80", "日本", "😀", " ", ""}
	r := rand.New(rand.NewPCG(5, 6))
	str := func() string {
		var b bytes.Buffer
		for n := r.IntN(6); n > 0; n-- {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		return b.String()
	}
	values := []func() any{
		func() any { return str() },
		func() any {
			return json.Number([]string{"0", "19.9", "-3.25", "1299999999999999.99", "007", "1e5"}[r.IntN(6)])
		},
		func() any { return r.IntN(1000) - 500 },
		func() any { return true },
		func() any { return nil },
	}
	for i := 0; i < 5000; i++ {
		m := map[string]any{}
		for n := r.IntN(8); n > 0; n-- {
			m[str()] = values[r.IntN(len(values))]()
		}
		p := NewProduct("x", m)
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(m); err != nil {
			continue // an invalid json.Number: encoding/json refuses it too
		}
		if got := p.JSON(); !bytes.Equal(got, bytes.TrimRight(want.Bytes(), "\n")) {
			t.Fatalf("payload %#v:\n got %s\nwant %s", m, got, want.Bytes())
		}
	}
}

func encodingJSONString(t testing.TB, s string) []byte {
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimRight(want.Bytes(), "\n")
}

// TestJSONStringLong: long strings, where the eight-byte fast path runs,
// with every byte that needs care at every offset of the word.
func TestJSONStringLong(t *testing.T) {
	var special []string
	for c := 0; c < 0x20; c++ {
		special = append(special, string(rune(c)))
	}
	special = append(special, "\"", "\\", "\x7f", "\x80", "\xff", "\xc3", "\xe2\x80\xa8", "\xe2\x80\xa9", "é", "–", "😀", "\xf0\x9f")
	plain := "abcdefghijklmnopqrstuvwxyz <>&'/0123456789~"
	r := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < 20000; i++ {
		var b bytes.Buffer
		for n := r.IntN(12); n > 0; n-- {
			k := r.IntN(20)
			b.WriteString(plain[:k])
			if r.IntN(3) == 0 {
				b.WriteString(special[r.IntN(len(special))])
			}
		}
		s := b.String()
		if got, want := appendJSONString(nil, s), encodingJSONString(t, s); !bytes.Equal(got, want) {
			t.Fatalf("%q:\n got %s\nwant %s", s, got, want)
		}
	}
}

func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "plain ascii text here", "tab\there \"quoted\" back\\slash", "\x00\x1f\x7f\x80\xff", "é – 😀 \u2028\u2029 日本"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := appendJSONString(nil, s), encodingJSONString(t, s); !bytes.Equal(got, want) {
			t.Fatalf("%q:\n got %s\nwant %s", s, got, want)
		}
	})
}
