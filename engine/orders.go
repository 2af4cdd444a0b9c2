package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/feedsync/feedsync/config"
	"github.com/feedsync/feedsync/feed"
	"github.com/feedsync/feedsync/orders"
	"github.com/feedsync/feedsync/push"
	"github.com/feedsync/feedsync/store"
	"github.com/feedsync/feedsync/tree"
)

// Orders → deals.
//
// An orders export goes through the same run as a product feed — fetch,
// the unchanged-body shortcut, guards, diff by payload hash, intent before
// effect, commit after acknowledgement — with deals in place of products:
// the export is read by package orders, each order's lines are mapped to
// the catalog's product ids through the products_from feed's ids, and each
// deal is one operation marked push.Op.Deal. An order that left the export
// is kept (on_missing: keep): an export window moving on deletes nothing.

// ErrNoProductIDs is returned when products_from names a feed whose product
// ids the state does not hold yet.
var ErrNoProductIDs = errors.New("no product ids kept for it yet")

// SyncOrders runs one sync of an orders export.
func (s *Syncer) SyncOrders(ctx context.Context, oc *config.Orders, opts Options) (Summary, error) {
	if ds, ok := s.Sink.(push.DealSender); !ok || !ds.SendsDeals() {
		return Summary{Feed: oc.Name, Mode: opts.Mode, Fetch: FetchFailed, Error: push.ErrDealsUnsupported.Error()}, push.ErrDealsUnsupported
	}
	fc := &config.Feed{Name: oc.Name, URL: oc.URL, Headers: oc.Headers, Timeout: oc.Timeout, MaxSize: oc.MaxSize,
		Format: feed.FormatAuto, OnMissing: config.OnMissingKeep, MaxDelete: config.MustMaxDelete("100%"), ProductID: "id"}
	return s.syncOne(ctx, fc, oc, opts)
}

// ordersFingerprint adds to a run's fingerprint every setting that shapes
// the deals.
func ordersFingerprint(base string, oc *config.Orders) string {
	b, _ := json.Marshal(struct {
		Columns    orders.Columns
		UserID     orders.UserIDRule
		SendEmail  bool
		Pipeline   orders.Pipeline
		PipelineID int
		Stages     config.StagesConfig
		From       string
		Attributes []string
		Currency   string
		Decimal    string
	}{oc.Columns, oc.UserID, oc.SendEmail, oc.Pipeline, oc.PipelineID, oc.Stages, oc.ProductsFrom, oc.Attributes, oc.Currency, oc.Decimal})
	h := sha256.Sum256(append([]byte(base+"\x00orders\x00"), b...))
	return hex.EncodeToString(h[:])
}

