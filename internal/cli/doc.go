// Package cli builds the command lines of every binary: the four services
// (ingest, pii-worker, audit-writer, authz) and the operator CLI escai
// (dev, streams, bench, config). The mains in cmd/ only call Execute, so the
// flags a binary really accepts are importable — the compose test checks
// docker-compose.yml against them.
//
// Configuration is read once, by pkg/security/config, from ESCAI_*
// variables; a flag that is set overrides its variable; Validate runs before
// any connection is made.
package cli
