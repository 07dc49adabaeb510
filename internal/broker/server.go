package broker

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Defaults used by Start for zero Config fields.
const (
	DefaultServerName = "escai-dev"
	DefaultHost       = "127.0.0.1"
	DefaultPort       = 4222
)

// Start waits at most listenTimeout for the listeners and then at most
// jetStreamTimeout for JetStream, whatever ctx allows. A single node is
// ready at once; a cluster elects its meta leader within a second on an idle
// machine but may need far longer on a loaded one.
const (
	listenTimeout    = 10 * time.Second
	jetStreamTimeout = 30 * time.Second
)

// Config configures the embedded server. The zero value of every field but
// StoreDir is usable.
type Config struct {
	// ServerName names the node in logs and in the JetStream cluster.
	// Default "escai-dev"; required (and unique per node) with Cluster.
	ServerName string
	// Host and Port of the client listener. Default 127.0.0.1:4222;
	// Port -1 picks a free port (tests). ClientURL reports the result.
	Host string
	Port int
	// StoreDir is the JetStream file store directory. Required.
	StoreDir string
	// MaxMemory and MaxStore cap JetStream memory and file storage in
	// bytes; 0 keeps the server defaults (75% of RAM, 75% of free disk).
	// Streams with max_bytes reserve that much of MaxStore when created.
	MaxMemory, MaxStore int64
	// Cluster, when set, makes this node one member of a JetStream cluster.
	Cluster *ClusterConfig
	// HTTPPort serves the nats-server monitoring endpoints (/varz, /jsz ...)
	// on Host. 0 = off, -1 = a free port.
	HTTPPort int
	// Logger, when set, receives the server's log lines; otherwise they are
	// discarded. Fatalf from the server is forwarded as Errorf: Start turns
	// the failure into its error rather than letting a logger exit the
	// process.
	Logger server.Logger
}

// ClusterConfig makes the node one member of a JetStream cluster. Every node
// lists the route URLs of all members (its own included, which the server
// ignores), so each knows the cluster size from the start.
type ClusterConfig struct {
	// Name of the cluster, the same on every node. Required.
	Name string
	// Host and Port of the route listener. Host defaults to Config.Host.
	// Port is required; -1 picks a free port, which then cannot appear in
	// the other nodes' Routes.
	Host string
	Port int
	// Routes are the members' route URLs: "nats-route://host:port" or
	// "host:port".
	Routes []string
}

// Validate reports every problem of cfg at once.
func (cfg Config) Validate() error {
	var errs []error
	bad := func(field, format string, v ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ErrInvalidConfig, field, fmt.Sprintf(format, v...)))
	}
	if cfg.StoreDir == "" {
		bad("StoreDir", "required")
	}
	if cfg.Port < -1 || cfg.Port > 65535 {
		bad("Port", "%d out of range", cfg.Port)
	}
	if cfg.HTTPPort < -1 || cfg.HTTPPort > 65535 {
		bad("HTTPPort", "%d out of range", cfg.HTTPPort)
	}
	if cfg.MaxMemory < 0 {
		bad("MaxMemory", "negative")
	}
	if cfg.MaxStore < 0 {
		bad("MaxStore", "negative")
	}
	if c := cfg.Cluster; c != nil {
		if cfg.ServerName == "" {
			bad("ServerName", "required with Cluster (node names must differ)")
		}
		if c.Name == "" {
			bad("Cluster.Name", "required")
		}
		if c.Port == 0 || c.Port < -1 || c.Port > 65535 {
			bad("Cluster.Port", "%d out of range", c.Port)
		}
		for i, r := range c.Routes {
			if _, err := routeURL(r); err != nil {
				bad(fmt.Sprintf("Cluster.Routes[%d]", i), "%v", err)
			}
		}
	}
	return errors.Join(errs...)
}

func routeURL(s string) (*url.URL, error) {
	if !strings.Contains(s, "://") {
		s = "nats-route://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if u.Host == "" || u.Port() == "" {
		return nil, fmt.Errorf("%q: want host:port", s)
	}
	return u, nil
}

func (cfg Config) options() *server.Options {
	o := &server.Options{
		ServerName:         cfg.ServerName,
		Host:               cfg.Host,
		Port:               cfg.Port,
		NoSigs:             true,
		JetStream:          true,
		StoreDir:           cfg.StoreDir,
		JetStreamMaxMemory: cfg.MaxMemory,
		JetStreamMaxStore:  cfg.MaxStore,
		HTTPPort:           cfg.HTTPPort,
	}
	if o.ServerName == "" {
		o.ServerName = DefaultServerName
	}
	if o.Host == "" {
		o.Host = DefaultHost
	}
	if o.Port == 0 {
		o.Port = DefaultPort
	}
	if o.HTTPPort != 0 {
		o.HTTPHost = o.Host
	}
	if c := cfg.Cluster; c != nil {
		o.Cluster = server.ClusterOpts{Name: c.Name, Host: c.Host, Port: c.Port}
		if o.Cluster.Host == "" {
			o.Cluster.Host = o.Host
		}
		for _, r := range c.Routes {
			u, _ := routeURL(r) // checked by Validate
			o.Routes = append(o.Routes, u)
		}
	}
	return o
}

