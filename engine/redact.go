package engine

import "github.com/feedsync/feedsync/internal/redact"

// redact is Syncer.Redact, or no change without one.
func (s *Syncer) redact(msg string) string {
	if s.Redact == nil {
		return msg
	}
	return s.Redact(msg)
}

// redactErr is err with its message passed through Syncer.Redact; err itself
// when that changes nothing. The result unwraps to err.
func (s *Syncer) redactErr(err error) error { return redact.ErrorWith(s.Redact, err) }
