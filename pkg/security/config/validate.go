package config

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// VarError is one configuration problem: which variable, what is wrong and
// how to fix it. Load and Validate return them joined with errors.Join; use
// errors.As to reach each. Problem and Fix never contain a secret's value.
type VarError struct {
	// Var is the environment variable at fault, e.g. ESCAI_SECRET_KEY, also
	// when the value came from a flag or a *_FILE file.
	Var string
	// Problem says what is wrong.
	Problem string
	// Fix says what to do about it; may be empty.
	Fix string
}

// Error returns "VAR: problem; fix: fix".
func (e *VarError) Error() string {
	if e.Fix == "" {
		return e.Var + ": " + e.Problem
	}
	return e.Var + ": " + e.Problem + "; fix: " + e.Fix
}

// fixSecretKey is how to obtain a good key; it is part of several errors.
const fixSecretKey = "set it to 32 random bytes, e.g. ESCAI_SECRET_KEY=$(openssl rand -hex 32), or ESCAI_SECRET_KEY_FILE=/run/secrets/escai_key"

// Validate checks the whole configuration, whatever set it (Load, flags or
// code), and returns every problem at once: errors.Join of *VarError, in
// documentation order, or nil. Services call it before opening any
// connection and exit on error.
//
// Beyond types and ranges it enforces what the profile promises: production
// and high_security need a secret key, TLS, PII masking, a Redis password or
// rediss://, and secret files readable by their owner alone; high_security
// also needs MFA and audit encryption.
func (c *Config) Validate() error {
	if c == nil {
		return errors.New("config: Validate called on a nil *Config")
	}
	var errs []*VarError
	add := func(name, problem, fix string) {
		errs = append(errs, &VarError{Var: name, Problem: problem, Fix: fix})
	}
	p := c.Profile
	strict := p.strict()
	high := p == ProfileHighSecurity

	if !p.known() {
		errs = append(errs, profileProblem(p))
	}

	switch n := len(c.SecretKey); {
	case n == 0:
		if strict {
			add(envSecretKey, "missing in profile "+string(p), fixSecretKey)
		}
	case n < MinSecretKeyBytes:
		add(envSecretKey, fmt.Sprintf("too short: %d bytes after decoding, need at least %d", n, MinSecretKeyBytes), fixSecretKey)
	default:
		reason := weakKeyReason(c.SecretKey)
		if reason == "" && c.keyWeak != "" && sameSlice(c.SecretKey, c.keyLoaded) {
			reason = c.keyWeak
		}
		if reason != "" {
			add(envSecretKey, "too weak: "+reason, "use a random key instead: "+fixSecretKey)
		}
	}
	if strict {
		for _, f := range c.secretFiles {
			if f.perm&0o077 != 0 {
				add(f.envVar,
					fmt.Sprintf("%s is accessible to group or others (mode %#o), not allowed in profile %s", f.path, uint32(f.perm), p),
					fmt.Sprintf("chmod 600 %s (Compose and Kubernetes secrets: mode 0400)", f.path))
			}
		}
	}

	if strict && !c.TLSRequired {
		add("ESCAI_TLS_REQUIRED", "false in profile "+string(p), "set ESCAI_TLS_REQUIRED=true, or use the development or testing profile")
	}
	if c.TLSRequired && strings.TrimSpace(c.TLSCertDir) == "" {
		add(envTLSCertDir, "empty while TLS is required", "set it to the directory holding the certificates, e.g. /etc/escai/tls")
	}

	accessOK := c.AccessTokenTTL > 0
	if !accessOK {
		add("ESCAI_ACCESS_TOKEN_TTL", c.AccessTokenTTL.String()+" is not positive", "use a positive duration such as 15m")
	}
	switch {
	case c.RefreshTokenTTL <= 0:
		add("ESCAI_REFRESH_TOKEN_TTL", c.RefreshTokenTTL.String()+" is not positive", "use a positive duration such as 24h")
	case accessOK && c.RefreshTokenTTL <= c.AccessTokenTTL:
		add("ESCAI_REFRESH_TOKEN_TTL",
			fmt.Sprintf("%s is not longer than ESCAI_ACCESS_TOKEN_TTL (%s)", c.RefreshTokenTTL, c.AccessTokenTTL),
			"make the refresh token outlive the access token, e.g. 24h")
	}
	if high && !c.RequireMFA {
		add("ESCAI_REQUIRE_MFA", "false in profile high_security", "set ESCAI_REQUIRE_MFA=true, or use the production profile")
	}

	switch c.PIISensitivity {
	case SensitivityLow, SensitivityMedium, SensitivityHigh:
	default:
		add("ESCAI_PII_SENSITIVITY", "unknown sensitivity "+quote(string(c.PIISensitivity)),
			"set one of "+joinNames([]Sensitivity{SensitivityLow, SensitivityMedium, SensitivityHigh}))
	}
	if strict && !c.PIIAutoMask {
		add("ESCAI_PII_AUTO_MASK", "false in profile "+string(p)+"; detect-and-report only is allowed in development and testing alone",
			"set ESCAI_PII_AUTO_MASK=true")
	}
	if high && !c.AuditEncrypt {
		add("ESCAI_AUDIT_ENCRYPT", "false in profile high_security", "set ESCAI_AUDIT_ENCRYPT=true, or use the production profile")
	}
	switch c.ValidationLevel {
	case LevelPermissive, LevelStandard, LevelStrict:
	default:
		add("ESCAI_VALIDATION_LEVEL", "unknown level "+quote(string(c.ValidationLevel)),
			"set one of "+joinNames([]ValidationLevel{LevelPermissive, LevelStandard, LevelStrict}))
	}

	for _, problem := range natsURLProblems(c.NATSURL) {
		add(envNATSURL, problem, "use nats://host:4222, or a comma-separated list such as tls://nats-1:4222,tls://nats-2:4222")
	}
	for _, problem := range redisURLProblems(c.RedisURL, p) {
		add(envRedisURL, problem, "use redis://:PASSWORD@host:6379/0 or rediss://host:6379/0, better through ESCAI_REDIS_URL_FILE")
	}
	if problem := hostPortProblem(c.HTTPAddr); problem != "" {
		add("ESCAI_HTTP_ADDR", problem, "use host:port, e.g. 127.0.0.1:9090, or :9090 for every interface")
	}
	if c.IngestHTTPAddr != "" {
		if problem := hostPortProblem(c.IngestHTTPAddr); problem != "" {
			add("ESCAI_INGEST_HTTP_ADDR", problem, "use host:port, e.g. :8443")
		}
		// HTTP ingest is never open: deny by default.
		if c.JWKSFile == "" && c.JWKSURL == "" {
			add("ESCAI_JWKS_FILE", "no key set while ESCAI_INGEST_HTTP_ADDR is set, so no bearer token could be verified",
				"set ESCAI_JWKS_FILE=/path/jwks.json or ESCAI_JWKS_URL=https://auth/.well-known/jwks.json")
		}
		if c.JWTIssuer == "" {
			add("ESCAI_JWT_ISSUER", "empty while ESCAI_INGEST_HTTP_ADDR is set", "set it to the iss your token issuer writes")
		}
		if c.JWTAudience == "" {
			add("ESCAI_JWT_AUDIENCE", "empty while ESCAI_INGEST_HTTP_ADDR is set", "set it, e.g. escai-ingest")
		}
	}
	if c.JWKSURL != "" && !strings.HasPrefix(c.JWKSURL, "https://") && strict {
		add("ESCAI_JWKS_URL", "not https in profile "+string(p), "serve the key set over HTTPS")
	}
	if !slices.Contains(logLevels, c.LogLevel) {
		add("ESCAI_LOG_LEVEL", "unknown level "+quote(c.LogLevel), "set one of "+joinNames(logLevels))
	}

	for i := range specs {
		s := &specs[i]
		if s.intField == nil {
			continue
		}
		if n := *s.intField(c); n < s.lo || n > s.hi {
			add(s.name, strconv.Itoa(n)+" is out of range", fmt.Sprintf("use a whole number from %d to %d", s.lo, s.hi))
		}
	}
	if c.MaxAckPending >= 1 && c.StageBatch >= 1 && c.MaxAckPending < c.StageBatch {
		add("ESCAI_MAX_ACK_PENDING",
			fmt.Sprintf("%d is less than ESCAI_STAGE_BATCH (%d), so a full batch could never be in flight", c.MaxAckPending, c.StageBatch),
			fmt.Sprintf("set it to at least %d; %d (batch × workers) keeps every worker busy", c.StageBatch, c.StageBatch*c.StageWorkers))
	}
	if strings.TrimSpace(c.DataDir) == "" {
		add("ESCAI_DATA_DIR", "empty", "set it to a writable directory, e.g. ./data")
	}

	slices.SortStableFunc(errs, func(a, b *VarError) int { return cmp.Compare(specIndex(a.Var), specIndex(b.Var)) })
	joined := make([]error, len(errs))
	for i, e := range errs {
		joined[i] = e
	}
	return errors.Join(joined...)
}

