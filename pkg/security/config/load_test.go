package config

import (
	"bytes"
	"encoding/base64"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestLoadVariables parses every variable with good, bad and boundary values.
// key names the Redacted entry to check (want), loadErr the variables Load
// must reject and validateErr those Validate must reject afterwards.
func TestLoadVariables(t *testing.T) {
	t.Parallel()
	type tc struct {
		env         map[string]string
		key, want   string
		loadErr     []string
		validateErr []string
	}
	const (
		prof = "ESCAI_SECURITY_PROFILE"
		key  = "ESCAI_SECRET_KEY"
	)
	tests := map[string]tc{
		"nothing set": {env: nil, key: prof, want: "development"},
		"profile testing": {
			env: map[string]string{prof: "testing"}, key: prof, want: "testing",
		},
		"profile upper case and blanks": {
			env: map[string]string{prof: " PRODUCTION "}, key: prof, want: "production",
			validateErr: []string{key, "ESCAI_REDIS_URL"},
		},
		"profile unknown": {
			env: map[string]string{prof: "prod"}, key: prof, want: "prod",
			loadErr: []string{prof}, validateErr: []string{prof},
		},
		"profile blank is unset": {env: map[string]string{prof: "  "}, key: prof, want: "development"},

		"key hex":             {env: map[string]string{key: goodHexKey}, key: key, want: "[REDACTED]"},
		"key too short":       {env: map[string]string{key: "Zq8vLp2W9xR4"}, key: key, want: "[REDACTED]", validateErr: []string{key}},
		"key 31 raw bytes":    {env: map[string]string{key: goodRawKey[:31]}, validateErr: []string{key}},
		"key 32 raw bytes":    {env: map[string]string{key: goodRawKey[:32]}},
		"key blank is unset":  {env: map[string]string{key: " "}, key: key, want: ""},
		"key weak":            {env: map[string]string{key: strings.Repeat("changeme", 4)}, validateErr: []string{key}},
		"key weak in testing": {env: map[string]string{prof: "testing", key: strings.Repeat("x", 40)}, validateErr: []string{key}},

		"cert dir":                    {env: map[string]string{"ESCAI_TLS_CERT_DIR": "/etc/escai/tls"}, key: "ESCAI_TLS_CERT_DIR", want: "/etc/escai/tls"},
		"cert dir follows data":       {env: map[string]string{"ESCAI_DATA_DIR": "/var/lib/escai"}, key: "ESCAI_TLS_CERT_DIR", want: "/var/lib/escai/tls"},
		"cert dir default":            {key: "ESCAI_TLS_CERT_DIR", want: "data/tls"},
		"tls required yes":            {env: map[string]string{"ESCAI_TLS_REQUIRED": "yes"}, key: "ESCAI_TLS_REQUIRED", want: "true"},
		"tls required OFF":            {env: map[string]string{"ESCAI_TLS_REQUIRED": "OFF"}, key: "ESCAI_TLS_REQUIRED", want: "false"},
		"tls required bad":            {env: map[string]string{"ESCAI_TLS_REQUIRED": "maybe"}, key: "ESCAI_TLS_REQUIRED", want: "false", loadErr: []string{"ESCAI_TLS_REQUIRED"}},
		"tls auto renew 0":            {env: map[string]string{"ESCAI_TLS_AUTO_RENEW": "0"}, key: "ESCAI_TLS_AUTO_RENEW", want: "false"},
		"tls auto renew 2":            {env: map[string]string{"ESCAI_TLS_AUTO_RENEW": "2"}, loadErr: []string{"ESCAI_TLS_AUTO_RENEW"}},
		"tls required blank cert dir": {env: map[string]string{"ESCAI_TLS_REQUIRED": "true", "ESCAI_TLS_CERT_DIR": " "}, key: "ESCAI_TLS_CERT_DIR", want: "data/tls"},

		"access ttl 30m":       {env: map[string]string{"ESCAI_ACCESS_TOKEN_TTL": "30m"}, key: "ESCAI_ACCESS_TOKEN_TTL", want: "30m0s"},
		"access ttl 1ns":       {env: map[string]string{"ESCAI_ACCESS_TOKEN_TTL": "1ns"}, key: "ESCAI_ACCESS_TOKEN_TTL", want: "1ns"},
		"access ttl unitless":  {env: map[string]string{"ESCAI_ACCESS_TOKEN_TTL": "15"}, loadErr: []string{"ESCAI_ACCESS_TOKEN_TTL"}},
		"access ttl zero":      {env: map[string]string{"ESCAI_ACCESS_TOKEN_TTL": "0s"}, validateErr: []string{"ESCAI_ACCESS_TOKEN_TTL"}},
		"access ttl negative":  {env: map[string]string{"ESCAI_ACCESS_TOKEN_TTL": "-1m"}, validateErr: []string{"ESCAI_ACCESS_TOKEN_TTL"}},
		"refresh ttl 61m":      {env: map[string]string{"ESCAI_REFRESH_TOKEN_TTL": "61m"}, key: "ESCAI_REFRESH_TOKEN_TTL", want: "1h1m0s"},
		"refresh equal access": {env: map[string]string{"ESCAI_REFRESH_TOKEN_TTL": "1h"}, validateErr: []string{"ESCAI_REFRESH_TOKEN_TTL"}},
		"refresh just longer":  {env: map[string]string{"ESCAI_REFRESH_TOKEN_TTL": "1h0m0.000000001s"}},
		"refresh zero":         {env: map[string]string{"ESCAI_REFRESH_TOKEN_TTL": "0"}, validateErr: []string{"ESCAI_REFRESH_TOKEN_TTL"}},
		"refresh overflow":     {env: map[string]string{"ESCAI_REFRESH_TOKEN_TTL": "9999999999h"}, loadErr: []string{"ESCAI_REFRESH_TOKEN_TTL"}},

		"mfa true": {env: map[string]string{"ESCAI_REQUIRE_MFA": "True"}, key: "ESCAI_REQUIRE_MFA", want: "true"},
		"mfa bad":  {env: map[string]string{"ESCAI_REQUIRE_MFA": "y"}, loadErr: []string{"ESCAI_REQUIRE_MFA"}},

		"sensitivity HIGH":    {env: map[string]string{"ESCAI_PII_SENSITIVITY": "HIGH"}, key: "ESCAI_PII_SENSITIVITY", want: "high"},
		"sensitivity low":     {env: map[string]string{"ESCAI_PII_SENSITIVITY": "low"}, key: "ESCAI_PII_SENSITIVITY", want: "low"},
		"sensitivity unknown": {env: map[string]string{"ESCAI_PII_SENSITIVITY": "extreme"}, validateErr: []string{"ESCAI_PII_SENSITIVITY"}},
		"auto mask off dev":   {env: map[string]string{"ESCAI_PII_AUTO_MASK": "false"}, key: "ESCAI_PII_AUTO_MASK", want: "false"},
		"auto mask bad":       {env: map[string]string{"ESCAI_PII_AUTO_MASK": "mask"}, loadErr: []string{"ESCAI_PII_AUTO_MASK"}},

		"retention 1":       {env: map[string]string{"ESCAI_AUDIT_RETENTION_DAYS": "1"}, key: "ESCAI_AUDIT_RETENTION_DAYS", want: "1"},
		"retention 0":       {env: map[string]string{"ESCAI_AUDIT_RETENTION_DAYS": "0"}, validateErr: []string{"ESCAI_AUDIT_RETENTION_DAYS"}},
		"retention 36500":   {env: map[string]string{"ESCAI_AUDIT_RETENTION_DAYS": "36500"}},
		"retention 36501":   {env: map[string]string{"ESCAI_AUDIT_RETENTION_DAYS": "36501"}, validateErr: []string{"ESCAI_AUDIT_RETENTION_DAYS"}},
		"retention words":   {env: map[string]string{"ESCAI_AUDIT_RETENTION_DAYS": "seven years"}, loadErr: []string{"ESCAI_AUDIT_RETENTION_DAYS"}},
		"audit encrypt on":  {env: map[string]string{"ESCAI_AUDIT_ENCRYPT": "on"}, key: "ESCAI_AUDIT_ENCRYPT", want: "true"},
		"audit encrypt bad": {env: map[string]string{"ESCAI_AUDIT_ENCRYPT": "aes"}, loadErr: []string{"ESCAI_AUDIT_ENCRYPT"}},
		"audit kek short":   {env: map[string]string{"ESCAI_AUDIT_KEK": "abcd"}, loadErr: []string{"ESCAI_AUDIT_KEK"}},
		"pii key short":     {env: map[string]string{"ESCAI_PII_KEY": "abcd"}, loadErr: []string{"ESCAI_PII_KEY"}},
		"signing key bad":   {env: map[string]string{"ESCAI_AUDIT_SIGNING_KEY": "escai+307869eb+AT22vLlrV4czUoaBHL8+5LpPOisKHp++9xH1BL7k7Ag2"}, loadErr: []string{"ESCAI_AUDIT_SIGNING_KEY"}},
		"level Strict":      {env: map[string]string{"ESCAI_VALIDATION_LEVEL": "Strict"}, key: "ESCAI_VALIDATION_LEVEL", want: "strict"},
		"level permissive":  {env: map[string]string{"ESCAI_VALIDATION_LEVEL": "permissive"}, key: "ESCAI_VALIDATION_LEVEL", want: "permissive"},
		"level unknown":     {env: map[string]string{"ESCAI_VALIDATION_LEVEL": "paranoid"}, validateErr: []string{"ESCAI_VALIDATION_LEVEL"}},

		"nats cluster":       {env: map[string]string{"ESCAI_NATS_URL": "tls://a:4222, tls://b:4222"}, key: "ESCAI_NATS_URL", want: "tls://a:4222,tls://b:4222"},
		"nats ws":            {env: map[string]string{"ESCAI_NATS_URL": "wss://nats.example.com/ws"}},
		"nats no scheme":     {env: map[string]string{"ESCAI_NATS_URL": "127.0.0.1:4222"}, validateErr: []string{"ESCAI_NATS_URL"}},
		"nats host:port":     {env: map[string]string{"ESCAI_NATS_URL": "localhost:4222"}, validateErr: []string{"ESCAI_NATS_URL"}},
		"nats http":          {env: map[string]string{"ESCAI_NATS_URL": "http://a:4222"}, validateErr: []string{"ESCAI_NATS_URL"}},
		"nats no host":       {env: map[string]string{"ESCAI_NATS_URL": "nats://"}, validateErr: []string{"ESCAI_NATS_URL"}},
		"nats port 65536":    {env: map[string]string{"ESCAI_NATS_URL": "nats://a:65536"}, validateErr: []string{"ESCAI_NATS_URL"}},
		"nats port 65535":    {env: map[string]string{"ESCAI_NATS_URL": "nats://a:65535"}},
		"nats empty element": {env: map[string]string{"ESCAI_NATS_URL": "nats://a,,nats://b"}, validateErr: []string{"ESCAI_NATS_URL"}},
		"nats two bad":       {env: map[string]string{"ESCAI_NATS_URL": "http://a,ftp://b"}, validateErr: []string{"ESCAI_NATS_URL", "ESCAI_NATS_URL"}},
		"nats password":      {env: map[string]string{"ESCAI_NATS_URL": "nats://svc:pa55@h:4222"}, key: "ESCAI_NATS_URL", want: "nats://svc:xxxxx@h:4222"},
		"nats token":         {env: map[string]string{"ESCAI_NATS_URL": "nats://s3cr3ttoken@h:4222"}, key: "ESCAI_NATS_URL", want: "nats://xxxxx@h:4222"},
		"nats creds":         {env: map[string]string{"ESCAI_NATS_CREDS": "/etc/nats/svc.creds"}, key: "ESCAI_NATS_CREDS", want: "/etc/nats/svc.creds"},

		"redis tls db 2":      {env: map[string]string{"ESCAI_REDIS_URL": "rediss://h:6380/2"}, key: "ESCAI_REDIS_URL", want: "rediss://h:6380/2"},
		"redis password":      {env: map[string]string{"ESCAI_REDIS_URL": "redis://:pw@h:6379/0"}, key: "ESCAI_REDIS_URL", want: "redis://:xxxxx@h:6379/0"},
		"redis user password": {env: map[string]string{"ESCAI_REDIS_URL": "redis://app:pw@h/0?password=pw2&db=1"}, key: "ESCAI_REDIS_URL", want: "redis://app:xxxxx@h/0?db=1&password=xxxxx"},
		"redis http":          {env: map[string]string{"ESCAI_REDIS_URL": "http://h:6379"}, validateErr: []string{"ESCAI_REDIS_URL"}},
		"redis db name":       {env: map[string]string{"ESCAI_REDIS_URL": "redis://h/cache"}, validateErr: []string{"ESCAI_REDIS_URL"}},
		"redis db negative":   {env: map[string]string{"ESCAI_REDIS_URL": "redis://h/-1"}, validateErr: []string{"ESCAI_REDIS_URL"}},
		"redis garbage":       {env: map[string]string{"ESCAI_REDIS_URL": "redis://:p%zz@h"}, key: "ESCAI_REDIS_URL", want: "[REDACTED]", validateErr: []string{"ESCAI_REDIS_URL"}},

		"http all interfaces": {env: map[string]string{"ESCAI_HTTP_ADDR": ":9090"}, key: "ESCAI_HTTP_ADDR", want: ":9090"},
		"http ipv6 port 0":    {env: map[string]string{"ESCAI_HTTP_ADDR": "[::1]:0"}},
		"http no port":        {env: map[string]string{"ESCAI_HTTP_ADDR": "localhost"}, validateErr: []string{"ESCAI_HTTP_ADDR"}},
		"http named port":     {env: map[string]string{"ESCAI_HTTP_ADDR": "localhost:http"}, validateErr: []string{"ESCAI_HTTP_ADDR"}},
		"http port 65536":     {env: map[string]string{"ESCAI_HTTP_ADDR": "localhost:65536"}, validateErr: []string{"ESCAI_HTTP_ADDR"}},

		"log DEBUG": {env: map[string]string{"ESCAI_LOG_LEVEL": "DEBUG"}, key: "ESCAI_LOG_LEVEL", want: "debug"},
		"log trace": {env: map[string]string{"ESCAI_LOG_LEVEL": "trace"}, validateErr: []string{"ESCAI_LOG_LEVEL"}},

		"replicas 1":     {env: map[string]string{"ESCAI_STREAM_REPLICAS": "1"}},
		"replicas 5":     {env: map[string]string{"ESCAI_STREAM_REPLICAS": "5"}, key: "ESCAI_STREAM_REPLICAS", want: "5"},
		"replicas 0":     {env: map[string]string{"ESCAI_STREAM_REPLICAS": "0"}, validateErr: []string{"ESCAI_STREAM_REPLICAS"}},
		"replicas 6":     {env: map[string]string{"ESCAI_STREAM_REPLICAS": "6"}, validateErr: []string{"ESCAI_STREAM_REPLICAS"}},
		"replicas three": {env: map[string]string{"ESCAI_STREAM_REPLICAS": "three"}, loadErr: []string{"ESCAI_STREAM_REPLICAS"}},

		"batch 1":                  {env: map[string]string{"ESCAI_STAGE_BATCH": "1"}, key: "ESCAI_STAGE_BATCH", want: "1"},
		"batch 4096":               {env: map[string]string{"ESCAI_STAGE_BATCH": "4096"}},
		"batch 0":                  {env: map[string]string{"ESCAI_STAGE_BATCH": "0"}, validateErr: []string{"ESCAI_STAGE_BATCH"}},
		"batch 4097":               {env: map[string]string{"ESCAI_STAGE_BATCH": "4097"}, validateErr: []string{"ESCAI_STAGE_BATCH"}},
		"batch float":              {env: map[string]string{"ESCAI_STAGE_BATCH": "1.5"}, loadErr: []string{"ESCAI_STAGE_BATCH"}},
		"batch blank":              {env: map[string]string{"ESCAI_STAGE_BATCH": "\t"}, key: "ESCAI_STAGE_BATCH", want: "256"},
		"batch spaces":             {env: map[string]string{"ESCAI_STAGE_BATCH": " 512 "}, key: "ESCAI_STAGE_BATCH", want: "512"},
		"workers 1":                {env: map[string]string{"ESCAI_STAGE_WORKERS": "1"}},
		"workers 64":               {env: map[string]string{"ESCAI_STAGE_WORKERS": "64"}, key: "ESCAI_STAGE_WORKERS", want: "64"},
		"workers 0":                {env: map[string]string{"ESCAI_STAGE_WORKERS": "0"}, validateErr: []string{"ESCAI_STAGE_WORKERS"}},
		"workers 65":               {env: map[string]string{"ESCAI_STAGE_WORKERS": "65"}, validateErr: []string{"ESCAI_STAGE_WORKERS"}},
		"ack = batch":              {env: map[string]string{"ESCAI_MAX_ACK_PENDING": "256"}, key: "ESCAI_MAX_ACK_PENDING", want: "256"},
		"ack < batch":              {env: map[string]string{"ESCAI_MAX_ACK_PENDING": "255"}, validateErr: []string{"ESCAI_MAX_ACK_PENDING"}},
		"ack < big batch":          {env: map[string]string{"ESCAI_STAGE_BATCH": "4096", "ESCAI_MAX_ACK_PENDING": "4095"}, validateErr: []string{"ESCAI_MAX_ACK_PENDING"}},
		"ack max":                  {env: map[string]string{"ESCAI_MAX_ACK_PENDING": "1048576"}},
		"ack over max":             {env: map[string]string{"ESCAI_MAX_ACK_PENDING": "1048577"}, validateErr: []string{"ESCAI_MAX_ACK_PENDING"}},
		"ack negative":             {env: map[string]string{"ESCAI_MAX_ACK_PENDING": "-1"}, validateErr: []string{"ESCAI_MAX_ACK_PENDING"}},
		"event bytes min":          {env: map[string]string{"ESCAI_MAX_EVENT_BYTES": "1024"}, key: "ESCAI_MAX_EVENT_BYTES", want: "1024"},
		"event bytes 1023":         {env: map[string]string{"ESCAI_MAX_EVENT_BYTES": "1023"}, validateErr: []string{"ESCAI_MAX_EVENT_BYTES"}},
		"event bytes max":          {env: map[string]string{"ESCAI_MAX_EVENT_BYTES": "8388608"}},
		"event bytes over":         {env: map[string]string{"ESCAI_MAX_EVENT_BYTES": "8388609"}, validateErr: []string{"ESCAI_MAX_EVENT_BYTES"}},
		"event bytes huge":         {env: map[string]string{"ESCAI_MAX_EVENT_BYTES": "99999999999999999999"}, loadErr: []string{"ESCAI_MAX_EVENT_BYTES"}},
		"depth 2":                  {env: map[string]string{"ESCAI_MAX_EVENT_DEPTH": "2"}, key: "ESCAI_MAX_EVENT_DEPTH", want: "2"},
		"depth 1":                  {env: map[string]string{"ESCAI_MAX_EVENT_DEPTH": "1"}, validateErr: []string{"ESCAI_MAX_EVENT_DEPTH"}},
		"depth 256":                {env: map[string]string{"ESCAI_MAX_EVENT_DEPTH": "256"}},
		"depth 257":                {env: map[string]string{"ESCAI_MAX_EVENT_DEPTH": "257"}, validateErr: []string{"ESCAI_MAX_EVENT_DEPTH"}},
		"partitions 1":             {env: map[string]string{"ESCAI_AUDIT_PARTITIONS": "1"}},
		"http ingest without keys": {env: map[string]string{"ESCAI_INGEST_HTTP_ADDR": ":8443"}, validateErr: []string{"ESCAI_JWKS_FILE", "ESCAI_JWT_ISSUER"}},
		"http ingest with keys":    {env: map[string]string{"ESCAI_INGEST_HTTP_ADDR": ":8443", "ESCAI_JWKS_FILE": "/k.json", "ESCAI_JWT_ISSUER": "https://auth"}},
		"http ingest bad addr":     {env: map[string]string{"ESCAI_INGEST_HTTP_ADDR": "nope", "ESCAI_JWKS_FILE": "/k.json", "ESCAI_JWT_ISSUER": "i"}, validateErr: []string{"ESCAI_INGEST_HTTP_ADDR"}},
		"rate agent off":           {env: map[string]string{"ESCAI_RATE_AGENT": "0"}, key: "ESCAI_RATE_AGENT", want: "0"},
		"rate agent negative":      {env: map[string]string{"ESCAI_RATE_AGENT": "-1"}, validateErr: []string{"ESCAI_RATE_AGENT"}},
		"partitions 1024":          {env: map[string]string{"ESCAI_AUDIT_PARTITIONS": "1024"}, key: "ESCAI_AUDIT_PARTITIONS", want: "1024"},
		"partitions 0":             {env: map[string]string{"ESCAI_AUDIT_PARTITIONS": "0"}, validateErr: []string{"ESCAI_AUDIT_PARTITIONS"}},
		"partitions 1025":          {env: map[string]string{"ESCAI_AUDIT_PARTITIONS": "1025"}, validateErr: []string{"ESCAI_AUDIT_PARTITIONS"}},
		"data dir":                 {env: map[string]string{"ESCAI_DATA_DIR": "/var/lib/escai"}, key: "ESCAI_DATA_DIR", want: "/var/lib/escai"},

		"several bad at once": {
			env: map[string]string{
				"ESCAI_TLS_REQUIRED": "maybe", "ESCAI_ACCESS_TOKEN_TTL": "soon", "ESCAI_STAGE_BATCH": "many",
				"ESCAI_STAGE_WORKERS": "100", "ESCAI_LOG_LEVEL": "loud",
			},
			loadErr:     []string{"ESCAI_TLS_REQUIRED", "ESCAI_ACCESS_TOKEN_TTL", "ESCAI_STAGE_BATCH"},
			validateErr: []string{"ESCAI_STAGE_WORKERS", "ESCAI_LOG_LEVEL"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg, err := Load(lookupMap(tt.env), nil)
			if cfg == nil {
				t.Fatal("Load returned a nil *Config")
			}
			checkVars(t, "Load", err, tt.loadErr)
			if tt.key != "" {
				if got := cfg.Redacted()[tt.key]; got != tt.want {
					t.Errorf("Redacted()[%s] = %q, want %q", tt.key, got, tt.want)
				}
			}
			checkVars(t, "Validate", cfg.Validate(), tt.validateErr)
		})
	}
}

// TestEveryVariableIsRead sets every documented variable to a non-default
// value and checks that Load put it into the Config. Adding a variable
// without a sample here fails the test.
func TestEveryVariableIsRead(t *testing.T) {
	t.Parallel()
	samples := map[string]string{
		"ESCAI_SECURITY_PROFILE":      "testing",
		"ESCAI_SECRET_KEY":            goodHexKey,
		"ESCAI_TLS_CERT_DIR":          "/certs",
		"ESCAI_TLS_REQUIRED":          "true",
		"ESCAI_TLS_AUTO_RENEW":        "false",
		"ESCAI_ACCESS_TOKEN_TTL":      "7m",
		"ESCAI_REFRESH_TOKEN_TTL":     "77h",
		"ESCAI_REQUIRE_MFA":           "true",
		"ESCAI_PII_SENSITIVITY":       "low",
		"ESCAI_PII_AUTO_MASK":         "false",
		"ESCAI_AUDIT_RETENTION_DAYS":  "30",
		"ESCAI_AUDIT_ENCRYPT":         "false",
		"ESCAI_AUDIT_TENANT_KEYS":     "false",
		"ESCAI_AUDIT_SIGNING_KEY":     testSigningKey,
		"ESCAI_AUDIT_KEK":             strings.Repeat("ab", 32),
		"ESCAI_PII_KEY":               strings.Repeat("cd", 32),
		"ESCAI_VALIDATION_LEVEL":      "strict",
		"ESCAI_NATS_URL":              "nats://n1:4222",
		"ESCAI_NATS_CREDS":            "/n.creds",
		"ESCAI_REDIS_URL":             "redis://r1:6379/3",
		"ESCAI_HTTP_ADDR":             ":9999",
		"ESCAI_LOG_LEVEL":             "warn",
		"ESCAI_STREAM_REPLICAS":       "3",
		"ESCAI_STAGE_BATCH":           "100",
		"ESCAI_STAGE_WORKERS":         "9",
		"ESCAI_MAX_ACK_PENDING":       "900",
		"ESCAI_MAX_EVENT_BYTES":       "2048",
		"ESCAI_MAX_EVENT_DEPTH":       "9",
		"ESCAI_AUDIT_PARTITIONS":      "7",
		"ESCAI_DATA_DIR":              "/d",
		"ESCAI_RATE_TENANT":           "11",
		"ESCAI_RATE_TENANT_BURST":     "12",
		"ESCAI_RATE_AGENT":            "13",
		"ESCAI_RATE_AGENT_BURST":      "14",
		"ESCAI_VALIDATION_RULES_FILE": "/rules.yaml",
		"ESCAI_PII_PATTERNS_FILE":     "/patterns.yaml",
		"ESCAI_PII_STRATEGIES":        "EMAIL=hash",
		"ESCAI_PII_ALLOW":             "support@acme.example",
		"ESCAI_PII_EXCLUDE":           "tool_args.sql",
		"ESCAI_INGEST_HTTP_ADDR":      ":8443",
		"ESCAI_INGEST_HTTP_MAX_BATCH": "50",
		"ESCAI_JWKS_FILE":             "/jwks.json",
		"ESCAI_JWKS_URL":              "https://auth/jwks",
		"ESCAI_JWT_ISSUER":            "https://auth",
		"ESCAI_JWT_AUDIENCE":          "ingest",
	}
	var names []string
	for _, v := range Variables() {
		names = append(names, v.Name)
	}
	if got, want := sorted(names), sorted(mapsKeys(samples)); !reflect.DeepEqual(got, want) {
		t.Fatalf("Variables() = %q, samples cover %q", got, want)
	}
	devCfg, testCfg := Default(ProfileDevelopment), Default(ProfileTesting)
	dev, def := devCfg.Redacted(), testCfg.Redacted()
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg, err := Load(lookupMap(map[string]string{name: samples[name]}), nil)
			if err != nil {
				t.Fatal(err)
			}
			got := cfg.Redacted()[name]
			if got == dev[name] && got == def[name] {
				t.Errorf("setting %s=%q left %q, the default", name, samples[name], got)
			}
		})
	}
	cfg, err := Load(lookupMap(samples), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Profile: ProfileTesting, SecretKey: goodKeyBytes(t), TLSCertDir: "/certs", TLSRequired: true,
		AccessTokenTTL: 7 * time.Minute, RefreshTokenTTL: 77 * time.Hour, RequireMFA: true,
		PIISensitivity: SensitivityLow, AuditRetentionDays: 30, ValidationLevel: LevelStrict,
		NATSURL: "nats://n1:4222", NATSCreds: "/n.creds", RedisURL: "redis://r1:6379/3", HTTPAddr: ":9999",
		LogLevel: "warn", StreamReplicas: 3, StageBatch: 100, StageWorkers: 9, MaxAckPending: 900,
		MaxEventBytes: 2048, MaxEventDepth: 9, AuditPartitions: 7, DataDir: "/d",
		RateTenant: 11, RateTenantBurst: 12, RateAgent: 13, RateAgentBurst: 14,
		ValidationRulesFile: "/rules.yaml", PIIPatternsFile: "/patterns.yaml",
		PIIStrategies: "EMAIL=hash", PIIAllow: "support@acme.example", PIIExclude: "tool_args.sql",
		IngestHTTPAddr: ":8443", IngestHTTPMaxBatch: 50, JWKSFile: "/jwks.json", JWKSURL: "https://auth/jwks",
		JWTIssuer: "https://auth", JWTAudience: "ingest", AuditSigningKey: Secret(testSigningKey), AuditKEK: Secret(bytes.Repeat([]byte{0xab}, 32)),
		PIIKey: Secret(bytes.Repeat([]byte{0xcd}, 32)),
	}
	cfg.keyLoaded, cfg.keyWeak = nil, ""
	if !reflect.DeepEqual(*cfg, want) {
		t.Errorf("Load(all samples) =\n%#v\nwant\n%#v", *cfg, want)
	}
}

