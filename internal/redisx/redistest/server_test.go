package redistest_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/escai-framework/escai/internal/redisx/redistest"
)

// TestMain fails the package if a test leaves a goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestStartSetGet(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	if want := "redis://" + srv.Addr + "/0"; srv.URL != want {
		t.Errorf("URL = %q, want %q", srv.URL, want)
	}
	ctx := t.Context()
	c := srv.Client(t)
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Errorf("GET k = %q, %v; want v, nil", got, err)
	}
}

// TestRestartIsEmptyOnSameAddr holds one client across the restart, as a
// service would, and expects it to reconnect to an empty server.
func TestRestartIsEmptyOnSameAddr(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	addr := srv.Addr
	ctx := t.Context()
	c := srv.Client(t)
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}

	srv.Restart(t)

	if srv.Addr != addr {
		t.Errorf("Addr after Restart = %q, want %q", srv.Addr, addr)
	}
	if err := c.Get(ctx, "k").Err(); !errors.Is(err, redis.Nil) {
		t.Errorf("GET k after Restart: err = %v, want redis.Nil", err)
	}
	if n, err := c.DBSize(ctx).Result(); err != nil || n != 0 {
		t.Errorf("DBSIZE after Restart = %d, %v; want 0, nil", n, err)
	}
}

func TestStopThenPingFails(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	c := srv.Client(t)
	if err := c.Ping(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	srv.Stop() // idempotent
	if err := c.Ping(t.Context()).Err(); err == nil {
		t.Fatal("PING after Stop succeeded")
	}
	srv.Restart(t)
	if err := c.Ping(t.Context()).Err(); err != nil {
		t.Errorf("PING after Restart: %v", err)
	}
}

func TestPassword(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.WithPassword("s3cret"))
	if want := "redis://:s3cret@" + srv.Addr + "/0"; srv.URL != want {
		t.Errorf("URL = %q, want %q", srv.URL, want)
	}
	ctx := t.Context()
	if err := srv.Client(t).Ping(ctx).Err(); err != nil {
		t.Errorf("PING with password: %v", err)
	}
	anon := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer anon.Close()
	if err := anon.Ping(ctx).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
		t.Errorf("PING without password: err = %v, want NOAUTH", err)
	}

	srv.Restart(t)
	if err := srv.Client(t).Ping(ctx).Err(); err != nil {
		t.Errorf("PING with password after Restart: %v", err)
	}
}

// fatalTB records the message of a Fatal call and ends the goroutine the
// way testing.T does.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	runtime.Goexit()
}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// Not parallel: it changes PATH for the whole process.
func TestStartWithoutRedisServer(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if redistest.Available() {
		t.Fatal("Available() = true with an empty PATH")
	}
	tb := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		redistest.Start(tb)
		tb.msg = "Start returned"
	}()
	<-done
	const want = "redis-server not found on PATH: install it with `apt-get install -y redis-server` (or run `make test`, which installs it)"
	if tb.msg != want {
		t.Errorf("Start failed with %q\nwant             %q", tb.msg, want)
	}
}

func TestAvailable(t *testing.T) {
	t.Parallel()
	if !redistest.Available() {
		t.Fatal("redis-server is not on PATH; CI installs it, so must you")
	}
}
