package orders

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/feedsync/feedsync/feed"
	"github.com/feedsync/feedsync/tree"
)

// Deal is one order, shaped for the catalog's deals.
type Deal struct {
	ID       string   // the order id (the deal's custom_id)
	Line     int      // the first row (CSV/TSV line number, JSONL line number)
	Products []string // the line items' product ids as the export gives them, in order (the caller maps them)
	Order    Order
}

// Order is an order's fields as the export gives them, trimmed. Read
// writes Total, and each line's Quantity and Value, as canonical decimals
// ("1 234,50" → "1234.50"); Status is the status column's value, or the two
// columns' values joined with "/" ("paid/fulfilled"); Attrs is keyed by
// the attribute's payload key (nil when the order has none).
type Order struct {
	ID, Email, CustomerID, Status, Total, Currency, Placed, Updated string
	Lines                                                           []Line
	Attrs                                                           map[string]string
}

// Line is one line item: its product id as the export gives it, its
// quantity and its total value ("" when the export has none).
type Line struct{ Product, Quantity, Value string }

// Read reads a whole export (orders are grouped by id, so the whole file is read; 100k orders /
// 300k rows must stay well under 200 MB and a few seconds), in first-row order. A row or order
// that cannot be used is skipped with a feed.Problem (Kind ProblemSkippedItem) naming the file
// (source), line and order id: a missing order id, an unknown status (never a guess: the
// message names the status and the known ones), a guest without e-mail under sha256_email/email,
// a malformed number. Truncated input (CSV ending inside a quoted field) and unreadable input are
// errors (nothing is returned). A BOM, CRLF line ends and quoted fields with newlines work.
//
// Each skipped order or row is exactly one ProblemSkippedItem (at its
// first defect; more defects of an order already skipped are ProblemOther),
// so that feed.SkippedItems counts what was lost. Problems come sorted by
// line. Other problems (ProblemOther) skip nothing: a line item without a
// product id (left out of the deal), an order-level value that differs
// between an order's rows (the first is kept), an attribute cut to
// tree.MaxStringLen characters, a deal sent without a User ID (user_id
// column, a guest without a usable e-mail).
//
// More of what is an error rather than a problem: a configuration Check
// refuses; a header that lacks a configured column; a CSV/TSV whose quoting
// breaks across lines (a quoted field that never closes swallows the rows
// after it); a JSONL export whose last line is cut. A row whose quoting is
// broken within its line, or that has more fields than the header (an
// unquoted separator in a value), is skipped with its order. The text is
// UTF-8 (a BOM is dropped) or UTF-16 with a BOM; a row holding invalid UTF-8
// in a value Read keeps is skipped with its order.
//
// Source names the export in messages (as feed.SourceName shows it: no
// credentials of a URL).
func Read(r io.Reader, source string, cfg Config) ([]Deal, []feed.Problem, error) {
	name := feed.SourceName(source)
	fail := func(err error) ([]Deal, []feed.Problem, error) {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := cfg.Check(); err != nil {
		return fail(err)
	}
	in, err := textInput(r)
	if err != nil {
		return fail(err)
	}
	head, err := in.Peek(peekSize)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return fail(fmt.Errorf("read: %w", err))
	}
	if len(bytes.TrimSpace(head)) == 0 {
		return fail(errors.New("the export is empty"))
	}
	b := newBuilder(&cfg, name)
	format := cfg.Format
	if format == "" || format == FormatAuto {
		format = detect(head)
	}
	switch format {
	case FormatJSONL:
		if strings.TrimSpace(cfg.Columns.Lines) == "" {
			return fail(errors.New("columns.lines: required for a JSONL export (the key of each order's array of line items)"))
		}
		b.unique = true
		err = readJSONL(in, b)
	default:
		err = readDelimited(in, b, format)
	}
	if err != nil {
		return fail(err)
	}
	deals, probs := b.finish()
	return deals, probs, nil
}

const peekSize = 64 << 10

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// textInput returns the export as UTF-8 without a BOM: UTF-16 (with a BOM,
// or recognisable by its zero bytes around the first two ASCII characters)
// is transcoded.
func textInput(r io.Reader) (*bufio.Reader, error) {
	br := bufio.NewReaderSize(r, peekSize)
	head, err := br.Peek(4)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("read: %w", err)
	}
	var dec transform.Transformer
	switch {
	case bytes.HasPrefix(head, utf8BOM):
		_, _ = br.Discard(len(utf8BOM))
		return br, nil
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		dec = unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder()
	case len(head) == 4 && head[0] != 0 && head[1] == 0 && head[2] != 0 && head[3] == 0:
		dec = unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewDecoder()
	case len(head) == 4 && head[0] == 0 && head[1] != 0 && head[2] == 0 && head[3] != 0:
		dec = unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewDecoder()
	default:
		return br, nil
	}
	return bufio.NewReaderSize(transform.NewReader(br, dec), peekSize), nil
}

