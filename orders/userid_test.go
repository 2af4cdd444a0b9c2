package orders

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestUserID(t *testing.T) {
	sum := sha256.Sum256([]byte("jane.doe@example.com"))
	want := hex.EncodeToString(sum[:])
	for _, rule := range []UserIDRule{"", UserSHA256Email} {
		if got, err := UserID(rule, "  Jane.Doe@Example.COM "); err != nil || got != want {
			t.Errorf("UserID(%q) = %q, %v; want %s", rule, got, err, want)
		}
	}
	if got, err := UserID(UserEmail, "  Jane.Doe@Example.COM "); err != nil || got != "jane.doe@example.com" {
		t.Errorf("UserID(email) = %q, %v", got, err)
	}
	for _, bad := range []string{"", "   ", "jane.doe", "@example.com", "jane@", "a@b@c", "jane doe@example.com"} {
		if got, err := UserID(UserSHA256Email, bad); !errors.Is(err, ErrBadEmail) || got != "" {
			t.Errorf("UserID(%q) = %q, %v; want ErrBadEmail", bad, got, err)
		} else if bad != "" && strings.TrimSpace(bad) != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("UserID(%q)'s error quotes the e-mail: %v", bad, err)
		}
	}
	if _, err := UserID(UserColumn, "jane@example.com"); err == nil {
		t.Error("UserID(column) gave no error")
	}
	if _, err := UserID("md5", "jane@example.com"); err == nil || !strings.Contains(err.Error(), "md5") {
		t.Errorf("unknown rule: %v", err)
	}
}

func TestMaskEmail(t *testing.T) {
	for in, want := range map[string]string{
		"  Jane.Doe@Example.COM ": "j***@example.com",
		"x@y.org":                 "x***@y.org",
		"Ünal@beispiel.de":        "ü***@beispiel.de",
		"not-an-email":            "n***",
		"@example.com":            "***@example.com",
		"":                        "",
	} {
		if got := MaskEmail(in); got != want {
			t.Errorf("MaskEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLooksLikeEmail(t *testing.T) {
	for in, want := range map[string]bool{
		"jane@example.com": true, "Contact: jane@example.com, thanks": true,
		"call @ 5pm": false, "@handle": false, "a@b": false, "paypal": false,
	} {
		if got := looksLikeEmail(in); got != want {
			t.Errorf("looksLikeEmail(%q) = %v, want %v", in, got, want)
		}
	}
}
