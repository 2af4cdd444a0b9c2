package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/feedsync/feedsync/push"
	"github.com/feedsync/feedsync/store"
)

// planChange is one line of plan's output: what would happen to a product
// and which fields would change.
type planChange struct {
	Op        string        `json:"op"` // create | update | unavailable | delete
	ID        string        `json:"id"`
	Fields    []fieldChange `json:"fields,omitempty"`
	Truncated []string      `json:"truncated,omitempty"`
}

type fieldChange struct {
	Field string `json:"field"`
	Old   any    `json:"old,omitempty"`
	New   any    `json:"new,omitempty"`
}

// describePlan compares each recorded op with the last acknowledged payload
// the state keeps, so plan can say which fields change.
func describePlan(db *store.DB, feedName string, ops []push.Op, truncated map[string][]string) ([]planChange, error) {
	out := make([]planChange, 0, len(ops))
	for _, op := range ops {
		c := planChange{Op: op.Kind.String(), ID: op.ID, Truncated: truncated[op.ID]}
		if op.Kind == push.Update {
			rec, ok, err := db.Get(feedName, op.ID)
			if err != nil {
				return nil, err
			}
			if ok {
				c.Fields = diffFields(decodePayload(rec.Payload), decodePayload(op.Payload))
				if len(c.Fields) == 1 && c.Fields[0].Field == "availability" && c.Fields[0].New == "out_of_stock" {
					c.Op = "unavailable" // the product left the feed
				}
			}
		}
		out = append(out, c)
	}
	return out, nil
}

func decodePayload(b []byte) map[string]any {
	m := map[string]any{}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	_ = d.Decode(&m)
	return m
}

func diffFields(old, new map[string]any) []fieldChange {
	keys := map[string]bool{}
	for k := range old {
		keys[k] = true
	}
	for k := range new {
		keys[k] = true
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	var out []fieldChange
	for _, k := range names {
		o, inOld := old[k]
		n, inNew := new[k]
		if inOld && inNew && fmt.Sprint(o) == fmt.Sprint(n) {
			continue
		}
		out = append(out, fieldChange{Field: k, Old: o, New: n})
	}
	return out
}

func printPlan(w io.Writer, changes []planChange) {
	for _, c := range changes {
		fmt.Fprintf(w, "  %-11s %s", c.Op, c.ID)
		if len(c.Fields) > 0 {
			parts := make([]string, 0, len(c.Fields))
			for _, f := range c.Fields {
				parts = append(parts, fmt.Sprintf("%s: %s → %s", f.Field, short(f.Old), short(f.New)))
			}
			fmt.Fprintf(w, "  (%s)", strings.Join(parts, "; "))
		}
		if len(c.Truncated) > 0 {
			fmt.Fprintf(w, "  [cut to 256 characters: %s]", strings.Join(c.Truncated, ", "))
		}
		fmt.Fprintln(w)
	}
}

// printDealPlan prints plan's changes of an orders export: a deal's stage
// move first (order 1042: placed → fulfilled), then its other fields.
func printDealPlan(w io.Writer, changes []planChange) {
	for _, c := range changes {
		var stage string
		var rest []string
		for _, f := range c.Fields {
			switch {
			case f.Field == "stage_name" && c.Op == "create":
				stage = fmt.Sprint(f.New)
			case f.Field == "stage_name":
				stage = fmt.Sprintf("%v → %v", orNone(f.Old), orNone(f.New))
			case c.Op != "create":
				rest = append(rest, fmt.Sprintf("%s: %s → %s", f.Field, short(f.Old), short(f.New)))
			}
		}
		switch {
		case c.Op == "create":
			fmt.Fprintf(w, "  order %s: new deal, %s\n", c.ID, orNone(stage))
		case stage != "" && len(rest) > 0:
			fmt.Fprintf(w, "  order %s: %s  (%s)\n", c.ID, stage, strings.Join(rest, "; "))
		case stage != "":
			fmt.Fprintf(w, "  order %s: %s\n", c.ID, stage)
		default:
			fmt.Fprintf(w, "  order %s: %s\n", c.ID, strings.Join(rest, "; "))
		}
	}
}

// withNewStages gives each new deal of changes its stage, from the payload
// plan would send.
func withNewStages(changes []planChange, rec *push.Recorder) []planChange {
	if rec == nil {
		return changes
	}
	stage := map[string]any{}
	for _, op := range rec.Ops {
		var d struct {
			Stage any `json:"stage_name"`
		}
		if op.Kind == push.Create && json.Unmarshal(op.Payload, &d) == nil {
			stage[op.ID] = d.Stage
		}
	}
	for i := range changes {
		if s, ok := stage[changes[i].ID]; ok && changes[i].Op == "create" && len(changes[i].Fields) == 0 {
			changes[i].Fields = []fieldChange{{Field: "stage_name", New: s}}
		}
	}
	return changes
}

func orNone(v any) string {
	if v == nil || v == "" {
		return "∅"
	}
	return fmt.Sprint(v)
}

func short(v any) string {
	if v == nil {
		return "∅"
	}
	s := fmt.Sprint(v)
	if utf8.RuneCountInString(s) > 40 {
		r := []rune(s)
		s = string(r[:39]) + "…"
	}
	if _, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return s
}
