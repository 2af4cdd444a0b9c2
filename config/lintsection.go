package config

import (
	"errors"
	"os"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// LoadLint reads the lint: section of a configuration file, and nothing else
// of it: what feedsync lint needs. The section is decoded as Load decodes it
// (${VAR} expanded, unknown keys and malformed values refused, each problem
// naming its key path); the top-level keys are checked by name, so that a
// misspelt "lnit:" is not silently ignored, but the other sections' values
// are not read: a ${VAR} in catalog or in a feed's headers that is unset in
// lint's environment (a CI job has no API token) does not concern it.
//
// A missing file, a file that is not YAML, and a section that cannot be
// used are an *Error, as from Load. A file without a lint: section gives
// the defaults (Defaults().Lint).
func LoadLint(path string) (*Lint, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &Error{Path: path, Problems: []string{"no such file (pass -c FILE or set FEEDSYNC_CONFIG; config.example.yaml is a documented start)"}}
		}
		return nil, &Error{Path: path, Problems: []string{err.Error()}}
	}
	l, err := parseLint(raw)
	if err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			ce.Path = path
		}
		return nil, err
	}
	return l, nil
}

// lintKey is the lint section's key in the configuration file.
const lintKey = "lint"

func parseLint(raw []byte) (*Lint, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, &Error{Problems: []string{strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	l := Defaults().Lint
	d := &decoder{}
	if len(doc.Content) > 0 {
		root := doc.Content[0]
		if root.Kind == yaml.AliasNode {
			root = root.Alias
		}
		switch {
		case root.Kind == yaml.ScalarNode && root.Tag == "!!null":
			// An empty file: the defaults.
		case root.Kind != yaml.MappingNode:
			// As Load says it: the problem is at the top, whose path is "".
			d.fail("", "want a mapping of keys, got %s", describe(root))
		default:
			known := topLevelKeys()
			for i := 0; i+1 < len(root.Content); i += 2 {
				key := root.Content[i].Value
				if _, ok := known[key]; !ok {
					d.fail(key, "unknown key (known: %s)", knownKeys(known))
					continue
				}
				if key == lintKey {
					d.decode(root.Content[i+1], reflect.ValueOf(&l).Elem(), lintKey)
				}
			}
		}
	}
	if len(d.problems) > 0 {
		return nil, &Error{Problems: d.problems}
	}
	return &l, nil
}

// topLevelKeys are Config's keys, as the decoder finds them.
func topLevelKeys() map[string]int {
	keys := map[string]int{}
	t := reflect.TypeOf(Config{})
	for i := 0; i < t.NumField(); i++ {
		if tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]; tag != "" && tag != "-" {
			keys[tag] = i
		}
	}
	return keys
}
