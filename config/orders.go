package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/feedsync/feedsync/orders"
)

// Orders is one shop's orders export, synced to the catalog as deals
// (User.com's deals pipeline): the User ID, the product ids and the stage
// each order gets are the shop's decisions, made here.
type Orders struct {
	Name     string            `yaml:"name"`
	URL      string            `yaml:"url"`
	Format   orders.Format     `yaml:"format"` // auto, csv, tsv or jsonl
	Schedule Schedule          `yaml:"schedule"`
	Headers  map[string]string `yaml:"headers"`
	Timeout  Duration          `yaml:"timeout"`
	MaxSize  Size              `yaml:"max_size"`
	// Columns maps the export's columns to the order's fields.
	Columns orders.Columns `yaml:"columns"`
	// UserID is the User ID rule: sha256_email (the default), email or
	// column (the customer_id column).
	UserID orders.UserIDRule `yaml:"user_id"`
	// SendEmail sends the e-mail with the deal (for creating the user):
	// off by default, so that only the User ID leaves feedsync.
	SendEmail bool `yaml:"send_email"`
	// Pipeline is simple, recommended (the default) or custom;
	// PipelineID the account's pipeline id (0: not sent).
	Pipeline   orders.Pipeline `yaml:"pipeline"`
	PipelineID int             `yaml:"pipeline_id"`
	// Stages maps the shop's status words to stages: a preset's name
	// (woocommerce, magento, shopify), or {preset, statuses, stages}.
	Stages StagesConfig `yaml:"stages"`
	// ProductsFrom names the product feed whose products the order lines
	// are mapped to (a variant's SKU becomes its parent's id under the
	// parent policy); "" sends the line ids as the export has them.
	ProductsFrom string `yaml:"products_from"`
	// Attributes are more columns sent as deal attributes.
	Attributes []string `yaml:"attributes"`
	// Currency is the currency of an export that has no currency column.
	Currency string `yaml:"currency"`
	// Decimal is the decimal separator of the export's numbers, "." or ",";
	// "" decides per number and refuses the ambiguous ("1,234").
	Decimal string `yaml:"decimal"`
}

// OrdersDefaults is an orders export with every default filled in.
func OrdersDefaults() Orders {
	return Orders{Format: orders.FormatAuto, Schedule: MustSchedule("@hourly"), UserID: orders.UserSHA256Email,
		Pipeline: orders.PipelineRecommended, Timeout: Duration(10 * time.Minute), MaxSize: 4 << 30}
}

// StagesConfig is the stages: key: a preset's name, or a mapping.
type StagesConfig struct {
	Preset   string
	Statuses map[string]string
	Stages   map[string]orders.Stage
}

// UnmarshalYAML reads `stages: woocommerce` or
// `stages: {preset: woocommerce, statuses: {on-hold: placed}, stages: {placed: {id: 12, status: 1}}}`.
func (s *StagesConfig) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		s.Preset = strings.TrimSpace(n.Value)
		return nil
	case yaml.MappingNode:
	default:
		return fmt.Errorf("want a preset (%s) or a mapping of preset, statuses and stages, got %s", strings.Join(orders.Presets(), ", "), describe(n))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i].Value, n.Content[i+1]
		switch key {
		case "preset":
			s.Preset = strings.TrimSpace(val.Value)
		case "statuses":
			m, err := stringMap(val)
			if err != nil {
				return fmt.Errorf("statuses: %w", err)
			}
			s.Statuses = m
		case "stages":
			if val.Kind != yaml.MappingNode {
				return fmt.Errorf("stages: want a mapping of stage name to {id, status}, got %s", describe(val))
			}
			s.Stages = map[string]orders.Stage{}
			for j := 0; j+1 < len(val.Content); j += 2 {
				name, v := val.Content[j].Value, val.Content[j+1]
				st, err := stageOf(name, v)
				if err != nil {
					return fmt.Errorf("stages.%s: %w", name, err)
				}
				s.Stages[name] = st
			}
		default:
			return fmt.Errorf("%s: unknown key (known: preset, stages, statuses)", key)
		}
	}
	return nil
}

