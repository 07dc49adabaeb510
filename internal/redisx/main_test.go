package redisx_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine behind: every
// client is closed and every redis-server waited for.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
