package orders

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/feedsync/feedsync/feed"
)

// quoteCounter counts the quote characters that pass through it: an odd
// count at the end of the input means it ends inside a quoted field.
type quoteCounter struct {
	r io.Reader
	n int
}

func (q *quoteCounter) Read(p []byte) (int, error) {
	n, err := q.r.Read(p)
	q.n += bytes.Count(p[:n], []byte{'"'})
	return n, err
}

// header is a delimited export's first row: column name (trimmed,
// lower-cased) → the first column of that name.
type header struct {
	names []string
	index map[string]int
}

func newHeader(rec []string) header {
	h := header{names: make([]string, len(rec)), index: make(map[string]int, len(rec))}
	for i, name := range rec {
		name = strings.TrimSpace(name)
		h.names[i] = name
		if k := strings.ToLower(name); k != "" {
			if _, dup := h.index[k]; !dup {
				h.index[k] = i
			}
		}
	}
	return h
}

// col finds a configured column; "" is not configured (-1).
func (h header) col(key, name string) (int, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return -1, nil
	}
	if i, ok := h.index[strings.ToLower(name)]; ok {
		return i, nil
	}
	list := strings.Join(h.names, ", ")
	list = cutBytes(list, 400)
	return -1, fmt.Errorf("the header has no column %q (%s); its columns: %s", clip(name), key, list)
}

// readDelimited reads a CSV or TSV export: the first row names the columns,
// every other row is one line item of the order its id names.
func readDelimited(in *bufio.Reader, b *builder, format Format) error {
	head, _ := in.Peek(peekSize)
	off := 0 // lines before the header that csv does not see
	comma := ','
	if sep, ok := sepLine(head); ok {
		comma = sep
		if _, err := in.ReadSlice('\n'); err != nil && err != io.EOF {
			return fmt.Errorf("read: %w", err)
		}
		off = 1
	} else if format == FormatTSV {
		comma = '\t'
	} else if _, commas, semis := separators(firstLine(head)); semis > commas {
		comma = ';'
	}
	qc := &quoteCounter{r: in}
	cr := csv.NewReader(qc)
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = false
	cr.ReuseRecord = true
	rec, err := cr.Read()
	if err == io.EOF {
		return errors.New("the export is empty: no header row")
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return fmt.Errorf("line %d: the header: %v", pe.StartLine+off, pe.Err)
		}
		return fmt.Errorf("read: %w", err)
	}
	hline, _ := cr.FieldPos(0)
	hline += off
	h := newHeader(rec)
	cols := &b.cfg.Columns
	var errs []string
	col := func(key, name string) int {
		i, err := h.col(key, name)
		if err != nil {
			errs = append(errs, err.Error())
		}
		if i >= 0 {
			for j := i + 1; j < len(h.names); j++ {
				if strings.EqualFold(h.names[j], h.names[i]) {
					b.probs = append(b.probs, feed.Problem{Line: hline, Kind: feed.ProblemDuplicateHeader,
						Msg: fmt.Sprintf("%s: the header names column %q twice (columns %d and %d): the first is read", b.source, clip(h.names[i]), i+1, j+1)})
					break
				}
			}
		}
		return i
	}
	idCol := col("columns.order_id", cols.OrderID)
	emailCol := col("columns.email", cols.Email)
	custCol := col("columns.customer_id", cols.CustomerID)
	totalCol := col("columns.total", cols.Total)
	curCol := col("columns.currency", cols.Currency)
	placedCol := col("columns.placed", cols.Placed)
	updCol := col("columns.updated", cols.Updated)
	prodCol := col("columns.line_product", cols.LineProduct)
	qtyCol := col("columns.line_quantity", cols.LineQuantity)
	valCol := col("columns.line_value", cols.LineValue)
	statusCols := []int{-1, -1}
	if i, ok := h.index[strings.ToLower(strings.TrimSpace(cols.Status))]; ok {
		statusCols[0] = i // a column of the whole name, "+" and all
		b.status = []string{strings.TrimSpace(cols.Status)}
	} else {
		for p, name := range b.status {
			statusCols[p] = col("columns.status", name)
		}
	}
	attrCols := make([]int, len(b.cfg.Attributes))
	for a, name := range b.cfg.Attributes {
		attrCols[a] = col(fmt.Sprintf("attributes[%d]", a), name)
	}
	if len(errs) > 0 {
		return fmt.Errorf("line %d: %s", hline, strings.Join(errs, "; "))
	}

	b.clone = true // the fields share the record's string: keep copies
	var r row
	r.attrs = make([]string, len(attrCols))
	r.lines = make([]rowLine, 1)
	pending := false
	for {
		if !pending {
			rec, err = cr.Read()
		}
		pending = false
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return fmt.Errorf("read: %w", err)
			}
			if pe.Err != csv.ErrQuote && pe.Err != csv.ErrBareQuote {
				return fmt.Errorf("line %d: %v", pe.StartLine+off, pe.Err)
			}
			id := ""
			if idCol < len(rec) {
				id = strings.Clone(strings.TrimSpace(rec[idCol]))
			}
			start, end, column := pe.StartLine+off, pe.Line+off, pe.Column
			rec, err = cr.Read() // is there more? (the record is reused: id is a copy)
			pending = true
			switch {
			case err == io.EOF && (qc.n%2 == 1 || end > start):
				return fmt.Errorf("line %d: the export ends inside a quoted field that opens there: it is cut short (an interrupted download?) or a quote is missing", start)
			case end > start:
				return fmt.Errorf("lines %d-%d: a quoted field opened on line %d does not close properly (line %d, column %d): %v; the rows after it cannot be told apart", start, end, start, end, column, pe.Err)
			}
			b.skipRow(start, id, fmt.Sprintf("malformed quoting (column %d): %v; quote a value holding %q or %q as \"...\" and double its quotes", column, pe.Err, '"', comma))
			continue
		}
		line, _ := cr.FieldPos(0)
		line += off
		blank := true
		for _, f := range rec {
			if strings.TrimSpace(f) != "" {
				blank = false
				break
			}
		}
		if blank {
			continue
		}
		get := func(i int) string { return field(rec, i) }
		r.line = line
		r.defect = ""
		r.id = get(idCol)
		r.email, r.customer, r.total, r.currency = get(emailCol), get(custCol), get(totalCol), get(curCol)
		r.placed, r.updated = get(placedCol), get(updCol)
		r.status = [2]string{get(statusCols[0]), get(statusCols[1])}
		for a, c := range attrCols {
			r.attrs[a] = get(c)
		}
		r.lines[0] = rowLine{product: get(prodCol), quantity: get(qtyCol), value: get(valCol)}
		if len(rec) > len(h.names) {
			for _, f := range rec[len(h.names):] {
				if strings.TrimSpace(f) != "" {
					r.defect = fmt.Sprintf("the row has %d fields, the header %d: a value holding %q without quotes?", len(rec), len(h.names), comma)
					break
				}
			}
		}
		if r.defect == "" && (!validUTF8(r.id, r.email, r.customer, r.total, r.currency, r.placed, r.updated,
			r.status[0], r.status[1], r.lines[0].product, r.lines[0].quantity, r.lines[0].value) || !validUTF8(r.attrs...)) {
			r.defect = "the row is not UTF-8 text: save the export as UTF-8"
		}
		b.add(&r)
	}
}

// field is rec[i] trimmed; "" for a column the row lacks or one not configured.
func field(rec []string, i int) string {
	if i < 0 || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}
