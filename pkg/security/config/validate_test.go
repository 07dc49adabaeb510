package config

import (
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestDefaults pins the profile table of doc.go, and checks that Load with
// only the profile set returns exactly Default.
func TestDefaults(t *testing.T) {
	t.Parallel()
	common := Config{
		TLSCertDir: "data/tls", TLSAutoRenew: true, PIIAutoMask: true, AuditRetentionDays: 2555,
		NATSURL: "nats://127.0.0.1:4222", RedisURL: "redis://127.0.0.1:6379/0", HTTPAddr: "127.0.0.1:9090",
		LogLevel: "info", StreamReplicas: 1, StageBatch: 256, StageWorkers: 4, MaxAckPending: 8192,
		MaxEventBytes: 262144, MaxEventDepth: 32, AuditPartitions: 16, DataDir: "./data", AuditTenantKeys: true,
		RateTenant: 50000, RateTenantBurst: 100000, RateAgent: 5000, RateAgentBurst: 10000,
		JWTAudience: "escai-ingest", IngestHTTPMaxBatch: 1000,
	}
	with := func(f func(*Config)) Config {
		c := common
		f(&c)
		return c
	}
	tests := map[Profile]Config{
		ProfileDevelopment: with(func(c *Config) {
			c.Profile, c.AccessTokenTTL, c.RefreshTokenTTL = ProfileDevelopment, time.Hour, 720*time.Hour
			c.PIISensitivity, c.ValidationLevel = SensitivityMedium, LevelStandard
		}),
		ProfileTesting: with(func(c *Config) {
			c.Profile, c.AccessTokenTTL, c.RefreshTokenTTL = ProfileTesting, 15*time.Minute, 24*time.Hour
			c.PIISensitivity, c.ValidationLevel, c.AuditEncrypt = SensitivityMedium, LevelStandard, true
		}),
		ProfileProduction: with(func(c *Config) {
			c.Profile, c.AccessTokenTTL, c.RefreshTokenTTL = ProfileProduction, 15*time.Minute, 168*time.Hour
			c.PIISensitivity, c.ValidationLevel, c.AuditEncrypt, c.TLSRequired = SensitivityHigh, LevelStandard, true, true
		}),
		ProfileHighSecurity: with(func(c *Config) {
			c.Profile, c.AccessTokenTTL, c.RefreshTokenTTL = ProfileHighSecurity, 5*time.Minute, 24*time.Hour
			c.PIISensitivity, c.ValidationLevel, c.AuditEncrypt, c.TLSRequired = SensitivityHigh, LevelStrict, true, true
			c.RequireMFA = true
		}),
		"made_up": with(func(c *Config) { // fail closed: high_security defaults
			c.Profile, c.AccessTokenTTL, c.RefreshTokenTTL = "made_up", 5*time.Minute, 24*time.Hour
			c.PIISensitivity, c.ValidationLevel, c.AuditEncrypt, c.TLSRequired = SensitivityHigh, LevelStrict, true, true
			c.RequireMFA = true
		}),
	}
	for p, want := range tests {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			if got := Default(p); !reflect.DeepEqual(got, want) {
				t.Errorf("Default(%s) =\n%#v\nwant\n%#v", p, got, want)
			}
			cfg, _ := Load(lookupMap(map[string]string{"ESCAI_SECURITY_PROFILE": string(p)}), nil)
			if !reflect.DeepEqual(*cfg, want) {
				t.Errorf("Load(profile %s) =\n%#v\nwant\n%#v", p, *cfg, want)
			}
		})
	}
}

// TestDefaultsValidate checks which profiles validate with nothing but
// their defaults: the strict ones need a key and a Redis password.
func TestDefaultsValidate(t *testing.T) {
	t.Parallel()
	tests := map[Profile][]string{
		ProfileDevelopment:  nil,
		ProfileTesting:      nil,
		ProfileProduction:   {"ESCAI_SECRET_KEY", "ESCAI_REDIS_URL"},
		ProfileHighSecurity: {"ESCAI_SECRET_KEY", "ESCAI_REDIS_URL"},
		"":                  {"ESCAI_SECURITY_PROFILE"},
	}
	for p, want := range tests {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			c := Default(p)
			checkVars(t, "Validate", c.Validate(), want)
		})
	}
}

