package lint

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Severity is how bad a finding is.
type Severity int

// The severities, least severe first.
const (
	Info Severity = iota
	Warning
	Error
)

func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	}
	return "info"
}

// MarshalText writes the severity's name ("error", "warning", "info").
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity's name.
func (s *Severity) UnmarshalText(b []byte) error {
	switch string(b) {
	case "error":
		*s = Error
	case "warning":
		*s = Warning
	case "info":
		*s = Info
	default:
		return fmt.Errorf("severity %q: want error, warning or info", b)
	}
	return nil
}

// Rule is one check: a stable code (kebab-case, never reused for another
// meaning), its severity, what it checks, how to fix a finding, and where
// the rule comes from in Google's public documentation.
type Rule struct {
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	Category string   `json:"category"`
	Summary  string   `json:"summary"`
	Hint     string   `json:"hint"`
	// Source names the part of Google's documentation the rule rests on:
	// the product data specification's section and attribute (Basic
	// product data › title), or another Merchant Center or Manufacturer
	// Center help page, by title, with what it says in a few words.
	Source string `json:"source"`
	// URL is the page Source names, an absolute https URL: the attribute's
	// own page when there is one, else the specification's.
	URL string `json:"url"`
	// Basis says how firmly Google's pages state the rule.
	Basis Basis `json:"basis"`
	// Off rules run only when enabled (--enable or lint.enable).
	Off bool `json:"off_by_default,omitempty"`
	// Policy rules look at variant groups and run only with a policy.
	Policy bool `json:"needs_policy,omitempty"`
}

// Citation is Source and URL in one line: Source <URL>.
func (r Rule) Citation() string { return r.Source + " <" + r.URL + ">" }

// Basis says how firmly a rule rests on Google's documentation.
type Basis string

const (
	// BasisGoogle: Google's page states the rule.
	BasisGoogle Basis = "google"
	// BasisUnconfirmed: the rule follows Google's specification as it is
	// commonly documented, but the current page was not confirmed to
	// state it; such a rule is at most a warning.
	BasisUnconfirmed Basis = "unconfirmed"
	// BasisFeedsync: feedsync's own check, for a defect real shop feeds
	// show or one the sync would trip over; Source is the Google page
	// nearest to it.
	BasisFeedsync Basis = "feedsync"
)

// The pages of Google's documentation that rules cite.
const (
	urlSpec                = "https://support.google.com/merchants/answer/7052112" // Product data specification
	urlFormats             = "https://support.google.com/merchants/answer/160567"  // Supported file formats
	urlRSS                 = "https://support.google.com/merchants/answer/160589"  // RSS 2.0 specification
	urlEncodings           = "https://support.google.com/merchants/answer/160079"  // Supported encodings
	urlQuoted              = "https://support.google.com/merchants/answer/14998273"
	urlRepeated            = "https://support.google.com/merchants/answer/7278995"
	urlTitle               = "https://support.google.com/merchants/answer/6324415"
	urlDescription         = "https://support.google.com/merchants/answer/6324468"
	urlAdditionalImageLink = "https://support.google.com/merchants/answer/6324370"
	urlPrice               = "https://support.google.com/merchants/answer/6324371"
	urlAvailability        = "https://support.google.com/merchants/answer/6324448"
	urlIdentifierExists    = "https://support.google.com/merchants/answer/6324478"
	urlGTIN                = "https://support.google.com/merchants/answer/7000891"
	urlGTINRestricted      = "https://support.google.com/merchants/answer/6286293"
	urlColor               = "https://support.google.com/merchants/answer/6324487"
	urlItemGroupID         = "https://support.google.com/merchants/answer/6324507"
	urlMCVariants          = "https://support.google.com/manufacturers/answer/7422498"
	urlDuplicateVariants   = "https://support.google.com/manufacturers/answer/7656106"
)

// ruleID indexes registry; the order is the order of --rules and of text output.
type ruleID int

