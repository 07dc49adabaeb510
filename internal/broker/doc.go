// Package broker owns the embedded NATS JetStream server used by `escai dev`
// and by tests, and the provisioning of the stream and consumer definitions
// kept as data in streams/.
//
// Start runs a nats-server in this process (single node, or one node of a
// cluster) and returns once it accepts clients and JetStream can serve API
// requests. Server.Connect opens an in-process connection, the fastest path
// for services that share the process with the server.
//
// LoadDefinitions parses the definition files once; Definitions.Apply and
// Definitions.EnsureTenant create or update the streams and durable consumers
// on any JetStream server (embedded or not). They are what `escai streams
// apply` and every service start run, so they are idempotent: an item whose
// configuration on the server already equals its definition (after the
// server's defaults are taken into account) is reported "unchanged" and is
// not touched. A change the server cannot make in place (retention to or
// from work queue, storage, lifting deny_delete, ...) is an
// *ImmutableFieldError naming the stream and field; nothing is ever deleted
// and recreated.
package broker
