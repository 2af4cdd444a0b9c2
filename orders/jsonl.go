package orders

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/feedsync/feedsync/feed"
)

// maxJSONLine bounds one JSONL line (one order).
const maxJSONLine = 64 << 20

// jsonObject is one JSON object, decoded with json.Number for numbers.
type jsonObject map[string]any

// get finds a key: the name as written, else case-insensitively and
// trimmed (the smallest such key, so that the choice is stable), else a
// dotted name ("customer.id") through nested objects.
func (o jsonObject) get(name string) (any, bool) {
	name = strings.TrimSpace(name)
	if name == "" || o == nil {
		return nil, false
	}
	if v, ok := o[name]; ok {
		return v, true
	}
	best, found := "", false
	for k := range o {
		if strings.EqualFold(strings.TrimSpace(k), name) && (!found || k < best) {
			best, found = k, true
		}
	}
	if found {
		return o[best], true
	}
	for i := 0; i < len(name); i++ {
		if name[i] != '.' {
			continue
		}
		if v, ok := o.get(name[:i]); ok {
			if sub, ok := v.(map[string]any); ok {
				if w, ok := jsonObject(sub).get(name[i+1:]); ok {
					return w, true
				}
			}
		}
	}
	return nil, false
}

// errComposite: a value that is an object or an array.
var errComposite = errors.New("an object or array, not a value")

// scalar is a JSON value as text, trimmed: a string's content, a number's
// or boolean's literal (num: a number), "" for null or a missing key.
func scalar(v any) (s string, num bool, err error) {
	switch x := v.(type) {
	case nil:
		return "", false, nil
	case string:
		return strings.TrimSpace(x), false, nil
	case json.Number:
		return string(x), true, nil
	case bool:
		return strconv.FormatBool(x), false, nil
	}
	return "", false, errComposite
}

// compactJSON is an object or array as canonical JSON text (keys sorted).
func compactJSON(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// decodeObject decodes one line holding one JSON object; truncated reports
// input that ends inside it.
func decodeObject(data []byte) (obj jsonObject, truncated bool, err error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errors.Is(err, io.ErrUnexpectedEOF), err
	}
	m, ok := v.(map[string]any)
	if !ok {
		what := "null"
		switch v.(type) {
		case []any:
			what = "an array"
		case string:
			what = "a string"
		case json.Number:
			what = "a number"
		case bool:
			what = "a boolean"
		}
		return nil, false, fmt.Errorf("%s", what)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false, errors.New("more after the object: one object per line")
	}
	return m, false, nil
}

// lineReader reads a text line by line, reusing its buffer for long lines.
type lineReader struct {
	in  *bufio.Reader
	buf []byte
}

// next returns the next line with its newline (if it has one), valid until
// the next call; io.EOF once nothing is left.
func (lr *lineReader) next() ([]byte, error) {
	chunk, err := lr.in.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		if err == io.EOF && len(chunk) > 0 {
			err = nil
		}
		return chunk, err
	}
	lr.buf = append(lr.buf[:0], chunk...)
	for {
		chunk, err = lr.in.ReadSlice('\n')
		lr.buf = append(lr.buf, chunk...)
		if len(lr.buf) > maxJSONLine {
			return nil, fmt.Errorf("a line longer than %d MiB: is this a JSONL export?", maxJSONLine>>20)
		}
		switch err {
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			return lr.buf, nil
		}
		return lr.buf, err
	}
}

// readJSONL reads a JSONL export: one order per line, its line items in
// the array Columns.Lines names.
func readJSONL(in *bufio.Reader, b *builder) error {
	cols := &b.cfg.Columns
	lr := &lineReader{in: in}
	var r row
	r.attrs = make([]string, len(b.cfg.Attributes))
	for line := 1; ; line++ {
		data, err := lr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		complete := bytes.HasSuffix(data, []byte{'\n'})
		data = bytes.TrimSpace(data)
		if len(data) == 0 {
			continue
		}
		obj, truncated, err := decodeObject(data)
		if err != nil {
			if truncated && !complete {
				return fmt.Errorf("line %d: the export ends inside a JSON object: it is cut short (an interrupted download?)", line)
			}
			b.problem(line, "", feed.ProblemSkippedItem, "not a JSON object (%s): line skipped", clip(err.Error()))
			continue
		}
		r.line, r.defect = line, ""
		bad := func(column string, err error) {
			if r.defect == "" {
				r.defect = fmt.Sprintf("key %q: %v", clip(column), err)
			}
		}
		text := func(column string) (string, bool) {
			v, _ := obj.get(column)
			s, num, err := scalar(v)
			if err != nil {
				bad(column, err)
			}
			return s, num
		}
		r.id, _ = text(cols.OrderID)
		r.email, _ = text(cols.Email)
		r.customer, _ = text(cols.CustomerID)
		r.total, r.totalJSON = text(cols.Total)
		r.currency, _ = text(cols.Currency)
		r.placed, _ = text(cols.Placed)
		r.updated, _ = text(cols.Updated)
		r.status = [2]string{}
		for p, name := range b.status {
			r.status[p], _ = text(name)
		}
		for a, name := range b.cfg.Attributes {
			v, _ := obj.get(name)
			s, _, err := scalar(v)
			if err == errComposite {
				s, err = compactJSON(v)
			}
			if err != nil {
				bad(name, err)
			}
			r.attrs[a] = s
		}
		r.lines = r.lines[:0]
		if v, ok := obj.get(cols.Lines); ok && v != nil {
			items, ok := v.([]any)
			if !ok {
				bad(cols.Lines, errors.New("not an array of line items"))
			}
			for n, item := range items {
				li, ok := item.(map[string]any)
				if !ok {
					bad(cols.Lines, fmt.Errorf("item %d is not an object", n+1))
					continue
				}
				var l rowLine
				var err error
				v, _ := jsonObject(li).get(cols.LineProduct)
				if l.product, _, err = scalar(v); err != nil {
					bad(cols.Lines+"[]."+cols.LineProduct, err)
				}
				v, _ = jsonObject(li).get(cols.LineQuantity)
				if l.quantity, l.qtyJSON, err = scalar(v); err != nil {
					bad(cols.Lines+"[]."+cols.LineQuantity, err)
				}
				v, _ = jsonObject(li).get(cols.LineValue)
				if l.value, l.valueJSON, err = scalar(v); err != nil {
					bad(cols.Lines+"[]."+cols.LineValue, err)
				}
				r.lines = append(r.lines, l)
			}
		}
		b.add(&r)
	}
}
