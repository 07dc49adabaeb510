package audit

import "fmt"

// A bundle is how records are stored: one message of the log holds a run
// of consecutive records of one partition, each with what the writer knew
// about the event that is not in the record itself (when it happened, and
// where the writer read it). Storing runs instead of single records is
// what lets one writer keep up: the broker's cost is per message, not per
// byte.
//
// The bundle adds no trust of its own. Every record inside is the record
// format unchanged and is verified alone, in pseq order, exactly as if it
// had been stored by itself; the bundle's framing and its entries'
// EventTime and Source are not covered by any hash (an index and a
// redelivery check are built from them, never a verdict). A damaged
// framing makes the whole message unreadable, which the Verifier reports
// like any malformed record.
//
// Wire form, big-endian, every field length-prefixed like the record's
// fields (4-byte length, then the bytes):
//
//	bundleTag ‖ F(version=1) ‖ F(uint64 count) ‖
//	count × ( F(uint64 event time, Unix ms) ‖ F(source) ‖ F(uint64 source seq) ‖ F(record) )
//
// Like the record format, it MUST NEVER CHANGE: a new layout is a new
// version byte.
const bundleTag = "escai-audit-bundle"

// bundleVersion is the only bundle layout there is.
const bundleVersion = 1

// MaxBundleRecords bounds the records of one bundle, written and read.
const MaxBundleRecords = 4096

// maxBundleSource bounds an entry's source name (a stream name).
const maxBundleSource = 255

// BundleOverhead is the size of a bundle without its entries.
const BundleOverhead = len(bundleTag) + 4 + 1 + 4 + 8

// BundleEntrySize is the size an entry of a record of recordLen bytes read
// from a source named by sourceLen bytes adds to a bundle.
func BundleEntrySize(recordLen, sourceLen int) int {
	return 4 + 8 + 4 + sourceLen + 4 + 8 + 4 + recordLen
}

// BundleEntry is one record of a bundle and what the writer knew about
// its input.
type BundleEntry struct {
	// Record is the record's wire form (Record.Bytes).
	Record []byte
	// EventTime is the event's own time in Unix milliseconds; 0 unknown.
	EventTime int64
	// Source and SourceSeq are where the writer read the event (stream
	// and stream sequence); a redelivered event is recognised by them.
	Source    string
	SourceSeq uint64
}

// IsBundle reports whether b starts like a bundle (it may still be
// malformed: SplitBundle decides).
func IsBundle(b []byte) bool {
	return len(b) >= 4+len(bundleTag) && string(b[:len(bundleTag)]) == bundleTag
}

// AppendBundle appends the bundle of entries to dst. Entries must be
// records of one partition in pseq order; AppendBundle checks only the
// framing limits.
func AppendBundle(dst []byte, entries []BundleEntry) ([]byte, error) {
	if len(entries) == 0 || len(entries) > MaxBundleRecords {
		return dst, fmt.Errorf("audit: a bundle holds 1..%d records, got %d", MaxBundleRecords, len(entries))
	}
	n := BundleOverhead
	for i, e := range entries {
		if len(e.Source) > maxBundleSource || !printable(e.Source) {
			return dst, fmt.Errorf("audit: bundle entry source %q is not printable ASCII of up to %d bytes", e.Source, maxBundleSource)
		}
		if len(e.Record) == 0 {
			return dst, fmt.Errorf("audit: bundle entry %d has no record", i)
		}
		n += BundleEntrySize(len(e.Record), len(e.Source))
	}
	if cap(dst)-len(dst) < n {
		dst = append(make([]byte, 0, len(dst)+n), dst...)
	}
	dst = append(dst, bundleTag...)
	dst = putByte(dst, bundleVersion)
	dst = putUint64(dst, uint64(len(entries)))
	for _, e := range entries {
		dst = putUint64(dst, uint64(e.EventTime))
		dst = putString(dst, e.Source)
		dst = putUint64(dst, e.SourceSeq)
		dst = putBytes(dst, e.Record)
	}
	return dst, nil
}

// SplitBundle parses a bundle. Entries alias b: do not modify b while
// using them. It checks the framing only; each Record is checked by
// DecodeRecord or the Verifier.
func SplitBundle(b []byte) ([]BundleEntry, error) {
	if !IsBundle(b) {
		return nil, fmt.Errorf("%w: not an ESCAI audit bundle (missing %q tag)", ErrMalformed, bundleTag)
	}
	r := reader{b: b, off: len(bundleTag)}
	if ver := r.byte(); r.err == nil && ver != bundleVersion {
		return nil, fmt.Errorf("%w: bundle version %d, want %d", ErrMalformed, ver, bundleVersion)
	}
	count := r.uint64()
	if r.err != nil {
		return nil, r.err
	}
	// A count the bytes cannot hold (the smallest entry: no source, a
	// 1-byte record) is refused before anything is made.
	if count == 0 || count > MaxBundleRecords || count > uint64(len(b)-r.off)/uint64(BundleEntrySize(1, 0)) {
		return nil, fmt.Errorf("%w: bundle count %d outside 1..%d or beyond its %d bytes", ErrMalformed, count, MaxBundleRecords, len(b))
	}
	out := make([]BundleEntry, count)
	for i := range out {
		e := &out[i]
		e.EventTime = int64(r.uint64())
		src := r.field(0, maxBundleSource)
		e.SourceSeq = r.uint64()
		e.Record = r.field(1, len(b))
		if r.err != nil {
			return nil, fmt.Errorf("bundle entry %d: %w", i, r.err)
		}
		if !printable(src) {
			return nil, fmt.Errorf("%w: bundle entry %d: source is not printable ASCII", ErrMalformed, i)
		}
		e.Source = string(src)
	}
	if r.off != len(b) {
		return nil, fmt.Errorf("%w: %d trailing bytes after the bundle", ErrMalformed, len(b)-r.off)
	}
	return out, nil
}

// RecordsOf returns the records one stored message holds: a bundle's, or
// the message itself when it is not a bundle (a single record, as stored
// before bundles; DecodeRecord or the Verifier judges it).
func RecordsOf(b []byte) ([][]byte, error) {
	if !IsBundle(b) {
		return [][]byte{b}, nil
	}
	entries, err := SplitBundle(b)
	if err != nil {
		return nil, err
	}
	recs := make([][]byte, len(entries))
	for i, e := range entries {
		recs[i] = e.Record
	}
	return recs, nil
}
