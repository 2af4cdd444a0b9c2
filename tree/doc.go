// Package tree turns a feed's items into the products a catalog receives,
// following the feed's policy: "variant" sends one product per item, "parent"
// collapses each item_group_id group into one product with derived fields
// (price range, any-in-stock availability, the set of colours and sizes).
// Every derived value is deterministic: the same items in any order give
// byte-identical payloads.
//
// Items enter through Builder.Add; products leave through Builder.Finish as
// Product values whose Payload is the flat JSON object User.com accepts. The
// package knows nothing of state, hashes or sinks.
package tree
