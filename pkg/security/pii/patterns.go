package pii

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// patternFields are the keys a pattern may have; anything else is a typo
// that would silently disable part of a pattern, so it is an error.
var patternFields = []string{"name", "regex", "group", "validator", "context", "score", "strategy"}

// ParsePatterns reads custom patterns from a YAML or JSON document: a
// list of patterns, or an object whose "patterns" key holds the list.
//
//	patterns:
//	  - name: EMPLOYEE_ID
//	    regex: '\bEMP-\d{6}\b'
//	    context: [employee, staff]
//	    score: 0.9
//	    strategy: hash
//	  - name: LOYALTY_CARD
//	    regex: '\b\d{16}\b'
//	    validator: luhn
//
// Every problem is reported at once, with the line it is on; the error
// wraps ErrInvalidPatternFile. The result is meant for Config.Custom;
// NewDetector validates it again.
func ParsePatterns(data []byte) ([]CustomPattern, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrInvalidPatternFile, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%w: the file is empty", ErrInvalidPatternFile)
	}
	list := doc.Content[0]
	if list.Kind == yaml.MappingNode {
		var found *yaml.Node
		for i := 0; i+1 < len(list.Content); i += 2 {
			k := list.Content[i]
			if k.Value == "patterns" {
				found = list.Content[i+1]
				continue
			}
			return nil, fmt.Errorf("%w: line %d: unknown key %q; want \"patterns\"", ErrInvalidPatternFile, k.Line, k.Value)
		}
		if found == nil {
			return nil, fmt.Errorf("%w: line %d: no \"patterns\" key", ErrInvalidPatternFile, list.Line)
		}
		list = found
	}
	if list.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%w: line %d: want a list of patterns", ErrInvalidPatternFile, list.Line)
	}
	var (
		errs []error
		out  []CustomPattern
	)
	fail := func(line int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: line %d: %s", ErrInvalidPatternFile, line, fmt.Sprintf(format, args...)))
	}
	seen := map[string]int{}
	for _, item := range list.Content {
		if item.Kind != yaml.MappingNode {
			fail(item.Line, "a pattern must be a mapping")
			continue
		}
		ok := true
		for i := 0; i+1 < len(item.Content); i += 2 {
			if k := item.Content[i]; !slices.Contains(patternFields, k.Value) {
				fail(k.Line, "unknown field %q; known: %s", k.Value, strings.Join(patternFields, ", "))
				ok = false
			}
		}
		var p CustomPattern
		if err := item.Decode(&p); err != nil {
			fail(item.Line, "%s", strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n  "))
			continue
		}
		if !ok {
			continue
		}
		if first, dup := seen[p.Name]; dup && p.Name != "" {
			fail(item.Line, "pattern %q is already defined on line %d", p.Name, first)
			continue
		}
		seen[p.Name] = item.Line
		// Keys are not the file's business: only the pattern's own fields
		// are checked here.
		bad := false
		for _, e := range unjoin((Config{Custom: []CustomPattern{p}}).Validate()) {
			var ce *ConfigError
			if errors.As(e, &ce) && strings.HasPrefix(ce.Field, "Custom[0].") {
				fail(item.Line, "%s: %s", strings.ToLower(strings.TrimPrefix(ce.Field, "Custom[0].")), ce.Detail)
				bad = true
			}
		}
		if !bad {
			out = append(out, p)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// unjoin returns the errors joined in err, err alone, or none.
func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
