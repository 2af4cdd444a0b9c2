package lint

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/feedsync/feedsync/feed"
	"github.com/feedsync/feedsync/tree"
)

// itemView holds the first value of each attribute the item rules read,
// gathered in one pass over the item's attributes.
type itemView struct {
	id, title, description, link, imageLink, availability, price, salePrice   string
	brand, gtin, mpn, identifierExists, condition                             string
	color, size, gender, ageGroup, material, pattern, sizeType, sizeSystem    string
	itemGroupID, gpc, productType, availabilityDate, expirationDate, saleDate string
	adult, isBundle                                                           string
	present                                                                   uint32 // attrBit of each required attribute seen
	images                                                                    int
	currency                                                                  string             // of price, once parsed
	variants                                                                  tree.VariantValues // of grouped items only
}

// Bits of itemView.present, also used to find repeated attributes.
const (
	bID = 1 << iota
	bTitle
	bDescription
	bLink
	bImageLink
	bAvailability
	bPrice
	bSalePrice
	bBrand
	bGTIN
	bMPN
	bIdentifierExists
	bCondition
	bColor
	bSize
	bGender
	bAgeGroup
	bMaterial
	bPattern
	bItemGroupID
	bGPC
	bAvailabilityDate
	bExpirationDate
	bSaleDate
	bAdult
	bIsBundle
	bSizeType
	bSizeSystem
)

// isURLAttr reports whether an attribute holds a URL: checked as one, not for HTML.
func isURLAttr(name string) bool {
	switch name {
	case "link", "image_link", "additional_image_link", "mobile_link", "lifestyle_image_link", "virtual_model_link", "ads_redirect":
		return true
	}
	return false
}

// attrDefect is what scanText found in one attribute value of an item.
type attrDefect struct {
	item int // index of the item in its batch
	name string
	d    textDefects
}

// scanItems runs the character-level checks on items and returns what
// they found. It touches no Linter state, so it runs on its own goroutine.
func scanItems(items []*feed.Item, delimited bool, out []attrDefect) []attrDefect {
	for i, it := range items {
		for j := range it.Attrs {
			a := &it.Attrs[j]
			out = scanAttr(out, i, a, delimited)
			for k := range a.Sub {
				out = scanAttr(out, i, &a.Sub[k], delimited)
			}
		}
	}
	return out
}

func scanAttr(out []attrDefect, i int, a *feed.Attr, delimited bool) []attrDefect {
	if a.Value == "" {
		return out
	}
	if d := scanText(a.Value, !isURLAttr(a.Name), !delimited); d.any() {
		out = append(out, attrDefect{item: i, name: a.Name, d: d})
	}
	return out
}

