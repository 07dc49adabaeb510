package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// maxSecretFileBytes bounds what Load reads from a *_FILE variable: a key or
// URL is tiny, so a large file is the wrong file.
const maxSecretFileBytes = 64 << 10

// FileReader reads the files named by *_FILE variables. OSFiles is the one
// mains use; tests may use FileReaderFunc over a map.
type FileReader interface {
	// ReadFile returns the contents of the named file and its permission bits
	// (fs.FileMode.Perm). Both should come from the same opened file, so the
	// permissions checked are those of the bytes read.
	ReadFile(name string) (data []byte, perm fs.FileMode, err error)
}

// FileReaderFunc adapts a function to FileReader.
type FileReaderFunc func(name string) ([]byte, fs.FileMode, error)

// ReadFile calls f.
func (f FileReaderFunc) ReadFile(name string) ([]byte, fs.FileMode, error) { return f(name) }

// OSFiles is the FileReader of the operating system. It follows symbolic
// links (Docker and Kubernetes secrets are links) and reports the
// permissions of the target.
type OSFiles struct{}

// ReadFile opens name, stats the open file and reads at most 64 KiB of it.
func (OSFiles) ReadFile(name string) ([]byte, fs.FileMode, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	if st.IsDir() {
		return nil, 0, fmt.Errorf("%s is a directory", name)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFileBytes+1))
	if err != nil {
		return nil, 0, err
	}
	return data, st.Mode().Perm(), nil
}

// Interface guards.
var (
	_ FileReader = OSFiles{}
	_ FileReader = FileReaderFunc(nil)
)

// LoadFromOS is Load(os.LookupEnv, OSFiles{}), for mains. Like Load it does
// not validate: apply flags, then call Validate.
func LoadFromOS() (*Config, error) {
	return Load(os.LookupEnv, OSFiles{})
}

// Load builds a Config from the profile defaults and the variables that
// lookup reports (os.LookupEnv in mains, a map in tests), reading *_FILE
// variables through files. A nil files makes any *_FILE variable an error.
//
// Load does not validate; call Validate after applying flags. It returns the
// errors of variables it cannot parse (a non-boolean, a non-duration, an
// unreadable file, an unknown profile…) joined with errors.Join, one
// *VarError per variable, so one bad variable never hides another. The
// returned Config is never nil: on error it holds every variable that did
// parse and defaults for the rest, which `escai config show` can display.
//
// A variable set to an empty or all-blank value counts as unset, as Docker
// Compose's ${VAR:-} produces.
func Load(lookup func(string) (string, bool), files FileReader) (*Config, error) {
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	var errs []error

	profile := ProfileDevelopment
	if v, ok := lookup(envProfile); ok && strings.TrimSpace(v) != "" {
		profile = Profile(strings.ToLower(strings.TrimSpace(v)))
		if !profile.known() {
			errs = append(errs, profileProblem(profile))
		}
	}
	c := Default(profile)

	set := make(map[string]bool, len(specs))
	for i := range specs {
		s := &specs[i]
		if s.set == nil {
			continue
		}
		v, ok, verr := value(&c, s, lookup, files)
		if verr != nil {
			errs = append(errs, verr)
			continue
		}
		if !ok {
			continue
		}
		set[s.name] = true
		if verr := s.set(&c, v); verr != nil {
			errs = append(errs, verr)
		}
	}
	if !set[envTLSCertDir] {
		c.TLSCertDir = filepath.Join(c.DataDir, "tls")
	}
	return &c, errors.Join(errs...)
}

// value finds the text of one variable: NAME, else NAME_FILE, else the
// fallback name. ok is false when none is set.
func value(c *Config, s *varSpec, lookup func(string) (string, bool), files FileReader) (v string, ok bool, verr *VarError) {
	v, ok = lookup(s.name)
	if strings.TrimSpace(v) == "" {
		v, ok = "", false
	} else if !s.raw {
		v = strings.TrimSpace(v)
	}
	if s.hasFile {
		fileVar := s.name + "_FILE"
		path, fok := lookup(fileVar)
		path = strings.TrimSpace(path)
		if fok && path != "" {
			if ok {
				return "", false, &VarError{
					Var:     s.name,
					Problem: fmt.Sprintf("both %s and %s are set", s.name, fileVar),
					Fix:     "set only one of them",
				}
			}
			return readSecretFile(c, s, fileVar, path, files)
		}
	}
	if !ok && s.fallback != "" {
		v, ok = lookup(s.fallback)
		v = strings.TrimSpace(v)
		ok = ok && v != ""
	}
	return v, ok, nil
}

