// Package realfeeds locates the real shops' feeds that some tests read. They
// live outside the repository (their licences forbid committing them), in
// the folder $FEEDSYNC_REALFEEDS names; the Makefile passes the variable on
// to `make test`. Without it the tests that need the feeds skip with a
// message naming the variable.
//
// Import rule: realfeeds imports no other feedsync package, and only tests
// import it; non-test code must not.
package realfeeds
