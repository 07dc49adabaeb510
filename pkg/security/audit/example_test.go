package audit_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/escai-framework/escai/pkg/security/audit"
)

// The writer seals events of one partition, publishes the records and a
// signed checkpoint; an auditor replays them with the trusted key.
func Example() {
	master := []byte("example-master-secret-of-32-bytes-or-more!") // ESCAI_SECRET_KEY
	keys, _ := audit.DeriveKeys(master)
	ring, _ := audit.NewKeyRing(audit.KeyRingConfig{KEK: keys.KEK})
	skey, vkey, _ := note.GenerateKey(rand.Reader, "audit.example")
	signer, _ := note.NewSigner(skey)

	origin := audit.Origin("audit.example", 3)
	app, _ := audit.NewAppender(audit.AppenderConfig{
		Origin: origin, Partition: 3, WriterID: "writer-0",
		Keys: ring, IntegrityKey: keys.Integrity,
	})
	recs, err := app.Append([]audit.Input{
		{EventID: "evt-1", Tenant: "acme", Agent: "agent-1", EventType: "escai.tool.call",
			Source: "ESCAI_CLEAN_acme", SourceSeq: 1, Payload: []byte(`{"id":"evt-1"}`)},
		{EventID: "evt-2", Tenant: "acme", Agent: "agent-1", EventType: "escai.tool.result",
			Source: "ESCAI_CLEAN_acme", SourceSeq: 2, Payload: []byte(`{"id":"evt-2"}`)},
	})
	if err != nil {
		panic(err)
	}
	// The stage publishes rec.Bytes() on escai.audit.3 with rec.MsgID().
	stored := make([][]byte, len(recs))
	for i := range recs {
		stored[i] = bytes.Clone(recs[i].Bytes())
	}
	entry, _ := app.Checkpoint(time.Now(), signer)

	trusted, _ := audit.TrustedKeys(vkey)
	v, _ := audit.NewVerifier(audit.VerifierConfig{
		Origin: origin, Partition: 3, Trusted: trusted,
		IntegrityKey: keys.Integrity, Keys: ring,
	})
	v.AddCheckpoint(entry, 1)
	for i, b := range stored {
		v.Feed(b, uint64(i+1))
	}
	fmt.Println(v.Finish().Status)

	// Someone edits the stored body of the second record.
	stored[1][len(stored[1])-80] ^= 1
	v, _ = audit.NewVerifier(audit.VerifierConfig{Origin: origin, Partition: 3, Trusted: trusted})
	v.AddCheckpoint(entry, 1)
	for i, b := range stored {
		v.Feed(b, uint64(i+1))
	}
	f := v.Finish().Finding
	fmt.Println(f.Code, f.Partition, f.PSeq, f.StreamSeq)
	// Output:
	// OK
	// LEAF_MISMATCH 3 1 2
}
