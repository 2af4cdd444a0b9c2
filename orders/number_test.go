package orders

import (
	"strings"
	"testing"
)

func TestParseNumber(t *testing.T) {
	for _, c := range []struct {
		in   string
		dec  byte
		want string // "" = error
		err  string // part of the error
	}{
		{"12", 0, "12", ""},
		{"12.5", 0, "12.5", ""},
		{" 19.90 ", 0, "19.90", ""},
		{"12,50", 0, "12.50", ""},
		{"1 234,50", 0, "1234.50", ""},
		{"1\u00a0234,50", 0, "1234.50", ""},
		{"1\u202f234.50", 0, "1234.50", ""},
		{"1,234.50", 0, "1234.50", ""},
		{"1.234,50", 0, "1234.50", ""},
		{"1'234.50", 0, "1234.50", ""},
		{"1,234,567", 0, "1234567", ""},
		{"1.234.567", 0, "1234567", ""},
		{"1,234,567.25", 0, "1234567.25", ""},
		{"8.264", 0, "8.264", ""}, // a lone dot is decimal
		{"0,125", 0, "0.125", ""}, // nothing to group before it
		{"1234,567", 0, "1234.567", ""},
		{"1 234", 0, "1234", ""},
		{"1,0000", 0, "1.0000", ""},
		{"-3.20", 0, "-3.20", ""},
		{"+3", 0, "3", ""},
		{"-0.00", 0, "0.00", ""},
		{"007", 0, "7", ""},
		{".5", 0, "0.5", ""},
		{",5", 0, "0.5", ""},
		{"1,234", 0, "", "ambiguous"},
		{"12,345", 0, "", "ambiguous"},
		{"1,234", ',', "1.234", ""},
		{"1,234", '.', "1234", ""},
		{"1.234", ',', "1234", ""},
		{"1.234", '.', "1.234", ""},
		{"1.234,5", '.', "", "malformed"},
		{"", 0, "", "empty"},
		{"-", 0, "", "malformed"},
		{"5.", 0, "", "no digits after"},
		{"12 EUR", 0, "", "not a digit"},
		{"€12", 0, "", "not a digit"},
		{"1e3", 0, "", "not a digit"},
		{"1,23,456", 0, "", "grouped"},
		{"12 50", 0, "", "grouped"},
		{"1.2.3,4", 0, "", "grouped"},
		{"1,234.5,6", 0, "", "twice"},
		{"1 234.567,89", 0, "", "two kinds"},
		{"1,2.34", 0, "", "grouped"},
	} {
		got, err := parseNumber(c.in, c.dec)
		switch {
		case c.want != "" && (err != nil || got != c.want):
			t.Errorf("parseNumber(%q, %q) = %q, %v; want %q", c.in, c.dec, got, err, c.want)
		case c.want == "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("parseNumber(%q, %q) = %q, %v; want an error saying %q", c.in, c.dec, got, err, c.err)
		}
	}
}

func TestParseJSONNumber(t *testing.T) {
	for in, want := range map[string]string{"19.9": "19.9", "-2": "-2", "1e3": "1000", "2.50E-1": "0.25", "0": "0"} {
		if got, err := parseJSONNumber(in); err != nil || got != want {
			t.Errorf("parseJSONNumber(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestDecimals(t *testing.T) {
	for in, want := range map[string]string{"12.50": "12.5", "12.00": "12", "12": "12", "0.0": "0", "-0.10": "-0.1", "100": "100"} {
		if got := trimDecimal(in); got != want {
			t.Errorf("trimDecimal(%q) = %q, want %q", in, got, want)
		}
	}
	for _, c := range []struct {
		in   []string
		want string
	}{
		{[]string{"0.1", "0.2"}, "0.3"},
		{[]string{"19.90", "17.5"}, "37.40"},
		{[]string{"1", "-1.5"}, "-0.5"},
		{[]string{"99999999999999999999.99", "0.01"}, "100000000000000000000.00"},
		{[]string{"3"}, "3"},
	} {
		if got, err := sumDecimals(c.in); err != nil || got != c.want {
			t.Errorf("sumDecimals(%v) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}