const (
	rUnreadable ruleID = iota
	rParseError
	rSkippedItem
	rDuplicateHeader
	rHeaderSpelling
	rReaderProblem
	rCommaDelimited
	rBOM

	rMissingID
	rMissingTitle
	rMissingDescription
	rMissingLink
	rMissingImageLink
	rMissingAvailability
	rMissingPrice
	rMissingBrand
	rMissingIdentifier
	rIdentifierExistsValue
	rIdentifierExistsConflict
	rMissingApparel

	rPriceFormat
	rPriceNotPositive
	rSalePriceAbovePrice
	rSalePriceCurrency
	rAvailabilityValue
	rAvailabilityDateMissing
	rConditionValue
	rEnumSpelling
	rEnumValue
	rDateFormat
	rDateRange
	rURLFormat
	rURLEncoding
	rImageExtension
	rGTINFormat
	rGTINCheckDigit
	rGTINPrefix
	rGTINTruncated
	rGTINReused

	rIDTooLong
	rIDCharacters
	rTitleTooLong
	rDescriptionTooLong
	rTooManyImages
	rColorTooMany
	rColorTooLong
	rItemGroupIDTooLong

	rDuplicateID
	rDuplicateIDCase
	rSharedCustomID
	rConflictingForms
	rRepeatedAttribute

	rGroupMixedCurrency
	rDuplicateVariants
	rGroupBrandMismatch
	rGroupOfOne
	rGroupNoVariantAttribute
	rGroupIDCase
	rParentIDCollision
	rPackedValue

	rRawMarkup
	rHTMLInText
	rHTMLInDescription
	rDoubleEscaped
	rControlCharacters
	rHexColor
	rPlaceholderValue
	rUnknownAttribute

	numRules
)

