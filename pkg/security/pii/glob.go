package pii

import (
	"errors"
	"path"
	"strings"
)

// pathGlob is a compiled Config.Exclude entry: dot-separated segments,
// each a path.Match pattern or "**".
type pathGlob []string

func compileGlob(g string) pathGlob {
	g = strings.TrimPrefix(g, "data.")
	return strings.Split(g, ".")
}

// checkGlob validates an Exclude entry.
func checkGlob(g string) error {
	if strings.TrimSpace(g) == "" {
		return errors.New("empty path")
	}
	for _, seg := range compileGlob(g) {
		if seg == "" {
			return errors.New("empty segment in " + quoteShort(g))
		}
		if _, err := path.Match(seg, ""); err != nil {
			return errors.New("bad pattern " + quoteShort(seg) + ": " + err.Error())
		}
	}
	return nil
}

func quoteShort(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return `"` + s + `"`
}

// match reports whether the dot-joined path p matches the glob.
func (g pathGlob) match(p string) bool {
	return matchSegs(g, p)
}

// matchSegs matches pattern segments against the remaining path; "**"
// tries every split. Patterns come from configuration and are short, so
// the backtracking is bounded by them, not by the input.
func matchSegs(pat []string, p string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			if len(pat) == 1 {
				return true
			}
			for {
				if matchSegs(pat[1:], p) {
					return true
				}
				i := strings.IndexByte(p, '.')
				if i < 0 {
					return false
				}
				p = p[i+1:]
			}
		}
		if p == "" {
			return false
		}
		seg, rest, more := strings.Cut(p, ".")
		if ok, _ := path.Match(pat[0], seg); !ok {
			return false
		}
		pat = pat[1:]
		p = rest
		if !more {
			p = ""
			if len(pat) == 0 {
				return true
			}
			// only "**" can match nothing more
			for _, s := range pat {
				if s != "**" {
					return false
				}
			}
			return true
		}
	}
	return p == ""
}
