package push

import "context"

// Recorder is the sink plan uses: it takes every op, records it and
// acknowledges it, sending nothing anywhere. Plan runs the real sync code
// with a Recorder in place of the catalog.
type Recorder struct {
	target string
	Ops    []Op
}

var _ Sink = (*Recorder)(nil)

// NewRecorder returns a Recorder that stands in for the catalog named target,
// so that hashes match what sync would compute.
func NewRecorder(target string) *Recorder { return &Recorder{target: target} }

// Target is the target of the sink it stands in for.
func (r *Recorder) Target() string { return r.target }

// Close does nothing.
func (r *Recorder) Close() error { return nil }

// Apply records every op.
func (r *Recorder) Apply(ctx context.Context, ops <-chan Op, ack func(Result)) error {
	for op := range ops {
		r.Ops = append(r.Ops, op)
		ack(Result{Op: op})
	}
	return ctx.Err()
}

// SendsDeals: plan records deals as it records products.
func (r *Recorder) SendsDeals() bool { return true }
