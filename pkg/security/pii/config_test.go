package pii

import (
	"errors"
	"strings"
	"testing"

	"github.com/escai-framework/escai/pkg/security/config"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		cfg    Config
		fields []string // every *ConfigError field, in order
	}{
		"zero":        {Config{}, nil},
		"full valid":  {Config{Sensitivity: config.SensitivityLow, Strategies: map[string]Strategy{"*": StrategyMask, TypeEmail: StrategyHash, "EMP": StrategyEncrypt}, Exclude: []string{"a.*.b", "**.x"}, Allow: []string{"a@b.example", "re:^x+$"}, Custom: []CustomPattern{{Name: "EMP", Regex: `E\d+`}}, Keys: Keys{Hash: make([]byte, 32), Encrypt: make([]byte, 32)}}, nil},
		"sensitivity": {Config{Sensitivity: "max"}, []string{"Sensitivity"}},
		"strategies":  {Config{Strategies: map[string]Strategy{"EMAIL": "blur", "NOPE": StrategyMask}}, []string{"Strategies[EMAIL]", "Strategies[NOPE]"}},
		"hash no key": {Config{Strategies: map[string]Strategy{TypeEmail: StrategyHash}}, []string{"Keys.Hash"}},
		"enc no key":  {Config{Custom: []CustomPattern{{Name: "X", Regex: "x", Strategy: StrategyEncrypt}}}, []string{"Keys.Encrypt"}},
		"short keys":  {Config{Keys: Keys{Hash: make([]byte, 8), Encrypt: make([]byte, 16)}}, []string{"Keys.Hash", "Keys.Encrypt"}},
		"custom":      {Config{Custom: []CustomPattern{{Name: "lower", Regex: "("}, {Name: "EMAIL", Regex: "x*"}, {Name: "A", Regex: "a", Group: 2, Validator: "crc", Score: 2, Strategy: "x", Context: []string{" "}}, {Name: "A", Regex: "b"}}}, []string{"Custom[0].Name", "Custom[0].Regex", "Custom[1].Name", "Custom[1].Regex", "Custom[2].Group", "Custom[2].Validator", "Custom[2].Score", "Custom[2].Strategy", "Custom[2].Context[0]", "Custom[3].Name"}},
		"exclude":     {Config{Exclude: []string{"", "a..b", "a.[.b"}}, []string{"Exclude[0]", "Exclude[1]", "Exclude[2]"}},
		"allow":       {Config{Allow: []string{"", "re:("}}, []string{"Allow[0]", "Allow[1]"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.Validate()
			var got []string
			for _, e := range unjoin(err) {
				var ce *ConfigError
				if e == nil {
					continue
				}
				if !errors.As(e, &ce) || !errors.Is(e, ErrInvalidConfig) {
					t.Fatalf("not a *ConfigError wrapping ErrInvalidConfig: %v", e)
				}
				got = append(got, ce.Field)
			}
			if !sameStrings(got, tc.fields) {
				t.Errorf("fields %q, want %q\n%v", got, tc.fields, err)
			}
			if _, derr := NewDetector(tc.cfg); (derr == nil) != (len(tc.fields) == 0) {
				t.Errorf("NewDetector error %v", derr)
			}
		})
	}
}

func TestConfigErrorsDoNotQuoteKeys(t *testing.T) {
	t.Parallel()
	secret := "k3y-m4t3r14l-that-must-not-leak!"
	err := Config{Keys: Keys{Hash: []byte(secret[:10]), Encrypt: []byte(secret)}}.Validate()
	if err == nil || strings.Contains(err.Error(), secret[:10]) {
		t.Fatalf("error %v", err)
	}
}

func TestNewMaskerNilDetector(t *testing.T) {
	t.Parallel()
	if _, err := NewMasker(nil, Config{}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("got %v", err)
	}
}

func TestGlob(t *testing.T) {
	t.Parallel()
	tests := map[string]map[string]bool{
		"a.b":        {"a.b": true, "a": false, "a.b.c": false, "x.b": false},
		"a.*":        {"a.b": true, "a.0": true, "a": false, "a.b.c": false},
		"**.id":      {"id": true, "a.id": true, "a.b.id": true, "a.idx": false},
		"a.**":       {"a": true, "a.b.c": true, "b": false},
		"data.x.*.y": {"x.0.y": true, "x.1.z": false},
		"a.**.c":     {"a.c": true, "a.b.c": true, "a.b.b.c": true, "a.b": false},
	}
	for g, paths := range tests {
		pg := compileGlob(g)
		for p, want := range paths {
			if got := pg.match(p); got != want {
				t.Errorf("%q.match(%q) = %v, want %v", g, p, got, want)
			}
		}
	}
}

func TestParsePatterns(t *testing.T) {
	t.Parallel()
	good := `# company identifiers
patterns:
  - name: EMPLOYEE_ID
    regex: '\bEMP-\d{6}\b'
    context: [employee, staff]
    score: 0.9
    strategy: hash
  - name: LOYALTY_CARD
    regex: '\b\d{16}\b'
    validator: luhn
`
	ps, err := ParsePatterns([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].Name != "EMPLOYEE_ID" || ps[0].Score != 0.9 || ps[0].Strategy != StrategyHash ||
		len(ps[0].Context) != 2 || ps[1].Validator != ValidatorLuhn {
		t.Fatalf("parsed %+v", ps)
	}
	js, err := ParsePatterns([]byte(`[{"name":"TICKET","regex":"TCK-[0-9]+","score":0.7}]`))
	if err != nil || len(js) != 1 || js[0].Name != "TICKET" {
		t.Fatalf("JSON: %+v %v", js, err)
	}
	tests := map[string]struct {
		in   string
		want []string // fragments of the error, in order
	}{
		"syntax":        {"patterns:\n  - name: [x\n", []string{"line "}},
		"empty":         {"", []string{"empty"}},
		"top key":       {"rules: []\n", []string{"line 1", `unknown key "rules"`}},
		"not a list":    {"patterns: 3\n", []string{"line 1", "list"}},
		"unknown field": {"- name: A\n  regex: a\n  scroe: 0.5\n", []string{"line 3", `unknown field "scroe"`}},
		"bad regex":     {"- name: A\n  regex: a\n- name: B\n  regex: '(('\n", []string{"line 3", "regex", "missing closing )"}},
		"bad type":      {"- name: A\n  regex: a\n  score: high\n", []string{"line 1", "cannot unmarshal"}},
		"duplicate":     {"- name: A\n  regex: a\n- name: A\n  regex: b\n", []string{"line 3", "already defined on line 1"}},
		"two problems":  {"- name: a\n  regex: a\n- name: B\n  regex: b\n  validator: crc\n", []string{"line 1", "name", "line 3", "validator"}},
		"not a mapping": {"- 3\n", []string{"line 1", "mapping"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := ParsePatterns([]byte(tc.in))
			if !errors.Is(err, ErrInvalidPatternFile) {
				t.Fatalf("err %v", err)
			}
			msg := err.Error()
			at := 0
			for _, w := range tc.want {
				i := strings.Index(msg[at:], w)
				if i < 0 {
					t.Fatalf("error %q lacks %q (in order %q)", msg, w, tc.want)
				}
				at += i + len(w)
			}
		})
	}
}