// Server is a running embedded nats-server with JetStream.
type Server struct {
	ns       *server.Server
	started  chan struct{} // closed when ns.Start has returned
	shutdown sync.Once
}

// Start runs a nats-server with JetStream in this process. It returns once
// the server accepts clients (waiting at most 10 s) and JetStream is usable
// (at most 30 s more) — in a cluster, once a JetStream meta leader is known
// and this node is current. Otherwise, or once ctx ends, it shuts the server
// down and returns an ErrNotReady error with the server's reason. A cluster
// node cannot elect a meta leader alone, so start the nodes of a new cluster
// concurrently. The server ignores OS signals: the caller owns the process.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// A caller that already gave up gets no server, however fast it would
	// have been ready (waitReady may see it ready before it sees ctx).
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrNotReady, cfg.ServerName, err)
	}
	opts := cfg.options()
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	lg := &startLogger{next: cfg.Logger}
	if isNil(cfg.Logger) {
		lg.next = nil
	}
	ns.SetLoggerV2(lg, false, false, false)

	s := &Server{ns: ns, started: make(chan struct{})}
	go func() {
		defer close(s.started)
		ns.Start()
	}()
	if err := s.waitReady(ctx, lg, cfg.Cluster != nil); err != nil {
		s.Shutdown()
		return nil, fmt.Errorf("%w: %s: %w", ErrNotReady, opts.ServerName, err)
	}
	return s, nil
}

// waitReady polls until the server is usable; the server offers no
// notification for JetStream readiness.
func (s *Server) waitReady(ctx context.Context, lg *startLogger, clustered bool) error {
	if err := poll(ctx, listenTimeout, lg, "accepting clients", func() bool {
		// A 1ms budget makes the server check its listeners once.
		return s.ns.ReadyForConnections(time.Millisecond)
	}); err != nil {
		return err
	}
	return poll(ctx, jetStreamTimeout, lg, "ready for JetStream requests", func() bool {
		if !s.ns.JetStreamEnabled() {
			return false
		}
		if !clustered {
			return true
		}
		// Current means this node is the meta leader or a follower that
		// has heard from the leader and caught up.
		if !s.ns.JetStreamIsCurrent() {
			return false
		}
		jsz, err := s.ns.Jsz(&server.JSzOptions{})
		return err == nil && jsz.Meta != nil && jsz.Meta.Leader != ""
	})
}

func poll(ctx context.Context, limit time.Duration, lg *startLogger, stage string, done func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if msg := lg.fatal(); msg != "" {
			return errors.New(msg)
		}
		if done() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not %s: %w", stage, context.Cause(ctx))
		case <-tick.C:
		}
	}
}

// ClientURL is the nats:// URL of the client listener.
func (s *Server) ClientURL() string { return s.ns.ClientURL() }

// Connect opens an in-process client connection (no TCP, no TLS): the
// fastest path for services running in the server's process. opts follow
// the in-process option and may add credentials, a name or handlers.
func (s *Server) Connect(opts ...nats.Option) (*nats.Conn, error) {
	all := append([]nats.Option{nats.InProcessServer(s.ns)}, opts...)
	nc, err := nats.Connect("", all...)
	if err != nil {
		return nil, fmt.Errorf("broker: connect in process to %s: %w", s.ns.Name(), err)
	}
	return nc, nil
}

// NATS returns the underlying server, for monitoring and cluster queries.
func (s *Server) NATS() *server.Server { return s.ns }

// Shutdown stops the server and waits until it has stopped. It is safe to
// call more than once and from several goroutines.
func (s *Server) Shutdown() {
	s.shutdown.Do(func() {
		// A Start still running would go on creating listeners and store
		// files after the shutdown.
		<-s.started
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
	})
}

// startLogger forwards server logs to an optional logger and keeps the first
// fatal message for Start.
type startLogger struct {
	next server.Logger // nil discards

	mu        sync.Mutex
	fatalText string
}

var _ server.Logger = (*startLogger)(nil)

func (l *startLogger) fatal() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fatalText
}

func (l *startLogger) Fatalf(format string, v ...any) {
	l.mu.Lock()
	if l.fatalText == "" {
		l.fatalText = fmt.Sprintf(format, v...)
	}
	l.mu.Unlock()
	if l.next != nil {
		l.next.Errorf(format, v...)
	}
}

func (l *startLogger) Noticef(format string, v ...any) {
	if l.next != nil {
		l.next.Noticef(format, v...)
	}
}

func (l *startLogger) Warnf(format string, v ...any) {
	if l.next != nil {
		l.next.Warnf(format, v...)
	}
}

func (l *startLogger) Errorf(format string, v ...any) {
	if l.next != nil {
		l.next.Errorf(format, v...)
	}
}

func (l *startLogger) Debugf(format string, v ...any) {
	if l.next != nil {
		l.next.Debugf(format, v...)
	}
}

func (l *startLogger) Tracef(format string, v ...any) {
	if l.next != nil {
		l.next.Tracef(format, v...)
	}
}

// isNil reports whether an interface holds nil or a nil pointer.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Func, reflect.Chan, reflect.Interface, reflect.Slice:
		return rv.IsNil()
	}
	return false
}
