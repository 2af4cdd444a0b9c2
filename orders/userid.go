package orders

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// UserIDRule is how a deal's User ID (User.com's user_custom_id) is made.
type UserIDRule string

// The User ID rules. "" is UserSHA256Email.
const (
	// UserSHA256Email: the hex SHA-256 of the trimmed, lower-cased e-mail
	// (User.com's recommendation: works for guests, keeps e-mails out of
	// URLs and logs).
	UserSHA256Email UserIDRule = "sha256_email"
	// UserEmail: the trimmed, lower-cased e-mail itself. Choosing it is
	// choosing to send the e-mail: it travels as user_custom_id.
	UserEmail UserIDRule = "email"
	// UserColumn: the export's customer id column (Columns.CustomerID); a
	// guest checkout, which has none, gets the sha256_email User ID of its
	// e-mail.
	UserColumn UserIDRule = "column"
)

// ErrBadEmail is returned by UserID for an empty or malformed e-mail.
var ErrBadEmail = errors.New("not an e-mail address")

// UserID is the User ID of an e-mail under rule: sha256_email = hex SHA-256
// of the trimmed, lower-cased e-mail; email = the trimmed lower-cased e-mail.
// (Rule column: the caller uses the customer id column.) The error wraps
// ErrBadEmail for an empty or obviously malformed e-mail: no "@", nothing
// before or after it, a second "@" or a space inside; it never quotes the
// e-mail (MaskEmail does, for logs).
func UserID(rule UserIDRule, email string) (string, error) {
	switch rule {
	case "", UserSHA256Email, UserEmail:
	case UserColumn:
		return "", errors.New("user_id rule column takes the customer id column, not an e-mail")
	default:
		return "", fmt.Errorf("user_id rule %q: want sha256_email, email or column", rule)
	}
	e, err := normalEmail(email)
	if err != nil {
		return "", err
	}
	if rule == UserEmail {
		return e, nil
	}
	sum := sha256.Sum256([]byte(e))
	return hex.EncodeToString(sum[:]), nil
}

// normalEmail is email trimmed and lower-cased, checked.
func normalEmail(email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	if e == "" {
		return "", fmt.Errorf("%w: empty", ErrBadEmail)
	}
	local, domain, ok := strings.Cut(e, "@")
	switch {
	case !ok:
		return "", fmt.Errorf("%w: no @", ErrBadEmail)
	case local == "" || domain == "":
		return "", fmt.Errorf("%w: nothing before or after the @", ErrBadEmail)
	case strings.IndexByte(domain, '@') >= 0:
		return "", fmt.Errorf("%w: two @", ErrBadEmail)
	case strings.IndexFunc(e, unicode.IsSpace) >= 0:
		return "", fmt.Errorf("%w: a space inside", ErrBadEmail)
	case !utf8.ValidString(e):
		return "", fmt.Errorf("%w: not UTF-8 text", ErrBadEmail)
	}
	return e, nil
}

// MaskEmail returns a form of an e-mail safe for logs: the first character
// of the local part, "***", and the domain, lower-cased
// ("  Jane.Doe@Example.COM " → "j***@example.com"). Without an "@" it keeps
// the first character only ("j***"); an empty e-mail gives "".
func MaskEmail(email string) string {
	e := strings.ToLower(strings.TrimSpace(email))
	if e == "" {
		return ""
	}
	local, domain, ok := strings.Cut(e, "@")
	first := ""
	if r, size := utf8.DecodeRuneInString(local); r != utf8.RuneError {
		first = local[:size]
	}
	if !ok {
		return first + "***"
	}
	return first + "***@" + domain
}

// looksLikeEmail reports whether s holds something shaped like an e-mail
// address (an "@" with text on both sides and a dot after it): such an
// attribute value is kept out of a payload that must not carry e-mails.
func looksLikeEmail(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '@' || i == 0 || s[i-1] == ' ' {
			continue
		}
		rest := s[i+1:]
		if end := strings.IndexAny(rest, " \t\r\n,;<>"); end >= 0 {
			rest = rest[:end]
		}
		if dot := strings.IndexByte(rest, '.'); dot > 0 && dot < len(rest)-1 {
			return true
		}
	}
	return false
}
