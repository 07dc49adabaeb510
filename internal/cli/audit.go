package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"

	"github.com/escai-framework/escai/internal/auditwriter"
	"github.com/escai-framework/escai/internal/pipeline"
	"github.com/escai-framework/escai/internal/redisx"
	"github.com/escai-framework/escai/pkg/security/audit"
	"github.com/escai-framework/escai/pkg/security/config"
)

func newAuditCmd() *cobra.Command {
	c := &cobra.Command{Use: "audit", Short: "Verify, prove and export the audit trail"}
	cp := &cobra.Command{Use: "checkpoint", Short: "Signed checkpoints of the audit partitions"}
	cp.AddCommand(newAuditCheckpointExport(), newAuditCheckpointKey())
	c.AddCommand(newAuditKeygen(), newAuditVerify(), newAuditReindex(), newAuditQuery(), newAuditProve(), newAuditVerifyProof(), newAuditShred(), cp)
	return c
}

// auditSession is what the audit subcommands share: configuration, the
// derived keys, the trusted checkpoint keys and a JetStream connection.
type auditSession struct {
	cfg      *config.Config
	keys     *audit.DerivedKeys
	kek      []byte // wraps the data keys (pipeline.AuditKEK)
	trusted  note.Verifiers
	js       jetstream.JetStream
	nc       *nats.Conn
	logName  string
	partsArg int
}

// auditFlags are the flags of every command that reads the audit stream.
type auditFlags struct {
	cf             *configFlags
	partition      *int
	logName        *string
	checkpointKeys *[]string
}

func newAuditFlags(cmd *cobra.Command) *auditFlags {
	cf := newConfigFlags(cmd.Flags())
	cf.common()
	cf.audit()
	return &auditFlags{
		cf:        cf,
		partition: cmd.Flags().Int("partition", -1, "only this partition"),
		logName:   cmd.Flags().String("log", "escai", "log name of the partitions' origins (<log>/p/<k>)"),
		checkpointKeys: cmd.Flags().StringArray("checkpoint-key", nil,
			"trusted checkpoint verifier key (note vkey \"<name>+<hash>+<key>\"); repeat for rotated keys. "+
				"Default: the escai-audit key derived from ESCAI_SECRET_KEY"),
	}
}

// open loads the configuration, derives the keys and connects.
func (af *auditFlags) open(ctx context.Context, name string) (*auditSession, error) {
	cfg, err := af.cf.load()
	if err != nil {
		return nil, err
	}
	if len(cfg.SecretKey) == 0 {
		return nil, &ExitError{Code: 2, Err: errors.New("ESCAI_SECRET_KEY (or _FILE) is required: it derives the integrity key the records' MACs are checked with")}
	}
	keys, err := audit.DeriveKeys(cfg.SecretKey)
	if err != nil {
		return nil, err
	}
	vkeys := *af.checkpointKeys
	if len(vkeys) == 0 {
		vkey, err := defaultCheckpointKey(cfg, keys)
		if err != nil {
			return nil, err
		}
		vkeys = []string{vkey}
	}
	trusted, err := audit.TrustedKeys(vkeys...)
	if err != nil {
		return nil, &ExitError{Code: 2, Err: fmt.Errorf("--checkpoint-key: %w", err)}
	}
	kek, err := pipeline.AuditKEK(cfg, keys)
	if err != nil {
		return nil, &ExitError{Code: 2, Err: err}
	}
	nc, err := connectNATS(ctx, cfg, name)
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return &auditSession{cfg: cfg, keys: keys, kek: kek, trusted: trusted, js: js, nc: nc, logName: *af.logName, partsArg: *af.partition}, nil
}

// partitions are the partitions a command works on.
func (s *auditSession) partitions() []int {
	if s.partsArg >= 0 {
		return []int{s.partsArg}
	}
	parts := make([]int, s.cfg.AuditPartitions)
	for p := range parts {
		parts[p] = p
	}
	return parts
}

