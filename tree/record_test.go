package tree

import (
	"reflect"
	"testing"
)

// FuzzRecordRoundTrip: a spill record decodes to the record that was
// encoded, and arbitrary bytes decode to a record or errCorrupt, never a
// panic (decodeRecord slices its buffer without copying).
func FuzzRecordRoundTrip(f *testing.F) {
	f.Add(int32(-1), int32(7), "SKU-1", "sku-1", "in_stock", "19.90", "EUR", "É – 😀", []byte{0x01, 0x02})
	f.Add(int32(3), int32(0), "", "", "", "", "", "", []byte{})
	f.Fuzz(func(t *testing.T, group, line int32, id, pid, avail, price, title, desc string, raw []byte) {
		if line < 0 {
			line = -line
		}
		r := &record{group: group, line: line, itemID: id, productID: pid, avail: avail, price: price,
			currency: "EUR", title: title, rank: 2, saleState: saleInForce, plural: [4]string{title, "", desc, ""},
			fields: []fieldValue{{spec: 3, value: desc, truncated: true}, {spec: 0, value: ""}}}
		enc := r.encode(nil)
		got, err := decodeRecord(append([]byte(nil), enc...))
		if err != nil {
			t.Fatalf("decode of an encoded record: %v", err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, r)
		}
		if rr, err := decodeRecord(raw); err == nil && rr == nil {
			t.Fatal("nil record without an error")
		}
	})
}
