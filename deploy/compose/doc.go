// Package compose holds the Docker Compose deployment of the pipeline: the
// NATS cluster configuration (nats-*.conf), the compose variables
// (.env.example) and the secrets' instructions (secrets/README.md), used by
// docker-compose.yml and the Dockerfile at the module root.
//
// It has no Go API. Docker cannot run where these files are written, so its
// tests check them instead: every image pinned, every NATS config parsed by
// nats-server itself, healthchecks and dependencies that can work, and every
// command flag and ESCAI_* variable checked against the binaries' real cobra
// commands and config.Variables.
package compose
