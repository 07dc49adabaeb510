// Package arch holds the architecture test: the dependency rules of
// DESIGN.md checked with `go list -deps`, so a forbidden import fails the
// build's tests instead of a review.
package arch
