package pii

import (
	"strings"
	"testing"

	"github.com/escai-framework/escai/pkg/security/config"
)

// noPII is agent text dense with near misses: every handler of the
// scanner runs on it, none finds anything.
var noPII = strings.Repeat(`{"tool":"shell","args":{"cmd":"git log -1 3f786850e387550fdab836ed7e6dc881de23001b"},`+
	`"result":"commit 9c1185a5c5e9fc54612808977ee8f548b2258d31\nDate: 2024-01-15T10:30:45.123Z\n",`+
	`"trace":"550e8400-e29b-41d4-a716-446655440000","ts":1718023456789,"version":"v1.2.3","win":"10.0.19041.1",`+
	`"note":"listening on :8080, netmask 255.255.255.0; std::vector<int>; a[1::2]; logo@2x.png; user@localhost",`+
	`"sums":"4111111111111112 078-05-1120 GB82WEST12345698765433 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",`+
	`"more":"order ORD-2024-000123 +100% (12) 34 eyJmb28iOiJiYXIifQ.eyJmb28iOiJiYXIifQ.c2ln -----BEGIN PUBLIC KEY-----",`+
	`"jp":"日本語のテキスト、ümlaut café naïve","hex":"de:ad:be:ef","url":"mailto:"}`+"\n", 20)

func TestScanNoAllocWithoutMatches(t *testing.T) {
	for _, s := range []config.Sensitivity{config.SensitivityLow, config.SensitivityMedium, config.SensitivityHigh} {
		d := detector(t, s)
		if got := d.Scan(noPII, nil); len(got) > 0 {
			t.Fatalf("%s: unexpected matches %s", s, show(got, noPII))
		}
		dst := make([]Match, 0, 16)
		if n := testing.AllocsPerRun(50, func() { dst = d.Scan(noPII, dst[:0]) }); n != 0 {
			t.Errorf("%s: Scan allocated %.1f times without a match", s, n)
		}
		if n := testing.AllocsPerRun(50, func() { dst = d.ScanWithContext(noPII, "customer_phone_number", dst[:0]) }); n != 0 {
			t.Errorf("%s: ScanWithContext allocated %.1f times without a match", s, n)
		}
	}
}

func TestScanNoAllocWithMatchesAndRoom(t *testing.T) {
	d := detector(t, config.SensitivityHigh)
	text := "mail jürgen@example.de, call +1 415 555 2671, card 4111 1111 1111 1111, ip 10.1.2.3, " +
		"eth 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed, https://u:p@h.example/x, " + githubToken("ghp_", 1)
	dst := make([]Match, 0, 16)
	if n := testing.AllocsPerRun(50, func() { dst = d.Scan(text, dst[:0]) }); n != 0 {
		t.Errorf("Scan allocated %.1f times with room in dst", n)
	}
	if len(dst) != 7 {
		t.Errorf("found %s", show(dst, text))
	}
}

func TestCustomPatternNoAllocWithoutMatch(t *testing.T) {
	if raceEnabled {
		t.Skip("regexp pools its machines; sync.Pool drops items under -race")
	}
	d, err := NewDetector(Config{Custom: []CustomPattern{{Name: "EMPLOYEE_ID", Regex: `\bEMP-\d{6}\b`}}})
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]Match, 0, 16)
	if n := testing.AllocsPerRun(20, func() { dst = d.Scan(noPII, dst[:0]) }); n != 0 {
		t.Errorf("Scan with a custom pattern allocated %.1f times without a match", n)
	}
}
