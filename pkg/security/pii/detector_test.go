package pii

import (
	"strings"
	"testing"

	"github.com/escai-framework/escai/pkg/security/config"
)

// TestDetect lists, per type, texts and exactly what must be found in
// them at high sensitivity (as TYPE:value, in order).
func TestDetect(t *testing.T) {
	t.Parallel()
	gh1 := cat("ghp_", "zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ", "0mLq17") // expired tokens published in
	gh2 := cat("ghp_", "adE7dp8rHP6gUTuPwxLTZjZdtya3sV", "0UQzQM") // therootcompany/base62-token.js#2
	jwt := cat("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", ".",
		"eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ", ".",
		"SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
	pem := "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA PRIVATE KEY-----"
	tests := map[string]struct {
		text string
		want []string
	}{
		// EMAIL
		"email plain":          {"info@presidio.site", []string{"EMAIL:info@presidio.site"}},
		"email two":            {"try one of these emails: info@presidio.site or anotherinfo@presidio.site", []string{"EMAIL:info@presidio.site", "EMAIL:anotherinfo@presidio.site"}},
		"email tag and subdom": {"cc john.doe+billing@mail.example.co.uk.", []string{"EMAIL:john.doe+billing@mail.example.co.uk"}},
		"email mailto":         {"<a href=\"mailto:jane_doe@example.org\">", []string{"EMAIL:jane_doe@example.org"}},
		"email angle":          {"From: Jane Doe <jane@example.com>", []string{"EMAIL:jane@example.com"}},
		"email umlaut local":   {"Grüße, schreib an jürgen@example.de", []string{"EMAIL:jürgen@example.de"}},
		"email idn domain":     {"bestellung@bücher.de bestätigt", []string{"EMAIL:bestellung@bücher.de"}},
		"email after cjk":      {"用户邮箱：wang.wei@example.cn，谢谢", []string{"EMAIL:wang.wei@example.cn"}},
		"email in json":        {`{"to":"ops@acme.io","cc":["a.b@acme.io"]}`, []string{"EMAIL:ops@acme.io", "EMAIL:a.b@acme.io"}},
		// PHONE
		"phone parens":          {"call (425) 882-9090 now", []string{"PHONE:(425) 882-9090"}},
		"phone dashes":          {"425-882-9090", []string{"PHONE:425-882-9090"}},
		"phone dots":            {"tel 425.882.9090", []string{"PHONE:425.882.9090"}},
		"phone spaces":          {"425 882 9090", []string{"PHONE:425 882 9090"}},
		"phone +1":              {"+1 425 882 9090", []string{"PHONE:+1 425 882 9090"}},
		"phone +1 parens":       {"+1 (425) 882-9090", []string{"PHONE:+1 (425) 882-9090"}},
		"phone 1-800":           {"1-800-555-0199", []string{"PHONE:1-800-555-0199"}},
		"phone 1 parens":        {"dial 1 (800) 555-0199", []string{"PHONE:1 (800) 555-0199"}},
		"phone uk":              {"+44 20 7946 0958", []string{"PHONE:+44 20 7946 0958"}},
		"phone de trunk":        {"+49 (0)30 901820", []string{"PHONE:+49 (0)30 901820"}},
		"phone fr":              {"+33 1 42 68 53 00", []string{"PHONE:+33 1 42 68 53 00"}},
		"phone in":              {"+91 98765 43210", []string{"PHONE:+91 98765 43210"}},
		"phone cn after han":    {"电话：+86 138 0013 8000", []string{"PHONE:+86 138 0013 8000"}},
		"phone jp":              {"+81 3-1234-5678", []string{"PHONE:+81 3-1234-5678"}},
		"phone compact e164":    {"sms to +14155552671", []string{"PHONE:+14155552671"}},
		"phone ext":             {"+1 415 555 2671 ext. 204", []string{"PHONE:+1 415 555 2671 ext. 204"}},
		"phone x ext":           {"(415) 555-2671 x12", []string{"PHONE:(415) 555-2671 x12"}},
		"phone unformatted ctx": {"phone: 4158829090", []string{"PHONE:4158829090"}},
		"phone national ctx":    {"Telefon: 030 901820", []string{"PHONE:030 901820"}},
		"phone uk national ctx": {"mobile 07700 900123", []string{"PHONE:07700 900123"}},
		"phone 00 intl":         {"0049 30 901820", []string{"PHONE:0049 30 901820"}},
		"phone in year run":     {"room 12 415-555-2671", []string{"PHONE:415-555-2671"}},
		"phone my number jp":    {"My Japanese number is 090-1234-5678", []string{"PHONE:090-1234-5678"}},
		"phone my number cn":    {"My CN number is 13812345678", []string{"PHONE:13812345678"}},
		"phone cn mobile":       {"手机 139 0123 4567", []string{"PHONE:139 0123 4567"}},
		"phone my number il":    {"My Israeli number is 09-7625400", []string{"PHONE:09-7625400"}},
		"phone cc without plus": {"phone 91-415-555-0132", []string{"PHONE:91-415-555-0132"}},
		"phone cell":            {"cell: 0151 23456789", []string{"PHONE:0151 23456789"}},
		"phone whatsapp":        {"WhatsApp 07911 123456", []string{"PHONE:07911 123456"}},
		"phone fax":             {"Fax 030 901820", []string{"PHONE:030 901820"}},
		// SSN
		"ssn dashed":        {"SSN: 536-22-1234", []string{"SSN:536-22-1234"}},
		"ssn spaced":        {"536 22 1234", []string{"SSN:536 22 1234"}},
		"ssn bare ctx":      {"ssn 536221234", []string{"SSN:536221234"}},
		"ssn social":        {"social security number: 536221234", []string{"SSN:536221234"}},
		"ssn before phone":  {"536-22-1234 / 415-555-2671", []string{"SSN:536-22-1234", "PHONE:415-555-2671"}},
		"ssn non-ascii ctx": {"Sozialversicherung… ssn：536-22-1234", []string{"SSN:536-22-1234"}},
		"ssn weak spaced":   {"SSN 078 05 1123", []string{"SSN:078 05 1123"}},
		"ssn weak dotted":   {"social security number 078.05.1123", []string{"SSN:078.05.1123"}},
		"ssn weak bare":     {"ssn: 078051121", []string{"SSN:078051121"}},
		// CREDIT_CARD (Presidio's credit card recognizer tests)
		"card visa":        {"4012888888881881 4012-8888-8888-1881 4012 8888 8888 1881", []string{"CREDIT_CARD:4012888888881881", "CREDIT_CARD:4012-8888-8888-1881", "CREDIT_CARD:4012 8888 8888 1881"}},
		"card uatp":        {"my credit card: 122000000000003", []string{"CREDIT_CARD:122000000000003"}},
		"card amex":        {"371449635398431", []string{"CREDIT_CARD:371449635398431"}},
		"card amex group":  {"3782 822463 10005", []string{"CREDIT_CARD:3782 822463 10005"}},
		"card mc":          {"5555555555554444", []string{"CREDIT_CARD:5555555555554444"}},
		"card dankort":     {"5019717010103742", []string{"CREDIT_CARD:5019717010103742"}},
		"card diners":      {"30569309025904", []string{"CREDIT_CARD:30569309025904"}},
		"card discover":    {"6011000400000000", []string{"CREDIT_CARD:6011000400000000"}},
		"card jcb":         {"3528000700000000", []string{"CREDIT_CARD:3528000700000000"}},
		"card maestro":     {"6759649826438453", []string{"CREDIT_CARD:6759649826438453"}},
		"card visa test":   {"4111111111111111, 4917300800000000 and 4484070000000000", []string{"CREDIT_CARD:4111111111111111", "CREDIT_CARD:4917300800000000", "CREDIT_CARD:4484070000000000"}},
		"card stripe":      {"378282246310005 and 5105105105105100", []string{"CREDIT_CARD:378282246310005", "CREDIT_CARD:5105105105105100"}},
		"card then year":   {"card 4111 1111 1111 1111 2027", []string{"CREDIT_CARD:4111 1111 1111 1111"}},
		"card in csv":      {"4111111111111111,4012888888881881", []string{"CREDIT_CARD:4111111111111111", "CREDIT_CARD:4012888888881881"}},
		"card then expiry": {"card 4111 1111 1111 1111 12/27", []string{"CREDIT_CARD:4111 1111 1111 1111"}},
		// IBAN
		"iban gb":        {"GB82WEST12345698765432", []string{"IBAN:GB82WEST12345698765432"}},
		"iban de":        {"IBAN: DE89370400440532013000.", []string{"IBAN:DE89370400440532013000"}},
		"iban grouped":   {"GB82 WEST 1234 5698 7654 32", []string{"IBAN:GB82 WEST 1234 5698 7654 32"}},
		"iban dashed":    {"DE89-3704-0044-0532-0130-00", []string{"IBAN:DE89-3704-0044-0532-0130-00"}},
		"iban fr":        {"FR1420041010050500013M02606", []string{"IBAN:FR1420041010050500013M02606"}},
		"iban nl no mt":  {"NL91ABNA0417164300 NO9386011117947 MT84MALT011000012345MTLCAST001S", []string{"IBAN:NL91ABNA0417164300", "IBAN:NO9386011117947", "IBAN:MT84MALT011000012345MTLCAST001S"}},
		"iban al ch be":  {"AL47212110090000000235698741, CH9300762011623852957, BE68539007547034", []string{"IBAN:AL47212110090000000235698741", "IBAN:CH9300762011623852957", "IBAN:BE68539007547034"}},
		"iban in german": {"Überweisung auf DE89 3704 0044 0532 0130 00 (Sparkasse)", []string{"IBAN:DE89 3704 0044 0532 0130 00"}},
		"iban lower":     {"iban: gb82west12345698765432", []string{"IBAN:gb82west12345698765432"}},
		// IP_ADDRESS
		"ipv4":           {"client 203.0.113.5 connected", []string{"IP_ADDRESS:203.0.113.5"}},
		"ipv4 port":      {"dial tcp 10.0.0.12:8080: refused", []string{"IP_ADDRESS:10.0.0.12"}},
		"ipv4 cidr":      {"allow 192.168.0.0/16", []string{"IP_ADDRESS:192.168.0.0/16"}},
		"ipv4 cidr dot":  {"Route is 10.0.0.0/8.", []string{"IP_ADDRESS:10.0.0.0/8"}},
		"ipv4 bad cidr":  {"10.0.0.0/123", []string{"IP_ADDRESS:10.0.0.0"}},
		"ipv4 cidr path": {"see 10.1.2.0/24/routes", []string{"IP_ADDRESS:10.1.2.0"}},
		"ipv4 url":       {"GET http://172.16.4.2/health", []string{"URL:http://172.16.4.2/health", "IP_ADDRESS:172.16.4.2"}},
		"ipv6 url":       {"Visit http://[2001:db8::1]/path", []string{"URL:http://[2001:db8::1]/path", "IP_ADDRESS:2001:db8::1"}},
		"ipv6 cidr":      {"Prefix: 2001:db8::/32.", []string{"IP_ADDRESS:2001:db8::/32"}},
		"ipv6 bad cidr":  {"2001:db8::/9999", []string{"IP_ADDRESS:2001:db8::"}},
		"ipv6 one group": {"link-local fe80::/10", []string{"IP_ADDRESS:fe80::/10"}},
		"ipv6 zone":      {"ping fe80::1%eth0 now", []string{"IP_ADDRESS:fe80::1%eth0"}},
		"ipv6 zone cidr": {"fe80::1%eth0/64", []string{"IP_ADDRESS:fe80::1%eth0/64"}},
		"loopback":       {"localhost 127.0.0.1 and ::1/128", []string{"IP_ADDRESS:127.0.0.1", "IP_ADDRESS:::1/128"}},
		"unspecified":    {"src=:: dst=::1, default 0.0.0.0/0 and ::/0", []string{"IP_ADDRESS:::", "IP_ADDRESS:::1", "IP_ADDRESS:0.0.0.0/0", "IP_ADDRESS:::/0"}},
		"broadcast":      {"Broadcast 255.255.255.255, multicast ff02::1", []string{"IP_ADDRESS:255.255.255.255", "IP_ADDRESS:ff02::1"}},
		"mapped loop":    {"::ffff:127.0.0.1", []string{"IP_ADDRESS:::ffff:127.0.0.1"}},
		"bracket port":   {"dial [::1]:8080", []string{"IP_ADDRESS:::1"}},
		"ipv6 full":      {"2001:0db8:85a3:0000:0000:8a2e:0370:7334", []string{"IP_ADDRESS:2001:0db8:85a3:0000:0000:8a2e:0370:7334"}},
		"ipv6 short":     {"addr 2001:db8::8a2e:370:7334.", []string{"IP_ADDRESS:2001:db8::8a2e:370:7334"}},
		"ipv6 link":      {"fe80::1ff:fe23:4567:890a", []string{"IP_ADDRESS:fe80::1ff:fe23:4567:890a"}},
		"ipv6 bracket":   {"[2001:db8::1]:443", []string{"IP_ADDRESS:2001:db8::1"}},
		"ipv6 mapped v4": {"from ::ffff:192.0.2.128 ok", []string{"IP_ADDRESS:::ffff:192.0.2.128"}},
		// MAC_ADDRESS
		"mac colon": {"hwaddr 00:1A:2B:3C:4D:5E", []string{"MAC_ADDRESS:00:1A:2B:3C:4D:5E"}},
		"mac dash":  {"00-1a-2b-3c-4d-5e", []string{"MAC_ADDRESS:00-1a-2b-3c-4d-5e"}},
		"mac hex":   {"de:ad:be:ef:00:01", []string{"MAC_ADDRESS:de:ad:be:ef:00:01"}},
		"mac cisco": {"0011.2233.4455", []string{"MAC_ADDRESS:0011.2233.4455"}},
		// CRYPTO
		"btc p2pkh":   {"send to 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", []string{"CRYPTO:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"}},
		"btc p2sh":    {"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", []string{"CRYPTO:3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"}},
		"btc bech32":  {"bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", []string{"CRYPTO:bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"}},
		"btc upper":   {"BC1QW508D6QEJXTDG4C5R56JVDHQEMKNDCJXZCLQ76VAZEV", nil}, // not a real checksum; see TestBech32Vectors
		"eth eip55 1": {"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", []string{"CRYPTO:0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}},
		"eth eip55 2": {"0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359 0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", []string{"CRYPTO:0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", "CRYPTO:0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB"}},
		"eth lower":   {"wallet 0x52908400098527886e0f7030069857d2e4169ee7", []string{"CRYPTO:0x52908400098527886e0f7030069857d2e4169ee7"}},
		// URL
		"url plain":        {"see https://example.com/docs?id=7.", []string{"URL:https://example.com/docs?id=7"}},
		"url parens":       {"(https://en.wikipedia.org/wiki/Foo_(bar))", []string{"URL:https://en.wikipedia.org/wiki/Foo_(bar)"}},
		"url creds":        {"DATABASE_URL=postgres://admin:s3cr3t@db.internal:5432/app", []string{"URL:postgres://admin:s3cr3t@db.internal:5432/app"}},
		"url creds ip":     {"mysql://root:x1@127.0.0.1:3306/shop", []string{"URL:mysql://root:x1@127.0.0.1:3306/shop", "IP_ADDRESS:127.0.0.1"}},
		"url creds nodot":  {"redis://:hunter2@cache:6379/0", []string{"URL:redis://:hunter2@cache:6379/0"}},
		"url secret nodot": {"http://localhost:8080/api?token=abc123", []string{"URL:http://localhost:8080/api?token=abc123"}},
		"url www":          {"visit www.example.org/about", []string{"URL:www.example.org/about"}},
		"url email in":     {"https://x.example/reset?email=jo@example.com", []string{"URL:https://x.example/reset?email=jo@example.com"}},
		"url scheme+":      {"mongodb+srv://u:p4ss@cluster0.example.net/db", []string{"URL:mongodb+srv://u:p4ss@cluster0.example.net/db"}},
		// AWS
		"aws akia":       {"aws_access_key_id = AKIAIOSFODNN7EXAMPLE", []string{"AWS_ACCESS_KEY:AKIAIOSFODNN7EXAMPLE"}},
		"aws asia":       {"ASIAY34FZKBOKMUTVV7A", []string{"AWS_ACCESS_KEY:ASIAY34FZKBOKMUTVV7A"}},
		"aws secret":     {"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", []string{"AWS_ACCESS_KEY:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}},
		"aws secret env": {"AWS_SECRET_ACCESS_KEY=" + rnd(31, 40, alnum+"/+") + "\n", []string{"AWS_ACCESS_KEY:" + rnd(31, 40, alnum+"/+")}},
		// GITHUB_TOKEN
		"gh classic":  {"GITHUB_TOKEN=" + gh1 + " and " + gh2, []string{"GITHUB_TOKEN:" + gh1, "GITHUB_TOKEN:" + gh2}},
		"gh built":    {githubToken("gho_", 7), []string{"GITHUB_TOKEN:" + githubToken("gho_", 7)}},
		"gh fine":     {cat("github_pat_", rnd(1, 22, alnum), "_", rnd(2, 59, alnum)), []string{"GITHUB_TOKEN:" + cat("github_pat_", rnd(1, 22, alnum), "_", rnd(2, 59, alnum))}},
		"gh badcheck": {cat("ghs_", rnd(3, 36, alnum)), []string{"GITHUB_TOKEN:" + cat("ghs_", rnd(3, 36, alnum))}},
		// JWT
		"jwt":        {"Authorization: Bearer " + jwt, []string{"JWT:" + jwt}},
		"jwt period": {"token " + jwt + ".", []string{"JWT:" + jwt}},
		// PRIVATE_KEY
		"pem":           {"key:\n" + pem + "\nend", []string{"PRIVATE_KEY:" + pem}},
		"pem openssh":   {"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----", []string{"PRIVATE_KEY:-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----"}},
		"pem escaped":   {`"key":"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----\n"`, []string{`PRIVATE_KEY:-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----`}},
		"pem truncated": {"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5hrFKQ1e2\n\"}", []string{"PRIVATE_KEY:-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5hrFKQ1e2"}},
		"pgp":           {"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF\n-----END PGP PRIVATE KEY BLOCK-----", []string{"PRIVATE_KEY:-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF\n-----END PGP PRIVATE KEY BLOCK-----"}},
		"age":           {cat("AGE-SECRET-KEY-1", rnd(4, 58, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L")), []string{"PRIVATE_KEY:" + cat("AGE-SECRET-KEY-1", rnd(4, 58, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"))}},
		// API_KEY
		"slack":     {cat("xoxb-", "2048111111-4096222222-", rnd(5, 24, alnum)), []string{"API_KEY:" + cat("xoxb-", "2048111111-4096222222-", rnd(5, 24, alnum))}},
		"stripe":    {cat("sk_live_", rnd(6, 24, alnum)), []string{"API_KEY:" + cat("sk_live_", rnd(6, 24, alnum))}},
		"google":    {"key=" + cat("AIza", rnd(7, 35, b64urlAlp)), []string{"API_KEY:" + cat("AIza", rnd(7, 35, b64urlAlp))}},
		"openai":    {cat("sk-proj-", rnd(8, 64, b64urlAlp)), []string{"API_KEY:" + cat("sk-proj-", rnd(8, 64, b64urlAlp))}},
		"anthropic": {cat("sk-ant-api03-", rnd(9, 93, b64urlAlp), "AA"), []string{"API_KEY:" + cat("sk-ant-api03-", rnd(9, 93, b64urlAlp), "AA")}},
		"gitlab":    {cat("glpat-", rnd(10, 20, b64urlAlp)), []string{"API_KEY:" + cat("glpat-", rnd(10, 20, b64urlAlp))}},
		"npm":       {githubToken("npm_", 11), []string{"API_KEY:" + githubToken("npm_", 11)}},
		"sendgrid":  {cat("SG.", rnd(12, 22, b64urlAlp), ".", rnd(13, 43, b64urlAlp)), []string{"API_KEY:" + cat("SG.", rnd(12, 22, b64urlAlp), ".", rnd(13, 43, b64urlAlp))}},
		"twilio":    {cat("SK", rnd(14, 32, hexLower)), []string{"API_KEY:" + cat("SK", rnd(14, 32, hexLower))}},
		"hf":        {cat("hf_", rnd(15, 34, alnum)), []string{"API_KEY:" + cat("hf_", rnd(15, 34, alnum))}},
		"sk legacy": {cat("sk-", rnd(16, 20, alnum), "T3BlbkFJ", rnd(17, 20, alnum)), []string{"API_KEY:" + cat("sk-", rnd(16, 20, alnum), "T3BlbkFJ", rnd(17, 20, alnum))}},
	}
	d := detector(t, config.SensitivityHigh)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want := tc.want
			got := d.Scan(tc.text, nil)
			if !sameStrings(found(tc.text, got), want) {
				t.Errorf("Scan(%q)\n got %s\nwant %q", tc.text, show(got, tc.text), want)
			}
		})
	}
}

// TestHardNegatives are texts full of numbers and tokens that are not PII;
// nothing may be found in them at high sensitivity.
func TestHardNegatives(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"uuid":              "request 550e8400-e29b-41d4-a716-446655440000 and 110bcd25-a55d-453a-8046-1297901ea002",
		"git sha":           "commit 3f786850e387550fdab836ed7e6dc881de23001b (HEAD -> main), parent 9c1185a5c5e9fc54612808977ee8f548b2258d31",
		"sha256":            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"iso timestamps":    "2024-01-15T10:30:45.123Z 2024-01-15 10:30:45 2024-01-15T10:30:45+05:30",
		"epoch millis":      "ts=1718023456789 epoch 1718023456 nanos 1718023456789012345",
		"semver":            "upgraded lodash 4.17.21 -> 4.17.22, go1.22.3, v2.10.4, python 3.11.4",
		"dotted version":    "Windows 10.0.19041.1 build 19041.1237, kernel 5.15.0.91",
		"version quad":      "version 1.2.3.4 and v1.2.3.4 and release 2.0.0.1",
		"chrome ua":         "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0.0.0 Safari/537.36",
		"order ids":         "order ORD-2024-000123, invoice INV-4155552671, ticket #48151623, PR #4155",
		"luhn fail 16":      "4111111111111112 4012-8888-8888-1882 1234567812345678 36168002586008",
		"invalid ssn":       "078-05-1120 000-12-3456 666-12-3456 912-34-5678 536-00-1234 536-22-0000 123-45-6789 536-22 1234",
		"bare ssn no ctx":   "rows 536221234 affected",
		"arithmetic":        "123456789 * 987654321 = 121932631112635269; 2+2=4; 10-3=7",
		"ports":             "listening on :8080 and localhost:5432",
		"netmasks":          "netmask 255.255.255.0, mask 255.255.240.0 and 255.0.0.0",
		"short v6 no ctx":   "lo ::1 any :: and x[::1], beef:: dead::/x",
		"five dotted":       "192.168.1.1.1 and 10.0.0.1.5",
		"python slices":     "a[::2], b[::-1], c[1::3], d[::1]",
		"haskell":           "connect :: Host -> IO (); from :: String",
		"dotless urls":      "http://microsoft and http://localhost:8080/api and s3://acme-logs/app.log",
		"bare domains":      "see microsoft.com and google.co.il, import github.com/acme/app",
		"card then group":   "ref 4111 1111 1111 1111 22 and 4012 8888 8888 1881 123",
		"invalid ibans":     "RS35 2600 0560 1001 6113 70, HR12 001 0051 8630 0016 A, HR12 1001 0051 8630 0016 1, SM86 0032 2509 8000 0000 0270 100",
		"iban lower bad":    "gb82west12345698765433 de89370400440532013001 gb82 west 1234 5698 7654 32",
		"number of things":  "order number 4155552671, account number 4155552671, serial number 4155552671, ticket number 13812345678",
		"cn like ids":       "id 13812345678, order 138 1234 5678",
		"cc no context":     "ref 91-415-555-0132, 44 20 7946 0958",
		"weak ssn no ctx":   "rows 078051121 and 078-05-1120",
		"base64 not jwt":    "data eyJmb28iOiJiYXIifQ== and eyJmb28iOiJiYXIifQ.eyJmb28iOiJiYXIifQ.c2ln and eyJhbGciOiJIUzI1NiJ9",
		"short hex":         "color #ff8800, 0xdeadbeef, 0x1F",
		"tx hash":           "tx 0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060",
		"paths":             "/usr/lib/x86_64-linux-gnu/libc.so.6 main.go:123:45 C:\\Users\\x\\AppData",
		"times":             "12:30:45 at 09:15 for 1:23:45.678",
		"dates":             "15.01.2024 01/15/2024 2024/01/15 15-01-2024",
		"code scopes":       "std::vector<int> v; a[1::2]; Foo::Bar::baz(); ::",
		"scp remote":        "git@github.com:org/repo.git and deploy@build.example.com:releases/app.tar",
		"file names":        "logo@2x.png icon@3x.jpg lodash@4.17.21 @types/node",
		"shell prompt":      "root@server:~$ whoami",
		"no tld":            "my email is info@presidio. or user@localhost",
		"mac like times":    "12:30:45:00",
		"aws wrong length":  "AKIAIOSFODNN7EXAMPL AKIAIOSFODNN7EXAMPLEX AKIA1OSFODNN7EXAMPLE",
		"eth bad checksum":  "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",
		"btc bad checksum":  "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb",
		"public key":        "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkq\n-----END PUBLIC KEY-----\n-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----",
		"sizes":             "size 1,234,567 bytes, 10 000 000 rows, 4.2 GB",
		"iban bad":          "GB82WEST12345698765433 DE89370400440532013001 XX82WEST12345698765432 GB82WEST1234569876543",
		"phone no valid":    "call 555-1234 or 123-456-7890 or (123) 456-7890",
		"plus numbers":      "+100% +86400s UTC+05:30 +1234",
		"snowflake":         "message id 1234567890123456789 guild 987654321098765432",
		"aws account":       "arn:aws:iam::123456789012:role/admin",
		"oid":               "OID 1.3.6.1.4.1 snmp 1.3.6.1",
		"words like tokens": "skeleton sk-learn hf_hub ghp_short xoxb- SGD sk_live_short",
		"national no ctx":   "ref 030 901820, batch 07700 900123",
		"unformatted phone": "id 4158829090",
		"cards no context":  "build 5019717010103742-abc",
		"base64 40 no ctx":  "blob wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY end",
	}
	d := detector(t, config.SensitivityHigh)
	for name, text := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := d.Scan(text, nil); len(got) > 0 {
				t.Errorf("Scan(%q) found %s", text, show(got, text))
			}
		})
	}
}

