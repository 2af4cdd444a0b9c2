package feed

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// delimitedInput returns a delimited feed as UTF-8 text. A CSV or TSV file
// cannot declare its encoding, so only what is certain is transcoded:
//
//   - a UTF-8 byte order mark: the text is UTF-8 (the mark is dropped by
//     newDelimitedReader), whatever charset says;
//   - a UTF-16 byte order mark, or a first two characters each followed
//     (little-endian) or preceded (big-endian) by a zero byte, which no
//     UTF-8 header holds: UTF-16, transcoded;
//   - otherwise charset, when the caller declares one (the feed's
//     configuration, an HTTP Content-Type charset): any encoding the WHATWG
//     Encoding Standard names (windows-1250, ISO-8859-2, Shift_JIS…),
//     transcoded; an unknown name is an error.
//
// Anything else is read as UTF-8, and a row holding invalid UTF-8 is skipped
// with a problem (see delimitedReader.checkRow): the encoding is not guessed
// from the bytes, as the same bytes read as windows-1250 or windows-1252 give
// different letters.
func delimitedInput(r io.Reader, charset string) (io.Reader, error) {
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < 16 {
		br = bufio.NewReaderSize(r, 4096)
	}
	head, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(head, utf8BOM):
		return br, nil
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return transform.NewReader(br, unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewDecoder()), nil
	case len(head) == 4 && head[0] != 0 && head[1] == 0 && head[2] != 0 && head[3] == 0:
		return transform.NewReader(br, unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewDecoder()), nil
	case len(head) == 4 && head[0] == 0 && head[1] != 0 && head[2] == 0 && head[3] != 0:
		return transform.NewReader(br, unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewDecoder()), nil
	}
	charset = strings.TrimSpace(charset)
	if charset == "" {
		return br, nil
	}
	enc, err := htmlindex.Get(charset)
	if err != nil || enc == encoding.Replacement {
		return nil, fmt.Errorf("unsupported charset %q: feedsync reads UTF-8, UTF-16, ISO-8859-x, windows-125x and the other encodings of the WHATWG Encoding Standard", delimClip(charset))
	}
	if enc == unicode.UTF8 || enc == encoding.Nop {
		return br, nil
	}
	return transform.NewReader(br, enc.NewDecoder()), nil
}
