package telemetry

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	t.Setenv("GOGC", "")
	os.Unsetenv("GOGC")
	if got := TuneGC(); got != ServiceGCPercent || debug.SetGCPercent(ServiceGCPercent) != ServiceGCPercent {
		t.Fatalf("without GOGC: %d, want %d", got, ServiceGCPercent)
	}
	// GOGC set: the runtime already read it; TuneGC leaves it alone.
	t.Setenv("GOGC", "150")
	debug.SetGCPercent(150)
	if got := TuneGC(); got != 150 || debug.SetGCPercent(150) != 150 {
		t.Fatalf("with GOGC=150: %d", got)
	}
}
