package config

import (
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"

	"github.com/feedsync/feedsync/feed"
	"github.com/feedsync/feedsync/internal/memlimit"
	"github.com/feedsync/feedsync/tree"
)

// Config is feedsync's configuration file.
type Config struct {
	State   string  `yaml:"state"`
	Log     Log     `yaml:"log"`
	Metrics Metrics `yaml:"metrics"`
	Run     Run     `yaml:"run"`
	Catalog Catalog `yaml:"catalog"`
	Lint    Lint    `yaml:"lint"`
	Feeds   []Feed  `yaml:"feeds"`
	// Orders are orders exports synced as deals (see Orders).
	Orders []Orders `yaml:"orders"`
	// MemoryLimit is the Go heap's soft limit: a size ("320MiB"), "0" for
	// none, or "auto" (the default): 320 MiB, raised to 1.5 times the
	// live heap whenever that is more, so that a big catalog never starves
	// the collector (internal/memlimit). GOMEMLIMIT in the environment wins.
	MemoryLimit string `yaml:"memory_limit"`
	// PublishDir holds the shaped feeds of feeds with publish: true; default
	// "published" beside the state file.
	PublishDir string `yaml:"publish_dir"`

	// Path is the file the configuration was read from; relative paths in it
	// are relative to its directory.
	Path string `yaml:"-"`
}

// Log sets up logging.
type Log struct {
	Level  string `yaml:"level"`  // debug|info|warn|error
	Format string `yaml:"format"` // console|json
}

// Metrics is the daemon's HTTP endpoint.
type Metrics struct {
	Listen string `yaml:"listen"`
}

// Run tunes the daemon (feedsync run).
type Run struct {
	// Concurrency is how many feeds sync at the same time.
	Concurrency int `yaml:"concurrency"`
	// Grace is how long SIGTERM waits for in-flight pushes.
	Grace Duration `yaml:"grace"`
}

// Lint tunes feedsync lint when it is given -c; flags override it.
type Lint struct {
	// Disable and Enable list rule codes (feedsync lint --rules shows them).
	Disable []string `yaml:"disable"`
	Enable  []string `yaml:"enable"`
	// MaxWarnings fails the lint when there are more warnings; -1 means no limit.
	MaxWarnings int `yaml:"max_warnings"`
}

// Catalog says where products go.
type Catalog struct {
	Kind        string   `yaml:"kind"` // file|usercom
	Path        string   `yaml:"path"`
	URL         string   `yaml:"url"`
	TokenEnv    string   `yaml:"token_env"`
	Mode        string   `yaml:"mode"` // import|rest
	Rate        float64  `yaml:"rate"`
	Concurrency int      `yaml:"concurrency"`
	Timeout     Duration `yaml:"timeout"`
	Retries     int      `yaml:"retries"`
}

// Feed is one shop's feed.
type Feed struct {
	Name      string            `yaml:"name"`
	URL       string            `yaml:"url"`
	Format    feed.Format       `yaml:"format"`
	Schedule  Schedule          `yaml:"schedule"`
	Policy    tree.Policy       `yaml:"policy"`
	ProductID string            `yaml:"product_id"`
	OnMissing string            `yaml:"on_missing"`
	MaxDelete MaxDelete         `yaml:"max_delete"`
	Headers   map[string]string `yaml:"headers"`
	Timeout   Duration          `yaml:"timeout"`
	// MaxSize caps the feed's size, compressed and decompressed ("4GiB", "500MB").
	MaxSize Size `yaml:"max_size"`
	// Fields maps catalog fields to feed attributes (name: title); an empty
	// attribute drops a default field. See tree.Options.Fields.
	Fields map[string]string `yaml:"fields"`
	// Heartbeat is requested (GET) after each successful run of the daemon:
	// a dead man's switch for monitoring. Optional.
	Heartbeat string `yaml:"heartbeat"`
	// Publish makes the daemon serve this feed's latest shaped products as a
	// Google RSS feed at /feeds/<name>.xml on metrics.listen.
	Publish bool `yaml:"publish"`
	// Link is the <link> of the RSS channel that `feedsync transform --feed`
	// writes for this feed, and that its published feed carries (RSS 2.0
	// requires one): the shop's address, an http(s) URL. Optional: without
	// it transform uses an http(s) url without its user info and query; a
	// local file, and a published feed, get none, with a warning.
	Link string `yaml:"link"`
}

