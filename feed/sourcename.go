package feed

// SourceName is how a feed's path or URL is named in messages and reports:
// a URL without its user info and fragment, its query shown as "…" (either
// may carry credentials); a path, or a file:// URL, as it is. Fetch's errors
// and NewReader's source names already name feeds this way.
func SourceName(s string) string { return redactSource(s) }
