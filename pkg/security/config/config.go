package config

import (
	"io/fs"
	"path/filepath"
	"time"
)

// Profile names a security profile (ESCAI_SECURITY_PROFILE). A profile only
// chooses defaults and how strict Validate is; every setting can still be
// overridden by its own variable.
type Profile string

// The security profiles, from most permissive to strictest.
const (
	// ProfileDevelopment is for a laptop: plaintext allowed, no key required,
	// long-lived tokens. It is the default when ESCAI_SECURITY_PROFILE is unset.
	ProfileDevelopment Profile = "development"
	// ProfileTesting is for CI and staging: short tokens and encrypted audit,
	// but no TLS or key requirement so tests can run without provisioning.
	ProfileTesting Profile = "testing"
	// ProfileProduction requires TLS, a secret key, PII masking and a Redis
	// password or rediss://.
	ProfileProduction Profile = "production"
	// ProfileHighSecurity is production plus MFA, audit encryption, strict
	// input validation and 5-minute access tokens, none of which may be
	// switched off.
	ProfileHighSecurity Profile = "high_security"
)

// Profiles returns the known profiles in order of increasing strictness.
func Profiles() []Profile {
	return []Profile{ProfileDevelopment, ProfileTesting, ProfileProduction, ProfileHighSecurity}
}

// known reports whether p is one of Profiles.
func (p Profile) known() bool {
	switch p {
	case ProfileDevelopment, ProfileTesting, ProfileProduction, ProfileHighSecurity:
		return true
	}
	return false
}

// strict reports whether p is a profile meant for real data, where missing
// protections are errors rather than conveniences.
func (p Profile) strict() bool {
	return p == ProfileProduction || p == ProfileHighSecurity
}

// Sensitivity is how aggressively PII is detected (ESCAI_PII_SENSITIVITY).
type Sensitivity string

// The PII sensitivities.
const (
	// SensitivityLow detects only high-confidence, structured identifiers.
	SensitivityLow Sensitivity = "low"
	// SensitivityMedium is the balanced default.
	SensitivityMedium Sensitivity = "medium"
	// SensitivityHigh also reports low-confidence matches and URLs.
	SensitivityHigh Sensitivity = "high"
)

// ValidationLevel is how strictly input is validated (ESCAI_VALIDATION_LEVEL).
type ValidationLevel string

// The input validation levels.
const (
	// LevelPermissive flags threats but rejects only the unambiguous ones.
	LevelPermissive ValidationLevel = "permissive"
	// LevelStandard is the default balance between false positives and safety.
	LevelStandard ValidationLevel = "standard"
	// LevelStrict rejects anything flagged.
	LevelStrict ValidationLevel = "strict"
)

// Log levels accepted in ESCAI_LOG_LEVEL.
var logLevels = []string{"debug", "info", "warn", "error"}

// Defaults that do not depend on the profile.
const (
	defaultNATSURL         = "nats://127.0.0.1:4222"
	defaultRedisURL        = "redis://127.0.0.1:6379/0"
	defaultHTTPAddr        = "127.0.0.1:9090"
	defaultLogLevel        = "info"
	defaultDataDir         = "./data"
	defaultRetentionDays   = 2555 // seven years, the common audit-retention requirement
	defaultStreamReplicas  = 1
	defaultStageBatch      = 256
	defaultStageWorkers    = 4
	defaultMaxAckPending   = 8192
	defaultMaxEventBytes   = 256 << 10
	defaultMaxEventDepth   = 32
	defaultAuditPartitions = 16
)

