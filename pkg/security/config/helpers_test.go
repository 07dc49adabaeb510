package config

import (
	"encoding/hex"
	"errors"
	"maps"
	"slices"
	"testing"
)

// Key fixtures: random bytes in the three accepted encodings.
const (
	goodHexKey    = "b163cb0403993f113ab781bf54196b0b9a71b476b5cd74a8987984a2254b4232"
	goodStdB64Key = "sWPLBAOZPxE6t4G/VBlrC5pxtHa1zXSomHmEoiVLQjI=" // same bytes as goodHexKey
	goodURLB64Key = "dL7TA3cxFlOzwoCWUKXV5mq7a6Cz86p_fZ_xx9zdxEo"
	goodRawKey    = "0pmZbojY%vZu&j15D&%oJqivzso2oaeA%jLFSBdD" // not base64: '%', '&'
	prodRedisURL  = "redis://:s3cr3t-redis-pw-4f1a9c@redis:6379/0"
)

// goodKeyBytes is goodHexKey decoded.
func goodKeyBytes(t testing.TB) []byte {
	t.Helper()
	b, err := hex.DecodeString(goodHexKey)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// lookupMap turns a map into the lookup function Load takes.
func lookupMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// prodEnv is a production environment that validates cleanly, with extra
// variables merged in (an empty value deletes).
func prodEnv(extra map[string]string) map[string]string {
	m := map[string]string{
		"ESCAI_SECURITY_PROFILE": "production",
		"ESCAI_SECRET_KEY":       goodHexKey,
		"ESCAI_REDIS_URL":        prodRedisURL,
	}
	maps.Copy(m, extra)
	for k, v := range m {
		if v == "" {
			delete(m, k)
		}
	}
	return m
}

// varNames returns the sorted Var of every *VarError in a joined error tree.
// An error that is not a *VarError shows up as "!" plus its text, so that it
// fails any comparison.
func varNames(err error) []string {
	var out []string
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		var ve *VarError
		if errors.As(e, &ve) {
			out = append(out, ve.Var)
			return
		}
		out = append(out, "!"+e.Error())
	}
	walk(err)
	slices.Sort(out)
	return out
}

// sorted returns a sorted copy, nil for empty, to compare with varNames.
func sorted(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// checkVars fails unless err holds exactly the *VarError variables want.
func checkVars(t *testing.T, what string, err error, want []string) {
	t.Helper()
	if got := varNames(err); !slices.Equal(got, sorted(want)) {
		t.Errorf("%s: variables in error = %q, want %q\nerror: %v", what, got, sorted(want), err)
	}
}
