package events

import (
	"encoding/json"
	"mime"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// SpecVersion is the only CloudEvents version the pipeline accepts.
const SpecVersion = "1.0"

// TypePrefix starts every ESCAI event type; what follows it becomes the
// type tokens of the event's subject.
const TypePrefix = "escai."

// maxID keeps the id short enough for a Nats-Msg-Id header and dedupe
// windows; maxSource bounds the other free-text attribute.
const (
	maxID     = 128
	maxSource = 512
)

// Envelope is one ESCAI event in CloudEvents 1.0 structured JSON mode.
//
// Decode fills it from untrusted bytes and refuses anything that breaks a
// rule; producers that build one in Go call Validate (MarshalJSON does it
// for them). Data and Extensions hold raw JSON that is kept byte-for-byte,
// so a stage can add its findings without changing what the agent sent.
type Envelope struct {
	// SpecVersion ("specversion") must be "1.0".
	SpecVersion string
	// ID ("id") is unique per agent; 1..128 bytes of UTF-8 without control
	// characters because it is copied into the Nats-Msg-Id header. Stages
	// never rewrite it, so redelivered events deduplicate.
	ID string
	// Source ("source") is a URI-reference naming the agent, at most 512
	// bytes.
	Source string
	// Type ("type") is "escai." followed by 1..8 dot-separated identifier
	// tokens, e.g. "escai.tool.call".
	Type string
	// Time ("time") is when the agent says the event happened; required,
	// RFC 3339.
	Time time.Time
	// DataContentType ("datacontenttype") is optional; when set it must be
	// application/json, possibly with parameters.
	DataContentType string
	// Data ("data") is the free-form JSON payload, kept byte-for-byte.
	Data json.RawMessage
	// Tenant ("tenant" extension) is the owning tenant, an identifier.
	Tenant string
	// AgentID ("agentid" extension) is the producing agent, an identifier.
	AgentID string
	// SessionID ("sessionid" extension) optionally groups events of one
	// agent session; an identifier when set.
	SessionID string
	// TraceParent ("traceparent" extension) optionally links the event to a
	// W3C trace.
	TraceParent string
	// Extensions holds every other attribute, keyed by its CloudEvents name
	// ([a-z0-9]{1,20}), values as raw JSON kept byte-for-byte. Stages record
	// findings here ("escaivalidation", "escaipii").
	Extensions map[string]json.RawMessage
}

// MaxExtensions bounds the extension attributes of one event. Real events
// carry a handful; without a bound, 256 KiB of tiny attributes would cost a
// stage tens of thousands of allocations, far more than the same bytes in
// data.
const MaxExtensions = 32

// known attribute indexes; the order is the order of MarshalJSON.
const (
	attrSpecVersion = iota
	attrID
	attrSource
	attrType
	attrTime
	attrDataContentType
	attrTenant
	attrAgentID
	attrSessionID
	attrTraceParent
	attrData
	attrDataBase64
)

// knownAttr maps a top-level key to its index, -1 when it is an extension.
// A switch on string(b) does not allocate.
func knownAttr(name []byte) int {
	switch string(name) {
	case "specversion":
		return attrSpecVersion
	case "id":
		return attrID
	case "source":
		return attrSource
	case "type":
		return attrType
	case "time":
		return attrTime
	case "datacontenttype":
		return attrDataContentType
	case "tenant":
		return attrTenant
	case "agentid":
		return attrAgentID
	case "sessionid":
		return attrSessionID
	case "traceparent":
		return attrTraceParent
	case "data":
		return attrData
	case "data_base64":
		return attrDataBase64
	}
	return -1
}

// checkExtensionName refuses names that CloudEvents forbids and the names
// the Envelope has fields for: setting "tenant" as an extension would let
// two different values of the same attribute travel together.
func checkExtensionName(name string) error {
	if !validAttributeName(name) {
		return &FieldError{Field: safeField(name), Err: ErrInvalidAttribute, Detail: "name must match [a-z0-9]{1,20}"}
	}
	if knownAttr([]byte(name)) >= 0 {
		return &FieldError{Field: name, Err: ErrInvalidAttribute, Detail: "is a known attribute; set the Envelope field instead"}
	}
	return nil
}

// SetExtension stores v, marshalled to JSON, as extension attribute name.
// It is how stages add findings; the name must follow the CloudEvents rule
// and must not be one of the attributes the Envelope has a field for.
func (e *Envelope) SetExtension(name string, v any) error {
	if err := checkExtensionName(name); err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return &FieldError{Field: name, Err: ErrInvalidAttribute, Detail: "value does not marshal to JSON: " + err.Error()}
	}
	if _, ok := e.Extensions[name]; !ok && len(e.Extensions) >= MaxExtensions {
		return tooManyExtensions()
	}
	if e.Extensions == nil {
		e.Extensions = make(map[string]json.RawMessage, 1)
	}
	e.Extensions[name] = b
	return nil
}

// Extension returns the raw JSON of extension attribute name.
func (e *Envelope) Extension(name string) (json.RawMessage, bool) {
	v, ok := e.Extensions[name]
	return v, ok
}

