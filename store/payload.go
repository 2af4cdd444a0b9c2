package store

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"strings"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// Payloads are stored compressed.
//
// The payloads (each product's last acknowledged JSON) are most of what the
// state file holds, and JSON compresses: each is stored on its own, so that
// one payload reads without its neighbours. Three forms are read, told
// apart by their first byte (a JSON payload starts with '{'):
//
//   - payloadS2 (format version 5 writes it): the byte, the CRC-32C of the
//     payload (4 bytes, big-endian), then an S2 block compressed against
//     payloadDict, a dictionary of the payloads' own field names;
//   - the zstd magic number: a zstd frame, as format version 4 wrote it;
//   - anything else: the payload itself, as versions 2 and 3 wrote it.
//
// So a state file written before keeps working, and each of its payloads is
// rewritten in the current form when it is next acknowledged. An empty
// payload is stored empty.
//
// S2 rather than zstd: a first sync compresses every payload, and zstd's
// fastest level spent some 10 µs on each (its entropy tables are built
// anew for every frame: 7–10 CPU-seconds of the 1M-item feed's first
// sync); S2 against the dictionary spends under 2 µs and keeps fewer bytes
// (64% of a generated feed's payloads against zstd's 75%, 66% of real
// shops' against 67%). S2 blocks carry no checksum, hence the CRC: a
// damaged value reads as stored, as a damaged zstd frame did.
//
// Every payload written goes through appendPayload, every payload read
// through decodePayload.

// payloadS2 starts a payload stored as an S2 block (see above).
const payloadS2 = 0x01

// zstdMagic starts every zstd frame (RFC 8878, 3.1.1).
var zstdMagic = []byte{0x28, 0xB5, 0x2F, 0xFD}

// maxPayload bounds what decompressing one stored value may allocate, which
// a damaged header could otherwise make huge: no product's JSON is near it.
const maxPayload = 64 << 20

// payloadDictText is what every S2 payload is compressed against: the
// catalog fields in the order a payload has them (sorted), with the values
// of the few that take a handful of values, and pieces of URLs. It holds no
// feed's content. Never change it: the payloads of every state file written
// since format version 5 are read with it (a new dictionary needs a first
// byte of its own).
const payloadDictText = `out_of_stock","preorder","backorder","refurbished","used","USD","GBP","PLN","CZK",".html",".jpg",".png",".webp","?utm_source=&utm_medium=&utm_campaign=","http://www.` +
	`{"availability":"in_stock","brand":"","category_name":" > ","color":"","colors":"","condition":"new","currency":"EUR","custom_id":"","description":"","gtin":"","image_url":"https://www.","in_stock_count":1,"item_group_id":"","material":"","materials":"","mpn":"","name":"","pattern":"","patterns":"","price":0.00,"price_max":0.00,"product_url":"https://www.","sale_price":0.00,"size":"","sizes":"","sku":"","variant_count":2}`

var (
	// payloadDict's first repeat offset is the start of the template
	// object, where nearly every payload starts: fixed here, not searched
	// for, so that it never depends on the library's choice.
	payloadDict = sync.OnceValue(func() *s2.Dict {
		d := s2.MakeDictManual([]byte(payloadDictText), uint16(strings.Index(payloadDictText, `{"availability"`)))
		if d == nil {
			panic("store: invalid payload dictionary")
		}
		return d
	})
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
	// The zstd decoder reads the payloads of version 4 files; DecodeAll is
	// safe for concurrent use. It is made on first use.
	payloadDecoder = sync.OnceValue(func() *zstd.Decoder {
		dec, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(maxPayload))
		if err != nil {
			panic(err) // only for invalid options
		}
		return dec
	})
)

// appendPayload appends the value that stores the non-empty payload p to
// dst, in dst's spare capacity when it has room for the worst case
// (maxStored).
func appendPayload(dst, p []byte) []byte {
	start := len(dst)
	if cap(dst)-start < maxStored(len(p)) {
		dst = append(make([]byte, 0, start+maxStored(len(p))), dst...)
	}
	dst = dst[:start+5]
	dst[start] = payloadS2
	binary.BigEndian.PutUint32(dst[start+1:start+5], crc32.Checksum(p, castagnoli))
	block := payloadDict().Encode(dst[start+5:cap(dst)], p)
	return dst[:start+5+len(block)]
}

// maxStored is the most bytes appendPayload may need for a payload of n.
func maxStored(n int) int { return 5 + s2.MaxEncodedLen(n) }

// payloadArena hands out the stored values of a batch's payloads from
// shared blocks, one allocation for a hundred payloads or so.
type payloadArena struct{ buf []byte }

// store returns the value that stores p, which stays valid as long as the
// caller holds it.
func (a *payloadArena) store(p []byte) []byte {
	if len(p) == 0 {
		return p
	}
	if need := maxStored(len(p)); cap(a.buf)-len(a.buf) < need {
		a.buf = make([]byte, 0, max(64<<10, need))
	}
	start := len(a.buf)
	a.buf = appendPayload(a.buf, p)
	return a.buf[start:len(a.buf):len(a.buf)]
}

// decodePayload returns the payload stored as v, in memory of its own (v
// may be bbolt's, valid only in its transaction). A value that does not
// decompress, or not to the bytes its checksum names (a damaged page), is
// returned as stored: like a damaged JSON payload before, it reads as no
// JSON, and the caller treats it as unreadable (an unavailable mark then
// carries only the product's id).
func decodePayload(v []byte) []byte {
	switch {
	case len(v) > 5 && v[0] == payloadS2:
		if n, err := s2.DecodedLen(v[5:]); err != nil || n > maxPayload {
			return bytes.Clone(v)
		}
		p, err := payloadDict().Decode(nil, v[5:])
		if err != nil || crc32.Checksum(p, castagnoli) != binary.BigEndian.Uint32(v[1:5]) {
			return bytes.Clone(v)
		}
		return p
	case bytes.HasPrefix(v, zstdMagic):
		p, err := payloadDecoder().DecodeAll(v, nil)
		if err != nil {
			return bytes.Clone(v)
		}
		return p
	}
	return bytes.Clone(v)
}