// specIndex is the documentation position of a variable (or its _FILE form).
func specIndex(name string) int {
	name = strings.TrimSuffix(name, "_FILE")
	for i := range specs {
		if specs[i].name == name {
			return i
		}
	}
	return len(specs)
}

// sameSlice reports whether a and b are the same non-empty slice, not merely
// equal bytes.
func sameSlice(a, b []byte) bool {
	return len(a) > 0 && len(a) == len(b) && &a[0] == &b[0]
}

// urlName names the i-th of n URLs in a problem. Problems never quote a URL
// that may carry credentials.
func urlName(i, n int) string {
	if n == 1 {
		return "the URL"
	}
	return fmt.Sprintf("server URL %d of %d", i+1, n)
}

// natsURLProblems checks a NATS URL or comma-separated list.
func natsURLProblems(raw string) []string {
	if strings.TrimSpace(raw) == "" {
		return []string{"empty"}
	}
	parts := strings.Split(raw, ",")
	var out []string
	for i, part := range parts {
		name := urlName(i, len(parts))
		u, problem := parseServerURL(strings.TrimSpace(part), name)
		if problem != "" {
			out = append(out, problem)
			continue
		}
		switch strings.ToLower(u.Scheme) {
		case "nats", "tls", "ws", "wss":
		default:
			out = append(out, fmt.Sprintf("%s has scheme %s; want nats, tls, ws or wss", name, quote(u.Scheme)))
		}
	}
	return out
}