// itemScanned runs the item rules on one item whose text scanItems has
// looked at already, and feeds the feed-wide records.
func (l *Linter) itemScanned(it *feed.Item, defects []attrDefect) {
	var v itemView
	repeated := uint32(0)
	line := it.Line
	id := it.ID()
	for i := range it.Attrs {
		a := &it.Attrs[i]
		val := a.Value
		var bit uint32
		switch a.Name {
		case "id":
			bit, v.id = bID, first(v.id, val, v.present&bID)
		case "title":
			bit, v.title = bTitle, first(v.title, val, v.present&bTitle)
		case "description":
			bit, v.description = bDescription, first(v.description, val, v.present&bDescription)
		case "link":
			bit, v.link = bLink, first(v.link, val, v.present&bLink)
			l.checkURL(line, id, a.Name, val)
		case "image_link":
			bit, v.imageLink = bImageLink, first(v.imageLink, val, v.present&bImageLink)
			l.checkURL(line, id, a.Name, val)
			l.checkImage(line, id, a.Name, val)
		case "additional_image_link":
			v.images++
			l.checkURL(line, id, a.Name, val)
			l.checkImage(line, id, a.Name, val)
		case "mobile_link", "lifestyle_image_link", "ads_redirect":
			if val != "" {
				l.checkURL(line, id, a.Name, val)
			}
		case "availability":
			bit, v.availability = bAvailability, first(v.availability, val, v.present&bAvailability)
		case "price":
			bit, v.price = bPrice, first(v.price, val, v.present&bPrice)
		case "sale_price":
			bit, v.salePrice = bSalePrice, first(v.salePrice, val, v.present&bSalePrice)
		case "brand":
			bit, v.brand = bBrand, first(v.brand, val, v.present&bBrand)
		case "gtin":
			bit, v.gtin = bGTIN, first(v.gtin, val, v.present&bGTIN)
		case "mpn":
			bit, v.mpn = bMPN, first(v.mpn, val, v.present&bMPN)
		case "identifier_exists":
			bit, v.identifierExists = bIdentifierExists, first(v.identifierExists, val, v.present&bIdentifierExists)
		case "condition":
			bit, v.condition = bCondition, first(v.condition, val, v.present&bCondition)
		case "color":
			bit, v.color = bColor, first(v.color, val, v.present&bColor)
		case "size":
			bit, v.size = bSize, first(v.size, val, v.present&bSize)
		case "gender":
			bit, v.gender = bGender, first(v.gender, val, v.present&bGender)
		case "age_group":
			bit, v.ageGroup = bAgeGroup, first(v.ageGroup, val, v.present&bAgeGroup)
		case "material":
			bit, v.material = bMaterial, first(v.material, val, v.present&bMaterial)
		case "pattern":
			bit, v.pattern = bPattern, first(v.pattern, val, v.present&bPattern)
		case "item_group_id":
			bit, v.itemGroupID = bItemGroupID, first(v.itemGroupID, val, v.present&bItemGroupID)
		case "google_product_category":
			bit, v.gpc = bGPC, first(v.gpc, val, v.present&bGPC)
		case "product_type":
			if v.productType == "" {
				v.productType = val
			}
		case "availability_date":
			bit, v.availabilityDate = bAvailabilityDate, first(v.availabilityDate, val, v.present&bAvailabilityDate)
		case "expiration_date":
			bit, v.expirationDate = bExpirationDate, first(v.expirationDate, val, v.present&bExpirationDate)
		case "sale_price_effective_date":
			bit, v.saleDate = bSaleDate, first(v.saleDate, val, v.present&bSaleDate)
		case "adult":
			bit, v.adult = bAdult, first(v.adult, val, v.present&bAdult)
		case "is_bundle":
			bit, v.isBundle = bIsBundle, first(v.isBundle, val, v.present&bIsBundle)
		case "size_type":
			bit, v.sizeType = bSizeType, first(v.sizeType, val, v.present&bSizeType)
		case "size_system":
			bit, v.sizeSystem = bSizeSystem, first(v.sizeSystem, val, v.present&bSizeSystem)
		case "shipping":
			for _, s := range a.Sub {
				if s.Name == "price" {
					l.checkPrice(line, id, "shipping.price", s.Value)
				}
			}
		default:
			if !a.Plain && !knownAttrs[a.Name] {
				l.unknownAttr(line, id, a.Name)
			}
		}
		if bit != 0 {
			if v.present&bit != 0 && val != "" && !l.f.delimited {
				repeated |= bit
			}
			v.present |= bit
		}
	}
	for _, d := range defects {
		l.textFindings(line, id, d.name, d.d)
	}
	if repeated != 0 {
		l.repeatedAttrs(line, id, it, repeated)
	}
	l.required(line, id, &v)
	l.formats(line, id, &v)
	l.limits(line, id, &v)
	l.hygiene(line, id, &v)
	if v.itemGroupID != "" {
		v.variants = tree.ItemVariantValues(it)
	}
	for _, sh := range it.Shadowed {
		// White space is folded: markup such as <br> inside the plain form reads
		// as a line break where the g: form has a space.
		if g := it.Get(sh.Name); foldSpace(g) != foldSpace(sh.Value) && l.hit(rConflictingForms) {
			l.add(rConflictingForms, line, id, sh.Name, fmt.Sprintf("<%s> %q and <g:%s> %q differ; the g: value is used", sh.Name, clip(sh.Value), sh.Name, clip(g)))
		}
	}
	l.feedWide(line, id, &v)
}

// foldSpace collapses every run of white space to one space.
func foldSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// first keeps the first non-empty value of an attribute.
func first(cur, val string, seen uint32) string {
	if cur != "" || seen != 0 && val == "" {
		return cur
	}
	return val
}

