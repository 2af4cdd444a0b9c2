package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"
)

// ErrDamaged is wrapped by the errors of a state file that cannot be read as
// a bbolt file: it is truncated, both its meta pages are overwritten, or
// reading it made bbolt panic or the file's memory map fault (a data page
// overwritten, a file truncated while open). The error reads
//
//	state file PATH is damaged (WHAT): restore it from a backup, or move it
//	aside to start afresh (every product is then sent once more)
//
// Open reports it for what it can see before bbolt maps the file (the meta
// pages, the file's length, the freelist page); any call may report it
// later. Once a DB has reported it, every later call on that DB fails at once
// with the same error: the transaction that failed may have left bbolt's
// locks held. feedsync exits 2 on it: the file needs a person, and `state
// --reset` cannot help, since forgetting a feed means reading its pages.
var ErrDamaged = errors.New("damaged")

func damaged(path, what string) error {
	return fmt.Errorf("state file %s is %w (%s): restore it from a backup, or move it aside to start afresh (every product is then sent once more)", path, ErrDamaged, what)
}

// bbolt's on-disk layout (go.etcd.io/bbolt v1.5.0, internal/common/page.go
// and meta.go). Every page starts with a 16-byte header: id uint64, flags
// uint16, count uint16, overflow uint32. Pages 0 and 1 each hold a meta after
// it, in the machine's byte order: magic, version, pageSize, flags uint32;
// root bucket (root pgid, sequence) 2×uint64; freelist pgid, pgid (the high
// water mark: pages in use), txid, checksum uint64. The checksum is FNV-64a
// over the meta's bytes before it. A commit writes the meta page txid%2 last,
// so the valid meta with the higher txid is the file's state.
const (
	pageHeaderSize = 16
	metaSize       = 64
	metaMagic      = 0xED0CDAED
	metaVersion    = 2
	noFreelist     = ^uint64(0)

	freelistPageFlag = 0x10

	offMagic    = 0
	offVersion  = 4
	offPageSize = 8
	offRoot     = 16
	offFreelist = 32
	offPgid     = 40
	offTxid     = 48
	offChecksum = 56
)

type fileMeta struct {
	pageSize                   uint32
	root, freelist, pgid, txid uint64
}

// parseMeta reads the meta of a page whose first bytes are b; the error says
// what is wrong with it.
func parseMeta(b []byte) (fileMeta, error) {
	if len(b) < pageHeaderSize+metaSize {
		return fileMeta{}, errors.New("is missing")
	}
	m := b[pageHeaderSize : pageHeaderSize+metaSize]
	ne := binary.NativeEndian
	if ne.Uint32(m[offMagic:]) != metaMagic {
		return fileMeta{}, errors.New("has no bbolt magic number")
	}
	if v := ne.Uint32(m[offVersion:]); v != metaVersion {
		return fileMeta{}, fmt.Errorf("has bbolt version %d, not %d", v, metaVersion)
	}
	h := fnv.New64a()
	h.Write(m[:offChecksum])
	if h.Sum64() != ne.Uint64(m[offChecksum:]) {
		return fileMeta{}, errors.New("fails its checksum")
	}
	fm := fileMeta{
		pageSize: ne.Uint32(m[offPageSize:]),
		root:     ne.Uint64(m[offRoot:]),
		freelist: ne.Uint64(m[offFreelist:]),
		pgid:     ne.Uint64(m[offPgid:]),
		txid:     ne.Uint64(m[offTxid:]),
	}
	switch {
	case fm.pageSize < pageHeaderSize+metaSize:
		return fileMeta{}, fmt.Errorf("has a page size of %d bytes", fm.pageSize)
	case fm.pgid < 2 || fm.root >= fm.pgid || (fm.freelist != noFreelist && fm.freelist >= fm.pgid):
		return fileMeta{}, errors.New("points past its own end of the data")
	}
	return fm, nil
}

func readMeta(f *os.File, off int64) (fileMeta, error) {
	buf := make([]byte, pageHeaderSize+metaSize)
	if _, err := f.ReadAt(buf, off); err != nil {
		if errors.Is(err, io.EOF) {
			return fileMeta{}, errors.New("is missing")
		}
		return fileMeta{}, fmt.Errorf("cannot be read: %w", err)
	}
	return parseMeta(buf)
}

