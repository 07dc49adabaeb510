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

	"github.com/escai-framework/escai/pkg/events"
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

// TestMaskNestedIP: an IP address that is a URL's host is reported with
// the URL; the pair is replaced once, the host by the IP's strategy when
// the URL's keeps it, and both are counted.
func TestMaskNestedIP(t *testing.T) {
	t.Parallel()
	keys := testKeys(t)
	tests := map[string]struct {
		strat   map[string]Strategy
		in      string
		want    string // "" means: check only that the address is gone
		ipCount int
	}{
		"mask mask":     {nil, "GET http://172.16.4.2/health ok", "GET http://172.***.***.***/*** ok", 1},
		"mask ipv6":     {nil, "Visit http://[2001:db8::1]/path", "Visit http://[2001:****:****]/***", 1},
		"creds loop":    {nil, "mysql://root:x1@127.0.0.1:3306/shop", "mysql://****:****@127.***.***.***:3306/***", 1},
		"url redact":    {map[string]Strategy{TypeURL: StrategyRedact}, "GET http://172.16.4.2/health", "GET <URL>", 1},
		"ip redact":     {map[string]Strategy{TypeIPAddress: StrategyRedact}, "GET http://172.16.4.2/health", "GET http://<IP_ADDRESS>/***", 1},
		"ip hash":       {map[string]Strategy{TypeIPAddress: StrategyHash}, "GET http://172.16.4.2/health", "", 1},
		"url encrypt":   {map[string]Strategy{"*": StrategyEncrypt}, "GET http://172.16.4.2/health", "", 1},
		"no ip in host": {nil, "GET https://example.com/a?ip=1", "GET https://example.com/***", 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m := masker(t, Config{Keys: keys, Strategies: tc.strat})
			got, c := m.MaskString(tc.in, "")
			if tc.want != "" && got != tc.want {
				t.Errorf("MaskString(%q) = %q, want %q", tc.in, got, tc.want)
			}
			for _, v := range []string{"172.16.4.2", "2001:db8::1", "127.0.0.1"} {
				if strings.Contains(got, v) {
					t.Errorf("%s left in %q", v, got)
				}
			}
			if c[TypeURL] != 1 || c[TypeIPAddress] != tc.ipCount {
				t.Errorf("counts %v", c)
			}
			if strings.Count(got, "<") > 1 {
				t.Errorf("replaced twice: %q", got)
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
	re := regexp.MustCompile(`^<EMAIL:([0-9a-f]{16})> <EMAIL:([0-9a-f]{16})> <EMAIL:([0-9a-f]{16})> (<PHONE:enc:v2:[A-Za-z0-9_-]+>) <SSN>$`)
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
	plain, err := Reveal(sub[4], "", keys)
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
	ev := &events.Envelope{Tenant: "acme", Data: json.RawMessage(`"jane@example.com"`)}
	if _, err := m.MaskEnvelope(ev); err != nil {
		t.Fatal(err)
	}
	var tok string
	if err := json.Unmarshal(ev.Data, &tok); err != nil {
		t.Fatal(err)
	}
	untenanted, _ := m.MaskString("jane@example.com", "")
	wrong := keys
	wrong.Encrypt = bytes.Repeat([]byte{1}, 32)
	relabelled := strings.Replace(tok, "<EMAIL:", "<PHONE:", 1)
	body := tok[strings.LastIndexByte(tok, ':')+1 : len(tok)-1]
	v1 := strings.Replace(tok, ":enc:v2:", ":enc:v1:", 1)
	mid := len(tok) - 10
	flip := byte('A')
	if tok[mid] == 'A' {
		flip = 'B'
	}
	tampered := tok[:mid] + string(flip) + tok[mid+1:]
	tests := map[string]struct {
		tok, tenant string
		keys        Keys
		want        string
		err         error
	}{
		"ok":                {tok, "acme", keys, "jane@example.com", nil},
		"other tenant":      {tok, "globex", keys, "", ErrDecrypt},
		"no tenant":         {tok, "", keys, "", ErrDecrypt},
		"untenanted ok":     {untenanted, "", keys, "jane@example.com", nil},
		"untenanted as one": {untenanted, "acme", keys, "", ErrDecrypt},
		"wrong key":         {tok, "acme", wrong, "", ErrDecrypt},
		"relabelled":        {relabelled, "acme", keys, "", ErrDecrypt},
		"tampered":          {tampered, "acme", keys, "", ErrDecrypt},
		"no key":            {tok, "acme", Keys{}, "", ErrMissingKey},
		"not a token":       {"<EMAIL>", "acme", keys, "", ErrInvalidToken},
		"hash token":        {"<EMAIL:3f9a1c2b5d7e9f01>", "acme", keys, "", ErrInvalidToken},
		"v1 token":          {v1, "acme", keys, "", ErrInvalidToken},
		"bad base64":        {"<EMAIL:enc:v2:!!!>", "acme", keys, "", ErrInvalidToken},
		"short":             {"<EMAIL:enc:v2:" + body[:8] + ">", "acme", keys, "", ErrInvalidToken},
		"bad type":          {"<email:enc:v2:" + body + ">", "acme", keys, "", ErrInvalidToken},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := Reveal(tc.tok, tc.tenant, tc.keys)
			if !errors.Is(err, tc.err) || got != tc.want {
				t.Errorf("Reveal = %q, %v; want %q, %v", got, err, tc.want, tc.err)
			}
		})
	}
}

// TestHashIgnoresFormat: the pseudonym of a value does not depend on how
// it was written, so analysts can join on it; different values still
// get different pseudonyms.
func TestHashIgnoresFormat(t *testing.T) {
	t.Parallel()
	m := masker(t, Config{Keys: testKeys(t), Strategies: map[string]Strategy{"*": StrategyHash}})
	tests := map[string]struct {
		typ       string
		same      []string
		different string
	}{
		"phone nanp":   {TypePhone, []string{"+1 415 555 2671", "(415) 555-2671", "415-555-2671", "415.555.2671", "+1-415-555-2671", "1-415-555-2671", "4155552671", "+14155552671"}, "+1 415 555 2672"},
		"phone intl":   {TypePhone, []string{"+49 30 901820", "+49 (0)30 901820", "0049 30 901820", "+49-30-901820"}, "+49 30 901821"},
		"phone ext":    {TypePhone, []string{"+1 415 555 2671 ext. 204", "(415) 555-2671 x204"}, "+1 415 555 2671"},
		"card":         {TypeCreditCard, []string{"4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111"}, "4012888888881881"},
		"ssn":          {TypeSSN, []string{"536-22-1234", "536 22 1234", "536.22.1234", "536221234"}, "536-22-1235"},
		"iban":         {TypeIBAN, []string{"GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432", "gb82west12345698765432", "GB82-WEST-1234-5698-7654-32"}, "DE89370400440532013000"},
		"email":        {TypeEmail, []string{"Jane.Doe@Example.com", "jane.doe@example.com", "JANE.DOE@EXAMPLE.COM"}, "jane.doe@example.org"},
		"ipv6":         {TypeIPAddress, []string{"2001:DB8::1", "2001:db8::1", "2001:0db8:0000:0000:0000:0000:0000:0001"}, "2001:db8::2"},
		"ipv4 cidr":    {TypeIPAddress, []string{"10.0.0.0/8"}, "10.0.0.0"},
		"mac":          {TypeMACAddress, []string{"00:1A:2B:3C:4D:5E", "00-1a-2b-3c-4d-5e", "001a.2b3c.4d5e"}, "00:1a:2b:3c:4d:5f"},
		"eth":          {TypeCrypto, []string{"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"}, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaee"},
		"url verbatim": {TypeURL, []string{"https://example.com/a"}, "https://example.com/A"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tok := func(v string) string { return string(m.replace(nil, tc.typ, v, "")) }
			want := tok(tc.same[0])
			if !regexp.MustCompile(`^<` + tc.typ + `:[0-9a-f]{16}>$`).MatchString(want) {
				t.Fatalf("token %q", want)
			}
			for _, v := range tc.same[1:] {
				if got := tok(v); got != want {
					t.Errorf("%q → %s, %q → %s: want one pseudonym", tc.same[0], want, v, got)
				}
			}
			if got := tok(tc.different); got == want {
				t.Errorf("%q and %q share the pseudonym %s", tc.same[0], tc.different, got)
			}
		})
	}
}

// TestHashTokensFromText: the same value in different formats, found in
// running text, masks to one pseudonym.
func TestHashTokensFromText(t *testing.T) {
	t.Parallel()
	m := masker(t, Config{Keys: testKeys(t), Strategies: map[string]Strategy{"*": StrategyHash}})
	out, _, err := m.MaskData([]byte(`{"a":"+1 415 555 2671","b":"(415) 555-2671","c":"Jane@Example.com","d":"jane@example.com","e":"4111 1111 1111 1111","f":"4111-1111-1111-1111"}`))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2]string{{"a", "b"}, {"c", "d"}, {"e", "f"}} {
		if got[pair[0]] != got[pair[1]] || !strings.HasPrefix(got[pair[0]], "<") {
			t.Errorf("%s=%s %s=%s: want one pseudonym", pair[0], got[pair[0]], pair[1], got[pair[1]])
		}
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
const pinnedHash = "61a531e5cd4cc2a3"

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
