// Package push sends product operations to a catalog: a JSONL file (the
// default and the demo), User.com's API, or a recorder for plan. A sink gets
// neutral operations (an id and payload bytes) and reports one outcome per
// operation; it knows nothing of feeds, policies or state.
//
// Operations enter through Sink.Apply on a channel; outcomes leave through the
// ack callback, only after the catalog has durably accepted each one.
//
// UserCom is the User.com sink. In import mode (the default) a run's upserts
// are written to CSV files, split at MaxFileSize, sent through the published
// bulk import and acknowledged once its status says finished; rows it lists
// as failed are *RejectedError, and rows it cannot identify stay
// unacknowledged (*UnidentifiedError). In REST mode each product is looked up
// before it is created, updated with PUT and deleted with DELETE, the last two
// being assumed calls that User.com does not publish.
//
// Every User.com request goes through a chain of Caller decorators: Retrying
// (429, 5xx, timeouts, dropped connections; capped exponential backoff with
// full jitter; Retry-After), CircuitBreaker (pauses every worker after
// consecutive failures) and RateLimited (one token bucket for all workers),
// around the plain HTTP client. A 401 or 403 stops a run (*AuthError); a 400
// for one product is that product's *RejectedError. Only a 2xx with the
// API's JSON acknowledges: a 2xx with another body (a captive portal's page)
// is retried as a 5xx is (*BadAnswerError), and a 3xx is never followed and
// stops the run (*RedirectError), since a followed redirect turns a POST into
// a GET that may answer 200. The API token is sent in the Authorization
// header only, never logged and never part of an error.
//
// Package pushtest is the fake User.com the tests run against.
//
// Import rule: push imports only internal/redact (to keep the token out of
// every error). It must not import feed, tree, store, config, engine,
// daemon, publish or lint: a sink knows nothing of feeds, policies or state.
package push
