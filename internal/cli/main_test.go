package cli

import (
	"testing"

	"go.uber.org/goleak"
)

// escai dev must leave nothing running after it drains.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
