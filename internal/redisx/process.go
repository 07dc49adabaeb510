package redisx

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrRedisServerNotFound is returned by [StartProcess] when no redis-server
// executable is on PATH.
var ErrRedisServerNotFound = errors.New("redisx: redis-server not found on PATH")

const (
	// startTimeout bounds start-up even when the caller's context has no
	// deadline: a redis-server that has not answered PING by then is broken.
	startTimeout = 15 * time.Second
	// portAttempts is how many times a start that lost its port to another
	// process is retried before giving up.
	portAttempts = 5
	// outputTail is how much of redis-server's output is kept for errors.
	outputTail = 8 << 10
)

// ProcessOption configures [StartProcess].
type ProcessOption func(*processConfig)

type processConfig struct {
	password   string
	port       int
	appendOnly bool
}

// WithPassword makes the server require AUTH with password. The password is
// handed to redis-server on its standard input, not its command line, so it
// does not show up in ps.
func WithPassword(password string) ProcessOption {
	return func(c *processConfig) { c.password = password }
}

// WithPort makes the server listen on port instead of a free one; a start
// that finds the port taken is retried a few times, then fails.
func WithPort(port int) ProcessOption {
	return func(c *processConfig) { c.port = port }
}

// WithAppendOnly turns the append-only file on or off (on by default, so
// that `escai dev` keeps its audit index across restarts; tests turn it off).
func WithAppendOnly(on bool) ProcessOption {
	return func(c *processConfig) { c.appendOnly = on }
}

// Process is a redis-server child process listening on a loopback port.
type Process struct {
	// Addr is host:port of the server, always on 127.0.0.1.
	Addr string
	// URL is the redis:// URL of database 0, with the password when one was
	// set (use [RedactURL] before printing it).
	URL string
	// Dir is the absolute data directory.
	Dir string

	cmd    *exec.Cmd
	output *tailBuffer
	exited chan struct{} // closed once cmd.Wait has returned

	stopOnce sync.Once
	stopErr  error
}

// StartProcess runs redis-server from PATH on a free 127.0.0.1 port with its
// data in dir (created if missing), the append-only file on and RDB snapshots
// off, and returns once the server answers PING. ctx bounds only the start-up
// (and never more than 15s); the server then runs until [Process.Stop] or
// until this process dies (on Linux it is sent SIGTERM when its parent goes).
// A server that fails to start is reported with the tail of its output.
func StartProcess(ctx context.Context, dir string, opts ...ProcessOption) (*Process, error) {
	cfg := processConfig{appendOnly: true}
	for _, o := range opts {
		o(&cfg)
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRedisServerNotFound, err)
	}
	// redis-server chdirs into --dir; an absolute path keeps Dir meaningful.
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("redisx: data dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("redisx: data dir: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	var lastErr error
	for attempt := range portAttempts {
		port := cfg.port
		if port == 0 {
			if port, err = freePort(); err != nil {
				return nil, err
			}
		}
		p, err := start(ctx, bin, dir, port, cfg)
		if err == nil {
			return p, nil
		}
		lastErr = err
		if !errors.Is(err, errPortTaken) {
			return nil, err
		}
		// A fixed port may be held by a process that is exiting; give it a
		// moment. A random port is simply replaced on the next attempt.
		if cfg.port != 0 {
			select {
			case <-ctx.Done():
				return nil, lastErr
			case <-time.After(time.Duration(attempt+1) * 50 * time.Millisecond):
			}
		}
	}
	return nil, lastErr
}

// errPortTaken marks a start that failed only because the port was in use.
var errPortTaken = errors.New("port already in use")

func start(ctx context.Context, bin, dir string, port int, cfg processConfig) (*Process, error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	appendOnly := "no"
	if cfg.appendOnly {
		appendOnly = "yes"
	}
	args := []string{
		"--bind", "127.0.0.1",
		"--port", strconv.Itoa(port),
		"--dir", dir,
		"--save", "",
		"--appendonly", appendOnly,
		"--protected-mode", "yes",
		"--daemonize", "no",
	}
	cmd := exec.Command(bin, args...)
	if cfg.password != "" {
		// "-" reads a config file from stdin, which keeps the secret out of
		// the process list.
		cmd.Args = append([]string{bin, "-"}, args...)
		cmd.Stdin = strings.NewReader("requirepass " + quoteConfig(cfg.password) + "\n")
	}
	out := &tailBuffer{max: outputTail}
	cmd.Stdout = out
	cmd.Stderr = out
	setParentDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("redisx: start redis-server: %w", err)
	}
	p := &Process{
		Addr:   addr,
		URL:    redisURL(addr, cfg.password),
		Dir:    dir,
		cmd:    cmd,
		output: out,
		exited: make(chan struct{}),
	}
	go func() {
		_ = cmd.Wait() // ProcessState, read once exited is closed, tells how it ended
		close(p.exited)
	}()

	if err := p.waitReady(ctx, cfg.password); err != nil {
		stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.Stop(stopCtx) // the start-up error is the one worth reporting
		return nil, err
	}
	return p, nil
}

