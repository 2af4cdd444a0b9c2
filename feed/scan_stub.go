package feed

// TEMPORARY: replaced by the raw-scan branch at merge.

import (
	"errors"
	"io"
)

var ErrNotScannable = errors.New("feed: this format cannot be scanned by its items' bytes")

func WithItemHash(seed uint64) ReaderOption { return func(*readerOptions) {} }

func ScanItems(r io.Reader, source string, format Format, seed uint64, fn func(line int, raw [16]byte) error, opts ...ReaderOption) error {
	return ErrNotScannable
}
