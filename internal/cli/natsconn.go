package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/escai-framework/escai/pkg/security/config"
)

// connectNATS connects a service to the broker, retrying while the broker
// starts (compose starts everything at once), bounded by ctx and 30s.
func connectNATS(ctx context.Context, cfg *config.Config, name string) (*nats.Conn, error) {
	opts := []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
	}
	if cfg.NATSCreds != "" {
		opts = append(opts, nats.UserCredentials(cfg.NATSCreds))
	}
	if cfg.TLSRequired {
		tc, err := clientTLS(cfg.TLSCertDir)
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.Secure(tc))
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		nc, err := nats.Connect(cfg.NATSURL, opts...)
		if err == nil {
			return nc, nil
		}
		// Authorization failures will not fix themselves: report at once.
		if errors.Is(err, nats.ErrAuthorization) || errors.Is(err, nats.ErrAuthExpired) {
			return nil, fmt.Errorf("connect to NATS: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("connect to NATS at %s: %w", redactURLs(cfg), err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func redactURLs(cfg *config.Config) string { return cfg.Redacted()["ESCAI_NATS_URL"] }

// clientTLS builds the TLS 1.3 client configuration from the certificate
// directory: ca.pem to verify the broker, client.pem and client-key.pem when
// the broker asks for a client certificate.
func clientTLS(dir string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS13}
	ca, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	switch {
	case err == nil:
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(ca) {
			return nil, fmt.Errorf("tls: %s holds no certificate", filepath.Join(dir, "ca.pem"))
		}
		tc.RootCAs = pool
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("tls: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem"))
	switch {
	case err == nil:
		tc.Certificates = []tls.Certificate{cert}
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("tls: client certificate: %w", err)
	}
	return tc, nil
}
