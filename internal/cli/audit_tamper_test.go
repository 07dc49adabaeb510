package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"golang.org/x/mod/sumdb/note"

	"github.com/escai-framework/escai/internal/auditwriter"
	"github.com/escai-framework/escai/internal/broker/brokertest"
	"github.com/escai-framework/escai/internal/redisx/redistest"
	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/audit"
	"github.com/escai-framework/escai/pkg/security/config"
)

const tamperSecret = "5a1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff7"

// storedAuditMsg is one checkpoint message or one record of ESCAI_AUDIT
// as the tamper tests copy it: bundles are taken apart into their records
// (data is the record, entry the rest of its bundle entry) and copyTrail
// bundles them again.
type storedAuditMsg struct {
	subject string
	data    []byte
	header  nats.Header
	entry   audit.BundleEntry
	part    int    // partition of a record or checkpoint
	pseq    uint64 // pseq of a record
	ckpt    bool
}

// sealedTrail runs two real audit writers, one after the other, over 80
// clean events on a real broker and redis-server: the first signs its
// checkpoints with key 1, the second with key 2 (signing-key rotation),
// and the tenant's data key is rotated between them. It returns every
// message of ESCAI_AUDIT in stream order, the wrapped data keys, and the
// two verifier keys.
func sealedTrail(t *testing.T) (msgs []storedAuditMsg, keys map[string][]byte, vkeys []string) {
	tr := sealTrail(t)
	return tr.msgs, tr.keys, tr.vkeys
}

// trail is a sealed audit trail and where it lives.
type trail struct {
	msgs     []storedAuditMsg
	keys     map[string][]byte
	vkeys    []string
	natsURL  string
	redisURL string
	js       jetstream.JetStream
}