// mapsKeys returns the keys of m.
func mapsKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestEnvOverridesProfile checks that a variable beats its profile default
// and that the other defaults of the profile stay.
func TestEnvOverridesProfile(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		env   map[string]string
		check func(*Config) bool
	}{
		"production access ttl": {
			env:   prodEnv(map[string]string{"ESCAI_ACCESS_TOKEN_TTL": "30m"}),
			check: func(c *Config) bool { return c.AccessTokenTTL == 30*time.Minute && c.RefreshTokenTTL == 168*time.Hour },
		},
		"high_security level": {
			env:   prodEnv(map[string]string{"ESCAI_SECURITY_PROFILE": "high_security", "ESCAI_VALIDATION_LEVEL": "standard"}),
			check: func(c *Config) bool { return c.ValidationLevel == LevelStandard && c.RequireMFA },
		},
		"development tls on": {
			env:   map[string]string{"ESCAI_TLS_REQUIRED": "1"},
			check: func(c *Config) bool { return c.TLSRequired && c.AccessTokenTTL == time.Hour },
		},
		"testing no audit encryption": {
			env:   map[string]string{"ESCAI_SECURITY_PROFILE": "testing", "ESCAI_AUDIT_ENCRYPT": "false"},
			check: func(c *Config) bool { return !c.AuditEncrypt && c.AccessTokenTTL == 15*time.Minute },
		},
		"production sensitivity": {
			env:   prodEnv(map[string]string{"ESCAI_PII_SENSITIVITY": "medium"}),
			check: func(c *Config) bool { return c.PIISensitivity == SensitivityMedium && c.TLSRequired },
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg, err := Load(lookupMap(tt.env), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(cfg) {
				t.Errorf("unexpected config %v", cfg)
			}
			if err := cfg.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

// TestFallbacks checks NATS_URL, NATS_CREDS and REDIS_URL, and that ESCAI_
// wins over them.
func TestFallbacks(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		env       map[string]string
		key, want string
	}{
		"NATS_URL":              {map[string]string{"NATS_URL": "nats://fb:4222"}, "ESCAI_NATS_URL", "nats://fb:4222"},
		"ESCAI_NATS_URL wins":   {map[string]string{"NATS_URL": "nats://fb:4222", "ESCAI_NATS_URL": "nats://esc:4222"}, "ESCAI_NATS_URL", "nats://esc:4222"},
		"blank ESCAI_NATS_URL":  {map[string]string{"NATS_URL": " nats://fb:4222\n", "ESCAI_NATS_URL": ""}, "ESCAI_NATS_URL", "nats://fb:4222"},
		"NATS_CREDS":            {map[string]string{"NATS_CREDS": "/fb.creds"}, "ESCAI_NATS_CREDS", "/fb.creds"},
		"ESCAI_NATS_CREDS wins": {map[string]string{"NATS_CREDS": "/fb.creds", "ESCAI_NATS_CREDS": "/esc.creds"}, "ESCAI_NATS_CREDS", "/esc.creds"},
		"REDIS_URL":             {map[string]string{"REDIS_URL": "redis://fb:6379/1"}, "ESCAI_REDIS_URL", "redis://fb:6379/1"},
		"ESCAI_REDIS_URL wins":  {map[string]string{"REDIS_URL": "redis://fb:6379/1", "ESCAI_REDIS_URL": "redis://esc:6379/2"}, "ESCAI_REDIS_URL", "redis://esc:6379/2"},
		"no fallback set":       {nil, "ESCAI_REDIS_URL", "redis://127.0.0.1:6379/0"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg, err := Load(lookupMap(tt.env), nil)
			if err != nil {
				t.Fatal(err)
			}
			field := map[string]string{"ESCAI_NATS_URL": cfg.NATSURL, "ESCAI_NATS_CREDS": cfg.NATSCreds, "ESCAI_REDIS_URL": cfg.RedisURL}
			if got := field[tt.key]; got != tt.want {
				t.Errorf("%s = %q, want %q", tt.key, got, tt.want)
			}
		})
	}
}

// writeFile writes a temporary file with the given mode and returns its path.
func writeFile(t *testing.T, content string, mode fs.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // not subject to umask
		t.Fatal(err)
	}
	return path
}

