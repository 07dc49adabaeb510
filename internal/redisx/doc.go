// Package redisx owns how ESCAI processes reach Redis: turning the
// ESCAI_REDIS_URL value (read by the configuration package, never here) into
// a go-redis client with timeouts and pool sizes chosen for the audit index,
// and running a real redis-server child process for `escai dev`.
//
// Errors from this package never contain the Redis password: URLs are passed
// through [RedactURL] before they reach an error or a log line.
//
// The test helper that starts and stops a throwaway redis-server lives in the
// redistest subpackage; it builds on [StartProcess].
package redisx
