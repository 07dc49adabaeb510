package redisx_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/escai-framework/escai/internal/redisx"
	"github.com/escai-framework/escai/internal/redisx/redistest"
)

func TestRedactURL(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in, want string
	}{
		"no userinfo":        {"redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"},
		"password only":      {"redis://:s3cret@127.0.0.1:6379/0", "redis://:xxxxx@127.0.0.1:6379/0"},
		"user and password":  {"rediss://escai:s3cret@redis.example:6380/2?dial_timeout=3s", "rediss://escai:xxxxx@redis.example:6380/2?dial_timeout=3s"},
		"user only":          {"redis://escai@127.0.0.1/0", "redis://escai@127.0.0.1/0"},
		"empty":              {"", ""},
		"unparsed, slash":    {"redis://:pa/ss@host:6379/0", "redis://:xxxxx@host:6379/0"},
		"unparsed, escape":   {"redis://u:p%zz@host/0", "redis://u:xxxxx@host/0"},
		"unparsed, no creds": {"redis://host:port/0", "redis://host:port/0"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := redisx.RedactURL(tc.in); got != tc.want {
				t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseURLDefaults(t *testing.T) {
	t.Parallel()
	opts, err := redisx.ParseURL("redis://127.0.0.1:6379/3?read_timeout=5s")
	if err != nil {
		t.Fatal(err)
	}
	if opts.Addr != "127.0.0.1:6379" || opts.DB != 3 {
		t.Errorf("Addr, DB = %q, %d; want 127.0.0.1:6379, 3", opts.Addr, opts.DB)
	}
	if opts.DialTimeout != 2*time.Second || opts.WriteTimeout != 2*time.Second {
		t.Errorf("DialTimeout, WriteTimeout = %v, %v; want 2s, 2s", opts.DialTimeout, opts.WriteTimeout)
	}
	if opts.ReadTimeout != 5*time.Second {
		t.Errorf("ReadTimeout = %v, want the URL's 5s", opts.ReadTimeout)
	}
	if !opts.ContextTimeoutEnabled {
		t.Error("ContextTimeoutEnabled = false, want true")
	}
	if opts.PoolSize <= 0 || opts.PipelinePoolSize <= 0 {
		t.Errorf("PoolSize, PipelinePoolSize = %d, %d; want both set", opts.PoolSize, opts.PipelinePoolSize)
	}
}

func TestParseURLErrors(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		url, want string
	}{
		"scheme": {
			"http://127.0.0.1/0",
			"redisx: invalid Redis URL http://127.0.0.1/0: redis: invalid URL scheme: http",
		},
		"unknown option keeps password out": {
			"redis://:hunter2-secret@127.0.0.1/0?bogus=1",
			"redisx: invalid Redis URL redis://:xxxxx@127.0.0.1/0?bogus=1: redis: unexpected option: bogus",
		},
		"malformed with password withholds details": {
			"redis://:hunter2/secret@127.0.0.1:6379/0",
			"redisx: invalid Redis URL redis://:xxxxx@127.0.0.1:6379/0: malformed URL (details withheld because it contains a password)",
		},
		"malformed escape in password": {
			"redis://:hunter2%zzsecret@127.0.0.1:6379/0",
			"redisx: invalid Redis URL redis://:xxxxx@127.0.0.1:6379/0: malformed URL (details withheld because it contains a password)",
		},
		"malformed without password says why": {
			"redis://127.0.0.1:port/0",
			`redisx: invalid Redis URL redis://127.0.0.1:port/0: invalid port ":port" after host`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := redisx.ParseURL(tc.url)
			if err == nil {
				t.Fatalf("ParseURL(%q) succeeded, want an error", tc.url)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("error = %q\nwant    %q", got, tc.want)
			}
			if !errors.Is(err, redisx.ErrInvalidURL) {
				t.Errorf("errors.Is(%v, ErrInvalidURL) = false", err)
			}
		})
	}
}

func TestConnect(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.WithPassword("connect-pw"))
	ctx := t.Context()
	c, err := redisx.Connect(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Errorf("GET k = %q, %v; want v, nil", got, err)
	}
}

// TestConnectErrorsHidePassword covers every way Connect can fail with a
// password in the URL: nothing listening, a wrong password, a missing one.
func TestConnectErrorsHidePassword(t *testing.T) {
	t.Parallel()
	const secret = "hunter2-secret"
	srv := redistest.Start(t, redistest.WithPassword("the-right-one"))
	closed := closedPort(t)

	tests := map[string]struct {
		url        string
		wantPrefix string
		wantIn     string
	}{
		"nothing listening": {
			url:        "redis://:" + secret + "@" + closed + "/0",
			wantPrefix: "redisx: connect to redis://:xxxxx@" + closed + "/0: ",
			wantIn:     "connection refused",
		},
		"wrong password": {
			url:        "redis://:" + secret + "@" + srv.Addr + "/0",
			wantPrefix: "redisx: connect to redis://:xxxxx@" + srv.Addr + "/0: ",
			wantIn:     "WRONGPASS",
		},
		"wrong user and password": {
			url:        "redis://escai:" + secret + "@" + srv.Addr + "/0",
			wantPrefix: "redisx: connect to redis://escai:xxxxx@" + srv.Addr + "/0: ",
			wantIn:     "WRONGPASS",
		},
		"no password": {
			url:        "redis://" + srv.Addr + "/0",
			wantPrefix: "redisx: connect to redis://" + srv.Addr + "/0: ",
			wantIn:     "NOAUTH",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			c, err := redisx.Connect(ctx, tc.url)
			if err == nil {
				c.Close()
				t.Fatal("Connect succeeded, want an error")
			}
			msg := err.Error()
			if strings.Contains(msg, secret) {
				t.Fatalf("error leaks the password: %q", msg)
			}
			if !strings.HasPrefix(msg, tc.wantPrefix) || !strings.Contains(msg, tc.wantIn) {
				t.Errorf("error = %q, want prefix %q and to contain %q", msg, tc.wantPrefix, tc.wantIn)
			}
		})
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(addr.Port))
}
