package feedsync

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/feedsync/feedsync/feed"
	"github.com/feedsync/feedsync/tree"
)

// WriteFileAtomic writes a file through write into a temporary file next to
// path, syncs it and renames it over path: a reader sees the old file or the
// new one, never half of one. When write fails nothing changes at path.
func WriteFileAtomic(path string, perm os.FileMode, write func(io.Writer) error) error {
	f, err := createTemp(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	return commitTemp(f, path, perm)
}

func createTemp(path string) (*os.File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return f, nil
}

// commitTemp syncs and closes f, then renames it to path and syncs the
// directory, so the rename survives a crash.
func commitTemp(f *os.File, path string, perm os.FileMode) error {
	fail := func(err error) error {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(perm); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync() // best effort: not every system syncs a directory
		d.Close()
	}
	return nil
}

// Publisher keeps the latest shaped feed of each published feed as
// <dir>/<name>.xml and serves them at /feeds/<name>.xml (ServeHTTP). A new
// edition replaces the old one atomically; one with the same bytes leaves the
// file, its ETag and its Last-Modified alone, so a consumer polling with
// If-None-Match or If-Modified-Since gets a 304 until the catalog changes.
type Publisher struct {
	dir string
	mu  sync.Mutex
	// tags caches each file's ETag by its size and modification time: a file
	// changed behind the Publisher's back is hashed again.
	tags map[string]fileTag
}

type fileTag struct {
	size int64
	mod  time.Time
	etag string
}

// ErrBadFeedName is returned for a feed name that cannot be a file name.
var ErrBadFeedName = errors.New("a published feed's name must be letters, digits, '.', '_' or '-'")

var feedNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// NewPublisher returns a Publisher keeping its files in dir (created if missing).
func NewPublisher(dir string) (*Publisher, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("publish directory: %w", err)
	}
	return &Publisher{dir: dir, tags: map[string]fileTag{}}, nil
}

// Path is the file that holds the published feed of name.
func (p *Publisher) Path(name string) string { return filepath.Join(p.dir, name+".xml") }

// Publish makes what write produces the published feed of name. It reports
// whether the served bytes changed.
func (p *Publisher) Publish(name string, write func(io.Writer) error) (changed bool, err error) {
	e, err := p.begin(name)
	if err != nil {
		return false, err
	}
	if err := write(e.out); err != nil {
		e.Abort()
		return false, err
	}
	return e.commit()
}

// Begin starts a new edition of the feed of name, written as Google RSS 2.0
// product by product (as feedsync transform writes it). Commit makes it the
// published one; Abort (or a failed run that never commits) leaves the
// previous edition served.
func (p *Publisher) Begin(name string, opts TransformOptions) (*Edition, error) {
	e, err := p.begin(name)
	if err != nil {
		return nil, err
	}
	opts.To = OutputXML
	if opts.Title == "" {
		opts.Title = name
	}
	topts := tree.Options{Policy: opts.Policy, ProductID: opts.ProductID, Fields: opts.Fields}
	e.w = newProductWriter(e.out, opts, topts)
	if err := e.w.begin(); err != nil {
		e.Abort()
		return nil, err
	}
	return e, nil
}

func (p *Publisher) begin(name string) (*Edition, error) {
	if !feedNameRE.MatchString(name) || strings.Contains(name, "..") {
		return nil, fmt.Errorf("publish %q: %w", name, ErrBadFeedName)
	}
	f, err := createTemp(p.Path(name))
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	return &Edition{p: p, name: name, f: f, h: h, out: io.MultiWriter(f, h), seen: map[string]struct{}{}}, nil
}

// Edition is one feed being published.
type Edition struct {
	p        *Publisher
	name     string
	f        *os.File
	h        hash.Hash
	out      io.Writer
	w        productWriter
	products int
	done     bool
	err      error               // the first write error, returned again by Commit
	seen     map[string]struct{} // lower-cased custom_ids written
}

