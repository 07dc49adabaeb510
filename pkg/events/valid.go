package events

import (
	"encoding/binary"
	"math"
)

// validJSON reports whether data is one valid JSON value (RFC 8259), the same
// answer as encoding/json.Valid, which FuzzValidJSON checks. It exists for
// speed: it runs on every event at every stage, and encoding/json's scanner
// spends most of a decode on it. It does not check UTF-8 (Decode does that
// first, as json.Valid does not either) and it does not recurse: containers
// are tracked on a slice.
func validJSON(data []byte) bool {
	ok, _ := validJSONDepth(data, math.MaxInt)
	return ok
}

// ValidJSON reports whether data is one valid JSON value: encoding/json.Valid's
// answer (FuzzValidJSON), six to seven times faster, for the stages that
// check JSON on every event. Like json.Valid it does not check UTF-8.
func ValidJSON(data []byte) bool { return validJSON(data) }

// validJSONDepth is validJSON that also stops at the first '{' or '['
// opening a level deeper than maxDepth (empty containers count, as in
// depthExceededAt) and returns its offset as deepAt, else -1. One pass
// instead of a depth scan and a syntax scan: on a valid prefix both count
// the same levels, so deepAt is the offset depthExceededAt would find.
func validJSONDepth(data []byte, maxDepth int) (ok bool, deepAt int) {
	const (
		wantValue = iota
		afterValue
		wantKey
	)
	var stackBuf [64]byte
	stack := stackBuf[:0]
	n := len(data)
	i := 0
	state := wantValue
	for {
		i = skipSpace(data, i)
		switch state {
		case wantValue:
			if i >= n {
				return false, -1
			}
			switch data[i] {
			case '{':
				if len(stack) >= maxDepth {
					return false, i
				}
				i = skipSpace(data, i+1)
				if i < n && data[i] == '}' {
					i++
					state = afterValue
					continue
				}
				stack = append(stack, '{')
				state = wantKey
				continue
			case '[':
				if len(stack) >= maxDepth {
					return false, i
				}
				i = skipSpace(data, i+1)
				if i < n && data[i] == ']' {
					i++
					state = afterValue
					continue
				}
				stack = append(stack, '[')
				continue
			case '"':
				j, ok := scanString(data, i)
				if !ok {
					return false, -1
				}
				i = j
			case 't':
				if !hasLiteral(data, i, "true") {
					return false, -1
				}
				i += 4
			case 'f':
				if !hasLiteral(data, i, "false") {
					return false, -1
				}
				i += 5
			case 'n':
				if !hasLiteral(data, i, "null") {
					return false, -1
				}
				i += 4
			default:
				j, ok := scanNumber(data, i)
				if !ok {
					return false, -1
				}
				i = j
			}
			state = afterValue
		case afterValue:
			if len(stack) == 0 {
				return i == n, -1
			}
			if i >= n {
				return false, -1
			}
			top := stack[len(stack)-1]
			switch data[i] {
			case ',':
				i++
				if top == '{' {
					state = wantKey
				} else {
					state = wantValue
				}
			case '}':
				if top != '{' {
					return false, -1
				}
				stack = stack[:len(stack)-1]
				i++
			case ']':
				if top != '[' {
					return false, -1
				}
				stack = stack[:len(stack)-1]
				i++
			default:
				return false, -1
			}
		case wantKey:
			if i >= n || data[i] != '"' {
				return false, -1
			}
			j, ok := scanString(data, i)
			if !ok {
				return false, -1
			}
			i = skipSpace(data, j)
			if i >= n || data[i] != ':' {
				return false, -1
			}
			i++
			state = wantValue
		}
	}
}

// stringStop marks the bytes that end the fast path inside a string: the
// closing quote, an escape, and the control characters JSON forbids.
var stringStop = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// Word-at-a-time string scanning: eight bytes are checked at once for a
// quote, a backslash or a control character (the classic "has zero byte" /
// "has byte less than n" bit tricks), so long prompts and model outputs,
// which have none for hundreds of bytes, cost an eighth of the loop.
const (
	ones       = 0x0101010101010101
	highs      = 0x8080808080808080
	quotes     = ones * '"'
	backslashs = ones * '\\'
)

// stringStopIn reports whether the 8 bytes of w hold a quote, a backslash
// or a byte below 0x20. Exact for "any": a borrow can only add false bits
// above a byte that is itself a match.
func stringStopIn(w uint64) bool {
	hasZero := func(x uint64) uint64 { return (x - ones) & ^x & highs }
	below20 := (w - ones*0x20) & ^w & highs
	return hasZero(w^quotes)|hasZero(w^backslashs)|below20 != 0
}

// scanString checks the string starting at data[i] == '"' and returns the
// index after its closing quote.
func scanString(data []byte, i int) (int, bool) {
	n := len(data)
	i++
	for {
		for i+8 <= n && !stringStopIn(binary.LittleEndian.Uint64(data[i:])) {
			i += 8
		}
		for i < n && !stringStop[data[i]] {
			i++
		}
		if i >= n {
			return 0, false
		}
		c := data[i]
		switch {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return 0, false
		}
		// An escape.
		if i+1 >= n {
			return 0, false
		}
		switch data[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i += 2
		case 'u':
			if i+6 > n {
				return 0, false
			}
			for _, h := range data[i+2 : i+6] {
				if !isHex(h) {
					return 0, false
				}
			}
			i += 6
		default:
			return 0, false
		}
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// scanNumber checks the number starting at data[i]:
// -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
func scanNumber(data []byte, i int) (int, bool) {
	n := len(data)
	if i < n && data[i] == '-' {
		i++
	}
	switch {
	case i < n && data[i] == '0':
		i++
	case i < n && data[i] >= '1' && data[i] <= '9':
		for i < n && isDigit(data[i]) {
			i++
		}
	default:
		return 0, false
	}
	if i < n && data[i] == '.' {
		i++
		if i >= n || !isDigit(data[i]) {
			return 0, false
		}
		for i < n && isDigit(data[i]) {
			i++
		}
	}
	if i < n && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < n && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= n || !isDigit(data[i]) {
			return 0, false
		}
		for i < n && isDigit(data[i]) {
			i++
		}
	}
	return i, true
}

func hasLiteral(data []byte, i int, lit string) bool {
	return len(data)-i >= len(lit) && string(data[i:i+len(lit)]) == lit
}