// detect tells the format of an export from its first bytes.
func detect(head []byte) Format {
	t := bytes.TrimLeft(head, " \t\r\n")
	if len(t) > 0 && t[0] == '{' {
		return FormatJSONL
	}
	if _, ok := sepLine(head); ok {
		return FormatCSV
	}
	tabs, commas, semis := separators(firstLine(head))
	if tabs > 0 && tabs >= commas && tabs >= semis {
		return FormatTSV
	}
	return FormatCSV
}

func firstLine(head []byte) []byte {
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		return head[:i]
	}
	return head
}

// separators counts the tabs, commas and semicolons of a line outside quotes.
func separators(line []byte) (tabs, commas, semis int) {
	quoted := false
	for _, c := range line {
		switch c {
		case '"':
			quoted = !quoted
		case '\t':
			if !quoted {
				tabs++
			}
		case ',':
			if !quoted {
				commas++
			}
		case ';':
			if !quoted {
				semis++
			}
		}
	}
	return
}

// sepLine reads Excel's "sep=;" first line: the separator it names.
func sepLine(head []byte) (rune, bool) {
	l := bytes.TrimRight(firstLine(head), "\r")
	if len(l) < 5 || !bytes.EqualFold(l[:4], []byte("sep=")) {
		return 0, false
	}
	r, size := utf8.DecodeRune(l[4:])
	if r == utf8.RuneError || 4+size != len(l) || r == '"' || r == '\r' || r == '\n' {
		return 0, false
	}
	return r, true
}

// row is one record of the export on its way into an order: a CSV/TSV row
// (with at most one line item) or a JSONL line.
type row struct {
	line                                              int
	id                                                string
	email, customer, total, currency, placed, updated string
	status                                            [2]string
	totalJSON                                         bool // total is a JSON number literal
	attrs                                             []string
	lines                                             []rowLine
	defect                                            string // a defect found splitting the row: the order is skipped
}

type rowLine struct {
	product, quantity, value string
	qtyJSON, valueJSON       bool
}

// order is an order being read: its Deal, and what the builder knows of
// it beside.
type order struct {
	Deal
	meta
}

type meta struct {
	status     [2]string
	statusLine int
	bad        bool // skipped (reported)
	conflict   bool // a differing order-level value was reported
	// The order's line items in builder.lines: nLines of them, the first
	// and last at first and last, contiguous when every one followed the
	// previous in the same chunk (the rows of an order one after another).
	nLines, first, last int32
	scattered           bool
}

// chunks is an append-only list kept in fixed-size chunks: growing it never
// copies what it holds (a slice of 100k deals growing by 1.25× would copy,
// and fault in, several times its final size).
type chunks[T any] struct {
	c [][]T
	n int
}

const chunkBits = 10

func (l *chunks[T]) add(v T) int {
	if l.n&(1<<chunkBits-1) == 0 {
		l.c = append(l.c, make([]T, 0, 1<<chunkBits))
	}
	last := &l.c[len(l.c)-1]
	*last = append(*last, v)
	l.n++
	return l.n - 1
}

func (l *chunks[T]) at(i int) *T { return &l.c[i>>chunkBits][i&(1<<chunkBits-1)] }

func (l *chunks[T]) len() int { return l.n }

// builder groups rows into orders.
type builder struct {
	cfg    *Config
	source string
	dec    byte
	unique bool // JSONL: a repeated order id is a problem, not more rows
	clone  bool // the rows' strings share a record's memory: keep copies

	index  map[string]int32
	orders chunks[order]
	lines  chunks[Line]  // every order's line items, in row order
	owner  chunks[int32] // the order of each of lines
	probs  []feed.Problem
	strs   map[string]string // interned values that repeat (product ids, quantities…)
	keys   []string          // attribute keys, by cfg.Attributes index
	status []string          // the status columns as configured
	known  string            // the known statuses, listed for a problem
}

func newBuilder(cfg *Config, source string) *builder {
	b := &builder{cfg: cfg, source: source, dec: cfg.decimal(), index: map[string]int32{}, strs: map[string]string{},
		status: cfg.Columns.statusParts()}
	for _, a := range cfg.Attributes {
		b.keys = append(b.keys, attrKey(a))
	}
	return b
}

