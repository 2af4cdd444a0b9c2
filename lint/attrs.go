package lint

import (
	"bytes"
	"strings"
)

// knownAttrs are the attributes of Google's product data specification
// (https://support.google.com/merchants/answer/7052112), besides those item
// rules look at by name.
//
// Revision: the list follows the specification as revised in late 2025,
// the revision that lists shipping_handling_business_days and
// shipping_transit_business_days (added in 2025) and handling_cutoff_time
// (added late 2025), with the Shopping campaign attributes (ads_grouping,
// ads_labels), the dynamic remarketing display_ads_* attributes and
// canonical_link, sustainability_incentives and video_link. An attribute
// Google adds later is reported as unknown-attribute, an info, until it is
// added here.
var knownAttrs = map[string]bool{
	"id": true, "title": true, "structured_title": true, "description": true, "structured_description": true,
	"link": true, "image_link": true, "additional_image_link": true, "lifestyle_image_link": true, "mobile_link": true,
	"virtual_model_link": true, "short_title": true, "ads_redirect": true, "availability": true, "availability_date": true,
	"cost_of_goods_sold": true, "expiration_date": true, "price": true, "sale_price": true, "sale_price_effective_date": true,
	"unit_pricing_measure": true, "unit_pricing_base_measure": true, "installment": true, "subscription_cost": true,
	"loyalty_points": true, "loyalty_program": true, "auto_pricing_min_price": true, "maximum_retail_price": true, "pause": true,
	"google_product_category": true, "product_type": true, "brand": true, "gtin": true, "mpn": true, "identifier_exists": true,
	"condition": true, "adult": true, "multipack": true, "is_bundle": true, "certification": true, "energy_efficiency_class": true,
	"min_energy_efficiency_class": true, "max_energy_efficiency_class": true, "age_group": true, "color": true, "gender": true,
	"material": true, "pattern": true, "size": true, "size_type": true, "size_system": true, "item_group_id": true,
	"product_length": true, "product_width": true, "product_height": true, "product_weight": true, "product_detail": true,
	"product_highlight": true, "custom_label_0": true, "custom_label_1": true, "custom_label_2": true, "custom_label_3": true,
	"custom_label_4": true, "promotion_id": true, "excluded_destination": true, "included_destination": true,
	"shopping_ads_excluded_country": true, "shipping": true, "shipping_label": true, "shipping_weight": true,
	"shipping_length": true, "shipping_width": true, "shipping_height": true, "ships_from_country": true,
	"max_handling_time": true, "min_handling_time": true, "transit_time_label": true, "carrier_shipping": true,
	"free_shipping_threshold": true, "return_policy_label": true, "tax": true, "tax_category": true,
	"external_seller_id": true, "disclosure_date": true, "store_code": true, "pickup_method": true, "pickup_sla": true,
	"link_template": true, "mobile_link_template": true, "consumer_notice": true, "product_fee": true,
	"ads_grouping": true, "ads_labels": true, "canonical_link": true, "display_ads_id": true, "display_ads_similar_id": true,
	"display_ads_title": true, "display_ads_link": true, "display_ads_value": true, "handling_cutoff_time": true,
	"shipping_handling_business_days": true, "shipping_transit_business_days": true, "sustainability_incentives": true,
	"video_link": true,
}

// deprecatedAttrs are names seen in real feeds that Google no longer reads
// or never did, with what to know about each.
var deprecatedAttrs = map[string]string{
	"target_country":          "deprecated: the data source's feed label sets the country",
	"html_code_color":         "not a Google attribute: color takes colour names",
	"sell_on_google_quantity": "Buy on Google was retired",
	"inventory":               "a Meta catalog attribute, not Google's",
	"online_only":             "retired",
}

// apparelCategoryIDs are Google taxonomy ids in the Apparel & Accessories
// (166) subtree that feeds commonly use.
var apparelCategoryIDs = map[string]bool{
	"166": true, "1604": true, "187": true, "167": true, "184": true, "188": true, "5322": true, "182": true,
	"2271": true, "5182": true, "203": true, "5250": true, "204": true, "212": true, "207": true, "1581": true,
	"5344": true, "208": true, "1594": true, "211": true, "5388": true, "213": true, "2306": true, "5441": true,
	"1933": true, "5424": true, "2195": true,
}

// apparelWords are clothing and shoe words (several languages of the real
// feeds) that mark an item as apparel when its category does not say.
var apparelWords = []string{
	"apparel", "clothing", "clothes", "shirt", "t-shirt", "tshirt", "tee", "hoodie", "sweater", "sweatshirt",
	"jacket", "coat", "dress", "skirt", "jeans", "trousers", "pants", "shorts", "blouse", "kurti", "kurta",
	"saree", "sari", "sarees", "lehenga", "sherwani", "salwar", "kameez", "jutti", "shoe", "shoes", "sneaker",
	"sneakers", "boots", "sandals", "footwear", "menswear", "womenswear", "t-paita", "paita", "huppari",
	"mekko", "kengät", "tričko", "mikina", "bunda", "šaty", "футболка", "платье", "куртка",
}

// isApparel guesses whether an item is apparel from its Google category
// (id or path), product_type and title.
func (l *Linter) isApparel(gpc, productType, title string) bool {
	var ok bool
	ok, l.lower = isApparelBuf(gpc, productType, title, l.lower)
	return ok
}

func isApparelBuf(gpc, productType, title string, buf []byte) (bool, []byte) {
	if gpc != "" {
		if apparelCategoryIDs[gpc] {
			return true, buf
		}
		if hasPrefixFold(gpc, "apparel") {
			return true, buf
		}
		if isDigits(gpc) || strings.Contains(gpc, ">") {
			return false, buf // a category that is not apparel
		}
	}
	var ok bool
	if ok, buf = hasWord(productType, apparelWords, buf); ok {
		return true, buf
	}
	return hasWord(title, apparelWords, buf)
}

// hasWord reports whether s holds one of words as a whole word, ignoring
// case; buf is scratch space for the lower-cased s, returned for reuse.
func hasWord(s string, words []string, buf []byte) (bool, []byte) {
	if s == "" {
		return false, buf
	}
	buf = buf[:0]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			buf = append(buf[:0], strings.ToLower(s)...)
			break
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf = append(buf, c)
	}
	l := buf
	for _, w := range words {
		for off := 0; ; {
			i := bytes.Index(l[off:], []byte(w))
			if i < 0 {
				break
			}
			i += off
			end := i + len(w)
			if (i == 0 || !isWordByte(l[i-1])) && (end == len(l) || !isWordByte(l[end])) {
				return true, buf
			}
			off = i + 1
		}
	}
	return false, buf
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c >= 0x80
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
