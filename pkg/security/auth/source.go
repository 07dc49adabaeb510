package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of a KeySource.
const (
	// DefaultFileInterval is how often a JWKS file's modification time and
	// size are checked.
	DefaultFileInterval = 10 * time.Second
	// DefaultURLInterval is how long a fetched JWKS is used before it is
	// fetched again. An issuer rotating keys publishes the new key at least
	// this long before signing with it.
	DefaultURLInterval = 5 * time.Minute
	// DefaultFetchTimeout bounds one JWKS fetch.
	DefaultFetchTimeout = 5 * time.Second
)

// KeySourceConfig says where a KeySource reads its JWKS.
type KeySourceConfig struct {
	// File is the path of a JWKS file (a mounted secret or config map).
	// Exactly one of File and URL is set.
	File string
	// URL is the https:// address of the issuer's JWKS.
	URL string
	// Interval is how often the file is checked for changes, or how long a
	// fetched document is used (its cache TTL). Zero means
	// DefaultFileInterval or DefaultURLInterval.
	Interval time.Duration
	// Timeout bounds one fetch. Zero means DefaultFetchTimeout.
	Timeout time.Duration
	// Client fetches URL; nil means a client that refuses redirects away
	// from https. Tests pass httptest.Server.Client().
	Client *http.Client
	// Now returns the current time; nil means time.Now. For tests.
	Now func() time.Time
}

// Validate reports every problem of the configuration at once; each wraps
// ErrConfig.
func (c KeySourceConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...))
	}
	switch {
	case c.File == "" && c.URL == "":
		bad("a JWKS File or URL is required")
	case c.File != "" && c.URL != "":
		bad("set a JWKS File or URL, not both")
	case c.URL != "":
		u, err := url.Parse(c.URL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			bad("JWKS URL must be an absolute https:// URL")
		} else if u.User != nil {
			bad("JWKS URL must not carry credentials")
		}
	}
	if c.Interval < 0 {
		bad("Interval %v is negative", c.Interval)
	}
	if c.Timeout < 0 {
		bad("Timeout %v is negative", c.Timeout)
	}
	return errors.Join(errs...)
}

// KeySource keeps the current KeySet of a JWKS file or URL. Keys never
// blocks on I/O for more than one refresh: when the interval has passed,
// the one caller that notices checks the file (a stat, and a read only when
// the modification time or size changed) or fetches the URL, while every
// other caller goes on with the set it has.
//
// A refresh that fails keeps the last good set, so a broken deployment or
// an issuer outage does not reject every token; Err reports the failure
// (wire it into readiness) until a refresh succeeds. Removing a
// compromised key therefore takes a successful refresh: check Err.
type KeySource struct {
	cfg      KeySourceConfig
	client   *http.Client
	now      func() time.Time
	set      atomic.Pointer[KeySet]
	next     atomic.Int64 // unix nanos of the next due refresh
	busy     atomic.Bool  // a refresh is running
	mu       sync.Mutex   // guards lastErr, modTime, size; serialises refreshes
	lastErr  error
	modTime  time.Time
	size     int64
	interval time.Duration
}

// NewKeySource validates cfg and loads the JWKS once; it fails when that
// first load fails, so a service never starts without keys.
func NewKeySource(ctx context.Context, cfg KeySourceConfig) (*KeySource, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &KeySource{cfg: cfg, client: cfg.Client, now: cfg.Now, interval: cfg.Interval}
	if s.now == nil {
		s.now = time.Now
	}
	if s.interval == 0 {
		s.interval = DefaultFileInterval
		if cfg.URL != "" {
			s.interval = DefaultURLInterval
		}
	}
	if s.cfg.Timeout == 0 {
		s.cfg.Timeout = DefaultFetchTimeout
	}
	if s.client == nil {
		s.client = &http.Client{
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if req.URL.Scheme != "https" || len(via) >= 3 {
					return errors.New("redirect refused")
				}
				return nil
			},
		}
	}
	if err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Keys returns the current set, refreshing it first when the interval has
// passed and no other caller is refreshing it already.
func (s *KeySource) Keys() *KeySet {
	if s.now().UnixNano() >= s.next.Load() && s.busy.CompareAndSwap(false, true) {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout)
		_ = s.refresh(ctx, false)
		cancel()
		s.busy.Store(false)
	}
	return s.set.Load()
}

// Refresh reloads the JWKS now, whether or not it changed. On failure the
// previous set stays in use and the error is also what Err returns.
func (s *KeySource) Refresh(ctx context.Context) error {
	return s.refresh(ctx, true)
}

// Err returns the failure of the last refresh, nil when it succeeded.
func (s *KeySource) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr
}

func (s *KeySource) refresh(ctx context.Context, force bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next.Store(s.now().Add(s.interval).UnixNano())
	var (
		set *KeySet
		err error
	)
	if s.cfg.File != "" {
		set, err = s.loadFile(force)
	} else {
		set, err = s.fetch(ctx)
	}
	s.lastErr = err
	if err == nil && set != nil {
		s.set.Store(set)
	}
	return err
}

// loadFile returns nil, nil when the file is unchanged.
func (s *KeySource) loadFile(force bool) (*KeySet, error) {
	fi, err := os.Stat(s.cfg.File)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeySource, err)
	}
	if !force && fi.ModTime().Equal(s.modTime) && fi.Size() == s.size {
		return nil, nil
	}
	if fi.Size() > MaxJWKSBytes {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrJWKSTooLarge, fi.Size(), MaxJWKSBytes)
	}
	f, err := os.Open(s.cfg.File)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeySource, err)
	}
	defer f.Close()
	doc, err := io.ReadAll(io.LimitReader(f, MaxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeySource, err)
	}
	set, err := ParseJWKS(doc)
	if err != nil {
		return nil, fmt.Errorf("JWKS file %s: %w", s.cfg.File, err)
	}
	s.modTime, s.size = fi.ModTime(), fi.Size()
	return set, nil
}

func (s *KeySource) fetch(ctx context.Context) (*KeySet, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cfg.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeySource, err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		// url.Error quotes the URL, which Validate proved has no credentials.
		return nil, fmt.Errorf("%w: %v", ErrKeySource, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, fmt.Errorf("%w: GET %s: HTTP %d", ErrKeySource, s.cfg.URL, resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" && !jsonMediaType(ct) {
		return nil, fmt.Errorf("%w: GET %s: content type %s is not JSON", ErrKeySource, s.cfg.URL, quoteSafe(ct))
	}
	doc, err := io.ReadAll(io.LimitReader(resp.Body, MaxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: GET %s: %v", ErrKeySource, s.cfg.URL, err)
	}
	set, err := ParseJWKS(doc)
	if err != nil {
		return nil, fmt.Errorf("JWKS from %s: %w", s.cfg.URL, err)
	}
	return set, nil
}

// jsonMediaType accepts application/json, application/jwk-set+json and
// other +json types, with parameters.
func jsonMediaType(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	return mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}
