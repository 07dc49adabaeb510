// Package events owns the wire contract of ESCAI agent events: the
// CloudEvents 1.0 envelope (structured JSON mode), the identifier rules that
// keep tenant and agent names safe to use as NATS subject tokens, the subject
// and stream names of every pipeline stage, the strict decoder that every
// stage runs on untrusted input, the machine reason codes written to
// dead-letter headers, and the derivation of Nats-Msg-Id.
//
// Everything here is shared by producers, services, the CLI and tests, so it
// imports only the standard library and holds no state: each function is a
// pure rule over its arguments.
//
// The decoder is the first thing that touches bytes an agent sent. It checks
// the cheap things first (size, UTF-8, nesting depth by a non-recursive byte
// scan) before any JSON parsing, refuses duplicate attributes so that no
// other JSON parser downstream can read a different event than the one that
// was validated, and keeps data and extension attributes byte-for-byte so
// later stages can add findings without rewriting what the agent said.
//
// Errors are API: every failure wraps exactly one of the package sentinels
// (match them with errors.Is), attribute failures are a *FieldError naming
// the attribute, and Code maps an error to the stable reason code that goes
// into the Escai-Reject-Code header of a dead-lettered message.
package events
