package audit

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRestoreContinuesTheChain(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		cpAt   int // records before the checkpoint used for restoring; -1: none
		crash  int // records sealed before the crash
		tailAt int // first record given to RestoreAppender
	}{
		"checkpoint behind the head":        {cpAt: 6, crash: 10, tailAt: 5},
		"checkpoint at the head":            {cpAt: 10, crash: 10, tailAt: 9},
		"checkpoint of odd size":            {cpAt: 7, crash: 9, tailAt: 6},
		"no checkpoint yet":                 {cpAt: -1, crash: 4, tailAt: 0},
		"checkpoint of size 0, no records":  {cpAt: 0, crash: 0, tailAt: 0},
		"checkpoint at a power of two size": {cpAt: 8, crash: 13, tailAt: 7},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			l := newTestLog(t, logOptions{})
			if tc.cpAt >= 0 {
				l.add(t, tc.cpAt, nil)
				l.checkpoint(t, 0)
			}
			l.add(t, tc.crash-max(tc.cpAt, 0), nil)
			before := l.app.Head()

			var cp *Checkpoint
			if tc.cpAt >= 0 {
				sc, err := OpenCheckpoint(l.entries[len(l.entries)-1].Note, l.trusted(t))
				if err != nil {
					t.Fatal(err)
				}
				cp = &sc.Checkpoint
			}
			cfg := l.appenderConfig(logOptions{})
			cfg.WriterID, cfg.LeaseRev = "writer-b", 8 // a takeover
			a, err := RestoreAppender(cfg, cp, l.records[tc.tailAt:])
			if err != nil {
				t.Fatal(err)
			}
			if after := a.Head(); after != before {
				t.Fatalf("restored head %+v, want %+v", after, before)
			}
			// The new writer continues; the verifier must pass across the
			// boundary, including the consistency proof of its first
			// checkpoint, which starts at the checkpoint it restored from.
			l.app = a
			l.add(t, 5, nil)
			e := l.checkpoint(t, 1)
			if tc.cpAt > 0 && (e.ConsistencyFrom != uint64(tc.cpAt) || len(e.Consistency) == 0) {
				t.Fatalf("first checkpoint after restore: consistency from %d, %d hashes", e.ConsistencyFrom, len(e.Consistency))
			}
			cfgV := VerifierConfig{Origin: l.origin, Partition: l.part, Trusted: l.trusted(t)}
			withKeys(l, &cfgV)
			rep := verify(t, cfgV, l.entries, l.records, seqsOf(len(l.records)))
			nonEmpty := 0 // a checkpoint of size 0 has nothing to match
			for _, e := range l.entries {
				if c, _ := ParseCheckpoint(e.Note); c.Size > 0 {
					nonEmpty++
				}
			}
			if rep.Finding != nil || rep.NextPSeq != uint64(tc.crash+5) || rep.RootsMatched != nonEmpty {
				t.Fatalf("finding %v, report %+v", rep.Finding, rep)
			}
			if tc.cpAt > 0 && rep.ConsistencyProofs != 1 {
				t.Fatalf("consistency proofs %d, want 1", rep.ConsistencyProofs)
			}
			r, _ := DecodeRecord(l.records[tc.crash])
			if r.WriterID != "writer-b" || r.LeaseRev != 8 {
				t.Fatalf("record after takeover by %q rev %d", r.WriterID, r.LeaseRev)
			}
		})
	}
}