// TestSecretFiles covers the *_FILE variants on real files.
func TestSecretFiles(t *testing.T) {
	t.Parallel()
	keyFile := writeFile(t, goodHexKey+"\n", 0o600)
	keyFileCRLF := writeFile(t, goodHexKey+"\r\n", 0o400)
	looseKeyFile := writeFile(t, goodHexKey+"\n", 0o644)
	groupKeyFile := writeFile(t, goodHexKey, 0o640)
	emptyFile := writeFile(t, "\n", 0o600)
	bigFile := writeFile(t, strings.Repeat("k", maxSecretFileBytes+1), 0o600)
	redisFile := writeFile(t, "  "+prodRedisURL+"\n", 0o600)
	looseRedisFile := writeFile(t, prodRedisURL, 0o604)

	const keyVar, keyFileVar, redisVar, redisFileVar = "ESCAI_SECRET_KEY", "ESCAI_SECRET_KEY_FILE", "ESCAI_REDIS_URL", "ESCAI_REDIS_URL_FILE"
	tests := map[string]struct {
		env         map[string]string
		noReader    bool
		wantKey     bool // SecretKey must equal goodKeyBytes
		wantRedis   string
		loadErr     []string
		validateErr []string
	}{
		"key file":                   {env: prodEnv(map[string]string{keyVar: "", keyFileVar: keyFile}), wantKey: true},
		"key file crlf":              {env: prodEnv(map[string]string{keyVar: "", keyFileVar: keyFileCRLF}), wantKey: true},
		"key and key file":           {env: prodEnv(map[string]string{keyFileVar: keyFile}), loadErr: []string{keyVar}, validateErr: []string{keyVar}},
		"loose key file production":  {env: prodEnv(map[string]string{keyVar: "", keyFileVar: looseKeyFile}), wantKey: true, validateErr: []string{keyFileVar}},
		"group key file high":        {env: prodEnv(map[string]string{"ESCAI_SECURITY_PROFILE": "high_security", keyVar: "", keyFileVar: groupKeyFile}), wantKey: true, validateErr: []string{keyFileVar}},
		"loose key file development": {env: map[string]string{keyFileVar: looseKeyFile}, wantKey: true},
		"loose key file testing":     {env: map[string]string{"ESCAI_SECURITY_PROFILE": "testing", keyFileVar: looseKeyFile}, wantKey: true},
		"missing key file":           {env: map[string]string{keyFileVar: filepath.Join(t.TempDir(), "nope")}, loadErr: []string{keyFileVar}},
		"key file is a directory":    {env: map[string]string{keyFileVar: t.TempDir()}, loadErr: []string{keyFileVar}},
		"empty key file":             {env: map[string]string{keyFileVar: emptyFile}, loadErr: []string{keyFileVar}},
		"huge key file":              {env: map[string]string{keyFileVar: bigFile}, loadErr: []string{keyFileVar}},
		"no file reader":             {env: map[string]string{keyFileVar: keyFile}, noReader: true, loadErr: []string{keyFileVar}},
		"blank key file var":         {env: map[string]string{keyFileVar: " ", keyVar: goodHexKey}, wantKey: true},
		"redis file":                 {env: prodEnv(map[string]string{redisVar: "", redisFileVar: redisFile}), wantRedis: prodRedisURL},
		"redis file beats REDIS_URL": {env: prodEnv(map[string]string{redisVar: "", redisFileVar: redisFile, "REDIS_URL": "redis://other/0"}), wantRedis: prodRedisURL},
		"redis and redis file":       {env: prodEnv(map[string]string{redisFileVar: redisFile}), loadErr: []string{redisVar}, validateErr: []string{redisVar}},
		"loose redis file":           {env: prodEnv(map[string]string{redisVar: "", redisFileVar: looseRedisFile}), wantRedis: prodRedisURL, validateErr: []string{redisFileVar}},
		"both files loose":           {env: prodEnv(map[string]string{keyVar: "", keyFileVar: looseKeyFile, redisVar: "", redisFileVar: looseRedisFile}), wantKey: true, validateErr: []string{keyFileVar, redisFileVar}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var files FileReader = OSFiles{}
			if tt.noReader {
				files = nil
			}
			cfg, err := Load(lookupMap(tt.env), files)
			checkVars(t, "Load", err, tt.loadErr)
			if tt.wantKey && !bytes.Equal(cfg.SecretKey, goodKeyBytes(t)) {
				t.Error("SecretKey differs from the key in the file")
			}
			if tt.wantRedis != "" && cfg.RedisURL != tt.wantRedis {
				t.Errorf("RedisURL = %v, want the file's URL", redactURL(cfg.RedisURL))
			}
			checkVars(t, "Validate", cfg.Validate(), tt.validateErr)
		})
	}
}

