package push

import (
	"context"
	"errors"
	"fmt"
)

// Kind is what an operation does.
type Kind uint8

// Operation kinds. Create and Update are both upserts for sinks that do not
// tell them apart; a REST sink uses the difference to look before it creates.
const (
	Create Kind = iota + 1
	Update
	Delete
)

func (k Kind) String() string {
	switch k {
	case Create:
		return "create"
	case Update:
		return "update"
	case Delete:
		return "delete"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Op is one operation on one product.
type Op struct {
	Kind    Kind
	ID      string // the product's custom_id
	Payload []byte // canonical JSON object, valid and on one line (sinks do not re-parse it); nil for Delete
	// Deal marks an order's deal (User.com's deals pipeline) rather than a
	// product: the JSONL sink writes {"op":"deal",...}; a sink that cannot
	// send deals refuses the operation (DealsUnsupported).
	Deal bool
	// Ref is opaque to sinks and handed back in the Result (the caller keeps
	// the hash to commit there).
	Ref any
}

// Result is the outcome of one Op. Err is nil when the catalog acknowledged
// the operation; a *RejectedError when it refused this product for good.
type Result struct {
	Op  Op
	Err error
}

// Sink applies operations to a catalog.
//
// Apply reads ops until the channel is closed, and calls ack exactly once for
// every op it took, from any goroutine but never concurrently, only after the
// catalog durably holds the outcome. Upserts and deletes are idempotent:
// sending one twice leaves the catalog as sending it once. Apply returns nil
// when every op was reported; an error (cancelled context, rejected
// credentials) stops the run, and ops taken but not reported are not
// acknowledged. Apply is called once per run.
type Sink interface {
	Apply(ctx context.Context, ops <-chan Op, ack func(Result)) error
	// Target names the catalog (kind and path or URL), for hashes and messages.
	Target() string
	Close() error
}

// RejectedError is a permanent refusal of one product by the catalog (a 4xx
// for that item): the product is recorded as failed and retried next run.
type RejectedError struct {
	Status int
	Msg    string
}

func (e *RejectedError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("rejected by the catalog (%d): %s", e.Status, e.Msg)
	}
	return "rejected by the catalog: " + e.Msg
}

// IsRejected reports whether err is a per-product rejection.
func IsRejected(err error) bool {
	var r *RejectedError
	return errors.As(err, &r)
}

// DealSender is a sink that sends orders' deals (Op.Deal) as well as
// products.
type DealSender interface{ SendsDeals() bool }

// ErrDealsUnsupported is the rejection of a deal by a sink that sends only
// products.
var ErrDealsUnsupported = errors.New("this catalog sink does not send deals: sync orders into the file catalog or User.com")
