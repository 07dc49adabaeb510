package pii_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/config"
	"github.com/escai-framework/escai/pkg/security/pii"
)

func ExampleDetector_Scan() {
	d, err := pii.NewDetector(pii.Config{Sensitivity: config.SensitivityMedium})
	if err != nil {
		panic(err)
	}
	text := "Grüße, schreib an jürgen@example.de oder ruf +49 30 901820 an (Ticket 550e8400-e29b-41d4-a716-446655440000)."
	for _, m := range d.Scan(text, nil) {
		fmt.Printf("%s [%d,%d) %q %.2f\n", m.Type, m.Start, m.End, text[m.Start:m.End], m.Score)
	}
	// Output:
	// EMAIL [20,38) "jürgen@example.de" 0.90
	// PHONE [48,61) "+49 30 901820" 1.00
}

func ExampleMasker_MaskData() {
	cfg := pii.Config{
		Sensitivity: config.SensitivityMedium,
		Allow:       []string{"support@acme.example"},
		Exclude:     []string{"audit.*"},
	}
	d, _ := pii.NewDetector(cfg)
	m, err := pii.NewMasker(d, cfg)
	if err != nil {
		panic(err)
	}
	data := json.RawMessage(`{"tool":"send_email","arguments":"{\"to\":\"jane@example.com\",\"from\":\"support@acme.example\"}","ssn":"536221234","audit":{"by":"ops@example.com"}}`)
	out, counts, err := m.MaskData(data)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out))
	fmt.Println(counts)
	// Output:
	// {"tool":"send_email","arguments":"{\"to\":\"ja**@example.com\",\"from\":\"support@acme.example\"}","ssn":"*****1234","audit":{"by":"ops@example.com"}}
	// map[EMAIL:1 SSN:1]
}

func ExampleReveal() {
	keys, err := pii.KeysFromSecret(config.Secret("a 32+ byte master key, e.g. from ESCAI_SECRET_KEY"))
	if err != nil {
		panic(err)
	}
	cfg := pii.Config{Keys: keys, Strategies: map[string]pii.Strategy{pii.TypeEmail: pii.StrategyEncrypt}}
	d, _ := pii.NewDetector(cfg)
	m, _ := pii.NewMasker(d, cfg)
	ev := &events.Envelope{Tenant: "acme", Data: json.RawMessage(`{"note":"reply to jane@example.com"}`)}
	if _, err := m.MaskEnvelope(ev); err != nil {
		panic(err)
	}
	var data struct{ Note string }
	_ = json.Unmarshal(ev.Data, &data)
	token := data.Note[len("reply to "):]
	fmt.Println(strings.HasPrefix(token, "<EMAIL:enc:v2:"))
	plain, err := pii.Reveal(token, "acme", keys) // the tenant the event belonged to
	fmt.Println(plain, err)
	_, err = pii.Reveal(token, "globex", keys)
	fmt.Println(err)
	// Output:
	// true
	// jane@example.com <nil>
	// pii: token does not decrypt with this key and tenant
}

func ExampleScanJSONL() {
	d, _ := pii.NewDetector(pii.Config{Sensitivity: config.SensitivityHigh})
	in := strings.NewReader(`{"id":"a","text":"call (415) 555-2671"}` + "\n" + `not json` + "\n")
	if err := pii.ScanJSONL(context.Background(), d, in, os.Stdout); err != nil {
		panic(err)
	}
	// Output:
	// {"id":"a","matches":[{"type":"PHONE","start":5,"end":19,"score":1}]}
	// {"id":null,"error":"invalid JSON: invalid character 'o' in literal null (expecting 'u')"}
}

func ExampleParsePatterns() {
	ps, err := pii.ParsePatterns([]byte("patterns:\n  - name: EMPLOYEE_ID\n    regex: '\\bEMP-\\d{6}\\b'\n    scroe: 0.9\n"))
	fmt.Println(ps, err)
	// Output:
	// [] pii: invalid pattern file: line 4: unknown field "scroe"; known: name, regex, group, validator, context, score, strategy
}
