package validate

import (
	"errors"
	"path"
	"strings"
	"time"

	"github.com/escai-framework/escai/pkg/security/config"
)

// Config is what a user sets. Zero values mean the documented defaults,
// never "unlimited": a forgotten limit must not open the door.
type Config struct {
	// Level is permissive, standard or strict (ESCAI_VALIDATION_LEVEL);
	// empty means standard.
	Level config.ValidationLevel `json:"level" yaml:"level"`
	// Limits bound what one event may hold.
	Limits Limits `json:"limits" yaml:"limits"`
	// Fields maps JSON paths and key names to field kinds, on top of the
	// defaults (see the package documentation).
	Fields FieldPolicy `json:"fields" yaml:"fields"`
	// Rules are custom rules, usually from LoadRules.
	Rules []Rule `json:"rules,omitempty" yaml:"rules,omitempty"`
	// AllowedRoots are, when set, the directories path fields may name:
	// an absolute path outside all of them, or a relative path climbing
	// above its start, is path traversal. Each must be absolute ("/srv/app",
	// "C:\\work"); they are cleaned, and compared case-sensitively.
	AllowedRoots []string `json:"allowed_roots,omitempty" yaml:"allowed_roots,omitempty"`
	// MaxFutureSkew is how far in the future an event's time may be.
	// Default 5m; it must be positive.
	MaxFutureSkew time.Duration `json:"max_future_skew" yaml:"max_future_skew"`
	// Now is the clock for the future-time check; nil means time.Now.
	// Tests inject a fixed clock.
	Now func() time.Time `json:"-" yaml:"-"`
}

// Limits bound the size and shape of an event. A zero field means the
// default.
type Limits struct {
	// MaxEventBytes bounds the encoded event: data plus attributes and
	// extensions. Default 256 KiB (262144), like ESCAI_MAX_EVENT_BYTES.
	MaxEventBytes int `json:"max_event_bytes" yaml:"max_event_bytes"`
	// MaxDepth bounds the nesting of objects and arrays in data, data
	// itself being depth 1, including JSON embedded in argument strings.
	// Default 32.
	MaxDepth int `json:"max_depth" yaml:"max_depth"`
	// MaxStringBytes bounds every string value and object key, in bytes
	// after JSON unescaping. Default 64 KiB (65536).
	MaxStringBytes int `json:"max_string_bytes" yaml:"max_string_bytes"`
	// MaxObjectKeys bounds the keys of one object. Default 1000.
	MaxObjectKeys int `json:"max_object_keys" yaml:"max_object_keys"`
	// MaxArrayLen bounds the elements of one array. Default 10000.
	MaxArrayLen int `json:"max_array_len" yaml:"max_array_len"`
}

// The default limits.
const (
	// DefaultMaxEventBytes is 256 KiB, like ESCAI_MAX_EVENT_BYTES.
	DefaultMaxEventBytes = 256 << 10
	// DefaultMaxDepth is 32 levels, like ESCAI_MAX_EVENT_DEPTH.
	DefaultMaxDepth = 32
	// DefaultMaxStringBytes is 64 KiB per string.
	DefaultMaxStringBytes = 64 << 10
	// DefaultMaxObjectKeys is 1,000 keys per object.
	DefaultMaxObjectKeys = 1000
	// DefaultMaxArrayLen is 10,000 elements per array.
	DefaultMaxArrayLen = 10000
	// DefaultMaxFutureSkew is 5 minutes of clock skew.
	DefaultMaxFutureSkew = 5 * time.Minute
)

// DefaultLimits returns the documented defaults.
func DefaultLimits() Limits {
	return Limits{
		MaxEventBytes:  DefaultMaxEventBytes,
		MaxDepth:       DefaultMaxDepth,
		MaxStringBytes: DefaultMaxStringBytes,
		MaxObjectKeys:  DefaultMaxObjectKeys,
		MaxArrayLen:    DefaultMaxArrayLen,
	}
}

func (l Limits) effective() Limits {
	d := DefaultLimits()
	if l.MaxEventBytes == 0 {
		l.MaxEventBytes = d.MaxEventBytes
	}
	if l.MaxDepth == 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxStringBytes == 0 {
		l.MaxStringBytes = d.MaxStringBytes
	}
	if l.MaxObjectKeys == 0 {
		l.MaxObjectKeys = d.MaxObjectKeys
	}
	if l.MaxArrayLen == 0 {
		l.MaxArrayLen = d.MaxArrayLen
	}
	return l
}

