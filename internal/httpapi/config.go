package httpapi

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/auth"
)

// IngestPath is where the ingest handler is mounted.
const IngestPath = "/v1/events"

// StageName is the Escai-Reject-Stage of dead letters written by the HTTP
// path, and the first part of their Msg-Id ("rejected:http:…").
const StageName = "ingest-http"

// Defaults of IngestConfig.
const (
	// DefaultMaxBodyBytes bounds a request body.
	DefaultMaxBodyBytes = 8 << 20
	// DefaultMaxBatch bounds the events of one NDJSON request.
	DefaultMaxBatch = 1000
	// DefaultPublishTimeout bounds the wait for a request's PubAcks.
	DefaultPublishTimeout = 15 * time.Second
	// DefaultMaxInFlight bounds the requests processed at once; with
	// DefaultMaxBodyBytes it bounds the memory held by bodies to 512 MiB.
	DefaultMaxInFlight = 64
	// DefaultRetryAfter is the Retry-After of 429 and 503 answers.
	DefaultRetryAfter = time.Second
)

// RateLimitFunc decides whether one more event of tenant/agent may be
// accepted now; true means allowed. It is called once per event that
// decoded and that the token allows, so a refused event costs its own
// tenant nothing. It must be safe for concurrent use and must not block.
type RateLimitFunc func(tenant, agent string) bool

// IngestConfig configures NewIngestHandler.
type IngestConfig struct {
	// JS publishes outputs and dead letters. Required.
	JS jetstream.JetStream
	// Processor is the ingest processor (ingest.New with the service's
	// limits): it decides valid or rejected exactly as on the NATS path.
	// Required.
	Processor stage.Processor
	// Verifier checks bearer tokens. Nil disables authentication, which
	// is refused unless AllowUnauthenticated is set.
	Verifier *auth.Verifier
	// AllowUnauthenticated permits a nil Verifier: every caller may then
	// publish for every tenant and agent. For development only.
	AllowUnauthenticated bool
	// RequiredScope, when set, is a scope every token must grant (e.g.
	// "events:write"); a token without it gets 403 insufficient_scope.
	RequiredScope string
	// MaxBodyBytes bounds a request body (413 beyond). Default 8 MiB.
	MaxBodyBytes int64
	// MaxBatch bounds the events of one request (413 beyond). Default 1000.
	MaxBatch int
	// Limits are the decoder limits; they must be the ones the Processor
	// enforces. Zero fields mean events.DefaultLimits.
	Limits events.Limits
	// RateLimit is consulted per event; nil allows everything.
	RateLimit RateLimitFunc
	// RetryAfter is sent with 429 and 503. Default 1s.
	RetryAfter time.Duration
	// PublishTimeout bounds the wait for the PubAcks of one request (and
	// for a free slot when MaxInFlight requests are running). Default 15s.
	PublishTimeout time.Duration
	// MaxInFlight bounds the requests processed at once. Default 64.
	MaxInFlight int
	// Registerer receives the escai_http_* metrics; nil keeps them
	// unregistered.
	Registerer prometheus.Registerer
	// Logger receives lifecycle messages and rate-limited warnings about
	// the broker; nil discards them. Requests are never logged.
	Logger *zap.Logger
}

// Validate reports every problem of the configuration at once.
func (c IngestConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("httpapi: "+format, args...))
	}
	if c.JS == nil {
		bad("JS is required")
	}
	if c.Processor == nil {
		bad("Processor is required")
	}
	if c.Verifier == nil && !c.AllowUnauthenticated {
		bad("Verifier is required (set AllowUnauthenticated only for development)")
	}
	if strings.ContainsAny(c.RequiredScope, "\"\\ \t\r\n") {
		bad("RequiredScope %q must be one scope token (no spaces, quotes or backslashes)", c.RequiredScope)
	}
	if c.MaxBodyBytes < 0 || c.MaxBodyBytes > 256<<20 {
		bad("MaxBodyBytes %d outside 1..%d", c.MaxBodyBytes, 256<<20)
	}
	if c.MaxBatch < 0 || c.MaxBatch > 100_000 {
		bad("MaxBatch %d outside 1..100000", c.MaxBatch)
	}
	if c.Limits.MaxBytes < 0 || c.Limits.MaxDepth < 0 {
		bad("Limits must not be negative")
	}
	if c.RetryAfter < 0 || c.PublishTimeout < 0 {
		bad("RetryAfter and PublishTimeout must not be negative")
	}
	if c.MaxInFlight < 0 {
		bad("MaxInFlight %d is negative", c.MaxInFlight)
	}
	return errors.Join(errs...)
}

func (c *IngestConfig) setDefaults() {
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = DefaultMaxBatch
	}
	d := events.DefaultLimits()
	if c.Limits.MaxBytes == 0 {
		c.Limits.MaxBytes = d.MaxBytes
	}
	if c.Limits.MaxDepth == 0 {
		c.Limits.MaxDepth = d.MaxDepth
	}
	if c.RetryAfter == 0 {
		c.RetryAfter = DefaultRetryAfter
	}
	if c.PublishTimeout == 0 {
		c.PublishTimeout = DefaultPublishTimeout
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.RateLimit == nil {
		c.RateLimit = func(string, string) bool { return true }
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	if c.Registerer == nil {
		c.Registerer = prometheus.NewRegistry()
	}
}
