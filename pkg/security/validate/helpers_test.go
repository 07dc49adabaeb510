package validate

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/config"
)

// fixedNow is the clock of the tests.
var fixedNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func newValidator(t testing.TB, level config.ValidationLevel, mod ...func(*Config)) *Validator {
	t.Helper()
	cfg := DefaultConfig(level)
	cfg.Now = func() time.Time { return fixedNow }
	for _, m := range mod {
		m(&cfg)
	}
	v, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return v
}

// detectCase is one line of a detector table: a value at a path, the
// threat type expected (or "" for none that is not informational) and the
// verdict at the standard level.
type detectCase struct {
	field   string
	value   string
	threat  string
	verdict Verdict
}

func runDetectTable(t *testing.T, cases map[string]detectCase) {
	t.Helper()
	v := newValidator(t, config.LevelStandard)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := v.CheckField(tc.field, tc.value)
			if r.Verdict != tc.verdict {
				t.Errorf("CheckField(%q, %q): verdict %s, want %s; threats %+v reasons %+v", tc.field, tc.value, r.Verdict, tc.verdict, r.Threats, r.Reasons)
			}
			got := ""
			for _, th := range r.Threats {
				if !th.Informational {
					got = th.Type
					break
				}
			}
			if tc.threat != "" && !hasThreat(r, tc.threat) {
				t.Errorf("CheckField(%q, %q): no %s threat; threats %+v", tc.field, tc.value, tc.threat, r.Threats)
			}
			if tc.threat == "" && got != "" {
				t.Errorf("CheckField(%q, %q): unexpected threat %+v", tc.field, tc.value, r.Threats)
			}
			for _, th := range r.Threats {
				if th.Field != tc.field {
					t.Errorf("threat field %q, want %q", th.Field, tc.field)
				}
				if len(th.Fingerprint) != 8 || strings.Trim(th.Fingerprint, "0123456789abcdef") != "" {
					t.Errorf("fingerprint %q is not 8 lower-case hex digits", th.Fingerprint)
				}
				if strings.Contains(tc.value, th.Fingerprint) && len(tc.value) > 8 {
					t.Errorf("fingerprint %q repeats the value", th.Fingerprint)
				}
			}
		})
	}
}

func hasThreat(r Result, typ string) bool {
	for _, th := range r.Threats {
		if th.Type == typ && !th.Informational {
			return true
		}
	}
	return false
}

func hasInfo(r Result, typ string) bool {
	for _, th := range r.Threats {
		if th.Type == typ && th.Informational {
			return true
		}
	}
	return false
}

func reasonCodes(r Result) []string {
	out := make([]string, 0, len(r.Reasons))
	for _, re := range r.Reasons {
		out = append(out, re.Code)
	}
	return out
}

func hasReason(r Result, code string) bool {
	for _, re := range r.Reasons {
		if re.Code == code {
			return true
		}
	}
	return false
}

// envelope returns a valid event with data.
func envelope(t testing.TB, data string) *events.Envelope {
	t.Helper()
	if data != "" && !json.Valid([]byte(data)) {
		t.Fatalf("test data is not valid JSON: %s", data)
	}
	return &events.Envelope{
		SpecVersion: "1.0", ID: "evt-1", Source: "https://agents.example.com/acme/agent-1",
		Type: "escai.tool.call", Time: fixedNow, DataContentType: "application/json",
		Data: json.RawMessage(data), Tenant: "acme", AgentID: "agent-1",
	}
}
