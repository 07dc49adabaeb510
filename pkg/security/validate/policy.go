package validate

import (
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// Policy is what an operator's policy file (LoadPolicy) may set: the
// parts of Config that are site knowledge rather than code. The level and
// the envelope-wide limits (event bytes, depth) are not here: they come
// from ESCAI_VALIDATION_LEVEL, ESCAI_MAX_EVENT_BYTES and
// ESCAI_MAX_EVENT_DEPTH, which the envelope decoder shares.
type Policy struct {
	// Rules are custom rules.
	Rules []Rule
	// Fields adds to (or, with NoDefaults, replaces) the field table.
	Fields FieldPolicy
	// AllowedRoots are the directories path fields may name.
	AllowedRoots []string
	// Limits: only MaxStringBytes, MaxObjectKeys and MaxArrayLen are read
	// from a file; zero keeps the default.
	Limits Limits
	// MaxFutureSkew, when positive, replaces the default 5 minutes.
	MaxFutureSkew time.Duration
}

// ApplyTo sets c from the policy, leaving what the policy does not name.
func (p *Policy) ApplyTo(c *Config) {
	c.Rules = append(c.Rules, p.Rules...)
	c.Fields.Paths = append(c.Fields.Paths, p.Fields.Paths...)
	if len(p.Fields.Keys) > 0 {
		if c.Fields.Keys == nil {
			c.Fields.Keys = make(map[string]FieldKind, len(p.Fields.Keys))
		}
		for k, v := range p.Fields.Keys {
			c.Fields.Keys[k] = v
		}
	}
	c.Fields.NoDefaults = c.Fields.NoDefaults || p.Fields.NoDefaults
	c.AllowedRoots = append(c.AllowedRoots, p.AllowedRoots...)
	if p.Limits.MaxStringBytes > 0 {
		c.Limits.MaxStringBytes = p.Limits.MaxStringBytes
	}
	if p.Limits.MaxObjectKeys > 0 {
		c.Limits.MaxObjectKeys = p.Limits.MaxObjectKeys
	}
	if p.Limits.MaxArrayLen > 0 {
		c.Limits.MaxArrayLen = p.Limits.MaxArrayLen
	}
	if p.MaxFutureSkew > 0 {
		c.MaxFutureSkew = p.MaxFutureSkew
	}
}

// decodeFields reads the "fields" section.
func decodeFields(n *yaml.Node, file string, fp *FieldPolicy) []error {
	var errs []error
	bad := func(line int, problem string) {
		errs = append(errs, &RuleError{File: file, Line: line, Problem: problem})
	}
	if n.Kind != yaml.MappingNode {
		bad(n.Line, "fields must be a mapping of keys, paths and no_defaults")
		return errs
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "keys":
			if v.Kind != yaml.MappingNode {
				bad(v.Line, "fields.keys must map key names to kinds")
				continue
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				name, kind := v.Content[j], v.Content[j+1]
				fk, ok := scalarKind(kind)
				switch {
				case name.Kind != yaml.ScalarNode || name.Value == "":
					bad(name.Line, "fields.keys: a key name must be a non-empty string")
				case !ok:
					bad(kind.Line, "fields.keys."+name.Value+": unknown kind "+quote(kind.Value)+"; want one of "+kindList())
				default:
					if fp.Keys == nil {
						fp.Keys = map[string]FieldKind{}
					}
					fp.Keys[name.Value] = fk
				}
			}
		case "paths":
			if v.Kind != yaml.SequenceNode {
				bad(v.Line, "fields.paths must be a list of {pattern, kind}")
				continue
			}
			for _, e := range v.Content {
				pk, perrs := decodePathKind(e, file)
				errs = append(errs, perrs...)
				if len(perrs) == 0 {
					fp.Paths = append(fp.Paths, pk)
				}
			}
		case "no_defaults":
			b, err := strconv.ParseBool(v.Value)
			if err != nil || v.Tag != "!!bool" {
				bad(v.Line, "fields.no_defaults: want true or false, got "+quote(v.Value))
				continue
			}
			fp.NoDefaults = b
		default:
			bad(k.Line, "unknown key fields."+k.Value+"; want keys, paths or no_defaults")
		}
	}
	return errs
}