// Duration is a time.Duration written as "30s", "5m".
type Duration time.Duration

// MaxDuration is the longest Duration a configuration may hold: a week,
// far beyond any sensible timeout or grace period, and far from where adding
// it to a time or to another duration overflows.
const MaxDuration = 7 * 24 * time.Hour

// UnmarshalYAML reads a Go duration string ("30s", "5m", "1h30m", "0"): not
// negative, at most MaxDuration ("168h"), and not a fraction of a nanosecond
// that would silently become 0.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want a duration such as 30s or 5m, got %s", describe(n))
	}
	v, err := parseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// durationRE is the grammar time.ParseDuration reads, without a sign: one
// or more decimal numbers, each with its unit.
var durationRE = regexp.MustCompile(`^(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+$`)

func parseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	tooLong := fmt.Errorf("%q: above the longest duration feedsync accepts (%s)", s, shortDuration(MaxDuration))
	if strings.HasPrefix(t, "-") {
		return 0, fmt.Errorf("%q: a duration cannot be negative", s)
	}
	if t != "0" && !durationRE.MatchString(t) {
		return 0, fmt.Errorf("%q: want a duration such as 30s or 5m", s)
	}
	v, err := time.ParseDuration(t)
	switch {
	case err != nil: // well formed, so it overflowed
		return 0, tooLong
	case v > MaxDuration:
		return 0, tooLong
	case v == 0 && strings.ContainsAny(t, "123456789"):
		return 0, fmt.Errorf("%q: shorter than a nanosecond", s)
	}
	return v, nil
}

// shortDuration is d.String() without its zero minutes and seconds: "168h",
// "2m", "1h30m".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// On-missing actions.
const (
	OnMissingDelete      = "delete"
	OnMissingUnavailable = "unavailable"
	OnMissingKeep        = "keep"
)

// Defaults returns a configuration with every default filled in.
func Defaults() Config {
	return Config{
		State:   "./feedsync.db",
		Log:     Log{Level: "info", Format: "console"},
		Metrics: Metrics{Listen: "127.0.0.1:9464"},
		Run:     Run{Concurrency: 2, Grace: Duration(30 * time.Second)},
		Lint:    Lint{MaxWarnings: -1},
		// Keeps a 1M-item sync under 512 MB resident, and follows the live
		// heap of bigger catalogs (a fixed 320MiB doubled a 3M-item sync's
		// time: the collector ran without pause).
		MemoryLimit: "auto",
		Catalog: Catalog{
			Kind: "file", Path: "./out/catalog.jsonl", TokenEnv: "USERCOM_API_TOKEN", Mode: "import",
			Rate: 10, Concurrency: 4, Timeout: Duration(30 * time.Second), Retries: 6,
		},
	}
}

// FeedDefaults is a feed with every default filled in.
func FeedDefaults() Feed {
	return Feed{
		Format: feed.FormatAuto, Schedule: MustSchedule("@hourly"), Policy: tree.PolicyVariant, ProductID: "id",
		OnMissing: OnMissingUnavailable, MaxDelete: MustMaxDelete("10%"), Timeout: Duration(10 * time.Minute), MaxSize: 4 << 30,
	}
}

// Error is a configuration that cannot be used; every problem is listed.
type Error struct {
	Path     string
	Problems []string
}

func (e *Error) Error() string {
	if len(e.Problems) == 1 {
		return fmt.Sprintf("config %s: %s", e.Path, e.Problems[0])
	}
	return fmt.Sprintf("config %s:\n  %s", e.Path, strings.Join(e.Problems, "\n  "))
}

// Load reads, expands and validates a configuration file.
func Load(path string) (*Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &Error{Path: path, Problems: []string{"no such file (pass -c FILE or set FEEDSYNC_CONFIG; config.example.yaml is a documented start)"}}
		}
		return nil, &Error{Path: path, Problems: []string{err.Error()}}
	}
	cfg, err := Parse(raw)
	if err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			ce.Path = path
		}
		return nil, err
	}
	cfg.Path = path
	cfg.resolvePaths(filepath.Dir(path))
	return cfg, nil
}

