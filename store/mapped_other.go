//go:build !linux

package store

import bolt "go.etcd.io/bbolt"

// releaseMapped drops the state file's pages from the process's mapping on
// Linux (see mapped_linux.go); elsewhere the system's own accounting stands.
func releaseMapped(*bolt.DB, *bolt.Tx) {}
