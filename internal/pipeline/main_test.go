package pipeline_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every stage, discovery loop and connection must be gone once its test ends.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