// checkFile refuses, with ErrDamaged, a state file that bbolt would fault or
// panic on as soon as it maps it: one with no valid meta page, shorter than
// its meta says (mapped pages past the end of a file fault with SIGBUS, which
// no recover catches unless the goroutine asked for it), or with a bad
// freelist page. It chooses the meta the way bbolt does. A missing or empty
// file is fine: bbolt creates it.
//
// It reads without the file lock: a process committing meanwhile only ever
// grows the file and writes a meta after its pages, so reading the metas
// before the length cannot see a meta that the length contradicts, and at
// most one meta page is being written at any time.
func checkFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return nil // bbolt creates it, or says why it cannot open it
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || fi.Size() == 0 {
		return nil
	}
	m0, err0 := readMeta(f, 0)
	var m1 fileMeta
	var err1 error
	if err0 == nil {
		m1, err1 = readMeta(f, int64(m0.pageSize))
	} else {
		// Without meta 0 the page size is unknown: look where bbolt looks,
		// and report what is at the usual place if nothing is found.
		err1 = errors.New("is missing")
		for i := 0; i <= 14; i++ {
			off := int64(1024) << i
			m, err := readMeta(f, off)
			if err == nil && int64(m.pageSize) == off {
				m1, err1 = m, nil
				break
			}
			if off == int64(os.Getpagesize()) {
				err1 = err
			}
		}
	}
	var m fileMeta
	switch {
	case err0 != nil && err1 != nil:
		return damaged(path, fmt.Sprintf("neither meta page is valid: meta page 0 %v, meta page 1 %v", err0, err1))
	case err0 != nil:
		m = m1
	case err1 != nil || m0.txid >= m1.txid:
		m = m0
	default:
		m = m1
	}
	fi, err := f.Stat()
	if err != nil {
		return nil
	}
	if need := m.pgid * uint64(m.pageSize); uint64(fi.Size()) < need {
		return damaged(path, fmt.Sprintf("truncated: %d bytes, where its last transaction wrote %d", fi.Size(), need))
	}
	if what := checkFreelist(f, m); what != "" {
		return damaged(path, what)
	}
	return nil
}

// checkFreelist checks the page that bbolt reads as it opens a file besides
// the metas, where a panic would leave the file mapped and locked (Open): the
// freelist, a page header (flags 0x10; count, or 0xFFFF and the count in the
// first element; overflow pages) and as many page ids.
func checkFreelist(f *os.File, m fileMeta) string {
	if m.freelist == noFreelist {
		return ""
	}
	ne := binary.NativeEndian
	at := int64(m.freelist) * int64(m.pageSize)
	hdr := make([]byte, pageHeaderSize+8)
	if _, err := f.ReadAt(hdr, at); err != nil {
		return fmt.Sprintf("its freelist page %d cannot be read: %v", m.freelist, err)
	}
	if flags := ne.Uint16(hdr[8:]); flags != freelistPageFlag {
		return fmt.Sprintf("its freelist page %d has page flags %#x", m.freelist, flags)
	}
	overflow := uint64(ne.Uint32(hdr[12:]))
	skip, count := uint64(0), uint64(ne.Uint16(hdr[10:]))
	if count == 0xFFFF {
		skip, count = 1, ne.Uint64(hdr[pageHeaderSize:])
	}
	room := ((overflow+1)*uint64(m.pageSize) - pageHeaderSize) / 8 // ids the pages hold
	if m.freelist+overflow >= m.pgid || count > room-skip {
		return fmt.Sprintf("its freelist page %d runs past the end of the data", m.freelist)
	}
	buf := make([]byte, count*8)
	if _, err := f.ReadAt(buf, at+pageHeaderSize+int64(skip)*8); err != nil {
		return fmt.Sprintf("its freelist page %d cannot be read: %v", m.freelist, err)
	}
	ids := make([]uint64, count)
	for i := range ids {
		ids[i] = ne.Uint64(buf[i*8:])
	}
	slices.Sort(ids)
	for i, id := range ids {
		if id < 2 || id >= m.pgid || (i > 0 && ids[i-1] == id) {
			return fmt.Sprintf("its freelist page %d lists page %d wrongly", m.freelist, id)
		}
	}
	return ""
}

