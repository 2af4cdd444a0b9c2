package push

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// UnidentifiedError says that an import reported more failed rows than it
// listed (User.com lists at most 50 rows_with_errors), so the rows it did not
// list cannot be told from the ones that succeeded. None of them is
// acknowledged: the caller does not commit them and the next run sends them
// again. Apply returns it after every file was sent; the rows it could
// identify were acknowledged.
type UnidentifiedError struct {
	Rows   int // rows left unacknowledged, over all files
	Failed int // failed rows the imports reported but did not list
}

func (e *UnidentifiedError) Error() string {
	return fmt.Sprintf("the catalog import reported %d failed rows it did not list, so %d products could not be confirmed; they are sent again on the next run", e.Failed, e.Rows)
}

// ImportTimeoutError is an import still unfinished after ImportTimeout. Its
// rows are not acknowledged.
type ImportTimeoutError struct {
	ImportID string
	Rows     int
	After    time.Duration
	Status   string
}

func (e *ImportTimeoutError) Error() string {
	return fmt.Sprintf("catalog import %s still %q after %s: its %d products are not acknowledged and are sent again on the next run", e.ImportID, e.Status, e.After, e.Rows)
}

// importRow is one product of an import: the op (and any earlier op for the
// same id this run, acknowledged with it).
type importRow struct {
	op    Op
	extra []Op
}

// importFile is one CSV file ready to upload.
type importFile struct {
	f    *os.File
	size int64
	rows []*importRow
}

func (s *UserCom) applyImport(ctx context.Context, ops <-chan Op, report func(Result)) error {
	var rows []*importRow
	byID := map[string]*importRow{}
	columns := map[string]struct{}{"custom_id": {}}
collect:
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case op, ok := <-ops:
			if !ok {
				break collect
			}
			switch op.Kind {
			case Create, Update:
			case Delete:
				report(Result{Op: op, Err: &RejectedError{Msg: "User.com's import cannot delete products: use on_missing unavailable, or catalog.mode rest"}})
				continue
			default:
				report(Result{Op: op, Err: &RejectedError{Msg: fmt.Sprintf("unknown operation %v", op.Kind)}})
				continue
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(op.Payload, &m); err != nil {
				report(Result{Op: op, Err: &RejectedError{Msg: fmt.Sprintf("payload is not a JSON object: %v", err)}})
				continue
			}
			for k := range m {
				columns[k] = struct{}{}
			}
			if r, dup := byID[op.ID]; dup {
				r.extra = append(r.extra, r.op)
				r.op = op
				continue
			}
			r := &importRow{op: op}
			byID[op.ID] = r
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	cols := make([]string, 0, len(columns))
	for c := range columns {
		if c != "custom_id" {
			cols = append(cols, c)
		}
	}
	sort.Strings(cols)
	cols = append([]string{"custom_id"}, cols...)

	files, err := s.writeImportFiles(cols, rows)
	defer func() {
		for _, f := range files {
			f.f.Close()
			os.Remove(f.f.Name())
		}
	}()
	if err != nil {
		return err
	}
	var unident UnidentifiedError
	for i, f := range files {
		n, failed, err := s.importOne(ctx, cols, f, i+1, len(files), report)
		if err != nil {
			return err
		}
		unident.Rows += n
		unident.Failed += failed
	}
	if unident.Rows > 0 {
		s.mu.Lock()
		s.unidentified = unident.Rows
		s.mu.Unlock()
		return &unident
	}
	return nil
}

// writeImportFiles writes rows as CSV files of at most MaxFileSize bytes
// (a single row larger than that gets a file of its own).
func (s *UserCom) writeImportFiles(cols []string, rows []*importRow) ([]*importFile, error) {
	var files []*importFile
	var cur *importFile
	var header, line bytes.Buffer
	hw := csv.NewWriter(&header)
	hw.Write(cols)
	hw.Flush()
	lw := csv.NewWriter(&line)
	rec := make([]string, len(cols))
	for _, r := range rows {
		if err := csvRecord(rec, cols, r.op); err != nil {
			return files, fmt.Errorf("product %q: %w", r.op.ID, err)
		}
		line.Reset()
		lw.Write(rec)
		lw.Flush()
		if err := lw.Error(); err != nil {
			return files, fmt.Errorf("product %q: %w", r.op.ID, err)
		}
		if cur != nil && cur.size+int64(line.Len()) > s.cfg.MaxFileSize {
			cur = nil
		}
		if cur == nil {
			f, err := os.CreateTemp("", "feedsync-import-*.csv")
			if err != nil {
				return files, fmt.Errorf("import file: %w", err)
			}
			cur = &importFile{f: f}
			files = append(files, cur)
			if _, err := f.Write(header.Bytes()); err != nil {
				return files, fmt.Errorf("import file: %w", err)
			}
			cur.size = int64(header.Len())
		}
		if _, err := cur.f.Write(line.Bytes()); err != nil {
			return files, fmt.Errorf("import file: %w", err)
		}
		cur.size += int64(line.Len())
		cur.rows = append(cur.rows, r)
	}
	return files, nil
}

// csvRecord fills rec with op's values in cols order; a missing key is an
// empty cell (the import leaves that field as it is).
func csvRecord(rec, cols []string, op Op) error {
	d := json.NewDecoder(bytes.NewReader(op.Payload))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return err
	}
	m["custom_id"] = op.ID
	for i, c := range cols {
		switch v := m[c].(type) {
		case nil:
			rec[i] = ""
		case string:
			rec[i] = v
		case json.Number:
			rec[i] = v.String()
		case bool:
			rec[i] = strconv.FormatBool(v)
		default:
			b, err := marshalNoEscape(v)
			if err != nil {
				return err
			}
			rec[i] = string(b)
		}
	}
	return nil
}

