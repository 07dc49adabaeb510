package validate

import "strings"

// Path globs. A path is what the walker builds: keys joined by '.', array
// indexes as "[n]" ("data.messages[2].content"). In a pattern:
//
//	*     any run of bytes other than '.' and '['  (one key)
//	**    any run of bytes at all                  (any number of keys)
//	[*]   any array index
//
// Everything else matches itself. Matching is linear in practice: the
// patterns are short and the one '**' backtracking point is kept.

// checkGlob returns "" or what is wrong with a pattern.
func checkGlob(p string) string {
	switch {
	case p == "":
		return "empty pattern"
	case len(p) > 512:
		return "longer than 512 bytes"
	case strings.Contains(p, "***"):
		return "*** is not a pattern; use ** for any number of keys"
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 0x20 || p[i] == 0x7f {
			return "contains control characters"
		}
	}
	return ""
}

// globMatch reports whether path matches pattern. It tracks the set of
// path positions reachable after each pattern element (a bitset in
// scratch), so a hostile path costs O(len(pattern) * len(path)) whatever
// the stars: no backtracking.
func globMatch(pattern, path string, scratch *[]bool) bool {
	n := len(path) + 1
	if cap(*scratch) < 2*n {
		*scratch = make([]bool, 2*n)
	}
	cur := (*scratch)[:n]
	next := (*scratch)[n : 2*n]
	clear(cur)
	cur[0] = true
	for px := 0; px < len(pattern); {
		clear(next)
		any := false
		switch {
		case strings.HasPrefix(pattern[px:], "[*]"):
			for i := 0; i < len(path); i++ {
				if !cur[i] || path[i] != '[' {
					continue
				}
				j := i + 1
				for j < len(path) && isDigit(path[j]) {
					j++
				}
				if j > i+1 && j < len(path) && path[j] == ']' {
					next[j+1] = true
					any = true
				}
			}
			px += 3
		case strings.HasPrefix(pattern[px:], "**"):
			for i := 0; i < n; i++ {
				if cur[i] {
					for j := i; j < n; j++ {
						next[j] = true
					}
					any = true
					break
				}
			}
			px += 2
		case pattern[px] == '*':
			reach := false
			for i := 0; i < n; i++ {
				if cur[i] {
					reach = true
				}
				if reach {
					next[i] = true
					any = true
				}
				if i < len(path) && (path[i] == '.' || path[i] == '[') {
					reach = false
				}
			}
			px++
		default:
			c := pattern[px]
			for i := 0; i < len(path); i++ {
				if cur[i] && path[i] == c {
					next[i+1] = true
					any = true
				}
			}
			px++
		}
		if !any {
			return false
		}
		cur, next = next, cur
	}
	return cur[len(path)]
}