// maxInterned bounds the interning table: past it, values are copied.
const maxInterned = 1 << 17

func (b *builder) intern(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := b.strs[s]; ok {
		return v
	}
	if b.clone {
		s = strings.Clone(s)
	}
	if len(b.strs) < maxInterned {
		b.strs[s] = s
	}
	return s
}

func (b *builder) keep(s string) string {
	if b.clone {
		return strings.Clone(s)
	}
	return s
}

func (b *builder) problem(line int, id string, kind feed.ProblemKind, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if b.source != "" {
		msg = b.source + ": " + msg
	}
	b.probs = append(b.probs, feed.Problem{Line: line, ItemID: id, Kind: kind, Msg: msg})
}

// reject skips order i for a defect on line: one ProblemSkippedItem for
// the order's first defect, ProblemOther for later ones.
func (b *builder) reject(i int32, line int, msg string) {
	o := b.orders.at(int(i))
	if o.bad {
		b.problem(line, o.ID, feed.ProblemOther, "%s (the order is skipped already)", msg)
		return
	}
	o.bad = true
	b.problem(line, o.ID, feed.ProblemSkippedItem, "%s: order skipped", msg)
}

// skipRow reports a row that belongs to no order it could name.
func (b *builder) skipRow(line int, id, msg string) {
	if id != "" {
		b.rejectID(id, line, msg)
		return
	}
	b.problem(line, "", feed.ProblemSkippedItem, "%s: row skipped", msg)
}

// rejectID skips the order of id (creating it, so that its other rows
// are absorbed and the order is not sent incomplete).
func (b *builder) rejectID(id string, line int, msg string) {
	i, ok := b.index[id]
	if !ok {
		i = b.newOrder(id, line)
	}
	b.reject(i, line, msg)
}

func (b *builder) newOrder(id string, line int) int32 {
	id = b.keep(id)
	i := int32(b.orders.add(order{Deal: Deal{ID: id, Line: line, Order: Order{ID: id}}}))
	b.index[id] = i
	return i
}

// add files one row under its order.
func (b *builder) add(r *row) {
	cols := &b.cfg.Columns
	if r.id == "" {
		b.problem(r.line, "", feed.ProblemSkippedItem, "no order id (column %q): row skipped", clip(cols.OrderID))
		return
	}
	i, seen := b.index[r.id]
	if seen && b.unique {
		b.problem(r.line, r.id, feed.ProblemSkippedItem, "order %q was read on line %d already: this line skipped", clip(r.id), b.orders.at(int(i)).Line)
		return
	}
	if !seen {
		i = b.newOrder(r.id, r.line)
	}
	if r.defect != "" {
		b.reject(i, r.line, r.defect)
	}
	ord := b.orders.at(int(i))
	d, m := &ord.Deal, &ord.meta
	if m.bad {
		return // reported: the order's other rows go with it
	}
	o := &d.Order
	b.set(i, &o.Email, r.email, cols.Email, r.line)
	b.set(i, &o.CustomerID, r.customer, cols.CustomerID, r.line)
	b.set(i, &o.Placed, r.placed, cols.Placed, r.line)
	b.set(i, &o.Updated, r.updated, cols.Updated, r.line)
	if r.currency != "" {
		if o.Currency == "" {
			o.Currency = b.intern(r.currency)
		} else {
			b.differs(i, o.Currency, r.currency, cols.Currency, r.line)
		}
	}
	if r.total != "" {
		if v, err := b.number(r.total, r.totalJSON); err != nil {
			b.reject(i, r.line, fmt.Sprintf("total (column %q): %v", clip(cols.Total), err))
		} else if o.Total == "" {
			o.Total = b.keep(v)
		} else if trimDecimal(v) != trimDecimal(o.Total) {
			b.differs(i, o.Total, v, cols.Total, r.line)
		}
	}
	for p, v := range r.status {
		if v == "" {
			continue
		}
		if m.status[p] == "" {
			m.status[p] = b.intern(v)
			if m.statusLine == 0 {
				m.statusLine = r.line
			}
		} else {
			b.differs(i, m.status[p], v, b.status[p], r.line)
		}
	}
	for a, v := range r.attrs {
		if v == "" {
			continue
		}
		key := b.keys[a]
		if old, ok := o.Attrs[key]; ok {
			b.differs(i, old, cut(v), b.cfg.Attributes[a], r.line)
			continue
		}
		if o.Attrs == nil {
			o.Attrs = make(map[string]string, len(b.keys))
		}
		if c := cut(v); len(c) < len(v) {
			b.problem(r.line, d.ID, feed.ProblemOther, "attribute %q cut to %d characters", key, tree.MaxStringLen)
			v = c
		}
		o.Attrs[key] = b.intern(v)
	}
	for _, l := range r.lines {
		if l.product == "" {
			if l.quantity != "" || l.value != "" {
				b.problem(r.line, d.ID, feed.ProblemOther, "a line item without a product id (column %q): left out of the deal", clip(cols.LineProduct))
			}
			continue
		}
		q, err := b.number(l.quantity, l.qtyJSON)
		if err != nil && err != errEmptyNumber {
			b.reject(i, r.line, fmt.Sprintf("line item %q: quantity (column %q): %v", clip(l.product), clip(cols.LineQuantity), err))
			continue
		}
		v, err := b.number(l.value, l.valueJSON)
		if err != nil && err != errEmptyNumber {
			b.reject(i, r.line, fmt.Sprintf("line item %q: value (column %q): %v", clip(l.product), clip(cols.LineValue), err))
			continue
		}
		at := int32(b.lines.add(Line{Product: b.intern(l.product), Quantity: b.intern(q), Value: b.intern(v)}))
		b.owner.add(i)
		switch {
		case m.nLines == 0:
			m.first = at
		case m.last != at-1 || at>>chunkBits != m.first>>chunkBits:
			m.scattered = true
		}
		m.last = at
		m.nLines++
	}
}

