package validate

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/escai-framework/escai/pkg/security/config"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		mod   func(*Config)
		field string
	}{
		"level":         {func(c *Config) { c.Level = "paranoid" }, "Level"},
		"depth":         {func(c *Config) { c.Limits.MaxDepth = -1 }, "Limits.MaxDepth"},
		"event bytes":   {func(c *Config) { c.Limits.MaxEventBytes = 10 }, "Limits.MaxEventBytes"},
		"string bytes":  {func(c *Config) { c.Limits.MaxStringBytes = 1 << 30 }, "Limits.MaxStringBytes"},
		"keys":          {func(c *Config) { c.Limits.MaxObjectKeys = -5 }, "Limits.MaxObjectKeys"},
		"array":         {func(c *Config) { c.Limits.MaxArrayLen = -5 }, "Limits.MaxArrayLen"},
		"skew":          {func(c *Config) { c.MaxFutureSkew = -1 }, "MaxFutureSkew"},
		"path pattern":  {func(c *Config) { c.Fields.Paths = []PathKind{{Pattern: "", Kind: KindSQL}} }, "Fields.Paths[0].Pattern"},
		"path kind":     {func(c *Config) { c.Fields.Paths = []PathKind{{Pattern: "a", Kind: 99}} }, "Fields.Paths[0].Kind"},
		"key kind":      {func(c *Config) { c.Fields.Keys = map[string]FieldKind{"x": -2} }, `Fields.Keys["x"]`},
		"empty key":     {func(c *Config) { c.Fields.Keys = map[string]FieldKind{" ": KindSQL} }, "Fields.Keys"},
		"relative root": {func(c *Config) { c.AllowedRoots = []string{"srv/app"} }, "AllowedRoots[0]"},
		"rule":          {func(c *Config) { c.Rules = []Rule{{ID: "a", Field: "x", Allow: "("}} }, "Rules[0].Allow"},
		"duplicate rule": {func(c *Config) {
			c.Rules = []Rule{{ID: "a", Field: "x", Type: "string"}, {ID: "a", Field: "y", Type: "string"}}
		}, "Rules[1].ID"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := DefaultConfig(config.LevelStandard)
			tc.mod(&cfg)
			err := cfg.Validate()
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate() = %v, want ErrInvalidConfig", err)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != tc.field {
				t.Fatalf("field %q, want %q (%v)", ce.Field, tc.field, err)
			}
			if _, err := New(cfg); !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("New accepted an invalid config: %v", err)
			}
		})
	}
}

func TestConfigValidateJoinsAll(t *testing.T) {
	t.Parallel()
	cfg := Config{Level: "x", MaxFutureSkew: -1, AllowedRoots: []string{"rel"}}
	err := cfg.Validate()
	for _, f := range []string{"Level", "MaxFutureSkew", "AllowedRoots[0]"} {
		if !strings.Contains(err.Error(), f+":") {
			t.Errorf("%v lacks %s", err, f)
		}
	}
}

func TestZeroConfigIsDefaults(t *testing.T) {
	t.Parallel()
	v, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Level() != config.LevelStandard || v.limits != DefaultLimits() || v.skew != DefaultMaxFutureSkew {
		t.Fatalf("zero config: level %s limits %+v skew %v", v.Level(), v.limits, v.skew)
	}
	if r := v.CheckField("data.arguments.path", "../../etc/passwd"); r.Verdict != VerdictRejected {
		t.Fatalf("zero config does not reject traversal: %s", r.Verdict)
	}
}

