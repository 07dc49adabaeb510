// Package redistest runs a real, throwaway redis-server for tests: one
// process per [Start] on a free loopback port with its data in t.TempDir(),
// persistence off, stopped in t.Cleanup. ESCAI tests never mock Redis; this
// helper is how they get one.
//
// redis-server must be on PATH (`apt-get install -y redis-server`, or
// `make test`, which installs it); [Start] fails the test with that advice
// when it is missing.
package redistest
