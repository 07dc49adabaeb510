//go:build race

package pii

// raceEnabled: the race detector makes sync.Pool drop items at random, so
// allocation counts of code that pools (regexp) are meaningless.
const raceEnabled = true
