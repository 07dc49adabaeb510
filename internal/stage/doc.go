// Package stage owns the one runtime every pipeline stage runs on: pull
// batches from a durable JetStream consumer (Fetch, not Consume: see
// Runner.pull), hand each message to a Processor, publish the outputs with
// Nats-Msg-Id, wait for every PubAck, optionally commit the batch to a side
// store (the audit writer's Redis index), and only then settle the inputs.
//
// Delivery rules, in one place so no stage gets them wrong:
//
//   - an input is acked only after all of its outputs are stored (PubAck)
//     and the batch is committed;
//   - outputs carry the Msg-Id the processor derived from the event, so a
//     redelivered input republished after a crash is deduplicated by the
//     broker;
//   - a permanent error (bad input) writes the input, byte for byte, to
//     ESCAI_REJECTED with its reason in headers, then terms the input;
//   - a transient error naks with a growing delay; on the last allowed
//     delivery it dead-letters instead, so nothing silently stays behind;
//   - in-flight work is bounded by the consumer's MaxAckPending, the two
//     open pull requests of Batch×Workers/2 messages each, the batch size
//     and the number of workers;
//   - Drain stops pulling and finishes what is in flight.
//
// Zero outputs and a nil error mean the input is filtered: it is acked.
package stage
