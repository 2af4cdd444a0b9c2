package push

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// FileSink appends one JSON line per operation to a file:
//
//	{"op":"upsert","id":"<custom_id>","product":{...payload...}}
//	{"op":"delete","id":"<custom_id>"}
//
// Lines are written in batches; a batch is flushed and fsynced before its
// operations are acknowledged, so an acknowledged operation is on disk.
type FileSink struct {
	path string
	// mu serialises batches of concurrent Applies (the daemon syncs feeds in
	// parallel into one file): a batch goes out as one write, never interleaved.
	mu sync.Mutex
	// BatchSize and BatchDelay bound how many ops wait for one fsync.
	BatchSize  int
	BatchDelay time.Duration
}

var _ Sink = (*FileSink)(nil)

// NewFileSink returns a sink appending to path; the directory is created on
// the first Apply.
func NewFileSink(path string) *FileSink {
	return &FileSink{path: path, BatchSize: 1024, BatchDelay: 200 * time.Millisecond}
}

// Target names the file.
func (s *FileSink) Target() string { return "file:" + s.path }

// Close does nothing: each Apply opens and closes the file.
func (s *FileSink) Close() error { return nil }

// appendLine writes the JSONL form of op. The payload goes in verbatim: it is
// canonical JSON already, and re-encoding would escape it differently.
//
// The payload is checked to be one object on one line, not parsed: Op.Payload
// is canonical JSON by contract (the tree writes it), and validating 1 GB of
// it cost a CPU-second per million products.
func appendLine(b []byte, op Op) ([]byte, error) {
	id, err := quoteID(op.ID)
	if err != nil {
		return nil, err
	}
	if op.Kind == Delete {
		b = append(b, `{"op":"delete","id":`...)
		b = append(b, id...)
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

// Apply writes every op and acknowledges each batch after fsync.
func (s *FileSink) Apply(ctx context.Context, ops <-chan Op, ack func(Result)) error {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		return fmt.Errorf("catalog file: %w", err)
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("catalog file: %w", err)
	}
	defer f.Close()
	var buf []byte
	var pending []Op
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		s.mu.Lock()
		_, err := f.Write(buf)
		if err == nil {
			err = f.Sync()
		}
		s.mu.Unlock()
		if err != nil {
			return fmt.Errorf("write catalog file %s: %w", s.path, err)
		}
		for _, op := range pending {
			ack(Result{Op: op})
		}
		pending, buf = pending[:0], buf[:0]
		return nil
	}
	timer := time.NewTimer(s.BatchDelay)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := flush(); err != nil {
				return err
			}
			return ctx.Err()
		case op, ok := <-ops:
			if !ok {
				return flush()
			}
			b, err := appendLine(buf, op)
			if err != nil {
				return fmt.Errorf("product %q: %w", op.ID, err)
			}
			buf = append(b, '\n')
			pending = append(pending, op)
			if len(pending) >= s.BatchSize {
				if err := flush(); err != nil {
					return err
				}
			}
		case <-timer.C:
			if err := flush(); err != nil {
				return err
			}
			timer.Reset(s.BatchDelay)
		}
	}
}