func stringMap(n *yaml.Node) (map[string]string, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("want a mapping, got %s", describe(n))
	}
	m := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i+1].Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("%s: want a stage name, got %s", n.Content[i].Value, describe(n.Content[i+1]))
		}
		m[strings.ToLower(strings.TrimSpace(n.Content[i].Value))] = strings.TrimSpace(n.Content[i+1].Value)
	}
	return m, nil
}

func stageOf(name string, n *yaml.Node) (orders.Stage, error) {
	st := orders.Stage{Name: name, Status: -1}
	if n.Kind != yaml.MappingNode {
		return st, fmt.Errorf("want {id: N, status: 0-4}, got %s", describe(n))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1].Value
		x, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return st, fmt.Errorf("%s: %q: want a whole number", k, v)
		}
		switch k {
		case "id":
			st.ID = x
		case "status":
			st.Status = x
		default:
			return st, fmt.Errorf("%s: unknown key (known: id, status)", k)
		}
	}
	return st, nil
}

// OrdersConfig is what the orders reader needs of an export's settings.
func (o *Orders) OrdersConfig() orders.Config {
	return orders.Config{
		Format: o.Format, Columns: o.Columns, UserID: o.UserID, Attributes: o.Attributes, Currency: o.Currency, Decimal: o.Decimal,
		Stages: orders.Stages{Preset: o.Stages.Preset, Statuses: o.Stages.Statuses, Stages: o.Stages.Stages,
			Pipeline: o.Pipeline, PipelineID: o.PipelineID},
	}
}

// validateOrders checks the orders: entries; names share one namespace
// with the feeds (each has its state under its name).
func (c *Config) validateOrders(bad func(path, format string, args ...any), names map[string]string) {

	for i := range c.Orders {
		o := &c.Orders[i]
		at := fmt.Sprintf("orders[%d]", i)
		switch {
		case !feedName.MatchString(o.Name):
			bad(at+".name", "%q: want lower-case letters, digits, _ and - only", o.Name)
		case names[o.Name] != "":
			bad(at+".name", "%q: already used by %s", o.Name, names[o.Name])
		default:
			names[o.Name] = at
		}
		if strings.TrimSpace(o.URL) == "" {
			bad(at+".url", "must name the export: a path, file://, http:// or https:// URL")
		}
		switch o.Format {
		case orders.FormatAuto, orders.FormatCSV, orders.FormatTSV, orders.FormatJSONL:
		default:
			bad(at+".format", "%q: want auto, csv, tsv or jsonl", o.Format)
		}
		// The reader's own check: columns, the User ID rule's columns,
		// stages, attributes, currency, decimal separator.
		if err := o.OrdersConfig().Check(); err != nil {
			for _, e := range strings.Split(err.Error(), "; ") {
				if key, msg, ok := strings.Cut(e, ": "); ok && !strings.ContainsAny(key, " \"") {
					if first, _, _ := strings.Cut(key, "."); first == "preset" || first == "statuses" || first == "stages" {
						key = "stages." + key // orders.Stages speaks of its own keys
					}
					bad(at+"."+key, "%s", msg)
				} else {
					bad(at, "%s", e)
				}
			}
		}
		switch o.Pipeline {
		case orders.PipelineSimple, orders.PipelineRecommended, orders.PipelineCustom:
		default:
			bad(at+".pipeline", "%q: want simple, recommended or custom", o.Pipeline)
		}
		if o.ProductsFrom != "" {
			if _, ok := c.Feed(o.ProductsFrom); !ok {
				var known []string
				for _, f := range c.Feeds {
					known = append(known, f.Name)
				}
				sort.Strings(known)
				bad(at+".products_from", "%q: no such feed (feeds: %s)", o.ProductsFrom, strings.Join(known, ", "))
			}
		}
	}
}

// KeepsIDs reports whether an orders export maps its lines through feed
// (products_from): that feed's runs keep its product ids in the state.
func (c *Config) KeepsIDs(feed string) bool {
	for _, o := range c.Orders {
		if o.ProductsFrom != "" && o.ProductsFrom == feed {
			return true
		}
	}
	return false
}

// Order returns the orders export named name.
func (c *Config) Order(name string) (*Orders, bool) {
	for i := range c.Orders {
		if c.Orders[i].Name == name {
			return &c.Orders[i], true
		}
	}
	return nil, false
}
