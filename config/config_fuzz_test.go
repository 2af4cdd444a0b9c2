package config

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// sizeSeeds are the inputs earlier versions accepted by mistake, and sizes
// that must stay accepted.
var sizeSeeds = []string{
	"NaN", "Inf", "+Inf", "-Inf", "infinity", "1e30", "0.5B", "-1", "1e-3KiB", "0x10", "", "  ", "0", "-0", "+1",
	"1_000", "1.5", "1.", ".5MB", "0.0009765625KiB", "1125899906842625", "99999999999999999999999999GiB",
	"1.000000000000000000000000000000000000000000000000000000000001PiB",
	"4GiB", "500MB", "64 KiB", "1048576", "1.5GB", "1PiB", "1B", " 7 TB ", "0001KiB",
}

// FuzzParseSize: ParseSize never panics; an accepted size is a whole number
// of bytes from 1 to 1PiB, written without sign, exponent, hex, NaN or Inf,
// and reads back the same from its decimal form and from its form in any
// unit that divides it; a rejected input's error names the input.
func FuzzParseSize(f *testing.F) {
	for _, s := range sizeSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(s)) {
				t.Fatalf("ParseSize(%q): error %q does not name the input", s, err)
			}
			return
		}
		if n < 1 || n > MaxSizeBytes {
			t.Fatalf("ParseSize(%q) = %d, outside [1, %d]", s, n, MaxSizeBytes)
		}
		if strings.ContainsAny(s, "+-eExXnNaAfF_,") {
			t.Fatalf("ParseSize(%q) = %d: accepted a sign, an exponent, hex, NaN or Inf", s, n)
		}
		for _, u := range sizeUnits {
			if n%u.mult != 0 {
				continue
			}
			again := strconv.FormatInt(n/u.mult, 10) + u.suffix
			if m, err := ParseSize(again); err != nil || m != n {
				t.Fatalf("ParseSize(%q) = %d, but ParseSize(%q) = %d, %v", s, n, again, m, err)
			}
		}
		if m, err := ParseSize(strconv.FormatInt(n, 10)); err != nil || m != n {
			t.Fatalf("ParseSize(%q) = %d, but its decimal form reads %d, %v", s, n, m, err)
		}
	})
}

// durationSeeds are durations that must be refused (negative, overflowing,
// malformed, too fine) and ones that must stay accepted.
var durationSeeds = []string{
	"-1s", "-0s", "-0", "+5s", "9999999999h", "9223372036854775808ns", "2562048h", "169h", "168h0m0.000000001s",
	"0.5ns", "1e3s", "NaN", "Inf", "", "  ", "30", "5 m", "1h-1m", ".s", "1.s", "0x10s",
	"30s", "5m", "1h30m", "0", "0s", "168h", "1.5h", ".5s", "1µs", "1us", "100ms",
}

// FuzzDuration: a Duration never panics on any scalar; an accepted one is
// from 0 to MaxDuration and reads back the same from its String form; a
// rejected input's error names the input.
func FuzzDuration(f *testing.F) {
	for _, s := range durationSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var d Duration
		err := d.UnmarshalYAML(&yaml.Node{Kind: yaml.ScalarNode, Value: s})
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(s)) {
				t.Fatalf("Duration %q: error %q does not name the input", s, err)
			}
			if d != 0 {
				t.Fatalf("Duration %q: refused, yet set to %s", s, time.Duration(d))
			}
			return
		}
		v := time.Duration(d)
		if v < 0 || v > MaxDuration {
			t.Fatalf("Duration %q = %s, outside [0, %s]", s, v, MaxDuration)
		}
		if strings.HasPrefix(strings.TrimSpace(s), "-") {
			t.Fatalf("Duration %q = %s: accepted a negative duration", s, v)
		}
		var again Duration
		if err := again.UnmarshalYAML(&yaml.Node{Kind: yaml.ScalarNode, Value: v.String()}); err != nil || again != d {
			t.Fatalf("Duration %q = %s, but %q reads %s, %v", s, v, v.String(), time.Duration(again), err)
		}
	})
}
