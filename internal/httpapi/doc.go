// Package httpapi owns the HTTPS face of ingest: POST /v1/events, which
// takes one CloudEvents envelope or an NDJSON batch from an agent holding a
// bearer token, and stores each event exactly as the NATS path would — on
// its escai.valid subject when the ingest processor accepts it, on
// escai.rejected with the reason when it refuses it — before answering.
//
// The promises the handler keeps:
//
//   - an event is reported "accepted" only after the broker acknowledged
//     every message it produced (PubAck); if any publish of a request fails
//     the whole request is answered 503 and nothing is claimed;
//   - every message is published with a Nats-Msg-Id derived from the event
//     (valid outputs) or from the bytes of its line (dead letters), so a
//     client that retries a batch, in whole or in part, within the stream's
//     duplicate window never stores anything twice, and gets the same
//     answer;
//   - the caller's token decides who may speak for whom: an event whose
//     tenant is not the token's, or whose agent the token does not list, is
//     refused with reason "forbidden" and dead-lettered;
//   - nothing is read before the caller is authenticated, bodies and batches
//     are bounded, and request outcomes are metrics, never log lines; the
//     token is never logged or echoed.
//
// Server runs the handler on a listener that speaks TLS 1.3 only, or plain
// HTTP when explicitly allowed for development.
package httpapi
