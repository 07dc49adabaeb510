package pipeline_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/escai-framework/escai/internal/broker/brokertest"
)

// serviceEnv makes this test binary run a service (see TestMain).
const serviceEnv = "ESCAI_TEST_SERVICE"

// serviceProc is a service running as its own OS process, configured only
// through ESCAI_* variables, as a deployment runs it.
type serviceProc struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	admin  string // host:port of /metrics and /readyz
	mu     sync.Mutex
	output bytes.Buffer
	exited chan error
}

// startService starts name with env (on top of a clean ESCAI_* set) and
// waits until its /readyz answers 200. The process is stopped with
// SIGTERM in t.Cleanup if the test has not stopped it.
func startService(t *testing.T, name string, env map[string]string) *serviceProc {
	t.Helper()
	p := startProcess(t, name, env)
	p.waitReady()
	return p
}

// startProcess starts name like startService without waiting for it to
// be ready (an audit-writer standby serves nothing until it holds the
// lease).
func startProcess(t *testing.T, name string, env map[string]string) *serviceProc {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	admin := l.Addr().String()
	l.Close()
	cmd := exec.Command(os.Args[0])
	dieWithParent(cmd)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ESCAI_") && !strings.HasPrefix(kv, "NATS_") && !strings.HasPrefix(kv, "REDIS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, serviceEnv+"="+name, "ESCAI_HTTP_ADDR="+admin, "ESCAI_LOG_LEVEL=warn")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &serviceProc{t: t, name: name, cmd: cmd, admin: admin, exited: make(chan error, 1)}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			p.mu.Lock()
			p.output.Write(sc.Bytes())
			p.output.WriteByte('\n')
			p.mu.Unlock()
		}
	}()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- cmd.Wait(); pw.Close() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = p.stop()
		}
	})
	return p
}

// waitReady waits until the process's /readyz answers 200.
func (p *serviceProc) waitReady() {
	t, name, admin := p.t, p.name, p.admin
	t.Helper()
	c := &http.Client{Timeout: time.Second}
	defer c.CloseIdleConnections()
	brokertest.WaitFor(t, 30*time.Second, func() error {
		select {
		case err := <-p.exited:
			p.exited <- err
			t.Fatalf("%s exited at start: %v\n%s", name, err, p.log())
		default:
		}
		resp, err := c.Get("http://" + admin + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s /readyz: %d", name, resp.StatusCode)
		}
		return nil
	})
}

func (p *serviceProc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.output.String()
}

// stop sends SIGTERM and returns how the process ended (nil: exit 0).
func (p *serviceProc) stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		return err
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("%s did not drain within 30s of SIGTERM", p.name)
	}
}

// counter reads the sum of a counter's series whose labels include all of
// want from the process's /metrics.
func (p *serviceProc) counter(ctx context.Context, name string, want ...string) (float64, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.admin+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
next:
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") {
			continue
		}
		for _, w := range want {
			if !strings.Contains(line, w) {
				continue next
			}
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			return 0, fmt.Errorf("metric line %q: %w", line, err)
		}
		sum += v
	}
	return sum, sc.Err()
}
