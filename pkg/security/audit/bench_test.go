package audit

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// benchPayload is a 1 KiB clean event.
var benchPayload = func() []byte {
	b := []byte(`{"specversion":"1.0","id":"01JNQ8ZK6V3C2T7Y4W9XGB5M0E","source":"https://agents.acme.example/research/agent-7","type":"escai.tool.call","tenant":"acme","agentid":"research-agent-7","data":{"tool":"sql_query","arguments":{"sql":"`)
	b = append(b, bytes.Repeat([]byte("x"), 1024-len(b)-4)...)
	return append(b, `"}}}`...)
}()

const benchBatch = 256

func benchInputs() []Input {
	in := make([]Input, benchBatch)
	for i := range in {
		in[i] = Input{
			EventID: fmt.Sprintf("01JNQ8ZK6V3C2T7Y4W9X%06d", i), Tenant: "acme", Agent: "research-agent-7",
			EventType: "escai.tool.call", Actor: "hT3yqXk0bS1wQ2e4r5t6yA", Source: "ESCAI_CLEAN_acme",
			SourceSeq: uint64(i), Payload: benchPayload,
		}
	}
	return in
}

func benchAppender(b *testing.B, encrypt, mac bool) *Appender {
	keys := mustDerive(b)
	cfg := AppenderConfig{Origin: Origin("audit.bench", 0), WriterID: "writer-0"}
	if encrypt {
		ring, err := NewKeyRing(KeyRingConfig{KEK: keys.KEK})
		if err != nil {
			b.Fatal(err)
		}
		cfg.Keys = ring
	}
	if mac {
		cfg.IntegrityKey = keys.Integrity
	}
	a, err := NewAppender(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return a
}

// BenchmarkAppend seals and chains batches of 256 records of 1 KiB events
// (validation, AES-256-GCM, leaf hash, MAC, compact range) and reports
// records/s.
func BenchmarkAppend(b *testing.B) {
	for _, bc := range []struct {
		name         string
		encrypt, mac bool
	}{
		{"encrypted+mac", true, true},
		{"clear+mac", false, true},
		{"clear", false, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			a := benchAppender(b, bc.encrypt, bc.mac)
			in := benchInputs()
			b.ReportAllocs()
			b.SetBytes(int64(len(benchPayload) * benchBatch))
			n := 0
			for b.Loop() {
				if _, err := a.Append(in); err != nil {
					b.Fatal(err)
				}
				n += benchBatch
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkCheckpoint signs a checkpoint with a consistency proof.
func BenchmarkCheckpoint(b *testing.B) {
	a := benchAppender(b, false, false)
	in := benchInputs()
	s, _ := testSigner(b, "audit.bench", 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Append(in[:16]); err != nil {
			b.Fatal(err)
		}
		if _, err := a.Checkpoint(time.Unix(0, 0), s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify replays 4096 sealed, encrypted, MACed records of 1 KiB
// events against a checkpoint and reports records/s: without decryption
// (hash, chain, tree, MAC) and with it (plus AES-256-GCM).
func BenchmarkVerify(b *testing.B) {
	const n = 4096
	keys := mustDerive(b)
	ring, _ := NewKeyRing(KeyRingConfig{KEK: keys.KEK})
	a, _ := NewAppender(AppenderConfig{Origin: Origin("audit.bench", 0), Keys: ring, IntegrityKey: keys.Integrity})
	in := benchInputs()
	var recs [][]byte
	for len(recs) < n {
		out, err := a.Append(in)
		if err != nil {
			b.Fatal(err)
		}
		for i := range out {
			recs = append(recs, out[i].Bytes())
		}
	}
	s, vkey := testSigner(b, "audit.bench", 1)
	e, _ := a.Checkpoint(time.Unix(0, 0), s)
	trusted := trustedKeys(b, vkey)
	for _, bc := range []struct {
		name    string
		decrypt bool
		mac     bool
	}{
		{"nodecrypt", false, false},
		{"nodecrypt+mac", false, true},
		{"decrypt+mac", true, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := VerifierConfig{Origin: Origin("audit.bench", 0), Trusted: trusted}
			if bc.decrypt {
				cfg.Keys = ring
			}
			if bc.mac {
				cfg.IntegrityKey = keys.Integrity
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(benchPayload) * n))
			runs := 0
			for b.Loop() {
				v, _ := NewVerifier(cfg)
				v.AddCheckpoint(e, 1)
				for i, r := range recs {
					v.Feed(r, uint64(i+1))
				}
				if rep := v.Finish(); rep.Finding != nil {
					b.Fatal(rep.Finding)
				}
				runs++
			}
			b.ReportMetric(float64(runs*n)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
