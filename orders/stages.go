package orders

import (
	"fmt"
	"sort"
	"strings"
)

// Pipeline is the shape of the account's deals pipeline.
type Pipeline string

// The pipelines. "" is PipelineRecommended.
const (
	// PipelineSimple has one stage, placed (deal status 2, won): every
	// known status goes there unless Stages adds the stage a status maps to.
	PipelineSimple Pipeline = "simple"
	// PipelineRecommended has placed (1, in progress), fulfilled (2, won)
	// and cancelled (3, lost).
	PipelineRecommended Pipeline = "recommended"
	// PipelineCustom has only the stages Stages.Stages names.
	PipelineCustom Pipeline = "custom"
)

// The stage names of the recommended pipeline, which the presets map to.
const (
	StagePlaced    = "placed"
	StageFulfilled = "fulfilled"
	StageCancelled = "cancelled"
)

// The deal statuses User.com knows.
const (
	DealAbandoned  = 0
	DealInProgress = 1
	DealWon        = 2
	DealLost       = 3
	DealArchived   = 4
)

// StatusUnset in Stage.Status means "not given": a stage named placed,
// fulfilled or cancelled then gets its default deal status (placed 1, or 2
// in the simple pipeline; fulfilled 2; cancelled 3); any other stage must
// give one.
const StatusUnset = -1

// Stage is where a deal stands in the account's pipeline.
type Stage struct {
	Name   string `yaml:"-"`      // placed, fulfilled, cancelled, or a custom stage name
	ID     int    `yaml:"id"`     // the account's stage id; 0 = not configured (sent as stage_name only)
	Status int    `yaml:"status"` // deal status: 0 abandoned, 1 in progress, 2 won, 3 lost, 4 archived; StatusUnset: the name's default
}

// Stages decides a deal's stage from an order's status.
//
// A status word is compared trimmed and lower-cased; a status made of two
// columns ("financial/fulfillment") also with each part trimmed. A key
// "word/*" (in a preset or in Statuses) matches every status whose first
// part is word. Statuses is searched first (exact key, then "word/*"), then
// the preset (the same way); a status neither knows is unknown, and Of
// says so: it is never guessed.
//
// Stage names compare trimmed and case-insensitively, and Of returns them
// lower-cased.
type Stages struct {
	Preset     string            // "", "woocommerce", "magento", "shopify"
	Statuses   map[string]string // shop status word (lower-cased) -> stage name; overrides the preset
	Stages     map[string]Stage  // stage name -> account id and deal status; overrides the pipeline's defaults
	Pipeline   Pipeline
	PipelineID int // the account's pipeline id, 0 = not configured
}

// presets map the status words of common exports to the recommended
// pipeline's stage names. Beside the status slugs they hold the labels the
// shops' own screens and exports use for the same statuses ("On hold",
// "wc-completed").
//
// Shopify's status is "financial/fulfillment" (Columns.Status
// "Financial Status+Fulfillment Status"). A partially refunded order that
// was fulfilled is fulfilled: the customer kept and paid for part of it,
// and counting it lost would drop that revenue (the Total column still
// holds the order's amount before the refund); one not yet fulfilled is
// placed, as a paid one is. partially_paid is placed, as pending and
// authorized are. Other statuses (expired, paid/restocked…) are unknown
// until Statuses maps them.
var presets = map[string]map[string]string{
	"woocommerce": {
		"pending": StagePlaced, "processing": StagePlaced, "on-hold": StagePlaced,
		"completed": StageFulfilled,
		"cancelled": StageCancelled, "refunded": StageCancelled, "failed": StageCancelled,
		// the same with WooCommerce's "wc-" prefix, and as its screens label them
		"wc-pending": StagePlaced, "wc-processing": StagePlaced, "wc-on-hold": StagePlaced,
		"wc-completed": StageFulfilled,
		"wc-cancelled": StageCancelled, "wc-refunded": StageCancelled, "wc-failed": StageCancelled,
		"pending payment": StagePlaced, "on hold": StagePlaced,
	},
	"magento": {
		"pending": StagePlaced, "processing": StagePlaced, "holded": StagePlaced, "payment_review": StagePlaced,
		"pending_payment": StagePlaced,
		"complete":        StageFulfilled,
		"closed":          StageCancelled, "canceled": StageCancelled,
		// as Magento's admin labels them
		"on hold": StagePlaced, "payment review": StagePlaced, "pending payment": StagePlaced,
		"cancelled": StageCancelled,
	},
	"shopify": {
		"paid/fulfilled": StageFulfilled, "paid/shipped": StageFulfilled,
		"paid/": StagePlaced, "paid/unfulfilled": StagePlaced, "paid/partial": StagePlaced,
		"pending/*": StagePlaced, "authorized/*": StagePlaced, "partially_paid/*": StagePlaced,
		"refunded/*": StageCancelled, "voided/*": StageCancelled,
		"partially_refunded/fulfilled": StageFulfilled, "partially_refunded/shipped": StageFulfilled,
		"partially_refunded/": StagePlaced, "partially_refunded/unfulfilled": StagePlaced,
		"partially_refunded/partial": StagePlaced,
	},
}

