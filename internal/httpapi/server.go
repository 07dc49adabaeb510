package httpapi

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/escai-framework/escai/internal/httpserve"
	"go.uber.org/zap"
)

// Defaults of ServerConfig. The write timeout leaves room for the longest
// publish wait (DefaultPublishTimeout) twice over: waiting for a slot and
// for the PubAcks.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = time.Minute
	DefaultWriteTimeout      = 2 * time.Minute
	DefaultIdleTimeout       = 2 * time.Minute
	// DefaultMaxHeaderBytes holds a bearer token (auth.MaxTokenBytes) and
	// the usual headers.
	DefaultMaxHeaderBytes = 32 << 10
)

// ServerConfig configures NewServer.
type ServerConfig struct {
	// Addr is host:port to listen on; port 0 picks a free port.
	Addr string
	// Handler serves every request; Routes(ingest) mounts the ingest
	// handler at IngestPath. Required.
	Handler http.Handler
	// TLS is the server's TLS configuration, with Certificates or
	// GetCertificate. Its MinVersion is raised to TLS 1.3. Required unless
	// AllowPlaintext is set.
	TLS *tls.Config
	// AllowPlaintext permits a nil TLS: plain HTTP, for development only.
	AllowPlaintext bool
	// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout bound
	// slow clients; zero means the Default* value.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// Logger receives lifecycle messages; nil discards them.
	Logger *zap.Logger
}

// Validate reports every problem of the configuration at once.
func (c ServerConfig) Validate() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, errors.New("httpapi: server Addr is required"))
	}
	if c.Handler == nil {
		errs = append(errs, errors.New("httpapi: server Handler is required"))
	}
	switch {
	case c.TLS == nil && !c.AllowPlaintext:
		errs = append(errs, errors.New("httpapi: TLS is required (AllowPlaintext is for development only)"))
	case c.TLS != nil && len(c.TLS.Certificates) == 0 && c.TLS.GetCertificate == nil && c.TLS.GetConfigForClient == nil:
		errs = append(errs, errors.New("httpapi: TLS has no certificate (set Certificates or GetCertificate)"))
	}
	return errors.Join(errs...)
}

// Server is the HTTPS listener of the ingest service. Start it with Start
// and stop it with Shutdown.
type Server struct {
	cfg ServerConfig
	log *zap.Logger

	run httpserve.Server
}

// NewServer validates cfg; nothing listens until Start.
func NewServer(cfg ServerConfig) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.TLS != nil {
		cfg.TLS = cfg.TLS.Clone()
		if cfg.TLS.MinVersion < tls.VersionTLS13 {
			cfg.TLS.MinVersion = tls.VersionTLS13
		}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	def(&cfg.ReadTimeout, DefaultReadTimeout)
	def(&cfg.WriteTimeout, DefaultWriteTimeout)
	def(&cfg.IdleTimeout, DefaultIdleTimeout)
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	return &Server{cfg: cfg, log: log.Named("http")}, nil
}

// Start listens and serves in a goroutine until Shutdown. It returns the
// address it listens on (the port, when Addr's was 0). A Server starts at
// most once.
func (s *Server) Start() (string, error) {
	srv := &http.Server{
		Handler:           s.cfg.Handler,
		TLSConfig:         s.cfg.TLS,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    DefaultMaxHeaderBytes,
		// TLS handshake failures and the like; never request contents.
		ErrorLog: zap.NewStdLog(s.log),
	}
	tlsOn := s.cfg.TLS != nil
	serve := httpserve.Serve
	if tlsOn {
		serve = httpserve.ServeTLS
	}
	addr, err := s.run.Start(s.cfg.Addr, srv, serve, func(err error) {
		s.log.Error("HTTP server stopped", zap.Error(err))
	})
	if errors.Is(err, httpserve.ErrStarted) {
		return "", errors.New("httpapi: server already started")
	}
	if err != nil {
		return "", fmt.Errorf("httpapi: listen: %w", err)
	}
	if tlsOn {
		s.log.Info("HTTPS listening", zap.String("addr", addr), zap.String("min_tls", "1.3"))
	} else {
		s.log.Warn("plain HTTP listening: requests and bearer tokens travel unencrypted (development only)", zap.String("addr", addr))
	}
	return addr, nil
}

// Shutdown stops accepting connections and waits for requests in flight
// (each finishes its PubAck wait) until ctx ends, then closes what is left.
// It returns once the serving goroutine has exited; a Server never started
// does nothing.
func (s *Server) Shutdown(ctx context.Context) error {
	if !s.run.Started() {
		return nil
	}
	if err := s.run.Shutdown(ctx); err != nil {
		return fmt.Errorf("httpapi: shutdown: %w", err)
	}
	s.log.Info("HTTP server stopped")
	return nil
}

// Routes mounts ingest at IngestPath; every other path gets a JSON 404.
func Routes(ingest http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(IngestPath, ingest)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint; events go to POST "+IngestPath)
	})
	return mux
}
