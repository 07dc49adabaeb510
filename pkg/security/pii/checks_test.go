package pii

import (
	"encoding/hex"
	"testing"
)

func TestKeccak256(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"":    "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
		"abc": "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45",
	}
	for in, want := range tests {
		if got := keccak256([]byte(in)); hex.EncodeToString(got[:]) != want {
			t.Errorf("keccak256(%q) = %x, want %s", in, got, want)
		}
	}
}

// TestEIP55 uses the test vectors of EIP-55.
func TestEIP55(t *testing.T) {
	t.Parallel()
	for _, a := range []string{
		"5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
		"fB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
		"dbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
		"D1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
		"52908400098527886E0F7030069857D2E4169EE7",
		"8617E340B3D01FA5F11F306F4090FD50E238070D",
		"de709f2102306220921060314715629080e2fb77",
		"27b1fdb04752bbc536007a920d24acb045561c26",
	} {
		if !eip55Valid(a) {
			t.Errorf("eip55Valid(%s) = false", a)
		}
	}
	if eip55Valid("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD") {
		t.Error("a flipped case passed")
	}
}

// TestBech32Vectors uses valid strings of BIP 173 (bech32) and BIP 350
// (bech32m).
func TestBech32Vectors(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"A12UEL5L", "a12uel5l", "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
		"split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w"} {
		if got := bech32Checksum(s); got != bech32Const {
			t.Errorf("bech32Checksum(%s) = %#x, want bech32", s, got)
		}
	}
	for _, s := range []string{"A1LQFN3A", "a1lqfn3a", "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx"} {
		if got := bech32Checksum(s); got != bech32mConst {
			t.Errorf("bech32Checksum(%s) = %#x, want bech32m", s, got)
		}
	}
	for _, s := range []string{"A12UeL5L", "a12uel5m", "1nwldj5", "pzry9x0s0muk"} {
		if c := bech32Checksum(s); c == bech32Const || c == bech32mConst {
			t.Errorf("bech32Checksum(%s) accepted an invalid string", s)
		}
	}
	for _, s := range []string{"bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", segwitAddr(0, 20, 1), segwitAddr(0, 32, 3), segwitAddr(1, 32, 2)} {
		if !segwitValid(s) {
			t.Errorf("segwitValid(%s) = false", s)
		}
	}
}

func TestBase58Check(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "1111111111111111111114oLvT2", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "3QJmV3qfvL9SuYo34YihAf3sRCW3qSinyC"} {
		if !base58Check(s) {
			t.Errorf("base58Check(%s) = false", s)
		}
	}
	for _, s := range []string{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", "1111111111111111111114oLvT3", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNL"} {
		if base58Check(s) {
			t.Errorf("base58Check(%s) = true", s)
		}
	}
}

func TestGitHubChecksum(t *testing.T) {
	t.Parallel()
	for _, body := range []string{"zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq17", "adE7dp8rHP6gUTuPwxLTZjZdtya3sV0UQzQM", "H3xbiBdlzffNx7Y56iNsPw3joObj7U2nO29h"} {
		if !githubChecksum(body) {
			t.Errorf("githubChecksum(%s) = false", body)
		}
	}
	if githubChecksum("zQWCuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq17") {
		t.Error("a changed body passed")
	}
}

func TestLuhnAndIssuer(t *testing.T) {
	t.Parallel()
	valid := []string{"4012888888881881", "4111111111111111", "378282246310005", "371449635398431", "5555555555554444",
		"5105105105105100", "6011111111111117", "6011000990139424", "30569309025904", "38520000023237", "3530111333300000",
		"3566002020360505", "5019717010103742", "122000000000003", "6759649826438453", "2223000048400011"}
	for _, c := range valid {
		if !luhn(c) || cardIssuer([]byte(c)) == cardNone {
			t.Errorf("%s: luhn %v issuer %d", c, luhn(c), cardIssuer([]byte(c)))
		}
	}
	for _, c := range []string{"4012888888881882", "36168002586008", "4111111111111112"} {
		if luhn(c) {
			t.Errorf("luhn(%s) = true", c)
		}
	}
	for _, c := range []string{"9111111111111111", "7111111111111114", "1111111111111117"} {
		if cardIssuer([]byte(c)) != cardNone {
			t.Errorf("cardIssuer(%s) accepted an unknown issuer", c)
		}
	}
}

