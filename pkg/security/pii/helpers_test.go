package pii

import (
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/escai-framework/escai/pkg/security/config"
)

// Token-shaped test values are assembled from parts so that secret
// scanners (GitHub push protection and the like) do not mistake the test
// sources for leaked credentials.
func cat(parts ...string) string { return strings.Join(parts, "") }

// rnd returns n characters of alphabet chosen by a PRNG seeded with seed.
func rnd(seed uint64, n int, alphabet string) string {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

const (
	alnum     = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b64urlAlp = alnum + "-_"
	hexLower  = "0123456789abcdef"
	b32       = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
)

// githubToken builds a classic token with a valid checksum.
func githubToken(prefix string, seed uint64) string {
	body := rnd(seed, 30, alnum)
	return prefix + body + base62CRC(body)
}

func base62CRC(body string) string {
	const a = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var b [30]byte
	copy(b[:], body)
	v := uint64(crc32.ChecksumIEEE(b[:]))
	out := make([]byte, 6)
	for i := 5; i >= 0; i-- {
		out[i] = a[v%62]
		v /= 62
	}
	return string(out)
}

func detector(t testing.TB, sens config.Sensitivity) *Detector {
	t.Helper()
	d, err := NewDetector(Config{Sensitivity: sens})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// found renders matches as "TYPE:value" for readable comparisons.
func found(text string, ms []Match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Type+":"+text[m.Start:m.End])
	}
	return out
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func show(ms []Match, text string) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "%s[%d:%d]=%q(%.2f) ", m.Type, m.Start, m.End, text[m.Start:m.End], m.Score)
	}
	return b.String()
}

// segwitAddr encodes a Bitcoin segwit address of witness version ver with
// a program of n bytes drawn from seed (bech32 for v0, bech32m above).
func segwitAddr(ver, n int, seed uint64) string {
	prog := []byte(rnd(seed, n, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x20\x40\x80\xc0\xff"))
	data := []byte{byte(ver)}
	acc, bitsHeld := 0, 0
	for _, b := range prog {
		acc = acc<<8 | int(b)
		bitsHeld += 8
		for bitsHeld >= 5 {
			bitsHeld -= 5
			data = append(data, byte(acc>>bitsHeld)&31)
		}
	}
	if bitsHeld > 0 {
		data = append(data, byte(acc<<(5-bitsHeld))&31)
	}
	return bech32Encode("bc", data, ver > 0)
}

func bech32Encode(hrp string, data []byte, m bool) string {
	v := uint32(1)
	for i := 0; i < len(hrp); i++ {
		v = bech32Polymod(v, hrp[i]>>5)
	}
	v = bech32Polymod(v, 0)
	for i := 0; i < len(hrp); i++ {
		v = bech32Polymod(v, hrp[i]&31)
	}
	for _, d := range data {
		v = bech32Polymod(v, d)
	}
	for i := 0; i < 6; i++ {
		v = bech32Polymod(v, 0)
	}
	c := uint32(bech32Const)
	if m {
		c = bech32mConst
	}
	v ^= c
	out := []byte(hrp + "1")
	for _, d := range data {
		out = append(out, bech32Charset[d])
	}
	for i := 0; i < 6; i++ {
		out = append(out, bech32Charset[(v>>uint(5*(5-i)))&31])
	}
	return string(out)
}
