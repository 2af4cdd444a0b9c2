package push

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Deals.
//
// An order's deal (Op.Deal) goes to User.com as one POST
// deals/update_or_create/ (docs: apidocs.user.com deals/), keyed by the
// deal's custom_id, in both catalog modes: no bulk import of deals is
// published. Every request passes through the same decorators as the
// products' (rate limit, circuit breaker, retries with Retry-After), and a
// deal is acknowledged only on a 2xx with a JSON object for body. A deal
// refused because its user does not exist gets its user created (POST
// users/update_or_create/, docs) and is sent once more, as the known
// integrations do.

// The deal endpoints, relative to the API base.
const (
	dealsPath = "deals/update_or_create/"
	usersPath = "users/update_or_create/"
)

// payloadProductsKey is where a deal's payload (orders.Deal.Payload) keeps
// its lines: [{product_custom_id, quantity, value, currency}]. It mirrors
// orders.ProductsKey (push imports no orders code; a test checks that they
// agree).
const payloadProductsKey = "order_products"

// dealProductsKey is the request's key for a deal's products: the one
// place to change it. User.com's deals page names both order_products (the
// lines as they were at order time: product_custom_id or product_id,
// quantity, value, currency) and products_custom_id (a list of ids); other
// sources spell the latter products_custom_ids. order_products carries the
// quantities and values, so it is the one sent. A key starting with
// "products_custom_id" is sent the lines' product ids only.
const dealProductsKey = "order_products"

// dealDropped are payload keys the request leaves out. stage_name is
// feedsync's name for the stage: User.com takes the stage as the account's
// integer id (stage) only, and would keep any unknown key as a new deal
// attribute. email is no deal field: it goes to the user, when the deal's
// user must be created.
var dealDropped = []string{"stage_name", "email"}

var _ DealSender = (*UserCom)(nil)

// SendsDeals: User.com takes deals through its REST API, in either mode.
func (s *UserCom) SendsDeals() bool { return true }

// dealUser is the user a deal points at, for creating it.
type dealUser struct {
	id    string // user_custom_id; "" when the deal names none
	email string // only when the payload has one (the shop's send_email)
}

// dealRequest maps a deal's payload to the body of POST
// deals/update_or_create/: the one place that does. The payload's keys go
// as they are (numbers as written; any key User.com does not know becomes
// a deal attribute), except: custom_id is the op's id; stage_name and
// email are dropped (see dealDropped); the lines go under
// dealProductsKey; an empty or null user_custom_id, stage or pipeline is
// left out. status must be an integer 0–4, stage and pipeline integers,
// name a non-empty string: a deal that breaks these is refused here, never
// sent.
func dealRequest(op Op) (body []byte, user dealUser, err error) {
	d := json.NewDecoder(bytes.NewReader(op.Payload))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil || m == nil {
		return nil, user, fmt.Errorf("payload is not a JSON object: %v", err)
	}
	if e, ok := m["email"].(string); ok {
		user.email = strings.TrimSpace(e)
	}
	for _, k := range dealDropped {
		delete(m, k)
	}
	m["custom_id"] = op.ID
	if name, _ := m["name"].(string); strings.TrimSpace(name) == "" {
		return nil, user, errors.New("deal without a name (User.com requires one)")
	}
	for _, k := range []string{"status", "stage", "pipeline"} {
		v, ok := m[k]
		if !ok {
			continue
		}
		if v == nil && k != "status" {
			delete(m, k)
			continue
		}
		n, isInt := intOf(v)
		switch {
		case !isInt:
			return nil, user, fmt.Errorf("%s %s: want an integer", k, clipValue(v))
		case k == "status" && (n < 0 || n > 4):
			return nil, user, fmt.Errorf("status %d: User.com's deal statuses are 0 to 4", n)
		}
	}
	switch u := m["user_custom_id"].(type) {
	case nil:
		delete(m, "user_custom_id")
	case string:
		if user.id = strings.TrimSpace(u); user.id == "" {
			delete(m, "user_custom_id")
		}
	default:
		return nil, user, fmt.Errorf("user_custom_id %s: want a string", clipValue(u))
	}
	if lines, ok := m[payloadProductsKey]; ok {
		delete(m, payloadProductsKey)
		p, err := dealProducts(lines, dealProductsKey)
		if err != nil {
			return nil, user, err
		}
		m[dealProductsKey] = p
	}
	body, err = marshalNoEscape(m)
	return body, user, err
}