// TestFileReaderFunc checks that Load uses the FileReader it is given and
// applies the mode it reports.
func TestFileReaderFunc(t *testing.T) {
	t.Parallel()
	var asked []string
	files := FileReaderFunc(func(name string) ([]byte, fs.FileMode, error) {
		asked = append(asked, name)
		return []byte(goodStdB64Key + "\n\n"), 0o440, nil
	})
	cfg, err := Load(lookupMap(prodEnv(map[string]string{"ESCAI_SECRET_KEY": "", "ESCAI_SECRET_KEY_FILE": "/run/secrets/k"})), files)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(asked, []string{"/run/secrets/k"}) {
		t.Errorf("ReadFile calls = %q", asked)
	}
	if !bytes.Equal(cfg.SecretKey, goodKeyBytes(t)) {
		t.Error("base64 key from the file decoded to different bytes")
	}
	err = cfg.Validate()
	checkVars(t, "Validate", err, []string{"ESCAI_SECRET_KEY_FILE"})
	want := "ESCAI_SECRET_KEY_FILE: /run/secrets/k is accessible to group or others (mode 0440), not allowed in profile production; fix: chmod 600 /run/secrets/k (Compose and Kubernetes secrets: mode 0400)"
	if err == nil || err.Error() != want {
		t.Errorf("Validate() =\n%v\nwant\n%s", err, want)
	}
}