func TestRestoreRefusesBrokenTails(t *testing.T) {
	t.Parallel()
	l := standardLog(t)
	sc, err := OpenCheckpoint(l.entries[0].Note, l.trusted(t)) // size 6
	if err != nil {
		t.Fatal(err)
	}
	cp := &sc.Checkpoint
	tampered := cloneAll(l.records)
	tampered[7][bodyOffset(t, tampered[7])] ^= 1
	rehashed := cloneAll(l.records)
	rehashed[7][bodyOffset(t, rehashed[7])] ^= 1
	rehash(t, rehashed[7])
	relinked := cloneAll(l.records)
	relinked[6][bodyOffset(t, relinked[6])] ^= 1 // changes 6; 7 no longer links
	rehash(t, relinked[6])
	otherCfg := l.appenderConfig(logOptions{})
	otherCfg.Origin = Origin(testLog, 4)
	wrongFrontier := *cp
	wrongFrontier.Frontier = append([][HashSize]byte(nil), cp.Frontier...)
	wrongFrontier.Frontier[0][0] ^= 1

	cases := map[string]struct {
		cfg     AppenderConfig
		cp      *Checkpoint
		records [][]byte
	}{
		"missing the checkpoint's last record": {cp: cp, records: l.records[6:]},
		"no records after a checkpoint":        {cp: cp},
		"gap in the tail":                      {cp: cp, records: append(cloneAll(l.records[5:7]), l.records[8:]...)},
		"modified record":                      {cp: cp, records: tampered[5:]},
		"rewritten record fails its MAC":       {cp: cp, records: rehashed[5:]},
		"broken link":                          {cp: cp, records: relinked[5:]},
		"checkpoint of another origin":         {cfg: otherCfg, cp: cp, records: l.records[5:]},
		"frontier not matching the root":       {cp: &wrongFrontier, records: l.records[5:]},
		"records not starting at 0":            {records: l.records[1:]},
		"garbage":                              {records: [][]byte{[]byte("x")}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := tc.cfg
			if cfg.Origin == "" {
				cfg = l.appenderConfig(logOptions{})
			}
			_, err := RestoreAppender(cfg, tc.cp, tc.records)
			wantErr(t, err, ErrRestore)
		})
	}
}

func TestRestoreFromOddCheckpointChecksTheLeaf(t *testing.T) {
	t.Parallel()
	l := newTestLog(t, logOptions{noMAC: true})
	l.add(t, 7, nil)
	l.checkpoint(t, 0)
	sc, _ := OpenCheckpoint(l.entries[0].Note, l.trusted(t))
	// Record 6, rewritten with a consistent hash, is not the checkpoint's
	// last leaf: restoring from it would continue a forged chain.
	recs := cloneAll(l.records)
	recs[6][bodyOffset(t, recs[6])] ^= 1
	rehash(t, recs[6])
	cfg := l.appenderConfig(logOptions{noMAC: true})
	_, err := RestoreAppender(cfg, &sc.Checkpoint, recs[6:])
	wantErr(t, err, ErrRestore)
}

func TestAppendValidatesAndStaysPut(t *testing.T) {
	t.Parallel()
	good := input(0, "acme")
	cases := map[string]func(in *Input){
		"empty event id":      func(in *Input) { in.EventID = "" },
		"long event id":       func(in *Input) { in.EventID = strings.Repeat("e", 129) },
		"control in event id": func(in *Input) { in.EventID = "a\nb" },
		"invalid UTF-8":       func(in *Input) { in.EventID = "a\xffb" },
		"upper-case tenant":   func(in *Input) { in.Tenant = "Acme" },
		"empty agent":         func(in *Input) { in.Agent = "" },
		"agent with dot":      func(in *Input) { in.Agent = "a.b" },
		"empty type":          func(in *Input) { in.EventType = "" },
		"type with space":     func(in *Input) { in.EventType = "escai.tool call" },
		"long actor":          func(in *Input) { in.Actor = strings.Repeat("a", 256) },
		"source with space":   func(in *Input) { in.Source = "ESCAI CLEAN" },
		"huge payload":        func(in *Input) { in.Payload = make([]byte, MaxBodyBytes) },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			l := newTestLog(t, logOptions{})
			l.add(t, 2, nil)
			head := l.app.Head()
			bad := good
			mutate(&bad)
			_, err := l.app.Append([]Input{good, bad})
			wantErr(t, err, ErrInvalidInput)
			if l.app.Head() != head {
				t.Fatal("a failed Append moved the head")
			}
			wantErr(t, ValidateInput(&bad), ErrInvalidInput)
		})
	}
	if err := ValidateInput(&good); err != nil {
		t.Fatal(err)
	}
}

