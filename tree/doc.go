// Package tree turns a feed's items into the products a catalog receives,
// following the feed's policy: "variant" sends one product per item, "parent"
// collapses each item_group_id group into one product with derived fields.
//
// What it does:
//
//   - Groups items by item_group_id across the whole feed; group ids and item
//     ids compare case-insensitively, as Google's do. Items without a group
//     are standalone products under both policies. A duplicate id keeps the
//     first item; an item without the product id source (Options.ProductID),
//     or with an id, product id or item_group_id longer than MaxIDBytes, is
//     skipped; all are reported with their lines (Builder.Problems).
//   - Policy variant: one product per item, custom_id from the product id
//     source, item_group_id as an attribute; brand, description, category
//     and image a variant lacks come from the first variant in representative
//     order (availability in_stock, preorder, backorder, out_of_stock; then id)
//     that has them.
//   - Policy parent: one product per group, custom_id = item_group_id, with a
//     representative (the lowest id among the best-available variants), a name
//     from the titles' common prefix, price / price_max / sale_price from the
//     best-available variants in the representative's currency, sale prices
//     only while sale_price_effective_date is in force at Options.Now,
//     any-in-stock availability, the distinct colors, sizes, materials and
//     patterns in natural order, variant_count and in_stock_count.
//   - Every derived value is deterministic: the same items in any order give
//     byte-identical payloads (Product.JSON).
//   - The payload and its mapping live in one place (mapping.go): catalog
//     field ← feed attribute, DefaultFields overridden by Options.Fields.
//     Strings are cut to MaxStringLen runes (Product.Truncated says which),
//     prices are exact decimals (json.Number).
//   - Builder.Explain tells, for one product, the items it came from and why
//     each field has its value.
//
// What it does not: fetch or parse feeds (package feed), lint single items,
// keep state, hash payloads or talk to a catalog.
//
// Data flow: items enter through Builder.Add; Builder.Problems,
// Builder.Explain, Builder.HasProduct and Builder.ProductIDs (the custom_ids
// Finish will emit, known before it runs) may be called once every item was
// added; products leave through Builder.Finish, in feed order (a parent where
// its group first appears), each with its Input — a hash of what it is made
// from (input.go) — and Builder.FinishKnown skips, unshaped, the products a
// caller knows by their Input. Memory: the Builder keeps a compact, pointer-free
// record per group and per grouped item plus a hash per id, and a 128-bit
// hash per custom_id of a standalone item or variant; each item's shaped fields
// go to a spill that moves to an unlinked temporary file (Options.SpillDir)
// past a few megabytes, so memory does not grow with the feed's bytes.
// Close releases that file.
//
// Import rule: tree imports feed only. It must not import store, push,
// config, engine, daemon, publish, lint or cmd/feedsync, which all sit above
// it (config, engine, publish, lint and daemon import tree).
package tree