func (l *Linter) repeatedAttrs(line int, id string, it *feed.Item, bits uint32) {
	names := map[uint32]string{bTitle: "title", bDescription: "description", bLink: "link", bImageLink: "image_link",
		bAvailability: "availability", bPrice: "price", bSalePrice: "sale_price", bBrand: "brand", bGTIN: "gtin", bMPN: "mpn",
		bIdentifierExists: "identifier_exists", bCondition: "condition", bColor: "color", bSize: "size", bGender: "gender",
		bAgeGroup: "age_group", bMaterial: "material", bPattern: "pattern", bItemGroupID: "item_group_id", bID: "id",
		bGPC: "google_product_category", bAvailabilityDate: "availability_date", bExpirationDate: "expiration_date",
		bSaleDate: "sale_price_effective_date", bAdult: "adult", bIsBundle: "is_bundle", bSizeType: "size_type", bSizeSystem: "size_system"}
	for bit := uint32(1); bit != 0 && bit <= bits; bit <<= 1 {
		if bits&bit == 0 || !l.hit(rRepeatedAttribute) {
			continue
		}
		name := names[bit]
		vals := it.All(name)
		l.add(rRepeatedAttribute, line, id, name, fmt.Sprintf("%s is given %d times (%s); only the first is used", name, len(vals), quoteList(vals)))
	}
}

func (l *Linter) required(line int, id string, v *itemView) {
	req := []struct {
		rule ruleID
		name string
		val  string
	}{
		{rMissingID, "id", v.id}, {rMissingTitle, "title", v.title}, {rMissingDescription, "description", v.description},
		{rMissingLink, "link", v.link}, {rMissingImageLink, "image_link", v.imageLink},
		{rMissingAvailability, "availability", v.availability}, {rMissingPrice, "price", v.price},
	}
	for _, r := range req {
		if r.val == "" && l.hit(r.rule) {
			what := "no " + r.name
			if l.presentName(v, r.name) {
				what = "an empty " + r.name
			}
			l.add(r.rule, line, id, r.name, "the item has "+what)
		}
	}
	cond := strings.ToLower(v.condition)
	isNew := cond == "" || cond == "new"
	ie := strings.ToLower(v.identifierExists)
	noIdent := ie == "no" || ie == "false"
	if v.brand == "" && isNew && l.hit(rMissingBrand) {
		l.add(rMissingBrand, line, id, "brand", "the item has no brand")
	}
	if v.gtin == "" && v.mpn == "" && isNew && !noIdent && l.hit(rMissingIdentifier) {
		l.add(rMissingIdentifier, line, id, "gtin", "the item has neither gtin nor mpn, and identifier_exists is not no")
	}
	if v.identifierExists != "" {
		switch ie {
		case "yes", "true", "no", "false":
			if v.identifierExists != ie && l.hit(rEnumSpelling) {
				l.add(rEnumSpelling, line, id, "identifier_exists", fmt.Sprintf("identifier_exists %q: write %s", v.identifierExists, ie))
			}
		default:
			if l.hit(rIdentifierExistsValue) {
				l.addf(rIdentifierExistsValue, line, id, "identifier_exists", "identifier_exists %q: want yes, true, no or false", v.identifierExists)
			}
		}
		if noIdent && (v.gtin != "" || v.mpn != "") && l.hit(rIdentifierExistsConflict) {
			which := "gtin"
			if v.gtin == "" {
				which = "mpn"
			}
			l.add(rIdentifierExistsConflict, line, id, "identifier_exists", fmt.Sprintf("identifier_exists is %s but the item has a %s", v.identifierExists, which))
		}
	}
	if l.on[rMissingApparel] && (v.color == "" || v.size == "" || v.gender == "" || v.ageGroup == "") && l.isApparel(v.gpc, v.productType, v.title) {
		for _, a := range [...]struct{ name, val string }{{"color", v.color}, {"size", v.size}, {"gender", v.gender}, {"age_group", v.ageGroup}} {
			if a.val == "" && l.hit(rMissingApparel) {
				l.add(rMissingApparel, line, id, a.name, "apparel item without "+a.name)
			}
		}
	}
}

func (l *Linter) presentName(v *itemView, name string) bool {
	bits := map[string]uint32{"id": bID, "title": bTitle, "description": bDescription, "link": bLink, "image_link": bImageLink, "availability": bAvailability, "price": bPrice}
	return v.present&bits[name] != 0
}

