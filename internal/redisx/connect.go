package redisx

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrInvalidURL is returned (wrapped) by [ParseURL] and [Connect] when the
// Redis URL cannot be parsed or carries options go-redis does not know.
var ErrInvalidURL = errors.New("redisx: invalid Redis URL")

const (
	// Timeouts short enough that a dead Redis surfaces as an error (and a
	// NAK with delay upstream) well inside a JetStream AckWait, long enough
	// for a loaded server answering a large pipeline.
	defaultDialTimeout  = 2 * time.Second
	defaultReadTimeout  = 2 * time.Second
	defaultWriteTimeout = 2 * time.Second

	// connectTimeout bounds the PING in Connect even when the caller's
	// context has no deadline, so start-up fails fast instead of hanging.
	connectTimeout = 10 * time.Second

	redactedPassword = "xxxxx"
)

// ParseURL turns a redis:// or rediss:// URL into go-redis options with this
// package's defaults applied wherever the URL's query does not set a value:
// dial, read and write timeouts of 2s, context deadlines honoured on every
// command, and connection pools sized for concurrent pipelines. The error, if
// any, wraps [ErrInvalidURL] and never contains the password.
func ParseURL(rawURL string) (*redis.Options, error) {
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, parseError(rawURL, err)
	}
	// go-redis reports "not set in the URL" as zero and "disabled" as -1, so
	// zero is the only value we may replace.
	if opts.DialTimeout == 0 {
		opts.DialTimeout = defaultDialTimeout
	}
	if opts.ReadTimeout == 0 {
		opts.ReadTimeout = defaultReadTimeout
	}
	if opts.WriteTimeout == 0 {
		opts.WriteTimeout = defaultWriteTimeout
	}
	// Without this go-redis ignores the caller's deadline and only applies
	// its own socket timeouts; every blocking call here takes a ctx.
	opts.ContextTimeoutEnabled = true
	if opts.PoolSize == 0 {
		opts.PoolSize = 10 * runtime.GOMAXPROCS(0)
	}
	// Audit partitions each flush their index writes as one pipeline, all at
	// once; a pipeline that finds the dedicated pool full falls back to the
	// main pool, so this is a floor for throughput, not a cap.
	if opts.PipelinePoolSize == 0 {
		opts.PipelinePoolSize = max(redis.DefaultPipelinePoolSize, 2*runtime.GOMAXPROCS(0))
	}
	return opts, nil
}

// Connect opens a client for rawURL and PINGs the server before returning it,
// so a wrong address or password fails at start-up rather than on the first
// event. ctx bounds the PING (and never more than 10s). On error no client is
// left open and the error text contains the URL with its password redacted.
func Connect(ctx context.Context, rawURL string) (*redis.Client, error) {
	opts, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	client := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close() // the PING error is the one worth reporting
		return nil, fmt.Errorf("redisx: connect to %s: %w", RedactURL(rawURL), err)
	}
	return client, nil
}

// RedactURL returns rawURL with its password replaced by "xxxxx", like
// [url.URL.Redacted]. A URL that does not parse is redacted on a best-effort
// reading of its text, erring towards hiding too much: the result is meant
// for error messages and logs, never for connecting.
func RedactURL(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil {
		return u.Redacted()
	}
	return redactUnparsed(rawURL)
}

// redactUnparsed hides everything between the first ':' of the userinfo and
// the last '@' of the URL. It looks for '@' past the authority on purpose: a
// password holding an unescaped '/' or '?' is the usual reason a URL does not
// parse, and it must not escape redaction for that reason.
func redactUnparsed(raw string) string {
	start := 0
	if i := strings.Index(raw, "://"); i >= 0 {
		start = i + len("://")
	}
	rest := raw[start:]
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return raw
	}
	colon := strings.Index(rest[:at], ":")
	if colon < 0 {
		return raw
	}
	return raw[:start] + rest[:colon+1] + redactedPassword + rest[at:]
}

// parseError rewrites a go-redis ParseURL error so it names the redacted URL.
// net/url's *url.Error quotes the whole input, password included, so it is
// never wrapped; its cause is kept only when the URL holds no password,
// because causes such as an invalid escape quote a fragment of the input.
func parseError(raw string, err error) error {
	redacted := RedactURL(raw)
	var uerr *url.Error
	if errors.As(err, &uerr) {
		if redacted != raw {
			return fmt.Errorf("%w %s: malformed URL (details withheld because it contains a password)", ErrInvalidURL, redacted)
		}
		return fmt.Errorf("%w %s: %w", ErrInvalidURL, redacted, uerr.Err)
	}
	// The remaining go-redis errors quote the scheme, path or query option
	// names, never the userinfo.
	return fmt.Errorf("%w %s: %w", ErrInvalidURL, redacted, err)
}
