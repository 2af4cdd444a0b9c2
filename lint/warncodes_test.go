package lint

import (
	"testing"

	"github.com/feedsync/feedsync/tree"
)

// The warnings a sync logs for products it sends with a defect carry lint's
// rule codes: each must be a rule lint has.
func TestTreeWarningCodesAreLintRules(t *testing.T) {
	codes := map[string]bool{}
	for _, r := range Rules() {
		codes[r.Code] = true
	}
	for _, c := range tree.WarningCodes {
		if !codes[c] {
			t.Errorf("tree warns with %q, which is no lint rule", c)
		}
	}
}