func (l *Linter) formats(line int, id string, v *itemView) {
	var priceCur, saleCur string
	var priceOK, saleOK bool
	if v.price != "" {
		priceCur, priceOK = l.checkPrice(line, id, "price", v.price)
		v.currency = priceCur
	}
	if v.salePrice != "" {
		saleCur, saleOK = l.checkPrice(line, id, "sale_price", v.salePrice)
	}
	if priceOK && saleOK && priceCur != "" && saleCur != "" {
		if priceCur != saleCur {
			if l.hit(rSalePriceCurrency) {
				l.addf(rSalePriceCurrency, line, id, "sale_price", "sale_price is in %s, price in %s", saleCur, priceCur)
			}
		} else {
			// Both parse: their amounts are compared.
			price, _ := feed.ParsePrice(v.price)
			sale, _ := feed.ParsePrice(v.salePrice)
			if amount(sale) >= amount(price) && l.hit(rSalePriceAbovePrice) {
				l.add(rSalePriceAbovePrice, line, id, "sale_price", fmt.Sprintf("sale_price %s is not below price %s", sale, price))
			}
		}
	}
	if v.availability != "" {
		canon, ok := feed.NormalizeAvailability(v.availability)
		switch {
		case !ok:
			if l.hit(rAvailabilityValue) {
				l.addf(rAvailabilityValue, line, id, "availability", "availability %q: want in_stock, out_of_stock, preorder or backorder", v.availability)
			}
		case canon != v.availability:
			if l.hit(rEnumSpelling) {
				l.addf(rEnumSpelling, line, id, "availability", "availability %q: write %s", v.availability, canon)
			}
		}
		if ok && (canon == feed.Preorder || canon == feed.Backorder) && v.availabilityDate == "" {
			if l.hit(rAvailabilityDateMissing) {
				l.addf(rAvailabilityDateMissing, line, id, "availability_date", "availability %s needs availability_date", canon)
			}
		}
	}
	if v.condition != "" {
		switch c := strings.ToLower(v.condition); c {
		case "new", "refurbished", "used":
			if c != v.condition {
				if l.hit(rEnumSpelling) {
					l.addf(rEnumSpelling, line, id, "condition", "condition %q: write %s", v.condition, c)
				}
			}
		default:
			if l.hit(rConditionValue) {
				l.addf(rConditionValue, line, id, "condition", "condition %q: want new, refurbished or used", v.condition)
			}
		}
	}
	l.enum(line, id, "gender", v.gender, "male", "female", "unisex")
	l.enum(line, id, "age_group", v.ageGroup, "newborn", "infant", "toddler", "kids", "adult")
	l.enum(line, id, "adult", v.adult, "yes", "no", "true", "false")
	l.enum(line, id, "is_bundle", v.isBundle, "yes", "no", "true", "false")
	l.enum(line, id, "size_type", v.sizeType, "regular", "petite", "maternity", "big", "tall", "plus")
	if v.sizeSystem != "" {
		l.enum(line, id, "size_system", strings.ToLower(v.sizeSystem), "au", "br", "cn", "de", "eu", "fr", "it", "jp", "mex", "uk", "us")
	}
	for _, d := range [...]struct{ name, val string }{{"availability_date", v.availabilityDate}, {"expiration_date", v.expirationDate}} {
		if d.val != "" {
			if _, ok := parseISO(d.val); !ok {
				if l.hit(rDateFormat) {
					l.addf(rDateFormat, line, id, d.name, "%s %q is not an ISO 8601 date or date-time", d.name, d.val)
				}
			}
		}
	}
	if v.saleDate != "" {
		if why := checkDateRange(v.saleDate); why != "" {
			if l.hit(rDateRange) {
				l.addf(rDateRange, line, id, "sale_price_effective_date", "sale_price_effective_date %q %s", v.saleDate, why)
			}
		}
	}
	if v.gtin != "" {
		if f := checkGTIN(v.gtin); f != gtinOK && l.hit(f.rule()) {
			l.add(f.rule(), line, id, "gtin", f.message(v.gtin))
		}
	}
}

// enum checks a value from a fixed list (lists the spec marks unverified).
func (l *Linter) enum(line int, id, name, val string, allowed ...string) {
	if val == "" {
		return
	}
	lower := strings.ToLower(val)
	for _, a := range allowed {
		if lower == a {
			if lower != val && name != "size_system" && l.hit(rEnumSpelling) {
				l.add(rEnumSpelling, line, id, name, fmt.Sprintf("%s %q: write %s", name, val, a))
			}
			return
		}
	}
	if l.hit(rEnumValue) {
		l.add(rEnumValue, line, id, name, fmt.Sprintf("%s %q: want one of %s", name, val, strings.Join(allowed, ", ")))
	}
}

