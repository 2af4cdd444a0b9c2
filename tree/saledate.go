package tree

import (
	"fmt"
	"strings"
	"time"
)

// saleState says whether an item's sale_price applies at the run's clock.
type saleState uint8

const (
	saleNone       saleState = iota // no sale_price
	saleInForce                     // no window, or now inside it
	saleNotStarted                  // window starts after now
	saleEnded                       // window ended at or before now
	saleMalformed                   // unreadable window: not in force, reported
	saleUnusable                    // unreadable sale price, or another currency than price
)

func (s saleState) String() string {
	return [...]string{"none", "in force", "not started", "ended", "malformed date", "unusable"}[s]
}

// saleWindow is a parsed sale_price_effective_date: "start/end", two ISO 8601
// date-times. Either side may be empty for an open-ended window. A date
// without a time starts at 00:00 (start) or covers the whole day (end); a time
// without a zone is UTC.
type saleWindow struct {
	start, end time.Time // zero: open
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
}

// parseISOTime reads one side of the window; dateOnly reports a bare date.
func parseISOTime(s string) (t time.Time, dateOnly bool, err error) {
	if len(s) == len("2006-01-02") {
		t, err = time.Parse("2006-01-02", s)
		return t, true, err
	}
	for _, l := range timeLayouts {
		if t, err = time.Parse(l, s); err == nil {
			return t, false, nil
		}
	}
	return time.Time{}, false, fmt.Errorf("%q is not an ISO 8601 date-time", s)
}

func parseSaleWindow(s string) (saleWindow, error) {
	s = strings.TrimSpace(s)
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		return saleWindow{}, fmt.Errorf("want start/end, two ISO 8601 date-times separated by /")
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if a == "" && b == "" {
		return saleWindow{}, fmt.Errorf("both start and end are empty")
	}
	var w saleWindow
	if a != "" {
		t, _, err := parseISOTime(a)
		if err != nil {
			return saleWindow{}, fmt.Errorf("start: %w", err)
		}
		w.start = t
	}
	if b != "" {
		t, dateOnly, err := parseISOTime(b)
		if err != nil {
			return saleWindow{}, fmt.Errorf("end: %w", err)
		}
		if dateOnly {
			t = t.AddDate(0, 0, 1)
		}
		w.end = t
	}
	if !w.start.IsZero() && !w.end.IsZero() && !w.end.After(w.start) {
		return saleWindow{}, fmt.Errorf("end is not after start")
	}
	return w, nil
}

// saleAt decides whether a sale with the given effective-date attribute is in
// force at now, with a note that says why, and when that answer next changes
// (the window's start or end after now; zero: never).
func saleAt(window string, now time.Time) (saleState, string, time.Time) {
	if strings.TrimSpace(window) == "" {
		return saleInForce, "no sale_price_effective_date", time.Time{}
	}
	w, err := parseSaleWindow(window)
	if err != nil {
		return saleMalformed, fmt.Sprintf("sale_price_effective_date %q: %v", window, err), time.Time{}
	}
	switch {
	case !w.start.IsZero() && now.Before(w.start):
		return saleNotStarted, fmt.Sprintf("sale starts %s", w.start.UTC().Format(time.RFC3339)), w.start
	case !w.end.IsZero() && !now.Before(w.end):
		return saleEnded, fmt.Sprintf("sale ended %s", w.end.UTC().Format(time.RFC3339)), time.Time{}
	case w.end.IsZero():
		return saleInForce, "sale open-ended", time.Time{}
	}
	return saleInForce, fmt.Sprintf("sale until %s", w.end.UTC().Format(time.RFC3339)), w.end
}