// FieldPolicy adds to or replaces the default mapping of fields to kinds.
type FieldPolicy struct {
	// Paths map full-path glob patterns to kinds and are tried first, in
	// order. In a pattern '*' matches within one key, '**' any number of
	// keys, and "[*]" any array index: "data.tools[*].spec.**",
	// "**.arguments.where".
	Paths []PathKind `json:"paths,omitempty" yaml:"paths,omitempty"`
	// Keys map a key name to a kind, overriding the default for that key.
	// Names match case-insensitively and ignoring '_', '-' and spaces
	// (file_path, filePath and FilePath are one key); a name ending in '*'
	// matches by prefix ("http.request.header.*").
	Keys map[string]FieldKind `json:"keys,omitempty" yaml:"keys,omitempty"`
	// NoDefaults drops the built-in key table, leaving only Keys and
	// Paths; everything else is KindUnknown.
	NoDefaults bool `json:"no_defaults,omitempty" yaml:"no_defaults,omitempty"`
}

// PathKind maps a path pattern to a kind.
type PathKind struct {
	// Pattern is a full-path glob ("data.arguments.sql").
	Pattern string `json:"pattern" yaml:"pattern"`
	// Kind is the kind of the values it matches.
	Kind FieldKind `json:"kind" yaml:"kind"`
}

// DefaultConfig returns the defaults for a level: default limits, the
// built-in field table, no rules, no roots, 5 minutes of future skew.
func DefaultConfig(level config.ValidationLevel) Config {
	return Config{
		Level:         level,
		Limits:        DefaultLimits(),
		MaxFutureSkew: DefaultMaxFutureSkew,
	}
}

// Validate reports every problem at once: errors.Join of *ConfigError
// (each wrapping ErrInvalidConfig), or nil. New calls it.
func (c Config) Validate() error {
	var errs []error
	add := func(field, problem string) {
		errs = append(errs, &ConfigError{Field: field, Problem: problem, Err: ErrInvalidConfig})
	}
	switch c.Level {
	case "", config.LevelPermissive, config.LevelStandard, config.LevelStrict:
	default:
		add("Level", "unknown level "+quote(string(c.Level))+"; want permissive, standard or strict")
	}
	checkRange := func(field string, v, lo, hi int) {
		if v != 0 && (v < lo || v > hi) {
			add(field, "must be between "+itoa(lo)+" and "+itoa(hi)+" (0 for the default), got "+itoa(v))
		}
	}
	checkRange("Limits.MaxEventBytes", c.Limits.MaxEventBytes, 1024, 64<<20)
	checkRange("Limits.MaxDepth", c.Limits.MaxDepth, 1, 1024)
	checkRange("Limits.MaxStringBytes", c.Limits.MaxStringBytes, 16, 64<<20)
	checkRange("Limits.MaxObjectKeys", c.Limits.MaxObjectKeys, 1, 1<<20)
	checkRange("Limits.MaxArrayLen", c.Limits.MaxArrayLen, 1, 1<<24)
	if c.MaxFutureSkew < 0 {
		add("MaxFutureSkew", "must not be negative, got "+c.MaxFutureSkew.String())
	}
	for i, p := range c.Fields.Paths {
		field := "Fields.Paths[" + itoa(i) + "]"
		if err := checkGlob(p.Pattern); err != "" {
			add(field+".Pattern", err)
		}
		if p.Kind < 0 || p.Kind >= kindCount {
			add(field+".Kind", "unknown kind "+itoa(int(p.Kind)))
		}
	}
	for k, kind := range c.Fields.Keys {
		if strings.TrimSpace(k) == "" || strings.TrimRight(k, "*") == "" {
			add("Fields.Keys", "empty key name")
		}
		if kind < 0 || kind >= kindCount {
			add("Fields.Keys["+quote(k)+"]", "unknown kind "+itoa(int(kind)))
		}
	}
	for i, r := range c.AllowedRoots {
		field := "AllowedRoots[" + itoa(i) + "]"
		if !isAbsRoot(r) {
			add(field, "must be an absolute path, got "+quote(r))
		}
	}
	ids := make(map[string]int, len(c.Rules))
	for i := range c.Rules {
		field := "Rules[" + itoa(i) + "]"
		for _, p := range c.Rules[i].problems() {
			add(field+"."+p.field, p.problem)
		}
		if id := c.Rules[i].ID; id != "" {
			if j, dup := ids[id]; dup {
				add(field+".ID", "duplicate id "+quote(id)+", also Rules["+itoa(j)+"]")
			}
			ids[id] = i
		}
	}
	return errors.Join(errs...)
}

func isAbsRoot(r string) bool {
	r = strings.ReplaceAll(r, "\\", "/")
	if strings.HasPrefix(r, "/") {
		return true
	}
	return len(r) >= 3 && isAlpha(r[0]) && r[1] == ':' && r[2] == '/'
}

func cleanRoot(r string) string {
	r = strings.ReplaceAll(r, "\\", "/")
	if len(r) > 1 && r[1] == ':' {
		r = strings.ToLower(r[:1]) + r[1:]
	}
	return path.Clean(r)
}