// Parse parses and validates YAML; ${VAR} in values is taken from the
// environment.
func Parse(raw []byte) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, &Error{Problems: []string{strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	cfg := Defaults()
	var problems []string
	if len(doc.Content) > 0 {
		d := &decoder{}
		d.decode(doc.Content[0], reflect.ValueOf(&cfg).Elem(), "")
		problems = d.problems
	}
	// Every problem at once: validation runs after a failed decode too,
	// and says nothing more of a key whose value could not be decoded.
	failed := map[string]bool{}
	for _, p := range problems {
		path, _, _ := strings.Cut(p, ": ")
		failed[path] = true
	}
	for _, p := range cfg.validate() {
		if path, _, _ := strings.Cut(p, ": "); !failed[path] {
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		return nil, &Error{Problems: problems}
	}
	return &cfg, nil
}

// decoder walks the YAML tree beside the Go struct, so that every error names
// its key path (feeds[1].policy) and unknown keys are caught.
type decoder struct{ problems []string }

func (d *decoder) fail(path string, format string, args ...any) {
	d.problems = append(d.problems, path+": "+fmt.Sprintf(format, args...))
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

func (d *decoder) expand(n *yaml.Node, path string) string {
	return envRef.ReplaceAllStringFunc(n.Value, func(m string) string {
		name := m[2 : len(m)-1]
		v, ok := os.LookupEnv(name)
		if !ok {
			d.fail(path, "environment variable %s is not set", name)
		}
		return v
	})
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if u, ok := v.Addr().Interface().(yaml.Unmarshaler); ok {
		c := *n
		c.Value = d.expand(n, path)
		if err := u.UnmarshalYAML(&c); err != nil {
			d.fail(path, "%v", err)
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.fail(path, "want a mapping of keys, got %s", describe(n))
			return
		}
		fields := map[string]int{}
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			if tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]; tag != "" && tag != "-" {
				fields[tag] = i
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			sub := join(path, key)
			fi, ok := fields[key]
			if !ok {
				d.fail(sub, "unknown key (known: %s)", knownKeys(fields))
				continue
			}
			d.decode(n.Content[i+1], v.Field(fi), sub)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(path, "want a list, got %s", describe(n))
			return
		}
		v.Set(reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content)))
		for i, c := range n.Content {
			elem := v.Index(i)
			if elem.Type() == reflect.TypeOf(Feed{}) {
				elem.Set(reflect.ValueOf(FeedDefaults()))
			}
			if elem.Type() == reflect.TypeOf(Orders{}) {
				elem.Set(reflect.ValueOf(OrdersDefaults()))
			}
			d.decode(c, elem, fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.fail(path, "want a mapping, got %s", describe(n))
			return
		}
		m := reflect.MakeMap(v.Type())
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			if val.Kind != yaml.ScalarNode {
				d.fail(join(path, key.Value), "want a string, got %s", describe(val))
				continue
			}
			m.SetMapIndex(reflect.ValueOf(key.Value), reflect.ValueOf(d.expand(val, join(path, key.Value))))
		}
		v.Set(m)
	default:
		if n.Kind != yaml.ScalarNode {
			d.fail(path, "want a single value, got %s", describe(n))
			return
		}
		s := d.expand(n, path)
		switch v.Kind() {
		case reflect.String:
			v.SetString(s)
		case reflect.Int:
			i, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				d.fail(path, "%q: want a whole number", s)
				return
			}
			v.SetInt(int64(i))
		case reflect.Bool:
			b, err := strconv.ParseBool(strings.TrimSpace(s))
			if err != nil {
				d.fail(path, "%q: want true or false", s)
				return
			}
			v.SetBool(b)
		case reflect.Float64:
			f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				d.fail(path, "%q: want a number", s)
				return
			}
			v.SetFloat(f)
		default:
			d.fail(path, "unsupported field type %s", v.Type())
		}
	}
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%q", n.Value)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func knownKeys(fields map[string]int) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

var feedName = regexp.MustCompile(`^[a-z0-9_-]+$`)