// failed is the error that broke db, or nil.
func (db *DB) failed() error {
	if p := db.broken.Load(); p != nil {
		return *p
	}
	return nil
}

// breaks records err as what broke db, unless something did already, and
// returns what did.
func (db *DB) breaks(err error) error {
	db.broken.CompareAndSwap(nil, &err)
	return *db.broken.Load()
}

// guard turns a panic of the function that defers it into an error in
// *errp: a panic raised by bbolt, or a memory fault on the file's map (see
// below), becomes an error wrapping ErrDamaged that names the file and the
// panic, and breaks db, so that every later call fails at once with the same
// error (failed) instead of waiting on a lock the panicking transaction
// held. Any other panic is a bug of the code the transaction ran (a
// callback of Each or Missing, say), not damage: it becomes an error naming
// the panic with its stack, and db stays usable.
//
// A memory fault is a panic only on a goroutine that asked for it
// (debug.SetPanicOnFault), else it kills the process: guard cannot switch
// that on, since it runs last. So every function that uses db.bolt starts
// like this (or goes through view, update or guarded, which do):
//
//	if err := db.failed(); err != nil {
//		return err
//	}
//	defer db.guard(&err)
//	defer restoreFaults(faultsPanic())
//
// err being the function's named error result. The second defer switches
// faults to panics at once (its argument is evaluated there) and restores
// the goroutine's setting on the way out, before guard recovers.
func (db *DB) guard(errp *error) {
	r := recover()
	if r == nil {
		return
	}
	if what, ok := damagePanic(r); ok {
		*errp = db.breaks(damaged(db.path, what))
		return
	}
	*errp = fmt.Errorf("state file %s: panic (a bug in feedsync, not damage to the file): %v\n%s", db.path, r, debug.Stack())
}

// guarded runs fn, which uses db.bolt, as guard says every such function
// must: failing at once when db is broken, with memory faults as panics and
// panics as errors.
func (db *DB) guarded(fn func() error) (err error) {
	if err := db.failed(); err != nil {
		return err
	}
	defer db.guard(&err)
	defer restoreFaults(faultsPanic())
	return fn()
}

// faultsPanic makes a memory fault on this goroutine a panic rather than the
// end of the process, and returns the setting it replaced, for
// restoreFaults.
func faultsPanic() bool { return debug.SetPanicOnFault(true) }

func restoreFaults(old bool) { debug.SetPanicOnFault(old) }

// damagePanic says whether a recovered panic comes from the state file, and
// what it says. Called by guard only: it looks at the panicking stack.
func damagePanic(r any) (string, bool) {
	// A fault at an address far from nil can only be the file's map: nothing
	// else in feedsync touches memory Go did not allocate.
	if f, ok := r.(interface{ Addr() uintptr }); ok && f.Addr() >= 1<<16 {
		return fmt.Sprintf("a memory fault reading it at %#x: it was changed or truncated while open, or the disk failed", f.Addr()), true
	}
	if strings.HasPrefix(panicOrigin(), "go.etcd.io/bbolt") {
		return fmt.Sprintf("bbolt: %v", r), true
	}
	return "", false
}

// panicOrigin is the function that raised the panic being recovered: the
// first frame below the innermost runtime.gopanic that is not the runtime's
// (runtime.panicIndex, runtime.sigpanic and the like raise for the code
// that called them).
func panicOrigin() string {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(3, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	inPanic := false
	for {
		fr, more := frames.Next()
		switch {
		case fr.Function == "runtime.gopanic":
			inPanic = true
		case inPanic && !strings.HasPrefix(fr.Function, "runtime."):
			return fr.Function
		}
		if !more {
			return ""
		}
	}
}

// closeWait bounds how long closing a broken DB waits for bbolt's locks.
const closeWait = time.Second

// within runs fn, but once db is broken waits for it only closeWait: a
// transaction that panicked may have left a lock held that fn needs. It
// reports whether fn finished.
func (db *DB) within(fn func()) bool {
	if db.failed() == nil {
		fn()
		return true
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { _ = recover() }()
		fn()
	}()
	select {
	case <-done:
		return true
	case <-time.After(closeWait):
		return false
	}
}