// set stores an order-level string from the first row that has it.
func (b *builder) set(i int32, dst *string, v, column string, line int) {
	switch {
	case v == "":
	case *dst == "":
		*dst = b.keep(v)
	default:
		b.differs(i, *dst, v, column, line)
	}
}

// differs reports, once per order, a row whose order-level value is not
// the one an earlier row gave: two orders sharing an id, or an export
// that repeats changing values.
func (b *builder) differs(i int32, kept, v, column string, line int) {
	o := b.orders.at(int(i))
	if kept == v || o.conflict || o.bad {
		return
	}
	o.conflict = true
	b.problem(line, o.ID, feed.ProblemOther, "column %q is %q here, %q on an earlier row of the order: the earlier value is kept",
		clip(column), clip(v), clip(kept))
}

func (b *builder) number(s string, jsonNumber bool) (string, error) {
	if s == "" {
		return "", errEmptyNumber
	}
	if jsonNumber {
		return parseJSONNumber(s)
	}
	return parseNumber(s, b.dec)
}

// cut shortens an attribute value to tree.MaxStringLen characters.
func cut(s string) string {
	n := 0
	for i := range s {
		if n == tree.MaxStringLen {
			return s[:i]
		}
		n++
	}
	return s
}

// finish decides each order's status and User ID and returns the deals in
// first-row order, and every problem sorted by line.
func (b *builder) finish() ([]Deal, []feed.Problem) {
	cols := &b.cfg.Columns
	rule := b.cfg.rule()
	kept, nLines, nScattered := 0, 0, 0
	for i := 0; i < b.orders.len(); i++ {
		o := b.orders.at(i)
		if o.bad {
			continue
		}
		o.bad = !b.usable(o, cols, rule)
		if !o.bad {
			kept++
			nLines += int(o.nLines)
			if o.scattered {
				nScattered += int(o.nLines)
			}
		}
	}
	// An order whose lines are contiguous in b.lines keeps them where
	// they are; a scattered one's are gathered in row order.
	if nScattered > 0 {
		gathered := make([]Line, nScattered)
		next := 0
		for i := 0; i < b.orders.len(); i++ {
			if o := b.orders.at(i); !o.bad && o.scattered {
				o.Order.Lines = gathered[next : next : next+int(o.nLines)]
				next += int(o.nLines)
			}
		}
		for j := 0; j < b.owner.len(); j++ {
			if o := b.orders.at(int(*b.owner.at(j))); !o.bad && o.scattered {
				o.Order.Lines = append(o.Order.Lines, *b.lines.at(j))
			}
		}
	}
	products := make([]string, nLines)
	out := make([]Deal, 0, kept)
	next := 0
	for i := 0; i < b.orders.len(); i++ {
		o := b.orders.at(i)
		if o.bad || o.nLines == 0 {
			if !o.bad {
				out = append(out, o.Deal)
			}
			continue
		}
		if !o.scattered {
			f := int(o.first) & (1<<chunkBits - 1)
			o.Order.Lines = b.lines.c[o.first>>chunkBits][f : f+int(o.nLines) : f+int(o.nLines)]
		}
		ps := products[next : next+int(o.nLines) : next+int(o.nLines)]
		next += int(o.nLines)
		for j, l := range o.Order.Lines {
			ps[j] = l.Product
		}
		o.Products = ps
		out = append(out, o.Deal)
	}
	b.orders, b.lines, b.owner = chunks[order]{}, chunks[Line]{}, chunks[int32]{}
	sort.SliceStable(b.probs, func(x, y int) bool { return b.probs[x].Line < b.probs[y].Line })
	return out, b.probs
}

