package daemon

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"os"
	"time"

	"github.com/feedsync/feedsync/engine"
	"github.com/feedsync/feedsync/store"
)

// The status page at /: what a person wants to see of the daemon, server
// rendered, without JavaScript. Everything on it that came from a feed, a
// catalog or the state (names, ids, error texts) is untrusted: html/template
// escapes it, and every error text is scrubbed (Options.Redact) first.

//go:embed statuspage.html
var statusPageHTML string

var statusPageTmpl = template.Must(template.New("statuspage").Parse(statusPageHTML))

// statusPageCSP allows the page's own <style> and nothing else: no script,
// no image, no frame, no form.
const statusPageCSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// maxRejectedShown caps the rejected products listed per feed (feedsync
// state FEED lists them all).
const maxRejectedShown = 50

// statusPage is the data of the status page.
type statusPage struct {
	Now      string
	Started  string
	Stopping bool
	Health   string // ok | failing
	Failing  int
	Feeds    []pageFeed
}

// pageFeed is one feed on the status page.
type pageFeed struct {
	Name     string
	Schedule string
	State    string // ok | failing | running | waiting: a CSS class
	// StateText says State in words.
	StateText   string
	Run         *pageRun // nil: no run recorded
	NextRun     string
	LastSuccess string
	FailedRuns  int
	Failing     string // "3 runs": FailedRuns in words
	LastError   string
	// Published is the relative link to the published feed; "" when the
	// feed does not publish. PublishedReady: its first edition exists.
	Published      string
	PublishedReady bool
	Rejected       []pageRejected
	RejectedTotal  int
	RejectedMore   int
	// StateErr: the state could not be read (say, a damaged file).
	StateErr string
}

// pageRun is a feed's last run.
type pageRun struct {
	engine.Summary
	When     string // "ended …", or "started …, before this start"
	Duration string
	// Before: the run is from the state file, before this start.
	Before bool
}

// pageRejected is a product the catalog refused.
type pageRejected struct {
	ID, State, Error string
}

func (d *Daemon) serveStatusPage(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	if err := statusPageTmpl.Execute(&buf, d.statusPage(r.Context(), time.Now())); err != nil {
		d.log.Error().Err(err).Msg("status page")
		http.Error(w, "the status page could not be rendered; /status has the same in JSON", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", statusPageCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	_, _ = w.Write(buf.Bytes())
}

// statePageWait bounds the page's wait for a state file that another
// process (a sync by hand) holds: the page then shows everything else.
const statePageWait = 2 * time.Second

// statusPage gathers the page's data: Status(), which is already
// scrubbed, and from the state each feed's rejected products and, before
// its first run since the start, its last recorded run.
func (d *Daemon) statusPage(ctx context.Context, now time.Time) statusPage {
	st := d.Status()
	d.mu.Lock()
	publishes := map[string]bool{}
	for name, fs := range d.feeds {
		publishes[name] = fs.fc.Publish && d.opts.Publisher != nil
	}
	d.mu.Unlock()

	// Health() from the same snapshot: ok while no feed's last run failed.
	p := statusPage{Now: pageTime(&now, now), Started: pageTime(&st.Started, now), Stopping: st.Stopping, Health: "ok"}
	for _, f := range st.Feeds {
		pf := pageFeed{
			Name: f.Name, Schedule: f.Schedule, FailedRuns: f.FailedRuns, Failing: runs(f.FailedRuns), LastError: f.LastError,
			NextRun: pageTime(f.NextRun, now), LastSuccess: pageTime(f.LastSuccess, now),
		}
		switch {
		case f.Running:
			pf.State, pf.StateText = "running", "running"
		case f.FailedRuns > 0:
			pf.State, pf.StateText = "failing", "failing ("+runs(f.FailedRuns)+")"
		case f.LastRun != nil:
			pf.State, pf.StateText = "ok", "ok"
		default:
			pf.State, pf.StateText = "waiting", "not run yet"
		}
		if f.FailedRuns > 0 {
			p.Health = "failing"
			p.Failing++
		}
		if f.LastRun != nil {
			pf.Run = &pageRun{Summary: *f.LastRun, When: "ended " + pageTime(f.LastRunEnd, now)}
		}
		if publishes[f.Name] {
			pf.Published = "feeds/" + f.Name + ".xml"
			_, err := os.Stat(d.opts.Publisher.Path(f.Name))
			pf.PublishedReady = err == nil
		}
		p.Feeds = append(p.Feeds, pf)
	}

	// One use of the state file for all feeds; it is read only.
	err := d.useState(ctx, statePageWait, func(db *store.DB) error {
		for i := range p.Feeds {
			pf := &p.Feeds[i]
			if pf.Run == nil {
				pf.Run = d.recordedRun(db, pf.Name, now)
			}
			d.rejected(db, pf)
		}
		return nil
	})
	for i := range p.Feeds {
		pf := &p.Feeds[i]
		if err != nil {
			pf.StateErr = d.redact(err.Error())
		}
		if pf.Run != nil {
			pf.Run.Duration = (time.Duration(pf.Run.DurationMS) * time.Millisecond).String()
			if pf.LastError == "" && pf.Run.Before {
				pf.LastError = pf.Run.Error
			}
		}
	}
	return p
}

// recordedRun is a feed's last run as the state recorded it, for a feed
// that has not run since the start; nil when there is none.
func (d *Daemon) recordedRun(db *store.DB, name string, now time.Time) *pageRun {
	runs, err := db.Runs(name, 1)
	if err != nil || len(runs) == 0 {
		return nil
	}
	var s engine.Summary
	if json.Unmarshal(runs[0], &s) != nil {
		return nil
	}
	s.Error = d.redact(s.Error)
	when := s.Started
	if t, err := time.Parse(time.RFC3339, s.Started); err == nil {
		when = pageTime(&t, now)
	}
	return &pageRun{Summary: s, Before: true, When: "started " + when + ", before this start"}
}

// rejected lists the feed's products with an error, as `feedsync state`
// does: at most maxRejectedShown of them, each error scrubbed.
func (d *Daemon) rejected(db *store.DB, pf *pageFeed) {
	err := db.Each(pf.Name, func(e store.Entry) error {
		if e.LastError == "" {
			return nil
		}
		pf.RejectedTotal++
		if len(pf.Rejected) < maxRejectedShown {
			pf.Rejected = append(pf.Rejected, pageRejected{ID: e.ID, State: e.State.String(), Error: d.redact(e.LastError)})
		}
		return nil
	})
	if err != nil {
		pf.StateErr = d.redact(err.Error())
	}
	pf.RejectedMore = pf.RejectedTotal - len(pf.Rejected)
}

// runs says "1 run", "2 runs".
func runs(n int) string {
	if n == 1 {
		return "1 run"
	}
	return fmt.Sprintf("%d runs", n)
}

// pageTime shows t in UTC with how long ago (or how soon) it is; "" for nil.
func pageTime(t *time.Time, now time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC") + " (" + relative(t.Sub(now)) + ")"
}

// relative says a duration from now in words: "in 5 min", "3 h ago".
func relative(d time.Duration) string {
	future := d > 0
	if d < 0 {
		d = -d
	}
	var s string
	switch {
	case d < time.Second:
		return "now"
	case d < time.Minute:
		s = fmt.Sprintf("%d s", int(d/time.Second))
	case d < time.Hour:
		s = fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 48*time.Hour:
		s = fmt.Sprintf("%d h %d min", int(d/time.Hour), int(d%time.Hour/time.Minute))
	default:
		s = fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}
