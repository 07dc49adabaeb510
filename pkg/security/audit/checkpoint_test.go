package audit

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestCheckpointGolden(t *testing.T) {
	t.Parallel()
	l := newTestLog(t, logOptions{plain: true, noMAC: true})
	l.add(t, 6, nil)
	e1 := l.checkpoint(t, 0)
	l.add(t, 5, nil)
	e2 := l.checkpoint(t, 0)
	var b bytes.Buffer
	if err := WriteCheckpoints(&b, []CheckpointEntry{e1, e2}); err != nil {
		t.Fatal(err)
	}
	golden(t, "checkpoints.golden", b.Bytes())
	sc, err := OpenCheckpoint(e2.Note, l.trusted(t))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "checkpoint_note.golden", sc.Note)
	if sc.Size != 11 || len(sc.Frontier) != 3 || sc.Root != l.app.Head().Root {
		t.Fatalf("checkpoint %+v", sc.Checkpoint)
	}
}

func TestCheckpointsFileRoundTrip(t *testing.T) {
	t.Parallel()
	l := standardLog(t)
	var b bytes.Buffer
	if err := WriteCheckpoints(&b, l.entries); err != nil {
		t.Fatal(err)
	}
	got, err := ReadCheckpoints(&b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(l.entries) {
		t.Fatalf("%d entries, want %d", len(got), len(l.entries))
	}
	for i := range got {
		if !bytes.Equal(got[i].Note, l.entries[i].Note) || got[i].ConsistencyFrom != l.entries[i].ConsistencyFrom ||
			fmt.Sprint(got[i].Consistency) != fmt.Sprint(l.entries[i].Consistency) {
			t.Fatalf("entry %d differs after the round trip", i)
		}
	}
	// An imported file verifies like the stream's checkpoints.
	rep := verify(t, VerifierConfig{Origin: l.origin, Partition: l.part, Trusted: l.trusted(t)}, got, l.records, seqsOf(10))
	if rep.Finding != nil || rep.RootsMatched != 2 {
		t.Fatalf("imported: %v %+v", rep.Finding, rep)
	}
}

func TestReadCheckpointsErrors(t *testing.T) {
	t.Parallel()
	l := standardLog(t)
	var good bytes.Buffer
	WriteCheckpoints(&good, l.entries[:1])
	for name, tc := range map[string]struct {
		in   string
		line string
	}{
		"bad second line":         {good.String() + "{\n", "line 2"},
		"blank line":              {"\n" + good.String(), "line 1"},
		"unknown field":           {`{"note":"x","extra":1}` + "\n", "line 1"},
		"proof without its start": {`{"note":"x","consistency":["` + base64.StdEncoding.EncodeToString(make([]byte, 32)) + `"]}` + "\n", "line 1"},
		"short proof hash":        {`{"note":"x","consistency_from":1,"consistency":["AAAA"]}` + "\n", "line 1"},
		"empty note":              {`{"note":""}` + "\n", "line 1"},
		"line too long":           {`{"note":"` + strings.Repeat("a", maxEntryBytes) + `"}` + "\n", ""},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadCheckpoints(strings.NewReader(tc.in))
			wantErr(t, err, ErrMalformed)
			if !strings.Contains(err.Error(), tc.line) {
				t.Fatalf("error %q does not name %q", err, tc.line)
			}
		})
	}
}