// TestOffsetsAreBytes checks UTF-8 byte offsets around non-ASCII text.
func TestOffsetsAreBytes(t *testing.T) {
	t.Parallel()
	d := detector(t, config.SensitivityHigh)
	text := "Grüße, schreib an jürgen@example.de"
	got := d.Scan(text, nil)
	if len(got) != 1 || got[0].Start != 20 || got[0].End != 38 || got[0].Type != TypeEmail {
		t.Fatalf("got %+v, want EMAIL [20,38)", got)
	}
	if text[20:38] != "jürgen@example.de" {
		t.Fatalf("offsets point at %q", text[20:38])
	}
	text = "日本語のテキスト 電話 +81 3-1234-5678 です"
	got = d.Scan(text, nil)
	if len(got) != 1 || text[got[0].Start:got[0].End] != "+81 3-1234-5678" {
		t.Fatalf("got %s", show(got, text))
	}
}

func TestSensitivity(t *testing.T) {
	t.Parallel()
	type want struct{ low, medium, high bool }
	tests := map[string]struct {
		ctx, val string // the text is ctx+val; val must be found
		typ      string
		want     want
	}{
		"url plain":          {"", "https://example.com/a", TypeURL, want{false, false, true}},
		"url with password":  {"", "redis://:hunter2@cache:6379/0", TypeURL, want{true, true, true}},
		"url secret query":   {"", "https://api.example.com/x?token=abc123", TypeURL, want{true, true, true}},
		"slack webhook":      {"", "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX", TypeURL, want{true, true, true}},
		"email":              {"", "a.b@example.com", TypeEmail, want{true, true, true}},
		"ssn dashed":         {"", "536-22-1234", TypeSSN, want{false, true, true}},
		"ssn dashed ctx":     {"SSN ", "536-22-1234", TypeSSN, want{true, true, true}},
		"ssn spaced":         {"", "536 22 1234", TypeSSN, want{false, false, true}},
		"ssn bare ctx":       {"ssn ", "536221234", TypeSSN, want{false, true, true}},
		"phone unformatted":  {"", "4158829090", TypePhone, want{false, false, false}},
		"phone unfmt ctx":    {"phone ", "4158829090", TypePhone, want{true, true, true}},
		"phone dashed":       {"", "415-882-9090", TypePhone, want{false, true, true}},
		"phone 00":           {"", "0049 30 901820", TypePhone, want{false, false, true}},
		"card compact":       {"", "4111111111111111", TypeCreditCard, want{false, true, true}},
		"card grouped":       {"", "4111 1111 1111 1111", TypeCreditCard, want{true, true, true}},
		"ipv4":               {"", "203.0.113.5", TypeIPAddress, want{false, true, true}},
		"ipv4 ctx":           {"ip ", "203.0.113.5", TypeIPAddress, want{true, true, true}},
		"loopback":           {"", "127.0.0.1", TypeIPAddress, want{false, true, true}},
		"loopback ctx":       {"ip ", "127.0.0.1", TypeIPAddress, want{false, true, true}},
		"unspecified v6 ctx": {"src=", "::", TypeIPAddress, want{false, true, true}},
		"broadcast":          {"", "255.255.255.255", TypeIPAddress, want{false, true, true}},
		"any cidr":           {"", "0.0.0.0/0", TypeIPAddress, want{false, true, true}},
		"link-local":         {"", "169.254.1.1", TypeIPAddress, want{false, true, true}},
		"iban lower":         {"", "gb82west12345698765432", TypeIBAN, want{false, true, true}},
		"iban lower ctx":     {"iban ", "gb82west12345698765432", TypeIBAN, want{true, true, true}},
		"ssn dotted ctx":     {"ssn ", "078.05.1123", TypeSSN, want{true, true, true}},
		"ssn bare no ctx":    {"", "078051121", TypeSSN, want{false, false, false}},
		"phone my number":    {"my number ", "090-1234-5678", TypePhone, want{false, true, true}},
		"phone cc ctx":       {"phone ", "91-415-555-0132", TypePhone, want{false, true, true}},
		"gh bad checksum":    {"", cat("ghp_", rnd(3, 36, alnum)), TypeGitHubToken, want{false, false, true}},
		"gh good checksum":   {"", githubToken("ghp_", 3), TypeGitHubToken, want{true, true, true}},
		"cisco mac":          {"", "0011.2233.4455", TypeMACAddress, want{false, true, true}},
		"www":                {"", "www.example.com", TypeURL, want{false, false, true}},
		"private key always": {"", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", TypePrivateKey, want{true, true, true}},
	}
	dets := map[config.Sensitivity]*Detector{}
	for _, s := range []config.Sensitivity{config.SensitivityLow, config.SensitivityMedium, config.SensitivityHigh} {
		dets[s] = detector(t, s)
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for s, w := range map[config.Sensitivity]bool{config.SensitivityLow: tc.want.low, config.SensitivityMedium: tc.want.medium, config.SensitivityHigh: tc.want.high} {
				text := tc.ctx + tc.val
				got := dets[s].Scan(text, nil)
				has := len(got) == 1 && got[0].Type == tc.typ && got[0].Start == len(tc.ctx) && got[0].End == len(text)
				if has != w || (!w && len(got) > 0) {
					t.Errorf("%s: Scan(%q) = %s, want found=%v", s, text, show(got, text), w)
				}
			}
		})
	}
}

