package audit

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// testMaster stands for ESCAI_SECRET_KEY in tests.
var testMaster = []byte("0123456789abcdef-test-master-key-not-for-production!")

const testLog = "audit.test"

// detRand is a deterministic byte source for keys and nonces in tests.
func detRand(seed uint64) io.Reader {
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	return &lockedReader{r: rand.NewChaCha8(s)}
}

type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}

// clock returns a deterministic clock that advances by step on each call.
func clock(start time.Time, step time.Duration) func() time.Time {
	var mu sync.Mutex
	t := start
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now := t
		t = t.Add(step)
		return now
	}
}

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 600000000, time.UTC)

// testSigner is a deterministic checkpoint key.
func testSigner(t testing.TB, name string, seed byte) (note.Signer, string) {
	t.Helper()
	s, vkey, err := signerFromSeed(name, bytes.Repeat([]byte{seed}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return s, vkey
}

func trustedKeys(t testing.TB, vkeys ...string) note.Verifiers {
	t.Helper()
	v, err := TrustedKeys(vkeys...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustDerive(t testing.TB) *DerivedKeys {
	t.Helper()
	k, err := DeriveKeys(testMaster)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// input builds the i-th test event of a tenant.
func input(i int, tenant string) Input {
	return Input{
		EventID:   fmt.Sprintf("evt-%04d", i),
		Tenant:    tenant,
		Agent:     "agent-1",
		EventType: "escai.tool.call",
		Actor:     "u-" + tenant,
		Source:    "ESCAI_CLEAN_" + tenant,
		SourceSeq: uint64(1000 + i),
		Payload:   fmt.Appendf(nil, `{"specversion":"1.0","id":"evt-%04d","tenant":%q,"data":{"n":%d}}`, i, tenant, i),
	}
}

// testLogState is one partition built for a test: its records (wire bytes,
// copied), its checkpoint entries and what verifies them.
type testLogState struct {
	origin  string
	part    uint32
	keys    *DerivedKeys
	ring    *KeyRing
	app     *Appender
	records [][]byte
	entries []CheckpointEntry
	signers []note.Signer
	vkeys   []string
}

type logOptions struct {
	plain      bool // no encryption
	noMAC      bool
	tenantKeys bool
}

func newTestLog(t testing.TB, opt logOptions) *testLogState {
	t.Helper()
	l := &testLogState{origin: Origin(testLog, 3), part: 3, keys: mustDerive(t)}
	for i, name := range []string{testLog, testLog} {
		s, v := testSigner(t, name, byte(i+1))
		l.signers = append(l.signers, s)
		l.vkeys = append(l.vkeys, v)
	}
	if !opt.plain {
		ring, err := NewKeyRing(KeyRingConfig{
			KEK: l.keys.KEK, TenantKeys: opt.tenantKeys,
			Rand: detRand(7), Now: clock(epoch, time.Second),
		})
		if err != nil {
			t.Fatal(err)
		}
		l.ring = ring
	}
	cfg := l.appenderConfig(opt)
	a, err := NewAppender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l.app = a
	return l
}

func (l *testLogState) appenderConfig(opt logOptions) AppenderConfig {
	cfg := AppenderConfig{
		Origin: l.origin, Partition: l.part, WriterID: "writer-a", LeaseRev: 7,
		Keys: l.ring, Now: clock(epoch, time.Millisecond), Rand: detRand(9),
	}
	if !opt.noMAC {
		cfg.IntegrityKey = l.keys.Integrity
	}
	return cfg
}

// add seals n records (tenant by index) and keeps copies of their bytes.
func (l *testLogState) add(t testing.TB, n int, tenant func(i int) string) []Record {
	t.Helper()
	in := make([]Input, n)
	for i := range in {
		idx := len(l.records) + i
		ten := "acme"
		if tenant != nil {
			ten = tenant(idx)
		}
		in[i] = input(idx, ten)
	}
	recs, err := l.app.Append(in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		l.records = append(l.records, bytes.Clone(recs[i].Bytes()))
	}
	return recs
}

// checkpoint signs with signer k and keeps the entry.
func (l *testLogState) checkpoint(t testing.TB, k int) CheckpointEntry {
	t.Helper()
	e, err := l.app.Checkpoint(epoch.Add(time.Duration(len(l.entries)+1)*time.Minute), l.signers[k])
	if err != nil {
		t.Fatal(err)
	}
	l.entries = append(l.entries, e)
	return e
}

func (l *testLogState) trusted(t testing.TB) note.Verifiers { return trustedKeys(t, l.vkeys...) }

// standardLog is the log of the tamper tests: 10 records, the data key
// rotated at pseq 5, a checkpoint at 6 signed with key 0 and one at 10
// signed with key 1 (signing-key rotation).
func standardLog(t testing.TB) *testLogState {
	t.Helper()
	l := newTestLog(t, logOptions{})
	l.add(t, 5, nil)
	if _, err := l.ring.Rotate("acme"); err != nil {
		t.Fatal(err)
	}
	l.add(t, 1, nil)
	l.checkpoint(t, 0)
	l.add(t, 4, nil)
	l.checkpoint(t, 1)
	return l
}

// streamSeq is the stream sequence the tests give record i.
func streamSeq(i int) uint64 { return uint64(100 + i) }

// cpSeq is the stream sequence of checkpoint entry j.
func cpSeq(j int) uint64 { return uint64(1000 + j) }

// verify replays records (given with their stream seqs) after entries.
func verify(t testing.TB, cfg VerifierConfig, entries []CheckpointEntry, records [][]byte, seqs []uint64) *Report {
	t.Helper()
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for j, e := range entries {
		v.AddCheckpoint(e, cpSeq(j))
	}
	for i, r := range records {
		v.Feed(r, seqs[i])
	}
	return v.Finish()
}

func seqsOf(n int) []uint64 {
	s := make([]uint64, n)
	for i := range s {
		s[i] = streamSeq(i)
	}
	return s
}

func cloneAll(in [][]byte) [][]byte {
	out := make([][]byte, len(in))
	for i := range in {
		out[i] = bytes.Clone(in[i])
	}
	return out
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; the canonical encoding MUST NEVER CHANGE.\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want one wrapping %v", err, target)
	}
}

// noteSign signs raw text, without the checks of Checkpoint.Sign.
func noteSign(text string, s note.Signer) ([]byte, error) {
	return note.Sign(&note.Note{Text: text}, s)
}

// cosign adds a signature to a signed note, keeping the existing ones, as
// a witness does.
func cosign(msg []byte, s note.Signer) ([]byte, error) {
	_, err := note.Open(msg, note.VerifierList())
	var unverified *note.UnverifiedNoteError
	if !errors.As(err, &unverified) {
		return nil, fmt.Errorf("not a signed note: %v", err)
	}
	return note.Sign(unverified.Note, s)
}