// EventTypeTokens returns the type without "escai." ("tool.call"): the
// part that becomes subject tokens. It is "" when the type lacks the prefix.
func (e *Envelope) EventTypeTokens() string {
	rest, ok := strings.CutPrefix(e.Type, TypePrefix)
	if !ok {
		return ""
	}
	return rest
}

// Validate applies the attribute rules to an Envelope built in Go, the same
// rules Decode applies to bytes, so that what a producer sends is what
// ingest accepts. The first broken rule is returned as a *FieldError.
func (e *Envelope) Validate() error {
	return e.validate(false)
}

// validate runs the rules; decoded skips the checks that Decode has already
// proven for the whole input (JSON validity of Data and extension values).
func (e *Envelope) validate(decoded bool) error {
	switch e.SpecVersion {
	case SpecVersion:
	case "":
		return &FieldError{Field: "specversion", Err: ErrMissingAttribute}
	default:
		return &FieldError{Field: "specversion", Err: ErrUnsupported, Detail: `want "1.0", got ` + quote(e.SpecVersion)}
	}
	if err := checkText("id", e.ID, maxID); err != nil {
		return err
	}
	if err := checkSource(e.Source); err != nil {
		return err
	}
	if err := checkType(e.Type); err != nil {
		return err
	}
	if err := checkTime(e.Time); err != nil {
		return err
	}
	if e.DataContentType != "" && !validContentType(e.DataContentType) {
		return &FieldError{Field: "datacontenttype", Err: ErrInvalidAttribute, Detail: "must be application/json, got " + quote(e.DataContentType)}
	}
	if err := CheckIdentifier("tenant", e.Tenant); err != nil {
		return err
	}
	if err := CheckIdentifier("agentid", e.AgentID); err != nil {
		return err
	}
	if e.SessionID != "" && !ValidIdentifier(e.SessionID) {
		return &FieldError{Field: "sessionid", Err: ErrInvalidIdentifier, Detail: identifierRule + ", got " + quote(e.SessionID)}
	}
	if e.TraceParent != "" && !validTraceParent(e.TraceParent) {
		return &FieldError{Field: "traceparent", Err: ErrInvalidAttribute, Detail: "must be a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>, lowercase, non-zero ids), got " + quote(e.TraceParent)}
	}
	if len(e.Extensions) > MaxExtensions {
		return tooManyExtensions()
	}
	if len(e.Extensions) > 0 {
		if err := e.validateExtensions(decoded); err != nil {
			return err
		}
	}
	if !decoded && len(e.Data) > 0 && !validJSON(e.Data) {
		return &FieldError{Field: "data", Err: ErrInvalidAttribute, Detail: "not valid JSON"}
	}
	return nil
}

// validateExtensions reports the broken extension with the smallest name,
// so the error does not depend on map iteration order.
func (e *Envelope) validateExtensions(decoded bool) error {
	var (
		first    error
		firstKey string
	)
	for name, v := range e.Extensions {
		if first != nil && name >= firstKey {
			continue
		}
		err := checkExtensionName(name)
		if err == nil && len(v) == 0 {
			err = &FieldError{Field: name, Err: ErrInvalidAttribute, Detail: "empty value"}
		}
		if err == nil && !decoded && !validJSON(v) {
			err = &FieldError{Field: name, Err: ErrInvalidAttribute, Detail: "value is not valid JSON"}
		}
		if err != nil {
			first, firstKey = err, name
		}
	}
	return first
}

func checkSource(s string) error {
	if err := checkText("source", s, maxSource); err != nil {
		return err
	}
	if plainURI(s) {
		return nil
	}
	if _, err := url.Parse(s); err != nil {
		return &FieldError{Field: "source", Err: ErrInvalidAttribute, Detail: "must be a URI-reference, got " + quote(s)}
	}
	return nil
}

// uriPlain marks the characters plainURI accepts: unreserved and the
// sub-delimiters, ':', '/' and '@'; no '%', '?', '#', '[' or ']', which need
// url.Parse's rules.
var uriPlain = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "-._~!$&'()*+,;=:/@" {
		t[c] = true
	}
	return t
}()

// plainURI is a fast path for the sources agents send ("urn:escai:agent:x",
// "https://agents.example/a/b", "/agents/a"): a scheme followed by plain
// characters, with an authority of host characters and a numeric port, or
// an absolute path. What it accepts url.Parse accepts too (FuzzPlainURI);
// anything else goes to url.Parse, which is what it saves every event.
func plainURI(s string) bool {
	if s == "" {
		return false
	}
	rest := s
	if s[0] == '/' {
		if len(s) > 1 && s[1] == '/' {
			return false // a network-path reference: url.Parse decides
		}
	} else {
		i := 0
		for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || i > 0 && (s[i] >= '0' && s[i] <= '9' || s[i] == '+' || s[i] == '-' || s[i] == '.')) {
			i++
		}
		if i == 0 || i >= len(s) || s[i] != ':' {
			return false
		}
		rest = s[i+1:]
		if strings.HasPrefix(rest, "//") {
			auth, path, _ := strings.Cut(rest[2:], "/")
			host, port, hasPort := strings.Cut(auth, ":")
			for j := 0; j < len(host); j++ {
				c := host[j]
				if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
					return false
				}
			}
			if hasPort {
				for j := 0; j < len(port); j++ {
					if port[j] < '0' || port[j] > '9' {
						return false
					}
				}
			}
			rest = path
		}
	}
	for j := 0; j < len(rest); j++ {
		if !uriPlain[rest[j]] {
			return false
		}
	}
	return true
}

