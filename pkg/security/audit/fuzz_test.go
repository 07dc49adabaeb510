package audit

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// FuzzDecodeRecord: DecodeRecord accepts only canonical bytes (decoding
// and re-encoding gives the same bytes), and a verifier holding the
// integrity key reports a finding at or before the position of any record
// that differs from the one the writer sealed.
func FuzzDecodeRecord(f *testing.F) {
	l := standardLog(f)
	plain := newTestLog(f, logOptions{plain: true, noMAC: true})
	plain.add(f, 2, nil)
	for _, r := range append(slices.Clone(l.records), plain.records...) {
		f.Add(r)
		f.Add(r[:len(r)/2])
	}
	f.Add([]byte(leafTag))
	f.Add([]byte{})
	trusted := l.trusted(f)
	const k = 4
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRecord(b)
		if err != nil {
			if r != nil || !errors.Is(err, ErrMalformed) {
				t.Fatalf("record %v with error %v", r, err)
			}
		} else {
			again := appendHeader(nil, &r.Header)
			again = putBytes(again, r.Body)
			again = putBytes(again, r.Hash[:])
			again = putBytes(again, r.MAC)
			if !bytes.Equal(again, b) {
				t.Fatalf("decoding is not canonical:\n in %x\nout %x", b, again)
			}
			if len(r.Bytes()) != len(b) || r.aadLen > r.canonLen {
				t.Fatal("bad offsets")
			}
			_, _ = r.Open(l.ring)
		}
		// Put the bytes at position k of the standard log.
		recs := slices.Clone(l.records)
		recs[k] = b
		cfg := VerifierConfig{Origin: l.origin, Partition: l.part, Trusted: trusted, IntegrityKey: l.keys.Integrity, Keys: l.ring}
		v, err := NewVerifier(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for j, e := range l.entries {
			v.AddCheckpoint(e, cpSeq(j))
		}
		for i, rec := range recs {
			v.Feed(rec, streamSeq(i))
		}
		rep := v.Finish()
		if bytes.Equal(b, l.records[k]) {
			if rep.Finding != nil {
				t.Fatalf("original record reported: %v", rep.Finding)
			}
			return
		}
		if rep.Finding == nil || rep.Finding.PSeq > k {
			t.Fatalf("record %d replaced by %x: finding %v", k, b, rep.Finding)
		}
		if !slices.Contains(Codes(), rep.Finding.Code) {
			t.Fatalf("unknown code %q", rep.Finding.Code)
		}
	})
}

// FuzzOpenCheckpoint: parsing never panics, errors are classified, and
// whatever parses is exactly the text Checkpoint.Text would write.
func FuzzOpenCheckpoint(f *testing.F) {
	l := standardLog(f)
	for _, e := range l.entries {
		f.Add(e.Note)
	}
	f.Add([]byte("audit.test/p/3\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\ntime 2026-01-02T03:04:05Z\nfrontier\n\n— audit.test AAAAAAAA\n"))
	f.Add([]byte("a\n\n"))
	trusted := l.trusted(f)
	f.Fuzz(func(t *testing.T, msg []byte) {
		sc, err := OpenCheckpoint(msg, trusted)
		switch {
		case err == nil:
			if !bytes.HasPrefix(msg, sc.Text()) || len(sc.SignedBy) == 0 {
				t.Fatalf("opened checkpoint does not round-trip: %q", msg)
			}
		case !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrBadSignature):
			t.Fatalf("unclassified error %v", err)
		}
		c, err := ParseCheckpoint(msg)
		if err == nil {
			if !bytes.HasPrefix(msg, c.Text()) {
				t.Fatalf("parsed checkpoint does not round-trip: %q", msg)
			}
			if _, err := frontierRoot(c.Size, c.Frontier); err != nil {
				t.Fatal(err)
			}
		} else if !errors.Is(err, ErrMalformed) {
			t.Fatalf("unclassified error %v", err)
		}
		v, _ := NewVerifier(VerifierConfig{Origin: l.origin, Partition: l.part, Trusted: trusted})
		v.AddCheckpoint(CheckpointEntry{Note: msg}, 1)
		for i, r := range l.records {
			v.Feed(r, streamSeq(i))
		}
		v.Finish()
	})
}

