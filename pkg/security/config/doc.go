// Package config owns the ESCAI configuration: the security profiles, the
// ESCAI_* environment variables, their defaults and their validation. It is
// the one place in the project that reads the environment; nothing else
// calls os.Getenv or os.LookupEnv.
//
// A service loads its configuration once, in main, and passes the *Config
// down:
//
//	cfg, err := config.LoadFromOS() // profile defaults, then ESCAI_* variables
//	if err != nil { … exit 2 }      // unparseable variables, all of them at once
//	… apply flags by setting cfg fields …
//	if err := cfg.Validate(); err != nil { … exit 2 } // before any connection
//
// Precedence, lowest first: profile defaults, environment, flags. A
// --profile flag is the exception: the profile chooses the defaults, so a CLI
// applies it through the lookup function it passes to Load (wrapping
// os.LookupEnv) rather than by setting Config.Profile afterwards.
//
// The package imports the standard library and golang.org/x/mod/sumdb/note
// (to check ESCAI_AUDIT_SIGNING_KEY); its only I/O is the lookup
// function and FileReader given to Load.
//
// # Profiles
//
// ESCAI_SECURITY_PROFILE chooses the defaults below; any variable overrides
// its profile default, but Validate refuses the overrides that would break a
// profile's promise (marked "mandatory").
//
//	setting                      development  testing  production   high_security
//	ESCAI_TLS_REQUIRED           false        false    true (mand.) true (mand.)
//	ESCAI_TLS_AUTO_RENEW         true         true     true         true
//	ESCAI_ACCESS_TOKEN_TTL       1h           15m      15m          5m
//	ESCAI_REFRESH_TOKEN_TTL      720h         24h      168h         24h
//	ESCAI_REQUIRE_MFA            false        false    false        true (mand.)
//	ESCAI_PII_SENSITIVITY        medium       medium   high         high
//	ESCAI_PII_AUTO_MASK          true         true     true (mand.) true (mand.)
//	ESCAI_AUDIT_RETENTION_DAYS   2555         2555     2555         2555
//	ESCAI_AUDIT_ENCRYPT          false        true     true         true (mand.)
//	ESCAI_AUDIT_TENANT_KEYS      true         true     true         true
//	ESCAI_VALIDATION_LEVEL       standard     standard standard     strict
//	ESCAI_SECRET_KEY             optional     optional required     required
//	*_FILE mode (see Secrets)    any          any      owner only   owner only
//	redis:// password            optional     optional required     required
//
// An unknown profile name is an error from both Load and Validate; Default
// gives it the high_security defaults so nothing is ever weaker than asked
// for.
//
// # Other variables
//
//	variable                default                   meaning, allowed values
//	ESCAI_TLS_CERT_DIR      ESCAI_DATA_DIR/tls        TLS material; must be set when TLS is required
//	ESCAI_NATS_URL          nats://127.0.0.1:4222     fallback NATS_URL; comma-separated list allowed;
//	                                                  schemes nats, tls, ws, wss
//	ESCAI_NATS_CREDS        unset                     fallback NATS_CREDS; credentials file path
//	ESCAI_REDIS_URL         redis://127.0.0.1:6379/0  fallback REDIS_URL; secret-bearing; redis, rediss
//	ESCAI_HTTP_ADDR         127.0.0.1:9090            admin listener (/metrics, health); host:port
//	ESCAI_LOG_LEVEL         info                      debug, info, warn, error
//	ESCAI_STREAM_REPLICAS   1                         1..5
//	ESCAI_STAGE_BATCH       256                       1..4096 messages per batch
//	ESCAI_STAGE_WORKERS     4                         1..64 concurrent batches per stage
//	ESCAI_MAX_ACK_PENDING   8192                      ESCAI_STAGE_BATCH..1048576
//	ESCAI_MAX_EVENT_BYTES   262144                    1024..8388608
//	ESCAI_MAX_EVENT_DEPTH   32                        2..256
//	ESCAI_AUDIT_PARTITIONS  16                        1..1024
//	ESCAI_DATA_DIR          ./data                    local state
//
// ESCAI_AUDIT_RETENTION_DAYS accepts 1..36500 (a hundred years; more would
// overflow a time.Duration). ESCAI_TLS_CERT_DIR follows ESCAI_DATA_DIR when
// unset, as read by Load; a flag that changes DataDir later does not move it.
//
// Variables returns the same list with descriptions, for docs and for the
// test that checks docker-compose.yml uses only real variables.
//
// Values: booleans accept true/false, 1/0, yes/no, on/off in any case;
// durations are Go durations (15m, 1h, 720h); profile, sensitivity and level
// names are case-insensitive. A variable set to an empty or blank value
// counts as unset, which is what Compose's ${VAR:-} produces. ESCAI_ wins
// over the conventional fallback (ESCAI_NATS_URL over NATS_URL).
//
// # Secrets
//
// ESCAI_SECRET_KEY and ESCAI_REDIS_URL may instead be given as
// ESCAI_SECRET_KEY_FILE and ESCAI_REDIS_URL_FILE, naming a file that holds
// the value (Docker and Kubernetes secrets). Setting both forms is an error;
// the file form wins over the REDIS_URL fallback. Trailing newlines (\n,
// \r\n) are removed from file contents; a binary key file whose last byte is
// 0x0a therefore loses it, so prefer text keys. In production and
// high_security a secret file accessible to group or others (mode & 077 != 0)
// is an error (reported by Validate, so a profile set by a flag counts):
// chmod 600, or mode 0400 in Compose or Kubernetes secret definitions.
// Development and testing accept any mode, because bind-mounted files
// usually come out 0644 there.
//
// The secret key is decoded by the first rule that matches, and this rule
// must never change, since every service has to derive the same bytes:
//
//  1. 64 or more hex digits (an even number): hex, e.g. openssl rand -hex 32;
//  2. base64, standard or URL alphabet, padded or not, decoding to at least
//     32 bytes: base64, e.g. openssl rand -base64 32;
//  3. otherwise the raw bytes of the value.
//
// The result must be at least 32 bytes. Keys that are obviously not random
// are refused: template words (changeme, secret, password, example, …),
// a single repeated byte or short repeated pattern, a run of consecutive
// bytes, or fewer than 8 distinct bytes. Where the key is optional and unset,
// the package that needs key material decides what to do (typically an
// ephemeral per-process key, which only suits a single process).
//
// Secrets never leave this package in clear: SecretKey is a Secret, which
// prints as [REDACTED] under every fmt verb, encoding/json and log/slog;
// Config itself prints, marshals and logs as Redacted, with URL credentials
// replaced by xxxxx; and no error quotes a secret or a URL that may hold one.
package config
