package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// clock is a settable time for KeySource and Verifier.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func writeFile(t *testing.T, path string, b []byte, mtime time.Time) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func TestFileKeySourceReloadsOnChange(t *testing.T) {
	t.Parallel()
	k := keys(t)
	path := filepath.Join(t.TempDir(), "jwks.json")
	mtime := time.Now().Add(-time.Hour)
	writeFile(t, path, jwksOf(t, Key{ID: "ed-1", Public: k.ed.Public()}), mtime)

	clk := &clock{t: testNow}
	src, err := NewKeySource(context.Background(), KeySourceConfig{File: path, Interval: 10 * time.Second, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(VerifierConfig{Source: src, Issuer: testIssuer, Audience: testAudience, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	edTok := sign(t, jwt.SigningMethodEdDSA, k.ed, baseClaims(), map[string]any{"kid": "ed-1"})
	ecTok := sign(t, jwt.SigningMethodES256, k.ec256, baseClaims(), map[string]any{"kid": "ec-1"})
	if _, err := v.Verify(edTok); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ecTok); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("ec before rotation: %v", err)
	}

	// Rotation: the new key is published next to the old one.
	writeFile(t, path, jwksOf(t, Key{ID: "ed-1", Public: k.ed.Public()}, Key{ID: "ec-1", Public: &k.ec256.PublicKey}), mtime.Add(time.Minute))
	if _, err := v.Verify(ecTok); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("reloaded before the interval: %v", err)
	}
	clk.Add(11 * time.Second)
	if _, err := v.Verify(ecTok); err != nil {
		t.Fatalf("not reloaded after the interval: %v", err)
	}

	// A broken file keeps the last good set and is reported.
	writeFile(t, path, []byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`), mtime.Add(2*time.Minute))
	clk.Add(11 * time.Second)
	if _, err := v.Verify(ecTok); err != nil {
		t.Fatalf("last good set dropped: %v", err)
	}
	if err := src.Err(); !errors.Is(err, ErrPrivateKey) {
		t.Fatalf("Err() = %v, want ErrPrivateKey", err)
	}

	// Fixed, and the old key removed.
	writeFile(t, path, jwksOf(t, Key{ID: "ec-1", Public: &k.ec256.PublicKey}), mtime.Add(3*time.Minute))
	clk.Add(11 * time.Second)
	if _, err := v.Verify(edTok); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("removed key still accepted: %v", err)
	}
	if err := src.Err(); err != nil {
		t.Fatalf("Err() after a good reload = %v", err)
	}

	// A vanished file is an error, the set stays.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := src.Refresh(context.Background()); !errors.Is(err, ErrKeySource) {
		t.Fatalf("Refresh of a missing file = %v", err)
	}
	if src.Keys().Len() != 1 {
		t.Fatal("set lost after a failed refresh")
	}
}

func TestKeySourceFirstLoadMustSucceed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	writeFile(t, bad, []byte(`{"keys":[]}`), time.Now())
	cases := map[string]struct {
		cfg  KeySourceConfig
		want error
	}{
		"missing file":   {KeySourceConfig{File: filepath.Join(dir, "none.json")}, ErrKeySource},
		"empty set":      {KeySourceConfig{File: bad}, ErrInvalidJWKS},
		"nothing":        {KeySourceConfig{}, ErrConfig},
		"both":           {KeySourceConfig{File: bad, URL: "https://x.test/jwks"}, ErrConfig},
		"plain http URL": {KeySourceConfig{URL: "http://x.test/jwks"}, ErrConfig},
		"credentials":    {KeySourceConfig{URL: "https://u:p@x.test/jwks"}, ErrConfig},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if s, err := NewKeySource(context.Background(), c.cfg); s != nil || !errors.Is(err, c.want) {
				t.Fatalf("NewKeySource = %v, %v; want %v", s, err, c.want)
			}
		})
	}
}

func TestURLKeySourceCachesAndRefetches(t *testing.T) {
	t.Parallel()
	k := keys(t)
	var (
		hits   atomic.Int32
		status atomic.Int32
		body   atomic.Pointer[[]byte]
	)
	status.Store(http.StatusOK)
	first := jwksOf(t, Key{ID: "ed-1", Public: k.ed.Public()})
	body.Store(&first)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.WriteHeader(int(status.Load()))
		_, _ = w.Write(*body.Load())
	}))
	t.Cleanup(srv.Close)

	clk := &clock{t: testNow}
	src, err := NewKeySource(context.Background(), KeySourceConfig{URL: srv.URL + "/jwks", Interval: time.Minute, Timeout: 5 * time.Second, Client: srv.Client(), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if src.Keys().Len() != 1 {
			t.Fatal("keys lost")
		}
	}
	if n := hits.Load(); n != 1 {
		t.Fatalf("%d fetches inside the TTL, want 1", n)
	}

	second := jwksOf(t, Key{ID: "ed-1", Public: k.ed.Public()}, Key{ID: "ec-1", Public: &k.ec256.PublicKey})
	body.Store(&second)
	clk.Add(61 * time.Second)
	if src.Keys().Len() != 2 || hits.Load() != 2 {
		t.Fatalf("after the TTL: %d keys, %d fetches", src.Keys().Len(), hits.Load())
	}

	status.Store(http.StatusInternalServerError)
	clk.Add(61 * time.Second)
	if src.Keys().Len() != 2 {
		t.Fatal("an outage dropped the cached set")
	}
	if err := src.Err(); !errors.Is(err, ErrKeySource) || !strings.Contains(err.Error(), "HTTP 500") {
		t.Fatalf("Err() = %v", err)
	}
}

func TestURLKeySourceTimesOut(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	_, err := NewKeySource(context.Background(), KeySourceConfig{URL: srv.URL, Timeout: 100 * time.Millisecond, Client: srv.Client()})
	if !errors.Is(err, ErrKeySource) {
		t.Fatalf("err = %v, want ErrKeySource", err)
	}
}

func TestURLKeySourceRefusesNonJSON(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>login</html>"))
	}))
	t.Cleanup(srv.Close)
	if _, err := NewKeySource(context.Background(), KeySourceConfig{URL: srv.URL, Client: srv.Client()}); !errors.Is(err, ErrKeySource) {
		t.Fatalf("err = %v", err)
	}
}
