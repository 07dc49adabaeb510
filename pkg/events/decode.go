package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Limits bounds what Decode will look at. A zero field means the default,
// never "unlimited": a forgotten limit must not open the door.
type Limits struct {
	// MaxBytes is the largest accepted input, in bytes.
	MaxBytes int
	// MaxDepth is the deepest accepted nesting of objects and arrays,
	// counting the envelope object itself as 1.
	MaxDepth int
}

// DefaultLimits returns 256 KiB and depth 32: room for any real tool call
// or prompt, small enough that one event cannot pin a worker.
func DefaultLimits() Limits {
	return Limits{MaxBytes: 256 << 10, MaxDepth: 32}
}

func (l Limits) effective() Limits {
	d := DefaultLimits()
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	return l
}

// Decode parses one envelope from untrusted bytes and applies every rule.
//
// The checks run cheapest first and stop at the first failure: size,
// UTF-8, nesting depth (a non-recursive scan, so a 1,000-deep payload costs
// a few dozen bytes of work and never reaches a recursive parser), JSON
// syntax, a top-level object, at most MaxExtensions extensions, unique
// keys, then the attribute rules. The returned error wraps one sentinel;
// attribute failures are *FieldError.
//
// raw is not retained: Data and extension values are copies.
func Decode(raw []byte, lim Limits) (*Envelope, error) {
	lim = lim.effective()
	if len(raw) > lim.MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes exceeds the limit of %d", ErrTooLarge, len(raw), lim.MaxBytes)
	}
	if !utf8.Valid(raw) {
		return nil, fmt.Errorf("%w at byte offset %d", ErrInvalidUTF8, invalidUTF8At(raw))
	}
	ok, deepAt := validJSONDepth(raw, lim.MaxDepth)
	if !ok && deepAt < 0 {
		// A syntax error before any level too deep: a level too deep
		// further on still wins, as the order of checks promises.
		deepAt = depthExceededAt(raw, lim.MaxDepth)
	}
	if deepAt >= 0 {
		return nil, fmt.Errorf("%w: nesting exceeds %d at byte offset %d", ErrTooDeep, lim.MaxDepth, deepAt)
	}
	if !ok {
		return nil, syntaxError(raw)
	}
	return decodeObject(raw)
}