// TestStrictProfileRules checks what production and high_security refuse and
// what development and testing allow.
func TestStrictProfileRules(t *testing.T) {
	t.Parallel()
	weaken := map[string]string{
		"ESCAI_TLS_REQUIRED":  "false",
		"ESCAI_PII_AUTO_MASK": "false",
		"ESCAI_AUDIT_ENCRYPT": "false",
		"ESCAI_REQUIRE_MFA":   "false",
		"ESCAI_REDIS_URL":     "redis://redis:6379/0",
		"ESCAI_SECRET_KEY":    "",
	}
	tests := map[string]struct {
		profile string
		extra   map[string]string
		want    []string
	}{
		"development": {profile: "development"},
		"testing":     {profile: "testing"},
		"production": {profile: "production", want: []string{
			"ESCAI_TLS_REQUIRED", "ESCAI_PII_AUTO_MASK", "ESCAI_REDIS_URL", "ESCAI_SECRET_KEY",
		}},
		"high_security": {profile: "high_security", want: []string{
			"ESCAI_TLS_REQUIRED", "ESCAI_PII_AUTO_MASK", "ESCAI_REDIS_URL", "ESCAI_SECRET_KEY",
			"ESCAI_AUDIT_ENCRYPT", "ESCAI_REQUIRE_MFA",
		}},
		"production rediss without password": {profile: "production", extra: map[string]string{
			"ESCAI_SECRET_KEY": goodHexKey, "ESCAI_TLS_REQUIRED": "true", "ESCAI_PII_AUTO_MASK": "true",
			"ESCAI_REDIS_URL": "rediss://redis:6379/0",
		}},
		"production redis user but empty password": {profile: "production", extra: map[string]string{
			"ESCAI_SECRET_KEY": goodHexKey, "ESCAI_TLS_REQUIRED": "true", "ESCAI_PII_AUTO_MASK": "true",
			"ESCAI_REDIS_URL": "redis://app:@redis:6379/0",
		}, want: []string{"ESCAI_REDIS_URL"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"ESCAI_SECURITY_PROFILE": tt.profile}
			for k, v := range weaken {
				env[k] = v
			}
			for k, v := range tt.extra {
				env[k] = v
			}
			cfg, err := Load(lookupMap(env), nil)
			if err != nil {
				t.Fatal(err)
			}
			checkVars(t, "Validate", cfg.Validate(), tt.want)
		})
	}
}

