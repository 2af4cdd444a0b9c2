package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "feedsync.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// The variables of the other sections are not lint's concern: Load fails on
// them, LoadLint reads its section.
func TestLoadLintIgnoresUnsetVariablesElsewhere(t *testing.T) {
	const unset = "FEEDSYNC_TEST_SURELY_UNSET_TOKEN"
	os.Unsetenv(unset)
	t.Setenv("FEEDSYNC_TEST_LINT_MAX", "3")
	path := writeConfig(t, `state: ${`+unset+`}/state.db
catalog: {kind: usercom, url: "https://${`+unset+`}.user.com", token_env: USERCOM_API_TOKEN}
feeds:
  - name: shop
    url: https://shop.test/feed.xml?key=${`+unset+`}
    headers: {Authorization: "Bearer ${`+unset+`}"}
lint:
  disable: [price-format, unknown-attribute]
  enable: [id-characters]
  max_warnings: ${FEEDSYNC_TEST_LINT_MAX}
`)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), unset+" is not set") {
		t.Fatalf("Load: got %v, want the unset variable named (else this test proves nothing)", err)
	}
	l, err := LoadLint(path)
	if err != nil {
		t.Fatal(err)
	}
	want := Lint{Disable: []string{"price-format", "unknown-attribute"}, Enable: []string{"id-characters"}, MaxWarnings: 3}
	if !reflect.DeepEqual(*l, want) {
		t.Errorf("got %+v, want %+v", *l, want)
	}
}

// Whatever Load makes of a lint: section, LoadLint makes the same.
func TestLoadLintAgreesWithLoad(t *testing.T) {
	for _, body := range []string{
		"",
		"feeds: [{name: a, url: x}]\n",
		"lint: {max_warnings: 0}\n",
		"lint:\n  disable: [a, b]\n  enable: []\n  max_warnings: 12\nfeeds: [{name: a, url: x}]\n",
		"lint:\n",
	} {
		path := writeConfig(t, body)
		cfg, err := Load(path)
		if err != nil {
			t.Fatalf("%q: Load: %v", body, err)
		}
		l, err := LoadLint(path)
		if err != nil {
			t.Fatalf("%q: LoadLint: %v", body, err)
		}
		if !reflect.DeepEqual(*l, cfg.Lint) {
			t.Errorf("%q: LoadLint %+v, Load %+v", body, *l, cfg.Lint)
		}
	}
}

func TestLoadLintRefusesWhatLoadRefusesInItsSection(t *testing.T) {
	const unset = "FEEDSYNC_TEST_SURELY_UNSET_MAX"
	os.Unsetenv(unset)
	cases := []struct{ name, yaml, want string }{
		{"UnknownLintKey", "lint: {disable: [x], max_warning: 3}\n", "lint.max_warning: unknown key (known: disable, enable, max_warnings)"},
		{"UnsetVariableInLint", "lint: {max_warnings: '${" + unset + "}'}\n", "lint.max_warnings: environment variable " + unset + " is not set"},
		{"NotANumber", "lint: {max_warnings: many}\n", `lint.max_warnings: "many": want a whole number`},
		{"NotAList", "lint: {disable: {a: b}}\n", "lint.disable: want a list, got a mapping"},
		{"NotAMapping", "lint: [a, b]\n", "lint: want a mapping of keys, got a list"},
		{"MisspeltSection", "lnit: {max_warnings: 0}\n", "lnit: unknown key"},
		{"AliasToUnknownKey", "defaults: &d {disable: [x]}\nlint: *d\n", "defaults: unknown key"},
		{"TopNotAMapping", "- lint\n", `want a mapping of keys, got a list`},
		{"NotYAML", "lint: {disable: [x\n", "did not find expected"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeConfig(t, c.yaml)
			_, err := LoadLint(path)
			var ce *Error
			if !errors.As(err, &ce) || ce.Path != path {
				t.Fatalf("got %v, want a *Error naming %s", err, path)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %q, want it to contain %q", err, c.want)
			}
			// Load says the same of the section.
			if _, lerr := Load(path); lerr == nil || !strings.Contains(lerr.Error(), c.want) {
				t.Errorf("Load says %v; LoadLint %q", lerr, err)
			}
		})
	}
}

func TestLoadLintMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := LoadLint(path)
	var ce *Error
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "no such file") || !strings.Contains(err.Error(), path) {
		t.Fatalf("got %v", err)
	}
}