func TestFieldPolicyOverrides(t *testing.T) {
	t.Parallel()
	v := newValidator(t, config.LevelStandard, func(c *Config) {
		c.Fields.Keys = map[string]FieldKind{
			"stmt_text":   KindSQL,
			"x-trace-*":   KindHeader,
			"description": KindPath,
		}
		c.Fields.Paths = []PathKind{
			{Pattern: "data.tools[*].spec.**", Kind: KindSource},
			{Pattern: "**.legacy.query", Kind: KindSQL},
		}
	})
	cases := map[string]struct {
		field, value string
		want         Verdict
	}{
		"key override to code": {"data.arguments.stmtText", "1' OR '1'='1", clean},
		"prefix key":           {"data.x-trace-id", "a\r\nSet-Cookie: x", rejected},
		"override a default":   {"data.description", "../../etc/passwd", rejected},
		"glob with index":      {"data.tools[3].spec.body.x", "<script>alert(1)</script>", clean},
		"glob does not match":  {"data.tools.spec.body", "<script>alert(1)</script>", flagged},
		"double star":          {"data.a.b.legacy.query", "SELECT * FROM t WHERE x = 1 OR 1=1", clean},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if r := v.CheckField(tc.field, tc.value); r.Verdict != tc.want {
				t.Fatalf("%s = %q: %s, want %s (%+v)", tc.field, tc.value, r.Verdict, tc.want, r.Threats)
			}
		})
	}
}

func TestNoDefaults(t *testing.T) {
	t.Parallel()
	v := newValidator(t, config.LevelStandard, func(c *Config) { c.Fields.NoDefaults = true })
	// sql is unknown now: an injection flags instead of being expected.
	if r := v.CheckField("data.arguments.sql", "1' OR '1'='1"); r.Verdict != VerdictFlagged {
		t.Fatalf("verdict %s", r.Verdict)
	}
}

func TestPathKind(t *testing.T) {
	t.Parallel()
	v := newValidator(t, config.LevelStandard)
	cases := map[string]FieldKind{
		"tenant":                              KindIdentifier,
		"data.arguments.sql":                  KindSQL,
		"data.arguments.file_path":            KindPath,
		"data.arguments.filePath":             KindPath,
		"data.arguments.output_dir":           KindPath,
		"data.arguments.error_message":        KindText,
		"data.arguments.command_line":         KindShell,
		"data.arguments.headers.X-Api-Key":    KindHeader,
		"data.attributes.gen_ai.prompt":       KindText,
		"data.attributes.gen_ai.tool.name":    KindName,
		"data.tool_calls[0].function.name":    KindName,
		"data.gen_ai.tool.call.arguments":     KindArguments,
		"data.attributes.db.query.text":       KindSQL,
		"data.http.request.header.user-agent": KindHeader,
		"data.messages[2].content":            KindText,
		"data.input.customer_id":              KindUnknown,
		"data.profile":                        KindUnknown,
		"data.arguments.content_type":         KindHeader,
	}
	for path, want := range cases {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			c := v.get()
			defer v.put(c)
			c.path = append(c.path[:0], path...)
			e, mapped, inherit, _ := c.pathKind(path)
			got := e.str
			if !mapped {
				got = inherit
			}
			if got != want {
				t.Fatalf("kind %s, want %s", got, want)
			}
		})
	}
}

func TestFieldKindNames(t *testing.T) {
	t.Parallel()
	for k := FieldKind(0); k < kindCount; k++ {
		got, ok := ParseFieldKind(strings.ToUpper(k.String()))
		if !ok || got != k {
			t.Errorf("ParseFieldKind(%q) = %v, %v", k.String(), got, ok)
		}
		b, _ := json.Marshal(k)
		var back FieldKind
		if err := json.Unmarshal(b, &back); err != nil || back != k {
			t.Errorf("JSON round trip of %s: %s, %v", k, b, err)
		}
	}
	if _, ok := ParseFieldKind("nope"); ok {
		t.Error("ParseFieldKind accepted nope")
	}
	var k FieldKind
	if err := json.Unmarshal([]byte(`"nope"`), &k); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("UnmarshalText error %v", err)
	}
	if got := FieldKind(99).String(); got != "FieldKind(99)" {
		t.Errorf("String() = %q", got)
	}
}