// TestValidateAllProblems breaks every setting at once and expects one error
// per setting, none hiding another.
func TestValidateAllProblems(t *testing.T) {
	t.Parallel()
	c := Default(ProfileHighSecurity)
	c.SecretKey = []byte("short")
	c.TLSRequired, c.TLSCertDir, c.RequireMFA, c.PIIAutoMask, c.AuditEncrypt = false, "", false, false, false
	c.AccessTokenTTL, c.RefreshTokenTTL = 0, -time.Second
	c.PIISensitivity, c.ValidationLevel, c.LogLevel = "max", "lax", "chatty"
	c.AuditRetentionDays, c.StreamReplicas, c.StageBatch, c.StageWorkers = 0, 7, 0, 0
	c.MaxAckPending, c.MaxEventBytes, c.MaxEventDepth, c.AuditPartitions = 0, 10, 0, 0
	c.NATSURL, c.RedisURL, c.HTTPAddr, c.DataDir = "http://x", "redis://r/0", "nowhere", ""
	want := []string{
		"ESCAI_SECRET_KEY", "ESCAI_TLS_REQUIRED", "ESCAI_ACCESS_TOKEN_TTL", "ESCAI_REFRESH_TOKEN_TTL",
		"ESCAI_REQUIRE_MFA", "ESCAI_PII_SENSITIVITY", "ESCAI_PII_AUTO_MASK", "ESCAI_AUDIT_RETENTION_DAYS",
		"ESCAI_AUDIT_ENCRYPT", "ESCAI_VALIDATION_LEVEL", "ESCAI_NATS_URL", "ESCAI_REDIS_URL",
		"ESCAI_HTTP_ADDR", "ESCAI_LOG_LEVEL", "ESCAI_STREAM_REPLICAS", "ESCAI_STAGE_BATCH",
		"ESCAI_STAGE_WORKERS", "ESCAI_MAX_ACK_PENDING", "ESCAI_MAX_EVENT_BYTES", "ESCAI_MAX_EVENT_DEPTH",
		"ESCAI_AUDIT_PARTITIONS", "ESCAI_DATA_DIR",
	}
	err := c.Validate()
	checkVars(t, "Validate", err, want)

	// Errors come in documentation order, and each is a *VarError.
	var order []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ve *VarError
		if !errors.As(e, &ve) {
			t.Fatalf("%v is not a *VarError", e)
		}
		order = append(order, ve.Var)
	}
	for i := 1; i < len(order); i++ {
		if specIndex(order[i-1]) > specIndex(order[i]) {
			t.Errorf("%s reported before %s", order[i-1], order[i])
		}
	}

	// An unknown profile is reported with whatever else is wrong; the rules
	// of the strict profiles do not apply to a name that is none of them.
	c.Profile = "paranoid"
	checkVars(t, "Validate unknown profile", c.Validate(), append([]string{"ESCAI_SECURITY_PROFILE"}, sans(want,
		"ESCAI_TLS_REQUIRED", "ESCAI_REQUIRE_MFA", "ESCAI_PII_AUTO_MASK", "ESCAI_AUDIT_ENCRYPT", "ESCAI_REDIS_URL")...))
}

// sans returns s without the given values.
func sans(s []string, drop ...string) []string {
	var out []string
	for _, v := range s {
		keep := true
		for _, d := range drop {
			keep = keep && v != d
		}
		if keep {
			out = append(out, v)
		}
	}
	return out
}

