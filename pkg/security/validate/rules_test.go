package validate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/escai-framework/escai/pkg/security/config"
)

func TestLoadRulesFiles(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"rules.yaml", "rules.json"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, err := os.Open(filepath.Join("testdata", "rules", name))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rules, err := LoadRules(f, name)
			if err != nil {
				t.Fatalf("LoadRules: %v", err)
			}
			if len(rules) != 3 {
				t.Fatalf("%d rules, want 3", len(rules))
			}
			r := rules[0]
			if r.ID != "order-sku" || r.Field != "data.arguments.sku" || !r.Required || r.Type != "string" || r.MaxLength != 12 || r.Allow != "[A-Z0-9-]+" || r.Line == 0 {
				t.Fatalf("rule 0 = %+v", r)
			}
			if rules[1].Deny == "" || rules[1].Threat != "ssrf" {
				t.Fatalf("rule 1 = %+v", rules[1])
			}
		})
	}
}

func TestLoadRulesErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		src  string
		line int
		want string
	}{
		"unknown key":              {"rules:\n  - id: a\n    field: data.x\n    max_lenght: 5\n", 4, `unknown key "max_lenght"`},
		"bad regex":                {"rules:\n  - id: a\n    field: data.x\n    allow: '(unclosed'\n", 4, "allow: not an RE2 expression"},
		"backreference is not RE2": {"rules:\n  - id: a\n    field: data.x\n    deny: '(a)\\1'\n", 4, "deny: not an RE2 expression"},
		"bad type":                 {"rules:\n  - id: a\n    field: data.x\n    type: text\n", 4, `type: unknown type "text"`},
		"bad required":             {"rules:\n  - id: a\n    field: data.x\n    required: maybe\n", 4, "required: want true or false"},
		"bad max_length":           {"rules:\n  - id: a\n    field: data.x\n    max_length: ten\n", 4, "max_length: want an integer"},
		"negative max_length":      {"rules:\n  - id: a\n    field: data.x\n    max_length: -1\n", 4, "max_length: must not be negative"},
		"missing id":               {"rules:\n  - field: data.x\n    type: string\n", 2, "id: must match"},
		"missing field":            {"rules:\n  - id: a\n    type: string\n", 2, "field: empty pattern"},
		"checks nothing":           {"rules:\n  - id: a\n    field: data.x\n", 2, "checks nothing"},
		"threat without deny":      {"rules:\n  - id: a\n    field: data.x\n    type: string\n    threat: x\n", 5, "threat: only means something with deny"},
		"bad threat name":          {"rules:\n  - id: a\n    field: data.x\n    deny: x\n    threat: Bad-Name\n", 5, "threat: must match"},
		"duplicate id":             {"rules:\n  - id: a\n    field: data.x\n    type: string\n  - id: a\n    field: data.y\n    type: string\n", 5, `duplicate id "a", first on line 2`},
		"duplicate key":            {"rules:\n  - id: a\n    field: data.x\n    field: data.y\n    type: string\n", 4, `duplicate key "field"`},
		"not a list":               {"rules: {}\n", 1, "rules must be a list"},
		"other top-level key":      {"rules: []\nextra: 1\n", 2, `unknown key "extra"`},
		"syntax error":             {"rules:\n  - id: a\n   field: [\n", -1, "did not find"},
		"empty":                    {"  \n", 0, "empty"},
		"nested value":             {"rules:\n  - id: a\n    field: [a, b]\n", 3, "field: must be a single value"},
		"scalar rule":              {"rules:\n  - just text\n", 2, "a rule must be a mapping"},
		"json unknown key":         {"{\"rules\": [{\"id\": \"a\", \"field\": \"data.x\", \"typ\": \"string\"}]}", 1, `unknown key "typ"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rules, err := LoadRules(strings.NewReader(tc.src), "r.yaml")
			if err == nil {
				t.Fatalf("no error, rules %+v", rules)
			}
			if !errors.Is(err, ErrInvalidRules) {
				t.Fatalf("error %v does not wrap ErrInvalidRules", err)
			}
			var re *RuleError
			if !errors.As(err, &re) {
				t.Fatalf("error %v is not a *RuleError", err)
			}
			if re.Line != tc.line && !(tc.line < 0 && re.Line > 0) {
				t.Errorf("line %d, want %d (%v)", re.Line, tc.line, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			if !strings.HasPrefix(re.Error(), "validate: invalid rule file: r.yaml") {
				t.Errorf("error %q does not name the file", re.Error())
			}
		})
	}
}

func TestLoadRulesReportsEveryProblem(t *testing.T) {
	t.Parallel()
	src := "rules:\n  - id: a\n    field: data.x\n    type: nope\n  - id: b\n    field: data.y\n    allow: '('\n"
	_, err := LoadRules(strings.NewReader(src), "r.yaml")
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"r.yaml:4: type", "r.yaml:7: allow"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestRulesApplied(t *testing.T) {
	t.Parallel()
	f, err := os.Open(filepath.Join("testdata", "rules", "rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	rules, err := LoadRules(f, "rules.yaml")
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	mk := func(level config.ValidationLevel) *Validator {
		return newValidator(t, level, func(c *Config) { c.Rules = rules })
	}
	std, perm, strict := mk(config.LevelStandard), mk(config.LevelPermissive), mk(config.LevelStrict)
	cases := map[string]struct {
		data    string
		v       *Validator
		verdict Verdict
		reason  string
		threat  string
	}{
		"all good":                        {`{"arguments":{"sku":"AB-12","qty":3}}`, std, clean, "", ""},
		"required missing":                {`{"arguments":{"qty":3}}`, std, rejected, ReasonRuleRequired, ""},
		"wrong type":                      {`{"arguments":{"sku":12,"qty":3}}`, std, rejected, ReasonRuleType, ""},
		"too long":                        {`{"arguments":{"sku":"ABCDEFGHIJKLM","qty":3}}`, std, rejected, ReasonRuleMaxLength, ""},
		"not allowed":                     {`{"arguments":{"sku":"ab-12","qty":3}}`, std, rejected, ReasonRuleAllow, ""},
		"allow is anchored":               {`{"arguments":{"sku":"AB-12 x","qty":3}}`, std, rejected, ReasonRuleAllow, ""},
		"integer type":                    {`{"arguments":{"sku":"AB","qty":2.5}}`, std, rejected, ReasonRuleType, ""},
		"deny rejects at standard":        {`{"arguments":{"sku":"AB","qty":1,"url":"http://169.254.169.254/latest"}}`, std, rejected, "threat_ssrf", "ssrf"},
		"deny flags at permissive":        {`{"arguments":{"sku":"AB","qty":1,"url":"http://169.254.169.254/latest"}}`, perm, flagged, "", "ssrf"},
		"structure rejects at permissive": {`{"arguments":{"qty":1}}`, perm, rejected, ReasonRuleRequired, ""},
		"deny in text rejects at strict":  {`{"arguments":{"sku":"AB","qty":1},"output":{"url":"see http://169.254.169.254/"}}`, strict, rejected, "threat_ssrf", "ssrf"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := tc.v.CheckEvent(envelope(t, tc.data))
			if r.Verdict != tc.verdict {
				t.Fatalf("verdict %s, want %s: %v %+v", r.Verdict, tc.verdict, reasonCodes(r), r.Threats)
			}
			if tc.reason != "" && !hasReason(r, tc.reason) {
				t.Errorf("reasons %v lack %s", reasonCodes(r), tc.reason)
			}
			if tc.threat != "" {
				found := false
				for _, th := range r.Threats {
					found = found || (th.Type == tc.threat && th.Rule == "no-metadata-endpoint")
				}
				if !found {
					t.Errorf("no %s threat from the rule: %+v", tc.threat, r.Threats)
				}
			}
		})
	}
	// CheckField applies rules to the field but not "required".
	if r := std.CheckField("data.arguments.sku", "lower"); !hasReason(r, ReasonRuleAllow) || hasReason(r, ReasonRuleRequired) {
		t.Fatalf("CheckField with rules: %v", reasonCodes(r))
	}
}