// importOne uploads one file, waits for the import to finish and reports its
// rows. It returns how many rows it left unacknowledged because the failures
// were not all listed, and how many failures went unlisted.
func (s *UserCom) importOne(ctx context.Context, cols []string, f *importFile, nth, of int, report func(Result)) (int, int, error) {
	mapping := make(map[string]string, len(cols))
	for _, c := range cols {
		mapping[c] = c
	}
	mj, _ := json.Marshal(mapping)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := mw.WriteField("column_mapping", string(mj)); err != nil {
		return 0, 0, err
	}
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="input_file"; filename="feedsync-%d.csv"`, nth))
	h.Set("Content-Type", "text/csv")
	if _, err := mw.CreatePart(h); err != nil {
		return 0, 0, err
	}
	prefix := bytes.Clone(buf.Bytes())
	buf.Reset()
	mw.Close()
	trailer := bytes.Clone(buf.Bytes())
	total := int64(len(prefix)) + f.size + int64(len(trailer))
	req := &Request{
		Op: "import", Method: http.MethodPost, Path: "products/import/",
		Query:       url.Values{"separator": {"comma"}},
		ContentType: mw.FormDataContentType(),
		// A big file needs longer than one small request: allow 256 KiB/s.
		Timeout: s.cfg.Timeout + time.Duration(f.size/(256<<10))*time.Second,
		Body: func() (io.Reader, int64, error) {
			return io.MultiReader(bytes.NewReader(prefix), io.NewSectionReader(f.f, 0, f.size), bytes.NewReader(trailer)), total, nil
		},
	}
	resp, err := s.call(ctx, req)
	if err != nil {
		return 0, 0, fmt.Errorf("upload import file %d of %d (%d products): %w", nth, of, len(f.rows), err)
	}
	var started struct {
		Success bool `json:"success"`
		Data    struct {
			ImportID string `json:"import_id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(resp.Body, &started); err != nil || started.Data.ImportID == "" {
		return 0, 0, fmt.Errorf("upload import file %d of %d: no import_id in the answer %q", nth, of, errorMessage(resp.Body))
	}
	id := started.Data.ImportID
	s.log.Info().Str("import_id", id).Int("products", len(f.rows)).Int64("bytes", f.size).Msgf("catalog import %d of %d started", nth, of)

	st, err := s.waitImport(ctx, id, len(f.rows))
	if err != nil {
		return 0, 0, err
	}
	return s.reportImport(st, f, report)
}

type importStatus struct {
	ID             string            `json:"id"`
	Status         string            `json:"status"`
	TotalCount     int               `json:"total_count"`
	Succeeded      int               `json:"succeeded"`
	Failed         int               `json:"failed"`
	RowsWithErrors []json.RawMessage `json:"rows_with_errors"`
}

