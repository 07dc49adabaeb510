package pii

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/escai-framework/escai/pkg/security/config"
)

func testKeys(t testing.TB) Keys {
	t.Helper()
	k, err := KeysFromSecret(config.Secret("0123456789abcdef0123456789abcdef-test-master-key"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func masker(t testing.TB, cfg Config) *Masker {
	t.Helper()
	d, err := NewDetector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMasker(d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMaskStrategyMask(t *testing.T) {
	t.Parallel()
	m := masker(t, Config{})
	tests := map[string]struct{ in, want string }{
		"email":        {"mail john@example.com now", "mail jo**@example.com now"},
		"email short":  {"a@example.com", "*@example.com"},
		"email umlaut": {"jürgen@example.de", "jü****@example.de"},
		"phone parens": {"(555) 234-4567", "(5**) ***-**67"},
		"phone e164":   {"+44 20 7946 0958", "+4* ** **** **58"},
		"card":         {"4111111111111111", "************1111"},
		"card grouped": {"4111 1111 1111 1111", "**** **** **** 1111"},
		"ssn":          {"SSN 536-22-1234", "SSN ***-**-1234"},
		"iban":         {"GB82WEST12345698765432", "GB****************5432"},
		"ipv4":         {"from 203.0.113.5", "from 203.***.***.***"},
		"ipv6":         {"2001:db8::8a2e:370:7334", "2001:****:****"},
		"mac":          {"00:1A:2B:3C:4D:5E", "00:1A:2B:**:**:**"},
		"url creds":    {"postgres://admin:s3cr3t@db.internal:5432/app?sslmode=require", "postgres://****:****@db.internal:5432/***"},
		"aws":          {"AKIAIOSFODNN7EXAMPLE", "<AWS_ACCESS_KEY>"},
		"pem":          {"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", "<PRIVATE_KEY>"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, c := m.MaskString(tc.in, "")
			if got != tc.want {
				t.Errorf("MaskString(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if c.Total() != 1 {
				t.Errorf("counts %v", c)
			}
		})
	}
}

func TestMaskSecretsKeepPrefix(t *testing.T) {
	t.Parallel()
	m := masker(t, Config{Strategies: map[string]Strategy{"*": StrategyMask}})
	tests := map[string]string{
		"AKIAIOSFODNN7EXAMPLE":                                               "AKIA****",
		githubToken("ghp_", 9):                                               "ghp_****",
		cat("sk-ant-api03-", rnd(9, 93, b64urlAlp)):                          "sk-ant-****",
		"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed":                         "0x5a****",
		"-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----": "-----BEGIN EC PRIVATE KEY-----****-----END EC PRIVATE KEY-----",
	}
	for in, want := range tests {
		if got, _ := m.MaskString(in, ""); got != want {
			t.Errorf("MaskString(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskRedactHashEncrypt(t *testing.T) {
	t.Parallel()
	keys := testKeys(t)
	m := masker(t, Config{Keys: keys, Strategies: map[string]Strategy{
		TypeEmail: StrategyHash, TypePhone: StrategyEncrypt, TypeSSN: StrategyRedact,
	}})
	in := "a@example.com b@example.com a@example.com +1 415 555 2671 536-22-1234"
	got, c := m.MaskString(in, "")
	re := regexp.MustCompile(`^<EMAIL:([0-9a-f]{8})> <EMAIL:([0-9a-f]{8})> <EMAIL:([0-9a-f]{8})> (<PHONE:enc:v1:[A-Za-z0-9_-]+>) <SSN>$`)
	sub := re.FindStringSubmatch(got)
	if sub == nil {
		t.Fatalf("MaskString = %q", got)
	}
	if sub[1] != sub[3] || sub[1] == sub[2] {
		t.Errorf("hash tokens must be equal for equal values only: %q", got)
	}
	if c[TypeEmail] != 3 || c[TypePhone] != 1 || c[TypeSSN] != 1 {
		t.Errorf("counts %v", c)
	}
	plain, err := Reveal(sub[4], keys)
	if err != nil || plain != "+1 415 555 2671" {
		t.Fatalf("Reveal = %q, %v", plain, err)
	}
	// The same value encrypts differently each time (random nonce).
	again, _ := m.MaskString("+1 415 555 2671", "")
	if again == sub[4] {
		t.Error("encryption is deterministic")
	}
	// A different key gives different pseudonyms.
	other := masker(t, Config{Keys: Keys{Hash: bytes.Repeat([]byte{7}, 32)}, Strategies: map[string]Strategy{TypeEmail: StrategyHash}})
	if o, _ := other.MaskString("a@example.com", ""); o == "<EMAIL:"+sub[1]+">" {
		t.Error("hash does not depend on the key")
	}
}

func TestReveal(t *testing.T) {
	t.Parallel()
	keys := testKeys(t)
	m := masker(t, Config{Keys: keys, Strategies: map[string]Strategy{"*": StrategyEncrypt}})
	tok, _ := m.MaskString("jane@example.com", "")
	wrong := keys
	wrong.Encrypt = bytes.Repeat([]byte{1}, 32)
	relabelled := strings.Replace(tok, "<EMAIL:", "<PHONE:", 1)
	body := tok[strings.LastIndexByte(tok, ':')+1 : len(tok)-1]
	mid := len(tok) - 10
	flip := byte('A')
	if tok[mid] == 'A' {
		flip = 'B'
	}
	tampered := tok[:mid] + string(flip) + tok[mid+1:]
	tests := map[string]struct {
		tok  string
		keys Keys
		want string
		err  error
	}{
		"ok":          {tok, keys, "jane@example.com", nil},
		"wrong key":   {tok, wrong, "", ErrDecrypt},
		"relabelled":  {relabelled, keys, "", ErrDecrypt},
		"tampered":    {tampered, keys, "", ErrDecrypt},
		"no key":      {tok, Keys{}, "", ErrMissingKey},
		"not a token": {"<EMAIL>", keys, "", ErrInvalidToken},
		"hash token":  {"<EMAIL:3f9a1c2b>", keys, "", ErrInvalidToken},
		"bad base64":  {"<EMAIL:enc:v1:!!!>", keys, "", ErrInvalidToken},
		"short":       {"<EMAIL:enc:v1:" + body[:8] + ">", keys, "", ErrInvalidToken},
		"bad type":    {"<email:enc:v1:" + body + ">", keys, "", ErrInvalidToken},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := Reveal(tc.tok, tc.keys)
			if !errors.Is(err, tc.err) || got != tc.want {
				t.Errorf("Reveal = %q, %v; want %q, %v", got, err, tc.want, tc.err)
			}
		})
	}
}

func TestKeysFromSecret(t *testing.T) {
	t.Parallel()
	k1 := testKeys(t)
	k2 := testKeys(t)
	if !bytes.Equal(k1.Hash, k2.Hash) || !bytes.Equal(k1.Encrypt, k2.Encrypt) {
		t.Error("derivation is not deterministic")
	}
	if bytes.Equal(k1.Hash, k1.Encrypt) || len(k1.Hash) != 32 || len(k1.Encrypt) != 32 {
		t.Error("purposes must get distinct 32-byte keys")
	}
	if _, err := KeysFromSecret(config.Secret("short")); !errors.Is(err, ErrMissingKey) {
		t.Errorf("short master key: %v", err)
	}
	// Pinned: the derivation must never change, or old tokens stop
	// revealing and pseudonyms stop joining.
	m := masker(t, Config{Keys: k1, Strategies: map[string]Strategy{TypeEmail: StrategyHash}})
	if got, _ := m.MaskString("jane@example.com", ""); got != "<EMAIL:"+pinnedHash+">" {
		t.Errorf("hash token changed: %s", got)
	}
}

// pinnedHash is the hash token of jane@example.com under testKeys.
const pinnedHash = "61a531e5"

func TestEncryptFailsClosed(t *testing.T) {
	t.Parallel()
	m := masker(t, Config{Keys: testKeys(t), Strategies: map[string]Strategy{"*": StrategyEncrypt}})
	m.rand = iotest.ErrReader(errors.New("no entropy"))
	if got, _ := m.MaskString("jane@example.com", ""); got != "<EMAIL>" {
		t.Errorf("without randomness got %q, want the redacted form", got)
	}
	_ = rand.Reader
}

func TestMaskCustomPattern(t *testing.T) {
	t.Parallel()
	m := masker(t, Config{
		Sensitivity: config.SensitivityMedium,
		Custom: []CustomPattern{
			{Name: "EMPLOYEE_ID", Regex: `\bEMP-(\d{6})\b`, Group: 1, Context: []string{"employee"}, Score: 0.3},
			{Name: "LOYALTY", Regex: `\bLOY\d{16}\b`, Strategy: StrategyMask},
			{Name: "REFCARD", Regex: `\b\d{16}\b`, Validator: ValidatorLuhn, Score: 0.9},
		},
		Strategies: map[string]Strategy{"EMPLOYEE_ID": StrategyRedact},
	})
	tests := map[string]struct{ in, want string }{
		"group and context": {"employee EMP-123456", "employee EMP-<EMPLOYEE_ID>"},
		"no context":        {"EMP-123456", "EMP-123456"},
		"mask strategy":     {"LOY1234567890123456", "***************3456"},
		"luhn":              {"ref 7992739871300000 vs 7992739871300001", "ref 7992739871300000 vs 7992739871300001"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got, _ := m.MaskString(tc.in, ""); got != tc.want {
				t.Errorf("MaskString(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestMaskData(t *testing.T) {
	t.Parallel()
	m := masker(t, Config{
		Sensitivity: config.SensitivityMedium,
		Exclude:     []string{"data.audit.*", "**.trace_id", "rows.*.note"},
		Allow:       []string{"support@acme.example"},
		Strategies:  map[string]Strategy{"*": StrategyRedact},
	})
	tests := map[string]struct {
		in, want string
		counts   map[string]int
	}{
		"nothing":                {`{"a":[1,true,null,"x"],"b":{}}`, `{"a":[1,true,null,"x"],"b":{}}`, nil},
		"kept byte for byte":     {"{ \"a\" : \"caf\\u00e9\" ,\n \"b\":[ ] }", "{ \"a\" : \"caf\\u00e9\" ,\n \"b\":[ ] }", nil},
		"string":                 {`{"to":"jane@example.com","n":1}`, `{"to":"<EMAIL>","n":1}`, map[string]int{"EMAIL": 1}},
		"escaped":                {`{"to":"jane\u0040example.com \"x\""}`, `{"to":"<EMAIL> \"x\""}`, map[string]int{"EMAIL": 1}},
		"key context":            {`{"ssn":"536221234","order_id":"536221234"}`, `{"ssn":"<SSN>","order_id":"536221234"}`, map[string]int{"SSN": 1}},
		"array key":              {`{"phones":["4158829090","4158829091"]}`, `{"phones":["<PHONE>","<PHONE>"]}`, map[string]int{"PHONE": 2}},
		"number":                 {`{"card_number":4111111111111111,"ts":1718023456789}`, `{"card_number":"<CREDIT_CARD>","ts":1718023456789}`, map[string]int{"CREDIT_CARD": 1}},
		"pii key":                {`{"jane@example.com":{"role":"admin"}}`, `{"<EMAIL>":{"role":"admin"}}`, map[string]int{"EMAIL": 1}},
		"json in string":         {`{"tool":"send","arguments":"{\"to\":\"jane@example.com\",\"cc\":[\"bob@example.com\"]}"}`, `{"tool":"send","arguments":"{\"to\":\"<EMAIL>\",\"cc\":[\"<EMAIL>\"]}"}`, map[string]int{"EMAIL": 2}},
		"json in json in string": {`{"a":"{\"b\":\"{\\\"ssn\\\":\\\"536221234\\\"}\"}"}`, `{"a":"{\"b\":\"{\\\"ssn\\\":\\\"<SSN>\\\"}\"}"}`, map[string]int{"SSN": 1}},
		"bad json in string":     {`{"a":"{not json jane@example.com}"}`, `{"a":"{not json <EMAIL>}"}`, map[string]int{"EMAIL": 1}},
		"excluded":               {`{"audit":{"by":"jane@example.com"},"x":{"trace_id":"jane@example.com"},"rows":[{"note":"jane@example.com","m":"jane@example.com"}]}`, `{"audit":{"by":"jane@example.com"},"x":{"trace_id":"jane@example.com"},"rows":[{"note":"jane@example.com","m":"<EMAIL>"}]}`, map[string]int{"EMAIL": 1}},
		"allowed":                {`{"from":"support@acme.example","to":"jane@example.com"}`, `{"from":"support@acme.example","to":"<EMAIL>"}`, map[string]int{"EMAIL": 1}},
		"top string":             {`"call 415-882-9090"`, `"call <PHONE>"`, map[string]int{"PHONE": 1}},
		"deep":                   {strings.Repeat(`[`, 500) + `"jane@example.com"` + strings.Repeat(`]`, 500), strings.Repeat(`[`, 500) + `"<EMAIL>"` + strings.Repeat(`]`, 500), map[string]int{"EMAIL": 1}},
		"control chars":          {`{"a":"jane@example.com\n\t\u0001"}`, `{"a":"<EMAIL>\n\t\u0001"}`, map[string]int{"EMAIL": 1}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, c, err := m.MaskData(json.RawMessage(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("MaskData(%s)\n got %s\nwant %s", tc.in, got, tc.want)
			}
			if !json.Valid(got) {
				t.Errorf("invalid JSON out: %s", got)
			}
			if len(c) != len(tc.counts) {
				t.Errorf("counts %v, want %v", c, tc.counts)
			}
			for k, v := range tc.counts {
				if c[k] != v {
					t.Errorf("counts %v, want %v", c, tc.counts)
				}
			}
		})
	}
	if _, _, err := m.MaskData(json.RawMessage(`{"a":`)); !errors.Is(err, ErrInvalidJSON) {
		t.Errorf("invalid JSON: %v", err)
	}
	same := json.RawMessage(`{"a":1}`)
	if got, _, _ := m.MaskData(same); &got[0] != &same[0] {
		t.Error("unchanged data should be returned as is")
	}
}