func decodePathKind(n *yaml.Node, file string) (PathKind, []error) {
	var errs []error
	bad := func(line int, problem string) {
		errs = append(errs, &RuleError{File: file, Line: line, Problem: problem})
	}
	var pk PathKind
	if n.Kind != yaml.MappingNode {
		bad(n.Line, "fields.paths: each entry is {pattern, kind}")
		return pk, errs
	}
	var havePattern, haveKind bool
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "pattern":
			havePattern = true
			if msg := checkGlob(v.Value); v.Kind != yaml.ScalarNode || msg != "" {
				bad(v.Line, "fields.paths.pattern: "+quote(v.Value)+": "+msg)
				continue
			}
			pk.Pattern = v.Value
		case "kind":
			haveKind = true
			fk, ok := scalarKind(v)
			if !ok {
				bad(v.Line, "fields.paths.kind: unknown kind "+quote(v.Value)+"; want one of "+kindList())
				continue
			}
			pk.Kind = fk
		default:
			bad(k.Line, "unknown key fields.paths."+k.Value+"; want pattern and kind")
		}
	}
	if !havePattern || !haveKind {
		bad(n.Line, "fields.paths: each entry needs both pattern and kind")
	}
	return pk, errs
}

func scalarKind(n *yaml.Node) (FieldKind, bool) {
	if n.Kind != yaml.ScalarNode {
		return 0, false
	}
	return ParseFieldKind(n.Value)
}

// kindList names the kinds a file may use.
func kindList() string {
	s := ""
	for k := FieldKind(0); k < kindCount; k++ {
		if s != "" {
			s += ", "
		}
		s += k.String()
	}
	return s
}

func decodeRoots(n *yaml.Node, file string) ([]string, []error) {
	if n.Kind != yaml.SequenceNode {
		return nil, []error{&RuleError{File: file, Line: n.Line, Problem: "allowed_roots must be a list of absolute directories"}}
	}
	var roots []string
	var errs []error
	for _, e := range n.Content {
		if e.Kind != yaml.ScalarNode || !isAbsRoot(e.Value) {
			errs = append(errs, &RuleError{File: file, Line: e.Line, Problem: "allowed_roots: " + quote(e.Value) + " is not an absolute path"})
			continue
		}
		roots = append(roots, e.Value)
	}
	return roots, errs
}

// policyLimits are the limits a file may set, with their bounds (those
// of Config.Validate).
var policyLimits = []struct {
	key    string
	lo, hi int
	field  func(*Limits) *int
}{
	{"max_string_bytes", 16, 64 << 20, func(l *Limits) *int { return &l.MaxStringBytes }},
	{"max_object_keys", 1, 1 << 20, func(l *Limits) *int { return &l.MaxObjectKeys }},
	{"max_array_len", 1, 1 << 24, func(l *Limits) *int { return &l.MaxArrayLen }},
}

func decodeLimits(n *yaml.Node, file string, l *Limits) []error {
	var errs []error
	bad := func(line int, problem string) {
		errs = append(errs, &RuleError{File: file, Line: line, Problem: problem})
	}
	if n.Kind != yaml.MappingNode {
		bad(n.Line, "limits must be a mapping")
		return errs
	}
next:
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		for _, pl := range policyLimits {
			if pl.key != k.Value {
				continue
			}
			x, err := strconv.Atoi(v.Value)
			if err != nil || v.Tag != "!!int" || x < pl.lo || x > pl.hi {
				bad(v.Line, "limits."+pl.key+": want an integer from "+itoa(pl.lo)+" to "+itoa(pl.hi)+", got "+quote(v.Value))
				continue next
			}
			*pl.field(l) = x
			continue next
		}
		switch k.Value {
		case "max_event_bytes", "max_depth":
			bad(k.Line, "limits."+k.Value+" is set by ESCAI_MAX_EVENT_BYTES / ESCAI_MAX_EVENT_DEPTH, not in this file")
		default:
			bad(k.Line, "unknown key limits."+k.Value+"; want max_string_bytes, max_object_keys or max_array_len")
		}
	}
	return errs
}

func decodeSkew(n *yaml.Node, file string) (time.Duration, []error) {
	d, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil || d <= 0 || d > 24*time.Hour {
		return 0, []error{&RuleError{File: file, Line: n.Line, Problem: "max_future_skew: want a duration from 1s to 24h such as 5m, got " + quote(n.Value)}}
	}
	return d, nil
}