// TestErrorMessages pins the exact text of representative errors: users
// read them, and the fixes must say what to do.
func TestErrorMessages(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		env      map[string]string
		validate bool // the message comes from Validate, else from Load
		want     string
	}{
		"missing key": {
			env: map[string]string{"ESCAI_SECURITY_PROFILE": "production", "ESCAI_REDIS_URL": prodRedisURL}, validate: true,
			want: "ESCAI_SECRET_KEY: missing in profile production; fix: set it to 32 random bytes, e.g. ESCAI_SECRET_KEY=$(openssl rand -hex 32), or ESCAI_SECRET_KEY_FILE=/run/secrets/escai_key",
		},
		"short key": {
			env: map[string]string{"ESCAI_SECRET_KEY": "abcd1234"}, validate: true,
			want: "ESCAI_SECRET_KEY: too short: 8 bytes after decoding, need at least 32; fix: set it to 32 random bytes, e.g. ESCAI_SECRET_KEY=$(openssl rand -hex 32), or ESCAI_SECRET_KEY_FILE=/run/secrets/escai_key",
		},
		"weak key": {
			env: map[string]string{"ESCAI_SECRET_KEY": strings.Repeat("0", 64)}, validate: true,
			want: "ESCAI_SECRET_KEY: too weak: every byte is the same; fix: use a random key instead: set it to 32 random bytes, e.g. ESCAI_SECRET_KEY=$(openssl rand -hex 32), or ESCAI_SECRET_KEY_FILE=/run/secrets/escai_key",
		},
		"unknown profile": {
			env:  map[string]string{"ESCAI_SECURITY_PROFILE": "Prod"},
			want: `ESCAI_SECURITY_PROFILE: unknown profile "prod"; fix: set one of development, testing, production or high_security`,
		},
		"bad integer": {
			env:  map[string]string{"ESCAI_STAGE_BATCH": "lots"},
			want: `ESCAI_STAGE_BATCH: "lots" is not a whole number; fix: use a whole number from 1 to 4096`,
		},
		"bad boolean": {
			env:  map[string]string{"ESCAI_TLS_REQUIRED": "si"},
			want: `ESCAI_TLS_REQUIRED: "si" is not a boolean; fix: set true or false`,
		},
		"bad duration": {
			env:  map[string]string{"ESCAI_ACCESS_TOKEN_TTL": "15 minutes"},
			want: `ESCAI_ACCESS_TOKEN_TTL: "15 minutes" is not a duration; fix: use a Go duration such as 5m, 15m, 1h or 720h`,
		},
		"both key forms": {
			env:  map[string]string{"ESCAI_SECRET_KEY": goodHexKey, "ESCAI_SECRET_KEY_FILE": "/k"},
			want: "ESCAI_SECRET_KEY: both ESCAI_SECRET_KEY and ESCAI_SECRET_KEY_FILE are set; fix: set only one of them",
		},
		"out of range": {
			env: map[string]string{"ESCAI_STREAM_REPLICAS": "7"}, validate: true,
			want: "ESCAI_STREAM_REPLICAS: 7 is out of range; fix: use a whole number from 1 to 5",
		},
		"refresh not longer": {
			env: map[string]string{"ESCAI_ACCESS_TOKEN_TTL": "2h", "ESCAI_REFRESH_TOKEN_TTL": "1h"}, validate: true,
			want: "ESCAI_REFRESH_TOKEN_TTL: 1h0m0s is not longer than ESCAI_ACCESS_TOKEN_TTL (2h0m0s); fix: make the refresh token outlive the access token, e.g. 24h",
		},
		"redis without password": {
			env: prodEnv(map[string]string{"ESCAI_REDIS_URL": "redis://redis:6379/0"}), validate: true,
			want: "ESCAI_REDIS_URL: redis:// without a password in profile production; fix: use redis://:PASSWORD@host:6379/0 or rediss://host:6379/0, better through ESCAI_REDIS_URL_FILE",
		},
		"nats list": {
			env: map[string]string{"ESCAI_NATS_URL": "nats://a:4222,http://b"}, validate: true,
			want: `ESCAI_NATS_URL: server URL 2 of 2 has scheme "http"; want nats, tls, ws or wss; fix: use nats://host:4222, or a comma-separated list such as tls://nats-1:4222,tls://nats-2:4222`,
		},
		"nats without scheme": {
			env: map[string]string{"ESCAI_NATS_URL": "localhost:4222"}, validate: true,
			want: "ESCAI_NATS_URL: the URL has no scheme:// prefix; fix: use nats://host:4222, or a comma-separated list such as tls://nats-1:4222,tls://nats-2:4222",
		},
		"sensitivity": {
			env: map[string]string{"ESCAI_PII_SENSITIVITY": "max"}, validate: true,
			want: `ESCAI_PII_SENSITIVITY: unknown sensitivity "max"; fix: set one of low, medium or high`,
		},
		"ack pending": {
			env: map[string]string{"ESCAI_MAX_ACK_PENDING": "100"}, validate: true,
			want: "ESCAI_MAX_ACK_PENDING: 100 is less than ESCAI_STAGE_BATCH (256), so a full batch could never be in flight; fix: set it to at least 256; 1024 (batch × workers) keeps every worker busy",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg, err := Load(lookupMap(tt.env), nil)
			if tt.validate {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				err = cfg.Validate()
			}
			if err == nil || err.Error() != tt.want {
				t.Errorf("error =\n%v\nwant\n%s", err, tt.want)
			}
		})
	}
}

