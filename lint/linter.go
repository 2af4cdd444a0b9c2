package lint

import (
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"strings"

	"github.com/feedsync/feedsync/feed"
	"github.com/feedsync/feedsync/tree"
)

// batchSize is how many items the reader hands to the checks at a time.
const batchSize = 256

// DefaultMaxPerRule is how many findings of one rule a Report keeps in
// detail; the rest are counted.
const DefaultMaxPerRule = 1000

// Options configure a Linter.
type Options struct {
	// Policy, when set, also checks variant groups as that policy would
	// shape them (duplicate variants, brand mismatch, groups of one…).
	Policy tree.Policy
	// Disable and Enable list rule codes; Enable wins when a code is in both,
	// and turns on rules that are off by default.
	Disable, Enable []string
	// MaxPerRule caps the findings kept per rule: 0 means DefaultMaxPerRule,
	// a negative value keeps all.
	MaxPerRule int
}

// Linter checks feeds one after another and collects one Report.
// It is not safe for concurrent use.
type Linter struct {
	opts     Options
	on       [numRules]bool
	counts   [numRules]int
	kept     [numRules]int
	max      int
	findings []Finding
	files    []FileSummary
	order    map[string]int
	seed     maphash.Seed

	// ids holds an idRec per item id, keyed by the hash of the lower-cased
	// id (probing the next key on a clash, as tree's Builder does), and,
	// under --policy parent, one per group of each finished feed (its
	// custom_id). With shared-custom-id on it keeps the ids of every feed of
	// the run, so that a later feed's custom_ids are checked against the
	// earlier feeds'; with it off it is emptied for each feed.
	ids map[uint64]idRec

	f     *fileState // the feed being linted
	lower []byte     // scratch for lower-cased text
}

// New returns a Linter, or an error naming an unknown rule code or policy.
func New(opts Options) (*Linter, error) {
	l := &Linter{opts: opts, max: opts.MaxPerRule, order: map[string]int{}, seed: maphash.MakeSeed()}
	if l.max == 0 {
		l.max = DefaultMaxPerRule
	}
	if opts.Policy != "" {
		if _, err := tree.ParsePolicy(string(opts.Policy)); err != nil {
			return nil, fmt.Errorf("policy %w", err)
		}
	}
	for i, r := range registry {
		l.on[i] = !r.Off && (!r.Policy || opts.Policy != "")
	}
	var unknown []string
	for _, list := range []struct {
		codes []string
		on    bool
	}{{opts.Disable, false}, {opts.Enable, true}} {
		for _, c := range list.codes {
			if strings.TrimSpace(c) == "" {
				continue
			}
			id, ok := ruleByCode(c)
			if !ok {
				unknown = append(unknown, fmt.Sprintf("%q", c))
				continue
			}
			l.on[id] = list.on
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("unknown rule code %s (feedsync lint --rules lists them)", strings.Join(unknown, ", "))
	}
	return l, nil
}

// Enabled lists the rules that run.
func (l *Linter) Enabled() []Rule {
	var out []Rule
	for i, r := range registry {
		if l.on[i] {
			out = append(out, r)
		}
	}
	return out
}

// hit counts a finding of rule id and reports whether it should be recorded
// in detail (add); false when the rule is off or past its cap.
func (l *Linter) hit(id ruleID) bool {
	if !l.on[id] {
		return false
	}
	l.counts[id]++
	return l.max < 0 || l.kept[id] < l.max
}

// add records a finding that hit allowed.
func (l *Linter) add(id ruleID, line int, itemID, attr, msg string) {
	l.kept[id]++
	file := ""
	if l.f != nil {
		file = l.f.name
	}
	l.findings = append(l.findings, Finding{
		File: file, Line: line, ItemID: strings.Clone(itemID), Attr: attr,
		Code: registry[id].Code, Severity: registry[id].Severity, Message: msg,
	})
}

// report is hit and add in one, for findings that are cheap to describe.
func (l *Linter) report(id ruleID, line int, itemID, attr, msg string) {
	if l.hit(id) {
		l.add(id, line, itemID, attr, msg)
	}
}

// reportf is report with a message formatted only when it is kept. Its
// arguments are boxed into interfaces before hit is asked, an allocation
// for each string even when the finding is only counted: the per-item
// checks write "if l.hit(id) { l.addf(…) }" instead.
func (l *Linter) reportf(id ruleID, line int, itemID, attr, format string, args ...any) {
	if l.hit(id) {
		l.addf(id, line, itemID, attr, format, args...)
	}
}

// addf is add with a formatted message.
func (l *Linter) addf(id ruleID, line int, itemID, attr, format string, args ...any) {
	l.add(id, line, itemID, attr, fmt.Sprintf(format, args...))
}

// Unreadable records a feed that could not be opened or fetched at all.
func (l *Linter) Unreadable(source string, err error) {
	l.startFile(source)
	l.files[len(l.files)-1].Fatal = true
	l.report(rUnreadable, 0, "", "", err.Error())
	l.f = nil
}

// Lint reads one feed from r (source names it in findings; format may be
// feed.FormatAuto) and checks every item. It returns an error, also
// recorded as a finding, when the feed could not be read to its end; the
// items before the stop are checked all the same.
func (l *Linter) Lint(r io.Reader, source string, format feed.Format, opts ...feed.ReaderOption) error {
	sn := &sniffer{r: r}
	fs := l.startFile(source)
	defer func() { l.f = nil }()
	fr, err := feed.NewReader(sn, source, format, opts...)
	if err != nil {
		l.fatal(err)
		return err
	}
	fs.format = fr.Format()
	fs.delimited = fs.format == feed.FormatCSV || fs.format == feed.FormatTSV
	l.files[len(l.files)-1].Format = string(fs.format)
	l.fileChecks(sn)
	// Three goroutines: the reader (and the sniffer under it) hands items
	// over in batches; a second one runs the character-level checks, the
	// costliest per byte; this one runs the item rules and keeps the
	// feed-wide records. On two cores linting costs about what parsing does.
	type batch struct {
		items   []*feed.Item
		pending []pending
		defects []attrDefect
	}
	read := make(chan *batch, 4)
	scanned := make(chan *batch, 4)
	var stop error
	var problems []feed.Problem
	go func() {
		defer close(read)
		at := &attributor{sn: sn}
		b := &batch{}
		for {
			it, err := fr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				stop = err
				break
			}
			b.pending = at.upTo(it.Line, b.pending)
			at.prev = it
			b.items = append(b.items, it)
			if len(b.items) == batchSize {
				read <- b
				b = &batch{items: make([]*feed.Item, 0, batchSize)}
			}
		}
		b.pending = at.upTo(int(^uint(0)>>1), b.pending)
		problems = fr.Problems()
		read <- b
	}()
	go func() {
		defer close(scanned)
		for b := range read {
			b.defects = scanItems(b.items, fs.delimited, b.defects)
			scanned <- b
		}
	}()
	for b := range scanned {
		d := b.defects
		for i, it := range b.items {
			n := 0
			for n < len(d) && d[n].item == i {
				n++
			}
			l.itemScanned(it, d[:n])
			d = d[n:]
		}
		l.files[len(l.files)-1].Items += len(b.items)
		for _, p := range b.pending {
			l.report(p.rule, p.line, p.id, p.attr, p.msg)
		}
	}
	l.problems(problems)
	l.finishFile()
	if stop != nil {
		l.fatal(stop)
		return stop
	}
	return nil
}