// usable sets an order's status and reports whether it can be sent: it has
// a known status and, under an e-mail rule, a usable e-mail.
func (b *builder) usable(o *order, cols *Columns, rule UserIDRule) bool {
	d := &o.Deal
	status := o.status[0]
	if len(b.status) == 2 && (o.status[0] != "" || o.status[1] != "") {
		status = o.status[0] + "/" + o.status[1]
	}
	d.Order.Status = status
	line := o.statusLine
	if line == 0 {
		line = d.Line
	}
	if status == "" {
		b.problem(d.Line, d.ID, feed.ProblemSkippedItem, "no status (column %q): order skipped", clip(cols.Status))
		return false
	}
	if _, ok := b.cfg.Stages.Of(status); !ok {
		if b.known == "" {
			b.known = knownList(b.cfg)
		}
		b.problem(line, d.ID, feed.ProblemSkippedItem, "%s: order skipped", unknownStatusMsg(b.cfg, status, b.known))
		return false
	}
	if err := checkUser(rule, d.Order.Email, d.Order.CustomerID); err != nil {
		if errors.Is(err, errNoEmail) {
			b.problem(d.Line, d.ID, feed.ProblemSkippedItem, "no e-mail (column %q): no User ID under user_id %s: order skipped", clip(cols.Email), rule)
			return false
		}
		if rule != UserColumn {
			b.problem(d.Line, d.ID, feed.ProblemSkippedItem, "%v: order skipped", err)
			return false
		}
		b.problem(d.Line, d.ID, feed.ProblemOther, "%v: the deal is sent without a User ID", err)
	}
	return true
}

// unknownStatus is the message of a status Stages does not know.
func unknownStatus(cfg *Config, status string) string {
	return unknownStatusMsg(cfg, status, knownList(cfg))
}

func unknownStatusMsg(cfg *Config, status, known string) string {
	return fmt.Sprintf("unknown status %q (column %q; known: %s): map it under stages.statuses, it is never guessed",
		clip(status), clip(cfg.Columns.Status), known)
}

// knownList lists the known statuses for a message, cut past 600 bytes.
func knownList(cfg *Config) string {
	list := strings.Join(cfg.Stages.Known(), ", ")
	list = cutBytes(list, 600)
	if list == "" {
		list = "none"
	}
	return list
}

// errNoEmail: an order without an e-mail under an e-mail rule.
var errNoEmail = errors.New("no e-mail")

// checkUser is userOf without making the User ID.
func checkUser(rule UserIDRule, email, customer string) error {
	email = strings.TrimSpace(email)
	if rule == UserColumn {
		if strings.TrimSpace(customer) != "" {
			return nil
		}
		if email == "" {
			return errors.New("no customer id and no e-mail")
		}
		if _, err := normalEmail(email); err != nil {
			return fmt.Errorf("no customer id, and e-mail %q: %w", MaskEmail(email), err)
		}
		return nil
	}
	if email == "" {
		return fmt.Errorf("%w: no User ID under user_id %s", errNoEmail, rule)
	}
	if _, err := normalEmail(email); err != nil {
		return fmt.Errorf("e-mail %q: %w: no User ID under user_id %s", MaskEmail(email), err, rule)
	}
	return nil
}

// userOf is an order's User ID under rule; "" under rule column for an
// order with neither customer id nor usable e-mail (the error says which).
// Under rule column a guest (no customer id) gets the sha256_email User ID
// of its e-mail.
func userOf(rule UserIDRule, email, customer string) (string, error) {
	if err := checkUser(rule, email, customer); err != nil {
		return "", err
	}
	if rule == UserColumn {
		if c := strings.TrimSpace(customer); c != "" {
			return c, nil
		}
		rule = UserSHA256Email
	}
	return UserID(rule, email)
}