func (c *Config) validate() []string {
	var p []string
	bad := func(path, format string, args ...any) { p = append(p, path+": "+fmt.Sprintf(format, args...)) }
	if strings.TrimSpace(c.State) == "" {
		bad("state", "must name the state file")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q: want debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "console", "json":
	default:
		bad("log.format", "%q: want console or json", c.Log.Format)
	}
	if v := strings.TrimSpace(c.MemoryLimit); v != "0" && v != "auto" {
		if _, err := ParseSize(c.MemoryLimit); err != nil {
			bad("memory_limit", "%v (or auto, or 0 for no limit)", err)
		}
	}
	if c.Run.Concurrency < 1 {
		bad("run.concurrency", "%d: want 1 or more", c.Run.Concurrency)
	}
	cat := &c.Catalog
	switch cat.Kind {
	case "file":
		if cat.Path == "" {
			bad("catalog.path", "the file catalog needs a path")
		}
	case "usercom":
		if !strings.HasPrefix(cat.URL, "https://") && !strings.HasPrefix(cat.URL, "http://") {
			bad("catalog.url", "%q: want the app's URL, such as https://example.user.com", cat.URL)
		}
		if cat.TokenEnv == "" {
			bad("catalog.token_env", "must name the environment variable that holds the API token")
		}
	default:
		bad("catalog.kind", "%q: want file or usercom", cat.Kind)
	}
	switch cat.Mode {
	case "import", "rest":
	default:
		bad("catalog.mode", "%q: want import or rest", cat.Mode)
	}
	if cat.Rate <= 0 {
		bad("catalog.rate", "%v: want requests per second above 0", cat.Rate)
	}
	if cat.Concurrency < 1 {
		bad("catalog.concurrency", "%d: want 1 or more", cat.Concurrency)
	}
	if cat.Retries < 0 {
		bad("catalog.retries", "%d: want 0 or more", cat.Retries)
	}
	names := map[string]int{}
	for i := range c.Feeds {
		f := &c.Feeds[i]
		at := fmt.Sprintf("feeds[%d]", i)
		if !feedName.MatchString(f.Name) {
			bad(at+".name", "%q: want lower-case letters, digits, _ and - only", f.Name)
		} else if j, dup := names[f.Name]; dup {
			bad(at+".name", "%q: already used by feeds[%d]", f.Name, j)
		} else {
			names[f.Name] = i
		}
		if strings.TrimSpace(f.URL) == "" {
			bad(at+".url", "must name the feed: a path, file://, http:// or https:// URL")
		}
		if _, err := feed.ParseFormat(string(f.Format)); err != nil {
			bad(at+".format", "%v", err)
		}
		if f.Schedule.Schedule == nil {
			bad(at+".schedule", "must name a schedule, such as @hourly or 0 * * * *")
		}
		if _, err := tree.ParsePolicy(string(f.Policy)); err != nil {
			bad(at+".policy", "%v", err)
		}
		if strings.TrimSpace(f.ProductID) == "" {
			bad(at+".product_id", "must name an attribute: id, gtin, mpn or another such as sku")
		}
		switch f.OnMissing {
		case OnMissingDelete, OnMissingUnavailable, OnMissingKeep:
		default:
			bad(at+".on_missing", "%q: want delete, unavailable or keep", f.OnMissing)
		}
		if f.Link != "" && !strings.HasPrefix(f.Link, "http://") && !strings.HasPrefix(f.Link, "https://") {
			bad(at+".link", "%q: want the shop's http:// or https:// address", f.Link)
		}
		if f.Heartbeat != "" && !strings.HasPrefix(f.Heartbeat, "http://") && !strings.HasPrefix(f.Heartbeat, "https://") {
			bad(at+".heartbeat", "%q: want an http:// or https:// URL", f.Heartbeat)
		}
		if err := tree.CheckFields(f.Fields); err != nil {
			bad(at+".fields", "%v", err)
		}
		if f.OnMissing == OnMissingDelete && cat.Kind == "usercom" && cat.Mode != "rest" {
			bad(at+".on_missing", "%q needs catalog.mode rest: User.com's import cannot delete products (use unavailable, or mode rest after checking the README's warning on REST deletes)", f.OnMissing)
		}
	}
	taken := map[string]string{}
	for n, i := range names {
		taken[n] = fmt.Sprintf("feeds[%d]", i)
	}
	c.validateOrders(bad, taken)
	return p
}

var cronFields = [...]struct {
	name     string
	min, max int
}{{"minute", 0, 59}, {"hour", 0, 23}, {"day of month", 1, 31}, {"month", 1, 12}, {"day of week", 0, 6}}