// newAuditVerify replays every partition of ESCAI_AUDIT in stream order and
// checks each record's leaf hash, chain link, pseq continuity and MAC with
// pkg/security/audit, the Merkle root against every signed checkpoint
// stored on escai.audit.checkpoint.<p> (signatures checked against the
// trusted keys) and the consistency between them; with --decrypt every
// body must open under the data keys of the AUDIT_KEYS bucket; with
// --trusted the log must extend the checkpoints exported earlier (escai
// audit checkpoint export), which is what catches a rewrite by whoever
// holds the keys. Exit 0 when every partition is intact, 1 when one is not
// (named with its partition, pseq, stream sequence and code).
func newAuditVerify() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Replay ESCAI_AUDIT and check every partition (exit 0 intact, 1 tampered)",
		Args:  cobra.NoArgs,
	}
	af := newAuditFlags(cmd)
	asJSON := cmd.Flags().Bool("json", false, "print one JSON report per partition")
	decrypt := cmd.Flags().Bool("decrypt", false, "also decrypt every body with the data keys of the AUDIT_KEYS bucket (AEAD check)")
	trustedFile := cmd.Flags().String("trusted", "", "checkpoints file from `escai audit checkpoint export`: the log must extend them")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx, stop := signalContext(cmd)
		defer stop()
		s, err := af.open(ctx, "escai-audit-verify")
		if err != nil {
			return err
		}
		defer s.nc.Close()
		var ring *audit.KeyRing
		if *decrypt {
			if ring, err = auditwriter.LoadKeyRing(ctx, s.js, s.kek); err != nil {
				return err
			}
		}
		states := map[string][]byte{}
		if *trustedFile != "" {
			if states, err = readTrustedStates(*trustedFile, s.trusted); err != nil {
				return &ExitError{Code: 2, Err: err}
			}
		}
		failed := false
		progress := verifyProgress(cmd.ErrOrStderr())
		for _, p := range s.partitions() {
			origin := audit.Origin(s.logName, uint32(p))
			rep, _, err := verifyPartition(ctx, s.js, audit.VerifierConfig{
				Origin: origin, Partition: uint32(p), Trusted: s.trusted,
				IntegrityKey: s.keys.Integrity, Keys: ring, RequireGenesis: true,
				TrustedState: states[origin],
			}, progress, nil)
			if err != nil {
				return err
			}
			failed = failed || rep.Status != "OK"
			if err := printVerify(cmd.OutOrStdout(), rep, *asJSON); err != nil {
				return err
			}
		}
		if failed {
			return &ExitError{Code: 1}
		}
		return nil
	}
	return cmd
}

// readTrustedStates reads a checkpoints file and returns, per origin, the
// newest checkpoint note in it. Every note must carry a valid signature of
// a trusted key: the file is the auditor's own anchor.
func readTrustedStates(file string, trusted note.Verifiers) (map[string][]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("--trusted: %w", err)
	}
	defer f.Close()
	entries, err := audit.ReadCheckpoints(f)
	if err != nil {
		return nil, fmt.Errorf("--trusted %s: %w", file, err)
	}
	states := map[string][]byte{}
	sizes := map[string]uint64{}
	for i, e := range entries {
		sc, err := audit.OpenCheckpoint(e.Note, trusted)
		if err != nil {
			return nil, fmt.Errorf("--trusted %s: checkpoint %d: %w", file, i+1, err)
		}
		if old, ok := sizes[sc.Origin]; !ok || sc.Size >= old {
			states[sc.Origin], sizes[sc.Origin] = e.Note, sc.Size
		}
	}
	return states, nil
}

// verifyPartition replays one partition into a Verifier built from cfg
// and returns its report. onRecord, when set, sees every record fed
// (escai audit prove looks for its event there); with cfg.KeepTree the
// Verifier's tree is returned too.
func verifyPartition(ctx context.Context, js jetstream.JetStream, cfg audit.VerifierConfig, progress func(int, uint64), onRecord func(data []byte)) (*audit.Report, *audit.Tree, error) {
	v, err := audit.NewVerifier(cfg)
	if err != nil {
		return nil, nil, err
	}
	p := int(cfg.Partition)
	// Checkpoints first, oldest first, then the records: the Verifier
	// matches roots as the replay reaches each checkpoint's size and
	// reports TRUNCATED when the newest one covers records the stream no
	// longer has. Both subjects are filtered exactly.
	var bad *audit.Finding
	err = auditwriter.ReplaySubject(ctx, js, auditwriter.CheckpointSubject(p), func(m jetstream.Msg, seq uint64) bool {
		e, err := audit.ParseCheckpointEntry(m.Data())
		if err != nil {
			bad = &audit.Finding{Code: audit.CodeMalformed, Origin: cfg.Origin, Partition: cfg.Partition, StreamSeq: seq,
				Detail: fmt.Sprintf("checkpoint message is not a checkpoint entry: %v", err)}
			return false
		}
		return v.AddCheckpoint(*e, seq) == nil
	}, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("partition %d: checkpoints: %w", p, err)
	}
	if bad == nil && v.Finding() == nil {
		err = auditwriter.ReplayRecords(ctx, js, p, func(rec []byte, seq uint64) bool {
			if v.Feed(rec, seq) == nil && onRecord != nil {
				onRecord(rec)
			}
			return true
		}, func(seen uint64) {
			if progress != nil {
				progress(p, seen)
			}
		})
		if err != nil {
			return nil, nil, fmt.Errorf("partition %d: %w", p, err)
		}
	}
	rep := v.Finish()
	if bad != nil && rep.Finding == nil {
		rep.Status, rep.Finding = "FAILED", bad
	}
	return rep, v.Tree(), nil
}