func TestKeyContext(t *testing.T) {
	t.Parallel()
	d := detector(t, config.SensitivityMedium)
	tests := map[string]struct {
		key, text string
		want      []string
	}{
		"ssn key":          {"ssn", "536221234", []string{"SSN:536221234"}},
		"ssn camel":        {"customerSSN", "536221234", []string{"SSN:536221234"}},
		"social security":  {"social_security_number", "536221234", []string{"SSN:536221234"}},
		"phone key":        {"phone_number", "4158829090", []string{"PHONE:4158829090"}},
		"phone compound":   {"phonenumber", "4158829090", []string{"PHONE:4158829090"}},
		"mobile camel":     {"mobileNumber", "07700900123", []string{"PHONE:07700900123"}},
		"card key":         {"card_number", "4111111111111111", []string{"CREDIT_CARD:4111111111111111"}},
		"order id no ssn":  {"order_id", "536221234", nil},
		"order id no tel":  {"orderId", "4158829090", nil},
		"no key":           {"", "536221234", nil},
		"version key":      {"version", "1.2.3.4", nil},
		"ip key":           {"client_ip", "1.2.3.4", []string{"IP_ADDRESS:1.2.3.4"}},
		"email key plain":  {"email", "someone@example.com", []string{"EMAIL:someone@example.com"}},
		"id key keeps ssn": {"id", "536-22-1234", []string{"SSN:536-22-1234"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := d.ScanWithContext(tc.text, tc.key, nil)
			if !sameStrings(found(tc.text, got), tc.want) {
				t.Errorf("ScanWithContext(%q, %q) = %s, want %q", tc.text, tc.key, show(got, tc.text), tc.want)
			}
		})
	}
}