// TestIBANExamples checks one example per country, most of them the
// examples of the SWIFT IBAN registry that Presidio's IBAN recognizer
// tests use too.
func TestIBANExamples(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"AL47212110090000000235698741", "AD1200012030200359100100", "AT611904300234573201",
		"AZ21NABZ00000000137010001944", "BH67BMAG00001299123456", "BE68539007547034", "BA391290079401028494",
		"BR1800360305000010009795493C1", "BG80BNBG96611020345678", "CR05015202001026284066", "HR1210010051863000160",
		"CY17002001280000001200527600", "CZ6508000000192000145399", "DK5000400440116243", "DO28BAGR00000001212453611324",
		"EE382200221020145685", "FO6264600001631634", "FI2112345600000785", "FR1420041010050500013M02606",
		"GE29NB0000000101904917", "DE89370400440532013000", "GI75NWBK000000007099453", "GR1601101250000000012300695",
		"GL8964710001000206", "GT82TRAJ01020000001210029690", "HU42117730161111101800000000", "IS140159260076545510730339",
		"IE29AIBK93115212345678", "IL620108000000099999999", "IT60X0542811101000000123456", "JO94CBJO0010000000000131000302",
		"KZ86125KZT5004100100", "XK051212012345678906", "KW81CBKU0000000000001234560101", "LV80BANK0000435195001",
		"LB62099900000001001901229114", "LI21088100002324013AA", "LT121000011101001000", "LU280019400644750000",
		"MK07250120000058984", "MT84MALT011000012345MTLCAST001S", "MR1300020001010000123456753", "MU17BOMM0101101030300200000MUR",
		"MD24AG000225100013104168", "MC5811222000010123456789030", "ME25505000012345678951", "NL91ABNA0417164300",
		"NO9386011117947", "PK36SCBL0000001123456702", "PS92PALS000000000400123456702", "PL61109010140000071219812874",
		"PT50000201231234567890154", "QA58DOHB00001234567890ABCDEFG", "RO49AAAA1B31007593840000", "LC55HEMM000100010012001200023015",
		"SM86U0322509800000000270100", "ST68000100010051845310112", "SA0380000000608010167519", "RS35260005601001611379",
		"SK3112000000198742637541", "SI56263300012039086", "ES9121000418450200051332", "SE4550000000058398257466",
		"CH9300762011623852957", "TL380080012345678910157", "TN5910006035183598478831", "TR330006100519786457841326",
		"UA213223130000026007233566001", "AE070331234567890123456", "GB29NWBK60161331926819", "GB82WEST12345698765432",
		"VA59001123000012345678", "VG96VPVG0000012345678901"} {
		if !ibanValid(s) {
			t.Errorf("ibanValid(%s) = false (length %d, table %d, mod97 %d)", s, len(s), ibanLength(s[0], s[1]), mod97(s))
		}
	}
	for _, s := range []string{"GB82WEST12345698765433", "AL47212110090000000235698740", "DE8937040044053201300", "ZZ82WEST12345698765432"} {
		if ibanValid(s) {
			t.Errorf("ibanValid(%s) = true", s)
		}
	}
}

func TestSSNRules(t *testing.T) {
	t.Parallel()
	tests := map[string]bool{
		"536221234": true, "078051123": true, "001010001": true, "899999998": true,
		"000121234": false, "666121234": false, "900121234": false, "999121234": false, "536001234": false,
		"536220000": false, "111111111": false, "078051120": false, "219099999": false, "123456789": false,
	}
	for in, want := range tests {
		if got := ssnValid([]byte(in)); got != want {
			t.Errorf("ssnValid(%s) = %v, want %v", in, got, want)
		}
	}
}

func TestE164(t *testing.T) {
	t.Parallel()
	tests := map[string]bool{
		"14155552671": true, "442079460958": true, "4930901820": true, "33142685300": true, "919876543210": true,
		"8613800138000": true, "61293744000": true, "74951234567": true, "35312345678": true, "2348012345678": true,
		"11155552671": false, "14150552671": false, "4412": false, "2101234567890": false, "0049309018": false,
		"4407946095": false, "12345678901234567": false,
	}
	for in, want := range tests {
		if got := e164Valid([]byte(in)); got != want {
			t.Errorf("e164Valid(%s) = %v, want %v", in, got, want)
		}
	}
}