// checkSchedule parses a cron spec as the daemon will, and also refuses steps
// larger than their field (cron accepts */61 and silently runs hourly).
func checkSchedule(spec string) error {
	if _, err := cron.ParseStandard(spec); err != nil {
		return err
	}
	fields := strings.Fields(spec)
	if len(fields) > 0 && strings.HasPrefix(fields[0], "CRON_TZ=") || len(fields) > 0 && strings.HasPrefix(fields[0], "TZ=") {
		fields = fields[1:]
	}
	if len(fields) != len(cronFields) {
		return nil // a descriptor such as @hourly or @every 15m
	}
	for i, f := range fields {
		for _, part := range strings.Split(f, ",") {
			if _, step, ok := strings.Cut(part, "/"); ok {
				n, err := strconv.Atoi(step)
				if err == nil && n > cronFields[i].max-cronFields[i].min+1 {
					return fmt.Errorf("%s step %d out of range", cronFields[i].name, n)
				}
			}
		}
	}
	return nil
}

// MaxDelete limits removals: a share of the stored products, or a count.
type MaxDelete struct {
	Percent float64 // used when Count < 0
	Count   int
}

// ParseMaxDelete reads "10%" or "500".
func ParseMaxDelete(s string) (MaxDelete, error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || f < 0 || f > 100 {
			return MaxDelete{}, fmt.Errorf("%q: want a share from 0%% to 100%%, or a count", s)
		}
		return MaxDelete{Percent: f, Count: -1}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return MaxDelete{}, fmt.Errorf("%q: want a share such as 10%% or a count such as 500", s)
	}
	return MaxDelete{Count: n}, nil
}

// Allows reports whether removing n of stored products is within the limit.
func (m MaxDelete) Allows(n, stored int) bool {
	if m.Count >= 0 {
		return n <= m.Count
	}
	return float64(n) <= m.Percent/100*float64(stored)
}

func (m MaxDelete) String() string {
	if m.Count >= 0 {
		return strconv.Itoa(m.Count)
	}
	return strconv.FormatFloat(m.Percent, 'f', -1, 64) + "%"
}

// UnmarshalYAML reads max_delete ("10%", "500").
func (m *MaxDelete) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want a share such as 10%% or a count such as 500, got %s", describe(n))
	}
	v, err := ParseMaxDelete(n.Value)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// MustMaxDelete is ParseMaxDelete for values known to be good; it panics
// on a bad one.
func MustMaxDelete(s string) MaxDelete {
	m, err := ParseMaxDelete(s)
	if err != nil {
		panic(err)
	}
	return m
}

// Size is a number of bytes, written as ParseSize reads it ("4GiB").
type Size int64

// UnmarshalYAML reads a size (see ParseSize).
func (z *Size) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want a size such as 4GiB or 500MB, got %s", describe(n))
	}
	v, err := ParseSize(n.Value)
	if err != nil {
		return err
	}
	*z = Size(v)
	return nil
}

// Schedule is a cron schedule, parsed as the daemon runs it.
type Schedule struct {
	Spec string // as written: "@hourly", "*/15 * * * *"
	cron.Schedule
}

// ParseSchedule parses a cron spec as the daemon will (five fields, or a
// descriptor such as @hourly or @every 15m, optionally after CRON_TZ=), and
// also refuses steps larger than their field (cron accepts */61 and
// silently runs hourly).
func ParseSchedule(spec string) (Schedule, error) {
	if err := checkSchedule(spec); err != nil {
		return Schedule{}, fmt.Errorf("%q: %v", spec, err)
	}
	s, err := cron.ParseStandard(spec)
	if err != nil {
		return Schedule{}, fmt.Errorf("%q: %v", spec, err)
	}
	return Schedule{Spec: spec, Schedule: s}, nil
}

// MustSchedule is ParseSchedule for specs known to be good; it panics on a
// bad one.
func MustSchedule(spec string) Schedule {
	s, err := ParseSchedule(spec)
	if err != nil {
		panic(err)
	}
	return s
}

func (s Schedule) String() string { return s.Spec }

// UnmarshalYAML reads a cron spec (see ParseSchedule).
func (s *Schedule) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want a cron schedule such as @hourly or 0 * * * *, got %s", describe(n))
	}
	v, err := ParseSchedule(n.Value)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// MaxSizeBytes is the largest size ParseSize accepts: 1 PiB.
const MaxSizeBytes int64 = 1 << 50

// sizeUnits are ParseSize's units, longest suffix first.
var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"PiB", 1 << 50},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"PB", 1e15},
	{"B", 1},
}

