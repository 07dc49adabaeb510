package validate

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Rule is a custom rule: for the values whose path matches Field, a
// required presence, a JSON type, a maximum length, an allow-list and a
// deny-list. Rule files hold a list of them (see LoadRules).
//
//	rules:
//	  - id: order-sku
//	    field: data.arguments.sku
//	    required: true
//	    type: string
//	    max_length: 32
//	    allow: '[A-Z0-9-]+'
//	  - id: no-internal-hosts
//	    field: "**.url"
//	    deny: '(?i)https?://(localhost|127\.|169\.254\.)'
//	    threat: ssrf
type Rule struct {
	// ID names the rule in findings and reasons: [a-z0-9][a-z0-9_.-]{0,63}.
	ID string `json:"id" yaml:"id"`
	// Field is a path glob (see FieldPolicy.Paths): "data.arguments.sku",
	// "**.url".
	Field string `json:"field" yaml:"field"`
	// Required rejects an event in which no value matches Field
	// (CheckEvent only; a single field cannot be missing).
	Required bool `json:"required,omitempty" yaml:"required,omitempty"`
	// Type, when set, is the JSON type every matching value must have:
	// string, number, integer, boolean, object, array or null.
	Type string `json:"type,omitempty" yaml:"type,omitempty"`
	// MaxLength, when positive, bounds matching strings in characters
	// (Unicode code points).
	MaxLength int `json:"max_length,omitempty" yaml:"max_length,omitempty"`
	// Allow, when set, is an RE2 expression every matching string or
	// number must match as a whole (it is anchored for you).
	Allow string `json:"allow,omitempty" yaml:"allow,omitempty"`
	// Deny, when set, is an RE2 expression that must not match anywhere in
	// a matching string or number. A match is a threat named Threat: it
	// rejects at the standard and strict levels and is flagged at
	// permissive.
	Deny string `json:"deny,omitempty" yaml:"deny,omitempty"`
	// Threat names what a Deny match is ([a-z][a-z0-9_]{0,31}); default
	// "custom".
	Threat string `json:"threat,omitempty" yaml:"threat,omitempty"`
	// Line is where the rule starts in its file (1-based), set by
	// LoadRules; 0 for rules built in Go.
	Line int `json:"-" yaml:"-"`
}

// compiledRule is a Rule with its expressions built.
type compiledRule struct {
	Rule
	allow, deny *regexp.Regexp
	threat      string
}

type ruleProblem struct{ field, problem string }

var jsonTypes = map[string]bool{
	"string": true, "number": true, "integer": true, "boolean": true, "object": true, "array": true, "null": true,
}

// problems lists what is wrong with r, by field name.
func (r *Rule) problems() []ruleProblem {
	var ps []ruleProblem
	add := func(f, p string) { ps = append(ps, ruleProblem{f, p}) }
	if !validRuleID(r.ID) {
		add("ID", "must match [a-z0-9][a-z0-9_.-]{0,63}, got "+quote(r.ID))
	}
	if e := checkGlob(r.Field); e != "" {
		add("Field", e)
	}
	if r.Type != "" && !jsonTypes[r.Type] {
		add("Type", "unknown type "+quote(r.Type)+"; want string, number, integer, boolean, object, array or null")
	}
	if r.MaxLength < 0 {
		add("MaxLength", "must not be negative, got "+itoa(r.MaxLength))
	}
	if r.Allow != "" {
		if _, err := regexp.Compile(r.Allow); err != nil {
			add("Allow", "not an RE2 expression: "+err.Error())
		}
	}
	if r.Deny != "" {
		if _, err := regexp.Compile(r.Deny); err != nil {
			add("Deny", "not an RE2 expression: "+err.Error())
		}
	}
	if r.Threat != "" && !validThreatName(r.Threat) {
		add("Threat", "must match [a-z][a-z0-9_]{0,31}, got "+quote(r.Threat))
	}
	if r.Threat != "" && r.Deny == "" {
		add("Threat", "only means something with deny")
	}
	if !r.Required && r.Type == "" && r.MaxLength == 0 && r.Allow == "" && r.Deny == "" {
		add("ID", "rule "+quote(r.ID)+" checks nothing: set required, type, max_length, allow or deny")
	}
	return ps
}