// Presets returns the names of the status presets, sorted.
func Presets() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// normalStatus is a status word as compared: trimmed, lower-cased, each
// part of a "financial/fulfillment" status trimmed.
func normalStatus(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if a, b, ok := strings.Cut(s, "/"); ok {
		s = strings.TrimSpace(a) + "/" + strings.TrimSpace(b)
	}
	return s
}

// normalName is a stage or preset name as compared.
func normalName(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// lookup finds key in m by its normalised form: a direct hit, else a scan
// (maps from a configuration are small; keys may be written in any case).
// A nil norm means m's keys are normal already.
func lookup[V any](m map[string]V, key string, norm func(string) string) (V, bool) {
	if v, ok := m[key]; ok || norm == nil {
		return v, ok
	}
	for k, v := range m {
		if norm(k) == key {
			return v, true
		}
	}
	var zero V
	return zero, false
}

// match finds a status in m: the exact word, then "first/*".
func match(m map[string]string, word string, norm func(string) string) (string, bool) {
	if v, ok := lookup(m, word, norm); ok {
		return v, true
	}
	if i := strings.IndexByte(word, '/'); i >= 0 {
		return lookup(m, word[:i+1]+"*", norm)
	}
	return "", false
}

func (s Stages) pipeline() Pipeline {
	if s.Pipeline == "" {
		return PipelineRecommended
	}
	return s.Pipeline
}

// Of returns the stage of a status; ok=false for a status neither the
// preset nor Statuses knows (or one mapped to a stage the pipeline lacks,
// which Check reports). The stage's Status is resolved (never StatusUnset).
func (s Stages) Of(status string) (Stage, bool) {
	word := normalStatus(status)
	if word == "" || word == "/" {
		return Stage{}, false
	}
	if name, ok := match(s.Statuses, word, normalStatus); ok {
		return s.stage(normalName(name), false)
	}
	if name, ok := match(presets[normalName(s.Preset)], word, nil); ok {
		return s.stage(name, true)
	}
	return Stage{}, false
}

// stage is the pipeline's stage of a name. Under the simple pipeline a
// preset's stage the pipeline lacks is placed.
func (s Stages) stage(name string, fromPreset bool) (Stage, bool) {
	p := s.pipeline()
	st, given := lookup(s.Stages, name, normalName)
	if !given {
		switch {
		case p == PipelineRecommended && (name == StagePlaced || name == StageFulfilled || name == StageCancelled),
			p == PipelineSimple && name == StagePlaced:
		case p == PipelineSimple && fromPreset:
			return s.stage(StagePlaced, false)
		default:
			return Stage{}, false
		}
		st = Stage{Status: StatusUnset}
	}
	st.Name = name
	if st.Status == StatusUnset {
		st.Status = defaultStatus(p, name)
		if st.Status == StatusUnset {
			return Stage{}, false
		}
	}
	return st, true
}

// defaultStatus is the deal status of a stage name when the configuration
// gives none.
func defaultStatus(p Pipeline, name string) int {
	switch name {
	case StagePlaced:
		if p == PipelineSimple {
			return DealWon
		}
		return DealInProgress
	case StageFulfilled:
		return DealWon
	case StageCancelled:
		return DealLost
	}
	return StatusUnset
}

// hasStage reports whether the pipeline has a stage of that name.
func (s Stages) hasStage(name string) bool {
	if _, ok := lookup(s.Stages, name, normalName); ok {
		return true
	}
	switch s.pipeline() {
	case PipelineRecommended:
		return name == StagePlaced || name == StageFulfilled || name == StageCancelled
	case PipelineSimple:
		return name == StagePlaced
	}
	return false
}

// stageNames lists the pipeline's stages, sorted.
func (s Stages) stageNames() []string {
	seen := map[string]bool{}
	switch s.pipeline() {
	case PipelineRecommended:
		seen[StagePlaced], seen[StageFulfilled], seen[StageCancelled] = true, true, true
	case PipelineSimple:
		seen[StagePlaced] = true
	}
	for n := range s.Stages {
		seen[normalName(n)] = true
	}
	return sortedKeysOf(seen)
}

// Known lists the status words Of knows (Statuses' and the preset's,
// "word/*" for a pattern), sorted.
func (s Stages) Known() []string {
	seen := map[string]bool{}
	for k := range s.Statuses {
		seen[normalStatus(k)] = true
	}
	for k := range presets[normalName(s.Preset)] {
		seen[k] = true
	}
	return sortedKeysOf(seen)
}

// Check reports what would make Of fail or send nonsense, each naming its
// key: an unknown preset or pipeline, a negative id, a status code out of
// 0..4 (or unset on a stage without a default), a status mapped to a stage
// the pipeline lacks, a custom pipeline without stages, and a configuration
// that knows no status at all. Several defects are joined with "; ".
func (s Stages) Check() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	preset := normalName(s.Preset)
	if _, ok := presets[preset]; preset != "" && !ok {
		bad("preset: unknown preset %q (known: %s)", clip(s.Preset), strings.Join(Presets(), ", "))
	}
	p := s.pipeline()
	switch p {
	case PipelineSimple, PipelineRecommended, PipelineCustom:
	default:
		bad("pipeline: %q: want simple, recommended or custom", clip(string(s.Pipeline)))
	}
	if s.PipelineID < 0 {
		bad("pipeline_id: %d: want the account's pipeline id (0: not sent)", s.PipelineID)
	}
	names := make([]string, 0, len(s.Stages))
	for n := range s.Stages {
		names = append(names, n)
	}
	sort.Strings(names)
	seenStage := map[string]string{}
	for _, n := range names {
		st, key := s.Stages[n], "stages."+n
		norm := normalName(n)
		if norm == "" {
			bad("stages: a stage without a name")
			continue
		}
		if other, dup := seenStage[norm]; dup {
			bad("%s: the same stage as stages.%s (names compare case-insensitively)", key, other)
		}
		seenStage[norm] = n
		if st.ID < 0 {
			bad("%s.id: %d: want the account's stage id (0: not sent)", key, st.ID)
		}
		switch {
		case st.Status == StatusUnset && defaultStatus(p, norm) == StatusUnset:
			bad("%s.status: required for a stage other than placed, fulfilled or cancelled (0 abandoned, 1 in progress, 2 won, 3 lost, 4 archived)", key)
		case st.Status != StatusUnset && (st.Status < DealAbandoned || st.Status > DealArchived):
			bad("%s.status: %d: want 0 abandoned, 1 in progress, 2 won, 3 lost or 4 archived", key, st.Status)
		}
	}
	if p == PipelineCustom && len(s.Stages) == 0 {
		bad("stages: the custom pipeline has none: name the account's stages with their id and status")
	}
	words := make([]string, 0, len(s.Statuses))
	for w := range s.Statuses {
		words = append(words, w)
	}
	sort.Strings(words)
	seenWord := map[string]string{}
	for _, w := range words {
		name, key := normalName(s.Statuses[w]), "statuses."+w
		norm := normalStatus(w)
		switch {
		case norm == "" || norm == "/":
			bad("statuses: a status without a word")
			continue
		case seenWord[norm] != "":
			bad("%s: the same status as statuses.%s (statuses compare case-insensitively)", key, seenWord[norm])
		case name == "":
			bad("%s: no stage named", key)
			continue
		}
		seenWord[norm] = w
		if !s.hasStage(name) {
			bad("%s: stage %q is not in the %s pipeline (its stages: %s)", key, clip(s.Statuses[w]), p, strings.Join(s.stageNames(), ", "))
		}
	}
	if table := presets[preset]; table != nil && p != PipelineSimple {
		missing := map[string][]string{}
		for w, name := range table {
			if shadowed(s.Statuses, w) || s.hasStage(name) {
				continue
			}
			missing[name] = append(missing[name], w)
		}
		for _, name := range sortedKeysOf(missing) {
			ws := missing[name]
			sort.Strings(ws)
			bad("preset: %s maps %s to stage %q, which the %s pipeline lacks: add stages.%s, or map those statuses under statuses",
				preset, strings.Join(ws, ", "), name, p, name)
		}
	}
	if preset == "" && len(s.Statuses) == 0 {
		bad("preset: none, and no statuses: every order's status would be unknown; name a preset (%s) or map the shop's statuses", strings.Join(Presets(), ", "))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(errs, "; "))
}

// shadowed reports whether Statuses decides a preset's key before the
// preset does.
func shadowed(statuses map[string]string, key string) bool {
	if _, ok := lookup(statuses, key, normalStatus); ok {
		return true
	}
	if i := strings.IndexByte(key, '/'); i >= 0 && !strings.HasSuffix(key, "/*") {
		_, ok := lookup(statuses, key[:i+1]+"*", normalStatus)
		return ok
	}
	return false
}

func sortedKeysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