// fatal records the error that stopped a feed.
func (l *Linter) fatal(err error) {
	l.files[len(l.files)-1].Fatal = true
	var pe *feed.ParseError
	if errors.As(err, &pe) {
		msg := pe.Err.Error()
		if pe.Column > 0 {
			msg = fmt.Sprintf("column %d: %s", pe.Column, msg)
		}
		l.report(rParseError, pe.Line, pe.ItemID, "", msg+" (reading stopped here)")
		return
	}
	l.report(rParseError, 0, "", "", err.Error()+" (reading stopped here)")
}

// Report returns the findings so far, sorted, with their counts.
func (l *Linter) Report() *Report {
	r := &Report{Files: append([]FileSummary(nil), l.files...), Rules: l.Enabled()}
	r.Findings = append([]Finding(nil), l.findings...)
	sortFindings(r.Findings, l.order)
	for i, n := range l.counts {
		if n == 0 {
			continue
		}
		sev := registry[i].Severity
		r.Counts = append(r.Counts, RuleCount{Code: registry[i].Code, Severity: sev, Count: n, Omitted: n - l.kept[i]})
		switch sev {
		case Error:
			r.Errors += n
		case Warning:
			r.Warnings += n
		default:
			r.Infos += n
		}
	}
	return r
}

// fileState is what the feed-wide checks of one feed remember.
type fileState struct {
	name      string
	index     int32 // in Linter.files, and idRec.file of this feed's ids
	format    feed.Format
	delimited bool

	groups   map[uint64]int32 // hash of the lower-cased item_group_id → index in recs
	recs     []groupRec
	variants map[variantKey]variantRec
	gtins    map[uint64]gtinRec
	prefix13 map[uint32]struct{} // first 7 digits of the 13-digit GTINs (prefix7)
	gtin12   []pendingGTIN
	unknown  map[string]*unknownRec
	unknownN []string // names in order of first appearance
	text     []byte   // the strings of textRefs
}