func (r *Rule) compile() (compiledRule, error) {
	cr := compiledRule{Rule: *r, threat: r.Threat}
	if cr.threat == "" {
		cr.threat = "custom"
	}
	var err error
	if r.Allow != "" {
		if cr.allow, err = regexp.Compile(`^(?:` + r.Allow + `)$`); err != nil {
			return cr, err
		}
	}
	if r.Deny != "" {
		if cr.deny, err = regexp.Compile(r.Deny); err != nil {
			return cr, err
		}
	}
	return cr, nil
}

func validRuleID(s string) bool {
	if len(s) == 0 || len(s) > 64 || !(isDigit(s[0]) || s[0] >= 'a' && s[0] <= 'z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(isDigit(c) || c >= 'a' && c <= 'z' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

func validThreatName(s string) bool {
	if len(s) == 0 || len(s) > 32 || !(s[0] >= 'a' && s[0] <= 'z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(isDigit(c) || c >= 'a' && c <= 'z' || c == '_') {
			return false
		}
	}
	return true
}

// maxRuleFile bounds a rule file; real ones are a few KiB.
const maxRuleFile = 1 << 20

// ruleKeys are the keys a rule may have in a file; "description" is
// documentation and ignored.
var ruleKeys = map[string]bool{
	"id": true, "field": true, "required": true, "type": true, "max_length": true,
	"allow": true, "deny": true, "threat": true, "description": true,
}

// LoadRules reads a rule file and returns its rules: LoadPolicy, for
// callers that want only the rules. The file may hold the other policy
// sections too; they are checked but not returned.
func LoadRules(r io.Reader, name string) ([]Rule, error) {
	p, err := LoadPolicy(r, name)
	if err != nil {
		return nil, err
	}
	return p.Rules, nil
}

// LoadPolicy reads a validation policy file: YAML, or JSON (which YAML
// includes). The document is either a list of rules or a mapping of the
// sections of Policy:
//
//	rules:            # custom rules (see Rule)
//	  - id: …
//	fields:           # field kinds on top of the defaults (see FieldPolicy)
//	  keys: {sku: identifier, where: sql}
//	  paths:
//	    - {pattern: "data.tools[*].spec.**", kind: code}
//	  no_defaults: false
//	allowed_roots: [/srv/app, /tmp]
//	limits: {max_string_bytes: 65536, max_object_keys: 1000, max_array_len: 10000}
//	max_future_skew: 5m
//
// Every problem is reported, as errors.Join of *RuleError with the line
// it is on (each wraps ErrInvalidRules): syntax errors, unknown keys (a
// misspelt "max_lenght" would otherwise silently check nothing), values of
// the wrong type, bad expressions, patterns and kinds, duplicate ids. name
// is used in the messages only. An empty file is an error; write
// "rules: []" for none.
func LoadPolicy(r io.Reader, name string) (*Policy, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxRuleFile+1))
	if err != nil {
		return nil, &RuleError{File: name, Problem: "read: " + err.Error()}
	}
	if len(data) > maxRuleFile {
		return nil, &RuleError{File: name, Problem: "larger than " + itoa(maxRuleFile) + " bytes"}
	}
	if !utf8.Valid(data) {
		return nil, &RuleError{File: name, Problem: "not valid UTF-8"}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &RuleError{File: name, Problem: `empty; write "rules: []" for no rules`}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		line, msg := yamlErrLine(err)
		return nil, &RuleError{File: name, Line: line, Problem: msg}
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return nil, &RuleError{File: name, Problem: `empty; write "rules: []" for no rules`}
	}
	top := root.Content[0]
	p := &Policy{}
	if top.Kind != yaml.MappingNode {
		rules, errs := decodeRules(top, name)
		if len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		p.Rules = rules
		return p, nil
	}
	var errs []error
	seen := map[string]bool{}
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if seen[k.Value] {
			errs = append(errs, &RuleError{File: name, Line: k.Line, Problem: "duplicate key " + quote(k.Value)})
			continue
		}
		seen[k.Value] = true
		var perrs []error
		switch k.Value {
		case "rules":
			p.Rules, perrs = decodeRules(v, name)
		case "fields":
			perrs = decodeFields(v, name, &p.Fields)
		case "allowed_roots":
			p.AllowedRoots, perrs = decodeRoots(v, name)
		case "limits":
			perrs = decodeLimits(v, name, &p.Limits)
		case "max_future_skew":
			p.MaxFutureSkew, perrs = decodeSkew(v, name)
		default:
			perrs = []error{&RuleError{File: name, Line: k.Line, Problem: "unknown key " + quote(k.Value) +
				"; want rules, fields, allowed_roots, limits or max_future_skew"}}
		}
		errs = append(errs, perrs...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// decodeRules reads the list of rules.
func decodeRules(list *yaml.Node, name string) ([]Rule, []error) {
	if list.Kind != yaml.SequenceNode {
		return nil, []error{&RuleError{File: name, Line: list.Line, Problem: "rules must be a list"}}
	}
	var errs []error
	rules := make([]Rule, 0, len(list.Content))
	ids := map[string]int{}
	for _, n := range list.Content {
		rule, perrs := decodeRule(n, name)
		errs = append(errs, perrs...)
		if len(perrs) > 0 {
			continue
		}
		for _, p := range rule.problems() {
			errs = append(errs, &RuleError{File: name, Line: ruleLine(n, p.field), Problem: ruleFieldName(p.field) + ": " + p.problem})
		}
		if first, dup := ids[rule.ID]; dup && rule.ID != "" {
			errs = append(errs, &RuleError{File: name, Line: n.Line, Problem: "duplicate id " + quote(rule.ID) + ", first on line " + itoa(first)})
		} else {
			ids[rule.ID] = n.Line
		}
		rules = append(rules, rule)
	}
	return rules, errs
}

// decodeRule reads one rule mapping, checking keys and scalar types.
func decodeRule(n *yaml.Node, file string) (Rule, []error) {
	var errs []error
	bad := func(line int, problem string) {
		errs = append(errs, &RuleError{File: file, Line: line, Problem: problem})
	}
	r := Rule{Line: n.Line}
	if n.Kind != yaml.MappingNode {
		bad(n.Line, "a rule must be a mapping")
		return r, errs
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			bad(k.Line, "duplicate key "+quote(k.Value))
			continue
		}
		seen[k.Value] = true
		if !ruleKeys[k.Value] {
			bad(k.Line, "unknown key "+quote(k.Value)+"; want id, field, required, type, max_length, allow, deny, threat or description")
			continue
		}
		if v.Kind != yaml.ScalarNode {
			bad(v.Line, k.Value+": must be a single value")
			continue
		}
		switch k.Value {
		case "id":
			r.ID = v.Value
		case "field":
			r.Field = v.Value
		case "type":
			r.Type = v.Value
		case "allow":
			r.Allow = v.Value
		case "deny":
			r.Deny = v.Value
		case "threat":
			r.Threat = v.Value
		case "required":
			b, err := strconv.ParseBool(v.Value)
			if err != nil || v.Tag != "!!bool" {
				bad(v.Line, "required: want true or false, got "+quote(v.Value))
			}
			r.Required = b
		case "max_length":
			x, err := strconv.Atoi(v.Value)
			if err != nil || v.Tag != "!!int" {
				bad(v.Line, "max_length: want an integer, got "+quote(v.Value))
			}
			r.MaxLength = x
		}
	}
	return r, errs
}

// ruleLine finds the line of a rule's field for a problem report.
func ruleLine(n *yaml.Node, field string) int {
	key := ruleFieldName(field)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1].Line
		}
	}
	return n.Line
}

func ruleFieldName(f string) string {
	switch f {
	case "ID":
		return "id"
	case "Field":
		return "field"
	case "Type":
		return "type"
	case "MaxLength":
		return "max_length"
	case "Allow":
		return "allow"
	case "Deny":
		return "deny"
	case "Threat":
		return "threat"
	}
	return strings.ToLower(f)
}

// yamlErrLine splits a yaml.v3 syntax error ("yaml: line 3: did not find
// expected key") into its line and message.
func yamlErrLine(err error) (int, string) {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	rest, ok := strings.CutPrefix(s, "line ")
	if !ok {
		return 0, s
	}
	j := 0
	for j < len(rest) && isDigit(rest[j]) {
		j++
	}
	n, err2 := strconv.Atoi(rest[:j])
	if err2 != nil {
		return 0, s
	}
	return n, strings.TrimPrefix(rest[j:], ": ")
}
