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
	comma, off, err := delimiter(in, format)
	if err != nil {
		return err
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
	c, err := b.columnsOf(h, hline)
	if err != nil {
		return err
	}

	b.clone = true // the fields share the record's string: keep copies
	var r row
	r.attrs = make([]string, len(c.attrs))
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
			next, nextErr, fatal := b.badQuoting(cr, qc, err, rec, c.id, off, comma)
			if fatal != nil {
				return fatal
			}
			rec, err, pending = next, nextErr, true
			continue
		}
		line, _ := cr.FieldPos(0)
		if blankRow(rec) {
			continue
		}
		c.fill(&r, rec, line+off, len(h.names), comma)
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

// delimiter decides the export's field separator — an Excel "sep=;" first
// line (which it consumes: off is then 1), tab for TSV, else comma or, when
// the header has more of them, semicolon.
func delimiter(in *bufio.Reader, format Format) (comma rune, off int, err error) {
	head, _ := in.Peek(peekSize)
	comma = ','
	if sep, ok := sepLine(head); ok {
		if _, err := in.ReadSlice('\n'); err != nil && err != io.EOF {
			return 0, 0, fmt.Errorf("read: %w", err)
		}
		return sep, 1, nil
	}
	if format == FormatTSV {
		return '\t', 0, nil
	}
	if _, commas, semis := separators(firstLine(head)); semis > commas {
		comma = ';'
	}
	return comma, 0, nil
}

// rowColumns are the header positions of the configured columns (-1: not
// configured).
type rowColumns struct {
	id, email, customer, total, currency, placed, updated int
	product, quantity, value                              int
	status                                                [2]int
	attrs                                                 []int
}

// columnsOf finds the configured columns in the header, reporting a column
// named twice; a configured column the header lacks is an error naming the
// key.
func (b *builder) columnsOf(h header, hline int) (*rowColumns, error) {
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
	c := &rowColumns{
		id: col("columns.order_id", cols.OrderID), email: col("columns.email", cols.Email),
		customer: col("columns.customer_id", cols.CustomerID), total: col("columns.total", cols.Total),
		currency: col("columns.currency", cols.Currency), placed: col("columns.placed", cols.Placed),
		updated: col("columns.updated", cols.Updated), product: col("columns.line_product", cols.LineProduct),
		quantity: col("columns.line_quantity", cols.LineQuantity), value: col("columns.line_value", cols.LineValue),
		status: [2]int{-1, -1},
	}
	if i, ok := h.index[strings.ToLower(strings.TrimSpace(cols.Status))]; ok {
		c.status[0] = i // a column of the whole name, "+" and all
		b.status = []string{strings.TrimSpace(cols.Status)}
	} else {
		for p, name := range b.status {
			c.status[p] = col("columns.status", name)
		}
	}
	c.attrs = make([]int, len(b.cfg.Attributes))
	for a, name := range b.cfg.Attributes {
		c.attrs[a] = col(fmt.Sprintf("attributes[%d]", a), name)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("line %d: %s", hline, strings.Join(errs, "; "))
	}
	return c, nil
}

// fill reads one record into r; a row with more fields than the header, or
// one that is not UTF-8, gets its defect.
func (c *rowColumns) fill(r *row, rec []string, line, headerFields int, comma rune) {
	get := func(i int) string { return field(rec, i) }
	r.line = line
	r.defect = ""
	r.id = get(c.id)
	r.email, r.customer, r.total, r.currency = get(c.email), get(c.customer), get(c.total), get(c.currency)
	r.placed, r.updated = get(c.placed), get(c.updated)
	r.status = [2]string{get(c.status[0]), get(c.status[1])}
	for a, i := range c.attrs {
		r.attrs[a] = get(i)
	}
	r.lines[0] = rowLine{product: get(c.product), quantity: get(c.quantity), value: get(c.value)}
	if len(rec) > headerFields {
		for _, f := range rec[headerFields:] {
			if strings.TrimSpace(f) != "" {
				r.defect = fmt.Sprintf("the row has %d fields, the header %d: a value holding %q without quotes?", len(rec), headerFields, comma)
				break
			}
		}
	}
	if r.defect == "" && (!validUTF8(r.id, r.email, r.customer, r.total, r.currency, r.placed, r.updated,
		r.status[0], r.status[1], r.lines[0].product, r.lines[0].quantity, r.lines[0].value) || !validUTF8(r.attrs...)) {
		r.defect = "the row is not UTF-8 text: save the export as UTF-8"
	}
}

// blankRow reports a record of empty fields.
func blankRow(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// badQuoting handles a record csv refused for its quotes. A row whose bad
// quoting stays on its line is skipped with a problem, and the record after
// it is returned to go on with; a quoted field that runs over lines, or an
// export that ends inside one, is fatal: the rows after it cannot be told
// apart.
func (b *builder) badQuoting(cr *csv.Reader, qc *quoteCounter, err error, rec []string, idCol, off int, comma rune) ([]string, error, error) {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return nil, nil, fmt.Errorf("read: %w", err)
	}
	if pe.Err != csv.ErrQuote && pe.Err != csv.ErrBareQuote {
		return nil, nil, fmt.Errorf("line %d: %v", pe.StartLine+off, pe.Err)
	}
	id := ""
	if idCol >= 0 && idCol < len(rec) {
		id = strings.Clone(strings.TrimSpace(rec[idCol]))
	}
	start, end, column := pe.StartLine+off, pe.Line+off, pe.Column
	next, nextErr := cr.Read() // is there more? (the record is reused: id is a copy)
	switch {
	case nextErr == io.EOF && (qc.n%2 == 1 || end > start):
		return nil, nil, fmt.Errorf("line %d: the export ends inside a quoted field that opens there: it is cut short (an interrupted download?) or a quote is missing", start)
	case end > start:
		return nil, nil, fmt.Errorf("lines %d-%d: a quoted field opened on line %d does not close properly (line %d, column %d): %v; the rows after it cannot be told apart", start, end, start, end, column, pe.Err)
	}
	b.skipRow(start, id, fmt.Sprintf("malformed quoting (column %d): %v; quote a value holding %q or %q as \"...\" and double its quotes", column, pe.Err, '"', comma))
	return next, nextErr, nil
}
