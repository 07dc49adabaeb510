package validate

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/config"
)

const policyFile = `# site policy
fields:
  keys:
    condition: sql
    ticket_ref: identifier
  paths:
    - pattern: "data.arguments.target"
      kind: path
allowed_roots: [/srv/app]
limits:
  max_string_bytes: 64
  max_object_keys: 4
  max_array_len: 3
max_future_skew: 30s
rules:
  - id: sku
    field: data.arguments.sku
    allow: '[A-Z0-9-]+'
`

func TestLoadPolicy(t *testing.T) {
	t.Parallel()
	p, err := LoadPolicy(strings.NewReader(policyFile), "policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Rules) != 1 || p.Fields.Keys["condition"] != KindSQL || p.Fields.Keys["ticket_ref"] != KindIdentifier ||
		len(p.Fields.Paths) != 1 || p.Fields.Paths[0] != (PathKind{"data.arguments.target", KindPath}) ||
		len(p.AllowedRoots) != 1 || p.Limits.MaxObjectKeys != 4 || p.Limits.MaxArrayLen != 3 || p.Limits.MaxStringBytes != 64 ||
		p.MaxFutureSkew != 30*time.Second {
		t.Fatalf("policy = %+v", p)
	}
	// LoadRules accepts the same file and returns its rules.
	if rules, err := LoadRules(strings.NewReader(policyFile), "policy.yaml"); err != nil || len(rules) != 1 {
		t.Fatalf("LoadRules: %d rules, %v", len(rules), err)
	}
}

// TestPolicyApplied: each section of a policy file changes what the
// validator decides, against a validator without it.
func TestPolicyApplied(t *testing.T) {
	t.Parallel()
	p, err := LoadPolicy(strings.NewReader(policyFile), "policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	plain := newValidator(t, config.LevelStandard)
	site := newValidator(t, config.LevelStandard, p.ApplyTo)
	cases := map[string]struct {
		data, time            string
		plainWant, policyWant Verdict
		reason                string
	}{
		// A key the policy maps to sql holds SQL: clean there, an
		// injection-looking value in an unknown key elsewhere.
		"sql key":         {`{"arguments":{"condition":"name = 'x' OR 1=1 --"}}`, "", flagged, clean, ""},
		"identifier key":  {`{"arguments":{"ticket_ref":"T 12"}}`, "", clean, rejected, ReasonInvalidIdentifier},
		"path pattern":    {`{"arguments":{"target":"../../../../etc/passwd"}}`, "", flagged, rejected, "threat_path_traversal"},
		"outside root":    {`{"arguments":{"path":"/etc/app.conf"}}`, "", clean, rejected, "threat_path_traversal"},
		"inside root":     {`{"arguments":{"path":"/srv/app/config.yaml"}}`, "", clean, clean, ""},
		"too many keys":   {`{"a":1,"b":2,"c":3,"d":4,"e":5}`, "", clean, rejected, ReasonObjectKeys},
		"array too long":  {`{"a":[1,2,3,4]}`, "", clean, rejected, ReasonArrayLength},
		"string too long": {`{"note":"` + strings.Repeat("x", 65) + `"}`, "", clean, rejected, ReasonStringLength},
		"future by 1m":    {`{}`, "2025-03-01T12:01:00Z", clean, rejected, ReasonFutureTime},
		"rule":            {`{"arguments":{"sku":"ab"}}`, "", clean, rejected, ReasonRuleAllow},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ev := testEvent(t, tc.data, tc.time)
			if got := plain.CheckEvent(ev); got.Verdict != tc.plainWant {
				t.Errorf("without the policy: %v %+v, want %v", got.Verdict, got, tc.plainWant)
			}
			got := site.CheckEvent(ev)
			if got.Verdict != tc.policyWant {
				t.Fatalf("with the policy: %v %+v, want %v", got.Verdict, got, tc.policyWant)
			}
			if tc.reason != "" && !hasReason(got, tc.reason) {
				t.Errorf("with the policy: reasons %+v, want %s", got.Reasons, tc.reason)
			}
		})
	}
}

func TestLoadPolicyErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		src  string
		line int
		want string
	}{
		"unknown section":  {"rules: []\nfeilds: {}\n", 2, `unknown key "feilds"`},
		"unknown kind":     {"fields:\n  keys:\n    where: sequel\n", 3, `unknown kind "sequel"`},
		"unknown subkey":   {"fields:\n  key: {}\n", 2, "unknown key fields.key"},
		"bad pattern":      {"fields:\n  paths:\n    - pattern: 'data.***'\n      kind: sql\n", 3, "fields.paths.pattern"},
		"path needs kind":  {"fields:\n  paths:\n    - pattern: data.x\n", 3, "needs both pattern and kind"},
		"relative root":    {"allowed_roots: [srv/app]\n", 1, "not an absolute path"},
		"limit range":      {"limits:\n  max_object_keys: 0\n", 2, "limits.max_object_keys: want an integer from 1"},
		"envelope limit":   {"limits:\n  max_depth: 10\n", 2, "ESCAI_MAX_EVENT_DEPTH"},
		"bad skew":         {"max_future_skew: soon\n", 1, "max_future_skew: want a duration"},
		"duplicate key":    {"rules: []\nrules: []\n", 2, `duplicate key "rules"`},
		"no_defaults type": {"fields:\n  no_defaults: yes please\n", 2, "no_defaults: want true or false"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, err := LoadPolicy(strings.NewReader(tc.src), "p.yaml")
			if err == nil {
				t.Fatalf("no error, policy %+v", p)
			}
			var re *RuleError
			if !errors.Is(err, ErrInvalidRules) || !errors.As(err, &re) {
				t.Fatalf("error %v is not a *RuleError wrapping ErrInvalidRules", err)
			}
			if re.Line != tc.line {
				t.Errorf("line %d, want %d (%v)", re.Line, tc.line, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

// testEvent is an envelope around data; time "" means the tests' clock.
func testEvent(t *testing.T, data, when string) *events.Envelope {
	t.Helper()
	if when == "" {
		when = fixedNow.Format(time.RFC3339)
	}
	raw := `{"specversion":"1.0","id":"p-1","source":"urn:a","type":"escai.tool.call","time":"` + when +
		`","tenant":"acme","agentid":"agent-1","data":` + data + `}`
	ev, err := events.Decode([]byte(raw), events.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	return ev
}
