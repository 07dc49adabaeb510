package audit

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/rfc6962"
)

// goldenRecord seals the fixed record of a golden file.
func goldenRecord(t *testing.T, encrypted bool) *Record {
	t.Helper()
	keys := mustDerive(t)
	cfg := AppenderConfig{
		Origin: Origin("audit.golden", 5), Partition: 5, WriterID: "writer-0", LeaseRev: 42,
		Now: func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC) },
	}
	if encrypted {
		ring, err := NewKeyRing(KeyRingConfig{KEK: keys.KEK, Rand: detRand(1), Now: cfg.Now})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Keys = ring
		cfg.IntegrityKey = keys.Integrity
		cfg.Rand = detRand(2)
	}
	a, err := NewAppender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	in := Input{
		EventID: "evt-0001", Tenant: "acme", Agent: "agent-1", EventType: "escai.tool.call",
		Actor: "hT3yqXk0bS1wQ2e4r5t6yA", Source: "ESCAI_CLEAN_acme", SourceSeq: 17,
		Payload: []byte(`{"specversion":"1.0","id":"evt-0001","data":{"tool":"search"}}`),
	}
	recs, err := a.Append([]Input{in, in})
	if err != nil {
		t.Fatal(err)
	}
	return &recs[1] // the second record has a non-zero prev
}

// specCanonical re-implements the canonical encoding from the package
// documentation, independently of appendHeader, so that the code and the
// written spec cannot drift apart.
func specCanonical(r *Record) []byte {
	var b bytes.Buffer
	f := func(x []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(x)))
		b.Write(x)
	}
	u := func(v uint64) { f(binary.BigEndian.AppendUint64(nil, v)) }
	b.WriteString("escai-audit-leaf")
	f([]byte{1})
	f([]byte(r.Origin))
	u(uint64(r.Partition))
	u(r.PSeq)
	u(uint64(r.Time.UnixNano()))
	f([]byte(r.WriterID))
	u(r.LeaseRev)
	f([]byte(r.EventID))
	f([]byte(r.Tenant))
	f([]byte(r.Agent))
	f([]byte(r.EventType))
	f([]byte(r.Actor))
	f([]byte{byte(r.Cipher)})
	f([]byte(r.KeyID))
	f(r.Nonce)
	f(r.Prev[:])
	f(r.Body)
	return b.Bytes()
}

var fieldNames = []string{
	"version", "origin", "partition", "pseq", "time", "writer_id", "lease_rev",
	"event_id", "tenant", "agent", "event_type", "actor", "cipher", "key_id",
	"nonce", "prev", "body", "hash (wire)", "mac (wire)",
}

// dumpRecord renders the wire bytes field by field for the golden files.
func dumpRecord(r *Record) []byte {
	var b strings.Builder
	b.WriteString("# ESCAI audit record v1. The canonical encoding MUST NEVER CHANGE.\n")
	b.WriteString("# field: u32be length | value (hex)\n")
	fmt.Fprintf(&b, "tag: %x %q\n", leafTag, leafTag)
	rd := reader{b: r.wire, off: len(leafTag)}
	for _, name := range fieldNames {
		v := rd.field(0, MaxBodyBytes)
		fmt.Fprintf(&b, "%s: %d | %x\n", name, len(v), v)
	}
	leaf := rfc6962.DefaultHasher.HashLeaf(r.Canonical())
	fmt.Fprintf(&b, "leaf hash = SHA-256(0x00 ‖ canonical): %x\n", leaf)
	fmt.Fprintf(&b, "canonical bytes: %d, wire bytes: %d\n", len(r.Canonical()), len(r.Bytes()))
	w := hex.EncodeToString(r.Bytes())
	for len(w) > 0 {
		n := min(64, len(w))
		b.WriteString(w[:n] + "\n")
		w = w[n:]
	}
	return []byte(b.String())
}

func TestRecordGolden(t *testing.T) {
	t.Parallel()
	for name, enc := range map[string]bool{"record_clear.golden": false, "record_encrypted.golden": true} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := goldenRecord(t, enc)
			if got, want := r.Canonical(), specCanonical(r); !bytes.Equal(got, want) {
				t.Fatalf("canonical bytes differ from the documented encoding\n got %x\nwant %x", got, want)
			}
			if got, want := r.Hash[:], rfc6962.DefaultHasher.HashLeaf(r.Canonical()); !bytes.Equal(got, want) {
				t.Fatalf("hash %x is not the RFC 6962 leaf hash %x", got, want)
			}
			golden(t, name, dumpRecord(r))
		})
	}
}

