// Package push sends product operations to a catalog: a JSONL file (the
// default and the demo), User.com's API, or a recorder for plan. A sink gets
// neutral operations (an id and payload bytes) and reports one outcome per
// operation; it knows nothing of feeds, policies or state.
//
// Operations enter through Sink.Apply on a channel; outcomes leave through the
// ack callback, only after the catalog has durably accepted each one.
package push
