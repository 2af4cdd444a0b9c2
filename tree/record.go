package tree

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"unsafe"
)

// record is what the Builder keeps of one accepted item: the shaped payload
// fields and the few raw facts the derivations and Explain need — never the
// item's attributes. Records live in a spill (memory, then a temporary file),
// not on the heap.
type record struct {
	group     int32 // index into Builder.groups, or -1 for a standalone item
	line      int32
	itemID    string // the feed id (or the product id when the item has none)
	productID string // the custom_id under the variant policy
	rank      uint8  // availability rank, see rankOf
	avail     string // normalised availability, or the unknown raw value
	price     string // canonical decimal, "" when missing or malformed
	currency  string
	sale      string // sale price amount, "" when none or unusable
	saleState saleState
	saleNote  string // why the sale is (not) in force
	// saleNext is when saleState next changes (UnixNano; 0: never).
	saleNext int64
	// raw is the item's feed.Item.Raw, or zero when the item cannot be
	// recognised by its bytes (not hashed, or reported: see Raws).
	raw    [16]byte
	title  string    // the name source, whitespace collapsed
	plural [4]string // values of the colors, sizes, materials, patterns sources
	fields []fieldValue
}

// fieldValue is one shaped payload field: index into mapping.specs.
type fieldValue struct {
	spec      int
	value     string
	truncated bool
}

func (r *record) encode(buf []byte) []byte {
	buf = binary.AppendVarint(buf, int64(r.group))
	buf = binary.AppendUvarint(buf, uint64(r.line))
	buf = append(buf, r.raw[:]...)
	buf = binary.AppendVarint(buf, r.saleNext)
	for _, s := range []string{r.itemID, r.productID, r.avail, r.price, r.currency, r.sale, r.saleNote, r.title} {
		buf = appendString(buf, s)
	}
	buf = append(buf, r.rank, byte(r.saleState))
	for _, s := range r.plural {
		buf = appendString(buf, s)
	}
	buf = binary.AppendUvarint(buf, uint64(len(r.fields)))
	for _, f := range r.fields {
		buf = binary.AppendUvarint(buf, uint64(f.spec))
		t := byte(0)
		if f.truncated {
			t = 1
		}
		buf = append(buf, t)
		buf = appendString(buf, f.value)
	}
	return buf
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

var errCorrupt = errors.New("tree: corrupt spill record")

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte1() byte {
	if len(d.b) == 0 {
		d.err = errCorrupt
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) raw16() (out [16]byte) {
	if len(d.b) < 16 {
		d.err = errCorrupt
		return out
	}
	copy(out[:], d.b)
	d.b = d.b[16:]
	return out
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.err != nil || uint64(len(d.b)) < n {
		d.err = errCorrupt
		return ""
	}
	if n == 0 {
		return ""
	}
	// No copy: decodeRecord owns its buffer (see there).
	s := unsafe.String(&d.b[0], int(n))
	d.b = d.b[n:]
	return s
}

// decodeRecord decodes one spill record. The record's strings share b's
// memory, one allocation for the whole record instead of one per string:
// b must be a buffer of its own that is never written again.
func decodeRecord(b []byte) (*record, error) {
	d := &decoder{b: b}
	r := &record{}
	r.group = int32(d.varint())
	r.line = int32(d.uvarint())
	r.raw = d.raw16()
	r.saleNext = d.varint()
	for _, p := range []*string{&r.itemID, &r.productID, &r.avail, &r.price, &r.currency, &r.sale, &r.saleNote, &r.title} {
		*p = d.str()
	}
	r.rank = d.byte1()
	r.saleState = saleState(d.byte1())
	for i := range r.plural {
		r.plural[i] = d.str()
	}
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)) {
		d.err = errCorrupt
	}
	if d.err == nil {
		r.fields = make([]fieldValue, 0, n)
		for i := uint64(0); i < n && d.err == nil; i++ {
			f := fieldValue{spec: int(d.uvarint())}
			f.truncated = d.byte1() == 1
			f.value = d.str()
			r.fields = append(r.fields, f)
		}
	}
	return r, d.err
}