func TestDerivedKeysGolden(t *testing.T) {
	t.Parallel()
	k := mustDerive(t)
	_, vkey, err := k.CheckpointSigner("audit.golden")
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("# HKDF-SHA256 labels of the audit keys; they MUST NEVER CHANGE.\n"+
		"master: %q\nintegrity: %x\nkek: %x\nindex: %x\nblind_index(actor, alice): %s\ncheckpoint verifier key: %s\n",
		testMaster, k.Integrity, k.KEK, k.Index, k.BlindIndex("actor", "alice"), vkey)
	golden(t, "derived_keys.golden", []byte(got))
}

func TestDecodeRoundTrip(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]logOptions{
		"clear":           {plain: true, noMAC: true},
		"clear with MAC":  {plain: true},
		"encrypted":       {},
		"encrypted noMAC": {noMAC: true},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			l := newTestLog(t, opt)
			recs := l.add(t, 3, nil)
			for i := range recs {
				want := &recs[i]
				got, err := DecodeRecord(want.Bytes())
				if err != nil {
					t.Fatal(err)
				}
				if got.Hash != want.Hash || got.LeafHash() != want.Hash {
					t.Fatalf("pseq %d: hash %x, recomputed %x, sealed %x", i, got.Hash, got.LeafHash(), want.Hash)
				}
				if !got.Time.Equal(want.Time) || got.Origin != want.Origin || got.PSeq != uint64(i) ||
					got.EventID != want.EventID || got.Tenant != "acme" || got.KeyID != want.KeyID ||
					!bytes.Equal(got.Nonce, want.Nonce) || got.Prev != want.Prev || !bytes.Equal(got.MAC, want.MAC) {
					t.Fatalf("pseq %d: decoded header %+v, sealed %+v", i, got.Header, want.Header)
				}
				if (got.MAC == nil) != opt.noMAC {
					t.Fatalf("MAC %x with noMAC=%v", got.MAC, opt.noMAC)
				}
				if !bytes.Equal(appendHeader(nil, &got.Header), got.Bytes()[:got.aadLen]) {
					t.Fatal("re-encoding the decoded header gives other bytes")
				}
				body, err := got.Open(l.ring)
				if err != nil {
					t.Fatal(err)
				}
				in := input(i, "acme")
				if body.Source != in.Source || body.SourceSeq != in.SourceSeq || !bytes.Equal(body.Payload, in.Payload) {
					t.Fatalf("body %+v, want %+v", body, in)
				}
				if want.MsgID() != fmt.Sprintf("%s#%d", l.origin, i) {
					t.Fatalf("MsgID %q", want.MsgID())
				}
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	t.Parallel()
	l := newTestLog(t, logOptions{})
	good := l.add(t, 1, nil)[0].Bytes()
	var v view
	if err := scan(good, &v); err != nil {
		t.Fatal(err)
	}
	mut := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	for name, b := range map[string][]byte{
		"empty":          nil,
		"wrong tag":      mut(func(b []byte) []byte { b[0] = 'E'; return b }),
		"version 2":      mut(func(b []byte) []byte { b[len(leafTag)+4] = 2; return b }),
		"trailing byte":  append(bytes.Clone(good), 0),
		"cut short":      good[:len(good)-1],
		"huge length":    mut(func(b []byte) []byte { binary.BigEndian.PutUint32(b[len(leafTag)+5:], 1<<31); return b }),
		"bad tenant":     mut(func(b []byte) []byte { i := bytes.Index(b, []byte("acme")); b[i] = 'A'; return b }),
		"unknown cipher": mut(func(b []byte) []byte { b[v.aadLen-HashSize-4-NonceSize-4-len(v.keyID)-4-1] = 9; return b }),
		"no hash":        good[:v.canonLen],
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := DecodeRecord(b)
			wantErr(t, err, ErrMalformed)
		})
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	l := newTestLog(t, logOptions{tenantKeys: true})
	rec := l.add(t, 1, nil)[0]
	other, err := NewKeyRing(KeyRingConfig{KEK: l.keys.KEK})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rec.Open(nil); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Open(nil) = %v, want ErrUnknownKey", err)
	}
	if _, err := rec.Open(other); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Open(other ring) = %v, want ErrUnknownKey", err)
	}
	bad := bytes.Clone(rec.Bytes())
	r2, _ := DecodeRecord(bad)
	r2.Body[0] ^= 1
	if _, err := r2.Open(l.ring); !errors.Is(err, ErrDecrypt) {
		t.Errorf("Open(tampered) = %v, want ErrDecrypt", err)
	}
	if _, err := l.ring.Shred("acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := rec.Open(l.ring); !errors.Is(err, ErrKeyShredded) {
		t.Errorf("Open(shredded) = %v, want ErrKeyShredded", err)
	}
}