// newAuditCheckpointExport writes the newest signed checkpoint of every
// partition (checked against the trusted keys) to a file, JSON Lines as
// audit.WriteCheckpoints writes them, for anchoring outside the writer's
// reach; `escai audit verify --trusted <file>` then requires the log to
// extend them.
func newAuditCheckpointExport() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the newest signed checkpoint of every partition to a file (JSON Lines)",
		Args:  cobra.NoArgs,
	}
	af := newAuditFlags(cmd)
	out := cmd.Flags().StringP("out", "o", "-", "file to write (\"-\": standard output); written 0600")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx, stop := signalContext(cmd)
		defer stop()
		s, err := af.open(ctx, "escai-audit-checkpoint-export")
		if err != nil {
			return err
		}
		defer s.nc.Close()
		var entries []audit.CheckpointEntry
		for _, p := range s.partitions() {
			var newest *audit.CheckpointEntry
			var size uint64
			err := auditwriter.ReplaySubject(ctx, s.js, auditwriter.CheckpointSubject(p), func(m jetstream.Msg, seq uint64) bool {
				e, err := audit.ParseCheckpointEntry(m.Data())
				if err != nil {
					return true // verify reports it; export keeps what is sound
				}
				sc, err := audit.OpenCheckpoint(e.Note, s.trusted)
				if err != nil || sc.Origin != audit.Origin(s.logName, uint32(p)) {
					return true
				}
				if newest == nil || sc.Size >= size {
					newest, size = e, sc.Size
				}
				return true
			}, nil)
			if err != nil {
				return fmt.Errorf("partition %d: %w", p, err)
			}
			if newest != nil {
				entries = append(entries, audit.CheckpointEntry{Note: newest.Note})
			}
		}
		if *out == "-" {
			return audit.WriteCheckpoints(cmd.OutOrStdout(), entries)
		}
		var buf bytes.Buffer
		if err := audit.WriteCheckpoints(&buf, entries); err != nil {
			return err
		}
		if err := writeFileAtomic(*out, buf.Bytes(), 0o600); err != nil {
			return err
		}
		_, err = fmt.Fprintf(cmd.ErrOrStderr(), "%d checkpoints written to %s\n", len(entries), *out)
		return err
	}
	return cmd
}

// writeFileAtomic writes data to a temporary file next to name and renames
// it over name, so a reader never sees half a file.
func writeFileAtomic(name string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), name)
}

func printVerify(w io.Writer, r *audit.Report, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(r)
	}
	if r.Finding != nil {
		f := r.Finding
		_, err := fmt.Fprintf(w, "partition %d: %s at pseq %d (stream seq %d): %s\n", r.Partition, f.Code, f.PSeq, f.StreamSeq, f.Detail)
		if err == nil && f.Code == audit.CodeBadCheckpointSignature {
			// Every checkpoint failing usually means the wrong key, not a
			// forgery: say which key was used.
			_, err = fmt.Fprintf(w, "  (checkpoints are checked with --checkpoint-key, else the key of ESCAI_AUDIT_SIGNING_KEY or the one derived from ESCAI_SECRET_KEY: `escai audit checkpoint key` prints it; is it the writer's?)\n")
		}
		return err
	}
	if r.Checkpoint == nil {
		_, err := fmt.Fprintf(w, "partition %d: OK, %d records (tail not anchored: no checkpoints yet)\n", r.Partition, r.RecordsSeen)
		return err
	}
	tail := "every record anchored by a checkpoint"
	if r.Unanchored > 0 {
		tail = fmt.Sprintf("%d records after the newest checkpoint (not yet anchored)", r.Unanchored)
	}
	_, err := fmt.Fprintf(w, "partition %d: OK, %d records, %d checkpoints (%d roots matched), %s\n",
		r.Partition, r.RecordsSeen, r.CheckpointsAccepted, r.RootsMatched, tail)
	return err
}

func verifyProgress(w io.Writer) func(int, uint64) {
	if f, ok := w.(*os.File); !ok || !isTerminal(f) {
		return nil
	}
	return func(p int, n uint64) { fmt.Fprintf(w, "\rpartition %d: %d records verified", p, n) }
}