// spillMemLimit is how many bytes of records stay in memory before the
// spill moves to a temporary file. A variable so tests can force the file.
var spillMemLimit = 8 << 20

// spill is an append-only log of records: in memory while small, then in an
// unlinked temporary file, so that memory does not grow with the feed.
type spill struct {
	dir  string
	mem  []byte
	f    *os.File
	w    *bufio.Writer
	size int64  // bytes written, buffered ones included
	name string // file still to remove on close (systems that cannot unlink an open file)
	// win holds the file's bytes from winOff on, as eachRaw last read
	// them: at serves a record in it without a read of its own (a group's
	// records mostly follow the first, which eachRaw is at). The file is
	// append-only, so the bytes stay true.
	win    []byte
	winOff int64
}

// spillWindow is how many bytes of the file eachRaw reads at a time (a
// variable so tests can make records straddle windows, or outgrow them).
var spillWindow = 4 << 20

// append stores one record and returns its offset.
func (s *spill) append(rec []byte) (int64, error) {
	off := s.size
	var hdr [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(hdr[:], uint64(len(rec)))
	if s.f == nil && len(s.mem)+n+len(rec) > spillMemLimit {
		if err := s.toFile(); err != nil {
			return 0, err
		}
	}
	if s.f == nil {
		s.mem = append(append(s.mem, hdr[:n]...), rec...)
	} else {
		if _, err := s.w.Write(hdr[:n]); err != nil {
			return 0, fmt.Errorf("write spill file: %w", err)
		}
		if _, err := s.w.Write(rec); err != nil {
			return 0, fmt.Errorf("write spill file: %w", err)
		}
	}
	s.size += int64(n + len(rec))
	return off, nil
}

func (s *spill) toFile() error {
	f, err := os.CreateTemp(s.dir, "feedsync-tree-*.spill")
	if err != nil {
		return fmt.Errorf("create spill file (set TMPDIR to a writable directory): %w", err)
	}
	// Unlinked at once where the system allows it: nothing is left behind
	// even if the process is killed.
	if os.Remove(f.Name()) != nil {
		s.name = f.Name()
	}
	s.f = f
	s.w = bufio.NewWriterSize(f, 1<<20)
	if _, err := s.w.Write(s.mem); err != nil {
		return fmt.Errorf("write spill file: %w", err)
	}
	s.mem = nil
	return nil
}

// flush makes every appended record readable.
func (s *spill) flush() error {
	if s.w == nil {
		return nil
	}
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("write spill file: %w", err)
	}
	return nil
}

// readerAt gives random access to the flushed records.
func (s *spill) readerAt() io.ReaderAt {
	if s.f != nil {
		return s.f
	}
	return bytesReaderAt(s.mem)
}

type bytesReaderAt []byte

