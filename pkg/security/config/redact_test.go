package config

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// renderings returns every way a Config may end up in a log or terminal.
func renderings(t *testing.T, c *Config) map[string]string {
	t.Helper()
	out := map[string]string{
		"String": c.String(), "GoString": c.GoString(),
		"%v": fmt.Sprintf("%v", *c), "%+v": fmt.Sprintf("%+v", *c), "%#v": fmt.Sprintf("%#v", *c),
		"%s": fmt.Sprintf("%s", *c), "%q": fmt.Sprintf("%q", *c), "%d": fmt.Sprintf("%d", *c),
		"%x": fmt.Sprintf("%x", *c), "%X": fmt.Sprintf("%X", *c),
		"pointer %v": fmt.Sprintf("%v", c), "pointer %+v": fmt.Sprintf("%+v", c), "pointer %#v": fmt.Sprintf("%#v", c),
		"pointer %d": fmt.Sprintf("%d", c),
		"nested %+v": fmt.Sprintf("%+v", struct{ C Config }{*c}), "nested %#v": fmt.Sprintf("%#v", struct{ C *Config }{c}),
		"key %v": fmt.Sprintf("%v", c.SecretKey), "key %s": fmt.Sprintf("%s", c.SecretKey),
		"key %x": fmt.Sprintf("%x", c.SecretKey), "key %#v": fmt.Sprintf("%#v", c.SecretKey), "key %d": fmt.Sprintf("%d", c.SecretKey),
		"key %q": fmt.Sprintf("%q", c.SecretKey),
	}
	for k, v := range c.Redacted() {
		out["Redacted "+k] = v
	}
	for name, v := range map[string]any{"json": *c, "json pointer": c, "json key": c.SecretKey} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = string(b)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("start", "config", *c, "key", c.SecretKey)
	out["slog"] = buf.String()
	if err := c.Validate(); err != nil {
		out["Validate"] = err.Error()
	}
	return out
}

// TestRedaction checks that no rendering of a Config, and no error, contains
// the secret key in any encoding or the Redis or NATS password.
func TestRedaction(t *testing.T) {
	t.Parallel()
	const redisPW, natsPW = "r3d1s-Pa55word-Xq9", "n4ts-t0ken-Zk7Lw"
	tests := map[string]struct {
		env map[string]string
		key string // the secret key's text, if any
	}{
		"hex key production": {
			env: prodEnv(map[string]string{"ESCAI_REDIS_URL": "redis://:" + redisPW + "@r:6379/0", "ESCAI_NATS_URL": "nats://svc:" + natsPW + "@n:4222"}),
			key: goodHexKey,
		},
		"raw key": {env: map[string]string{"ESCAI_SECRET_KEY": goodRawKey, "ESCAI_NATS_URL": "nats://" + natsPW + "@n:4222"}, key: goodRawKey},
		"too short key": {
			env: map[string]string{"ESCAI_SECRET_KEY": "Zq8vLp2W9xR4hG7m", "ESCAI_REDIS_URL": "http://u:" + redisPW + "@r"},
			key: "Zq8vLp2W9xR4hG7m",
		},
		"weak key": {env: map[string]string{"ESCAI_SECRET_KEY": strings.Repeat("changeme", 5)}, key: strings.Repeat("changeme", 5)},
		"unparseable redis url": {
			env: map[string]string{"ESCAI_REDIS_URL": "redis://:" + redisPW + "%zz@r:6379/0", "ESCAI_NATS_URL": "nats://x:" + natsPW + "@h:bad"},
		},
		"redis password in query": {env: map[string]string{"ESCAI_REDIS_URL": "redis://r:6379/0?password=" + redisPW}},
		"redis user only":         {env: map[string]string{"ESCAI_REDIS_URL": "redis://" + redisPW + "@r:6379/0#" + natsPW}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg, err := Load(lookupMap(tt.env), nil)
			forbidden := []string{redisPW, natsPW}
			if tt.key != "" {
				if len(cfg.SecretKey) == 0 {
					t.Fatal("key not loaded")
				}
				forbidden = append(forbidden, tt.key, string(cfg.SecretKey), hex.EncodeToString(cfg.SecretKey),
					strings.ToUpper(hex.EncodeToString(cfg.SecretKey)), base64.StdEncoding.EncodeToString(cfg.SecretKey),
					fmt.Sprint([]byte(cfg.SecretKey)))
			}
			out := renderings(t, cfg)
			if err != nil {
				out["Load"] = err.Error()
			}
			for what, text := range out {
				for _, secret := range forbidden {
					if strings.Contains(text, secret) {
						t.Errorf("%s leaks a secret: %s", what, text)
					}
				}
			}
			if out["%#v"] != out["GoString"] || out["pointer %#v"] != out["GoString"] || !strings.HasPrefix(out["GoString"], "config.Config{Profile:") {
				t.Errorf("%%#v = %s, want GoString %s", out["%#v"], out["GoString"])
			}
			if out["%v"] != out["String"] || out["%+v"] != out["String"] || out["%s"] != out["String"] || out["pointer %v"] != out["String"] {
				t.Errorf("%%v = %s, want String %s", out["%v"], out["String"])
			}
			if tt.key != "" && !strings.Contains(out["String"], "ESCAI_SECRET_KEY=[REDACTED]") {
				t.Errorf("String() does not show the key as [REDACTED]: %s", out["String"])
			}
		})
	}
}