func sealTrail(t *testing.T) *trail {
	var (
		msgs  []storedAuditMsg
		keys  map[string][]byte
		vkeys []string
	)
	t.Helper()
	ctx := context.Background()
	cfg, err := config.Load(func(k string) (string, bool) {
		if k == "ESCAI_SECRET_KEY" {
			return tamperSecret, true
		}
		return "", false
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	derived, err := audit.DeriveKeys(cfg.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	srv := brokertest.StartNode(t)
	js := brokertest.JetStream(t, brokertest.Connect(t, srv))
	brokertest.ApplyTenant(t, js, "acme")
	rs := redistest.Start(t)
	rdb := rs.Client(t)

	var signers []note.Signer
	for range 2 {
		skey, vkey, err := note.GenerateKey(rand.Reader, "escai")
		if err != nil {
			t.Fatal(err)
		}
		s, err := note.NewSigner(skey)
		if err != nil {
			t.Fatal(err)
		}
		signers, vkeys = append(signers, s), append(vkeys, vkey)
	}
	total := 0
	run := func(phase int, ring *audit.KeyRing) {
		for i := range 40 {
			n := total + i
			agent := fmt.Sprintf("agent-%d", n%7)
			data := fmt.Appendf(nil, `{"specversion":"1.0","id":"t-%05d","source":"urn:a","type":"escai.tool.call","time":"2026-12-04T10:00:00Z","tenant":"acme","agentid":%q,"escaipii":{"status":"not_scanned"},"data":{"n":%d}}`, n, agent, n)
			if _, err := js.Publish(ctx, "escai.clean.acme."+agent+".tool.call", data); err != nil {
				t.Fatal(err)
			}
		}
		total += 40
		w, err := auditwriter.Start(ctx, js, rdb, auditwriter.Options{
			Partitions: 2, Limits: events.DefaultLimits(), Batch: 8, Workers: 2,
			Sealing: &auditwriter.SealingOptions{
				Master: cfg.SecretKey, Encrypt: true, Keys: ring, WriterID: fmt.Sprintf("writer-%d", phase),
				CheckpointEvery: 8, CheckpointSigners: []note.Signer{signers[phase]},
			},
		}, zap.NewNop(), stage.NewMetrics(prometheus.NewRegistry()))
		if err != nil {
			t.Fatal(err)
		}
		brokertest.WaitFor(t, 60*time.Second, func() error {
			if got := rdb.ZCard(ctx, auditwriter.TenantIndexKey("acme")).Val(); got != int64(total) {
				return fmt.Errorf("index holds %d of %d", got, total)
			}
			return nil
		})
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := w.Drain(dctx); err != nil {
			t.Fatal(err)
		}
	}
	ring1, err := auditwriter.OpenKeyRing(ctx, js, derived.KEK, true, 1)
	if err != nil {
		t.Fatal(err)
	}
	run(0, ring1)
	if _, err := ring1.Rotate("acme"); err != nil { // persisted in AUDIT_KEYS
		t.Fatal(err)
	}
	ring2, err := auditwriter.OpenKeyRing(ctx, js, derived.KEK, true, 1)
	if err != nil {
		t.Fatal(err)
	}
	run(1, ring2)

	// Every message of ESCAI_AUDIT, in stream order.
	cons, err := js.OrderedConsumer(ctx, events.StreamAudit, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		m, err := cons.Next(jetstream.FetchMaxWait(time.Second))
		if err != nil {
			break
		}
		sm := storedAuditMsg{subject: m.Subject(), data: bytes.Clone(m.Data()), header: nats.Header{}}
		for k, v := range m.Headers() {
			if strings.HasPrefix(k, "Escai-") {
				sm.header[k] = v
			}
		}
		sm.part, _ = strconv.Atoi(m.Subject()[strings.LastIndexByte(m.Subject(), '.')+1:])
		if strings.HasPrefix(sm.subject, "escai.audit.checkpoint.") {
			sm.ckpt = true
			msgs = append(msgs, sm)
			continue
		}
		entries, err := audit.SplitBundle(sm.data)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			rec, err := audit.DecodeRecord(e.Record)
			if err != nil {
				t.Fatal(err)
			}
			r := sm
			r.data, r.entry, r.pseq = bytes.Clone(e.Record), e, rec.PSeq
			r.entry.Record = nil
			msgs = append(msgs, r)
		}
	}
	keys = map[string][]byte{}
	kv, err := js.KeyValue(ctx, auditwriter.KeyBucket)
	if err != nil {
		t.Fatal(err)
	}
	names, err := kv.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range names {
		e, err := kv.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		keys[k] = e.Value()
	}
	return &trail{msgs: msgs, keys: keys, vkeys: vkeys, natsURL: srv.ClientURL(), redisURL: rs.URL, js: js}
}

// copyTrail stores msgs and keys on a fresh server, as an attacker with
// write access to the storage would leave them, and returns its URL and
// the stream sequence of the message holding each of msgs.
func copyTrail(t *testing.T, msgs []storedAuditMsg, keys map[string][]byte) (string, []uint64) {
	t.Helper()
	ctx := context.Background()
	srv := brokertest.StartNode(t)
	js := brokertest.JetStream(t, brokertest.Connect(t, srv))
	brokertest.Apply(t, js)
	// Records go back in bundles of up to three consecutive records of a
	// subject, so a tampered record sits first, inside or last in one.
	seqs := make([]uint64, len(msgs))
	for i := 0; i < len(msgs); {
		m := msgs[i]
		if m.ckpt {
			ack, err := js.PublishMsg(ctx, &nats.Msg{Subject: m.subject, Data: m.data, Header: m.header})
			if err != nil {
				t.Fatal(err)
			}
			seqs[i] = ack.Sequence
			i++
			continue
		}
		var entries []audit.BundleEntry
		j := i
		for ; j < len(msgs) && j < i+3 && !msgs[j].ckpt && msgs[j].subject == m.subject; j++ {
			e := msgs[j].entry
			e.Record = msgs[j].data
			entries = append(entries, e)
		}
		data, err := audit.AppendBundle(nil, entries)
		if err != nil {
			t.Fatal(err)
		}
		ack, err := js.PublishMsg(ctx, &nats.Msg{Subject: m.subject, Data: data})
		if err != nil {
			t.Fatal(err)
		}
		for ; i < j; i++ {
			seqs[i] = ack.Sequence
		}
	}
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: auditwriter.KeyBucket})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range keys {
		if _, err := kv.Put(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	return srv.ClientURL(), seqs
}

// verifyJSON runs escai audit verify --json on url and returns its exit
// code and one report per partition. ESCAI_SECRET_KEY must be set to
// tamperSecret.
func verifyJSON(t *testing.T, url string, vkeys []string, extra ...string) (int, []audit.Report, string) {
	t.Helper()
	args := []string{"audit", "verify", "--nats-url", url, "--audit-partitions", "2", "--json", "--decrypt"}
	for _, k := range vkeys {
		args = append(args, "--checkpoint-key", k)
	}
	cmd := NewEscai()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(append(args, extra...))
	code := Execute(cmd)
	var reps []audit.Report
	dec := json.NewDecoder(&out)
	for dec.More() {
		var r audit.Report
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("verify output: %v\n%s", err, out.String())
		}
		reps = append(reps, r)
	}
	return code, reps, errOut.String()
}

// TestAuditTamperOnRealStream is the acceptance of the audit trail: a
// trail sealed by real writers (with data-key and signing-key rotation
// mid-chain) is copied, tampered, to a second server, and escai audit
// verify must name the exact partition, pseq and finding of each change,
// and pass the untouched copy.
func TestAuditTamperOnRealStream(t *testing.T) {
	t.Setenv("ESCAI_SECRET_KEY", tamperSecret)
	msgs, keys, vkeys := sealedTrail(t)
	// The busier partition is tampered with; the other stays intact.
	count := [2]int{}
	for _, m := range msgs {
		if !m.ckpt {
			count[m.part]++
		}
	}
	part := 0
	if count[1] > count[0] {
		part = 1
	}
	other := 1 - part
	var recIdx, cpIdx []int // indexes into msgs of partition 1's records and checkpoints
	keyIDs := map[string]bool{}
	for i, m := range msgs {
		if m.part != part {
			continue
		}
		if m.ckpt {
			cpIdx = append(cpIdx, i)
			continue
		}
		recIdx = append(recIdx, i)
		rec, _ := audit.DecodeRecord(m.data)
		keyIDs[rec.KeyID] = true
	}
	if len(recIdx) < 20 || len(cpIdx) < 3 || len(keyIDs) < 2 {
		t.Fatalf("trail of partition %d: %d records, %d checkpoints, %d data keys; want ≥20, ≥3, 2", part, len(recIdx), len(cpIdx), len(keyIDs))
	}
	n := uint64(len(recIdx))
	const k = 9

	clone := func() []storedAuditMsg {
		out := make([]storedAuditMsg, len(msgs))
		for i, m := range msgs {
			m.data = bytes.Clone(m.data)
			out[i] = m
		}
		return out
	}
	without := func(ms []storedAuditMsg, drop ...int) []storedAuditMsg {
		skip := map[int]bool{}
		for _, d := range drop {
			skip[d] = true
		}
		var out []storedAuditMsg
		for i, m := range ms {
			if !skip[i] {
				out = append(out, m)
			}
		}
		return out
	}
	// resign re-signs the body of checkpoint note msg with signer s only.
	resign := func(msg []byte, s note.Signer) []byte {
		n, err := note.Open(msg, note.VerifierList())
		if err == nil || n == nil {
			var unverified *note.UnverifiedNoteError
			if !asUnverified(err, &unverified) {
				t.Fatalf("open checkpoint: %v", err)
			}
			n = unverified.Note
		}
		out, err := note.Sign(&note.Note{Text: n.Text}, s)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	entryOf := func(m storedAuditMsg) *audit.CheckpointEntry {
		e, err := audit.ParseCheckpointEntry(m.data)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}

	type want struct {
		code audit.Code
		pseq uint64
		msg  int // index (in the tampered list) of the message named by stream seq; -1: not checked
	}
	cases := []struct {
		name   string
		tamper func() []storedAuditMsg
		want   *want
	}{
		{"untouched, across data-key and signing-key rotation", clone, nil},
		{"one byte of record k modified", func() []storedAuditMsg {
			ms := clone()
			d := ms[recIdx[k]].data
			d[len(d)-120] ^= 0x01 // inside the ciphertext
			return ms
		}, &want{audit.CodeLeafMismatch, k, recIdx[k]}},
		{"record k deleted", func() []storedAuditMsg {
			return without(clone(), recIdx[k])
		}, &want{audit.CodeGap, k, recIdx[k]}}, // the message now at k's place is k+1
		{"records k and k+1 swapped", func() []storedAuditMsg {
			ms := clone()
			ms[recIdx[k]], ms[recIdx[k+1]] = ms[recIdx[k+1]], ms[recIdx[k]]
			return ms
		}, &want{audit.CodeReorder, k, recIdx[k]}},
		{"last 3 records truncated", func() []storedAuditMsg {
			return without(clone(), recIdx[n-3:]...)
		}, &want{audit.CodeTruncated, n - 3, -1}},
		{"older checkpoint presented after the newest", func() []storedAuditMsg {
			ms := clone()
			return append(ms, ms[cpIdx[0]])
		}, &want{audit.CodeCheckpointRollback, sizeOf(t, msgs[cpIdx[0]]), len(msgs)}},
		{"checkpoint signed by an untrusted key", func() []storedAuditMsg {
			ms := clone()
			skey, _, err := note.GenerateKey(rand.Reader, "escai")
			if err != nil {
				t.Fatal(err)
			}
			mallory, err := note.NewSigner(skey)
			if err != nil {
				t.Fatal(err)
			}
			last := ms[cpIdx[len(cpIdx)-1]]
			forged := audit.CheckpointEntry{Note: resign(entryOf(last).Note, mallory)}
			b, err := forged.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			last.data = b
			return append(ms, last)
		}, &want{audit.CodeBadCheckpointSignature, n, len(msgs)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tampered := tc.tamper()
			url, seqs := copyTrail(t, tampered, keys)
			code, reps, stderr := verifyJSON(t, url, vkeys)
			if len(reps) != 2 {
				t.Fatalf("exit %d, %d reports, want 2\n%s", code, len(reps), stderr)
			}
			if reps[other].Status != "OK" {
				t.Fatalf("partition %d (untouched): %+v", other, reps[other].Finding)
			}
			r := reps[part]
			if tc.want == nil {
				if code != 0 || r.Status != "OK" || r.NextPSeq != n || r.Decrypted != n || r.RootsMatched < 3 || r.Unanchored != 0 {
					t.Fatalf("exit %d, partition %d: %+v", code, part, r)
				}
				return
			}
			f := r.Finding
			if code != 1 || f == nil {
				t.Fatalf("exit %d, partition %d: %+v; want %s at pseq %d", code, part, r, tc.want.code, tc.want.pseq)
			}
			t.Logf("partition %d: %s at pseq %d (stream seq %d): %s", f.Partition, f.Code, f.PSeq, f.StreamSeq, f.Detail)
			// For a checkpoint finding, pseq is the size of the offending
			// checkpoint.
			if f.Partition != uint32(part) || f.Code != tc.want.code || f.PSeq != tc.want.pseq {
				t.Fatalf("finding %s at partition %d pseq %d, want %s at partition %d pseq %d", f.Code, f.Partition, f.PSeq, tc.want.code, part, tc.want.pseq)
			}
			if tc.want.msg >= 0 && f.StreamSeq != seqs[tc.want.msg] {
				t.Fatalf("finding names stream seq %d, want %d", f.StreamSeq, seqs[tc.want.msg])
			}
		})
	}
}

// TestAuditTrustedCheckpointsCatchARewrite: whoever holds every key can
// cut the tail and the checkpoints that cover it, leaving a log that
// verifies on its own. The checkpoints an auditor exported earlier
// (escai audit checkpoint export) catch it.
func TestAuditTrustedCheckpointsCatchARewrite(t *testing.T) {
	t.Setenv("ESCAI_SECRET_KEY", tamperSecret)
	msgs, keys, vkeys := sealedTrail(t)
	url, _ := copyTrail(t, msgs, keys)
	file := filepath.Join(t.TempDir(), "checkpoints.jsonl")
	args := []string{"audit", "checkpoint", "export", "--nats-url", url, "--audit-partitions", "2", "-o", file}
	for _, k := range vkeys {
		args = append(args, "--checkpoint-key", k)
	}
	cmd := NewEscai()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	if code := Execute(cmd); code != 0 {
		t.Fatalf("export: exit %d\n%s", code, out.String())
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("exported file: %v, mode %v", err, fi.Mode())
	}
	raw, _ := os.ReadFile(file)
	if lines := strings.Count(string(raw), "\n"); lines != 2 {
		t.Fatalf("export wrote %d checkpoints, want one per partition:\n%s", lines, raw)
	}

	// The rewrite: partition 1 loses its last 5 records and every
	// checkpoint that covers any of them.
	var recs []int
	for i, m := range msgs {
		if m.part == 1 && !m.ckpt {
			recs = append(recs, i)
		}
	}
	cut := len(recs) - 5
	var rewritten []storedAuditMsg
	for i, m := range msgs {
		if m.part == 1 && !m.ckpt && m.pseq >= uint64(cut) {
			continue
		}
		if m.part == 1 && m.ckpt {
			cp, err := audit.ParseCheckpointEntry(m.data)
			if err != nil {
				t.Fatal(err)
			}
			c, err := audit.ParseCheckpoint(cp.Note)
			if err != nil {
				t.Fatal(err)
			}
			if c.Size > uint64(cut) {
				continue
			}
		}
		rewritten = append(rewritten, msgs[i])
	}
	url2, _ := copyTrail(t, rewritten, keys)
	if code, reps, stderr := verifyJSON(t, url2, vkeys); code != 0 || reps[1].Status != "OK" {
		t.Fatalf("without --trusted the rewrite should pass (it is self-consistent): exit %d %+v\n%s", code, reps, stderr)
	}
	code, reps, stderr := verifyJSON(t, url2, vkeys, "--trusted", file)
	if code != 1 || len(reps) != 2 || reps[1].Finding == nil {
		t.Fatalf("with --trusted: exit %d %+v\n%s", code, reps, stderr)
	}
	f := reps[1].Finding
	t.Logf("with --trusted: %s at pseq %d: %s", f.Code, f.PSeq, f.Detail)
	if f.Code != audit.CodeTruncated && f.Code != audit.CodeCheckpointRollback {
		t.Fatalf("finding %s, want TRUNCATED or CHECKPOINT_ROLLBACK", f.Code)
	}
	if reps[0].Status != "OK" {
		t.Fatalf("partition 0 was not rewritten: %+v", reps[0].Finding)
	}
}

func asUnverified(err error, target **note.UnverifiedNoteError) bool { return errors.As(err, target) }

// sizeOf is the tree size of a stored checkpoint message.
func sizeOf(t *testing.T, m storedAuditMsg) uint64 {
	t.Helper()
	e, err := audit.ParseCheckpointEntry(m.data)
	if err != nil {
		t.Fatal(err)
	}
	c, err := audit.ParseCheckpoint(e.Note)
	if err != nil {
		t.Fatal(err)
	}
	return c.Size
}

// runEscaiCmd runs the escai command with args and returns its exit code
// and what it printed (stdout, stderr).
func runEscaiCmd(args ...string) (int, string, string) {
	cmd := NewEscai()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	code := Execute(cmd)
	return code, out.String(), errOut.String()
}

// TestAuditProveAndVerifyProof: escai audit prove hands out an inclusion
// proof of one event's record that escai audit verify-proof accepts
// offline with the trusted keys alone, and refuses once altered or when
// checked against other keys.
func TestAuditProveAndVerifyProof(t *testing.T) {
	t.Setenv("ESCAI_SECRET_KEY", tamperSecret)
	msgs, keys, vkeys := sealedTrail(t)
	url, _ := copyTrail(t, msgs, keys)
	keyArgs := []string{"--checkpoint-key", vkeys[0], "--checkpoint-key", vkeys[1]}
	file := filepath.Join(t.TempDir(), "proof.json")

	// t-00012 belongs to agent-5 (12 % 7); without --tenant/--agent every
	// partition is searched.
	for _, extra := range [][]string{nil, {"--tenant", "acme", "--agent", "agent-5"}} {
		args := append([]string{"audit", "prove", "t-00012", "--nats-url", url, "--audit-partitions", "2", "-o", file}, keyArgs...)
		if code, out, errOut := runEscaiCmd(append(args, extra...)...); code != 0 {
			t.Fatalf("prove %v: exit %d\n%s%s", extra, code, out, errOut)
		}
		code, out, errOut := runEscaiCmd(append([]string{"audit", "verify-proof", file}, keyArgs...)...)
		if code != 0 || !strings.Contains(out, `OK: record of event "t-00012"`) {
			t.Fatalf("verify-proof: exit %d\n%s%s", code, out, errOut)
		}
		t.Log(strings.TrimSpace(out))
	}

	// Altered: the record's payload (its leaf no longer matches), or
	// checked against keys that never signed the checkpoint.
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	proof, err := audit.ParseProof(raw)
	if err != nil {
		t.Fatal(err)
	}
	proof.Record[len(proof.Record)-120] ^= 1
	altered, err := proof.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "altered.json")
	if err := os.WriteFile(bad, altered, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runEscaiCmd(append([]string{"audit", "verify-proof", bad}, keyArgs...)...); code != 1 {
		t.Fatalf("altered proof: exit %d\n%s%s", code, out, errOut)
	}
	_, otherKey, err := note.GenerateKey(rand.Reader, "escai")
	if err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runEscaiCmd("audit", "verify-proof", file, "--checkpoint-key", otherKey); code != 1 || !strings.Contains(errOut, "does not verify") {
		t.Fatalf("proof checked against another key: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := runEscaiCmd(append([]string{"audit", "prove", "no-such-event", "--nats-url", url, "--audit-partitions", "2"}, keyArgs...)...); code != 1 || !strings.Contains(errOut, "no-such-event") {
		t.Fatalf("prove of an unknown event: exit %d\n%s", code, errOut)
	}
}
