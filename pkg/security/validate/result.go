package validate

import (
	"crypto/sha256"
	"encoding/hex"
	"unsafe"
)

// Threat names. They are a contract (DESIGN.md): scripts, dashboards and
// metrics labels read them, so they must never change. Custom rules may
// name other threats.
const (
	// ThreatSQLi is SQL injection.
	ThreatSQLi = "sqli"
	// ThreatXSS is cross-site scripting.
	ThreatXSS = "xss"
	// ThreatPathTraversal is path traversal and sensitive file access.
	ThreatPathTraversal = "path_traversal"
	// ThreatCmdInjection is OS command injection.
	ThreatCmdInjection = "cmd_injection"
	// ThreatLDAPInjection is LDAP filter injection.
	ThreatLDAPInjection = "ldap_injection"
	// ThreatNoSQLi is NoSQL (MongoDB operator or JavaScript) injection.
	ThreatNoSQLi = "nosqli"
	// ThreatTemplateInjection is server-side template (and Log4j lookup)
	// injection.
	ThreatTemplateInjection = "template_injection"
	// ThreatCRLF is CR/LF injection: response splitting, header and log
	// injection.
	ThreatCRLF = "crlf"
)

// Threat is one finding: what, where, and a fingerprint of the evidence
// that identifies it without repeating it (values may hold attacks, secrets
// or personal data, and threats go into events, logs and dead letters).
type Threat struct {
	// Type is one of the Threat* names, or the threat of a custom rule.
	Type string `json:"type"`
	// Field is the dotted JSON path of the value ("data.arguments.path",
	// "data.messages[2].content"), printable ASCII of at most 256 bytes.
	Field string `json:"field"`
	// Fingerprint is the first 8 hex digits of the SHA-256 of the matched
	// span: enough to group equal findings, too little to recover them.
	Fingerprint string `json:"fingerprint"`
	// Rule is the id of the rule that matched ("sqli.libinjection",
	// "path.encoded_dotdot", a custom rule's id).
	Rule string `json:"rule,omitempty"`
	// Informational marks a finding on expected content (SQL in a sql
	// field): worth recording, nothing to act on.
	Informational bool `json:"informational,omitempty"`
}

// Verdict is the outcome of a check.
type Verdict string

// The verdicts, a contract of `escai validate`.
const (
	// VerdictClean means nothing to act on; informational threats may be
	// present.
	VerdictClean Verdict = "clean"
	// VerdictFlagged means at least one threat where it does not belong,
	// below the rejection threshold of the level.
	VerdictFlagged Verdict = "flagged"
	// VerdictRejected means at least one Reason: the event must not pass.
	VerdictRejected Verdict = "rejected"
)

// Reason codes. They go into dead-letter headers and metrics labels and
// must never change. Threats that reject use "threat_" + the threat type
// ("threat_sqli").
const (
	// ReasonEventSize means the event is larger than Limits.MaxEventBytes.
	ReasonEventSize = "limit_event_size"
	// ReasonDepth means data nests deeper than Limits.MaxDepth.
	ReasonDepth = "limit_depth"
	// ReasonStringLength means a string or key is longer than
	// Limits.MaxStringBytes.
	ReasonStringLength = "limit_string_length"
	// ReasonObjectKeys means an object has more than Limits.MaxObjectKeys keys.
	ReasonObjectKeys = "limit_object_keys"
	// ReasonArrayLength means an array has more than Limits.MaxArrayLen
	// elements.
	ReasonArrayLength = "limit_array_length"
	// ReasonFutureTime means the event time is further in the future than
	// Config.MaxFutureSkew.
	ReasonFutureTime = "limit_future_time"
	// ReasonInvalidUTF8 means a string or key is not valid UTF-8.
	ReasonInvalidUTF8 = "invalid_utf8"
	// ReasonControlChars means control characters where the field kind allows
	// none.
	ReasonControlChars = "control_characters"
	// ReasonMalformedJSON means data (or a value given to CheckJSON) is not
	// JSON.
	ReasonMalformedJSON = "malformed_json"
	// ReasonInvalidIdentifier means an identifier or tool name is outside its
	// allow-list.
	ReasonInvalidIdentifier = "invalid_identifier"
	// ReasonRuleRequired means no value matches a required custom rule.
	ReasonRuleRequired = "rule_required"
	// ReasonRuleType means a value has another JSON type than its rule says.
	ReasonRuleType = "rule_type"
	// ReasonRuleMaxLength means a string is longer than its rule allows.
	ReasonRuleMaxLength = "rule_max_length"
	// ReasonRuleAllow means a value does not match its rule's allow-list.
	ReasonRuleAllow = "rule_allow"
	// ReasonThreatPrefix starts the code of a rejecting threat.
	ReasonThreatPrefix = "threat_"
)