// checkPrice checks one price value.
func (l *Linter) checkPrice(line int, id, name, val string) (currency string, ok bool) {
	// CheckPrice, not ParsePrice: the amount string is not needed.
	currency, sign, err := feed.CheckPrice(val)
	if err != nil {
		if l.hit(rPriceFormat) {
			l.addf(rPriceFormat, line, id, name, "%s: %v", name, err)
		}
		return "", false
	}
	if currency == "" {
		if l.hit(rPriceFormat) {
			l.addf(rPriceFormat, line, id, name, "%s %q has no currency: add its ISO 4217 code (%s USD)", name, val, val)
		}
		return "", true
	}
	if name == "price" && sign <= 0 {
		if l.hit(rPriceNotPositive) {
			l.addf(rPriceNotPositive, line, id, name, "price %q is not above zero", val)
		}
	}
	return currency, true
}

func amount(p feed.Price) float64 {
	f, _ := strconv.ParseFloat(p.Amount, 64)
	return f
}

func (l *Linter) checkURL(line int, id, name, val string) {
	if val == "" {
		return
	}
	why := checkURL(val)
	if why == "" {
		return
	}
	// Google's image pages verify ASCII and RFC 3986 for image URLs; for
	// landing pages the spec leaves it unverified, so it is a warning there.
	rule := rURLFormat
	if (strings.HasPrefix(why, "holds a space") || strings.HasPrefix(why, "holds non-ASCII")) && !strings.Contains(name, "image") {
		rule = rURLEncoding
	}
	if l.hit(rule) {
		l.add(rule, line, id, name, fmt.Sprintf("%s %q %s", name, clip(val), why))
	}
}

func (l *Linter) checkImage(line int, id, name, val string) {
	if !l.on[rImageExtension] || val == "" {
		return
	}
	if ext := imageExtension(val); ext != "" && l.hit(rImageExtension) {
		l.add(rImageExtension, line, id, name, fmt.Sprintf("%s ends in .%s, not an image format Google takes", name, ext))
	}
}

func (l *Linter) limits(line int, id string, v *itemView) {
	if n := utf8.RuneCountInString(v.id); n > 50 {
		if l.hit(rIDTooLong) {
			l.addf(rIDTooLong, line, id, "id", "id has %d characters; the limit is 50", n)
		}
	}
	if l.on[rIDCharacters] {
		if v.id != "" && !idChars(v.id) {
			if l.hit(rIDCharacters) {
				l.addf(rIDCharacters, line, id, "id", "id %q holds characters other than ASCII letters, digits, _ and -", v.id)
			}
		}
		if v.itemGroupID != "" && !idChars(v.itemGroupID) {
			if l.hit(rIDCharacters) {
				l.addf(rIDCharacters, line, id, "item_group_id", "item_group_id %q holds characters other than ASCII letters, digits, _ and -", v.itemGroupID)
			}
		}
	}
	if n := utf8.RuneCountInString(v.itemGroupID); n > 50 {
		if l.hit(rItemGroupIDTooLong) {
			l.addf(rItemGroupIDTooLong, line, id, "item_group_id", "item_group_id has %d characters; the limit is 50", n)
		}
	}
	if len(v.title) > 150 {
		if n := utf8.RuneCountInString(v.title); n > 150 {
			if l.hit(rTitleTooLong) {
				l.addf(rTitleTooLong, line, id, "title", "title has %d characters; the limit is 150", n)
			}
		}
	}
	if len(v.description) > 5000 {
		if n := utf8.RuneCountInString(v.description); n > 5000 {
			if l.hit(rDescriptionTooLong) {
				l.addf(rDescriptionTooLong, line, id, "description", "description has %d characters; the limit is 5000", n)
			}
		}
	}
	if v.images > 10 {
		if l.hit(rTooManyImages) {
			l.addf(rTooManyImages, line, id, "additional_image_link", "%d additional_image_link values; the limit is 10", v.images)
		}
	}
	if v.color != "" {
		// The colours, split on / without a slice: one per item adds up.
		parts := strings.Count(v.color, "/") + 1
		if parts > 3 {
			if l.hit(rColorTooMany) {
				l.addf(rColorTooMany, line, id, "color", "color %q names %d colours; the limit is 3", v.color, parts)
			}
		}
		if n := utf8.RuneCountInString(v.color); n > 100 {
			if l.hit(rColorTooLong) {
				l.addf(rColorTooLong, line, id, "color", "color has %d characters; the limit is 100", n)
			}
		} else if len(v.color) > 40 {
			for p := range strings.SplitSeq(v.color, "/") {
				if n := utf8.RuneCountInString(strings.TrimSpace(p)); n > 40 {
					if l.hit(rColorTooLong) {
						l.addf(rColorTooLong, line, id, "color", "colour %q has %d characters; the limit is 40", strings.TrimSpace(p), n)
					}
					break
				}
			}
		}
		var hex []string
		for p := range strings.SplitSeq(v.color, "/") {
			if p = strings.TrimSpace(p); isHexColor(p) {
				hex = append(hex, p)
			}
		}
		if len(hex) > 0 {
			if l.hit(rHexColor) {
				l.addf(rHexColor, line, id, "color", "color %q holds hex codes (%s), not colour names", v.color, strings.Join(hex, ", "))
			}
		}
		if strings.Contains(v.color, ",") {
			if l.hit(rPackedValue) {
				l.addf(rPackedValue, line, id, "color", "color %q is a list: one colour per item (up to 3 joined by /)", v.color)
			}
		}
	}
	if v.size != "" && (strings.Contains(v.size, ",") || strings.Count(v.size, "/") >= 2) {
		if l.hit(rPackedValue) {
			l.addf(rPackedValue, line, id, "size", "size %q is a list: send one item per size, joined by item_group_id", clip(v.size))
		}
	}
}

