package store

import (
	"bytes"

	bolt "go.etcd.io/bbolt"
)

// Product ids across sources.
//
// An order line names a product as the shop's checkout knows it: usually a
// variant's SKU. The catalog knows it under the product feed's policy —
// under parent, by its group's id. A product feed that orders map their
// lines through keeps, in its ids bucket, every alias of each product (item
// id, product id, sku, gtin, mpn) and the custom_id it leads to, replaced
// as a whole by each run that read the feed.

var bucketIDs = []byte("ids")

// PutIDs replaces feed's ids with those each gives, in one transaction.
// Aliases longer than bbolt's key limit are left out.
func (db *DB) PutIDs(feed string, each func(put func(alias, custom string) error) error) error {
	return db.update(feed, func(fb *bolt.Bucket) error {
		if fb.Bucket(bucketIDs) != nil {
			if err := fb.DeleteBucket(bucketIDs); err != nil {
				return err
			}
		}
		ib, err := fb.CreateBucket(bucketIDs)
		if err != nil {
			return err
		}
		ib.FillPercent = 0.9
		return each(func(alias, custom string) error {
			if alias == "" || len(alias) > bolt.MaxKeySize {
				return nil
			}
			return ib.Put([]byte(alias), []byte(custom))
		})
	})
}

// HasIDs reports whether feed keeps ids.
func (db *DB) HasIDs(feed string) (bool, error) {
	has := false
	err := db.view(feed, func(fb *bolt.Bucket) error {
		has = fb != nil && fb.Bucket(bucketIDs) != nil
		return nil
	})
	return has, err
}

// IDMap looks aliases up in one read transaction; Close ends it.
type IDMap struct {
	tx *bolt.Tx
	b  *bolt.Bucket
}

// IDs opens feed's ids for lookups; a feed without ids maps nothing.
func (db *DB) IDs(feed string) (*IDMap, error) {
	if db.bolt == nil {
		return &IDMap{}, nil
	}
	m := &IDMap{}
	err := db.guarded(func() error {
		tx, err := db.bolt.Begin(false)
		if err != nil {
			return err
		}
		m.tx = tx
		if fb := feedBucket(tx, feed); fb != nil {
			m.b = fb.Bucket(bucketIDs)
		}
		return nil
	})
	return m, err
}

// Custom is the custom_id alias leads to.
func (m *IDMap) Custom(alias string) (string, bool) {
	if m == nil || m.b == nil {
		return "", false
	}
	v := m.b.Get([]byte(alias))
	if v == nil {
		return "", false
	}
	return string(bytes.Clone(v)), true
}

// Each calls fn with every alias and its custom_id, in alias order.
func (m *IDMap) Each(fn func(alias, custom string) error) error {
	if m == nil || m.b == nil {
		return nil
	}
	return m.b.ForEach(func(k, v []byte) error { return fn(string(k), string(v)) })
}

// Close ends the lookups.
func (m *IDMap) Close() error {
	if m == nil || m.tx == nil {
		return nil
	}
	err := m.tx.Rollback()
	m.tx = nil
	return err
}
