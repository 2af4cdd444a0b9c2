package engine

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/feedsync/feedsync/config"
	"github.com/feedsync/feedsync/feed"
	"github.com/feedsync/feedsync/push"
	"github.com/feedsync/feedsync/store"
	"github.com/feedsync/feedsync/tree"
)

// removals is what on_missing asks of the stored products a run did not
// see, decided before anything is sent.
type removals struct {
	send    []store.Entry // deletes or unavailable marks, as on_missing says
	forget  []string      // records of products that never reached the catalog
	refused error         // a guard's refusal: nothing may be sent
}

// planRemovals lists the stored products the feed no longer has and what to
// do with each, and applies the guards on the whole of it: zero products,
// and max_delete. The product ids are known once every item was added, so
// this runs before the first operation is sent.
func (r *run) planRemovals(b source, skipped map[string]bool) (removals, error) {
	fc, opts, maxDelete := r.fc, r.opts, r.fc.MaxDelete
	var rm removals
	// A product whose row was skipped with a problem (bad text, too long)
	// is still in the feed: bad input loses nothing.
	missing, err := r.s.DB.Missing(fc.Name, func(id string) bool { return b.HasProduct(id) || skipped[id] })
	if err != nil {
		return rm, fmt.Errorf("read state: %w", err)
	}
	for _, e := range missing {
		switch {
		case e.Uncertain && fc.OnMissing == config.OnMissingKeep:
			continue // stays uncertain, and is sent again if it comes back
		case e.Uncertain:
			// The catalog may hold it: remove it for sure.
		case !e.Acknowledged():
			rm.forget = append(rm.forget, e.ID) // never reached the catalog
			continue
		case fc.OnMissing == config.OnMissingKeep:
			continue
		case fc.OnMissing == config.OnMissingUnavailable && e.State == store.Unavailable && opts.Mode != ModeResync:
			continue // already marked
		}
		rm.send = append(rm.send, e)
	}
	if len(rm.send) == 0 {
		return rm, nil
	}
	stored, err := r.s.DB.Stored(fc.Name)
	if err != nil {
		return rm, fmt.Errorf("read state: %w", err)
	}
	verb, sent := "refused", "nothing was sent"
	if opts.Mode == ModePlan {
		verb, sent = "would be refused", "nothing would be sent"
	}
	what := "removals"
	if fc.OnMissing == config.OnMissingUnavailable {
		what = "unavailable marks"
	}
	switch {
	case b.ProductIDs() == 0:
		rm.refused = &RefusedError{Reason: ErrRemovalRefused, Msg: fmt.Sprintf("%s: the feed produced no products, so the %d %s of all stored products were refused and %s; check the feed, or run `feedsync state --reset %s --yes` to start over", verb, len(rm.send), what, sent, fc.Name)}
	case !maxDelete.Allows(len(rm.send), stored) && !opts.AllowMassDelete:
		rm.refused = &RefusedError{Reason: ErrTooManyDeletes, Msg: fmt.Sprintf("%s: %d %s, above max_delete %s of %d stored products; %s. If the feed really lost them, run once with --allow-mass-delete", verb, len(rm.send), what, maxDelete, stored, sent)}
	}
	return rm, nil
}

// remove sends the removals planRemovals decided on, and forgets the
// records of products that never reached the catalog.
func (r *run) remove(rm removals, c *committer, send func(push.Op) error) error {
	fc, log := r.fc, r.log
	for _, id := range rm.forget {
		c.ack(push.Result{Op: push.Op{Kind: push.Delete, ID: id, Ref: opRef{forget: true}}})
	}
	for _, e := range rm.send {
		if fc.OnMissing == config.OnMissingDelete {
			if err := send(push.Op{Kind: push.Delete, ID: e.ID, Ref: opRef{}}); err != nil {
				return err
			}
			continue
		}
		payload, err := markUnavailable(e.Payload, e.ID)
		if err != nil {
			log.Warn().Str("product", clip(e.ID)).Err(err).Msg("stored payload unreadable; sending a minimal unavailable update")
		}
		ref := opRef{hash: productHash(payload, r.target, string(fc.Policy)), payload: payload, state: store.Unavailable}
		if err := send(push.Op{Kind: push.Update, ID: e.ID, Payload: payload, Ref: ref}); err != nil {
			return err
		}
	}
	return nil
}

// markUnavailable returns the last acknowledged payload with availability set
// to out_of_stock, canonical like every payload.
func markUnavailable(last []byte, id string) ([]byte, error) {
	m := map[string]any{}
	var err error
	if len(last) > 0 {
		d := json.NewDecoder(bytes.NewReader(last))
		d.UseNumber()
		err = d.Decode(&m)
	}
	if err != nil || len(m) == 0 {
		m = map[string]any{"custom_id": id}
	}
	m["availability"] = feed.OutOfStock
	return tree.NewProduct(id, m).JSON(), err
}