// ParseSize reads a byte size: "4GiB", "500MB", "64 KiB", "1.5GB",
// "1048576". A size is a decimal number — digits, optionally with a fraction
// ("1.5") — and an optional unit (B, KB, MB, GB, TB, PB, KiB, MiB, GiB, TiB,
// PiB; none means bytes), and it must come to a whole number of bytes from 1
// to 1PiB (MaxSizeBytes). Signs, exponents, hexadecimal, NaN, Inf, "0.5B" and
// an empty value are errors, each naming the input.
func ParseSize(s string) (int64, error) {
	want := fmt.Errorf("%q: want a size such as 4GiB, 500MB or 1048576 (a number of bytes with an optional unit: B, KB, MB, GB, TB, PB, KiB, MiB, GiB, TiB or PiB)", s)
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range sizeUnits {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	whole, frac, dot := strings.Cut(t, ".")
	if whole == "" || !allDigits(whole) || dot && (frac == "" || !allDigits(frac)) {
		return 0, want
	}
	// Leading zeros of the whole part and trailing zeros of the fraction
	// change nothing; what is left is small, or too large or too fine to be
	// a size: 17 digits before the point are 1e16 bytes, above 1PiB, and a
	// fraction of more than 50 digits (without trailing zeros) never gives
	// whole bytes, since no unit is divisible by more than 2^50 or 5^15.
	whole = strings.TrimLeft(whole, "0")
	frac = strings.TrimRight(frac, "0")
	if len(whole) > 16 {
		return 0, fmt.Errorf("%q: above the largest size feedsync accepts (1PiB)", s)
	}
	if len(frac) > 50 {
		return 0, fmt.Errorf("%q: not a whole number of bytes", s)
	}
	n, _ := new(big.Int).SetString("0"+whole+frac, 10)
	n.Mul(n, big.NewInt(mult))
	q, r := n.QuoRem(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(len(frac))), nil), new(big.Int))
	switch {
	case r.Sign() != 0:
		return 0, fmt.Errorf("%q: not a whole number of bytes", s)
	case q.Sign() == 0:
		return 0, fmt.Errorf("%q: want a size of at least 1 byte", s)
	case q.Cmp(big.NewInt(MaxSizeBytes)) > 0:
		return 0, fmt.Errorf("%q: above the largest size feedsync accepts (1PiB)", s)
	}
	return q.Int64(), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isRemote(u string) bool {
	return strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "file://")
}

// resolvePaths makes relative paths relative to the config file's directory.
func (c *Config) resolvePaths(dir string) {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	c.State = abs(c.State)
	if c.PublishDir == "" {
		c.PublishDir = filepath.Join(filepath.Dir(c.State), "published")
	}
	c.PublishDir = abs(c.PublishDir)
	c.Catalog.Path = abs(c.Catalog.Path)
	for i := range c.Feeds {
		if !isRemote(c.Feeds[i].URL) {
			c.Feeds[i].URL = abs(c.Feeds[i].URL)
		}
	}
	for i := range c.Orders {
		if !isRemote(c.Orders[i].URL) {
			c.Orders[i].URL = abs(c.Orders[i].URL)
		}
	}
}

// ApplyMemoryLimit sets the Go heap's soft limit from memory_limit, unless
// GOMEMLIMIT is set in the environment.
func (c *Config) ApplyMemoryLimit() {
	v := strings.TrimSpace(c.MemoryLimit)
	if os.Getenv("GOMEMLIMIT") != "" || v == "0" {
		return
	}
	if v == "auto" {
		memlimit.Follow(AutoMemoryFloor)
		return
	}
	if n, err := ParseSize(c.MemoryLimit); err == nil {
		memlimit.Stop()
		debug.SetMemoryLimit(n)
	}
}

// AutoMemoryFloor is memory_limit auto's lowest limit.
const AutoMemoryFloor = 320 << 20

// RequireFeeds is the check of the commands that sync: a config for lint
// alone may have no feeds.
func (c *Config) RequireFeeds() error {
	if len(c.Feeds) == 0 {
		return &Error{Path: c.Path, Problems: []string{"feeds: no feeds configured"}}
	}
	return nil
}

// Feed returns the named feed's configuration.
func (c *Config) Feed(name string) (*Feed, bool) {
	for i := range c.Feeds {
		if c.Feeds[i].Name == name {
			return &c.Feeds[i], true
		}
	}
	return nil, false
}
