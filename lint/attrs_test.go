package lint

import (
	"strings"
	"testing"
)

// TestSpecAttributesAreKnown: the attributes of Google's current product
// data specification (https://support.google.com/merchants/answer/7052112)
// are not unknown-attribute findings, in XML or in a text feed; a name
// outside it still is.
func TestSpecAttributesAreKnown(t *testing.T) {
	added := map[string]string{
		"ads_grouping": "kettles", "ads_labels": "summer", "canonical_link": "https://shop.test/p/a1",
		"display_ads_id": "A1", "display_ads_similar_id": "A2", "display_ads_title": "Steel kettle",
		"display_ads_link": "https://shop.test/p/a1", "display_ads_value": "15.00", "handling_cutoff_time": "US:1500:America/New_York",
		"shipping_handling_business_days": "Mon-Fri", "shipping_transit_business_days": "Mon-Fri",
		"sustainability_incentives": "ev_tax_credit:1000 USD", "video_link": "https://shop.test/v/a1.mp4",
	}
	var changes []string
	for name, v := range added {
		changes = append(changes, "+"+name, v)
	}
	changes = append(changes, "+no_such_attribute", "x")
	r := lintString(t, rss(item(changes...)), Options{})
	var unknown []string
	for _, f := range r.Findings {
		if f.Code == "unknown-attribute" {
			unknown = append(unknown, f.Attr)
		}
	}
	if len(unknown) != 1 || unknown[0] != "no_such_attribute" {
		t.Errorf("XML: unknown-attribute for %q, want only no_such_attribute", unknown)
	}

	header, row := []string{}, []string{}
	for _, a := range baseAttrs {
		header, row = append(header, a[0]), append(row, a[1])
	}
	for name, v := range added {
		header, row = append(header, name), append(row, v)
	}
	r = lintString(t, tsv(strings.Join(header, "\t"), strings.Join(row, "\t")), Options{})
	for _, f := range r.Findings {
		if f.Code == "unknown-attribute" {
			t.Errorf("TSV: %s: %s", f.Attr, f.Message)
		}
	}
}