// idRec is 16 bytes per item: the first line, 32 bits of the exact id's
// hash (to tell a case-only duplicate, and a custom_id another feed shares),
// 32 of the group's (for the parent policy) and the feed the item is in.
// (A map slot is 24 bytes either way: the 8-byte key's alignment pads a
// 12-byte idRec to 16.) With shared-custom-id on, the records of every feed
// of the run stay: lint a.xml b.xml keeps about as much as linting one feed
// of both feeds' items.
type idRec struct {
	line  int32
	exact uint32
	group uint32 // 32 bits of the lower-cased item_group_id's hash; 0 without one, and for a parent (parentClaims)
	file  int32  // index in Linter.files
}

type gtinRec struct {
	line  int32
	group uint32 // as in idRec
}

type pendingGTIN struct {
	line     int32
	id, gtin string
}

type unknownRec struct {
	line  int
	id    string
	items int
}

const (
	maxPending12 = 10000
	maxPrefix13  = 100000
	maxUnknown   = 1000
)

func (l *Linter) startFile(source string) *fileState {
	if _, ok := l.order[source]; !ok {
		l.order[source] = len(l.order)
	}
	l.files = append(l.files, FileSummary{File: source})
	if l.ids == nil || !l.on[rSharedCustomID] {
		l.ids = map[uint64]idRec{}
	}
	l.f = &fileState{
		name:     source,
		index:    int32(len(l.files) - 1),
		groups:   map[uint64]int32{},
		variants: map[variantKey]variantRec{},
		gtins:    map[uint64]gtinRec{},
		prefix13: map[uint32]struct{}{},
		unknown:  map[string]*unknownRec{},
	}
	return l.f
}

// fileChecks looks at the start of the file: byte order mark, delimiter,
// header spelling.
func (l *Linter) fileChecks(sn *sniffer) {
	f := l.f
	head := sn.head
	if sn.compressed {
		return
	}
	if bytes.HasPrefix(head, utf8BOM) {
		l.report(rBOM, 1, "", "", "the file starts with a UTF-8 byte order mark")
		head = head[len(utf8BOM):]
	}
	if !f.delimited {
		return
	}
	if f.format == feed.FormatCSV {
		l.report(rCommaDelimited, 1, "", "", "the file is comma-separated; Merchant Center file feeds are tab-separated text")
	}
	// The header line: the first non-blank line.
	line := 1
	for {
		i := bytes.IndexByte(head, '\n')
		cur := head
		if i >= 0 {
			cur = head[:i]
		}
		if len(bytes.TrimSpace(cur)) > 0 || i < 0 {
			head = cur
			break
		}
		head = head[i+1:]
		line++
	}
	sep := "\t"
	if f.format == feed.FormatCSV {
		sep = ","
	}
	for _, raw := range strings.Split(strings.TrimRight(string(head), "\r"), sep) {
		raw = strings.Trim(strings.TrimSpace(raw), `"`)
		base := raw
		if i := strings.IndexByte(base, '('); i > 0 {
			base = base[:i]
		}
		name := feed.NormalizeName(base)
		if name == "" || name == base {
			continue
		}
		l.reportf(rHeaderSpelling, line, "", name, "header %q: write %s", raw, name)
	}
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// problems turns the reader's problems into findings.
func (l *Linter) problems(ps []feed.Problem) {
	for _, p := range ps {
		id := rReaderProblem
		switch p.Kind {
		case feed.ProblemDuplicateHeader:
			id = rDuplicateHeader
		case feed.ProblemSkippedItem:
			id = rSkippedItem
		}
		l.report(id, p.Line, p.ItemID, "", p.Msg)
	}
}

// finishFile runs the checks that need the whole feed.
func (l *Linter) finishFile() {
	f := l.f
	l.finishGroups()
	for _, p := range f.gtin12 {
		if _, ok := f.prefix13[prefix7(p.gtin)]; ok {
			l.reportf(rGTINTruncated, int(p.line), p.id, "gtin", "gtin %q has 12 digits but starts like the feed's 13-digit GTINs (%s…): probably an EAN-13 missing its last digit", p.gtin, p.gtin[:7])
		}
	}
	for _, name := range f.unknownN {
		u := f.unknown[name]
		msg := fmt.Sprintf("unknown attribute %q", name)
		if why := deprecatedAttrs[name]; why != "" {
			msg = fmt.Sprintf("attribute %q: %s", name, why)
		}
		if u.items > 1 {
			msg += fmt.Sprintf(" (on %d items; this is the first)", u.items)
		}
		l.report(rUnknownAttribute, u.line, u.id, name, msg)
	}
}