// FuzzReadCheckpoints: a checkpoints file that reads writes back to a file
// that reads the same.
func FuzzReadCheckpoints(f *testing.F) {
	l := standardLog(f)
	var b bytes.Buffer
	WriteCheckpoints(&b, l.entries)
	f.Add(b.Bytes())
	f.Add([]byte(`{"note":"x","consistency_from":1,"consistency":["` + b64zeros + `"]}` + "\n"))
	f.Add([]byte("{}\n{}\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, in []byte) {
		entries, err := ReadCheckpoints(bytes.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		var out bytes.Buffer
		if err := WriteCheckpoints(&out, entries); err != nil {
			t.Fatal(err)
		}
		again, err := ReadCheckpoints(&out)
		if err != nil || len(again) != len(entries) {
			t.Fatalf("re-read: %d entries, %v", len(again), err)
		}
		for i := range again {
			if !bytes.Equal(again[i].Note, entries[i].Note) || again[i].ConsistencyFrom != entries[i].ConsistencyFrom ||
				!slices.EqualFunc(again[i].Consistency, entries[i].Consistency, bytes.Equal) {
				t.Fatalf("entry %d changed on the round trip", i)
			}
		}
		v, _ := NewVerifier(VerifierConfig{Origin: l.origin, Partition: l.part, Trusted: l.trusted(t)})
		for j, e := range entries {
			v.AddCheckpoint(e, uint64(j))
		}
		v.Finish()
	})
}

// FuzzParseProof: parsing and verifying never panic; a parsed proof
// marshals back to a proof that parses the same.
func FuzzParseProof(f *testing.F) {
	l := standardLog(f)
	tree, cp := replayTree(f, l)
	if tree == nil {
		f.Fatal("no tree")
	}
	for _, i := range []uint64{0, 4, 9} {
		p, err := tree.Prove(i, cp)
		if err != nil {
			f.Fatal(err)
		}
		doc, _ := json.Marshal(p)
		f.Add(doc)
		p.Record = l.records[i]
		doc, _ = json.Marshal(p)
		f.Add(doc)
	}
	f.Add([]byte(`{"v":1}`))
	trusted := l.trusted(f)
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, err := ParseProof(doc)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		out, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := ParseProof(out)
		if err != nil || q.LeafIndex != p.LeafIndex || !bytes.Equal(q.Record, p.Record) || q.Checkpoint != p.Checkpoint {
			t.Fatalf("round trip: %v", err)
		}
		if _, err := VerifyProof(p, nil, trusted); err != nil &&
			!errors.Is(err, ErrMalformed) && !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrProof) {
			t.Fatalf("unclassified error %v", err)
		}
	})
}

// FuzzParseWrappedKey: what parses loads or fails cleanly.
func FuzzParseWrappedKey(f *testing.F) {
	keys := mustDerive(f)
	var stored [][]byte
	ring, _ := NewKeyRing(KeyRingConfig{KEK: keys.KEK, TenantKeys: true, Rand: detRand(5), Persist: func(w WrappedKey) error {
		b, _ := json.Marshal(w)
		stored = append(stored, b)
		return nil
	}})
	ring.Current("acme")
	ring.Shred("acme")
	for _, s := range stored {
		f.Add(s)
	}
	f.Add([]byte(`{"id":"dk-1"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := ParseWrappedKey(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		r, _ := NewKeyRing(KeyRingConfig{KEK: keys.KEK, TenantKeys: true})
		if err := r.Load(*w); err != nil && !errors.Is(err, ErrDecrypt) && !errors.Is(err, ErrMalformed) {
			t.Fatalf("unclassified error %v", err)
		}
	})
}

// FuzzVerifierStream: arbitrary streams of records and checkpoints (split
// from one input) never panic and always end in a report whose finding,
// if any, has a known code.
func FuzzVerifierStream(f *testing.F) {
	l := standardLog(f)
	frame := func(items ...[]byte) []byte {
		var b []byte
		for _, it := range items {
			b = binary.BigEndian.AppendUint32(b, uint32(len(it)))
			b = append(b, it...)
		}
		return b
	}
	all := append([][]byte{l.entries[0].Note, l.entries[1].Note}, l.records...)
	f.Add(frame(all...))
	f.Add(frame(append([][]byte{l.entries[1].Note}, l.records[3:]...)...))
	f.Add(frame(l.records[5], l.records[4]))
	trusted := l.trusted(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		v, _ := NewVerifier(VerifierConfig{Origin: l.origin, Partition: l.part, Trusted: trusted, IntegrityKey: l.keys.Integrity, Keys: l.ring, KeepTree: true})
		r := reader{b: in}
		for i := 0; r.err == nil && r.off < len(in); i++ {
			item := r.field(0, len(in))
			if r.err != nil {
				break
			}
			if strings.HasPrefix(string(item), leafTag) {
				v.Feed(item, uint64(i))
			} else {
				v.AddCheckpoint(CheckpointEntry{Note: item}, uint64(i))
			}
		}
		rep := v.Finish()
		if rep.Finding != nil && !slices.Contains(Codes(), rep.Finding.Code) {
			t.Fatalf("unknown code %q", rep.Finding.Code)
		}
	})
}

// FuzzParseSigner: a signing key comes from configuration
// (ESCAI_AUDIT_SIGNING_KEY): never a panic, and a key that parses signs
// notes its derived verifier key accepts.
func FuzzParseSigner(f *testing.F) {
	skey, _, err := note.GenerateKey(detRand(5), "escai")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(skey)
	f.Add("PRIVATE+KEY+escai+00000000+AQ==")
	f.Add("PRIVATE+KEY+a+b+c+d")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		signer, vkey, err := ParseSigner(s)
		if err != nil {
			return
		}
		msg, err := note.Sign(&note.Note{Text: "x\n"}, signer)
		if err != nil {
			t.Fatal(err)
		}
		v, err := note.NewVerifier(vkey)
		if err != nil {
			t.Fatalf("derived verifier key %q: %v", vkey, err)
		}
		if _, err := note.Open(msg, note.VerifierList(v)); err != nil {
			t.Fatalf("a note signed by the parsed key does not verify with its verifier key: %v", err)
		}
	})
}
