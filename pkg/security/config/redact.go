package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
)

// redactedUser replaces credentials inside URLs; url.URL.Redacted uses the
// same marker for passwords.
const redactedUser = "xxxxx"

// Redacted returns the effective configuration keyed by variable name, as
// `escai config show` prints it and start-up logs record it: the secret key
// is "[REDACTED]" ("" when unset) and credentials in the NATS and Redis URLs
// are replaced by xxxxx. The key bytes never appear.
func (c *Config) Redacted() map[string]string {
	if c == nil {
		return nil
	}
	out := make(map[string]string, len(specs))
	for i := range specs {
		out[specs[i].name] = specs[i].display(c)
	}
	return out
}

// String returns the redacted configuration as NAME=value pairs in
// documentation order.
func (c Config) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i := range specs {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(specs[i].name)
		b.WriteByte('=')
		b.WriteString(specs[i].display(&c))
	}
	b.WriteByte('}')
	return b.String()
}

// GoString returns a Go-syntax form of the redacted configuration, for %#v.
func (c Config) GoString() string {
	var b strings.Builder
	b.WriteString("config.Config{")
	for i := range specs {
		if i > 0 {
			b.WriteString(", ")
		}
		s := &specs[i]
		b.WriteString(s.field)
		b.WriteByte(':')
		switch v := s.display(&c); {
		case s.name == envSecretKey && v == "":
			b.WriteString("nil")
		case s.name == envSecretKey || s.bare:
			b.WriteString(v)
		default:
			b.WriteString(strconv.Quote(v))
		}
	}
	b.WriteByte('}')
	return b.String()
}

// Format prints the redacted configuration for every verb: GoString for
// %#v, String otherwise (%q quotes it). Without it %d or %x would walk the
// fields and print the key bytes.
func (c Config) Format(f fmt.State, verb rune) {
	var s string
	switch {
	case verb == 'v' && f.Flag('#'):
		s = c.GoString()
	case verb == 'q':
		s = strconv.Quote(c.String())
	default:
		s = c.String()
	}
	_, _ = f.Write([]byte(s))
}

// MarshalJSON encodes Redacted, so a configuration dumped as JSON is safe.
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(c.Redacted()) }

// LogValue makes log/slog record the redacted configuration as a group.
func (c Config) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, len(specs))
	for i := range specs {
		attrs = append(attrs, slog.String(specs[i].name, specs[i].display(&c)))
	}
	return slog.GroupValue(attrs...)
}

// redactURLs redacts a comma-separated list of URLs, as NATS accepts; see
// redactURL.
func redactURLs(raw string) string {
	if raw == "" {
		return ""
	}
	parts := strings.Split(raw, ",")
	for i, part := range parts {
		parts[i] = redactURL(strings.TrimSpace(part))
	}
	return strings.Join(parts, ",")
}

// redactURL redacts one URL: a password becomes xxxxx, a user without
// password (often a token) becomes xxxxx, and so do query parameters whose
// names suggest credentials; the fragment is dropped. A URL that does not
// parse, or has no scheme, is replaced entirely by [REDACTED].
func redactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.Scheme == "" {
		// Credentials cannot be located reliably; this also covers the
		// tail of a password containing a comma in a NATS list.
		return redacted
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), redactedUser)
		} else {
			u.User = url.User(redactedUser)
		}
	}
	if u.RawQuery != "" {
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			u.RawQuery = redactedUser
		} else {
			changed := false
			for k := range q {
				if credentialParam(k) {
					q[k] = []string{redactedUser}
					changed = true
				}
			}
			if changed {
				u.RawQuery = q.Encode()
			}
		}
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

// credentialParam reports whether a query parameter name suggests a credential.
func credentialParam(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"pass", "pwd", "secret", "token", "key", "auth", "cred"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}