// TestWeakKeys checks keys that are long enough but obviously not random.
func TestWeakKeys(t *testing.T) {
	t.Parallel()
	seq := make([]byte, 32)
	for i := range seq {
		seq[i] = byte(i)
	}
	tests := map[string]struct {
		key  string
		weak bool
	}{
		"placeholder repeated":     {strings.Repeat("changeme", 4), true},
		"template phrase (base64)": {"your-secret-key-here-change-me-please-thanks", true},
		"secret in passphrase":     {"Production-Secret-For-ESCAI-2024!!", true},
		"one letter":               {strings.Repeat("a", 40), true},
		"zero bytes as hex":        {strings.Repeat("00", 32), true},
		"pattern as hex":           {strings.Repeat("0badf00d", 8), true},
		"short pattern":            {strings.Repeat("xY3!", 10), true},
		"half repeated":            {goodRawKey[:20] + goodRawKey[:20], true},
		"repeated with tail":       {goodRawKey[:15] + goodRawKey[:15] + goodRawKey[:3], true},
		"sequence as hex":          {hex.EncodeToString(seq), true},
		"alphabet":                 {"ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdef", true},
		"binary digits":            {"1101100110001111010101001010011010001010", true},
		"random hex":               {goodHexKey, false},
		"random base64":            {goodStdB64Key, false},
		"random base64url":         {goodURLB64Key, false},
		"random text":              {goodRawKey, false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg, err := Load(lookupMap(map[string]string{"ESCAI_SECRET_KEY": tt.key}), nil)
			if err != nil {
				t.Fatal(err)
			}
			err = cfg.Validate()
			var want []string
			if tt.weak {
				want = []string{"ESCAI_SECRET_KEY"}
				if err == nil || !strings.Contains(err.Error(), "too weak") {
					t.Errorf("error %v does not say the key is too weak", err)
				}
			}
			checkVars(t, "Validate", err, want)
		})
	}
}

// TestFlagsOverride checks the CLI path: set fields after Load, then
// Validate judges the final values.
func TestFlagsOverride(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		env  map[string]string
		flag func(*Config)
		want []string
	}{
		"batch out of range": {
			flag: func(c *Config) { c.StageBatch = 5000 },
			want: []string{"ESCAI_STAGE_BATCH"},
		},
		"fixes a bad env value": {
			env:  map[string]string{"ESCAI_LOG_LEVEL": "verbose"},
			flag: func(c *Config) { c.LogLevel = "debug" },
		},
		"good key replaces weak env key": {
			env:  map[string]string{"ESCAI_SECRET_KEY": "your-secret-key-here-change-me-please-thanks"},
			flag: func(c *Config) { c.SecretKey = []byte(goodRawKey) },
		},
		"weak key replaces good env key": {
			env:  map[string]string{"ESCAI_SECRET_KEY": goodHexKey},
			flag: func(c *Config) { c.SecretKey = []byte(strings.Repeat("changeme", 4)) },
			want: []string{"ESCAI_SECRET_KEY"},
		},
		"cert dir emptied with tls required": {
			flag: func(c *Config) { c.TLSRequired, c.TLSCertDir = true, "" },
			want: []string{"ESCAI_TLS_CERT_DIR"},
		},
		"cert dir emptied without tls": {
			flag: func(c *Config) { c.TLSCertDir = "" },
		},
		"sensitivity flag": {
			flag: func(c *Config) { c.PIISensitivity = "ultra" },
			want: []string{"ESCAI_PII_SENSITIVITY"},
		},
		"tls off in production": {
			env:  prodEnv(nil),
			flag: func(c *Config) { c.TLSRequired = false },
			want: []string{"ESCAI_TLS_REQUIRED"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg, err := Load(lookupMap(tt.env), nil)
			if err != nil {
				t.Fatal(err)
			}
			tt.flag(cfg)
			checkVars(t, "Validate", cfg.Validate(), tt.want)
		})
	}
}

// TestNilInputs checks that nil arguments and receivers are errors or
// defaults, never panics.
func TestNilInputs(t *testing.T) {
	t.Parallel()
	cfg, err := Load(nil, nil)
	if err != nil || !reflect.DeepEqual(*cfg, Default(ProfileDevelopment)) {
		t.Errorf("Load(nil, nil) = %v, %v; want the development defaults", cfg, err)
	}
	var c *Config
	if err := c.Validate(); err == nil {
		t.Error("Validate on nil returned nil")
	}
	if got := c.Redacted(); got != nil {
		t.Errorf("Redacted on nil = %v", got)
	}
}

// TestVarErrorFormat pins Error with and without a fix.
func TestVarErrorFormat(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		err  VarError
		want string
	}{
		"with fix":    {VarError{Var: "ESCAI_X", Problem: "bad", Fix: "do y"}, "ESCAI_X: bad; fix: do y"},
		"without fix": {VarError{Var: "ESCAI_X", Problem: "bad"}, "ESCAI_X: bad"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}