func TestAppendFailsClosedWhenKeyPersistFails(t *testing.T) {
	t.Parallel()
	keys := mustDerive(t)
	fail := true
	var persisted []WrappedKey
	ring, err := NewKeyRing(KeyRingConfig{KEK: keys.KEK, Persist: func(w WrappedKey) error {
		if fail {
			return errors.New("kv unavailable")
		}
		persisted = append(persisted, w)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewAppender(AppenderConfig{Origin: Origin(testLog, 0), Keys: ring, IntegrityKey: keys.Integrity})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Append([]Input{input(0, "acme")})
	wantErr(t, err, ErrKeyPersist)
	if a.Head().Next != 0 {
		t.Fatal("head moved")
	}
	fail = false
	recs, err := a.Append([]Input{input(0, "acme")})
	if err != nil {
		t.Fatal(err)
	}
	if len(persisted) != 1 || persisted[0].ID != recs[0].KeyID {
		t.Fatalf("persisted %+v, record key %q", persisted, recs[0].KeyID)
	}
}

func TestAppenderConfigErrors(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]AppenderConfig{
		"empty origin":      {},
		"origin with space": {Origin: "audit test"},
		"origin with plus":  {Origin: "audit+test"},
		"writer with space": {Origin: "a", WriterID: "w 1"},
		"short MAC key":     {Origin: "a", IntegrityKey: []byte("short")},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := NewAppender(cfg)
			wantErr(t, err, ErrInvalidConfig)
		})
	}
}

func TestAppendChainsAndCheckpoints(t *testing.T) {
	t.Parallel()
	l := newTestLog(t, logOptions{})
	recs := l.add(t, 3, nil)
	if recs[0].Prev != ([HashSize]byte{}) || recs[1].Prev != recs[0].Hash || recs[2].Prev != recs[1].Hash {
		t.Fatal("records are not chained")
	}
	if l.app.SinceCheckpoint() != 3 {
		t.Fatalf("SinceCheckpoint %d", l.app.SinceCheckpoint())
	}
	e1 := l.checkpoint(t, 0)
	if e1.ConsistencyFrom != 0 || e1.Consistency != nil || l.app.SinceCheckpoint() != 0 {
		t.Fatalf("first checkpoint carries a proof from %d", e1.ConsistencyFrom)
	}
	hb := l.checkpoint(t, 0) // heartbeat: same size
	if hb.ConsistencyFrom != 0 {
		t.Fatal("heartbeat carries a proof")
	}
	l.add(t, 2, nil)
	e2 := l.checkpoint(t, 0)
	c1, _ := OpenCheckpoint(e1.Note, l.trusted(t))
	c2, _ := OpenCheckpoint(e2.Note, l.trusted(t))
	if err := VerifyConsistency(&c1.Checkpoint, &c2.Checkpoint, e2.Consistency); err != nil {
		t.Fatal(err)
	}
	if err := VerifyConsistency(&c2.Checkpoint, &c1.Checkpoint, e2.Consistency); !errors.Is(err, ErrProof) {
		t.Fatalf("reversed consistency: %v", err)
	}
	if c2.Time != epoch.Add(3*time.Minute) {
		t.Fatalf("checkpoint time %v", c2.Time)
	}
	// Append with nothing to do is a no-op.
	if out, err := l.app.Append(nil); out != nil || err != nil {
		t.Fatal(out, err)
	}
	// Records do not alias the inputs.
	in := input(9, "acme")
	out, _ := l.app.Append([]Input{in})
	in.Payload[0] = 'X'
	body, err := out[0].Open(l.ring)
	if err != nil || !bytes.Equal(body.Payload, input(9, "acme").Payload) {
		t.Fatal("record aliases the input payload")
	}
}

func TestConfigValidateJoinsErrors(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		err    error
		fields []string
	}{
		"appender": {(&AppenderConfig{Origin: "a b", WriterID: "w 1", IntegrityKey: []byte("x")}).Validate(), []string{"Origin", "WriterID", "IntegrityKey"}},
		"verifier": {(&VerifierConfig{IntegrityKey: []byte("x")}).Validate(), []string{"Origin", "Trusted", "IntegrityKey"}},
		"key ring": {(&KeyRingConfig{Rotation: RotationPolicy{MaxAge: -1, MaxRecords: 1 << 33}}).Validate(), []string{"KEK", "Rotation.MaxAge", "Rotation.MaxRecords"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			wantErr(t, tc.err, ErrInvalidConfig)
			for _, f := range tc.fields {
				if !strings.Contains(tc.err.Error(), ": "+f+": ") {
					t.Errorf("error %q does not name %s", tc.err, f)
				}
			}
		})
	}
}
