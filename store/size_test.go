package store

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// sizeWords make product descriptions about as compressible as a real
// feed's: a few hundred words in several languages, drawn at random.
var sizeWords = strings.Fields(`durable comfortable water-repellent recycled fabric
materials designed everyday use seams reinforced finish lightweight breathable
wasserdicht für und materiál pohodlný bavlny z прочный материал для походов
軽量 防水 café naïve "quoted" it's < > & – € cotton wool leather stretch slim
regular fit machine washable imported sustainable organic vegan premium classic`)

var (
	sizeBrands     = []string{"Northwind", "O'Neill", "Kräm", "Hinoki", "Alpen & Co", "Tessera"}
	sizeCategories = []string{"Apparel & Accessories > Clothing > Shirts & Tops > Tee", "Sporting Goods > Outdoor Recreation > Camping & Hiking > Tents", "Home & Garden > Kitchen & Dining > Cookware", "Apparel & Accessories > Shoes > Sneaker"}
)

// sizePayload is a product's JSON as a sink acknowledges it: about 800
// bytes, like the payloads of a generated 200k-item feed.
func sizePayload(r *rand.Rand, id string, version int) []byte {
	var d strings.Builder
	for d.Len() < 300 {
		d.WriteString(sizeWords[r.IntN(len(sizeWords))])
		d.WriteByte(' ')
	}
	slug := strings.ToLower(strings.ReplaceAll(id, "-", ""))
	return fmt.Appendf(nil, `{"availability":%q,"brand":%q,"category_name":%q,"colors":"Black, Navy, Sand","condition":"new","currency":"EUR","custom_id":%q,"description":%q,"gtin":"%013d","image_url":"https://cdn.example.com/img/%s/main.jpg?w=1200&h=1200","in_stock_count":%d,"name":"%s %s %d","price":%d.%02d,"product_url":"https://shop.example.com/p/%s?variant=%s-1&utm_source=feed&utm_medium=merchant","sale_price":%d.%02d,"sizes":"S, M, L, XL","variant_count":%d}`,
		[]string{"in_stock", "out_of_stock", "preorder"}[r.IntN(3)], sizeBrands[r.IntN(len(sizeBrands))], sizeCategories[r.IntN(len(sizeCategories))], id, d.String(),
		4000000000000+r.IntN(1e9), slug, r.IntN(50), sizeBrands[r.IntN(len(sizeBrands))], sizeWords[r.IntN(len(sizeWords))], version,
		r.IntN(400), r.IntN(100), slug, id, r.IntN(100), r.IntN(100), 1+r.IntN(8))
}

// BenchmarkStateSize commits the acknowledgements of n products as a first
// sync does (batches of 2048, in the order the feed has them) and reports
// the state file's size per product (B/product: pages in use; file-B/product:
// the file, with bbolt's preallocation), then updates every product's
// payload as a sync of a feed whose every product changed does (upd-B/product). Products
// are numbered in feed order (P0, P1, …, which bbolt's byte order
// interleaves) or shuffled:
//
//	go test -run '^$' -bench StateSize -benchtime 1x ./store/
func BenchmarkStateSize(b *testing.B) {
	const n, batch = 100_000, 2048
	for _, order := range []string{"feed", "random"} {
		b.Run("order="+order, func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			ids := make([]string, n)
			for i := range ids {
				ids[i] = fmt.Sprintf("P%d", i)
			}
			if order == "random" {
				r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
			}
			payloads := make([][]byte, n)
			raw := 0
			for i, id := range ids {
				payloads[i] = sizePayload(r, id, 1)
				raw += len(payloads[i])
			}
			commitAll := func(db *DB) {
				at := time.Now()
				for i := 0; i < n; i += batch {
					acks := make([]Ack, 0, batch)
					for j := i; j < min(i+batch, n); j++ {
						acks = append(acks, Ack{ID: ids[j], At: at, Hash: sha256.Sum256(payloads[j]), Payload: payloads[j], State: Live})
					}
					if err := db.Commit("shop", acks); err != nil {
						b.Fatal(err)
					}
				}
			}
			var used, file, updated int64
			for b.Loop() {
				b.StopTimer()
				path := filepath.Join(b.TempDir(), "s.db")
				db, err := Open(path, Options{})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				commitAll(db)
				b.StopTimer()
				used, file = stateSize(b, db, path)
				for i, id := range ids {
					payloads[i] = sizePayload(r, id, 2)
				}
				commitAll(db)
				updated, _ = stateSize(b, db, path)
				db.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(raw)/n, "payload-B/product")
			b.ReportMetric(float64(used)/n, "B/product")
			b.ReportMetric(float64(file)/n, "file-B/product")
			b.ReportMetric(float64(updated)/n, "upd-B/product")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/product")
		})
	}
}

// stateSize is the size of the pages the state file uses and of the file.
func stateSize(tb testing.TB, db *DB, path string) (used, file int64) {
	tb.Helper()
	if err := db.bolt.View(func(tx *bolt.Tx) error { used = tx.Size(); return nil }); err != nil {
		tb.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return used, fi.Size()
}

func TestDenseKeys(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "s.db"))
	acks := func(from, to, step int) []*Ack {
		var out []*Ack
		for i := from; i < to; i += step {
			out = append(out, &Ack{ID: fmt.Sprintf("K%06d", i)})
		}
		return out
	}
	var stored []Ack
	for _, a := range acks(0, 10000, 10) {
		stored = append(stored, Ack{ID: a.ID, At: time.Now(), State: Live})
	}
	if err := db.Commit("shop", stored); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		keys []*Ack
		want bool
	}{
		{"past the last key", acks(10000, 12000, 1), true},
		{"between two stored keys", acks(5001, 5010, 1), true},
		{"the stored keys again", acks(0, 10000, 10), true},
		{"one between each pair of stored keys", acks(5, 10000, 10), false},
		{"one", acks(10001, 10002, 1), false},
	} {
		err := db.view("shop", func(fb *bolt.Bucket) error {
			if got := dense(fb.Bucket(bucketProducts), c.keys); got != c.want {
				t.Errorf("%s: dense %v, want %v", c.name, got, c.want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