// buildDeals reads the export, maps the order lines' product ids and
// shapes every deal.
func (r *run) buildDeals(ctx context.Context) (source, error) {
	body := r.resp.Body
	var in io.Reader = body
	if r.opts.WrapBody != nil {
		in = r.opts.WrapBody(body)
	}
	start := time.Now()
	cfg := r.orders.OrdersConfig()
	deals, probs, err := orders.Read(in, r.fc.URL, cfg)
	if err == nil {
		_, err = io.Copy(io.Discard, in)
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		r.sum.Fetch = FetchFailed
		return nil, err
	}
	ids, err := r.productIDs()
	if err != nil {
		r.sum.Fetch = FetchFailed
		return nil, err
	}
	defer ids.Close()
	src := &dealSource{problems: probs, items: len(deals) + feed.SkippedItems(probs), seen: map[string]bool{}}
	mapID := func(id string) (string, bool) { return id, true } // no products_from: the ids as given
	if r.orders.ProductsFrom != "" {
		// Every line's id is looked up once, here; the shaping workers
		// read the plain map.
		known := map[string]string{}
		unknown := map[string]bool{}
		for i := range deals {
			for _, id := range deals[i].Products {
				if _, ok := known[id]; ok || unknown[id] {
					continue
				}
				if c, ok := ids.Custom(id); ok {
					known[id] = c
				} else {
					unknown[id] = true
				}
			}
		}
		mapID = func(id string) (string, bool) {
			c, ok := known[id]
			if !ok {
				return id, false
			}
			return c, true
		}
	}
	shaped := shapeDeals(ctx, deals, cfg, mapID, r.orders.SendEmail)
	for i := range deals {
		d, sh := &deals[i], &shaped[i]
		if sh.err != nil {
			src.problems = append(src.problems, feed.Problem{Line: d.Line, ItemID: d.ID, Kind: feed.ProblemSkippedItem, Msg: sh.err.Error() + ": order skipped"})
			continue
		}
		if src.seen[d.ID] {
			continue // Read groups an order's rows: a repeat would be its bug
		}
		src.seen[d.ID] = true
		p := tree.RawProduct(d.ID, sh.payload)
		p.Lines = []int{d.Line}
		src.deals = append(src.deals, p)
		if sh.unknown > 0 {
			r.sum.UnknownProducts += sh.unknown
			if len(src.warned) < tree.MaxWarnings {
				src.warned = append(src.warned, feed.Problem{Line: d.Line, ItemID: d.ID, Code: "unknown-product",
					Msg: fmt.Sprintf("unknown-product: %d of the order's lines name products the catalog does not know (sent as given)", sh.unknown)})
			}
			src.nWarned++
		}
	}
	if err := ctx.Err(); err != nil {
		r.sum.Fetch = FetchFailed
		return nil, err
	}
	r.sum.Bytes = body.BytesRead()
	r.sum.Items = src.items
	r.sum.Skipped = src.Skipped()
	r.log.Debug().Int("orders", len(src.deals)).Str("took", took(start)).Msg("orders read and shaped")
	r.obs.Read(src.items)
	h := body.Sum()
	r.bodyHex = hex.EncodeToString(h[:])
	r.sum.Fetch = FetchChanged
	return src, nil
}

// productIDs opens the ids of the products_from feed.
func (r *run) productIDs() (*store.IDMap, error) {
	if r.orders.ProductsFrom == "" {
		return nil, nil
	}
	has, err := r.s.DB.HasIDs(r.orders.ProductsFrom)
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	if !has {
		return nil, fmt.Errorf("products_from: feed %s: %w: sync it first (feedsync sync %s)", r.orders.ProductsFrom, ErrNoProductIDs, r.orders.ProductsFrom)
	}
	return r.s.DB.IDs(r.orders.ProductsFrom)
}

// dealSource is an orders export's deals as a run's source.
type dealSource struct {
	deals    []*tree.Product
	seen     map[string]bool
	problems []feed.Problem
	warned   []feed.Problem
	nWarned  int
	items    int
}

func (d *dealSource) Items() int               { return d.items }
func (d *dealSource) Problems() []feed.Problem { return d.problems }
func (d *dealSource) Skipped() int             { return feed.SkippedItems(d.problems) }
func (d *dealSource) Warnings() []feed.Problem { return d.warned }
func (d *dealSource) WarningCount() int        { return d.nWarned }
func (d *dealSource) HasProduct(id string) bool {
	return d.seen[id]
}
func (d *dealSource) ProductIDs() int { return len(d.deals) }
func (d *dealSource) Finish(emit func(*tree.Product) error) error {
	for _, p := range d.deals {
		if err := emit(p); err != nil {
			return err
		}
	}
	return nil
}
func (d *dealSource) Close() error { return nil }

// shaped is one deal's payload, or why it has none.
type shaped struct {
	payload []byte
	unknown int
	err     error
}

// shapeDeals makes every deal's payload, on every core.
func shapeDeals(ctx context.Context, deals []orders.Deal, cfg orders.Config, mapID func(string) (string, bool), sendEmail bool) []shaped {
	out := make([]shaped, len(deals))
	workers := max(runtime.GOMAXPROCS(0), 1)
	const chunk = 512
	next := make(chan int, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for start := range next {
				for i := start; i < min(start+chunk, len(deals)); i++ {
					sh := &out[i]
					sh.payload, sh.unknown, sh.err = deals[i].Payload(cfg, mapID, sendEmail)
				}
			}
		}()
	}
	for start := 0; start < len(deals) && ctx.Err() == nil; start += chunk {
		next <- start
	}
	close(next)
	wg.Wait()
	return out
}