func TestAllowList(t *testing.T) {
	t.Parallel()
	d, err := NewDetector(Config{Allow: []string{"Support@Acme.example", `re:.*@noreply\.acme\.example`, "203.0.113.5"}})
	if err != nil {
		t.Fatal(err)
	}
	text := "mail support@acme.example, bot@noreply.acme.example or jane@acme.example from 203.0.113.5 and 203.0.113.6"
	want := []string{"EMAIL:jane@acme.example", "IP_ADDRESS:203.0.113.6"}
	if got := d.Scan(text, nil); !sameStrings(found(text, got), want) {
		t.Fatalf("got %s, want %q", show(got, text), want)
	}
}

func TestOverlapsResolved(t *testing.T) {
	t.Parallel()
	d := detector(t, config.SensitivityHigh)
	text := "https://u:p@h.example/x?to=a@b.example and 4111111111111111@example.com"
	got := d.Scan(text, nil)
	for i := 1; i < len(got); i++ {
		if got[i].Start < got[i-1].End {
			t.Fatalf("overlap: %s", show(got, text))
		}
	}
	if len(got) == 0 || got[0].Type != TypeURL || got[0].End != strings.Index(text, " and") {
		t.Fatalf("the URL should contain the e-mail: %s", show(got, text))
	}
}