// Reason is why a check rejected.
type Reason struct {
	// Code is one of the Reason* codes or "threat_<type>".
	Code string `json:"code"`
	// Field is the dotted JSON path at fault ("" for the whole event).
	Field string `json:"field,omitempty"`
	// Detail says what was expected; it never quotes the value.
	Detail string `json:"detail,omitempty"`
}

// Result is the outcome of CheckField, CheckJSON or CheckEvent.
type Result struct {
	// Verdict summarises Threats and Reasons.
	Verdict Verdict `json:"verdict"`
	// Threats are the findings in walk order, at most MaxThreats.
	Threats []Threat `json:"threats"`
	// Reasons are set when Verdict is rejected, at most MaxReasons.
	Reasons []Reason `json:"reasons,omitempty"`
	// Truncated is set when more threats or reasons were found than kept.
	Truncated bool `json:"truncated,omitempty"`
}

// MaxThreats and MaxReasons bound a Result, so a hostile event cannot make
// the findings larger than the event.
const (
	// MaxThreats bounds Result.Threats.
	MaxThreats = 64
	// MaxReasons bounds Result.Reasons; a walk stops when it is reached.
	MaxReasons = 16
)

// Err returns nil unless the result is rejected, and then a *RejectError
// carrying the first reason, which wraps ErrRejected.
func (r *Result) Err() error {
	if r.Verdict != VerdictRejected || len(r.Reasons) == 0 {
		return nil
	}
	return &RejectError{Reason: r.Reasons[0]}
}

// Flagged reports a threat that is not informational.
func (r *Result) Flagged() bool {
	for i := range r.Threats {
		if !r.Threats[i].Informational {
			return true
		}
	}
	return false
}

func (r *Result) addThreat(t Threat) {
	for i := range r.Threats {
		o := &r.Threats[i]
		if o.Type == t.Type && o.Field == t.Field && o.Rule == t.Rule {
			if o.Informational && !t.Informational {
				o.Informational = false
			}
			return
		}
	}
	if len(r.Threats) >= MaxThreats {
		r.Truncated = true
		return
	}
	if r.Threats == nil {
		r.Threats = make([]Threat, 0, 4)
	}
	r.Threats = append(r.Threats, t)
}

func (r *Result) addReason(code, field, detail string) {
	for i := range r.Reasons {
		if r.Reasons[i].Code == code && r.Reasons[i].Field == field {
			return
		}
	}
	if len(r.Reasons) >= MaxReasons {
		r.Truncated = true
		return
	}
	r.Reasons = append(r.Reasons, Reason{Code: code, Field: field, Detail: detail})
}

// finish sets the verdict from what was found.
func (r *Result) finish() {
	switch {
	case len(r.Reasons) > 0:
		r.Verdict = VerdictRejected
	case r.Flagged():
		r.Verdict = VerdictFlagged
	default:
		r.Verdict = VerdictClean
	}
}

// fingerprint is the first 8 hex digits of SHA-256(span).
func fingerprint(span string) string {
	sum := sha256.Sum256(unsafe.Slice(unsafe.StringData(span), len(span)))
	var b [8]byte
	hex.Encode(b[:], sum[:4])
	return string(b[:])
}