// Add writes one product. A product whose custom_id (compared
// case-insensitively) was written already is left out, as transform does. A
// write error is kept: later Adds do nothing and Commit returns it, so a
// caller in the middle of a sync may ignore Add's error.
func (e *Edition) Add(p *tree.Product) error {
	switch {
	case e.done:
		return errors.New("publish: Add after Commit or Abort")
	case e.err != nil:
		return e.err
	case e.w == nil:
		return errors.New("publish: Add to an edition not started by Begin")
	}
	key := strings.ToLower(p.ID)
	if _, dup := e.seen[key]; dup {
		return nil
	}
	e.seen[key] = struct{}{}
	if err := e.w.write(p); err != nil {
		e.err = fmt.Errorf("publish %s: %w", e.name, err)
		return e.err
	}
	e.products++
	return nil
}

// Products is the number of products added.
func (e *Edition) Products() int { return e.products }

// Problems lists what the writer left out.
func (e *Edition) Problems() []feed.Problem {
	if e.w == nil {
		return nil
	}
	return e.w.problems()
}

// Commit ends the feed and makes it the served one, atomically. It reports
// whether the served bytes changed.
func (e *Edition) Commit() (changed bool, err error) {
	if e.done {
		return false, errors.New("publish: Commit after Commit or Abort")
	}
	if e.err != nil {
		err := e.err
		e.Abort()
		return false, err
	}
	if e.w != nil {
		if err := e.w.end(); err != nil {
			e.Abort()
			return false, err
		}
	}
	return e.commit()
}

// Abort drops the edition; the previous one stays served.
func (e *Edition) Abort() {
	if e.done {
		return
	}
	e.done = true
	e.f.Close()
	os.Remove(e.f.Name())
}

func (e *Edition) commit() (bool, error) {
	e.done = true
	p := e.p
	path := p.Path(e.name)
	etag := `"` + hex.EncodeToString(e.h.Sum(nil)[:16]) + `"`
	p.mu.Lock()
	defer p.mu.Unlock()
	if old, err := p.tagOf(path); err == nil && old == etag {
		e.f.Close()
		os.Remove(e.f.Name())
		return false, nil
	}
	if err := commitTemp(e.f, path, 0o644); err != nil {
		return false, err
	}
	if st, err := os.Stat(path); err == nil {
		p.tags[path] = fileTag{size: st.Size(), mod: st.ModTime(), etag: etag}
	}
	return true, nil
}

// tagOf returns the ETag of the file at path, hashing it when the cache does
// not know this version of it. Called with mu held.
func (p *Publisher) tagOf(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	return p.tagOfFile(path, f, st)
}

func (p *Publisher) tagOfFile(path string, f *os.File, st os.FileInfo) (string, error) {
	if t, ok := p.tags[path]; ok && t.size == st.Size() && t.mod.Equal(st.ModTime()) {
		return t.etag, nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, bufio.NewReaderSize(f, 256<<10)); err != nil {
		return "", err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	etag := `"` + hex.EncodeToString(h.Sum(nil)[:16]) + `"`
	p.tags[path] = fileTag{size: st.Size(), mod: st.ModTime(), etag: etag}
	return etag, nil
}

// ServeHTTP serves GET and HEAD /feeds/<name>.xml: the published feed with
// its ETag and Last-Modified, 304 for a matching If-None-Match or a recent
// enough If-Modified-Since, ranges, and 404 for a feed not published (yet).
func (p *Publisher) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, "/feeds/")
	if ok {
		name, ok = strings.CutSuffix(name, ".xml")
	}
	if !ok || !feedNameRE.MatchString(name) || strings.Contains(name, "..") {
		http.NotFound(w, r)
		return
	}
	path := p.Path(name)
	// The open file is the edition served, even if a new one is renamed
	// over it meanwhile; its stat gives the matching Last-Modified and ETag.
	f, err := os.Open(path)
	if err != nil {
		http.Error(w, "feed "+name+" is not published (yet): it appears after its first successful run", http.StatusNotFound)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		http.Error(w, "stat published feed", http.StatusInternalServerError)
		return
	}
	p.mu.Lock()
	etag, err := p.tagOfFile(path, f, st)
	p.mu.Unlock()
	if err != nil {
		http.Error(w, "read published feed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, name+".xml", st.ModTime(), f)
}