func TestOpenCheckpointErrors(t *testing.T) {
	t.Parallel()
	l := standardLog(t)
	note := l.entries[1].Note
	text, sigs, _ := bytes.Cut(note, []byte("\n\n"))
	resign := func(t *testing.T, text string) []byte {
		msg, err := signText(text, l)
		if err != nil {
			t.Fatal(err)
		}
		return msg
	}
	cases := map[string]struct {
		msg func(t *testing.T) []byte
		err error
	}{
		"untrusted key":      {func(*testing.T) []byte { return note }, ErrBadSignature},
		"edited size":        {func(*testing.T) []byte { return bytes.Replace(note, []byte("\n10\n"), []byte("\n12\n"), 1) }, ErrBadSignature},
		"not a note":         {func(*testing.T) []byte { return []byte("hello") }, ErrMalformed},
		"no signatures":      {func(*testing.T) []byte { return append(text, '\n') }, ErrMalformed},
		"control characters": {func(*testing.T) []byte { return append([]byte("a\x01\n\n"), sigs...) }, ErrMalformed},
		"leading zero size": {func(t *testing.T) []byte {
			return resign(t, strings.Replace(string(text), "\n10\n", "\n010\n", 1)+"\n")
		}, ErrMalformed},
		"four lines": {func(t *testing.T) []byte {
			i := strings.LastIndex(string(text), "\nfrontier")
			return resign(t, string(text[:i])+"\n")
		}, ErrMalformed},
		"extra line": {func(t *testing.T) []byte { return resign(t, string(text)+"\nmore\n") }, ErrMalformed},
		"bad root":   {func(t *testing.T) []byte { return resign(t, replaceLine(string(text), 2, "AAAA")+"\n") }, ErrMalformed},
		"frontier does not make the root": {func(t *testing.T) []byte {
			return resign(t, replaceLine(string(text), 2, base64.StdEncoding.EncodeToString(make([]byte, 32)))+"\n")
		}, ErrMalformed},
		"frontier of the wrong length": {func(t *testing.T) []byte { return resign(t, replaceLine(string(text), 4, "frontier")+"\n") }, ErrMalformed},
		"time not canonical": {func(t *testing.T) []byte {
			return resign(t, replaceLine(string(text), 3, "time 2026-01-02T03:06:05.600+00:00")+"\n")
		}, ErrMalformed},
		"origin with space": {func(t *testing.T) []byte { return resign(t, replaceLine(string(text), 0, "audit test")+"\n") }, ErrMalformed},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			trusted := l.trusted(t)
			if name == "untrusted key" {
				trusted = trustedKeys(t, l.vkeys[0])
			}
			_, err := OpenCheckpoint(tc.msg(t), trusted)
			wantErr(t, err, tc.err)
		})
	}
}

func replaceLine(text string, i int, with string) string {
	lines := strings.Split(text, "\n")
	lines[i] = with
	return strings.Join(lines, "\n")
}

// signText signs arbitrary text with the log's key 1, bypassing the
// checks of Checkpoint.Sign, to test what parsers make of it.
func signText(text string, l *testLogState) ([]byte, error) {
	return noteSign(text, l.signers[1])
}

func TestSignRefusesInconsistentCheckpoints(t *testing.T) {
	t.Parallel()
	s, _ := testSigner(t, "audit.test", 1)
	for name, cp := range map[string]Checkpoint{
		"bad origin":        {Origin: "a b", Root: emptyRoot},
		"frontier mismatch": {Origin: "a", Size: 1, Root: emptyRoot, Frontier: make([][HashSize]byte, 1)},
		"missing frontier":  {Origin: "a", Size: 3},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := cp.Sign(s)
			wantErr(t, err, ErrMalformed)
		})
	}
	cp := Checkpoint{Origin: "a", Root: emptyRoot}
	if _, err := cp.Sign(); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("no signer: %v", err)
	}
}

func TestCheckpointWitnessCosignature(t *testing.T) {
	t.Parallel()
	l := standardLog(t)
	witness, wkey := testSigner(t, "witness-1.example", 50)
	sc, err := OpenCheckpoint(l.entries[1].Note, l.trusted(t))
	if err != nil {
		t.Fatal(err)
	}
	both, err := cosign(sc.Note, witness)
	if err != nil {
		t.Fatal(err)
	}
	// A verifier that trusts only the log ignores the witness signature; one
	// that trusts only the witness accepts the witnessed checkpoint.
	if _, err := OpenCheckpoint(both, l.trusted(t)); err != nil {
		t.Fatal(err)
	}
	got, err := OpenCheckpoint(both, trustedKeys(t, wkey))
	if err != nil || len(got.SignedBy) != 1 || !strings.HasPrefix(got.SignedBy[0], "witness-1.example+") {
		t.Fatalf("witness-only: %+v, %v", got, err)
	}
	unsigned, err := ParseCheckpoint(both)
	if err != nil || unsigned.Size != 10 {
		t.Fatalf("ParseCheckpoint: %+v, %v", unsigned, err)
	}
}