// Config is the whole ESCAI configuration. Services build it once in main
// (LoadFromOS, then flags, then Validate) and pass *Config down; nothing else
// reads the environment.
//
// Fields are exported so that a CLI can override them from flags after Load;
// Validate checks whatever values they end up with. Each field comment names
// its environment variable and its default per profile.
//
// Printing a Config with any fmt verb, encoding it as JSON or logging it with
// log/slog shows the redacted form (see Redacted): the secret key and
// credentials in URLs never appear.
type Config struct {
	// Profile is the security profile (ESCAI_SECURITY_PROFILE): development
	// (default), testing, production or high_security. It chooses every other
	// default and which protections Validate insists on.
	Profile Profile

	// SecretKey is the master key (ESCAI_SECRET_KEY or ESCAI_SECRET_KEY_FILE)
	// from which token-signing, audit HMAC and audit encryption keys are
	// derived. At least 32 bytes after decoding; see the package
	// documentation for the accepted encodings. Required in production and
	// high_security; unset by default. Never printed.
	SecretKey Secret

	// TLSCertDir holds the TLS certificate, key and CA files
	// (ESCAI_TLS_CERT_DIR). Default: "tls" under DataDir, i.e. data/tls.
	// Required when TLSRequired is true.
	TLSCertDir string
	// TLSRequired makes every listener and client connection use TLS 1.3
	// (ESCAI_TLS_REQUIRED). Default false in development and testing, true in
	// production and high_security, where it may not be turned off.
	TLSRequired bool
	// TLSAutoRenew renews certificates in TLSCertDir before they expire
	// (ESCAI_TLS_AUTO_RENEW). Default true in every profile.
	TLSAutoRenew bool

	// AccessTokenTTL is how long an access token is valid
	// (ESCAI_ACCESS_TOKEN_TTL, a Go duration such as 15m). Default 1h in
	// development, 15m in testing and production, 5m in high_security.
	// Must be positive.
	AccessTokenTTL time.Duration
	// RefreshTokenTTL is how long a refresh token is valid
	// (ESCAI_REFRESH_TOKEN_TTL). Default 720h in development, 24h in testing,
	// 168h in production, 24h in high_security. Must be longer than
	// AccessTokenTTL, or refreshing would be pointless.
	RefreshTokenTTL time.Duration
	// RequireMFA makes login require a second factor (ESCAI_REQUIRE_MFA).
	// Default true only in high_security, where it may not be turned off.
	RequireMFA bool

	// PIISensitivity is how aggressively PII is detected
	// (ESCAI_PII_SENSITIVITY): low, medium or high. Default medium in
	// development and testing, high in production and high_security.
	PIISensitivity Sensitivity
	// PIIAutoMask masks detected PII before events reach consumers
	// (ESCAI_PII_AUTO_MASK). Default true in every profile. false means
	// detect and report only, which is allowed in development and testing
	// alone.
	PIIAutoMask bool

	// AuditRetentionDays is how long audit records are kept
	// (ESCAI_AUDIT_RETENTION_DAYS), 1 to 36500. Default 2555 (seven years)
	// in every profile.
	AuditRetentionDays int
	// AuditEncrypt encrypts audit records at rest (ESCAI_AUDIT_ENCRYPT).
	// Default false in development, true elsewhere; it may not be turned off
	// in high_security.
	AuditEncrypt bool
	// AuditTenantKeys gives every tenant its own audit data keys
	// (ESCAI_AUDIT_TENANT_KEYS), so that `escai audit shred --tenant`
	// can make one tenant's records unreadable (GDPR erasure) while the
	// trail still verifies. Default true in every profile; records sealed
	// while it was off are under shared keys and cannot be shredded alone.
	AuditTenantKeys bool
	// AuditKEK wraps the audit data keys (ESCAI_AUDIT_KEK or _FILE); empty:
	// a KEK derived from SecretKey.
	AuditKEK Secret
	// AuditSigningKey is the audit writer's checkpoint signing key
	// (ESCAI_AUDIT_SIGNING_KEY or _FILE), a note signer key; empty: one
	// derived from SecretKey.
	AuditSigningKey Secret
	// PIIKey is the key the PII pseudonym and encryption keys are derived
	// from (ESCAI_PII_KEY or _FILE); empty: SecretKey. A key of its own
	// lets PII tokens be rotated, or shared with another deployment that
	// must produce the same pseudonyms, without the master key.
	PIIKey Secret

	// ValidationLevel is how strictly input is validated
	// (ESCAI_VALIDATION_LEVEL): permissive, standard or strict. Default
	// standard, strict in high_security.
	ValidationLevel ValidationLevel

	// NATSURL is the NATS server URL, or a comma-separated list of them
	// (ESCAI_NATS_URL, falling back to NATS_URL). Schemes nats, tls, ws and
	// wss. Default nats://127.0.0.1:4222. Credentials embedded in it are
	// redacted when printed.
	NATSURL string
	// NATSCreds is the path of a NATS credentials file (ESCAI_NATS_CREDS,
	// falling back to NATS_CREDS). Optional; default unset.
	NATSCreds string
	// RedisURL is the Redis URL (ESCAI_REDIS_URL or ESCAI_REDIS_URL_FILE,
	// falling back to REDIS_URL), scheme redis or rediss. Default
	// redis://127.0.0.1:6379/0. It may hold a password, so it is printed
	// with the password replaced. In production and high_security a
	// redis:// URL must carry a password.
	RedisURL string

	// HTTPAddr is the host:port of the admin listener serving /metrics and
	// the health endpoints (ESCAI_HTTP_ADDR). Default 127.0.0.1:9090.
	HTTPAddr string
	// LogLevel is the minimum log level (ESCAI_LOG_LEVEL): debug, info, warn
	// or error. Default info.
	LogLevel string

	// StreamReplicas is the JetStream replica count for every stream
	// (ESCAI_STREAM_REPLICAS), 1 to 5. Default 1; use 3 on a cluster.
	StreamReplicas int
	// StageBatch is how many messages a stage fetches and processes as one
	// batch (ESCAI_STAGE_BATCH), 1 to 4096. Default 256.
	StageBatch int
	// StageWorkers is how many batches a stage processes concurrently
	// (ESCAI_STAGE_WORKERS), 1 to 64. Default 4.
	StageWorkers int
	// MaxAckPending bounds unacknowledged messages per consumer
	// (ESCAI_MAX_ACK_PENDING), StageBatch to 1048576. Default 8192. It is
	// the backpressure limit: a slow stage stops receiving instead of
	// growing memory.
	MaxAckPending int
	// MaxEventBytes is the largest accepted event envelope in bytes
	// (ESCAI_MAX_EVENT_BYTES), 1024 to 8388608. Default 262144 (256 KiB).
	MaxEventBytes int
	// MaxEventDepth is the deepest accepted JSON nesting in an event
	// (ESCAI_MAX_EVENT_DEPTH), 2 to 256. Default 32.
	MaxEventDepth int
	// AuditPartitions is the number of audit hash chains
	// (ESCAI_AUDIT_PARTITIONS), 1 to 1024. Default 16. Changing it on an
	// existing deployment re-partitions new records only.
	AuditPartitions int

	// DataDir is where local state lives: the embedded NATS file store of
	// `escai dev` and, by default, TLS material (ESCAI_DATA_DIR). Default
	// ./data.
	DataDir string

	// RateTenant and RateAgent are the sustained events per second ingest
	// accepts per tenant (ESCAI_RATE_TENANT, default 50000) and per agent
	// (ESCAI_RATE_AGENT, default 5000), so one runaway agent cannot starve
	// the others; 0 turns a limit off. The bursts (ESCAI_RATE_TENANT_BURST,
	// default 100000; ESCAI_RATE_AGENT_BURST, default 10000) are the token
	// bucket sizes. Events over a limit are rejected with rate_limited.
	RateTenant, RateTenantBurst, RateAgent, RateAgentBurst int

	// ValidationRulesFile is a YAML or JSON file of custom validation rules
	// (ESCAI_VALIDATION_RULES_FILE), compiled at start; a bad file fails
	// start-up. Optional.
	ValidationRulesFile string
	// PIIPatternsFile is a YAML or JSON file of custom PII patterns
	// (ESCAI_PII_PATTERNS_FILE), compiled at start; a bad file fails
	// start-up. Optional.
	PIIPatternsFile string
	// PIIStrategies sets the masking strategy per type
	// (ESCAI_PII_STRATEGIES, e.g. "EMAIL=hash,CREDIT_CARD=mask,*=redact";
	// strategies mask, redact, hash, encrypt). Empty keeps the defaults:
	// mask for personal data, redact for secrets.
	PIIStrategies string
	// PIIAllow lists values never masked, comma-separated
	// (ESCAI_PII_ALLOW, e.g. a company support address; "re:" starts an RE2
	// regex that must match the whole value).
	PIIAllow string
	// PIIExclude lists data paths neither scanned nor masked,
	// comma-separated globs (ESCAI_PII_EXCLUDE, e.g. "tool_args.sql,**.trace_id").
	PIIExclude string

	// IngestHTTPAddr is where ingest serves HTTPS POST /v1/events
	// (ESCAI_INGEST_HTTP_ADDR, host:port). Empty (the default) serves no
	// HTTP ingest. When set, a key set to verify bearer tokens is required:
	// JWKSFile (ESCAI_JWKS_FILE) or JWKSURL (ESCAI_JWKS_URL), and tokens
	// must carry JWTIssuer (ESCAI_JWT_ISSUER) and JWTAudience
	// (ESCAI_JWT_AUDIENCE, default escai-ingest).
	IngestHTTPAddr string
	// IngestHTTPMaxBatch bounds the events of one NDJSON request
	// (ESCAI_INGEST_HTTP_MAX_BATCH, default 1000); a larger one gets 413.
	IngestHTTPMaxBatch     int
	JWKSFile, JWKSURL      string
	JWTIssuer, JWTAudience string

	// secretFiles records the *_FILE variables Load read, so that Validate
	// can apply the permission rule of whichever profile is finally set.
	secretFiles []fileSource

	// keyWeak is why the text of ESCAI_SECRET_KEY looked weak before
	// decoding, and keyLoaded the key Load decoded from it (the same slice,
	// not a copy). Validate reports keyWeak only while SecretKey is still
	// that slice, so a key set later by a flag is judged on its own bytes.
	keyWeak   string
	keyLoaded Secret
}

