package validate_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/escai-framework/escai/pkg/security/config"
	"github.com/escai-framework/escai/pkg/security/validate"
)

func ExampleValidator_CheckField() {
	v, err := validate.New(validate.DefaultConfig(config.LevelStandard))
	if err != nil {
		panic(err)
	}
	for _, f := range []struct{ path, value string }{
		{"data.arguments.sql", "SELECT * FROM users WHERE last_name = 'O''Brien'"},
		{"data.arguments.command", "ps aux | grep nginx"},
		{"data.arguments.path", "..%2f..%2fetc%2fpasswd"},
		{"data.arguments.username", "admin' OR '1'='1"},
	} {
		r := v.CheckField(f.path, f.value)
		fmt.Print(r.Verdict)
		for _, th := range r.Threats {
			fmt.Print(" ", th.Type, "/", th.Rule)
		}
		fmt.Println()
	}
	// Output:
	// clean
	// clean
	// rejected path_traversal/path.encoded_dotdot
	// flagged sqli/sqli.tautology
}

func ExampleRunJSONL() {
	v, err := validate.New(validate.DefaultConfig(config.LevelStandard))
	if err != nil {
		panic(err)
	}
	in := strings.NewReader(`{"id":1,"field":"data.arguments.host","value":"example.com; cat /etc/passwd"}
{"id":2,"field":"data.output","value":"Here is <b>bold</b> text."}
not json
`)
	if err := validate.RunJSONL(context.Background(), v, in, os.Stdout); err != nil {
		panic(err)
	}
	// Output:
	// {"id":1,"threats":[{"type":"cmd_injection","field":"data.arguments.host","fingerprint":"8f80b1d6","rule":"cmd.metachar"}],"verdict":"rejected","reasons":[{"code":"threat_cmd_injection","field":"data.arguments.host","detail":"cmd_injection (cmd.metachar) in a field of kind host"}]}
	// {"id":2,"threats":[],"verdict":"clean"}
	// {"error":"malformed JSON at byte offset 2"}
}

func ExampleLoadRules() {
	rules, err := validate.LoadRules(strings.NewReader(`
rules:
  - id: order-sku
    field: data.arguments.sku
    max_lenght: 12
`), "rules.yaml")
	fmt.Println(len(rules), err)
	// Output:
	// 0 validate: invalid rule file: rules.yaml:5: unknown key "max_lenght"; want id, field, required, type, max_length, allow, deny, threat or description
}
