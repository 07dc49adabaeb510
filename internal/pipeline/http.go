package pipeline

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/escai-framework/escai/internal/httpapi"
	"github.com/escai-framework/escai/pkg/security/auth"
)

// HTTPIngest is the HTTPS POST /v1/events listener of the ingest service.
type HTTPIngest struct {
	Server *httpapi.Server
	Addr   string
	keys   *auth.KeySource
}

// Ready fails while the bearer-token key set cannot be refreshed: a key
// removed after a compromise only stops working after a successful reload.
func (h *HTTPIngest) Ready(context.Context) error {
	if err := h.keys.Err(); err != nil {
		return fmt.Errorf("jwks: %w", err)
	}
	return nil
}

// Drain stops accepting requests and waits for those in flight; every
// event they accepted was already PubAcked.
func (h *HTTPIngest) Drain(ctx context.Context) error { return h.Server.Shutdown(ctx) }

// StartHTTPIngest serves POST /v1/events on Config.IngestHTTPAddr when it
// is set (nil, nil otherwise). Tokens are verified against the configured
// JWKS; TLS 1.3 uses server.pem and server-key.pem from the TLS directory,
// and plaintext is allowed only when TLS is not required (development).
func (e *Env) StartHTTPIngest(ctx context.Context, js jetstream.JetStream) (*HTTPIngest, error) {
	c := e.Config
	if c.IngestHTTPAddr == "" {
		return nil, nil
	}
	keys, err := auth.NewKeySource(ctx, auth.KeySourceConfig{File: c.JWKSFile, URL: c.JWKSURL})
	if err != nil {
		return nil, fmt.Errorf("http ingest: %w", err)
	}
	verifier, err := auth.NewVerifier(auth.VerifierConfig{Source: keys, Issuer: c.JWTIssuer, Audience: c.JWTAudience})
	if err != nil {
		return nil, fmt.Errorf("http ingest: %w", err)
	}
	handler, err := httpapi.NewIngestHandler(httpapi.IngestConfig{
		JS: js,
		// The handler checks the rate itself (before the processor), so the
		// processor here does not take a second token.
		Processor:  e.IngestProcessor(true),
		Verifier:   verifier,
		Limits:     e.Limits(),
		MaxBatch:   c.IngestHTTPMaxBatch,
		RateLimit:  e.RateLimiter().Allow,
		Registerer: e.Registerer,
		Logger:     e.Log,
	})
	if err != nil {
		return nil, fmt.Errorf("http ingest: %w", err)
	}
	tlsConfig, err := serverTLS(c.TLSCertDir)
	if err != nil {
		return nil, err
	}
	if tlsConfig == nil && c.TLSRequired {
		return nil, fmt.Errorf("http ingest: TLS is required but %s holds no server.pem/server-key.pem", c.TLSCertDir)
	}
	if tlsConfig == nil {
		e.Log.Warn("HTTP ingest serves PLAINTEXT: no server certificate in the TLS directory and TLS is not required (development only)",
			zap.String("tls_dir", c.TLSCertDir))
	}
	srv, err := httpapi.NewServer(httpapi.ServerConfig{
		Addr:           c.IngestHTTPAddr,
		Handler:        httpapi.Routes(handler),
		TLS:            tlsConfig,
		AllowPlaintext: tlsConfig == nil,
		Logger:         e.Log,
	})
	if err != nil {
		return nil, fmt.Errorf("http ingest: %w", err)
	}
	addr, err := srv.Start()
	if err != nil {
		return nil, fmt.Errorf("http ingest: %w", err)
	}
	return &HTTPIngest{Server: srv, Addr: addr, keys: keys}, nil
}

// serverTLS loads server.pem and server-key.pem from dir; nil when absent.
func serverTLS(dir string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("http ingest: server certificate: %w", err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}}, nil
}
