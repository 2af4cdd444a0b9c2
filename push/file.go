package push

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// FileSink appends one JSON line per operation to a file:
//
//	{"op":"upsert","id":"<custom_id>","product":{...payload...}}
//	{"op":"delete","id":"<custom_id>"}
//	{"op":"deal","id":"<order id>","deal":{...deal payload...}}
//
// Lines are written in batches; a batch is flushed and fsynced before its
// operations are acknowledged, so an acknowledged operation is on disk.
//
// A file that does not end in a newline has a torn last line: a process was
// killed in the middle of a write, or a write ran out of disk. Those bytes
// were never acknowledged, and a line appended after them would be glued onto
// them, corrupting an acknowledged operation. Apply cuts them off before it
// writes, and so does a write that fails.
type FileSink struct {
	path string
	// mu serialises batches of concurrent Applies (the daemon syncs feeds in
	// parallel into one file): a batch goes out as one write, never
	// interleaved. So while mu is held, every line this process wrote is
	// complete, and a torn tail can only be one nobody is writing any more.
	mu sync.Mutex
	// torn says a write failed and its part-line may still be in the file;
	// the next write repairs the tail first. Guarded by mu.
	torn bool
	// write is f.Write; tests swap it to fail part-way, as a full disk does.
	write func(f *os.File, b []byte) (int, error)
	// BatchSize and BatchDelay bound how many ops wait for one fsync.
	BatchSize  int
	BatchDelay time.Duration
	// Log gets a warning for each torn tail cut off; the zero Logger
	// discards it.
	Log zerolog.Logger
}

var _ Sink = (*FileSink)(nil)

// NewFileSink returns a sink appending to path; the directory is created on
// the first Apply.
func NewFileSink(path string) *FileSink {
	return &FileSink{path: path, BatchSize: 1024, BatchDelay: 200 * time.Millisecond}
}

// Target names the file.
func (s *FileSink) Target() string { return "file:" + s.path }

// SendsDeals: deals are lines of their own ({"op":"deal",...}).
func (s *FileSink) SendsDeals() bool { return true }

// Close does nothing: each Apply opens and closes the file.
func (s *FileSink) Close() error { return nil }

// AppendLine appends the JSONL form of op, without the newline: the one
// writer of the line format, for the sink and for transform's jsonl
// output. The payload goes in verbatim: it is canonical JSON already, and
// re-encoding would escape it differently.
//
// The payload is checked to be one object on one line, not parsed: Op.Payload
// is canonical JSON by contract (the tree writes it), and validating 1 GB of
// it cost a CPU-second per million products.
func AppendLine(b []byte, op Op) ([]byte, error) {
	id, err := quoteID(op.ID)
	if err != nil {
		return nil, err
	}
	if op.Kind == Delete {
		b = append(b, `{"op":"delete","id":`...)
		b = append(b, id...)
		return append(b, '}'), nil
	}
	if op.Deal {
		if p := op.Payload; len(p) < 2 || p[0] != '{' || p[len(p)-1] != '}' || bytes.IndexByte(p, '\n') >= 0 {
			return nil, fmt.Errorf("deal is not a JSON object on one line")
		}
		b = append(b, `{"op":"deal","id":`...)
		b = append(b, id...)
		b = append(b, `,"deal":`...)
		b = append(b, op.Payload...)
		return append(b, '}'), nil
	}
	if p := op.Payload; len(p) < 2 || p[0] != '{' || p[len(p)-1] != '}' || bytes.IndexByte(p, '\n') >= 0 {
		return nil, fmt.Errorf("payload is not a JSON object on one line")
	}
	b = append(b, `{"op":"upsert","id":`...)
	b = append(b, id...)
	b = append(b, `,"product":`...)
	b = append(b, op.Payload...)
	return append(b, '}'), nil
}

// quoteID is the JSON string of a product id, as marshalNoEscape writes it;
// plain ASCII ids, nearly all, are quoted without an encoder.
func quoteID(id string) ([]byte, error) {
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return marshalNoEscape(id)
		}
	}
	out := make([]byte, 0, len(id)+2)
	out = append(out, '"')
	out = append(out, id...)
	return append(out, '"'), nil
}

