package telemetry_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine behind: a started
// admin server must be gone after Shutdown, a hung check after its release.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
