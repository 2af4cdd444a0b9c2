package feed

import (
	"strings"
	"testing"
)

func TestParsePrice(t *testing.T) {
	tests := []struct {
		in       string
		amount   string
		currency string
	}{
		{"15.00 USD", "15", "USD"},
		{"USD 15.00", "15", "USD"},
		{"15,00 EUR", "15", "EUR"},
		{"1.299,00 EUR", "1299", "EUR"},
		{"1,299.00 USD", "1299", "USD"},
		{"1 299,50 EUR", "1299.5", "EUR"},
		{"1\u00a0299,50 EUR", "1299.5", "EUR"},
		{"1'299.90 CHF", "1299.9", "CHF"},
		{"1.234.567,89 EUR", "1234567.89", "EUR"},
		{"1,234,567 JPY", "1234567", "JPY"},
		{"1,29,900.00 INR", "129900", "INR"},
		{"12,34,567 INR", "1234567", "INR"},
		{"2300.000000 RUB", "2300", "RUB"},
		{"1820.00000 RUB", "1820", "RUB"},
		{"320000 RWF", "320000", "RWF"},
		{"0.0 KZT", "0", "KZT"},
		{"9 KZT", "9", "KZT"},
		{"1000 BDT", "1000", "BDT"},
		{"899.00 EGP", "899", "EGP"},
		{"12490", "12490", ""},
		{"  15.5  usd ", "15.5", "USD"},
		{"15.00USD", "15", "USD"},
		{"USD15", "15", "USD"},
		{"0.99 GBP", "0.99", "GBP"},
		{".50 USD", "0.5", "USD"},
		{"007.10 USD", "7.1", "USD"},
		{"1,5 EUR", "1.5", "EUR"},
		{"1,299 USD", "1299", "USD"},
		{"1.299 KWD", "1.299", "KWD"},
		{"-3.25 USD", "-3.25", "USD"},
		{"-0.00 USD", "0", "USD"},
		{"123456789012345678901234567890.123456789 USD", "123456789012345678901234567890.123456789", "USD"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePrice(tt.in)
			if err != nil {
				t.Fatalf("ParsePrice(%q): %v", tt.in, err)
			}
			if got.Amount != tt.amount || got.Currency != tt.currency {
				t.Errorf("ParsePrice(%q) = %q %q, want %q %q", tt.in, got.Amount, got.Currency, tt.amount, tt.currency)
			}
			if got.HasCurrency() != (tt.currency != "") {
				t.Errorf("HasCurrency = %v", got.HasCurrency())
			}
		})
	}
}

func TestParsePriceRejects(t *testing.T) {
	tests := []struct {
		in, wantErr string
	}{
		{"", "empty price"},
		{"   ", "empty price"},
		{"USD", "no amount"},
		{"$15.00", "write the ISO 4217 code instead of the symbol '$'"},
		{"15.00 €", "write the ISO 4217 code instead of the symbol '€'"},
		{"15.00 US", `"US" is not an ISO 4217 currency code`},
		{"15.00 DOLLARS", `"DOLLARS" is not an ISO 4217 currency code`},
		{"15.00 XYZ", `"XYZ" is not an ISO 4217 currency code`},
		{"15.00 XXX", `"XXX" is not an ISO 4217 currency code`},
		{"15 USD 20", "want one amount and one currency code"},
		{"USD 15 EUR", "want one amount and one currency code"},
		{"1.2.3,4,5 EUR", "malformed amount"},
		{"12.34.56 EUR", "not grouped by thousands"},
		{"1,2,900.00 INR", "not grouped by thousands"},
		{"1234,567.00 USD", "not grouped by thousands"},
		{"1.299,00.5 EUR", "malformed amount"},
		{"15-20 USD", "malformed amount"},
		{"15.00 руб", "unexpected 'р'"},
		{"free", `"FREE" is not an ISO 4217 currency code`},
		{"15.00 USD;", "unexpected ';'"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePrice(tt.in)
			if err == nil {
				t.Fatalf("ParsePrice(%q) = %v, want an error", tt.in, got)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParsePrice(%q) error %q, want it to say %q", tt.in, err, tt.wantErr)
			}
		})
	}
}

func TestNormalizeAvailability(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"in stock", InStock, true},
		{"in_stock", InStock, true},
		{" In Stock ", InStock, true},
		{"InStock", InStock, true},
		{"in-stock", InStock, true},
		{"http://schema.org/InStock", InStock, true},
		{"https://schema.org/InStock", InStock, true},
		{"out of stock", OutOfStock, true},
		{"out_of_stock", OutOfStock, true},
		{"OutOfStock", OutOfStock, true},
		{"http://schema.org/SoldOut", OutOfStock, true},
		{"discontinued", OutOfStock, true},
		{"preorder", Preorder, true},
		{"pre-order", Preorder, true},
		{"PreOrder", Preorder, true},
		{"backorder", Backorder, true},
		{"back order", Backorder, true},
		{"available for order", Backorder, true},
		{"maybe", "maybe", false},
		{" Soon ", "soon", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := NormalizeAvailability(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("NormalizeAvailability(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNormalizeName(t *testing.T) {
	for in, want := range map[string]string{
		"image_link":                  "image_link",
		"Image Link":                  "image_link",
		"IMAGE_LINK":                  "image_link",
		"g:image_link":                "image_link",
		"  sale price effective date": "sale_price_effective_date",
		"item  group\tid":             "item_group_id",
		"shipping(country:price)":     "shipping",
		"g:Shipping (Country:Price)":  "shipping",
	} {
		if got := NormalizeName(in); got != want {
			t.Errorf("NormalizeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParsePrice(f *testing.F) {
	for _, s := range []string{"15.00 USD", "1.299,00 EUR", "12490", "USD 1,299.00", "-0.5 GBP", "1'000 CHF"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePrice(s)
		if err != nil {
			return
		}
		// The canonical amount reads back to itself.
		again, err := ParsePrice(p.String())
		if err != nil || again != p {
			t.Fatalf("ParsePrice(%q) = %v; reading %q back gives %v, %v", s, p, p.String(), again, err)
		}
	})
}

// The fast path for "15.00 USD" reads what the general parser reads, or
// leaves the price to it: the twins never disagree.
func FuzzSimplePriceAgrees(f *testing.F) {
	for _, s := range []string{"15.00 USD", "1.234 USD", "1.000 eur", "0.5 usd", "007 USD", "0.000 USD", "1. USD",
		".5 USD", "12.3.4 USD", "15,00 EUR", "15.00  USD", "15.00 XXX", "15.00 US1", "0 USD", "100 JPY", "9.99 zzz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, build := range []bool{true, false} {
			p, sign, ok := parseSimplePrice(s, build)
			if !ok {
				continue
			}
			q, qsign, err := parseAnyPrice(s, build)
			if err != nil || p != q || sign != qsign {
				t.Fatalf("%q (build %v): fast path %+v sign %d, general %+v sign %d, %v", s, build, p, sign, q, qsign, err)
			}
		}
	})
}
