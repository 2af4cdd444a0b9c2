package daemon

// redact is Options.Redact, or no change without one.
func (d *Daemon) redact(msg string) string {
	if d.opts.Redact == nil {
		return msg
	}
	return d.opts.Redact(msg)
}
