package config

import (
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// Variable documents one environment variable of the ESCAI surface. The
// list from Variables is what docs are generated from and what the compose
// test checks docker-compose.yml against.
type Variable struct {
	// Name is the variable, e.g. ESCAI_SECRET_KEY.
	Name string
	// Description says what it sets, its format and its allowed values.
	Description string
	// Secret marks a value that may hold credentials: it is shown redacted
	// and should come from a secret store.
	Secret bool
	// HasFile reports that Name+"_FILE" may name a file holding the value
	// instead (Docker and Kubernetes secrets).
	HasFile bool
	// Fallback is a conventional variable read when Name (and Name_FILE) is
	// unset, e.g. NATS_URL for ESCAI_NATS_URL; "" if none.
	Fallback string
	// Defaults is the default value in each profile, as Redacted shows it;
	// "" means unset.
	Defaults map[Profile]string
}

// Variables returns every variable Load reads, in documentation order.
// Names ending in _FILE and fallbacks are not listed on their own: see
// HasFile and Fallback.
func Variables() []Variable {
	defaults := make(map[Profile]Config, 4)
	for _, p := range Profiles() {
		defaults[p] = Default(p)
	}
	out := make([]Variable, 0, len(specs))
	for i := range specs {
		s := &specs[i]
		v := Variable{
			Name: s.name, Description: s.desc, Secret: s.secret, HasFile: s.hasFile,
			Fallback: s.fallback, Defaults: make(map[Profile]string, 4),
		}
		for p, c := range defaults {
			v.Defaults[p] = s.display(&c)
		}
		out = append(out, v)
	}
	return out
}

// varSpec is the single description of a variable from which Load, Validate
// (integer ranges), Redacted and Variables all work, so they cannot drift.
type varSpec struct {
	name     string // environment variable
	field    string // Config field it sets
	fallback string // conventional variable read when name is unset
	secret   bool   // value may hold credentials
	hasFile  bool   // name_FILE is accepted
	raw      bool   // value is used untrimmed (key material)
	bare     bool   // GoString prints the value unquoted (bools, integers)
	desc     string

	set  func(c *Config, v string) *VarError // nil: handled before the others
	show func(c *Config) string              // unredacted text of the field

	intField func(c *Config) *int // integer settings: range-checked by Validate
	lo, hi   int
}

// display is the text Redacted shows for the spec's field.
func (s *varSpec) display(c *Config) string {
	if s.name == envSecretKey {
		return c.SecretKey.String()
	}
	switch v := s.show(c); s.name {
	case envNATSURL:
		return redactURLs(v)
	case envRedisURL:
		return redactURL(v)
	default:
		return v
	}
}

// Variable names used outside the table.
const (
	envProfile    = "ESCAI_SECURITY_PROFILE"
	envSecretKey  = "ESCAI_SECRET_KEY"
	envTLSCertDir = "ESCAI_TLS_CERT_DIR"
	envNATSURL    = "ESCAI_NATS_URL"
	envRedisURL   = "ESCAI_REDIS_URL"
)

// specs is the ESCAI environment surface, in documentation order.
var specs = []varSpec{
	{
		name: envProfile, field: "Profile",
		desc: "Security profile: development (default), testing, production or high_security. Chooses every other default and which protections are mandatory.",
		show: func(c *Config) string { return string(c.Profile) },
	},
	{
		name: envSecretKey, field: "SecretKey", secret: true, hasFile: true, raw: true,
		desc: "Master key, at least 32 bytes after decoding: 64+ hex digits, base64 (standard or URL, padded or not) or raw text. Required in production and high_security. Generate with: openssl rand -hex 32.",
		set: func(c *Config, v string) *VarError {
			c.SecretKey = decodeSecretKey(v)
			c.keyLoaded = c.SecretKey
			c.keyWeak = weakKeyReason([]byte(v))
			return nil
		},
		show: func(c *Config) string { return c.SecretKey.String() },
	},
	stringVar(envTLSCertDir, "TLSCertDir",
		"Directory of TLS certificates and keys. Default: tls under ESCAI_DATA_DIR.",
		false, func(c *Config) *string { return &c.TLSCertDir }),
	boolVar("ESCAI_TLS_REQUIRED", "TLSRequired",
		"Require TLS 1.3 on every listener and connection. Mandatory in production and high_security.",
		func(c *Config) *bool { return &c.TLSRequired }),
	boolVar("ESCAI_TLS_AUTO_RENEW", "TLSAutoRenew",
		"Renew certificates before they expire.",
		func(c *Config) *bool { return &c.TLSAutoRenew }),
	durationVar("ESCAI_ACCESS_TOKEN_TTL", "AccessTokenTTL",
		"Access token lifetime, a Go duration such as 15m. Must be positive.",
		func(c *Config) *time.Duration { return &c.AccessTokenTTL }),
	durationVar("ESCAI_REFRESH_TOKEN_TTL", "RefreshTokenTTL",
		"Refresh token lifetime, a Go duration such as 168h. Must exceed the access token lifetime.",
		func(c *Config) *time.Duration { return &c.RefreshTokenTTL }),
	boolVar("ESCAI_REQUIRE_MFA", "RequireMFA",
		"Require a second factor at login. Mandatory in high_security.",
		func(c *Config) *bool { return &c.RequireMFA }),
	{
		name: "ESCAI_PII_SENSITIVITY", field: "PIISensitivity",
		desc: "PII detection sensitivity: low, medium or high.",
		set: func(c *Config, v string) *VarError {
			c.PIISensitivity = Sensitivity(strings.ToLower(v))
			return nil
		},
		show: func(c *Config) string { return string(c.PIISensitivity) },
	},
	boolVar("ESCAI_PII_AUTO_MASK", "PIIAutoMask",
		"Mask detected PII; false means detect and report only, allowed in development and testing alone.",
		func(c *Config) *bool { return &c.PIIAutoMask }),
	intVar("ESCAI_AUDIT_RETENTION_DAYS", "AuditRetentionDays",
		"Audit record retention in days, 1 to 36500.",
		1, 36500, func(c *Config) *int { return &c.AuditRetentionDays }),
	boolVar("ESCAI_AUDIT_ENCRYPT", "AuditEncrypt",
		"Encrypt audit records at rest. Mandatory in high_security.",
		func(c *Config) *bool { return &c.AuditEncrypt }),
	keyVar("ESCAI_AUDIT_KEK", "AuditKEK",
		"Key that wraps the audit data keys, in the formats of ESCAI_SECRET_KEY (32+ bytes). Default: derived from ESCAI_SECRET_KEY. Keep it apart from the master key so that one alone opens no audit payload.",
		func(c *Config) *Secret { return &c.AuditKEK }),
	{
		name: "ESCAI_AUDIT_SIGNING_KEY", field: "AuditSigningKey", secret: true, hasFile: true,
		desc: "Ed25519 checkpoint signing key of the audit writer, in the note format escai audit keygen writes (PRIVATE+KEY+<name>+<hash>+<key>). Default: derived from ESCAI_SECRET_KEY, so whoever holds that key can sign checkpoints too.",
		set: func(c *Config, v string) *VarError {
			if _, err := note.NewSigner(v); err != nil || !strings.HasPrefix(v, "PRIVATE+KEY+") {
				return &VarError{Var: "ESCAI_AUDIT_SIGNING_KEY", Problem: "not a note signing key (PRIVATE+KEY+<name>+<hash>+<key>)",
					Fix: "generate one with: escai audit keygen -o audit-signing.key, and set ESCAI_AUDIT_SIGNING_KEY_FILE to that file"}
			}
			c.AuditSigningKey = Secret(v)
			return nil
		},
		show: func(c *Config) string { return c.AuditSigningKey.String() },
	},
	keyVar("ESCAI_PII_KEY", "PIIKey",
		"Key the PII hash (pseudonym) and encrypt keys are derived from, in the formats of ESCAI_SECRET_KEY (32+ bytes). Default: ESCAI_SECRET_KEY. escai pii reveal needs the same key.",
		func(c *Config) *Secret { return &c.PIIKey }),
	boolVar("ESCAI_AUDIT_TENANT_KEYS", "AuditTenantKeys",
		"Per-tenant audit data keys, so one tenant's records can be crypto-shredded (escai audit shred).",
		func(c *Config) *bool { return &c.AuditTenantKeys }),
	{
		name: "ESCAI_VALIDATION_LEVEL", field: "ValidationLevel",
		desc: "Input validation level: permissive, standard or strict.",
		set: func(c *Config, v string) *VarError {
			c.ValidationLevel = ValidationLevel(strings.ToLower(v))
			return nil
		},
		show: func(c *Config) string { return string(c.ValidationLevel) },
	},
	{
		name: envNATSURL, field: "NATSURL", fallback: "NATS_URL",
		desc: "NATS server URL or comma-separated URLs, scheme nats, tls, ws or wss.",
		set:  func(c *Config, v string) *VarError { c.NATSURL = v; return nil },
		show: func(c *Config) string { return c.NATSURL },
	},
	{
		name: "ESCAI_NATS_CREDS", field: "NATSCreds", fallback: "NATS_CREDS",
		desc: "Path of a NATS credentials file. Optional.",
		set:  func(c *Config, v string) *VarError { c.NATSCreds = v; return nil },
		show: func(c *Config) string { return c.NATSCreds },
	},
	{
		name: envRedisURL, field: "RedisURL", fallback: "REDIS_URL", secret: true, hasFile: true,
		desc: "Redis URL, scheme redis or rediss; may hold a password and is shown redacted. In production and high_security redis:// needs a password.",
		set:  func(c *Config, v string) *VarError { c.RedisURL = v; return nil },
		show: func(c *Config) string { return c.RedisURL },
	},
	stringVar("ESCAI_HTTP_ADDR", "HTTPAddr",
		"host:port of the admin listener (/metrics and health endpoints).",
		false, func(c *Config) *string { return &c.HTTPAddr }),
	stringVar("ESCAI_LOG_LEVEL", "LogLevel",
		"Minimum log level: debug, info, warn or error.",
		true, func(c *Config) *string { return &c.LogLevel }),
	intVar("ESCAI_STREAM_REPLICAS", "StreamReplicas",
		"JetStream replicas per stream, 1 to 5.",
		1, 5, func(c *Config) *int { return &c.StreamReplicas }),
	intVar("ESCAI_STAGE_BATCH", "StageBatch",
		"Messages per processing batch, 1 to 4096.",
		1, 4096, func(c *Config) *int { return &c.StageBatch }),
	intVar("ESCAI_STAGE_WORKERS", "StageWorkers",
		"Concurrent batches per stage, 1 to 64.",
		1, 64, func(c *Config) *int { return &c.StageWorkers }),
	intVar("ESCAI_MAX_ACK_PENDING", "MaxAckPending",
		"Unacknowledged messages per consumer (backpressure), from ESCAI_STAGE_BATCH to 1048576.",
		1, 1<<20, func(c *Config) *int { return &c.MaxAckPending }),
	intVar("ESCAI_MAX_EVENT_BYTES", "MaxEventBytes",
		"Largest accepted event in bytes, 1024 to 8388608.",
		1<<10, 8<<20, func(c *Config) *int { return &c.MaxEventBytes }),
	intVar("ESCAI_MAX_EVENT_DEPTH", "MaxEventDepth",
		"Deepest accepted JSON nesting in an event, 2 to 256.",
		2, 256, func(c *Config) *int { return &c.MaxEventDepth }),
	intVar("ESCAI_AUDIT_PARTITIONS", "AuditPartitions",
		"Number of audit hash chains, 1 to 1024.",
		1, 1024, func(c *Config) *int { return &c.AuditPartitions }),
	intVar("ESCAI_RATE_TENANT", "RateTenant",
		"Events per second ingest accepts per tenant, 0 (off) to 10000000; over it events are rejected with rate_limited.",
		0, 10_000_000, func(c *Config) *int { return &c.RateTenant }),
	intVar("ESCAI_RATE_TENANT_BURST", "RateTenantBurst",
		"Token bucket size of the per-tenant limit, 1 to 100000000.",
		1, 100_000_000, func(c *Config) *int { return &c.RateTenantBurst }),
	intVar("ESCAI_RATE_AGENT", "RateAgent",
		"Events per second ingest accepts per agent, 0 (off) to 10000000, so one runaway agent cannot starve the others.",
		0, 10_000_000, func(c *Config) *int { return &c.RateAgent }),
	intVar("ESCAI_RATE_AGENT_BURST", "RateAgentBurst",
		"Token bucket size of the per-agent limit, 1 to 100000000.",
		1, 100_000_000, func(c *Config) *int { return &c.RateAgentBurst }),
	stringVar("ESCAI_VALIDATION_RULES_FILE", "ValidationRulesFile",
		"YAML or JSON file of custom validation rules, compiled at start. Optional.",
		false, func(c *Config) *string { return &c.ValidationRulesFile }),
	stringVar("ESCAI_PII_PATTERNS_FILE", "PIIPatternsFile",
		"YAML or JSON file of custom PII patterns, compiled at start. Optional.",
		false, func(c *Config) *string { return &c.PIIPatternsFile }),
	stringVar("ESCAI_PII_STRATEGIES", "PIIStrategies",
		"Masking strategy per PII type, e.g. EMAIL=hash,CREDIT_CARD=mask,*=redact (mask, redact, hash, encrypt). Default: mask personal data, redact secrets.",
		false, func(c *Config) *string { return &c.PIIStrategies }),
	stringVar("ESCAI_PII_ALLOW", "PIIAllow",
		"Comma-separated values never masked (re: starts an RE2 regex matching the whole value).",
		false, func(c *Config) *string { return &c.PIIAllow }),
	stringVar("ESCAI_PII_EXCLUDE", "PIIExclude",
		"Comma-separated data paths (globs) neither scanned nor masked.",
		false, func(c *Config) *string { return &c.PIIExclude }),
	stringVar("ESCAI_INGEST_HTTP_ADDR", "IngestHTTPAddr",
		"host:port of ingest's HTTPS POST /v1/events; empty serves none. Requires ESCAI_JWKS_FILE or ESCAI_JWKS_URL and ESCAI_JWT_ISSUER.",
		false, func(c *Config) *string { return &c.IngestHTTPAddr }),
	intVar("ESCAI_INGEST_HTTP_MAX_BATCH", "IngestHTTPMaxBatch",
		"Most events in one NDJSON request to POST /v1/events, 1 to 100000; a larger request gets 413. Default 1000.",
		1, 100_000, func(c *Config) *int { return &c.IngestHTTPMaxBatch }),
	stringVar("ESCAI_JWKS_FILE", "JWKSFile",
		"JWKS file of the public keys that sign ingest bearer tokens.",
		false, func(c *Config) *string { return &c.JWKSFile }),
	stringVar("ESCAI_JWKS_URL", "JWKSURL",
		"HTTPS URL of the JWKS that signs ingest bearer tokens (e.g. the auth service's).",
		false, func(c *Config) *string { return &c.JWKSURL }),
	stringVar("ESCAI_JWT_ISSUER", "JWTIssuer",
		"Required iss of ingest bearer tokens.",
		false, func(c *Config) *string { return &c.JWTIssuer }),
	stringVar("ESCAI_JWT_AUDIENCE", "JWTAudience",
		"Required aud of ingest bearer tokens. Default escai-ingest.",
		false, func(c *Config) *string { return &c.JWTAudience }),
	stringVar("ESCAI_DATA_DIR", "DataDir",
		"Directory of local state (embedded NATS store, default TLS directory).",
		false, func(c *Config) *string { return &c.DataDir }),
}