func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// Apply writes every op and acknowledges each batch after fsync. It first
// cuts a torn last line (see FileSink).
func (s *FileSink) Apply(ctx context.Context, ops <-chan Op, ack func(Result)) error {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		return fmt.Errorf("catalog file: %w", err)
	}
	// Read as well as append: the repair looks for the last newline.
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("catalog file: %w", err)
	}
	defer f.Close()
	s.mu.Lock()
	err = s.repairTail(f)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	// A batch is written and fsynced, then acknowledged, on a goroutine
	// of its own, while the next one is gathered: the fsync no longer
	// holds up the operations behind it. One batch at a time, in order.
	type fileBatch struct {
		buf []byte
		ops []Op
	}
	batches := make(chan fileBatch)
	free := make(chan fileBatch, 1)
	writeErr := make(chan error, 1)
	stopped := make(chan struct{}) // the writer failed: nothing more is written
	go func() {
		defer close(writeErr)
		for b := range batches {
			s.mu.Lock()
			err := s.writeBatch(f, b.buf)
			s.mu.Unlock()
			if err != nil {
				// No batch is taken after this one: Apply's next
				// hand-over sees stopped and returns the error.
				writeErr <- fmt.Errorf("write catalog file %s: %w", s.path, err)
				close(stopped)
				return
			}
			for _, op := range b.ops {
				ack(Result{Op: op})
			}
			clear(b.ops)
			select {
			case free <- fileBatch{buf: b.buf[:0], ops: b.ops[:0]}:
			default:
			}
		}
	}()
	var cur fileBatch
	// finish hands the last batch over and waits for the writer: no
	// acknowledgement comes after Apply returns.
	finish := func(handOver bool, err error) error {
		if handOver && len(cur.ops) > 0 {
			select {
			case batches <- cur:
			case <-stopped:
			}
		}
		close(batches)
		if werr := <-writeErr; werr != nil {
			return werr
		}
		return err
	}
	flush := func() error {
		if len(cur.ops) == 0 {
			return nil
		}
		select {
		case batches <- cur:
		case <-stopped:
			return errors.New("stopped") // finish returns the writer's error
		}
		select {
		case cur = <-free:
		default:
			cur = fileBatch{}
		}
		return nil
	}
	timer := time.NewTimer(s.BatchDelay)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return finish(true, ctx.Err())
		case op, ok := <-ops:
			if !ok {
				return finish(true, nil)
			}
			b, err := AppendLine(cur.buf, op)
			if err != nil {
				return finish(false, fmt.Errorf("product %q: %w", op.ID, err))
			}
			cur.buf = append(b, '\n')
			cur.ops = append(cur.ops, op)
			if len(cur.ops) >= s.BatchSize {
				if err := flush(); err != nil {
					return finish(false, err)
				}
			}
		case <-timer.C:
			if err := flush(); err != nil {
				return finish(false, err)
			}
			timer.Reset(s.BatchDelay)
		}
	}
}

// writeBatch appends b and fsyncs it. If either fails, the batch is not
// acknowledged, so whatever of it reached the file is cut off again, before
// another Apply appends after a part-line. s.mu must be held.
func (s *FileSink) writeBatch(f *os.File, b []byte) error {
	if s.torn {
		// An earlier write failed and so did cutting it off: try again, or
		// this batch's first line would be glued onto a part-line.
		if err := s.repairTail(f); err != nil {
			return err
		}
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	write := s.write
	if write == nil {
		write = (*os.File).Write
	}
	_, err = write(f, b)
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		s.torn = true
		if now, serr := f.Stat(); serr == nil && fi.Mode().IsRegular() {
			// Errors ignored: torn stays set and the next write repairs.
			s.cut(f, now.Size(), fi.Size(), "a write failed part-way (is the disk full?)")
		}
		return err
	}
	return nil
}

// repairTail cuts the file back to just after its last newline (to empty if
// it has none) when it does not end in one, fsyncs the cut, and logs it.
// s.mu must be held: then no write of this process is half done, and bytes
// after the last newline are a torn line of a dead process or a failed
// write, never acknowledged (see FileSink).
func (s *FileSink) repairTail(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("catalog file %s: %w", s.path, err)
	}
	size := fi.Size()
	if !fi.Mode().IsRegular() || size == 0 {
		s.torn = false
		return nil
	}
	keep, err := lineEnd(f, size)
	if err != nil {
		return fmt.Errorf("catalog file %s: look for a torn last line: %w", s.path, err)
	}
	return s.cut(f, size, keep, "it ended in an incomplete line (a process was killed mid-write, or the disk was full)")
}

// cut truncates the file from size bytes to keep, fsyncs and logs it, and
// clears torn. s.mu must be held.
func (s *FileSink) cut(f *os.File, size, keep int64, why string) error {
	if keep < size {
		if err := f.Truncate(keep); err != nil {
			return fmt.Errorf("catalog file %s: cut its torn last line: %w", s.path, err)
		}
		if err := f.Sync(); err != nil {
			return fmt.Errorf("catalog file %s: cut its torn last line: %w", s.path, err)
		}
		s.Log.Warn().Str("path", s.path).Int64("cut_bytes", size-keep).
			Msgf("catalog file %s: %s: cut its last %d bytes, which were never acknowledged", s.path, why, size-keep)
	}
	s.torn = false
	return nil
}

// lineEnd is the offset just after the last newline among the first size
// bytes of f, 0 if there is none.
func lineEnd(f *os.File, size int64) (int64, error) {
	var last [1]byte
	if _, err := f.ReadAt(last[:], size-1); err != nil {
		return 0, err
	}
	if last[0] == '\n' {
		return size, nil // the usual case: one byte read
	}
	buf := make([]byte, 64<<10)
	for end := size; end > 0; {
		n := min(int64(len(buf)), end)
		if _, err := f.ReadAt(buf[:n], end-n); err != nil {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return end - n + int64(i) + 1, nil
		}
		end -= n
	}
	return 0, nil
}
