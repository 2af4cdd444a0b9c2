package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A long-lived process — the daemon — must not keep the state file to
// itself: an operator's `feedsync state` or `plan`, or a sync by hand,
// opens the same file. So the daemon holds the file only while a run uses
// it (Pool), and holds a lock of its own for its whole life (DaemonLock),
// which says to the others that the file is busy only for a run's time:
// they wait their turn instead of failing.

// Pool opens the state file for each use and closes it once the last user
// is done. Uses may overlap (the daemon runs feeds concurrently): they
// share one open DB.
type Pool struct {
	path string
	opts Options
	// Waiting is told, once per wait, that another process holds the file.
	Waiting func(err error)

	mu sync.Mutex // held while opening, so that users wait for one open
	db *DB
	n  int
}

// NewPool returns a pool of the state file at path; opts.Timeout is how long
// one attempt to lock it waits (default a second).
func NewPool(path string, opts Options) *Pool {
	if opts.Timeout <= 0 {
		opts.Timeout = time.Second
	}
	return &Pool{path: path, opts: opts}
}

// Use runs fn with the open state file. When another process holds the
// file, Use waits for it (telling Waiting once) until ctx ends.
func (p *Pool) Use(ctx context.Context, fn func(*DB) error) error {
	db, err := p.acquire(ctx)
	if err != nil {
		return err
	}
	defer p.release()
	return fn(db)
}

func (p *Pool) acquire(ctx context.Context) (*DB, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.db != nil {
		p.n++
		return p.db, nil
	}
	told := false
	for {
		db, err := Open(p.path, p.opts)
		if err == nil {
			p.db, p.n = db, 1
			return db, nil
		}
		if !errors.Is(err, ErrLocked) {
			return nil, err
		}
		if !told && p.Waiting != nil {
			p.Waiting(err)
			told = true
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (gave up waiting: %v)", err, ctx.Err())
		default:
		}
	}
}

func (p *Pool) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n--; p.n > 0 {
		return
	}
	if err := p.db.Close(); err != nil && p.Waiting != nil {
		p.Waiting(fmt.Errorf("close state file: %w", err))
	}
	p.db = nil
}

// DaemonLock is held by a daemon for its whole life, beside its state file
// (path + ".daemon"): a second daemon on the same file is refused, and
// other commands that find the state file busy know that a daemon's run
// holds it, for a while only.
type DaemonLock struct{ f *os.File }

// ErrDaemonRunning means another daemon holds the state file's daemon lock.
var ErrDaemonRunning = errors.New("a feedsync daemon already runs on this state file")

// LockDaemon takes the daemon lock of the state file at path, or returns an
// error wrapping ErrLocked and ErrDaemonRunning, naming the holder's pid.
func LockDaemon(path string) (*DaemonLock, error) {
	f, err := os.OpenFile(path+".daemon", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("daemon lock: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		pid := ""
		if p := DaemonPID(path); p > 0 {
			pid = fmt.Sprintf(" (pid %d)", p)
		}
		return nil, fmt.Errorf("state file %s is %w: %w%s", path, ErrLocked, ErrDaemonRunning, pid)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return &DaemonLock{f: f}, nil
}

// Release gives the lock up.
func (l *DaemonLock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = l.f.Truncate(0)
	err := l.f.Close() // closing drops the lock
	l.f = nil
	return err
}

// DaemonPID is the pid of the daemon that holds the state file's daemon
// lock now, or 0 when none does.
func DaemonPID(path string) int {
	f, err := os.OpenFile(path+".daemon", os.O_RDWR, 0)
	if err != nil {
		return 0
	}
	defer f.Close()
	if lockFile(f) == nil {
		unlockFile(f)
		return 0 // nobody holds it
	}
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b[:n])))
	if err != nil || pid <= 0 {
		return -1 // held, by a daemon whose pid is not written yet
	}
	return pid
}
