package publish

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/feedsync/feedsync/config"

	"github.com/rs/zerolog"

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
//
// It serves only the feeds it is told to (SetFeeds, Configure: the feeds with
// publish: true in the running configuration), deleting the editions of every
// other feed from its folder; until told, only the feeds it published itself.
// It never follows a symbolic link: an edition that is one, or anything but
// a regular file, is not served. The folder is opened once, in NewPublisher,
// and every file is reached through that handle (an os.Root), so a folder
// moved or replaced (by a symbolic link, say) later changes nothing.
type Publisher struct {
	dir  string
	root *os.Root

	mu sync.Mutex
	// tags caches each edition's ETag by its size and modification time: a
	// file changed behind the Publisher's back is hashed again.
	tags map[string]fileTag // by feed name
	// feeds are the feed names served; configured tells whether SetFeeds
	// set them (else they are the feeds published so far).
	feeds      map[string]bool
	configured bool
	// writing are the temporary files of editions in progress, which
	// SetFeeds leaves alone.
	writing map[string]bool
}

type fileTag struct {
	size int64
	mod  time.Time
	etag string
}

// ErrBadFeedName is returned for a feed name that cannot be a file name.
var ErrBadFeedName = errors.New("a published feed's name must be letters, digits, '.', '_' or '-'")

// errNotAnEdition is a file at an edition's name that is not a regular file
// (a symbolic link, a directory, a FIFO): never served.
var errNotAnEdition = errors.New("not a regular file: never served")

var feedNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func validFeedName(name string) bool {
	return feedNameRE.MatchString(name) && !strings.Contains(name, "..")
}

// tempMark is in the name of every edition being written: .<name>.xml.tmp-N.
const tempMark = ".xml.tmp-"

// NewPublisher returns a Publisher keeping its files in dir (created if
// missing). It holds the folder open until Close.
func NewPublisher(dir string) (*Publisher, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("publish directory: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("publish directory: %w", err)
	}
	return &Publisher{dir: filepath.Clean(dir), root: root, tags: map[string]fileTag{}, feeds: map[string]bool{}, writing: map[string]bool{}}, nil
}

// Close releases the folder. Serving and publishing fail afterwards.
func (p *Publisher) Close() error { return p.root.Close() }

// Path is the file that holds the published feed of name.
func (p *Publisher) Path(name string) string { return filepath.Join(p.dir, name+".xml") }

// SetFeeds makes names the feeds served, and deletes from the folder the
// editions of every other feed, any symbolic link or other non-regular file
// named as an edition, and the temporary files no edition in progress is
// writing (left by a crash). An edition of another feed committed later is
// dropped, not published. It returns the names of the files deleted.
func (p *Publisher) SetFeeds(names []string) (removed []string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.feeds = make(map[string]bool, len(names))
	for _, n := range names {
		p.feeds[n] = true
	}
	p.configured = true
	d, err := p.root.Open(".")
	if err != nil {
		return nil, fmt.Errorf("publish directory %s: %w", p.dir, err)
	}
	ents, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("publish directory %s: %w", p.dir, err)
	}
	var errs []error
	for _, ent := range ents {
		file := ent.Name()
		link := ent.Type()&fs.ModeSymlink != 0
		regular := ent.Type().IsRegular()
		var drop bool
		if name, ok := strings.CutSuffix(file, ".xml"); ok && validFeedName(name) {
			// An edition: deleted when its feed is not published, and
			// always when it is a symbolic link, which feedsync never
			// writes. Directories and the like are left alone (and never
			// served).
			drop = link || regular && !p.feeds[name]
			if drop {
				delete(p.tags, name)
			}
		} else if strings.HasPrefix(file, ".") && strings.Contains(file, tempMark) {
			drop = (link || regular) && !p.writing[file]
		}
		if !drop {
			continue
		}
		if err := p.root.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, file)
	}
	if len(removed) > 0 {
		p.syncDir()
	}
	slices.Sort(removed)
	return removed, errors.Join(errs...)
}

// Configure serves the feeds with publish: true in cfg (SetFeeds) and logs
// what it deleted; the daemon calls it at start and at every reload.
func (p *Publisher) Configure(cfg *config.Config, log zerolog.Logger) {
	var names []string
	for i := range cfg.Feeds {
		if cfg.Feeds[i].Publish {
			names = append(names, cfg.Feeds[i].Name)
		}
	}
	removed, err := p.SetFeeds(names)
	for _, file := range removed {
		log.Info().Str("file", filepath.Join(p.dir, file)).Msg("publish: deleted an edition no feed publishes any more (or not a regular file)")
	}
	if err != nil {
		log.Error().Err(err).Msg("publish: could not delete editions no feed publishes any more")
	}
	if cfg.PublishDir != "" && filepath.Clean(cfg.PublishDir) != p.dir {
		log.Warn().Str("publish_dir", cfg.PublishDir).Str("serving", p.dir).Msg("config reload: publish_dir changed but takes effect only after a restart")
	}
	st, err := os.Stat(p.dir)
	if rst, rerr := p.root.Stat("."); rerr == nil && (err != nil || !os.SameFile(st, rst)) {
		log.Warn().Str("publish_dir", p.dir).Msg("publish: the folder at publish_dir was moved or replaced; feedsync keeps serving the one it opened at start until a restart")
	}
}

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
	if !validFeedName(name) {
		return nil, fmt.Errorf("publish %q: %w", name, ErrBadFeedName)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var f *os.File
	var tmp string
	for range 100 {
		tmp = "." + name + tempMark + strconv.FormatUint(rand.Uint64(), 36)
		var err error
		f, err = p.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("publish %s: %w", name, err)
		}
	}
	if f == nil {
		return nil, fmt.Errorf("publish %s: no free temporary file name in %s", name, p.dir)
	}
	p.writing[tmp] = true
	h := sha256.New()
	return &Edition{p: p, name: name, tmp: tmp, f: f, h: h, out: io.MultiWriter(f, h), seen: map[string]struct{}{}}, nil
}