// TestRedactedValues pins what Redacted shows for secrets and URLs.
func TestRedactedValues(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		env       map[string]string
		key, want string
	}{
		"key set":                 {map[string]string{"ESCAI_SECRET_KEY": goodHexKey}, "ESCAI_SECRET_KEY", "[REDACTED]"},
		"key unset":               {nil, "ESCAI_SECRET_KEY", ""},
		"redis password":          {map[string]string{"ESCAI_REDIS_URL": "rediss://default:pw@r:6380/1"}, "ESCAI_REDIS_URL", "rediss://default:xxxxx@r:6380/1"},
		"redis no password":       {map[string]string{"ESCAI_REDIS_URL": "redis://r:6379/0"}, "ESCAI_REDIS_URL", "redis://r:6379/0"},
		"redis opaque":            {map[string]string{"ESCAI_REDIS_URL": "redis:pw@r"}, "ESCAI_REDIS_URL", "[REDACTED]"},
		"redis token query":       {map[string]string{"ESCAI_REDIS_URL": "redis://r/0?auth_token=t&db=1"}, "ESCAI_REDIS_URL", "redis://r/0?auth_token=xxxxx&db=1"},
		"nats list mixed":         {map[string]string{"ESCAI_NATS_URL": "nats://a:4222,nats://u:p@b:4222"}, "ESCAI_NATS_URL", "nats://a:4222,nats://u:xxxxx@b:4222"},
		"nats plain":              {nil, "ESCAI_NATS_URL", "nats://127.0.0.1:4222"},
		"redis comma in password": {map[string]string{"ESCAI_REDIS_URL": "redis://:pa,ss@r/0"}, "ESCAI_REDIS_URL", "redis://:xxxxx@r/0"},
		"nats comma in password":  {map[string]string{"ESCAI_NATS_URL": "nats://u:pa,ss@n:4222"}, "ESCAI_NATS_URL", "[REDACTED],[REDACTED]"},
		"redis no scheme":         {map[string]string{"ESCAI_REDIS_URL": "pw@r:6379"}, "ESCAI_REDIS_URL", "[REDACTED]"},
		"nats creds is path":      {map[string]string{"ESCAI_NATS_CREDS": "/c"}, "ESCAI_NATS_CREDS", "/c"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg, err := Load(lookupMap(tt.env), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Redacted()[tt.key]; got != tt.want {
				t.Errorf("Redacted()[%s] = %q, want %q", tt.key, got, tt.want)
			}
		})
	}
}