// redisURLProblems checks a Redis URL; in strict profiles redis:// must
// carry a password.
func redisURLProblems(raw string, p Profile) []string {
	if strings.TrimSpace(raw) == "" {
		return []string{"empty"}
	}
	const name = "the URL"
	u, problem := parseServerURL(raw, name)
	if problem != "" {
		return []string{problem}
	}
	var out []string
	scheme := strings.ToLower(u.Scheme)
	switch scheme {
	case "redis", "rediss":
	default:
		out = append(out, fmt.Sprintf("%s has scheme %s; want redis or rediss", name, quote(u.Scheme)))
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		if n, err := strconv.Atoi(db); err != nil || n < 0 {
			out = append(out, name+" path is not a database number such as /0")
		}
	}
	if p.strict() && scheme == "redis" {
		if pw, ok := u.User.Password(); !ok || pw == "" {
			out = append(out, "redis:// without a password in profile "+string(p))
		}
	}
	return out
}

// parseServerURL parses a scheme://host[:port] URL, describing what is wrong
// without quoting it.
func parseServerURL(raw, name string) (*url.URL, string) {
	if raw == "" {
		return nil, name + " is empty"
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, name + " does not parse (write it as scheme://host:port)"
	case u.Scheme == "" || u.Opaque != "":
		return nil, name + " has no scheme:// prefix"
	case u.Hostname() == "":
		return nil, name + " has no host"
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, name + " has a port outside 1 to 65535"
		}
	}
	return u, ""
}

// hostPortProblem checks a listen address.
func hostPortProblem(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return quote(addr) + " is not host:port"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "port " + quote(port) + " is not a number from 0 to 65535"
	}
	return ""
}