// adversarialInputs are built to make a careless scanner quadratic: many
// candidate starts inside one long run that each would re-read the run.
func adversarialInputs() map[string]string {
	const size = 256 << 10
	rep := func(unit string) string { return strings.Repeat(unit, size/len(unit)+1)[:size] }
	return map[string]string{
		"jwt parts":     rep("eyJ-"),
		"jwt dots":      "eyJ" + rep("a.eyJ-"),
		"nested urls":   rep("a://b)"),
		"url query":     "https://x.example/?" + rep("a=b&next=http://"),
		"www":           rep("www."),
		"slack":         rep("xoxb-"),
		"anthropic":     rep("sk-ant-"),
		"pem begins":    rep("-----BEGIN PRIVATE KEY-----!"),
		"pem no end":    rep("-----BEGIN RSA PRIVATE KEY-----\nAAAA-----END DSA PRIVATE KEY-----\n"),
		"at signs":      rep("a@b.c"),
		"digit groups":  rep("1 "),
		"plus digits":   rep("+1"),
		"hex colons":    rep("a:"),
		"long digits":   rep("4"),
		"ipv6 like":     rep("1::"),
		"emails dense":  rep("jane@example.com "),
		"phones dense":  rep("(415) 555-2671 "),
		"parens":        rep("(123) "),
		"context words": rep("phone ssn card 1 "),
	}
}

// TestAdversarialInputs has no timing assertion (speed is measured by
// BenchmarkAdversarial): a scan that turned quadratic on one of these
// would run for many minutes and fail the test by its timeout.
func TestAdversarialInputs(t *testing.T) {
	t.Parallel()
	d := detector(t, config.SensitivityHigh)
	m := masker(t, Config{})
	for name, in := range adversarialInputs() {
		for i, mt := range d.Scan(in, nil) {
			if mt.End > len(in) || mt.Start >= mt.End {
				t.Fatalf("%s: bad match %d %+v", name, i, mt)
			}
		}
		m.MaskString(in, "")
	}
}