// newAuditReindex rebuilds the Redis index from ESCAI_AUDIT (all of it, or
// from --from), e.g. after Redis lost its data. Idempotent.
func newAuditReindex() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "reindex",
		Short: "Rebuild the Redis audit index from ESCAI_AUDIT (idempotent)",
		Args:  cobra.NoArgs,
	}
	cf := newConfigFlags(cmd.Flags())
	cf.common()
	cf.redis()
	from := cmd.Flags().Uint64("from", 1, "first ESCAI_AUDIT sequence to index")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := cf.load()
		if err != nil {
			return err
		}
		ctx, stop := signalContext(cmd)
		defer stop()
		nc, err := connectNATS(ctx, cfg, "escai-audit-reindex")
		if err != nil {
			return err
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			return err
		}
		rdb, err := redisx.Connect(ctx, cfg.RedisURL)
		if err != nil {
			return err
		}
		defer rdb.Close()
		var progress func(uint64)
		if f, ok := cmd.ErrOrStderr().(*os.File); ok && isTerminal(f) {
			progress = func(n uint64) { fmt.Fprintf(f, "\r%d records indexed", n) }
		}
		var n uint64
		if *from <= 1 {
			// The whole stream: the index is then known complete. When it
			// already is, or a running writer is rebuilding it, index
			// everything anyway (idempotent) and leave the mark alone.
			n, err = auditwriter.RebuildIndex(ctx, js, rdb, progress)
			if errors.Is(err, auditwriter.ErrRebuildNotNeeded) {
				n, err = auditwriter.Reindex(ctx, js, rdb, 1, progress)
			}
		} else {
			n, err = auditwriter.Reindex(ctx, js, rdb, *from, progress)
		}
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(cmd.OutOrStdout(), "%d records indexed\n", n)
		return err
	}
	return cmd
}

// newAuditCheckpointKey prints the verifier key of the writer's checkpoint
// signer (ESCAI_AUDIT_SIGNING_KEY's, else the one derived from
// ESCAI_SECRET_KEY): what auditors pass to verify-proof and verify as
// --checkpoint-key. It is public; the signing key never leaves the
// process.
func newAuditCheckpointKey() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Print the verifier key of the checkpoint signer (for --checkpoint-key)",
		Args:  cobra.NoArgs,
	}
	cf := newConfigFlags(cmd.Flags())
	cf.common()
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := cf.load()
		if err != nil {
			return err
		}
		var keys *audit.DerivedKeys
		if len(cfg.AuditSigningKey) == 0 {
			if len(cfg.SecretKey) == 0 {
				return &ExitError{Code: 2, Err: errors.New("neither ESCAI_AUDIT_SIGNING_KEY nor ESCAI_SECRET_KEY (or their _FILE) is set: there is no checkpoint signer")}
			}
			if keys, err = audit.DeriveKeys(cfg.SecretKey); err != nil {
				return err
			}
		}
		vkey, err := defaultCheckpointKey(cfg, keys)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(cmd.OutOrStdout(), vkey)
		return err
	}
	return cmd
}

// defaultCheckpointKey is the verifier key of the writer's checkpoint
// signer: ESCAI_AUDIT_SIGNING_KEY's when set, else the one derived from
// ESCAI_SECRET_KEY.
func defaultCheckpointKey(cfg *config.Config, keys *audit.DerivedKeys) (string, error) {
	if len(cfg.AuditSigningKey) > 0 {
		_, vkey, err := audit.ParseSigner(string(cfg.AuditSigningKey))
		if err != nil {
			return "", &ExitError{Code: 2, Err: fmt.Errorf("ESCAI_AUDIT_SIGNING_KEY: %w", err)}
		}
		return vkey, nil
	}
	_, vkey, err := keys.CheckpointSigner(auditwriter.DefaultCheckpointKeyName)
	return vkey, err
}

// newAuditKeygen makes a checkpoint signing key pair: the private key to a
// file (0600) for ESCAI_AUDIT_SIGNING_KEY_FILE, the verifier key printed for
// auditors (--checkpoint-key) and witnesses.
func newAuditKeygen() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keygen",
		Short: "Make an Ed25519 checkpoint signing key (private key to a 0600 file, verifier key printed)",
		Args:  cobra.NoArgs,
	}
	name := cmd.Flags().String("name", "escai", "key name (the log name)")
	out := cmd.Flags().StringP("out", "o", "", "file for the private key (required; written 0600, never overwritten)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if *out == "" {
			return &ExitError{Code: 2, Err: errors.New("--out is required: the private key is never printed")}
		}
		skey, vkey, err := note.GenerateKey(rand.Reader, *name)
		if err != nil {
			return &ExitError{Code: 2, Err: err}
		}
		f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		if _, err := f.WriteString(skey + "\n"); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", vkey)
		if err == nil {
			_, err = fmt.Fprintf(cmd.ErrOrStderr(), "private key written to %s; set ESCAI_AUDIT_SIGNING_KEY_FILE=%s for the audit writer, give auditors the verifier key above (--checkpoint-key)\n", *out, *out)
		}
		return err
	}
	return cmd
}
