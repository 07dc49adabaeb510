// Package telemetry owns what every ESCAI process exposes about itself: the
// zap logger factory, the per-process Prometheus registry, and the admin HTTP
// server with /metrics, /livez, /readyz and /healthz.
//
// Telemetry is injected, never global. A main builds one logger with
// [NewLogger] and one registry with [NewRegistry] and hands them to the
// packages it wires; nothing here calls zap.L, zap.ReplaceGlobals or the
// default Prometheus registry, and nothing happens in init.
package telemetry