var registry = [numRules]Rule{
	rUnreadable:      {"unreadable", Error, "file", "The feed could not be opened or fetched", "Check the path or URL, permissions and the server's answer", "Supported file formats: a scheduled fetch names the file itself, over http, https, ftp or sftp", urlFormats, BasisFeedsync, false, false},
	rParseError:      {"parse-error", Error, "file", "The feed is malformed and reading stopped here (unclosed tag, undefined entity, raw &)", "Fix the XML at this line: escape & as &amp;, close the tag, use numeric character references", "RSS 2.0 specification: an XML feed must be well-formed XML", urlRSS, BasisFeedsync, false, false},
	rSkippedItem:     {"skipped-item", Error, "file", "An item or row was skipped: wrong field count, characters XML does not allow", "Quote values holding tabs or line breaks; remove control characters", "Quoted attributes in text files: one product per line, tabs and line breaks only inside quotes", urlQuoted, BasisGoogle, false, false},
	rDuplicateHeader: {"duplicate-header", Error, "file", "A header column repeats an attribute that is not repeatable", "Rename the second column (often a typo such as min_ for max_) or drop it", "Attributes with repeated fields: only repeatable attributes may take several columns", urlRepeated, BasisGoogle, false, false},
	rHeaderSpelling:  {"header-spelling", Warning, "file", "A header name uses spaces or capitals instead of snake_case", "Write attribute names in lower case with underscores (image_link)", "Product data specification: attribute names in English, words joined by underscores", urlSpec, BasisGoogle, false, false},
	rReaderProblem:   {"reader-problem", Warning, "file", "The reader noticed a defect and went on (unnamed column, sub-attribute value with too few parts)", "Fix the value or the header as the message says", "Attributes with repeated fields: sub-attributes in text files", urlRepeated, BasisGoogle, false, false},
	rCommaDelimited:  {"comma-delimited", Warning, "file", "The file is comma-separated: Google takes tab-separated text (commas are fine for Meta)", "Export tab-separated text for Merchant Center", "Supported file formats: text feeds are tab-delimited; .csv is not accepted", urlFormats, BasisGoogle, false, false},
	rBOM:             {"byte-order-mark", Info, "file", "The file starts with a UTF-8 byte order mark", "Save as UTF-8 without BOM", "Supported encodings: UTF-8, UTF-16, Latin-1, ASCII", urlEncodings, BasisUnconfirmed, false, false},

	rMissingID:                {"missing-id", Error, "required", "The item has no id", "Give every item a unique, stable id", "Product data specification › Basic product data › id (required)", urlSpec, BasisGoogle, false, false},
	rMissingTitle:             {"missing-title", Error, "required", "The item has no title", "Add a title (1–150 characters)", "Product data specification › Basic product data › title (required)", urlTitle, BasisGoogle, false, false},
	rMissingDescription:       {"missing-description", Error, "required", "The item has no description", "Add a description (1–5000 characters)", "Product data specification › Basic product data › description (required)", urlDescription, BasisGoogle, false, false},
	rMissingLink:              {"missing-link", Error, "required", "The item has no link", "Add the product's landing page URL", "Product data specification › Basic product data › link (required)", urlSpec, BasisGoogle, false, false},
	rMissingImageLink:         {"missing-image-link", Error, "required", "The item has no image_link", "Add the URL of the main product image", "Product data specification › Basic product data › image_link (required)", urlSpec, BasisGoogle, false, false},
	rMissingAvailability:      {"missing-availability", Error, "required", "The item has no availability", "Add availability: in_stock, out_of_stock, preorder or backorder", "Product data specification › Price and availability › availability (required)", urlAvailability, BasisGoogle, false, false},
	rMissingPrice:             {"missing-price", Error, "required", "The item has no price", "Add price as a number and an ISO 4217 code (15.00 USD)", "Product data specification › Price and availability › price (required)", urlPrice, BasisGoogle, false, false},
	rMissingBrand:             {"missing-brand", Warning, "required", "A new product has no brand", "Add brand (the manufacturer's, or the shop's for own products)", "Product data specification › Product identifiers › brand; identifier_exists", urlIdentifierExists, BasisGoogle, false, false},
	rMissingIdentifier:        {"missing-identifier", Warning, "required", "A new product has neither gtin nor mpn, and identifier_exists is not no", "Add gtin (or mpn), or identifier_exists no for products without one", "Product data specification › Product identifiers › gtin, mpn; identifier_exists", urlIdentifierExists, BasisGoogle, false, false},
	rIdentifierExistsValue:    {"identifier-exists-value", Error, "required", "identifier_exists is not yes, true, no or false", "Write yes or no", "Product data specification › Product identifiers › identifier_exists", urlIdentifierExists, BasisGoogle, false, false},
	rIdentifierExistsConflict: {"identifier-exists-conflict", Warning, "required", "identifier_exists is no but the item has a gtin or mpn", "Drop identifier_exists, or the identifier if it is wrong", "Product data specification › Product identifiers › identifier_exists; issue Incorrect value [identifier_exists]", urlIdentifierExists, BasisGoogle, false, false},
	rMissingApparel:           {"missing-apparel-attribute", Warning, "required", "An apparel item (category 166, or a clothing or shoe word in its category, type or title) lacks color, size, gender or age_group", "Add color, size, gender and age_group to apparel", "Product data specification › Detailed product description › color (required for apparel); size, gender, age_group", urlColor, BasisUnconfirmed, false, false},

	rPriceFormat:             {"price-format", Error, "format", "A price is not a number followed by an ISO 4217 code (missing currency, symbol, malformed amount)", "Write 15.00 USD: the amount, a space, the three-letter code", "Product data specification › Price and availability › price", urlPrice, BasisGoogle, false, false},
	rPriceNotPositive:        {"price-not-positive", Warning, "format", "The price is zero or negative", "Send the real price; leave free items out", "Product data specification › Price and availability › price", urlPrice, BasisUnconfirmed, false, false},
	rSalePriceAbovePrice:     {"sale-price-above-price", Warning, "prices", "sale_price is not below price", "Make sale_price lower than price, or drop it", "Product data specification › Price and availability › sale_price", urlSpec, BasisUnconfirmed, false, false},
	rSalePriceCurrency:       {"sale-price-currency", Warning, "prices", "sale_price and price are in different currencies", "Use the same currency for price and sale_price", "Product data specification › Price and availability › sale_price", urlSpec, BasisUnconfirmed, false, false},
	rAvailabilityValue:       {"availability-value", Error, "format", "availability is not in_stock, out_of_stock, preorder or backorder", "Write one of in_stock, out_of_stock, preorder, backorder", "Product data specification › Price and availability › availability", urlAvailability, BasisGoogle, false, false},
	rAvailabilityDateMissing: {"availability-date-missing", Error, "format", "A preorder or backorder item has no availability_date", "Add availability_date (ISO 8601, 2026-03-25T13:00+0000)", "Product data specification › Price and availability › availability, availability_date (required for preorder and backorder)", urlAvailability, BasisGoogle, false, false},
	rConditionValue:          {"condition-value", Error, "format", "condition is not new, refurbished or used", "Write new, refurbished or used (in English)", "Product data specification › Detailed product description › condition", urlSpec, BasisGoogle, false, false},
	rEnumSpelling:            {"enum-spelling", Warning, "format", "A fixed-list value is spelt the legacy or a non-canonical way (in stock, New)", "Write the canonical lower-case form (in_stock, new)", "Product data specification: values from a fixed list are written in English as listed", urlSpec, BasisGoogle, false, false},
	rEnumValue:               {"enum-value", Warning, "format", "gender, age_group, adult, is_bundle, size_type or size_system has a value outside its list", "Use a listed value (gender: male, female, unisex; age_group: newborn, infant, toddler, kids, adult)", "Product data specification › Detailed product description › gender, age_group, size_type, size_system, adult, is_bundle", urlSpec, BasisUnconfirmed, false, false},
	rDateFormat:              {"date-format", Warning, "format", "availability_date or expiration_date is not an ISO 8601 date or date-time", "Write 2026-03-25 or 2026-03-25T13:00+0000", "Product data specification › Price and availability › availability_date, expiration_date", urlSpec, BasisUnconfirmed, false, false},
	rDateRange:               {"date-range-format", Error, "format", "sale_price_effective_date is not start/end in ISO 8601, or ends before it starts", "Write 2026-03-01T13:00-0800/2026-03-11T15:30-0800", "Product data specification › Price and availability › sale_price_effective_date", urlSpec, BasisGoogle, false, false},
	rURLFormat:               {"url-format", Error, "format", "A URL is not an absolute http(s) URL of at most 2000 characters (relative path, placeholder), or an image URL holds spaces or non-ASCII characters", "Write the full URL (https://shop.example/p/1), percent-encoding spaces and non-ASCII", "Product data specification › Basic product data › link, image_link, additional_image_link: URL rules", urlAdditionalImageLink, BasisGoogle, false, false},
	rURLEncoding:             {"url-encoding", Warning, "format", "A landing-page URL (link, mobile_link, ads_redirect) holds spaces or non-ASCII characters", "Percent-encode spaces and non-ASCII characters (%20, %D0%BC…)", "Product data specification › Basic product data › link", urlSpec, BasisUnconfirmed, false, false},
	rImageExtension:          {"image-extension", Warning, "format", "An image URL's extension is not one of JPEG, WebP, PNG, GIF, BMP, TIFF", "Link the image file itself in a supported format", "Product data specification › Basic product data › image_link, additional_image_link: image formats", urlAdditionalImageLink, BasisGoogle, true, false},
	rGTINFormat:              {"gtin-format", Error, "format", "gtin is not 8, 12, 13 or 14 digits", "Send the GTIN's digits only, with leading zeros (UPC 12, EAN 13, ITF 14)", "Product data specification › Product identifiers › gtin: 8, 12, 13 or 14 digits", urlGTIN, BasisGoogle, false, false},
	rGTINCheckDigit:          {"gtin-check-digit", Error, "format", "gtin fails the GS1 check digit", "Copy the GTIN from the package; do not invent one", "Product data specification › Product identifiers › gtin: GS1 check digit", urlGTIN, BasisGoogle, false, false},
	rGTINPrefix:              {"gtin-prefix", Error, "format", "gtin has a restricted (2, 02, 04) or coupon (05, 99, 981–984) prefix", "Use the manufacturer's GTIN, not an in-store or coupon code", "Product data specification › Product identifiers › gtin: restricted and coupon prefixes", urlGTINRestricted, BasisGoogle, false, false},
	rGTINTruncated:           {"gtin-truncated", Warning, "format", "A 12-digit gtin starts like the feed's 13-digit ones: probably an EAN-13 with a digit cut off", "Check the GTIN on the package; keep all 13 digits", "Product data specification › Product identifiers › gtin: 8, 12, 13 or 14 digits", urlGTIN, BasisFeedsync, false, false},
	rGTINReused:              {"gtin-reused", Warning, "duplicates", "Items in different variant groups (or without one) share a gtin", "Give each product its own GTIN; variants of one product share an item_group_id", "Product data specification › Product identifiers › gtin", urlSpec, BasisFeedsync, false, false},

	rIDTooLong:          {"id-too-long", Error, "limits", "id is longer than 50 characters", "Shorten the id to 50 characters", "Product data specification › Basic product data › id: up to 50 characters", urlSpec, BasisGoogle, false, false},
	rIDCharacters:       {"id-characters", Info, "limits", "id or item_group_id holds characters other than ASCII letters, digits, _ and -", "Prefer ASCII letters, digits, _ and - in ids", "Product data specification › Basic product data › id, and Product data specification › Detailed product description › item_group_id: valid Unicode, ASCII letters, digits, _ and - recommended", urlSpec, BasisGoogle, true, false},
	rTitleTooLong:       {"title-too-long", Warning, "limits", "title is longer than 150 characters and will be truncated", "Shorten the title to 150 characters", "Product data specification › Basic product data › title: up to 150 characters", urlTitle, BasisGoogle, false, false},
	rDescriptionTooLong: {"description-too-long", Warning, "limits", "description is longer than 5000 characters and will be truncated", "Shorten the description to 5000 characters", "Product data specification › Basic product data › description: up to 5000 characters", urlDescription, BasisGoogle, false, false},
	rTooManyImages:      {"too-many-images", Error, "limits", "More than 10 additional_image_link values", "Keep the 10 best additional images", "Product data specification › Basic product data › additional_image_link: up to 10", urlAdditionalImageLink, BasisGoogle, false, false},
	rColorTooMany:       {"color-too-many", Error, "limits", "color names more than 3 colours", "Name up to 3 colours, primary first, separated by / (Red/Green/Black)", "Product data specification › Detailed product description › color: up to 3 colours", urlColor, BasisGoogle, false, false},
	rColorTooLong:       {"color-too-long", Error, "limits", "color is longer than 100 characters, or one colour longer than 40", "Shorten the colour names", "Product data specification › Detailed product description › color: up to 100 characters, 40 per colour", urlColor, BasisGoogle, false, false},
	rItemGroupIDTooLong: {"item-group-id-too-long", Error, "limits", "item_group_id is longer than 50 characters", "Shorten item_group_id to 50 characters", "Product data specification › Detailed product description › item_group_id: up to 50 characters", urlItemGroupID, BasisGoogle, false, false},

	rDuplicateID:       {"duplicate-id", Error, "duplicates", "Two items have the same id", "Make ids unique: one item per id", "Product data specification › Basic product data › id: unique for each product", urlSpec, BasisGoogle, false, false},
	rDuplicateIDCase:   {"duplicate-id-case", Warning, "duplicates", "Two ids differ only in letter case", "Make ids differ by more than case", "Product data specification › Basic product data › id: unique for each product", urlSpec, BasisUnconfirmed, false, false},
	rSharedCustomID:    {"shared-custom-id", Error, "duplicates", "Feeds linted together send the same custom_id (case-sensitive): feeds that share a catalog must not share one, and sync skips the later feed's product (with --policy parent a group's custom_id is its item_group_id; without --policy only items outside groups count)", "Give each feed's products ids of their own (a per-feed prefix), or send the product from one feed only", "Product data specification › Basic product data › id: unique and stable; feedsync sync: one product per custom_id in a catalog", urlSpec, BasisFeedsync, false, false},
	rConflictingForms:  {"conflicting-forms", Warning, "duplicates", "An attribute is given both plain (RSS/Atom) and in g: form, with different values; the g: value wins", "Keep one form, or give both the same value", "RSS 2.0 specification: title, link and description as RSS or g: elements", urlRSS, BasisFeedsync, false, false},
	rRepeatedAttribute: {"repeated-attribute", Warning, "duplicates", "A non-repeatable attribute appears more than once in an item; the extra values are discarded", "Give the attribute once per item", "Product data specification › Detailed product description › color: one value per item; extra values are discarded", urlColor, BasisGoogle, false, false},

	rGroupMixedCurrency:      {"group-mixed-currency", Warning, "prices", "The items of one variant group are priced in different currencies", "Price all variants of a group in one currency", "Product data specification › Price and availability › price", urlPrice, BasisFeedsync, false, false},
	rDuplicateVariants:       {"duplicate-variants", Error, "variants", "Two items of a group have identical values for every variant attribute", "Make variants differ in color, size, material, pattern, age_group, gender, size_type or size_system, or drop the duplicate", "Manufacturer Center Help › Duplicate variants (ITEM_GROUP_DUPLICATE_VARIANTS); Product data specification › Detailed product description › item_group_id", urlDuplicateVariants, BasisGoogle, false, true},
	rGroupBrandMismatch:      {"group-brand-mismatch", Warning, "variants", "The variants of a group differ in brand", "Give every variant of a group the same brand", "Manufacturer Center Help › Variants: the same brand across a group", urlMCVariants, BasisGoogle, false, true},
	rGroupOfOne:              {"group-of-one", Info, "variants", "A variant group has a single item", "Drop item_group_id from products without variants", "Product data specification › Detailed product description › item_group_id", urlItemGroupID, BasisFeedsync, false, true},
	rGroupNoVariantAttribute: {"group-no-variant-attribute", Warning, "variants", "No item of a group carries a variant attribute (color, size, material, pattern, age_group, gender, size_type, size_system)", "Add the attributes the variants differ in", "Product data specification › Detailed product description › item_group_id: variants differ in their variant attributes", urlItemGroupID, BasisGoogle, false, true},
	rGroupIDCase:             {"group-id-case", Warning, "variants", "Two item_group_id values differ only in letter case: they are one group", "Spell each item_group_id one way", "Manufacturer Center Help › Variants: item_group_id case does not make a group unique", urlMCVariants, BasisGoogle, false, true},
	rParentIDCollision:       {"parent-id-collision", Error, "variants", "With --policy parent a group becomes the product item_group_id, but an item outside the group has that id: two products would share it", "Rename the group or the item so that group ids and item ids differ", "Product data specification › Detailed product description › item_group_id: unique for each group; feedsync's parent policy", urlItemGroupID, BasisFeedsync, false, true},
	rPackedValue:             {"packed-value", Warning, "variants", "size or color holds a list (32,34,36): the item was not split into variants", "Send one item per size or colour, joined by item_group_id", "Product data specification › Detailed product description › item_group_id: one item per variant", urlItemGroupID, BasisFeedsync, false, false},

	rRawMarkup:         {"raw-markup", Warning, "hygiene", "Raw HTML tags inside an XML value parse as child elements; readers keep only their text", "Escape the markup (&lt;br&gt;) or wrap the value in CDATA", "Product data specification › Basic product data › description: HTML in XML feeds must be escaped", urlDescription, BasisGoogle, false, false},
	rHTMLInText:        {"html-in-text", Warning, "hygiene", "HTML in a text attribute other than description, or unsupported HTML (tag attributes, script, style) in description", "Send plain text; description allows only simple tags without attributes", "Product data specification › Basic product data › description: supported HTML", urlDescription, BasisGoogle, false, false},
	rHTMLInDescription: {"html-in-description", Info, "hygiene", "description contains HTML tags (tolerated, no longer documented)", "Prefer plain text with line breaks", "Product data specification › Basic product data › description: supported HTML", urlDescription, BasisGoogle, false, false},
	rDoubleEscaped:     {"double-escaped", Warning, "hygiene", "A value shows an entity (&amp;, &gt;, &nbsp;) literally: it was escaped twice", "Escape text once (write &amp; in XML for &, nothing in text files)", "Supported encodings: use correct UTF-8 encoding and avoid double encoding", urlEncodings, BasisGoogle, false, false},
	rControlCharacters: {"control-characters", Error, "hygiene", "A value holds control, format or private-use characters, or invalid UTF-8", "Remove the invisible characters; save the file as UTF-8", "Product data specification › Basic product data › id and text attributes: valid Unicode only, no control, function or private-use characters", urlSpec, BasisGoogle, false, false},
	rHexColor:          {"hex-color", Error, "hygiene", "color holds a hex code instead of a colour name", "Write colour names as on the landing page (Beige/Gold/Black)", "Product data specification › Detailed product description › color: colour names, not codes", urlColor, BasisGoogle, false, false},
	rPlaceholderValue:  {"placeholder-value", Warning, "hygiene", "A value is a placeholder (undefined, null, N/A, -) or description repeats title", "Send the real value, or leave the attribute out", "Product data specification: send the product's real values", urlSpec, BasisFeedsync, false, false},
	rUnknownAttribute:  {"unknown-attribute", Info, "hygiene", "An attribute that is not in Google's product data specification, or is deprecated", "Rename it to a spec attribute or drop it", "Product data specification: the attributes Google reads", urlSpec, BasisFeedsync, false, false},
}