// waitImport polls the import's status with a growing delay until it is
// finished, ImportTimeout passes, or ctx ends.
func (s *UserCom) waitImport(ctx context.Context, id string, rows int) (*importStatus, error) {
	start := time.Now()
	wait := s.cfg.PollInterval
	last := "unknown"
	for {
		t := time.NewTimer(min(wait, max(0, s.cfg.ImportTimeout-time.Since(start))))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		resp, err := s.call(ctx, &Request{Op: "import-status", Method: http.MethodGet, Path: "import/status/", Query: url.Values{"import_id": {id}}})
		if err != nil {
			return nil, fmt.Errorf("status of catalog import %s: %w", id, err)
		}
		var body struct {
			Data importStatus `json:"data"`
		}
		if err := json.Unmarshal(resp.Body, &body); err != nil {
			return nil, fmt.Errorf("status of catalog import %s: unreadable answer: %v", id, err)
		}
		last = body.Data.Status
		switch strings.ToLower(last) {
		case "finished":
			return &body.Data, nil
		case "failed", "error", "cancelled", "canceled", "aborted":
			return nil, fmt.Errorf("catalog import %s ended %q: its %d products are not acknowledged and are sent again on the next run", id, last, rows)
		}
		if time.Since(start) >= s.cfg.ImportTimeout {
			return nil, &ImportTimeoutError{ImportID: id, Rows: rows, After: s.cfg.ImportTimeout, Status: last}
		}
		wait = min(wait*3/2, s.cfg.MaxPollInterval)
	}
}

// reportImport acknowledges a finished import's rows: the listed failures as
// rejected, the rest as accepted if every failure was listed; otherwise the
// rest stay unacknowledged.
func (s *UserCom) reportImport(st *importStatus, f *importFile, report func(Result)) (int, int, error) {
	index := make(map[string]int, len(f.rows))
	for i, r := range f.rows {
		index[r.op.ID] = i
	}
	failedRows := map[int]string{}
	for _, raw := range st.RowsWithErrors {
		i, msg, ok := identifyRow(raw, index, len(f.rows))
		if !ok {
			continue
		}
		if _, seen := failedRows[i]; !seen {
			failedRows[i] = msg
		}
	}
	ackRow := func(r *importRow, err error) {
		for _, op := range r.extra {
			report(Result{Op: op, Err: err})
		}
		report(Result{Op: r.op, Err: err})
	}
	for i, msg := range failedRows {
		if msg == "" {
			msg = "the import refused this row"
		}
		ackRow(f.rows[i], &RejectedError{Msg: msg})
	}
	rest := len(f.rows) - len(failedRows)
	unlisted := max(0, st.Failed-len(failedRows))
	if unlisted == 0 && st.Succeeded >= rest {
		for i, r := range f.rows {
			if _, failed := failedRows[i]; !failed {
				ackRow(r, nil)
			}
		}
		return 0, 0, nil
	}
	if unlisted == 0 {
		unlisted = rest - st.Succeeded
	}
	s.log.Warn().Str("import_id", st.ID).Int("failed", st.Failed).Int("listed", len(failedRows)).Int("unacknowledged", rest).
		Msg("the import did not list every failed row: the other rows of this file are not acknowledged and are sent again on the next run")
	return rest, unlisted, nil
}

// identifyRow finds which row of the file an entry of rows_with_errors is,
// and the server's message for it. The entry's shape is not published: it is
// read by custom_id (top level, or inside "data"/"row_data"/"values"), else
// by a 1-based data row number ("row", "row_number", "line").
func identifyRow(raw json.RawMessage, index map[string]int, n int) (int, string, bool) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return 0, "", false
	}
	msg := ""
	for _, k := range []string{"errors", "error", "message", "detail", "reason"} {
		if v, ok := m[k]; ok {
			msg = messageOf(v)
			break
		}
	}
	idOf := func(m map[string]any) (string, bool) {
		v, ok := m["custom_id"]
		if !ok {
			return "", false
		}
		switch v := v.(type) {
		case string:
			return v, true
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64), true
		}
		return "", false
	}
	if id, ok := idOf(m); ok {
		if i, ok := index[id]; ok {
			return i, msg, true
		}
	}
	for _, k := range []string{"data", "row_data", "values"} {
		if sub, ok := m[k].(map[string]any); ok {
			if id, ok := idOf(sub); ok {
				if i, ok := index[id]; ok {
					return i, msg, true
				}
			}
		}
	}
	for _, k := range []string{"row", "row_number", "line"} {
		if v, ok := m[k].(float64); ok && v >= 1 && int(v) <= n {
			return int(v) - 1, msg, true
		}
	}
	return 0, "", false
}

func messageOf(v any) string {
	if m, ok := v.(map[string]any); ok {
		return joinFields(m)
	}
	return flatten(v)
}
