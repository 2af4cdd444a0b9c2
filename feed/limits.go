package feed

// MaxValueBytes caps one attribute value as the readers stream it. Google's
// longest attribute (description) takes 5,000 characters; 1 MiB is generous
// for any real feed, and bounds what one hostile text node can cost. A
// longer value is cut to this length (on a character boundary) and the item
// is reported.
const MaxValueBytes = 1 << 20
