// Command feedsync keeps a catalog (User.com, or a JSONL file) equal to a
// shop's Google Merchant Center style product feed, sending only what changed.
// See README.md for the commands; each lives in its own file here.
//
// It is a thin layer: it parses flags (cobra), loads the configuration
// (package config), opens the state (store) and the sink (push), hands the
// work to engine (sync, resync, plan), daemon (run), publish (transform) or
// lint (lint), turns SIGTERM, SIGINT and SIGHUP into the daemon's stop and
// reload, and maps errors to exit codes: 0 success, 1 the work failed, 2
// usage or configuration error.
//
// Import rule: it is the top of the import graph. It may import every
// feedsync package; no package imports it.
package main
