package tree

import (
	"fmt"
	"strings"

	"github.com/feedsync/feedsync/feed"
)

// Defects a product is sent with.
//
// A sync does not refuse a product that lint calls an error in the few
// cases where the catalog takes it all the same — a price without a
// currency or with none at all, an image URL that is not absolute — but it
// says so: each becomes a problem carrying lint's rule code (feed.Problem's
// Code), which the sync counts as a warning and logs. The codes are lint's:
// lint's registry test checks that each of these is one of its rules.

// The lint rule codes of the defects a product is sent with.
const (
	CodePriceFormat  = "price-format"
	CodeMissingPrice = "missing-price"
	CodeURLFormat    = "url-format"
)

// MaxWarnings bounds the warnings a Builder keeps (WarningCount counts them
// all): a feed with no currency anywhere must not hold a problem per item.
const MaxWarnings = 1000

// Warnings are the defects of the products added so far that they are sent
// with, each carrying its lint rule code, up to MaxWarnings; apart from
// Problems, which holds what was skipped or changed.
func (b *Builder) Warnings() []feed.Problem { return b.warned }

// WarningCount is the number of warnings, beyond MaxWarnings too.
func (b *Builder) WarningCount() int { return b.nWarned }

// WarningCodes are the rule codes a Builder's warnings carry.
var WarningCodes = []string{CodePriceFormat, CodeMissingPrice, CodeURLFormat}

type warning struct{ code, msg string }

// warnings appends the defects of an item that the product is sent with;
// rec is the item's record, whose price record has parsed already (the
// price is parsed again only to word a malformed one). It reads only the
// mapping: Prepare runs it concurrently.
func (b *Builder) warnings(it *feed.Item, rec *record, out []warning) []warning {
	m := b.m
	if m.priceAttr != "" {
		raw := strings.TrimSpace(it.Get(m.priceAttr))
		if raw == "" {
			out = append(out, warning{CodeMissingPrice, fmt.Sprintf("no %s; the product is sent all the same", m.priceAttr)})
		} else if rec.price == "" {
			msg := fmt.Sprintf("%s %q has no amount", m.priceAttr, clipID(raw))
			if _, err := feed.ParsePrice(raw); err != nil {
				msg = err.Error()
			}
			out = append(out, warning{CodePriceFormat, msg + "; the product is sent all the same"})
		} else if rec.currency == "" {
			out = append(out, warning{CodePriceFormat, fmt.Sprintf("%s %q has no currency (write 15.00 USD); the product is sent all the same", m.priceAttr, clipID(raw))})
		}
	}
	if m.imageAttr != "" {
		if u := strings.TrimSpace(it.Get(m.imageAttr)); u != "" && !absoluteHTTP(u) {
			out = append(out, warning{CodeURLFormat, fmt.Sprintf("%s %q is not an absolute http(s) URL; the product is sent all the same", m.imageAttr, clipID(u))})
		}
	}
	return out
}

// absoluteHTTP reports an http:// or https:// URL with a host.
func absoluteHTTP(u string) bool {
	rest, ok := strings.CutPrefix(u, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(u, "http://"); !ok {
			return false
		}
	}
	return rest != "" && rest[0] != '/'
}
