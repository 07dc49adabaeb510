// Package streams owns the JetStream stream and consumer definitions of the
// ESCAI pipeline, kept as data: one JSON file per stream and per consumer, in
// the shape of the JetStream API (the JSON tags of nats.go
// jetstream.StreamConfig and jetstream.ConsumerConfig; durations are
// nanoseconds as JSON numbers, sizes are bytes).
//
// The stream names and subjects are a contract (see DESIGN.md, "Streams"):
//
//	ESCAI_IN              escai.in.>                  work queue, raw events
//	ESCAI_VALID           escai.valid.>               work queue, holds PII
//	ESCAI_REJECTED        escai.rejected.>            dead letter with reasons
//	ESCAI_CLEAN_<tenant>  escai.clean.<tenant>.>      one per tenant, masked
//	ESCAI_SECURITY        escai.security.>            security events
//	ESCAI_AUDIT           escai.audit.>               sealed audit records
//
// File names follow two patterns:
//
//	<STREAM>.json                     a stream
//	<STREAM>.<durable>.consumer.json  a durable pull consumer on <STREAM>
//
// ESCAI_CLEAN_TENANT.json is a template rather than a stream: its name and
// subjects contain the placeholder {{tenant}}, which the provisioner
// (internal/broker, EnsureTenant) replaces with a validated tenant
// identifier when a tenant's stream is created. Consumer files named
// ESCAI_CLEAN_TENANT.<durable>.consumer.json are created on every tenant
// stream. To add a tenant stream by hand with natscli, substitute first:
//
//	sed 's/{{tenant}}/acme/g' ESCAI_CLEAN_TENANT.json > /tmp/acme.json
//	nats stream add --config /tmp/acme.json
//	nats consumer add ESCAI_CLEAN_acme --config ESCAI_CLEAN_TENANT.audit-writer.consumer.json
//
// Every other file is accepted as is by natscli:
//
//	nats stream add --config ESCAI_IN.json
//	nats consumer add ESCAI_IN --config ESCAI_IN.ingest.consumer.json
//
// Replicas, max age and max bytes in these files are single-node defaults;
// deployments change them through configuration (broker.Overrides), never
// by editing a copy of the files, so one definition serves `escai dev` and a
// 3-node cluster. The files are applied by internal/broker, at every service
// start and by `escai streams apply`.
//
// A stream's max_bytes is reserved from the server's JetStream store limit
// when the stream is created (nats-server refuses the stream with
// "insufficient storage resources" otherwise), so tenant streams are bounded
// by max_age alone by default: a per-tenant byte cap would claim its whole
// size up front for every tenant. Set one through broker.Overrides.MaxBytes
// when the store is sized for the number of tenants.
//
// Consumers acknowledge explicitly and retry with back-off. The server
// replaces ack_wait with backoff[0], so both are 30s: a slow batch is not
// redelivered while it is still being processed: the stage runtime gives
// up waiting for a batch's PubAcks after 15s and naks instead.
package streams

import "embed"

// FS holds every definition file of this directory (*.json).
//
//go:embed *.json
var FS embed.FS
