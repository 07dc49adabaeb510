package validate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
)

// MaxLineBytes is the longest input line RunJSONL reads; a longer line is
// answered with an error line and skipped.
const MaxLineBytes = 1 << 20

// jsonlIn is one input line of `escai validate`.
type jsonlIn struct {
	ID    json.RawMessage `json:"id"`
	Field *string         `json:"field"`
	Value json.RawMessage `json:"value"`
}

// jsonlOut is one output line.
type jsonlOut struct {
	ID      json.RawMessage `json:"id"`
	Threats []Threat        `json:"threats"`
	Verdict Verdict         `json:"verdict"`
	Reasons []Reason        `json:"reasons,omitempty"`
}

type jsonlErr struct {
	ID    json.RawMessage `json:"id,omitempty"`
	Error string          `json:"error"`
}

// RunJSONL is `escai validate`: it reads JSON lines {"id","field","value"}
// from in and writes one line per input line, in order, to out:
// {"id","threats":[…],"verdict":"clean|flagged|rejected"} (plus "reasons"
// when rejected). value is normally a string (CheckField); any other JSON
// value is checked as data at that path (CheckJSON). id is echoed as given
// (any JSON value; null when absent).
//
// A line that is not such an object, or longer than MaxLineBytes, gets
// {"id":…,"error":"…"} (id when it could be read) and the run goes on; a
// final line without a newline counts. RunJSONL returns nil at the end of
// in, ctx.Err() when ctx is done (checked between lines), or the first
// read or write error. It does no other I/O.
func RunJSONL(ctx context.Context, v *Validator, in io.Reader, out io.Writer) error {
	if v == nil {
		return errors.New("validate: RunJSONL with a nil *Validator")
	}
	r := bufio.NewReaderSize(in, 64<<10)
	w := bufio.NewWriterSize(out, 64<<10)
	var line []byte
	for {
		if err := ctx.Err(); err != nil {
			w.Flush()
			return err
		}
		var tooLong, eof bool
		var err error
		line, tooLong, eof, err = readLine(r, line[:0])
		if errors.Is(err, errPartialLine) {
			err = nil
		} else if eof {
			return w.Flush()
		}
		if err != nil {
			w.Flush()
			return err
		}
		var b []byte
		if tooLong {
			b = marshalLine(jsonlErr{ID: peekID(line), Error: "line longer than " + itoa(MaxLineBytes) + " bytes"})
		} else {
			b = processLine(v, line)
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		if err := w.WriteByte('\n'); err != nil {
			return err
		}
		// Flush per line when the reader has nothing buffered, so an
		// interactive caller sees each answer.
		if r.Buffered() == 0 {
			if err := w.Flush(); err != nil {
				return err
			}
		}
		if eof {
			return w.Flush()
		}
	}
}

// errPartialLine marks a last line that had no newline.
var errPartialLine = errors.New("validate: last line without a newline")

// readLine reads up to '\n' into dst, keeping at most MaxLineBytes (the
// rest of a longer line is read and dropped). A trailing '\r' is removed.
func readLine(r *bufio.Reader, dst []byte) (line []byte, tooLong, eof bool, err error) {
	for {
		chunk, e := r.ReadSlice('\n')
		if len(dst)+len(chunk) > MaxLineBytes+1 {
			tooLong = true
			if room := MaxLineBytes + 1 - len(dst); room > 0 {
				dst = append(dst, chunk[:min(room, len(chunk))]...)
			}
		} else {
			dst = append(dst, chunk...)
		}
		switch {
		case e == nil:
			dst = bytes.TrimSuffix(dst, []byte("\n"))
			dst = bytes.TrimSuffix(dst, []byte("\r"))
			if len(dst) > MaxLineBytes {
				tooLong = true
			}
			return dst, tooLong, false, nil
		case errors.Is(e, bufio.ErrBufferFull):
			continue
		case errors.Is(e, io.EOF):
			if len(dst) == 0 && !tooLong {
				return dst, false, true, nil
			}
			// A last line without a newline is a line, even a lone CR.
			dst = bytes.TrimSuffix(dst, []byte("\r"))
			if len(dst) > MaxLineBytes {
				tooLong = true
			}
			return dst, tooLong, true, errPartialLine
		default:
			return dst, tooLong, false, e
		}
	}
}

func processLine(v *Validator, line []byte) []byte {
	trimmed := bytes.TrimSpace(line)
	if len(trimmed) == 0 {
		return marshalLine(jsonlErr{Error: "empty line"})
	}
	var in jsonlIn
	if err := json.Unmarshal(trimmed, &in); err != nil {
		msg := "not a JSON object"
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			msg = "malformed JSON at byte offset " + itoa(int(se.Offset))
		case errors.As(err, &te) && te.Field != "":
			msg = "field " + quote(te.Field) + " has the wrong type"
		}
		return marshalLine(jsonlErr{ID: peekID(trimmed), Error: msg})
	}
	id := in.ID
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	if in.Field == nil {
		return marshalLine(jsonlErr{ID: id, Error: `missing "field"`})
	}
	if len(in.Value) == 0 {
		return marshalLine(jsonlErr{ID: id, Error: `missing "value"`})
	}
	var res Result
	if in.Value[0] == '"' {
		var s string
		if err := json.Unmarshal(in.Value, &s); err != nil {
			return marshalLine(jsonlErr{ID: id, Error: `"value" is not a valid JSON string`})
		}
		res = v.CheckField(*in.Field, s)
	} else {
		res = v.CheckJSON(*in.Field, in.Value)
	}
	return marshalLine(jsonlOut{ID: id, Threats: res.Threats, Verdict: res.Verdict, Reasons: res.Reasons})
}

// peekID tries to read "id" from a line that did not decode as a whole.
func peekID(line []byte) json.RawMessage {
	if len(line) > MaxLineBytes {
		line = line[:MaxLineBytes]
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil
		}
		if k == "id" {
			if len(raw) > 1024 {
				return nil
			}
			return raw
		}
	}
	return nil
}

func marshalLine(x any) []byte {
	b, err := json.Marshal(x)
	if err != nil {
		// Only an id that is not valid JSON could get here; drop it.
		b, _ = json.Marshal(jsonlErr{Error: "cannot encode the result: " + err.Error()})
	}
	return b
}
