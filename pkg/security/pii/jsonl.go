package pii

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/escai-framework/escai/pkg/events"
)

// MaxLineBytes is the longest JSONL input line ScanJSONL and MaskJSONL
// accept, newline excluded. A longer line gets an error line and is
// skipped.
const MaxLineBytes = 1 << 20

// scanLine is one input line of ScanJSONL.
type scanLine struct {
	ID   json.RawMessage `json:"id"`
	Text *string         `json:"text"`
}

// ScanJSONL implements `escai pii scan`: each input line is a JSON object
// {"id":…,"text":"…"}; each output line is {"id":…,"matches":[{"type",
// "start","end","score"},…]} with UTF-8 byte offsets into text, end
// exclusive. There is exactly one output line per input line, in order;
// a line that cannot be processed (not JSON, no text, empty, longer than
// MaxLineBytes) gets {"id":…,"error":"…"} and the scan goes on. The id is
// echoed as given (any JSON value), null when absent or unreadable.
//
// Output is flushed whenever the input has nothing buffered, so an
// interactive pipe sees each answer at once. ScanJSONL returns nil at end
// of input, ctx.Err() when ctx ends between lines, and I/O errors of in
// or out.
func ScanJSONL(ctx context.Context, d *Detector, in io.Reader, out io.Writer) error {
	var ms []Match
	return eachLine(ctx, in, out, func(line []byte, bw []byte) ([]byte, error) {
		var sl scanLine
		if err := json.Unmarshal(line, &sl); err != nil {
			return bw, lineErr(nil, "invalid JSON: "+jsonErrText(err))
		}
		if sl.Text == nil {
			return bw, lineErr(sl.ID, `missing "text" string`)
		}
		ms = d.Scan(*sl.Text, ms[:0])
		bw = append(bw, `{"id":`...)
		bw = appendID(bw, sl.ID)
		bw = append(bw, `,"matches":[`...)
		for i, m := range ms {
			if i > 0 {
				bw = append(bw, ',')
			}
			bw = append(bw, `{"type":`...)
			bw = appendJSONString(bw, m.Type)
			bw = append(bw, `,"start":`...)
			bw = strconv.AppendInt(bw, int64(m.Start), 10)
			bw = append(bw, `,"end":`...)
			bw = strconv.AppendInt(bw, int64(m.End), 10)
			bw = append(bw, `,"score":`...)
			bw = strconv.AppendFloat(bw, m.Score, 'f', -1, 64)
			bw = append(bw, '}')
		}
		return append(bw, "]}\n"...), nil
	})
}

// MaskJSONL implements `escai pii mask`: each input line is an event
// envelope, decoded strictly with events.Decode (MaxLineBytes, default
// depth); each output line is the envelope with its data masked and the
// escaipii extension set (see Masker.MaskEnvelope). Bad lines get
// {"id":…,"error":"…"} with the id when it can be read; the rest is as
// for ScanJSONL.
func MaskJSONL(ctx context.Context, m *Masker, in io.Reader, out io.Writer) error {
	lim := events.Limits{MaxBytes: MaxLineBytes}
	return eachLine(ctx, in, out, func(line []byte, bw []byte) ([]byte, error) {
		e, err := events.Decode(line, lim)
		if err != nil {
			return bw, lineErr(peekID(line), err.Error())
		}
		if _, err := m.MaskEnvelope(e); err != nil {
			return bw, lineErr(peekID(line), err.Error())
		}
		b, err := e.MarshalJSON()
		if err != nil {
			return bw, lineErr(peekID(line), err.Error())
		}
		bw = append(bw, b...)
		return append(bw, '\n'), nil
	})
}

// lineError is the per-line failure that becomes an error line.
type lineError struct {
	id  json.RawMessage
	msg string
}

// Error returns the message with the ErrBadLine prefix.
func (e *lineError) Error() string { return ErrBadLine.Error() + ": " + e.msg }

// Unwrap returns ErrBadLine.
func (e *lineError) Unwrap() error { return ErrBadLine }

func lineErr(id json.RawMessage, msg string) error { return &lineError{id: id, msg: msg} }

// jsonErrText keeps encoding/json's reason without the Go type names it
// adds for unmarshal type errors.
func jsonErrText(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "field " + strconv.Quote(te.Field) + " has the wrong type (" + te.Value + ")"
	}
	return err.Error()
}

// peekID reads "id" from a line that failed to decode as an envelope.
func peekID(line []byte) json.RawMessage {
	var v struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(line, &v) != nil {
		return nil
	}
	return v.ID
}

// appendID echoes an id as compact JSON, null when absent.
func appendID(b []byte, id json.RawMessage) []byte {
	if len(id) == 0 {
		return append(b, "null"...)
	}
	var buf bytes.Buffer
	if json.Compact(&buf, id) != nil {
		return append(b, "null"...)
	}
	return append(b, buf.Bytes()...)
}

// eachLine runs fn on every input line and writes what it returns; a
// *lineError becomes an error line, any other error stops the run.
func eachLine(ctx context.Context, in io.Reader, out io.Writer, fn func(line, buf []byte) ([]byte, error)) error {
	br := bufio.NewReaderSize(in, 64<<10)
	bw := bufio.NewWriterSize(out, 64<<10)
	var acc, obuf []byte
	for {
		if err := ctx.Err(); err != nil {
			_ = bw.Flush()
			return err
		}
		line, tooLong, err := readLine(br, &acc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			_ = bw.Flush()
			return fmt.Errorf("pii: reading input: %w", err)
		}
		obuf = obuf[:0]
		switch {
		case tooLong:
			err = lineErr(nil, "line exceeds "+strconv.Itoa(MaxLineBytes)+" bytes")
		case len(bytes.TrimSpace(line)) == 0:
			err = lineErr(nil, "empty line")
		default:
			obuf, err = fn(line, obuf)
		}
		var le *lineError
		if errors.As(err, &le) {
			obuf = append(obuf[:0], `{"id":`...)
			obuf = appendID(obuf, le.id)
			obuf = append(obuf, `,"error":`...)
			obuf = appendJSONString(obuf, le.msg)
			obuf = append(obuf, "}\n"...)
		} else if err != nil {
			_ = bw.Flush()
			return err
		}
		if _, err := bw.Write(obuf); err != nil {
			return fmt.Errorf("pii: writing output: %w", err)
		}
		if br.Buffered() == 0 {
			if err := bw.Flush(); err != nil {
				return fmt.Errorf("pii: writing output: %w", err)
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("pii: writing output: %w", err)
	}
	return nil
}

// readLine returns the next line without its "\n" or "\r\n". A line over
// MaxLineBytes is consumed and reported as tooLong without being kept.
// At the end of input it returns io.EOF; a last line without a newline
// is a line.
func readLine(br *bufio.Reader, acc *[]byte) (line []byte, tooLong bool, err error) {
	*acc = (*acc)[:0]
	got := false
	for {
		chunk, err := br.ReadSlice('\n')
		got = got || len(chunk) > 0
		if !tooLong {
			if len(*acc)+len(chunk) > MaxLineBytes+2 {
				tooLong = true
				*acc = (*acc)[:0]
			} else {
				*acc = append(*acc, chunk...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if !got {
				return nil, false, io.EOF
			}
		case err != nil:
			return nil, false, err
		}
		l := *acc
		l = bytes.TrimSuffix(l, []byte("\n"))
		l = bytes.TrimSuffix(l, []byte("\r"))
		if len(l) > MaxLineBytes {
			return nil, true, nil
		}
		return l, tooLong, nil
	}
}
