// Package orders reads a shop's orders export and shapes each order as a
// User.com deal: the order id becomes the deal's custom_id, the customer's
// User ID its user_custom_id (by the rule the shop chose: the SHA-256 of
// the e-mail, the e-mail, or the shop's customer id), and the order's
// status its stage in the account's pipeline (by a preset for WooCommerce,
// Magento or Shopify, overridden by the shop's own mapping).
//
// What it owns:
//
//   - Reading exports (Read): CSV (comma or semicolon) and TSV with one row
//     per line item — rows with the same order id are one order, and each
//     order-level field comes from the first of its rows that has it, as
//     Shopify, WooCommerce and Magento write them — and JSONL with one order
//     per line and its line items in an array. Columns name the export's
//     columns; Config.Check checks a configuration.
//   - Numbers written the shop's way: "1 234,50", "1,234.50", "12.5"; the
//     rules are in number.go (a lone comma before three digits is
//     ambiguous and refused unless Config.Decimal says which it is).
//   - Statuses to stages (Stages.Of, Presets): matched trimmed and
//     case-insensitively, never guessed; an order with an unknown status is
//     skipped with a problem naming its row, its status and the known ones.
//   - User IDs (UserID, MaskEmail): the one place the e-mail → User ID rule
//     lives, shared with the frontend's tracking by `feedsync userid`.
//   - The deal as sent (Deal.Payload): canonical JSON, keys sorted, exact
//     numbers, so that an unchanged order hashes the same on every run.
//     No raw e-mail leaves the package unless the shop asks for it.
//
// What it does not: fetch exports, map line items' product ids to the
// catalog's (the caller passes mapID), keep state, hash, diff or send
// deals (the engine does, as it does for products).
//
// Data flow: an io.Reader enters Read, which returns every order as a Deal
// (in first-row order) with the problems of what it skipped; each Deal
// leaves as bytes through Deal.Payload. Read holds the whole export's
// orders (grouping needs every row) but not the rows' text: about 300 bytes
// per order, 65 per line item, and some 350 more per order with attributes
// (its map). 100k orders of three lines (a 42 MB CSV) read in well under a
// second and keep 50 MB, 85 MB with two attributes each; the heap peaks
// below 150 MB (BenchmarkRead).
//
// Import rule: orders imports feed (problems, attribute names) and tree
// (canonical JSON) only. It must not import store, push, config, engine,
// daemon, publish, lint or cmd/feedsync, which sit above it.
package orders