func (b bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// at reads the record stored at off.
func (s *spill) at(off int64) (*record, error) {
	if s.f != nil && off >= s.winOff && off < s.winOff+int64(len(s.win)) {
		if enc, ok := recordIn(s.win[off-s.winOff:]); ok {
			return decodeRecord(bytes.Clone(enc)) // decodeRecord keeps its bytes
		}
	}
	ra := s.readerAt()
	var hdr [binary.MaxVarintLen64]byte
	n, err := ra.ReadAt(hdr[:], off)
	if n == 0 && err != nil {
		return nil, fmt.Errorf("read spill: %w", err)
	}
	l, k := binary.Uvarint(hdr[:n])
	if k <= 0 {
		return nil, errCorrupt
	}
	buf := make([]byte, l)
	if _, err := ra.ReadAt(buf, off+int64(k)); err != nil && !(err == io.EOF && len(buf) == 0) {
		return nil, fmt.Errorf("read spill: %w", err)
	}
	return decodeRecord(buf)
}

// eachRaw calls fn with the bytes of every record in the order they were
// appended. The bytes are fn's only during the call: a record decoded from
// them must be decoded from a copy.
func (s *spill) eachRaw(fn func(off int64, enc []byte) error) error {
	if s.f == nil {
		for off := int64(0); off < s.size; {
			enc, ok := recordIn(s.mem[off:])
			if !ok {
				return fmt.Errorf("read spill: %w", errCorrupt)
			}
			if err := fn(off, enc); err != nil {
				return err
			}
			off += int64(uvarintLen(uint64(len(enc))) + len(enc))
		}
		return nil
	}
	// The file is read a window at a time, each window starting at the
	// first record the last one did not hold whole.
	defer func() { s.win, s.winOff = nil, 0 }()
	var buf []byte
	for off := int64(0); off < s.size; {
		enc, ok := recordIn(s.win[min(off-s.winOff, int64(len(s.win))):])
		if !ok {
			var err error
			if enc, buf, err = s.fill(off, buf); err != nil {
				return err
			}
		}
		if err := fn(off, enc); err != nil {
			return err
		}
		off += int64(uvarintLen(uint64(len(enc))) + len(enc))
	}
	return nil
}

// fill reads the window at off into buf (grown when a record outgrows a
// window) and returns the record it starts with.
func (s *spill) fill(off int64, buf []byte) (enc, _ []byte, err error) {
	need := int64(spillWindow)
	for {
		need = min(need, s.size-off)
		if int64(cap(buf)) < need {
			buf = make([]byte, need)
		}
		// The buffer is reused: fn is done with the last record, and at()
		// decodes a copy, never the window itself.
		buf = buf[:need]
		if _, err := s.f.ReadAt(buf, off); err != nil && err != io.EOF {
			return nil, buf, fmt.Errorf("read spill: %w", err)
		}
		s.win, s.winOff = buf, off
		if enc, ok := recordIn(buf); ok {
			return enc, buf, nil
		}
		l, k := binary.Uvarint(buf)
		if k <= 0 && need < int64(binary.MaxVarintLen64) && need < s.size-off {
			need = binary.MaxVarintLen64
			continue
		}
		if k <= 0 || int64(k)+int64(l) <= need {
			return nil, buf, fmt.Errorf("read spill at %d: %w", off, errCorrupt)
		}
		need = int64(k) + int64(l)
	}
}

// recordIn returns the record that b starts with, if b holds it whole.
func recordIn(b []byte) ([]byte, bool) {
	l, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < l {
		return nil, false
	}
	return b[k : k+int(l)], true
}

// peekRecord reads a record's group index, product id and item Raw without
// decoding the rest; the id shares enc's memory.
func peekRecord(enc []byte) (group int32, productID string, raw [16]byte, err error) {
	d := &decoder{b: enc}
	group = int32(d.varint())
	d.uvarint() // line
	raw = d.raw16()
	d.varint() // saleNext
	d.str()    // item id
	productID = d.str()
	return group, productID, raw, d.err
}

// each calls fn for every record in the order they were appended.
func (s *spill) each(fn func(off int64, r *record) error) error {
	br := bufio.NewReaderSize(io.NewSectionReader(s.readerAt(), 0, s.size), 1<<16)
	var off int64
	for off < s.size {
		l, err := binary.ReadUvarint(br)
		if err != nil {
			return fmt.Errorf("read spill: %w", err)
		}
		buf := make([]byte, l) // the record's own: decodeRecord keeps it
		if _, err := io.ReadFull(br, buf); err != nil {
			return fmt.Errorf("read spill: %w", err)
		}
		r, err := decodeRecord(buf)
		if err != nil {
			return err
		}
		if err := fn(off, r); err != nil {
			return err
		}
		off += int64(uvarintLen(l)) + int64(l)
	}
	return nil
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func (s *spill) close() error {
	if s.f == nil {
		s.mem = nil
		return nil
	}
	err := s.f.Close()
	if s.name != "" {
		os.Remove(s.name)
	}
	s.f, s.w = nil, nil
	return err
}