func (l *Linter) hygiene(line int, id string, v *itemView) {
	if !l.on[rPlaceholderValue] {
		return
	}
	for _, a := range [...]struct{ name, val string }{{"title", v.title}, {"description", v.description}, {"brand", v.brand}, {"link", v.link}, {"image_link", v.imageLink}, {"color", v.color}, {"size", v.size}, {"gtin", v.gtin}, {"mpn", v.mpn}} {
		if a.val != "" && isPlaceholder(a.val) && l.hit(rPlaceholderValue) {
			l.add(rPlaceholderValue, line, id, a.name, fmt.Sprintf("%s %q is a placeholder", a.name, a.val))
		}
	}
	if v.description != "" && v.description == v.title && l.hit(rPlaceholderValue) {
		l.add(rPlaceholderValue, line, id, "description", "description repeats the title")
	}
}

// textFindings reports what scanText found in one attribute value.
func (l *Linter) textFindings(line int, id, name string, d textDefects) {
	if d.control != "" {
		if l.hit(rControlCharacters) {
			l.addf(rControlCharacters, line, id, name, "%s holds %s", name, d.control)
		}
	}
	if d.entity != "" {
		if l.hit(rDoubleEscaped) {
			l.addf(rDoubleEscaped, line, id, name, "%s shows %s literally: it was escaped twice", name, d.entity)
		}
	}
	if d.tag == "" {
		return
	}
	switch {
	case name != "description":
		if l.hit(rHTMLInText) {
			l.addf(rHTMLInText, line, id, name, "%s holds HTML (%s)", name, d.tag)
		}
	case d.badTag != "":
		if l.hit(rHTMLInText) {
			l.addf(rHTMLInText, line, id, name, "description holds unsupported HTML %s", d.badTag)
		}
	default:
		if l.hit(rHTMLInDescription) {
			l.addf(rHTMLInDescription, line, id, name, "description holds HTML (%s)", d.tag)
		}
	}
}

func (l *Linter) unknownAttr(line int, id, name string) {
	f := l.f
	if !l.on[rUnknownAttribute] || name == "" {
		return
	}
	u := f.unknown[name]
	if u == nil {
		if len(f.unknown) >= maxUnknown {
			return
		}
		u = &unknownRec{line: line, id: strings.Clone(id)}
		name = strings.Clone(name)
		f.unknown[name] = u
		f.unknownN = append(f.unknownN, name)
	}
	u.items++
}

// clip shortens a long value for a message.
func clip(s string) string {
	if len(s) <= 80 {
		return s
	}
	cut := 77
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func quote(s string) string { return strconv.Quote(clip(s)) }

func quoteList(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = quote(v)
	}
	return strings.Join(q, ", ")
}

func itoa(n int) string { return strconv.Itoa(n) }