// TestProfileSetAfterLoad checks that the file-permission rule follows the
// profile Validate sees, not the one Load saw, since a CLI may change it.
func TestProfileSetAfterLoad(t *testing.T) {
	t.Parallel()
	loose := writeFile(t, goodHexKey, 0o644)
	cfg, err := Load(lookupMap(map[string]string{"ESCAI_SECRET_KEY_FILE": loose, "ESCAI_REDIS_URL": prodRedisURL}), OSFiles{})
	if err != nil {
		t.Fatal(err)
	}
	checkVars(t, "Validate development", cfg.Validate(), nil)
	cfg.Profile, cfg.TLSRequired = ProfileProduction, true
	checkVars(t, "Validate production", cfg.Validate(), []string{"ESCAI_SECRET_KEY_FILE"})
}

// TestSecretKeyDecoding pins the decoding rule, which must never change.
func TestSecretKeyDecoding(t *testing.T) {
	t.Parallel()
	urlBytes, err := base64.RawURLEncoding.DecodeString(goodURLB64Key)
	if err != nil {
		t.Fatal(err)
	}
	short24 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1, 2, 3}, 8)) // 32 chars, decodes to 24 bytes
	tests := map[string]struct {
		in   string
		want []byte
	}{
		"hex lower": {goodHexKey, goodKeyBytes(t)},
		"hex upper": {strings.ToUpper(goodHexKey), goodKeyBytes(t)},
		// Too few digits for rule 1, and not strict base64 (its last digit
		// leaves non-zero padding bits), so raw.
		"hex 62 digits":     {goodHexKey[:62], []byte(goodHexKey[:62])},
		"base64 std padded": {goodStdB64Key, goodKeyBytes(t)},
		"base64 std raw":    {strings.TrimRight(goodStdB64Key, "="), goodKeyBytes(t)},
		"base64 url raw":    {goodURLB64Key, urlBytes},
		"raw text":          {goodRawKey, []byte(goodRawKey)},
		"base64 too short":  {short24, []byte(short24)},
		"hex with spaces":   {" " + goodHexKey, []byte(" " + goodHexKey)},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := decodeSecretKey(tt.in); !bytes.Equal(got, tt.want) {
				t.Errorf("decodeSecretKey(%q) = %x, want %x", tt.in, got, tt.want)
			}
		})
	}
}

// testSigningKey is a note signing key (Ed25519) made for these tests only.
const testSigningKey = "PRIVATE+KEY+escai+307869eb+AZ/h7s/R9GOYdI6X59eUEY3upn7b1Cv54Uv4FHoZS7cS"