// Rules returns every rule, in the order --rules lists them.
func Rules() []Rule {
	out := make([]Rule, numRules)
	copy(out, registry[:])
	return out
}

// LookupRule returns the rule with the given code.
func LookupRule(code string) (Rule, bool) {
	if id, ok := ruleByCode(code); ok {
		return registry[id], true
	}
	return Rule{}, false
}

func ruleByCode(code string) (ruleID, bool) {
	code = strings.ToLower(strings.TrimSpace(code))
	for i := range registry {
		if registry[i].Code == code {
			return ruleID(i), true
		}
	}
	return 0, false
}

// RulesFormats lists the formats WriteRules takes.
var RulesFormats = []string{"text", "json", "sarif"}

// WriteRules lists the rules: as a table (format "text"), as a JSON list of
// rules ("json"), or as a SARIF 2.1.0 log with one run whose tool.driver.rules
// are the rules and which has no results ("sarif"; opts give its version).
func WriteRules(w io.Writer, format string, opts ...WriteOptions) error {
	var o WriteOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	switch format {
	case "json":
		return encodeJSON(w, Rules())
	case "sarif":
		return writeSARIFRules(w, o)
	case "text", "":
	default:
		return fmt.Errorf("format %q: the rules are listed as %s", format, strings.Join(RulesFormats, ", "))
	}
	var b strings.Builder
	width := 0
	for _, r := range registry {
		width = max(width, len(r.Code))
	}
	var cats []string
	for _, r := range registry {
		if !slices.Contains(cats, r.Category) {
			cats = append(cats, r.Category)
		}
	}
	for _, cat := range cats {
		fmt.Fprintf(&b, "\n%s\n", cat)
		for _, r := range registry {
			if r.Category != cat {
				continue
			}
			note := ""
			if r.Off {
				note = " (off by default: --enable " + r.Code + ")"
			}
			if r.Policy {
				note += " (with --policy)"
			}
			fmt.Fprintf(&b, "  %-*s  %-7s  %s%s\n  %-*s           fix: %s\n  %-*s           source: %s\n", width, r.Code, r.Severity, r.Summary, note, width, "", r.Hint, width, "", r.Citation())
		}
	}
	_, err := w.Write([]byte(strings.TrimPrefix(b.String(), "\n")))
	return err
}
