package redisx_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/escai-framework/escai/internal/redisx"
)

func startProcess(t *testing.T, dir string, opts ...redisx.ProcessOption) *redisx.Process {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	p, err := redisx.StartProcess(ctx, dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopProcess(t, p) })
	return p
}

func stopProcess(t *testing.T, p *redisx.Process) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Stop(ctx); err != nil {
		t.Error(err)
	}
}

// TestStartProcessAppendOnly checks what `escai dev` relies on: writes reach
// the append-only file in dir and survive a stop and a start on the same dir.
func TestStartProcessAppendOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := startProcess(t, dir)
	if !strings.HasPrefix(p.Addr, "127.0.0.1:") || p.URL != "redis://"+p.Addr+"/0" || p.Dir != dir {
		t.Errorf("Addr, URL, Dir = %q, %q, %q", p.Addr, p.URL, p.Dir)
	}
	ctx := t.Context()
	c, err := redisx.Connect(ctx, p.URL)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "audit:last", "42", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	stopProcess(t, p)
	select {
	case <-p.Done():
	default:
		t.Fatal("Done not closed after Stop")
	}

	aof, err := filepath.Glob(filepath.Join(dir, "appendonlydir", "appendonly.aof.*"))
	if err != nil || len(aof) == 0 {
		t.Fatalf("no append-only files in %s (err %v)", dir, err)
	}
	var logged bool
	for _, f := range aof {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		logged = logged || strings.Contains(string(b), "audit:last")
	}
	if !logged {
		t.Errorf("SET audit:last not found in %v", aof)
	}

	p2 := startProcess(t, dir)
	c2, err := redisx.Connect(ctx, p2.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if got, err := c2.Get(ctx, "audit:last").Result(); err != nil || got != "42" {
		t.Errorf("after restart GET audit:last = %q, %v; want 42, nil", got, err)
	}
}

func TestStartProcessPassword(t *testing.T) {
	t.Parallel()
	// Quotes, a backslash, a space and a '#' must survive the trip through
	// redis-server's config syntax.
	const pw = `p"w\ d#1`
	p := startProcess(t, t.TempDir(), redisx.WithPassword(pw), redisx.WithAppendOnly(false))
	ctx := t.Context()
	c, err := redisx.Connect(ctx, p.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := redisx.Connect(ctx, "redis://"+p.Addr+"/0"); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Errorf("Connect without password: err = %v, want NOAUTH", err)
	}
	if _, err := os.Stat(filepath.Join(p.Dir, "appendonlydir")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("appendonlydir exists with WithAppendOnly(false): %v", err)
	}
}

// TestStartProcessPortTaken holds the port redis-server is told to use and
// expects StartProcess to give up with a reason rather than hang.
func TestStartProcessPortTaken(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	p, err := redisx.StartProcess(ctx, t.TempDir(), redisx.WithPort(port))
	if err == nil {
		stopProcess(t, p)
		t.Fatal("StartProcess succeeded on a taken port")
	}
	if want := "redisx: redis-server on " + addr + ": port already in use"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %q, want prefix %q", err, want)
	}
}

// TestStartProcessStopIdempotent also checks that Stop after the server
// died on its own is not an error.
func TestStartProcessStopIdempotent(t *testing.T) {
	t.Parallel()
	p := startProcess(t, t.TempDir(), redisx.WithAppendOnly(false))
	stopProcess(t, p)
	stopProcess(t, p)
}

// Not parallel: it changes PATH for the whole process.
func TestStartProcessNotFound(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := redisx.StartProcess(t.Context(), t.TempDir())
	if !errors.Is(err, redisx.ErrRedisServerNotFound) {
		t.Fatalf("err = %v, want ErrRedisServerNotFound", err)
	}
}
