package audit

import (
	"bytes"
	"errors"
	"testing"
)

// TestRewindAndContinueAfterAConflict: writer B sealed a batch the broker
// refused because writer A had appended first. B rewinds, adopts A's
// records and seals its batch again after them; the partition verifies
// from genesis through both writers and both checkpoints (one taken before
// the mark, one after), with the consistency proof between them.
func TestRewindAndContinueAfterAConflict(t *testing.T) {
	t.Parallel()
	for _, cpFirst := range []bool{false, true} {
		l := newTestLog(t, logOptions{})
		l.add(t, 3, nil)
		if cpFirst {
			l.checkpoint(t, 0)
		}
		// B is a copy of the head after those records.
		cfgB := l.appenderConfig(logOptions{})
		cfgB.WriterID = "writer-b"
		var cp *Checkpoint
		tail := l.records
		if cpFirst {
			sc, err := OpenCheckpoint(l.entries[0].Note, l.trusted(t))
			if err != nil {
				t.Fatal(err)
			}
			cp, tail = &sc.Checkpoint, l.records[2:]
		}
		b, err := RestoreAppender(cfgB, cp, tail)
		if err != nil {
			t.Fatal(err)
		}
		before := b.Head()
		mark := b.Mark()
		refused, err := b.Append([]Input{input(100, "acme"), input(101, "acme")})
		if err != nil {
			t.Fatal(err)
		}
		if refused[0].PSeq != 3 {
			t.Fatalf("B sealed pseq %d, want 3", refused[0].PSeq)
		}

		// A won the race with 4 records.
		l.add(t, 4, nil)
		if err := b.Rewind(mark); err != nil {
			t.Fatal(err)
		}
		if b.Head() != before {
			t.Fatalf("rewound head %+v, want %+v", b.Head(), before)
		}
		if err := b.Continue(l.records[3:]); err != nil {
			t.Fatal(err)
		}
		if b.Head() != l.app.Head() {
			t.Fatalf("after Continue B's head %+v, A's %+v", b.Head(), l.app.Head())
		}
		l.app = b
		recs := l.add(t, 2, nil)
		if recs[0].PSeq != 7 || recs[0].WriterID != "writer-b" {
			t.Fatalf("B's batch sealed at pseq %d by %q, want 7 by writer-b", recs[0].PSeq, recs[0].WriterID)
		}
		e := l.checkpoint(t, 1)
		if cpFirst && (e.ConsistencyFrom != 3 || len(e.Consistency) == 0) {
			t.Fatalf("checkpoint after the conflict: consistency from %d (%d hashes), want from 3", e.ConsistencyFrom, len(e.Consistency))
		}
		cfgV := VerifierConfig{Origin: l.origin, Partition: l.part, Trusted: l.trusted(t), RequireGenesis: true}
		withKeys(l, &cfgV)
		rep := verify(t, cfgV, l.entries, l.records, seqsOf(len(l.records)))
		if rep.Finding != nil || rep.NextPSeq != 9 {
			t.Fatalf("cpFirst=%v: finding %v, report %+v", cpFirst, rep.Finding, rep)
		}
	}
}

func TestContinueRefusesWhatDoesNotExtendTheHead(t *testing.T) {
	t.Parallel()
	l := newTestLog(t, logOptions{})
	l.add(t, 5, nil)
	cfg := l.appenderConfig(logOptions{})
	fresh := func(n int) *Appender {
		a, err := RestoreAppender(cfg, nil, l.records[:n])
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	tampered := bytes.Clone(l.records[3])
	tampered[len(tampered)-40] ^= 1
	for name, tc := range map[string]struct {
		head int
		recs [][]byte
	}{
		"skips a record":    {head: 2, recs: l.records[3:]},
		"repeats a record":  {head: 3, recs: l.records[2:]},
		"modified in place": {head: 3, recs: [][]byte{tampered}},
		"not a record":      {head: 3, recs: [][]byte{[]byte("junk")}},
	} {
		a := fresh(tc.head)
		if err := a.Continue(tc.recs); !errors.Is(err, ErrRestore) {
			t.Errorf("%s: Continue = %v, want ErrRestore", name, err)
		}
	}
	// Another partition's record.
	other := newTestLog(t, logOptions{})
	other.part, other.origin = 4, Origin(testLog, 4)
	oa, err := NewAppender(other.appenderConfig(logOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	other.app = oa
	other.add(t, 1, nil)
	if err := fresh(0).Continue(other.records); !errors.Is(err, ErrRestore) {
		t.Errorf("other partition: Continue = %v, want ErrRestore", err)
	}

	// A mark taken before a checkpoint undoes the checkpoint too: the
	// next one proves consistency from the checkpoint before the mark.
	a := fresh(5)
	if _, err := a.Checkpoint(epoch, l.signers[0]); err != nil {
		t.Fatal(err)
	}
	m := a.Mark()
	if _, err := a.Append([]Input{input(50, "acme")}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Checkpoint(epoch, l.signers[0]); err != nil {
		t.Fatal(err)
	}
	if err := a.Rewind(m); err != nil {
		t.Fatal(err)
	}
	if a.SinceCheckpoint() != 0 || a.Head().Next != 5 {
		t.Fatalf("after Rewind: head %d, %d since the checkpoint; want 5 and 0", a.Head().Next, a.SinceCheckpoint())
	}
	if _, err := a.Append([]Input{input(51, "acme")}); err != nil {
		t.Fatal(err)
	}
	e, err := a.Checkpoint(epoch, l.signers[0])
	if err != nil {
		t.Fatal(err)
	}
	if e.ConsistencyFrom != 5 || len(e.Consistency) == 0 {
		t.Fatalf("checkpoint after Rewind proves from %d, want 5", e.ConsistencyFrom)
	}
	// A mark from a later head is refused.
	later := fresh(5).Mark()
	if err := fresh(3).Rewind(later); !errors.Is(err, ErrRestore) {
		t.Errorf("mark from a later head: Rewind = %v, want ErrRestore", err)
	}
}
