// Package httpserve owns the life of an http.Server that serves in a
// goroutine: listen, serve, and a graceful shutdown that waits for the
// requests in flight and for the serving goroutine. The admin endpoints
// (internal/telemetry) and HTTPS ingest (internal/httpapi) share it.
package httpserve

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
)

// ErrStarted is returned by Start on a Server already started.
var ErrStarted = errors.New("httpserve: already started")

// Server runs one http.Server. The zero value is ready to use.
type Server struct {
	mu     sync.Mutex
	srv    *http.Server
	served chan struct{} // closed when serve has returned
}

// Start listens on addr (the listen error is returned as is) and runs serve(srv, listener) in a goroutine;
// stopped is called with what serve returned unless that is
// http.ErrServerClosed (a Shutdown). It returns the address it listens on,
// which tells the caller the port when addr's was 0. A Server starts at
// most once.
func (s *Server) Start(addr string, srv *http.Server, serve func(*http.Server, net.Listener) error, stopped func(error)) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return "", ErrStarted
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	served := make(chan struct{})
	s.srv, s.served = srv, served
	go func() {
		defer close(served)
		if err := serve(srv, ln); !errors.Is(err, http.ErrServerClosed) {
			stopped(err)
		}
	}()
	return ln.Addr().String(), nil
}

// Started reports whether Start succeeded.
func (s *Server) Started() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv != nil
}

// Shutdown stops accepting connections, waits for requests in flight until
// ctx ends, then closes whatever is left. It returns once the serving
// goroutine has exited; a Server never started does nothing.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	srv, served := s.srv, s.served
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Shutdown(ctx)
	if err != nil {
		// Requests outlived ctx: cut them off rather than leak them.
		err = errors.Join(err, srv.Close())
	}
	<-served
	return err
}

// Serve is the plain-HTTP serve function for Start.
func Serve(srv *http.Server, ln net.Listener) error { return srv.Serve(ln) }

// ServeTLS serves with the certificates of srv.TLSConfig (and HTTP/2).
func ServeTLS(srv *http.Server, ln net.Listener) error { return srv.ServeTLS(ln, "", "") }
