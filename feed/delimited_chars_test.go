package feed

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/feedsync/feedsync/feed/feedgen"
)

func delimBenchRows(b *testing.B) [][]byte {
	var buf bytes.Buffer
	if err := feedgen.Write(&buf, feedgen.Options{Format: feedgen.TSV, Items: 2000, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	return bytes.SplitAfter(buf.Bytes(), []byte{'\n'})
}

// BenchmarkDelimBadByte measures the row check on the generator's TSV rows
// (a sixth of their bytes non-ASCII); utf8.Valid is the baseline.
func BenchmarkDelimBadByte(b *testing.B) {
	rows := delimBenchRows(b)
	n := 0
	for _, r := range rows {
		n += len(r)
	}
	b.Run("delimBadByte", func(b *testing.B) {
		b.SetBytes(int64(n))
		for b.Loop() {
			for _, r := range rows {
				if delimBadByte(r) >= 0 {
					b.Fatal("bad")
				}
			}
		}
	})
	b.Run("delimClean", func(b *testing.B) {
		b.SetBytes(int64(n))
		for b.Loop() {
			for _, r := range rows {
				if !delimClean(r) {
					b.Fatal("bad")
				}
			}
		}
	})
	b.Run("utf8.Valid", func(b *testing.B) {
		b.SetBytes(int64(n))
		for b.Loop() {
			for _, r := range rows {
				if !utf8.Valid(r) {
					b.Fatal("bad")
				}
			}
		}
	})
}

func BenchmarkDelimBadByteKinds(b *testing.B) {
	for _, k := range []struct{ name, s string }{
		{"ASCII", strings.Repeat("abcdefghij klmnopqrstuvwxyz 0123456789 ", 1000)},
		{"ASCIITabs", strings.Repeat("abcdefghij klmnopqrstuvwxyz\t0123456789 ", 1000)},
		{"Cyrillic", strings.Repeat("материал прочный для походов ", 1000)},
		{"Mixed", strings.Repeat("Tee “0” – Black / S материал water-repellent € прочный ", 1000)},
	} {
		data := []byte(k.s)
		b.Run(k.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if delimBadByte(data) >= 0 {
					b.Fatal()
				}
			}
		})
		b.Run(k.name+"/delimClean", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if !delimClean(data) {
					b.Fatal()
				}
			}
		})
		b.Run(k.name+"/utf8.Valid", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if !utf8.Valid(data) {
					b.Fatal()
				}
			}
		})
	}
}

// TestDelimClean: delimClean never passes what delimBadByte refuses, and
// passes every valid text without four-byte characters or a lead E0: every
// two-byte sequence at every position of a word, three-byte ones at the
// word's end, where they cross into the next.
func TestDelimClean(t *testing.T) {
	check := func(b []byte) {
		t.Helper()
		bad := delimBadByte(b) >= 0
		clean := delimClean(b)
		if clean && bad {
			t.Fatalf("%q: delimClean passes it, delimBadByte finds byte %d", b, delimBadByte(b))
		}
		if !clean && !bad && !bytes.ContainsFunc(b, func(r rune) bool { return r >= 0x800 && r < 0x1000 || r >= 0x10000 }) {
			t.Fatalf("%q: valid, delimClean refuses it", b)
		}
	}
	ctx := []byte("0123456789abcdefghijklmnopqrstuv")
	positions := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	if delimRace || testing.Short() {
		positions = []int{0, 5, 6, 7, 8}
	}
	for _, pos := range positions {
		for v := 0; v < 1<<16; v++ {
			b := append(append([]byte(nil), ctx[:pos]...), byte(v), byte(v>>8))
			check(b)
			check(append(b, ctx[:3]...))
		}
	}
	leads := []byte{0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF}
	thirds := []byte{0x00, 0x20, 0x7F, 0x80, 0x9F, 0xA0, 0xBF, 0xC0, 0xE0, 0xFF}
	for _, pos := range []int{5, 6, 7, 13, 14, 15} {
		for _, c := range leads {
			for v := 0; v < 256; v++ {
				for _, third := range thirds {
					b := append(append([]byte(nil), ctx[:pos]...), c, byte(v), third)
					check(b)
					check(append(b, ctx[:3]...))
				}
			}
		}
	}
	for _, s := range []string{"", "a", "\t\r\n", "Ж", "한국어 텍스트", "€€€€€€€€", "a\u0085b\uffff", "😀 emoji", "हिन्दी", "\xed\xa0\x80", "\xed\x9f\xbf"} {
		for pad := 0; pad < 9; pad++ {
			check([]byte(strings.Repeat("x", pad) + s))
			check([]byte(strings.Repeat("x", pad) + s + s + "yz"))
		}
	}
}

// FuzzDelimClean: delimClean never passes what delimBadByte refuses.
func FuzzDelimClean(f *testing.F) {
	for _, s := range []string{"id\tШирт\n", "한국어\xed\xa0\x80", "abc\x00", "a\xc3", "\xe0\xa4\xb9"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if delimClean(b) && delimBadByte(b) >= 0 {
			t.Fatalf("%q: delimClean passes byte %d", b, delimBadByte(b))
		}
		if (delimBadByte(b) < 0) != (utf8.Valid(b) && !bytes.ContainsFunc(b, func(r rune) bool { return r < 0x20 && r != '\t' && r != '\n' && r != '\r' })) {
			t.Fatalf("%q: delimBadByte %d disagrees with utf8.Valid", b, delimBadByte(b))
		}
	})
}