// checkTime refuses the zero time (an unset field) and instants whose UTC
// form has no four-digit year, because MarshalJSON writes UTC and the
// result must decode again.
func checkTime(t time.Time) error {
	if t.IsZero() {
		return &FieldError{Field: "time", Err: ErrMissingAttribute}
	}
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return &FieldError{Field: "time", Err: ErrInvalidAttribute, Detail: "year in UTC must be within 0000..9999"}
	}
	return nil
}

const jsonContentType = "application/json"

// validContentType accepts application/json with optional parameters. The
// exact common form is checked without parsing.
func validContentType(s string) bool {
	if s == jsonContentType {
		return true
	}
	if hasControl(s) || !utf8.ValidString(s) {
		return false
	}
	mt, _, err := mime.ParseMediaType(s)
	return err == nil && mt == "application/json"
}

// MarshalJSON writes the envelope in a fixed attribute order with Data
// last, so equal envelopes give equal bytes and a reader can stop before
// the payload. It refuses an envelope that Validate refuses: the pipeline
// never emits an event it would not accept.
//
// It has a value receiver so that json.Marshal of an Envelope value (or a
// struct embedding one) uses it too. Note that json.Marshal re-compacts and
// HTML-escapes the output; call MarshalJSON directly to keep Data and
// extensions byte-for-byte.
func (e Envelope) MarshalJSON() ([]byte, error) {
	if err := e.validate(false); err != nil {
		return nil, err
	}
	// Attribute names and punctuation, the values, and slack for escapes.
	n := 192 + len(e.ID) + len(e.Source) + len(e.Type) + len(e.DataContentType) +
		len(e.Tenant) + len(e.AgentID) + len(e.SessionID) + len(e.TraceParent) + len(e.Data)
	n += n / 16
	for k, v := range e.Extensions {
		n += len(k) + len(v) + 4
	}
	b := make([]byte, 0, n)
	b = append(b, `{"specversion":`...)
	b = appendString(b, e.SpecVersion)
	b = append(b, `,"id":`...)
	b = appendString(b, e.ID)
	b = append(b, `,"source":`...)
	b = appendString(b, e.Source)
	b = append(b, `,"type":`...)
	b = appendString(b, e.Type)
	b = append(b, `,"time":"`...)
	b = e.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if e.DataContentType != "" {
		b = append(b, `,"datacontenttype":`...)
		b = appendString(b, e.DataContentType)
	}
	b = append(b, `,"tenant":`...)
	b = appendString(b, e.Tenant)
	b = append(b, `,"agentid":`...)
	b = appendString(b, e.AgentID)
	if e.SessionID != "" {
		b = append(b, `,"sessionid":`...)
		b = appendString(b, e.SessionID)
	}
	if e.TraceParent != "" {
		b = append(b, `,"traceparent":`...)
		b = appendString(b, e.TraceParent)
	}
	if len(e.Extensions) > 0 {
		names := make([]string, 0, len(e.Extensions))
		for k := range e.Extensions {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, k := range names {
			b = append(b, ',')
			b = appendString(b, k)
			b = append(b, ':')
			b = append(b, e.Extensions[k]...)
		}
	}
	if len(e.Data) > 0 {
		b = append(b, `,"data":`...)
		b = append(b, e.Data...)
	}
	return append(b, '}'), nil
}

// UnmarshalJSON makes json.Unmarshal into an Envelope as strict as Decode
// with DefaultLimits, so an envelope nested in another document (a CLI
// input line, an API body) cannot bypass the rules. Unlike the usual
// convention, JSON null is refused too: an absent event is not a valid one.
func (e *Envelope) UnmarshalJSON(b []byte) error {
	d, err := Decode(b, DefaultLimits())
	if err != nil {
		return err
	}
	*e = *d
	return nil
}

// appendString writes s as a JSON string.
func appendString(b []byte, s string) []byte { return AppendJSONString(b, s) }

// AppendJSONString appends s as a JSON string. Only what JSON requires is
// escaped (plus invalid UTF-8, replaced by U+FFFD as encoding/json does), so
// the output is what a reader decodes back to s. Stages that rewrite JSON
// share it so every escaping decision is made in one place.
func AppendJSONString[S ~string | ~[]byte](b []byte, s S) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		var buf [utf8.UTFMax]byte
		n := copy(buf[:], s[i:])
		r, size := utf8.DecodeRune(buf[:n])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
