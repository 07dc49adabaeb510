package events

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The sentinels below classify every failure of this package. Each error
// returned here wraps exactly one of them, so a stage can decide what to do
// (dead-letter, refuse, alert) with errors.Is and never by reading messages.
var (
	// ErrTooLarge means the input exceeded Limits.MaxBytes (checked before
	// anything else, so an oversized message costs one comparison) or
	// carries more than MaxExtensions extension attributes.
	ErrTooLarge = errors.New("events: too large")
	// ErrTooDeep means objects/arrays nest deeper than Limits.MaxDepth; it is
	// found by a non-recursive scan before any JSON parser sees the input.
	ErrTooDeep = errors.New("events: too deeply nested")
	// ErrInvalidUTF8 means the input is not valid UTF-8 anywhere (keys,
	// values or whitespace); such input would be repaired differently by
	// different parsers.
	ErrInvalidUTF8 = errors.New("events: invalid UTF-8")
	// ErrMalformedJSON means the input is not one JSON object; the message
	// carries the byte offset of the problem.
	ErrMalformedJSON = errors.New("events: malformed JSON")
	// ErrDuplicateAttribute means a top-level key appears twice (after
	// unescaping); parsers disagree on which copy wins, so such an event is
	// never accepted.
	ErrDuplicateAttribute = errors.New("events: duplicate attribute")
	// ErrMissingAttribute means a required attribute is absent.
	ErrMissingAttribute = errors.New("events: missing attribute")
	// ErrInvalidAttribute means an attribute has the wrong JSON type, a bad
	// value, or a name that CloudEvents does not allow.
	ErrInvalidAttribute = errors.New("events: invalid attribute")
	// ErrInvalidIdentifier means a tenant, agent or session identifier does
	// not match [a-z0-9][a-z0-9_-]{0,63}; identifiers become subject tokens.
	ErrInvalidIdentifier = errors.New("events: invalid identifier")
	// ErrUnsupported means valid CloudEvents that this pipeline does not
	// accept: another spec version, or binary data (data_base64).
	ErrUnsupported = errors.New("events: unsupported")
	// ErrSubjectMismatch means the subject a message arrived on names a
	// different tenant, agent or type than its envelope: an agent tried to
	// speak for another.
	ErrSubjectMismatch = errors.New("events: subject mismatch")
	// ErrInvalidSubject means a subject (or a part used to build one) is not
	// in the ESCAI subject grammar.
	ErrInvalidSubject = errors.New("events: invalid subject")
)

// codes is ordered; the codes are written into dead-letter headers and read
// by operators and scripts, so they must never change.
var codes = [...]struct {
	err  error
	code string
}{
	{ErrTooLarge, "too_large"},
	{ErrTooDeep, "too_deep"},
	{ErrInvalidUTF8, "invalid_utf8"},
	{ErrMalformedJSON, "malformed_json"},
	{ErrDuplicateAttribute, "duplicate_attribute"},
	{ErrMissingAttribute, "missing_attribute"},
	{ErrInvalidAttribute, "invalid_attribute"},
	{ErrInvalidIdentifier, "invalid_identifier"},
	{ErrUnsupported, "unsupported"},
	{ErrSubjectMismatch, "subject_mismatch"},
	{ErrInvalidSubject, "invalid_subject"},
}

// Code returns the stable reason code of err for the Escai-Reject-Code
// header: "" for nil, one of the documented codes when err wraps a sentinel
// of this package, and "invalid" for anything else so that a header is
// never empty for a real failure.
func Code(err error) string {
	if err == nil {
		return ""
	}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return "invalid"
}

// FieldOf returns the attribute named by the *FieldError wrapped in err, or
// "" when there is none; it feeds the Escai-Reject-Field header.
func FieldOf(err error) string {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}

// FieldError reports which attribute (or subject part) broke which rule.
// Field is always printable ASCII of at most 64 bytes, even when it names
// an attacker-chosen key, so it can go into a message header as is.
type FieldError struct {
	// Field is the attribute name ("tenant", "agentid", "type"…), or
	// "subject", "stage" or "kind" for subject errors.
	Field string
	// Err is one of the package sentinels.
	Err error
	// Detail says what was expected; it quotes at most 64 bytes of the
	// offending value.
	Detail string
}

// Error reads like `events: attribute "tenant": invalid identifier: must
// match [a-z0-9][a-z0-9_-]{0,63}, got "ACME"`.
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString("events: ")
	switch {
	case e.Field == "":
	case errors.Is(e.Err, ErrInvalidSubject):
		b.WriteString(e.Field)
		b.WriteString(": ")
	default:
		b.WriteString("attribute ")
		b.WriteString(strconv.Quote(e.Field))
		b.WriteString(": ")
	}
	if e.Err != nil {
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "events: "))
	} else {
		b.WriteString("invalid")
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Unwrap exposes the sentinel to errors.Is.
func (e *FieldError) Unwrap() error { return e.Err }

// maxEcho bounds how much of an untrusted value an error message repeats:
// messages end up in headers, logs and dead-letter streams.
const maxEcho = 64

// truncate cuts s to at most n bytes without splitting a rune.
func truncate(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n], true
}

// quote renders an untrusted value for a Detail: at most maxEcho bytes of
// it, ASCII-only so it is safe in a header, and marked when cut.
func quote(s string) string {
	t, cut := truncate(s, maxEcho)
	q := strconv.QuoteToASCII(t)
	if cut {
		q += "... (" + strconv.Itoa(len(s)) + " bytes)"
	}
	return q
}

// safeField turns an attacker-chosen key into a Field value: printable
// ASCII, at most maxEcho bytes, other runes escaped as in Go literals.
func safeField(s string) string {
	clean := len(s) <= maxEcho
	for i := 0; clean && i < len(s); i++ {
		clean = s[i] >= 0x20 && s[i] < 0x7f
	}
	if clean {
		return s
	}
	b := make([]byte, 0, maxEcho)
	for _, r := range s {
		var piece string
		if r >= 0x20 && r < 0x7f {
			piece = string(rune(r))
		} else {
			q := strconv.QuoteRuneToASCII(r)
			piece = q[1 : len(q)-1]
		}
		if len(b)+len(piece) > maxEcho {
			break
		}
		b = append(b, piece...)
	}
	return string(b)
}
