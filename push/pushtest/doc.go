// Package pushtest is a fake User.com catalog API for tests: an httptest
// server that answers the calls feedsync makes the way the real API does (as
// far as it is known: what User.com publishes and what feedsync assumes, as
// the README lists), keeps the catalog in memory for assertions, records
// every request with its time, and injects faults by script or by seeded
// chance.
//
// What it imitates: every path under /api/public/ must end with a slash (404
// without); literal "." and ".." segments are resolved before routing, as
// the servers and proxies in front of an API do, while escaped ones ("%2E")
// are ids like any other; "Authorization: Token <token>" is checked (401);
// every 2xx but DELETE's 204 carries a JSON object; POST products/
// refuses a custom_id that exists (400); products-by-id GET details, PUT and
// DELETE answer 404 for an unknown id; POST products/import/ parses the
// multipart CSV with its column_mapping and separator, and GET
// import/status/ reports the counts and at most 50 rows_with_errors; POST
// attributes/ defines typed attributes and refuses a second definition (400);
// POST deals/update_or_create/ merges a deal and refuses one whose
// user_custom_id names no user (400 naming it, or 404 with
// Options.MissingUserStatus); POST users/update_or_create/ creates or
// updates a user by custom_id.
//
// Import rule: pushtest imports no feedsync package, so that it imitates
// the wire protocol rather than push's code. Only tests import it (push's,
// cmd/feedsync's); non-test code must not.
package pushtest