// Edition is one feed being published.
type Edition struct {
	p        *Publisher
	name     string
	tmp      string // the temporary file's name in the folder
	f        *os.File
	h        hash.Hash
	out      io.Writer
	w        productWriter
	products int
	done     bool
	err      error               // the first write error, returned again by Commit
	seen     map[string]struct{} // lower-cased custom_ids written
}

// Add writes one product. A product whose custom_id was written already
// (the same tree.IDKey) is left out: a Builder's Finish never emits two,
// and an edition holds each custom_id once whoever feeds it. A
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
	key := tree.IDKey(p.ID)
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
	e.p.mu.Lock()
	defer e.p.mu.Unlock()
	e.drop()
}

// drop closes and deletes the temporary file. Called with p.mu held.
func (e *Edition) drop() {
	e.f.Close()
	e.p.root.Remove(e.tmp)
	delete(e.p.writing, e.tmp)
}

func (e *Edition) commit() (bool, error) {
	e.done = true
	p := e.p
	file := e.name + ".xml"
	etag := `"` + hex.EncodeToString(e.h.Sum(nil)[:16]) + `"`
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.configured && !p.feeds[e.name] {
		// The feed left the configuration (or stopped publishing) while
		// this edition was written: it must not appear again.
		e.drop()
		return false, nil
	}
	if old, err := p.tagOf(e.name); err == nil && old == etag {
		e.drop()
		return false, nil
	}
	fail := func(err error) (bool, error) {
		e.drop()
		return false, fmt.Errorf("write %s: %w", p.Path(e.name), err)
	}
	if err := e.f.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := e.f.Sync(); err != nil {
		return fail(err)
	}
	if err := e.f.Close(); err != nil {
		return fail(err)
	}
	// A rename replaces whatever has the name, a symbolic link included,
	// without following it.
	if err := p.root.Rename(e.tmp, file); err != nil {
		return fail(err)
	}
	delete(p.writing, e.tmp)
	p.syncDir()
	p.feeds[e.name] = true // a Publisher not yet configured serves what it published
	if st, err := p.root.Lstat(file); err == nil {
		p.tags[e.name] = fileTag{size: st.Size(), mod: st.ModTime(), etag: etag}
	}
	return true, nil
}

// syncDir makes renames and deletions in the folder durable (best effort:
// not every system syncs a directory).
func (p *Publisher) syncDir() {
	if d, err := p.root.Open("."); err == nil {
		d.Sync()
		d.Close()
	}
}

// openEdition opens the edition of name without following a symbolic link:
// the name must be a regular file both before it is opened (Lstat) and as
// opened (the same file), so a link planted or swapped in is refused, and no
// FIFO is ever opened. A new edition renamed over the name between the two
// looks the same as a swap, so that case is tried again a few times.
func (p *Publisher) openEdition(name string) (*os.File, os.FileInfo, error) {
	file := name + ".xml"
	for attempt := 0; ; attempt++ {
		lst, err := p.root.Lstat(file)
		if err != nil {
			return nil, nil, err
		}
		if !lst.Mode().IsRegular() {
			return nil, nil, fmt.Errorf("%s: %w", file, errNotAnEdition)
		}
		f, err := p.root.OpenFile(file, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			return nil, nil, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, nil, err
		}
		if st.Mode().IsRegular() && os.SameFile(lst, st) {
			return f, st, nil
		}
		f.Close()
		if attempt == 4 {
			return nil, nil, fmt.Errorf("%s: %w", file, errNotAnEdition)
		}
	}
}

// tagOf returns the ETag of the edition of name, hashing it when the cache
// does not know this version of it. Called with mu held.
func (p *Publisher) tagOf(name string) (string, error) {
	f, st, err := p.openEdition(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return p.tagOfFile(name, f, st)
}

func (p *Publisher) tagOfFile(name string, f *os.File, st os.FileInfo) (string, error) {
	if t, ok := p.tags[name]; ok && t.size == st.Size() && t.mod.Equal(st.ModTime()) {
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
	p.tags[name] = fileTag{size: st.Size(), mod: st.ModTime(), etag: etag}
	return etag, nil
}

// Serves reports whether the feed of name is one the Publisher serves.
func (p *Publisher) Serves(name string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.feeds[name]
}

// ServeHTTP serves GET and HEAD /feeds/<name>.xml: the published feed with
// its ETag and Last-Modified, 304 for a matching If-None-Match or a recent
// enough If-Modified-Since, ranges, and 404 for a feed not published (yet),
// a feed the running configuration does not publish, and an edition that is
// not a regular file (a symbolic link is never followed).
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
	if !ok || !validFeedName(name) {
		http.NotFound(w, r)
		return
	}
	if !p.Serves(name) {
		http.Error(w, "feed "+name+" is not published: no feed of that name has publish: true", http.StatusNotFound)
		return
	}
	// The open file is the edition served, even if a new one is renamed
	// over it meanwhile; its stat gives the matching Last-Modified and ETag.
	f, st, err := p.openEdition(name)
	if err != nil {
		http.Error(w, "feed "+name+" is not published (yet): it appears after its first successful run", http.StatusNotFound)
		return
	}
	defer f.Close()
	p.mu.Lock()
	etag, err := p.tagOfFile(name, f, st)
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