// fileSource is a secret read from a file by Load.
type fileSource struct {
	envVar string      // e.g. ESCAI_SECRET_KEY_FILE
	path   string      // the file named by envVar
	perm   fs.FileMode // its permission bits when read
}

// Default returns the defaults of profile p, before any variable is applied.
// An unknown p gets the high_security defaults (fail closed) and keeps its
// name, so that Validate rejects it.
func Default(p Profile) Config {
	c := Config{
		Profile:            p,
		TLSCertDir:         filepath.Join(defaultDataDir, "tls"),
		TLSAutoRenew:       true,
		PIIAutoMask:        true,
		AuditRetentionDays: defaultRetentionDays,
		AuditTenantKeys:    true,
		NATSURL:            defaultNATSURL,
		RedisURL:           defaultRedisURL,
		HTTPAddr:           defaultHTTPAddr,
		LogLevel:           defaultLogLevel,
		StreamReplicas:     defaultStreamReplicas,
		StageBatch:         defaultStageBatch,
		StageWorkers:       defaultStageWorkers,
		MaxAckPending:      defaultMaxAckPending,
		MaxEventBytes:      defaultMaxEventBytes,
		MaxEventDepth:      defaultMaxEventDepth,
		AuditPartitions:    defaultAuditPartitions,
		DataDir:            defaultDataDir,
		RateTenant:         50000,
		RateTenantBurst:    100000,
		RateAgent:          5000,
		RateAgentBurst:     10000,
		JWTAudience:        "escai-ingest",
		IngestHTTPMaxBatch: 1000,
	}
	switch p {
	case ProfileDevelopment:
		c.AccessTokenTTL = time.Hour
		c.RefreshTokenTTL = 720 * time.Hour
		c.PIISensitivity = SensitivityMedium
		c.ValidationLevel = LevelStandard
	case ProfileTesting:
		c.AccessTokenTTL = 15 * time.Minute
		c.RefreshTokenTTL = 24 * time.Hour
		c.PIISensitivity = SensitivityMedium
		c.AuditEncrypt = true
		c.ValidationLevel = LevelStandard
	case ProfileProduction:
		c.TLSRequired = true
		c.AccessTokenTTL = 15 * time.Minute
		c.RefreshTokenTTL = 168 * time.Hour
		c.PIISensitivity = SensitivityHigh
		c.AuditEncrypt = true
		c.ValidationLevel = LevelStandard
	default: // ProfileHighSecurity, and unknown names: fail closed
		c.TLSRequired = true
		c.AccessTokenTTL = 5 * time.Minute
		c.RefreshTokenTTL = 24 * time.Hour
		c.RequireMFA = true
		c.PIISensitivity = SensitivityHigh
		c.AuditEncrypt = true
		c.ValidationLevel = LevelStrict
	}
	return c
}