// waitReady polls the server until it answers, it exits, or ctx ends. The
// backoff starts small because a healthy server is up within milliseconds.
func (p *Process) waitReady(ctx context.Context, password string) error {
	// A probe stuck on a port that someone else holds must not outlive our
	// server: cancel it as soon as the process exits.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-p.exited:
			cancel()
		case <-ctx.Done():
		}
	}()

	delay := 2 * time.Millisecond
	for {
		err := probe(ctx, p.Addr, password, p.cmd.Process.Pid)
		if err == nil {
			return nil
		}
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done(): // also when the process exited, see above
			timer.Stop()
			select {
			case <-p.exited:
				return p.exitError()
			default:
			}
			return fmt.Errorf("redisx: redis-server on %s did not answer PING (last error: %v): %w; its output ends:\n%s",
				p.Addr, err, ctx.Err(), p.output.String())
		case <-timer.C:
		}
		delay = min(2*delay, 100*time.Millisecond)
	}
}

// exitError explains why a server exited during start-up.
func (p *Process) exitError() error {
	tail := p.output.String()
	if strings.Contains(tail, "Address already in use") {
		return fmt.Errorf("redisx: redis-server on %s: %w; its output ends:\n%s", p.Addr, errPortTaken, tail)
	}
	return fmt.Errorf("redisx: redis-server on %s exited during start-up (%s); its output ends:\n%s",
		p.Addr, p.cmd.ProcessState, tail)
}

// Stop shuts the server down: SIGTERM, which makes redis-server flush the
// append-only file and exit, then SIGKILL if it is still running when ctx
// ends. It waits for the process to be gone and is safe to call more than
// once; later calls return the first call's result.
func (p *Process) Stop(ctx context.Context) error {
	p.stopOnce.Do(func() {
		select {
		case <-p.exited:
			return // died on its own; nothing left to stop
		default:
		}
		if err := p.cmd.Process.Signal(sigTerm); err != nil && !errors.Is(err, os.ErrProcessDone) {
			p.stopErr = fmt.Errorf("redisx: stop redis-server on %s: %w", p.Addr, err)
		}
		select {
		case <-p.exited:
		case <-ctx.Done():
			_ = p.cmd.Process.Kill()
			<-p.exited
			p.stopErr = fmt.Errorf("redisx: redis-server on %s ignored SIGTERM and was killed: %w", p.Addr, ctx.Err())
		}
	})
	return p.stopErr
}

// Done is closed when the server process has exited, whether through
// [Process.Stop] or on its own.
func (p *Process) Done() <-chan struct{} { return p.exited }

// freePort asks the kernel for a free loopback port. Another process can
// take it before redis-server binds it; StartProcess retries when that
// happens.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("redisx: find a free port: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		return 0, fmt.Errorf("redisx: find a free port: %w", err)
	}
	return port, nil
}

// probe speaks just enough RESP to ask whether the server on addr is ready
// and is the process pid, not another redis-server that won the race for a
// port we picked. It builds no go-redis client (and its pools) per poll.
func probe(ctx context.Context, addr, password string, pid int) error {
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	// Reads and writes do not watch ctx; an expired deadline unblocks them.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()

	var req strings.Builder
	if password != "" {
		writeCommand(&req, "AUTH", password)
	}
	writeCommand(&req, "PING")
	writeCommand(&req, "INFO", "server")
	if _, err := conn.Write([]byte(req.String())); err != nil {
		return err
	}
	r := bufio.NewReader(conn)
	if password != "" {
		if err := expectLine(r, "+OK"); err != nil {
			return err
		}
	}
	// A server still loading its append-only file answers -LOADING.
	if err := expectLine(r, "+PONG"); err != nil {
		return err
	}
	info, err := readBulk(r)
	if err != nil {
		return err
	}
	if !strings.Contains(info, "\r\nprocess_id:"+strconv.Itoa(pid)+"\r\n") {
		return fmt.Errorf("another redis-server answers on %s", addr)
	}
	return nil
}

func writeCommand(b *strings.Builder, args ...string) {
	fmt.Fprintf(b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(b, "$%d\r\n%s\r\n", len(a), a)
	}
}

func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(line, "\r\n"), nil
}

func expectLine(r *bufio.Reader, want string) error {
	got, err := readLine(r)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("redis replied %q", got)
	}
	return nil
}

// readBulk reads one RESP bulk string.
func readBulk(r *bufio.Reader) (string, error) {
	head, err := readLine(r)
	if err != nil {
		return "", err
	}
	n, err := strconv.Atoi(strings.TrimPrefix(head, "$"))
	if !strings.HasPrefix(head, "$") || err != nil || n < 0 || n > 1<<20 {
		return "", fmt.Errorf("redis replied %q", head)
	}
	buf := make([]byte, n+2) // the payload and its CRLF
	if _, err := io.ReadFull(r, buf); err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

func redisURL(addr, password string) string {
	u := url.URL{Scheme: "redis", Host: addr, Path: "/0"}
	if password != "" {
		u.User = url.UserPassword("", password)
	}
	return u.String()
}

// quoteConfig quotes s for a redis.conf line: double quotes with the escapes
// redis-server's argument splitter understands, so any byte survives.
func quoteConfig(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, "\\x%02x", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// tailBuffer keeps the last max bytes written to it; redis-server's log is
// only read when something went wrong, and only its end matters then.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
