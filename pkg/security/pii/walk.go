package pii

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/escai-framework/escai/pkg/events"
)

// maxNested bounds how many levels of JSON-in-a-string are opened; a
// deeper document is still scanned, as text.
const maxNested = 4

// MaskData masks every string (and every long integer) in a JSON value:
// object keys and values, array elements, and JSON documents held inside
// strings (tool arguments are often JSON in a string), which are parsed,
// masked and written back. The key a value sits under is its context.
// Paths matching Config.Exclude are copied untouched. The walk keeps an
// explicit stack, so nesting depth costs heap, never goroutine stack.
//
// Everything not masked is kept byte-for-byte; when nothing is found the
// input slice itself is returned. A masked integer becomes a string
// ("<SSN>"), because a mask is not a number. Object keys are masked too;
// two keys can then become equal, which JSON allows but some readers
// resolve by keeping one. Input that is not one valid JSON value fails
// with ErrInvalidJSON. Encrypt-strategy tokens are bound to no tenant
// (Reveal with tenant ""); MaskEnvelope binds the envelope's.
func (m *Masker) MaskData(data json.RawMessage) (json.RawMessage, Counts, error) {
	return m.maskData(data, "")
}

// maskData is MaskData binding tenant into encrypt-strategy tokens.
func (m *Masker) maskData(data json.RawMessage, tenant string) (json.RawMessage, Counts, error) {
	if len(data) == 0 {
		return data, nil, nil
	}
	if !events.ValidJSON(data) {
		return nil, nil, fmt.Errorf("%w: data is not a single JSON value", ErrInvalidJSON)
	}
	w := walker{m: m, tenant: tenant}
	out, changed := w.walk(string(data), "", 0)
	if !changed {
		return data, w.counts, nil
	}
	return out, w.counts, nil
}

// MaskEnvelope masks e.Data in place and records the outcome in the
// escaipii extension ({"status":"scanned","counts":{…}}). No other
// attribute is changed: identifiers used for routing stay as they are,
// and extensions other stages wrote are theirs. The envelope's tenant is
// bound into encrypt-strategy tokens, so they reveal only for that tenant
// (Reveal).
func (m *Masker) MaskEnvelope(e *events.Envelope) (Counts, error) {
	if e == nil {
		return nil, fmt.Errorf("%w: nil envelope", ErrInvalidJSON)
	}
	data, counts, err := m.maskData(e.Data, e.Tenant)
	if err != nil {
		return nil, err
	}
	e.Data = data
	if err := e.SetExtension(ExtensionName, Status{Status: StatusScanned, Counts: counts}); err != nil {
		return counts, err
	}
	return counts, nil
}

type walker struct {
	m       *Masker
	tenant  string // bound into encrypt-strategy tokens
	counts  Counts
	path    []byte // dot-joined path of the current value, kept only with exclusions
	matches []Match
	masked  []byte // scratch: a masked string
	lit     []byte // scratch: the masked string as a JSON literal
}

// frame is one open object or array.
type frame struct {
	obj     bool
	key     string // object: the current member's key; array: the key holding the array
	pathLen int    // len(path) before this container's segments
	idx     int
}

// walk masks the valid JSON document src. key is the context of a
// top-level scalar; depth counts JSON-in-string levels. It returns the
// new document and whether anything changed.
func (w *walker) walk(src, key string, depth int) ([]byte, bool) {
	var (
		out   []byte
		last  int
		stack []frame
	)
	emit := func(from, to int, repl []byte) {
		if out == nil {
			out = make([]byte, 0, len(src)+64)
		}
		out = append(out, src[last:from]...)
		out = append(out, repl...)
		last = to
	}
	trackPath := len(w.m.exclude) > 0
	rootPath := len(w.path)
	i := skipWS(src, 0)
	for {
		// A value starts at src[i].
		if trackPath && w.excluded() {
			i = endOfValue(src, i)
		} else {
			switch c := src[i]; {
			case c == '{' || c == '[':
				f := frame{obj: c == '{', key: key, pathLen: len(w.path)}
				i = skipWS(src, i+1)
				if src[i] == '}' || src[i] == ']' {
					i++
					break
				}
				stack = append(stack, f)
				if f.obj {
					i, key = w.member(src, i, &stack[len(stack)-1], emit)
				} else if trackPath {
					w.pushSeg(f.pathLen, "0")
				}
				continue
			case c == '"':
				end := endOfString(src, i)
				if repl, ok := w.stringValue(src[i:end], key, depth); ok {
					emit(i, end, repl)
				}
				i = end
			default:
				end := endOfValue(src, i)
				if repl, ok := w.number(src[i:end], key); ok {
					emit(i, end, repl)
				}
				i = end
			}
		}
		// After a value: close containers until one continues.
		for {
			i = skipWS(src, i)
			if len(stack) == 0 {
				w.path = w.path[:rootPath]
				if out == nil {
					return nil, false
				}
				return append(out, src[last:]...), true
			}
			top := &stack[len(stack)-1]
			if src[i] == ',' {
				i = skipWS(src, i+1)
				if top.obj {
					i, key = w.member(src, i, top, emit)
				} else {
					top.idx++
					key = top.key
					if trackPath {
						w.pushSeg(top.pathLen, strconv.Itoa(top.idx))
					}
				}
				break
			}
			// '}' or ']'
			w.path = w.path[:min(len(w.path), top.pathLen)]
			stack = stack[:len(stack)-1]
			i++
		}
	}
}

