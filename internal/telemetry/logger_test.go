package telemetry_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/escai-framework/escai/internal/telemetry"
)

func TestNewLoggerJSON(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log, err := telemetry.NewLogger("ingest", "info", &buf)
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("hidden at info")
	log.Info("consumer started", zap.String("stream", "ESCAI_IN"))
	log.Warn("redis slow")
	if err := log.Sync(); err != nil {
		t.Fatal(err)
	}

	lines := readLines(t, &buf)
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2 (debug filtered out):\n%s", len(lines), buf.String())
	}
	first := lines[0]
	for key, want := range map[string]string{
		"service": "ingest",
		"level":   "info",
		"msg":     "consumer started",
		"stream":  "ESCAI_IN",
	} {
		if got, _ := first[key].(string); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	ts, _ := first["time"].(string)
	if !strings.HasSuffix(ts, "Z") {
		t.Errorf("time = %q, want UTC (suffix Z)", ts)
	}
	if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
		t.Errorf("time %q is not ISO 8601: %v", ts, err)
	}
	if got := lines[1]["level"]; got != "warn" {
		t.Errorf("second line level = %v, want warn", got)
	}
}

func TestNewLoggerLevels(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		level string
		want  []string // levels of the lines written
	}{
		"debug":         {"debug", []string{"debug", "info", "warn", "error"}},
		"empty is info": {"", []string{"info", "warn", "error"}},
		"warn":          {"warn", []string{"warn", "error"}},
		"error":         {"error", []string{"error"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			log, err := telemetry.NewLogger("svc", tc.level, &buf)
			if err != nil {
				t.Fatal(err)
			}
			log.Debug("d")
			log.Info("i")
			log.Warn("w")
			log.Error("e")
			var got []string
			for _, l := range readLines(t, &buf) {
				got = append(got, l["level"].(string))
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("levels written = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNewLoggerBadLevel(t *testing.T) {
	t.Parallel()
	_, err := telemetry.NewLogger("svc", "loud", nil)
	const want = `telemetry: invalid log level "loud": want debug, info, warn or error`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
	if !errors.Is(err, telemetry.ErrInvalidLogLevel) {
		t.Errorf("errors.Is(err, ErrInvalidLogLevel) = false")
	}
}

func readLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(buf.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}
