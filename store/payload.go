package store

import (
	"bytes"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Payloads are stored compressed.
//
// The payloads (each product's last acknowledged JSON) are most of what the
// state file holds, and JSON compresses: each is stored as a zstd frame of
// its own, so that one payload reads without its neighbours. State files of
// earlier releases hold payloads as they are, and a JSON payload starts
// with '{' where a frame starts with the zstd magic number: a value that
// starts with the magic is decompressed, any other is the payload itself.
// So a state file written before keeps working, and each of its payloads is
// compressed when it is next acknowledged. An empty payload is stored empty.
//
// Every payload written goes through encodePayload, every payload read
// through decodePayload.

// zstdMagic starts every zstd frame (RFC 8878, 3.1.1).
var zstdMagic = []byte{0x28, 0xB5, 0x2F, 0xFD}

// maxPayload bounds what decompressing one stored value may allocate, which
// a damaged frame header could otherwise make huge: no product's JSON is
// near it.
const maxPayload = 64 << 20

// The encoder and decoder are shared: EncodeAll and DecodeAll are safe for
// concurrent use, each call taking one of a few coders of their own. They
// are made on first use.
var (
	payloadEncoder = sync.OnceValue(func() *zstd.Encoder {
		// SpeedFastest: on payloads of a generated feed (805 bytes on
		// average) it keeps 75% of the bytes and SpeedDefault 70%, for
		// half as much time again, and a first sync compresses every
		// payload.
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
		if err != nil {
			panic(err) // only for invalid options
		}
		return enc
	})
	payloadDecoder = sync.OnceValue(func() *zstd.Decoder {
		dec, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(maxPayload))
		if err != nil {
			panic(err) // only for invalid options
		}
		return dec
	})
)

// encodePayload returns the value that stores payload p.
func encodePayload(p []byte) []byte {
	if len(p) == 0 {
		return p
	}
	return payloadEncoder().EncodeAll(p, nil)
}

// decodePayload returns the payload stored as v, in memory of its own (v
// may be bbolt's, valid only in its transaction). A frame that does not
// decompress (a damaged page) is returned as stored: like a damaged JSON
// payload before, it reads as no JSON, and the caller treats it as
// unreadable (an unavailable mark then carries only the product's id).
func decodePayload(v []byte) []byte {
	if !bytes.HasPrefix(v, zstdMagic) {
		return bytes.Clone(v)
	}
	p, err := payloadDecoder().DecodeAll(v, nil)
	if err != nil {
		return bytes.Clone(v)
	}
	return p
}
