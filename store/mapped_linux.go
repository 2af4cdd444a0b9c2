package store

import (
	"syscall"

	bolt "go.etcd.io/bbolt"
)

// releaseMapped drops the state file's pages from the process's mapping of
// it; they stay in the page cache, and a later read maps them back (a minor
// fault). bbolt reads the file through a shared read-only mapping, so every
// page a scan or a lookup touched counted in the process's resident size
// until exit: the 1M feed's runs that read every record (a parse, a 1%
// change) peaked at 526–794 MB, 220–500 MB of it the state file's pages.
//
// tx must be open: a read transaction keeps bbolt from remapping the file
// (a remap waits for every reader), so the range is bbolt's mapping for the
// whole call and never memory reused for something else.
func releaseMapped(db *bolt.DB, tx *bolt.Tx) {
	data, size := db.Info().Data, tx.Size()
	if data == 0 || size <= 0 {
		return
	}
	// MADV_DONTNEED on a shared file mapping only unmaps: nothing is lost.
	// An error (none is expected) leaves the pages mapped, as before.
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, data, uintptr(size), syscall.MADV_DONTNEED)
}