// member reads `"key":` at src[i], masks the key if it holds PII, and
// returns the offset of the value and the key (original, decoded) as
// context.
func (w *walker) member(src string, i int, f *frame, emit func(int, int, []byte)) (int, string) {
	end := endOfString(src, i)
	k := decodeString(src[i:end])
	if w.matches = w.m.d.Scan(k, w.matches[:0]); len(w.matches) > 0 {
		emit(i, end, w.literal(k, w.matches))
	}
	f.key = k
	if len(w.m.exclude) > 0 {
		w.pushSeg(f.pathLen, k)
	}
	i = skipWS(src, end)
	return skipWS(src, i+1), k // past ':'
}

// pushSeg sets the last path segment of a container whose path is
// path[:base].
func (w *walker) pushSeg(base int, seg string) {
	w.path = w.path[:base]
	if base > 0 {
		w.path = append(w.path, '.')
	}
	w.path = append(w.path, seg...)
}

func (w *walker) excluded() bool {
	p := string(w.path)
	for _, g := range w.m.exclude {
		if g.match(p) {
			return true
		}
	}
	return false
}

// stringValue masks one string literal; JSON inside it is walked.
func (w *walker) stringValue(lit, key string, depth int) ([]byte, bool) {
	s := decodeString(lit)
	if depth < maxNested && looksLikeJSON(s) && events.ValidJSON([]byte(s)) {
		inner, changed := w.walk(s, key, depth+1)
		if !changed {
			return nil, false
		}
		return appendJSONString(nil, string(inner)), true
	}
	w.matches = w.m.d.ScanWithContext(s, key, w.matches[:0])
	if len(w.matches) == 0 {
		return nil, false
	}
	return w.literal(s, w.matches), true
}

// literal returns s with ms masked, as a JSON string literal. The result
// is scratch space, valid until the next call.
func (w *walker) literal(s string, ms []Match) []byte {
	w.masked = w.m.apply(w.masked[:0], s, ms, w.tenant, &w.counts)
	w.lit = appendJSONBytes(w.lit[:0], w.masked)
	return w.lit
}

// number masks an integer literal long enough to be a phone, SSN or card
// number; the result is a string.
func (w *walker) number(lit, key string) ([]byte, bool) {
	if len(lit) < 9 || len(lit) > 20 {
		return nil, false
	}
	for i := 0; i < len(lit); i++ {
		if !isDigit(lit[i]) {
			return nil, false
		}
	}
	w.matches = w.m.d.ScanWithContext(lit, key, w.matches[:0])
	if len(w.matches) == 0 {
		return nil, false
	}
	return w.literal(lit, w.matches), true
}

func looksLikeJSON(s string) bool {
	i := skipWS(s, 0)
	if i >= len(s) || (s[i] != '{' && s[i] != '[') {
		return false
	}
	j := len(s)
	for j > i && (s[j-1] == ' ' || s[j-1] == '\t' || s[j-1] == '\n' || s[j-1] == '\r') {
		j--
	}
	return s[j-1] == '}' || s[j-1] == ']'
}

// decodeString returns the value of a JSON string literal known to be
// valid; literals without escapes are sliced, not copied.
func decodeString(lit string) string {
	body := lit[1 : len(lit)-1]
	for i := 0; i < len(body); i++ {
		if body[i] == '\\' {
			var s string
			if err := json.Unmarshal([]byte(lit), &s); err != nil {
				return body
			}
			return s
		}
	}
	return body
}

// appendJSONBytes is appendJSONString for a byte slice.
func appendJSONBytes(b, s []byte) []byte { return appendJSON(b, s) }

// appendJSONString writes s as a JSON string, escaping only what JSON
// requires (plus invalid UTF-8, as U+FFFD), so "<EMAIL>" stays readable.
func appendJSONString(b []byte, s string) []byte { return appendJSON(b, s) }

func appendJSON[S ~string | ~[]byte](b []byte, s S) []byte { return events.AppendJSONString(b, s) }

func skipWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// endOfString returns the offset just past the string literal starting at
// s[i] == '"'.
func endOfString(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(s)
}

// endOfValue returns the offset just past the value at s[i], for valid
// JSON, without recursion.
func endOfValue(s string, i int) int {
	switch s[i] {
	case '"':
		return endOfString(s, i)
	case '{', '[':
		depth := 0
		for ; i < len(s); i++ {
			switch s[i] {
			case '"':
				i = endOfString(s, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(s)
	}
	for ; i < len(s); i++ {
		switch s[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
	}
	return i
}
