package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"time"

	"github.com/feedsync/feedsync/config"
	"github.com/feedsync/feedsync/store"
)

// configFingerprint covers every setting that shapes payloads, their target
// or what happens to products that left the feed.
func (s *Syncer) configFingerprint(fc *config.Feed) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s", s.Sink.Target(), fc.Policy, fc.ProductID, fc.Format, fc.OnMissing)
	keys := make([]string, 0, len(fc.Fields))
	for k := range fc.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "\x00%s=%s", k, fc.Fields[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// productHash is SHA-256 of the payload, the catalog target and the policy:
// a change of any of them re-sends exactly the products it affects.
func productHash(payload []byte, target string, policy string) [32]byte {
	h := sha256.New()
	h.Write(payload)
	h.Write([]byte{0})
	h.Write([]byte(target))
	h.Write([]byte{0})
	h.Write([]byte(policy))
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// succeed records the fetch metadata of a fully successful run, which the
// next run's shortcuts rely on.
func (r *run) succeed(bodyHex string) error {
	if !r.write {
		return nil
	}
	resp, fc := r.resp, r.fc
	err := r.s.updateMeta(fc.Name, func(meta *store.Meta) {
		if resp.ETag != "" || resp.LastModified != "" || !resp.NotModified {
			meta.ETag, meta.LastModified = resp.ETag, resp.LastModified
		}
		meta.BodyHash = bodyHex
		if r.expires != "" {
			meta.Expires = r.expires
		}
		if !resp.NotModified {
			meta.BodySize = resp.Body.BytesRead()
			meta.Items, meta.Products = r.sum.Items, r.sum.Products
		}
		meta.ConfigSHA256 = r.fingerprint
		meta.Policy = string(fc.Policy)
		meta.LastSuccess = r.now().UTC()
		meta.LastError, meta.LastErrorAt = "", time.Time{}
	})
	if err != nil {
		return fmt.Errorf("record fetch state: %w", err)
	}
	if r.sample != nil {
		if err := r.s.DB.SetRawSample(fc.Name, r.sample); err != nil {
			return fmt.Errorf("record fetch state: %w", err)
		}
	}
	return nil
}

// updateMeta reads the feed's metadata afresh, changes it and writes it back
// (store.Intend and Adopt change it during a run).
func (s *Syncer) updateMeta(name string, fn func(*store.Meta)) error {
	m, err := s.DB.Meta(name)
	if err != nil {
		return err
	}
	fn(&m)
	return s.DB.SetMeta(name, m)
}