// readSecretFile reads the file named by fileVar and records its permissions
// on c for Validate.
func readSecretFile(c *Config, s *varSpec, fileVar, path string, files FileReader) (string, bool, *VarError) {
	if files == nil {
		return "", false, &VarError{
			Var:     fileVar,
			Problem: "set, but Load was given no FileReader",
			Fix:     "call Load with config.OSFiles{}, or use LoadFromOS",
		}
	}
	data, perm, err := files.ReadFile(path)
	if err != nil {
		return "", false, &VarError{
			Var:     fileVar,
			Problem: fmt.Sprintf("cannot read %s: %v", path, err),
			Fix:     "point it at a readable file holding only the value",
		}
	}
	if len(data) > maxSecretFileBytes {
		return "", false, &VarError{
			Var:     fileVar,
			Problem: fmt.Sprintf("%s is larger than %d bytes", path, maxSecretFileBytes),
			Fix:     "point it at a file holding only the value",
		}
	}
	v := strings.TrimRight(string(data), "\r\n")
	if !s.raw {
		v = strings.TrimSpace(v)
	}
	if v == "" {
		return "", false, &VarError{
			Var:     fileVar,
			Problem: fmt.Sprintf("%s is empty", path),
			Fix:     "write the value into the file, or unset " + fileVar,
		}
	}
	c.secretFiles = append(c.secretFiles, fileSource{envVar: fileVar, path: path, perm: perm.Perm()})
	return v, true, nil
}

// parseBool accepts the usual spellings, case-insensitively.
func parseBool(v string) (b, ok bool) {
	switch strings.ToLower(v) {
	case "true", "1", "yes", "on":
		return true, true
	case "false", "0", "no", "off":
		return false, true
	}
	return false, false
}

// quote renders a non-secret value for an error message, bounded in length.
func quote(v string) string {
	const maxLen = 64
	if len(v) > maxLen {
		return strconv.Quote(v[:maxLen]) + "…"
	}
	return strconv.Quote(v)
}

// profileProblem is the error for a profile name that is not one of Profiles.
func profileProblem(p Profile) *VarError {
	return &VarError{
		Var:     envProfile,
		Problem: fmt.Sprintf("unknown profile %s", quote(string(p))),
		Fix:     "set one of " + joinNames(Profiles()),
	}
}

// joinNames lists allowed values for a fix: "a, b or c".
func joinNames[T ~string](names []T) string {
	var b strings.Builder
	for i, n := range names {
		switch {
		case i == 0:
		case i == len(names)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(string(n))
	}
	return b.String()
}

// boolVar describes a boolean variable stored in *field(c).
func boolVar(name, goField, desc string, field func(*Config) *bool) varSpec {
	return varSpec{
		name: name, field: goField, desc: desc, bare: true,
		set: func(c *Config, v string) *VarError {
			b, ok := parseBool(v)
			if !ok {
				return &VarError{Var: name, Problem: quote(v) + " is not a boolean", Fix: "set true or false"}
			}
			*field(c) = b
			return nil
		},
		show: func(c *Config) string { return strconv.FormatBool(*field(c)) },
	}
}

// durationVar describes a time.Duration variable stored in *field(c).
func durationVar(name, goField, desc string, field func(*Config) *time.Duration) varSpec {
	return varSpec{
		name: name, field: goField, desc: desc,
		set: func(c *Config, v string) *VarError {
			d, err := time.ParseDuration(v)
			if err != nil {
				return &VarError{Var: name, Problem: quote(v) + " is not a duration", Fix: "use a Go duration such as 5m, 15m, 1h or 720h"}
			}
			*field(c) = d
			return nil
		},
		show: func(c *Config) string { return field(c).String() },
	}
}

// intVar describes an integer variable stored in *field(c), valid from lo
// to hi inclusive (checked by Validate).
func intVar(name, goField, desc string, lo, hi int, field func(*Config) *int) varSpec {
	return varSpec{
		name: name, field: goField, desc: desc,
		intField: field, lo: lo, hi: hi, bare: true,
		set: func(c *Config, v string) *VarError {
			n, err := strconv.Atoi(v)
			if err != nil {
				return &VarError{Var: name, Problem: quote(v) + " is not a whole number", Fix: fmt.Sprintf("use a whole number from %d to %d", lo, hi)}
			}
			*field(c) = n
			return nil
		},
		show: func(c *Config) string { return strconv.Itoa(*field(c)) },
	}
}

// keyVar is a secret key variable (with a _FILE form) in the formats of
// ESCAI_SECRET_KEY, at least MinSecretKeyBytes after decoding.
func keyVar(name, goField, desc string, field func(*Config) *Secret) varSpec {
	return varSpec{
		name: name, field: goField, secret: true, hasFile: true, raw: true, desc: desc,
		set: func(c *Config, v string) *VarError {
			k := decodeSecretKey(v)
			if len(k) < MinSecretKeyBytes {
				return &VarError{Var: name, Problem: fmt.Sprintf("%d bytes after decoding, need at least %d", len(k), MinSecretKeyBytes),
					Fix: "generate one with: openssl rand -hex 32"}
			}
			*field(c) = k
			return nil
		},
		show: func(c *Config) string { return field(c).String() },
	}
}

// stringVar describes a string variable stored in *field(c); lower makes
// the value case-insensitive.
func stringVar(name, goField, desc string, lower bool, field func(*Config) *string) varSpec {
	return varSpec{
		name: name, field: goField, desc: desc,
		set: func(c *Config, v string) *VarError {
			if lower {
				v = strings.ToLower(v)
			}
			*field(c) = v
			return nil
		},
		show: func(c *Config) string { return *field(c) },
	}
}