// dealProducts is the payload's lines as key wants them: as they are, or
// their product ids for a products_custom_id key.
func dealProducts(lines any, key string) (any, error) {
	if !strings.HasPrefix(key, "products_custom_id") {
		return lines, nil
	}
	list, _ := lines.([]any)
	ids := make([]string, 0, len(list))
	for _, l := range list {
		line, _ := l.(map[string]any)
		id, ok := line["product_custom_id"].(string)
		if !ok {
			return nil, fmt.Errorf("%s: a line without product_custom_id", payloadProductsKey)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func intOf(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}

func clipValue(v any) string {
	b, _ := json.Marshal(v)
	s := string(b)
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return s
}

// userMissing reports whether err is User.com refusing a deal because its
// user does not exist. User.com does not publish the answer: a 404, or a
// 400 whose message names the user and says it is missing (as a Django REST
// framework API words an unknown related object: {"user_custom_id": ["…
// does not exist."]}).
func userMissing(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.Status {
	case http.StatusNotFound:
		return true
	case http.StatusBadRequest:
		m := strings.ToLower(ae.Msg)
		if !strings.Contains(m, "user") {
			return false
		}
		for _, w := range []string{"not exist", "doesn't exist", "not found", "unknown", "no such"} {
			if strings.Contains(m, w) {
				return true
			}
		}
	}
	return false
}

// sendDeal sends one deal; a refusal for an unknown user creates the user
// and sends the deal once more. A 4xx is the deal's *RejectedError; any
// other error stops the run.
func (s *UserCom) sendDeal(ctx context.Context, op Op) error {
	switch op.Kind {
	case Create, Update:
	case Delete:
		return &RejectedError{Msg: "feedsync never deletes a deal (an order that leaves the export is kept)"}
	default:
		return &RejectedError{Msg: fmt.Sprintf("unknown operation %v", op.Kind)}
	}
	body, user, err := dealRequest(op)
	if err != nil {
		return &RejectedError{Msg: err.Error()}
	}
	req := jsonRequest("deal", http.MethodPost, dealsPath, body)
	_, err = s.call(ctx, req)
	if err == nil || user.id == "" || !userMissing(err) {
		return rejected(err)
	}
	if err := s.createUser(ctx, user); err != nil {
		return err
	}
	_, err = s.call(ctx, req)
	return rejected(err)
}

// createUser creates (or updates) the deal's user: its custom_id, and its
// e-mail only when the payload carried one.
func (s *UserCom) createUser(ctx context.Context, u dealUser) error {
	fields := map[string]string{"custom_id": u.id}
	if u.email != "" {
		fields["email"] = u.email
	}
	body, err := marshalNoEscape(fields)
	if err != nil {
		return err
	}
	_, err = s.call(ctx, jsonRequest("user", http.MethodPost, usersPath, body))
	var re *RejectedError
	if errors.As(rejected(err), &re) {
		return &RejectedError{Status: re.Status, Msg: "its user does not exist and could not be created: " + re.Msg}
	}
	return err
}

// applyDeals sends the deals of ops with Concurrency workers, as applyREST
// sends products.
func (s *UserCom) applyDeals(ctx context.Context, ops <-chan Op, report func(Result)) error {
	return s.eachOp(ctx, "deal", ops, report, s.sendDeal)
}

// stopError is err, or the *AuthError or *RedirectError inside it: the op
// that met one is beside the point.
func stopError(err error) error {
	var ae *AuthError
	var re *RedirectError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &re):
		return re
	}
	return err
}

// applyWithDeals hands the deals of ops to applyDeals and everything else
// to products (applyREST or applyImport), both at once. An error that stops
// one stops the other; an *UnidentifiedError, which the import returns once
// all its products were sent, stops nothing.
func (s *UserCom) applyWithDeals(ctx context.Context, ops <-chan Op, report func(Result),
	products func(context.Context, <-chan Op, func(Result)) error) error {
	run, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	type part struct {
		ops  chan Op
		done chan struct{}
		err  error
	}
	start := func(apply func(context.Context, <-chan Op, func(Result)) error) *part {
		p := &part{ops: make(chan Op), done: make(chan struct{})}
		go func() {
			defer close(p.done)
			p.err = apply(run, p.ops, report)
			var ue *UnidentifiedError
			if p.err != nil && !errors.As(p.err, &ue) {
				cancel(p.err)
			}
		}()
		return p
	}
	prod, deals := start(products), start(s.applyDeals)
dispatch:
	for {
		select {
		case <-run.Done():
			break dispatch
		case op, ok := <-ops:
			if !ok {
				break dispatch
			}
			to := prod
			if op.Deal {
				to = deals
			}
			select {
			case to.ops <- op:
			case <-run.Done():
				break dispatch
			case <-to.done:
				// It returned before its ops ran out: op stays
				// unacknowledged, and so does the rest.
				if to.err == nil {
					cancel(errors.New("catalog sink stopped taking operations"))
				}
				break dispatch
			}
		}
	}
	close(prod.ops)
	close(deals.ops)
	<-prod.done
	<-deals.done
	if ctx.Err() != nil {
		return ctx.Err()
	}
	for _, err := range []error{prod.err, deals.err} {
		var ae *AuthError
		var re *RedirectError
		if errors.As(err, &ae) || errors.As(err, &re) {
			return stopError(err)
		}
	}
	if run.Err() != nil {
		return context.Cause(run)
	}
	if prod.err != nil {
		return prod.err
	}
	return deals.err
}