func TestGlobMatch(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		pattern, path string
		want          bool
	}{
		"literal":               {"data.a", "data.a", true},
		"literal mismatch":      {"data.a", "data.b", false},
		"star one key":          {"data.*.sql", "data.args.sql", true},
		"star is one key only":  {"data.*.sql", "data.a.b.sql", false},
		"star stops at index":   {"data.*", "data.a[0]", false},
		"double star":           {"**.sql", "data.a.b.sql", true},
		"double star zero keys": {"data.**sql", "data.sql", true},
		"index":                 {"data.m[*].content", "data.m[12].content", true},
		"index needs digits":    {"data.m[*].content", "data.m[].content", false},
		"late double star":      {"**.x.*", "a.x.b.x.c", true},
		"prefix":                {"data.arguments.*", "data.arguments.q", true},
		"trailing":              {"data.arguments.*", "data.arguments", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var buf []bool
			if got := globMatch(tc.pattern, tc.path, &buf); got != tc.want {
				t.Fatalf("globMatch(%q, %q) = %v", tc.pattern, tc.path, got)
			}
		})
	}
}

func TestCanonical(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		in, want string
	}{
		"plain":                {"a/b", "a/b"},
		"percent":              {"..%2f..%2fetc", "../../etc"},
		"double":               {"%252e%252e%252f", "../"},
		"triple":               {"%25252e", "."},
		"iis unicode":          {"%u002e%u2215", "./"},
		"overlong dot":         {"%c0%ae%c0%ae/", "../"},
		"overlong slash":       {"..%c0%af", "../"},
		"overlong 3 bytes":     {"%e0%80%ae", "."},
		"iis invalid overlong": {"..%c1%1c", `..\`},
		"fullwidth":            {"．．／", "../"},
		"malformed kept":       {"100%", "100%"},
		"bad hex kept":         {"%zz%2", "%zz%2"},
		"non-ascii kept":       {"résumé%20v2", "résumé v2"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var d decoder
			got, _ := d.canonical(tc.in, false)
			if string(got) != tc.want {
				t.Fatalf("canonical(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestAnalyzePath(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		in                      string
		abs                     bool
		ups, aboveStart, maxRun int
		obfuscated              bool
	}{
		"relative":      {"a/b/c", false, 0, 0, 0, false},
		"one up":        {"../a", false, 1, 1, 1, false},
		"up down up":    {"a/../../b", false, 2, 1, 2, false},
		"absolute":      {"/var/www/../../../etc", true, 3, 1, 3, false},
		"windows":       {`C:\a\..\b`, true, 1, 0, 1, false},
		"dots":          {"..../....//etc", false, 2, 2, 2, true},
		"tomcat":        {"..;/x", false, 1, 1, 1, true},
		"ellipsis name": {"a/.../b", false, 1, 0, 1, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			pi := analyzePath([]byte(tc.in))
			if pi.abs != tc.abs || pi.ups != tc.ups || pi.aboveStart != tc.aboveStart || pi.maxRun != tc.maxRun || pi.obfuscated != tc.obfuscated {
				t.Fatalf("analyzePath(%q) = %+v", tc.in, pi)
			}
		})
	}
}

func TestMaskCode(t *testing.T) {
	t.Parallel()
	cases := map[string]struct{ in, want string }{
		"inline":         {"a `<b>` c", "a `   ` c"},
		"double ticks":   {"x ``a ` b`` y", "x ``     `` y"},
		"unclosed":       {"a `b c", "a `b c"},
		"fence":          {"p\n```html\n<script>\n```\nq", "p\n```    \n        \n```\nq"},
		"tilde fence":    {"~~~\nx\n~~~", "~~~\n \n~~~"},
		"unclosed fence": {"```\n<x>", "```\n   "},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := string(maskCode(nil, tc.in)); got != tc.want {
				t.Fatalf("maskCode(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
