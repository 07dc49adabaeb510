package stage_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every runner, lane and settler must be gone once its test ends.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
