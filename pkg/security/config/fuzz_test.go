package config

import (
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary values for the secret key, a duration, the Redis
// URL and an integer through Load, Validate and every rendering. It must
// never panic, and neither the key nor a Redis password may show up in any
// output or error.
func FuzzLoad(f *testing.F) {
	seeds := [][4]string{
		{goodHexKey, "15m", prodRedisURL, "256"},
		{goodStdB64Key, "1h", "rediss://user:pw@h:6380/1?password=x", "4096"},
		{goodURLB64Key, "1ns", "redis://r:6379/0", "1"},
		{goodRawKey, "720h", "redis://" + strings.Repeat("t", 20) + "@r/0", "4097"},
		{"changeme", "0s", "redis://", "0"},
		{"Zq8vLp2W9xR4hG7mQ", "5m", "redis://:" + strings.Repeat("q", 17) + "@r/0", "2"},
		{"", "-1h", "http://x", "abc"},
		{strings.Repeat("a", 64), "9999999999h", "redis://:p%zz@h", "99999999999999999999"},
		{"your-secret-key-here-change-me-please-thanks", "1.5h", "redis:pw@h", " 12 "},
		{"\x00\xff\n", "\n", "redis://[::1]:6379/0", "-1"},
		{strings.Repeat("0", 63), "1h", "redis://u:" + strings.Repeat("p", 30) + "@h:99999/x#frag", "8"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2], s[3])
	}
	reference := referenceText()

	f.Fuzz(func(t *testing.T, key, ttl, redisURL, batch string) {
		for _, profile := range []string{"development", "production", "high_security"} {
			for _, viaFile := range []bool{false, true} {
				env := map[string]string{
					"ESCAI_SECURITY_PROFILE": profile,
					"ESCAI_SECRET_KEY":       key,
					"ESCAI_ACCESS_TOKEN_TTL": ttl,
					"ESCAI_REDIS_URL":        redisURL,
					"ESCAI_STAGE_BATCH":      batch,
				}
				files := FileReaderFunc(func(string) ([]byte, fs.FileMode, error) { return []byte(key), 0o644, nil })
				if viaFile {
					delete(env, "ESCAI_SECRET_KEY")
					env["ESCAI_SECRET_KEY_FILE"] = "/run/secrets/k"
				}
				cfg, loadErr := Load(lookupMap(env), files)
				if cfg == nil {
					t.Fatal("Load returned a nil *Config")
				}
				checkNoLeak(t, cfg, loadErr, reference, key, ttl, redisURL, batch)
			}
		}
	})
}

// checkNoLeak renders cfg every way and looks for the secrets in the output.
// A secret shorter than 16 bytes, or one that also occurs in text that is
// legitimately shown (a non-secret input, a fixed message), proves nothing
// and is skipped.
func checkNoLeak(t *testing.T, cfg *Config, loadErr error, reference, key, ttl, redisURL, batch string) {
	t.Helper()
	out := []string{cfg.String(), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%x", cfg)}
	for _, v := range cfg.Redacted() {
		out = append(out, v)
	}
	if loadErr != nil {
		out = append(out, loadErr.Error())
	}
	if err := cfg.Validate(); err != nil {
		out = append(out, err.Error())
	}
	all := strings.Join(out, "\n")

	// Text legitimately shown whatever the secrets are.
	shown := []string{reference, ttl, quote(ttl), batch, quote(batch),
		cfg.AccessTokenTTL.String(), strconv.Itoa(cfg.StageBatch)}
	check := func(secret string, alsoShown ...string) {
		if len(secret) < 16 || containedIn(secret, shown) || containedIn(secret, alsoShown) {
			return
		}
		if strings.Contains(all, secret) {
			t.Fatalf("secret %q leaked into:\n%s", secret, all)
		}
	}

	// The key may coincide with the redacted Redis URL, which is shown.
	for _, secret := range []string{key, string(cfg.SecretKey), hex.EncodeToString(cfg.SecretKey)} {
		check(secret, redactURL(redisURL))
	}

	// A Redis password (or a user without password, often a token) may
	// coincide with the rest of the URL, which is shown.
	if u, err := url.Parse(redisURL); err == nil && u.User != nil {
		rest := *u
		rest.User = nil
		restShown := []string{rest.String(), u.Scheme, u.Host, u.Path, u.RawQuery, u.Fragment, u.Query().Encode()}
		if pw, ok := u.User.Password(); ok {
			check(pw, restShown...)
		} else {
			check(u.User.Username(), restShown...)
		}
	}
}

// containedIn reports whether s occurs in any of texts.
func containedIn(s string, texts []string) bool {
	for _, t := range texts {
		if strings.Contains(t, s) {
			return true
		}
	}
	return false
}

// referenceText is every fixed message and default a rendering may contain,
// so that a fuzzed secret equal to part of it is not taken for a leak.
func referenceText() string {
	var b strings.Builder
	for _, v := range Variables() {
		b.WriteString(v.Name + " " + v.Description + "\n")
	}
	for _, p := range append(Profiles(), "nope") {
		for _, key := range []string{"", "short", strings.Repeat("changeme", 4), goodHexKey} {
			c := Default(p)
			c.SecretKey = []byte(key)
			c.RedisURL, c.NATSURL, c.HTTPAddr = "http://[", "ftp://x,", "x"
			c.secretFiles = []fileSource{{envVar: "ESCAI_SECRET_KEY_FILE", path: "/run/secrets/k", perm: 0o644}}
			b.WriteString(c.String() + "\n" + fmt.Sprintf("%#v", c) + "\n")
			if err := c.Validate(); err != nil {
				b.WriteString(err.Error() + "\n")
			}
		}
	}
	_, err := Load(lookupMap(map[string]string{
		"ESCAI_SECRET_KEY": "k", "ESCAI_SECRET_KEY_FILE": "/k", "ESCAI_STAGE_BATCH": "x", "ESCAI_ACCESS_TOKEN_TTL": "x",
	}), nil)
	b.WriteString(err.Error())
	return b.String()
}