func invalidUTF8At(raw []byte) int {
	for i := 0; i < len(raw); {
		r, n := utf8.DecodeRune(raw[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(raw)
}

// depthExceededAt returns the offset of the first '{' or '[' that opens a
// level deeper than max, or -1. It tracks only a counter and whether it is
// inside a string, so it is linear and cannot be driven into recursion.
// On malformed input the count may be off; the syntax check that follows
// rejects such input anyway.
func depthExceededAt(raw []byte, max int) int {
	depth := 0
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '"':
			i = endOfString(raw, i) - 1
		case '{', '[':
			depth++
			if depth > max {
				return i
			}
		case '}', ']':
			depth--
		}
	}
	return -1
}

// endOfString returns the offset just past the string literal that starts
// at raw[i] == '"', or len(raw) when it is unterminated. A quote closes the
// string when an even number of backslashes precede it; finding quotes with
// IndexByte keeps long strings cheap, and each backslash run is counted
// once, so the scan stays linear.
func endOfString(raw []byte, i int) int {
	j := i + 1
	for {
		k := bytes.IndexByte(raw[j:], '"')
		if k < 0 {
			return len(raw)
		}
		q := j + k
		n := 0
		for p := q - 1; p > i && raw[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q + 1
		}
		j = q + 1
	}
}

// endOfValue returns the offset just past the value starting at raw[i].
// raw is known to be valid JSON here.
func endOfValue(raw []byte, i int) int {
	switch raw[i] {
	case '"':
		return endOfString(raw, i)
	case '{', '[':
		depth := 0
		for ; i < len(raw); i++ {
			switch raw[i] {
			case '"':
				i = endOfString(raw, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(raw)
	default:
		for ; i < len(raw); i++ {
			switch raw[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
		}
		return i
	}
}

func skipSpace(raw []byte, i int) int {
	for i < len(raw) {
		switch raw[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// syntaxError asks encoding/json where the input breaks, so the error
// carries the byte offset; it only runs on the failure path.
func syntaxError(raw []byte) error {
	var sink struct{}
	err := json.Unmarshal(raw, &sink)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%w at byte offset %d: %w", ErrMalformedJSON, se.Offset, se)
	}
	return fmt.Errorf("%w at byte offset %d", ErrMalformedJSON, len(raw))
}

// unquote decodes a JSON string literal; escapes are rare in attributes, so
// the common case is one conversion.
func unquote(lit []byte) string {
	body := lit[1 : len(lit)-1]
	// The values every event repeats are shared, not copied.
	switch string(body) {
	case SpecVersion:
		return SpecVersion
	case jsonContentType:
		return jsonContentType
	}
	if bytes.IndexByte(body, '\\') < 0 {
		return string(body)
	}
	var s string
	if err := json.Unmarshal(lit, &s); err != nil {
		// Unreachable: lit comes from input already proven valid.
		return string(body)
	}
	return s
}

// keyName is unquote without an allocation in the common case, because a
// known attribute name is only compared.
func keyName(lit []byte) []byte {
	body := lit[1 : len(lit)-1]
	if bytes.IndexByte(body, '\\') < 0 {
		return body
	}
	return []byte(unquote(lit))
}

// decodeObject walks the members of the top-level object of a valid JSON
// document. Duplicate keys are compared after unescaping ("\u0074enant" is
// "tenant") and win over any other attribute error, because a duplicate is
// an attempt to show different parsers different events.
func decodeObject(raw []byte) (*Envelope, error) {
	i := skipSpace(raw, 0)
	if raw[i] != '{' {
		return nil, fmt.Errorf("%w at byte offset %d: top-level value is not an object", ErrMalformedJSON, i)
	}
	e := new(Envelope)
	var (
		seen   uint16
		exts   int
		first  error
		others map[string]struct{}
	)
	i = skipSpace(raw, i+1)
	for raw[i] != '}' {
		kEnd := endOfString(raw, i)
		name := keyName(raw[i:kEnd])
		i = skipSpace(raw, skipSpace(raw, kEnd)+1)
		vEnd := endOfValue(raw, i)
		val := raw[i:vEnd]
		i = skipSpace(raw, vEnd)
		if raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}

		if idx := knownAttr(name); idx >= 0 {
			bit := uint16(1) << idx
			if seen&bit != 0 {
				return nil, duplicate(string(name))
			}
			seen |= bit
			if first == nil {
				first = e.setKnown(idx, val)
			}
			continue
		}
		if exts++; exts > MaxExtensions {
			return nil, tooManyExtensions()
		}
		key := string(name)
		if _, dup := e.Extensions[key]; dup {
			return nil, duplicate(key)
		}
		if _, dup := others[key]; dup {
			return nil, duplicate(key)
		}
		if first == nil && !validAttributeName(key) {
			first = &FieldError{Field: safeField(key), Err: ErrInvalidAttribute, Detail: "name must match [a-z0-9]{1,20}"}
		}
		if first != nil {
			// Still collected: a later duplicate of this key must be found.
			if others == nil {
				others = make(map[string]struct{})
			}
			others[key] = struct{}{}
			continue
		}
		if e.Extensions == nil {
			e.Extensions = make(map[string]json.RawMessage, 2)
		}
		e.Extensions[key] = bytes.Clone(val)
	}
	if first != nil {
		return nil, first
	}
	if err := e.validate(true); err != nil {
		return nil, err
	}
	return e, nil
}

func tooManyExtensions() error {
	return fmt.Errorf("%w: more than %d extension attributes", ErrTooLarge, MaxExtensions)
}

func duplicate(name string) error {
	return &FieldError{Field: safeField(name), Err: ErrDuplicateAttribute, Detail: "the key appears more than once"}
}

// jsonKind names the JSON type of a value for error details.
func jsonKind(val []byte) string {
	switch val[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	case '"':
		return "string"
	}
	return "number"
}

// setKnown stores a known attribute. A present but empty string is refused
// here, where presence is still known: Validate cannot tell it from absent.
func (e *Envelope) setKnown(idx int, val []byte) error {
	switch idx {
	case attrData:
		e.Data = bytes.Clone(val)
		return nil
	case attrDataBase64:
		return &FieldError{Field: "data_base64", Err: ErrUnsupported, Detail: "binary data is not accepted; send JSON in data"}
	}
	field := attrNames[idx]
	if val[0] != '"' {
		return &FieldError{Field: field, Err: ErrInvalidAttribute, Detail: "must be a JSON string, got " + jsonKind(val)}
	}
	s := unquote(val)
	if s == "" {
		switch idx {
		case attrTenant, attrAgentID, attrSessionID:
			return &FieldError{Field: field, Err: ErrInvalidIdentifier, Detail: identifierRule + `, got ""`}
		}
		return &FieldError{Field: field, Err: ErrInvalidAttribute, Detail: "must not be empty; omit the attribute instead"}
	}
	switch idx {
	case attrSpecVersion:
		e.SpecVersion = s
	case attrID:
		e.ID = s
	case attrSource:
		e.Source = s
	case attrType:
		e.Type = s
	case attrTime:
		t, err := parseTime(s)
		if err != nil {
			return &FieldError{Field: field, Err: ErrInvalidAttribute, Detail: "must be an RFC 3339 timestamp, got " + quote(s)}
		}
		if t.IsZero() {
			return &FieldError{Field: field, Err: ErrInvalidAttribute, Detail: "must not be the zero time, got " + quote(s)}
		}
		e.Time = t
	case attrDataContentType:
		e.DataContentType = s
	case attrTenant:
		e.Tenant = s
	case attrAgentID:
		e.AgentID = s
	case attrSessionID:
		e.SessionID = s
	case attrTraceParent:
		e.TraceParent = s
	}
	return nil
}

// attrNames is indexed by the attr* constants.
var attrNames = [...]string{
	attrSpecVersion:     "specversion",
	attrID:              "id",
	attrSource:          "source",
	attrType:            "type",
	attrTime:            "time",
	attrDataContentType: "datacontenttype",
	attrTenant:          "tenant",
	attrAgentID:         "agentid",
	attrSessionID:       "sessionid",
	attrTraceParent:     "traceparent",
	attrData:            "data",
	attrDataBase64:      "data_base64",
}

// parseTime accepts exactly RFC 3339 date-time
// (YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)). time.Parse alone also takes
// one-digit hours, "," before the fraction and offsets such as +24:00
// (go.dev/issue/54580); other CloudEvents readers would refuse those, so
// they are refused here before time.Parse checks the ranges.
func parseTime(s string) (time.Time, error) {
	const base = len("2006-01-02T15:04:05")
	if len(s) < base+1 {
		return time.Time{}, errShape
	}
	for i := 0; i < base; i++ {
		c := s[i]
		switch i {
		case 4, 7:
			if c != '-' {
				return time.Time{}, errShape
			}
		case 10:
			if c != 'T' {
				return time.Time{}, errShape
			}
		case 13, 16:
			if c != ':' {
				return time.Time{}, errShape
			}
		default:
			if c < '0' || c > '9' {
				return time.Time{}, errShape
			}
		}
	}
	rest := s[base:]
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 1 {
			return time.Time{}, errShape
		}
		rest = rest[n:]
	}
	switch {
	case rest == "Z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':' &&
		digits2(rest[1:3]) >= 0 && digits2(rest[1:3]) <= 23 && digits2(rest[4:6]) >= 0 && digits2(rest[4:6]) <= 59:
	default:
		return time.Time{}, errShape
	}
	return time.Parse(time.RFC3339Nano, s)
}

// errShape is internal: setKnown turns it into a *FieldError.
var errShape = errors.New("not RFC 3339")

// digits2 parses two ASCII digits, -1 if they are not digits.
func digits2(s string) int {
	if s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return -1
	}
	return int(s[0]-'0')*10 + int(s[1]-'0')
}
