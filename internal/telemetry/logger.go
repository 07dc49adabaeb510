package telemetry

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// ErrInvalidLogLevel is returned (wrapped) by [NewLogger] for a level it does
// not know.
var ErrInvalidLogLevel = errors.New("telemetry: invalid log level")

// NewLogger returns a JSON logger that writes to w (standard error when w is
// nil) at level and above, with every entry carrying "service". level is
// debug, info, warn or error ("" means info). Entries have the keys time
// (ISO 8601, UTC, milliseconds), level, logger, caller, msg and, from error
// up, stacktrace.
//
// Logs are for lifecycle and configuration; per-message outcomes belong in
// metrics, and payloads, tokens, keys and detected PII are never logged.
func NewLogger(service, level string, w io.Writer) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("%w %q: want debug, info, warn or error", ErrInvalidLogLevel, level)
	}
	if w == nil {
		w = os.Stderr
	}
	enc := zap.NewProductionEncoderConfig()
	enc.TimeKey = "time"
	enc.EncodeTime = utcISO8601
	enc.EncodeDuration = zapcore.StringDurationEncoder
	// Lock: w may be a plain io.Writer (a bytes.Buffer in tests) that is not
	// safe for the concurrent writes a shared logger makes.
	sink := zapcore.Lock(zapcore.AddSync(w))
	core := zapcore.NewCore(zapcore.NewJSONEncoder(enc), sink, lvl)
	return zap.New(core,
		zap.AddCaller(),
		zap.AddStacktrace(zapcore.ErrorLevel),
		zap.ErrorOutput(sink),
		zap.Fields(zap.String("service", service)),
	), nil
}

// utcISO8601 writes times in UTC so that logs from replicas in different
// zones sort and compare as text.
func utcISO8601(t time.Time, enc zapcore.PrimitiveArrayEncoder) {
	enc.AppendString(t.UTC().Format("2006-01-02T15:04:05.000Z07:00"))
}
