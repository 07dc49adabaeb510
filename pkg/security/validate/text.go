package validate

import "unsafe"

// bstr views b as a string without copying. Callers use the result only
// while b is unchanged and never keep it: detectors read it and
// fingerprints hash it.
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// sbytes views s as bytes without copying; the bytes must not be written.
func sbytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// maskCode copies Markdown text into dst with the content of fenced code
// blocks (``` or ~~~ fences) and inline code spans replaced by spaces
// (newlines kept). A renderer shows code as code, so what is inside cannot
// run as HTML or reach a template engine; scanning it would flag every
// answer that explains an attack or shows a config file.
func maskCode(dst []byte, s string) []byte {
	dst = append(dst[:0], s...)
	inFence := false
	var fenceChar byte
	fenceLen := 0
	lineStart := 0
	for lineStart <= len(dst) {
		lineEnd := lineStart
		for lineEnd < len(dst) && dst[lineEnd] != '\n' {
			lineEnd++
		}
		line := dst[lineStart:lineEnd]
		// up to three spaces of indentation before a fence
		ind := 0
		for ind < len(line) && ind < 3 && line[ind] == ' ' {
			ind++
		}
		fc, fl := fenceAt(line[ind:])
		switch {
		case inFence:
			if fc == fenceChar && fl >= fenceLen && onlySpaces(line[ind+fl:]) {
				inFence = false
			} else {
				blank(line)
			}
		case fl >= 3:
			inFence, fenceChar, fenceLen = true, fc, fl
			blank(line[ind+fl:]) // the info string
		default:
			maskInlineCode(line)
		}
		lineStart = lineEnd + 1
	}
	return dst
}

func fenceAt(b []byte) (byte, int) {
	if len(b) == 0 || (b[0] != '`' && b[0] != '~') {
		return 0, 0
	}
	n := 0
	for n < len(b) && b[n] == b[0] {
		n++
	}
	return b[0], n
}

func onlySpaces(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// maskInlineCode blanks `code` spans on one line: a run of n backticks up
// to the next run of exactly n backticks.
func maskInlineCode(line []byte) {
	for i := 0; i < len(line); {
		if line[i] != '`' {
			i++
			continue
		}
		n := 0
		for i+n < len(line) && line[i+n] == '`' {
			n++
		}
		if i > 0 && (isWordByte(line[i-1]) || line[i-1] == ')' || line[i-1] == ']') {
			// "alert`1`", "[].map.call`${eval}`": a backtick glued to a
			// word is a JavaScript tagged template, not a code span
			// someone wrote in prose (that follows a space).
			i += n
			continue
		}
		j := i + n
		closed := -1
		for j < len(line) {
			if line[j] != '`' {
				j++
				continue
			}
			m := 0
			for j+m < len(line) && line[j+m] == '`' {
				m++
			}
			if m == n {
				closed = j
				break
			}
			j += m
		}
		if closed < 0 {
			i += n
			continue
		}
		blank(line[i+n : closed])
		i = closed + n
	}
}
