package events

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxIdentifier is the longest identifier: one leading character and up to
// 63 more. Kept small so that a subject made of identifiers stays far below
// NATS limits and stream names derived from a tenant stay readable.
const maxIdentifier = 64

// identifierRule is quoted in error details so producers see the rule.
const identifierRule = "must match [a-z0-9][a-z0-9_-]{0,63}"

// ValidIdentifier reports whether s matches [a-z0-9][a-z0-9_-]{0,63}.
// Identifiers become NATS subject tokens and stream-name suffixes, so the
// rule leaves out everything with a meaning there ('.', '*', '>',
// whitespace, path separators) and upper case, which would let two tenants
// differ only by case. It runs on every event, hence a loop and no regexp.
func ValidIdentifier(s string) bool {
	if len(s) == 0 || len(s) > maxIdentifier {
		return false
	}
	if c := s[0]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// CheckIdentifier is ValidIdentifier with an explanation: a *FieldError
// wrapping ErrMissingAttribute when s is empty (the usual mistake is
// forgetting the attribute) and ErrInvalidIdentifier otherwise.
func CheckIdentifier(field, s string) error {
	if s == "" {
		return &FieldError{Field: field, Err: ErrMissingAttribute}
	}
	if !ValidIdentifier(s) {
		return &FieldError{Field: field, Err: ErrInvalidIdentifier, Detail: identifierRule + ", got " + quote(s)}
	}
	return nil
}

// validAttributeName is the CloudEvents 1.0 naming rule [a-z0-9]{1,20}.
// Anything else at the top level is refused rather than carried along, so
// that no stage can be fooled by keys that look alike ("Tenant", "tenant ").
func validAttributeName(s string) bool {
	if len(s) == 0 || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// maxTypeTokens bounds the tokens after "escai." so subjects stay short and
// consumers can filter on a fixed number of wildcards.
const maxTypeTokens = 8

// checkType validates "escai." followed by 1..8 identifier-shaped tokens:
// the tokens are appended to subjects as they are.
func checkType(t string) error {
	if t == "" {
		return &FieldError{Field: "type", Err: ErrMissingAttribute}
	}
	rest, ok := strings.CutPrefix(t, TypePrefix)
	if !ok {
		return &FieldError{Field: "type", Err: ErrInvalidAttribute, Detail: `must start with "escai.", got ` + quote(t)}
	}
	for n := 1; ; n++ {
		if n > maxTypeTokens {
			return &FieldError{Field: "type", Err: ErrInvalidAttribute, Detail: "more than " + strconv.Itoa(maxTypeTokens) + ` tokens after "escai.", got ` + quote(t)}
		}
		tok, tail, more := strings.Cut(rest, ".")
		if !ValidIdentifier(tok) {
			return &FieldError{Field: "type", Err: ErrInvalidAttribute, Detail: "token " + strconv.Itoa(n) + ` after "escai." ` + identifierRule + ", got " + quote(t)}
		}
		if !more {
			return nil
		}
		rest = tail
	}
}

// hasControl reports C0 controls, DEL and C1 controls (U+0080..U+009F):
// values that end up in headers or logs must not be able to forge lines.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			return true
		}
		// C1 controls are U+0080..U+009F, encoded as 0xC2 0x80..0x9F.
		if c == 0xc2 && i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9f {
			return true
		}
	}
	return false
}

// validTraceParent checks the W3C trace-context "traceparent" of version
// 00 layout: version-traceid-parentid-flags, lowercase hex, no all-zero ids
// and no version "ff" (the spec marks both invalid).
func validTraceParent(s string) bool {
	// 2 + 1 + 32 + 1 + 16 + 1 + 2
	if len(s) != 55 || s[2] != '-' || s[35] != '-' || s[52] != '-' {
		return false
	}
	if !lowerHex(s[0:2]) || s[0:2] == "ff" {
		return false
	}
	if !lowerHex(s[3:35]) || allZero(s[3:35]) {
		return false
	}
	if !lowerHex(s[36:52]) || allZero(s[36:52]) {
		return false
	}
	return lowerHex(s[53:55])
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func allZero(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}

// checkText holds the rules shared by id and source: bounded, valid UTF-8,
// no control characters.
func checkText(field, s string, max int) error {
	switch {
	case s == "":
		return &FieldError{Field: field, Err: ErrMissingAttribute}
	case len(s) > max:
		return &FieldError{Field: field, Err: ErrInvalidAttribute, Detail: "longer than " + strconv.Itoa(max) + " bytes, got " + quote(s)}
	case !utf8.ValidString(s):
		return &FieldError{Field: field, Err: ErrInvalidAttribute, Detail: "not valid UTF-8, got " + quote(s)}
	case hasControl(s):
		return &FieldError{Field: field, Err: ErrInvalidAttribute, Detail: "contains control characters, got " + quote(s)}
	}
	return nil
}