// TestSecretType checks the Secret type on its own: it prints redacted, but
// is still the raw bytes to code that uses it.
func TestSecretType(t *testing.T) {
	t.Parallel()
	key := Secret(goodKeyBytes(t))
	var asBytes []byte = key // assignable without conversion
	if !bytes.Equal(asBytes, goodKeyBytes(t)) {
		t.Fatal("Secret is not its bytes")
	}
	tests := map[string]struct {
		got, want string
	}{
		"%v":           {fmt.Sprintf("%v", key), "[REDACTED]"},
		"%x":           {fmt.Sprintf("%x", key), "[REDACTED]"},
		"%#v":          {fmt.Sprintf("%#v", key), "[REDACTED]"},
		"json":         {mustJSON(t, key), `"[REDACTED]"`},
		"empty String": {Secret(nil).String(), ""},
		"empty json":   {mustJSON(t, Secret(nil)), `""`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

// mustJSON marshals v.
func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestVariables pins the documented surface: names, secrecy, _FILE forms,
// fallbacks, and per-profile defaults that agree with Default.
func TestVariables(t *testing.T) {
	t.Parallel()
	wantNames := []string{
		"ESCAI_SECURITY_PROFILE", "ESCAI_SECRET_KEY", "ESCAI_TLS_CERT_DIR", "ESCAI_TLS_REQUIRED",
		"ESCAI_TLS_AUTO_RENEW", "ESCAI_ACCESS_TOKEN_TTL", "ESCAI_REFRESH_TOKEN_TTL", "ESCAI_REQUIRE_MFA",
		"ESCAI_PII_SENSITIVITY", "ESCAI_PII_AUTO_MASK", "ESCAI_AUDIT_RETENTION_DAYS", "ESCAI_AUDIT_ENCRYPT",
		"ESCAI_AUDIT_KEK", "ESCAI_AUDIT_SIGNING_KEY", "ESCAI_PII_KEY", "ESCAI_AUDIT_TENANT_KEYS", "ESCAI_VALIDATION_LEVEL", "ESCAI_NATS_URL", "ESCAI_NATS_CREDS", "ESCAI_REDIS_URL", "ESCAI_HTTP_ADDR",
		"ESCAI_LOG_LEVEL", "ESCAI_STREAM_REPLICAS", "ESCAI_STAGE_BATCH", "ESCAI_STAGE_WORKERS",
		"ESCAI_MAX_ACK_PENDING", "ESCAI_MAX_EVENT_BYTES", "ESCAI_MAX_EVENT_DEPTH", "ESCAI_AUDIT_PARTITIONS",
		"ESCAI_RATE_TENANT", "ESCAI_RATE_TENANT_BURST", "ESCAI_RATE_AGENT", "ESCAI_RATE_AGENT_BURST",
		"ESCAI_VALIDATION_RULES_FILE", "ESCAI_PII_PATTERNS_FILE", "ESCAI_PII_STRATEGIES", "ESCAI_PII_ALLOW", "ESCAI_PII_EXCLUDE", "ESCAI_INGEST_HTTP_ADDR", "ESCAI_INGEST_HTTP_MAX_BATCH", "ESCAI_JWKS_FILE",
		"ESCAI_JWKS_URL", "ESCAI_JWT_ISSUER", "ESCAI_JWT_AUDIENCE", "ESCAI_DATA_DIR",
	}
	vars := Variables()
	var names, secret, withFile []string
	fallbacks := map[string]string{}
	for _, v := range vars {
		names = append(names, v.Name)
		if v.Secret {
			secret = append(secret, v.Name)
		}
		if v.HasFile {
			withFile = append(withFile, v.Name)
		}
		if v.Fallback != "" {
			fallbacks[v.Name] = v.Fallback
		}
		if !strings.HasPrefix(v.Name, "ESCAI_") || v.Description == "" {
			t.Errorf("%+v: not an ESCAI_ name or no description", v)
		}
		for _, p := range Profiles() {
			c := Default(p)
			if got, want := v.Defaults[p], c.Redacted()[v.Name]; got != want {
				t.Errorf("%s default in %s = %q, Default gives %q", v.Name, p, got, want)
			}
		}
	}
	if !slices.Equal(names, wantNames) {
		t.Errorf("names =\n%q\nwant\n%q", names, wantNames)
	}
	if want := []string{"ESCAI_SECRET_KEY", "ESCAI_AUDIT_KEK", "ESCAI_AUDIT_SIGNING_KEY", "ESCAI_PII_KEY", "ESCAI_REDIS_URL"}; !slices.Equal(secret, want) || !slices.Equal(withFile, want) {
		t.Errorf("secret = %q, with _FILE = %q, want both %q", secret, withFile, want)
	}
	wantFallbacks := map[string]string{"ESCAI_NATS_URL": "NATS_URL", "ESCAI_NATS_CREDS": "NATS_CREDS", "ESCAI_REDIS_URL": "REDIS_URL"}
	if !reflect.DeepEqual(fallbacks, wantFallbacks) {
		t.Errorf("fallbacks = %v, want %v", fallbacks, wantFallbacks)
	}
	if got := vars[0].Defaults; got[ProfileHighSecurity] != "high_security" || got[ProfileDevelopment] != "development" {
		t.Errorf("profile defaults = %v", got)
	}

	// Redacted reports exactly the documented variables.
	cfg := Default(ProfileDevelopment)
	var redactedKeys []string
	for k := range cfg.Redacted() {
		redactedKeys = append(redactedKeys, k)
	}
	if !slices.Equal(sorted(redactedKeys), sorted(wantNames)) {
		t.Errorf("Redacted keys = %q", sorted(redactedKeys))
	}
}

// TestEveryFieldHasVariable ties Config to the variable table: each exported
// field is set by exactly one variable and appears in GoString, so a new
// field cannot be forgotten by Load, Redacted or the docs.
func TestEveryFieldHasVariable(t *testing.T) {
	t.Parallel()
	byField := map[string][]string{}
	for _, s := range specs {
		byField[s.field] = append(byField[s.field], s.name)
	}
	c := Default(ProfileProduction)
	gs := c.GoString()
	typ := reflect.TypeFor[Config]()
	exported := 0
	for i := range typ.NumField() {
		f := typ.Field(i)
		if !f.IsExported() {
			continue
		}
		exported++
		if len(byField[f.Name]) != 1 {
			t.Errorf("field %s is set by variables %q, want exactly one", f.Name, byField[f.Name])
		}
		if !strings.Contains(gs, f.Name+":") {
			t.Errorf("GoString lacks %s: %s", f.Name, gs)
		}
	}
	if exported != len(specs) {
		t.Errorf("%d exported fields, %d variables", exported, len(specs))
	}
}
