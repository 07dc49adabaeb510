package validate

import (
	"path"
	"strings"
)

// Path traversal.
//
// The value is canonicalised first (see canonical: repeated URL decoding
// up to maxDecodeRounds, %uXXXX, overlong UTF-8 such as %c0%ae, look-alike
// slashes and dots), backslashes count as separators, and then the
// segments are walked. Findings:
//
//   - path.encoded_dotdot: a ".." that only appears after decoding. Nobody
//     percent-encodes a legitimate relative path.
//   - path.obfuscated: "....//", "..;/", ".. /", mixed "..\/": shapes that
//     exist only to get past a filter.
//   - path.nul: a NUL byte, raw or encoded, that truncates the path in C
//     code ("shell.php%00.png").
//   - path.dotdot: ".." climbing two or more levels above where the path
//     starts (or above the root of an absolute path). In unknown fields
//     three levels, or two reaching a sensitive file.
//   - path.sensitive: a well-known sensitive file (/etc/passwd, win.ini,
//     .ssh keys, /proc/self/…) named in a path, file name or URL field, or
//     reached through ".." anywhere.
//   - path.outside_root: with Config.AllowedRoots set, an absolute path
//     outside every root or a relative path climbing above its start.

func pathCandidate(k FieldKind, m classes) bool {
	return m.has(cDot | cPct | cBackslash | cNUL | cHigh | cSlash)
}

func (c *checker) pathTraversal(k FieldKind, s string, m classes) {
	if !pathCandidate(k, m) {
		return
	}
	var rawInfo pathInfo
	rawHasDotDot := m.has(cDot) && strings.Contains(s, "..")
	if rawHasDotDot || m.has(cNUL) {
		rawInfo = analyzePath(sbytes(s))
	}
	d := sbytes(s)
	rounds := 0
	if m.has(cPct | cHigh) {
		d, rounds = c.dec.canonical(s, false)
	}
	target := d
	var info pathInfo
	if rounds > 0 {
		info = analyzePath(d)
	} else {
		info = rawInfo
		if !rawHasDotDot && !m.has(cNUL) {
			info = pathInfo{abs: len(s) > 0 && (s[0] == '/' || s[0] == '\\' || len(s) > 1 && s[1] == ':')}
		}
	}
	ds := bstr(target)

	// For URLs only the part after the authority is a path, but the query
	// values count too: "?page=../../etc/passwd".
	if k == KindURL {
		ds = urlPathPart(ds)
		if rounds > 0 || rawHasDotDot {
			info = analyzeURLPath(ds)
		}
	}

	if m.has(cDigit) && m.has(cLetter) {
		// "..0x2f..0x2fetc0x2fpasswd": hex written out for a filter that
		// only knows %2f.
		for _, h := range [...]string{"..0x2f", "..0x5c", "0x2e0x2e"} {
			if i := indexFold(s, h, 0); i >= 0 {
				c.report(k, ThreatPathTraversal, "path.hex_dotdot", s[i:i+len(h)], false)
				return
			}
		}
	}
	switch {
	case info.nul || m.has(cNUL):
		c.report(k, ThreatPathTraversal, "path.nul", s, false)
		return
	case rounds > 0 && info.ups > 0 && (rawInfo.ups < info.ups || !rawHasDotDot):
		c.report(k, ThreatPathTraversal, "path.encoded_dotdot", s, false)
		return
	case (info.obfuscated || info.mixedSlashes) && strings.ContainsAny(ds, "/\\"):
		// "....//" and "..;/" only mean something between separators;
		// "..." alone is an ellipsis.
		c.report(k, ThreatPathTraversal, "path.obfuscated", s, false)
		return
	}

	sensitive := ""
	bare := looksLikeBarePath(ds)
	if info.ups > 0 || k == KindPath || k == KindFilename || k == KindURL || hasFilePrefix(ds) || (bare && len(ds) < 1024) {
		broad := info.maxRun >= 2 && !(k == KindPath || k == KindFilename || k == KindURL)
		sensitive = sensitiveTarget(&c.low, ds, broad)
	}
	switch k {
	case KindPath, KindFilename, KindURL:
		if info.ups > 0 && (info.aboveStart >= 2 || info.maxRun >= 2 || (info.abs && info.aboveStart >= 1)) {
			c.report(k, ThreatPathTraversal, "path.dotdot", s, false)
			return
		}
		if k == KindFilename && info.ups > 0 {
			c.report(k, ThreatPathTraversal, "path.dotdot", s, false)
			return
		}
		if sensitive != "" {
			c.report(k, ThreatPathTraversal, "path.sensitive", sensitive, false)
			return
		}
		if k == KindPath && len(c.v.roots) > 0 && outsideRoots(c.v.roots, ds, info) {
			c.report(k, ThreatPathTraversal, "path.outside_root", s, false)
			return
		}
	default:
		if info.ups == 0 {
			// "/etc/passwd" as the whole value, or in a file: URL; a
			// sentence that mentions it is not a path.
			if sensitive != "" && (hasFilePrefix(ds) || bare) {
				c.report(k, ThreatPathTraversal, "path.sensitive", sensitive, false)
			}
			return
		}
		if sensitive != "" {
			c.report(k, ThreatPathTraversal, "path.sensitive", sensitive, false)
			return
		}
		if info.maxRun >= 3 || (info.leadingUps >= 2 && info.aboveStart >= 2 && looksLikeBarePath(ds)) {
			c.report(k, ThreatPathTraversal, "path.dotdot", s, false)
			return
		}
	}
}

// looksLikeBarePath reports a value that is one path and nothing else (no
// spaces): "../../config" alone is a path, "see ../../docs for more" is a
// sentence.
func looksLikeBarePath(s string) bool {
	s = strings.TrimSpace(s)
	return s != "" && !strings.ContainsAny(s, " \t\n")
}

func hasFilePrefix(s string) bool {
	return hasFoldPrefix(strings.TrimLeft(s, " \t"), "file:")
}

// urlPathPart drops "scheme://authority" so that the host does not count
// as a path segment; file: URLs keep their path.
func urlPathPart(s string) string {
	i := strings.Index(s, "://")
	if i < 0 || i > 32 {
		return s
	}
	rest := s[i+3:]
	if hasFoldPrefix(s, "file:") {
		return rest
	}
	j := strings.IndexAny(rest, "/\\?#")
	if j < 0 {
		return "/"
	}
	return rest[j:]
}

// analyzeURLPath treats '?', '&', '=' and '#' as segment boundaries too,
// so that each query value is walked as a path of its own, from the root.
func analyzeURLPath(s string) pathInfo {
	best := pathInfo{}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '?' || s[i] == '&' || s[i] == '=' || s[i] == '#' {
			pi := analyzePath(sbytes(s[start:i]))
			if start == 0 {
				pi.abs = true
				if pi.aboveStart > 0 {
					pi.aboveStart++
				}
			}
			best.ups += pi.ups
			best.nul = best.nul || pi.nul
			best.obfuscated = best.obfuscated || pi.obfuscated
			best.mixedSlashes = best.mixedSlashes || pi.mixedSlashes
			best.maxRun = max(best.maxRun, pi.maxRun)
			best.leadingUps = max(best.leadingUps, pi.leadingUps)
			if pi.aboveStart > best.aboveStart {
				best.aboveStart = pi.aboveStart
				best.abs = pi.abs
			}
			start = i + 1
		}
	}
	return best
}

// sensitiveFiles are targets that legitimate agent tools have no business
// reading and that every traversal payload list aims for. They are matched
// on the lower-cased path with '\' turned into '/' and repeated slashes
// collapsed. sensitiveAfterDotDot adds the places that are only suspicious
// when reached through "..": agents do read /etc/hosts or edit php.ini.
var (
	sensitiveFiles = [...]string{
		"/etc/passwd", "/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/etc/master.passwd",
		"/etc/security/opasswd", "/proc/self/", "/proc/1/environ", "win.ini", "boot.ini", "system.ini",
		"/system32/config/sam", "/windows/repair/", "/winnt/repair/", "/system32/drivers/etc/hosts",
		"/.ssh/id_rsa", "/.ssh/id_dsa", "/.ssh/id_ecdsa", "/.ssh/id_ed25519",
		"/.aws/credentials", ".htpasswd", "/web-inf/web.xml", "/var/run/secrets/kubernetes.io/",
		"/etc/krb5.keytab", "/etc/group",
	}
	sensitiveAfterDotDot = [...]string{
		"/etc/", "/proc/", "/var/log/", "/root/", "/.ssh/", "/windows/", "/winnt/", "/boot/",
		"/inetpub/", "/xampp/", "/wamp/", "/.env", "php.ini", "httpd.conf", "nginx.conf",
		"wp-config.php", "/.git/", ".htaccess", "/web-inf/", "/meta-inf/", "/.kube/", "/.docker/",
		".bash_history", "authorized_keys",
	}
)

// sensitiveTarget returns the sensitive name in s, or "". broad adds the
// sensitiveAfterDotDot list.
func sensitiveTarget(buf *[]byte, s string, broad bool) string {
	if len(s) > 4096 {
		s = s[:4096]
	}
	if !hasSensitiveSegment(s) {
		return ""
	}
	b := (*buf)[:0]
	if len(s) == 0 || s[0] != '/' {
		b = append(b, '/')
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch == '\\' {
			ch = '/'
		}
		if ch >= 'A' && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		if ch == '/' && len(b) > 0 && b[len(b)-1] == '/' {
			continue
		}
		b = append(b, ch)
	}
	*buf = b
	ls := bstr(b)
	for _, f := range sensitiveFiles {
		if i := strings.Index(ls, f); i >= 0 {
			if strings.HasPrefix(ls[i+len(f):], ".pub") {
				continue
			}
			return f
		}
	}
	if broad {
		for _, f := range sensitiveAfterDotDot {
			if strings.Contains(ls, f) {
				return f
			}
		}
	}
	return ""
}

// outsideRoots checks a path against the allowed roots. Relative paths are
// relative to the first root, so only a climb above their start escapes.
func outsideRoots(roots []string, p string, info pathInfo) bool {
	if !info.abs {
		return info.aboveStart > 0
	}
	clean := cleanSlashPath(p)
	if clean == "" {
		return true
	}
	for _, r := range roots {
		if clean == r || strings.HasPrefix(clean, r+"/") || r == "/" {
			return false
		}
	}
	return true
}

// cleanSlashPath is path.Clean after turning '\' into '/', lower-casing a
// drive letter; it allocates, but only runs when roots are configured.
func cleanSlashPath(p string) string {
	p = strings.ReplaceAll(p, "\\", "/")
	if len(p) > 1 && p[1] == ':' && isAlpha(p[0]) {
		p = strings.ToLower(p[:1]) + p[1:]
	}
	return path.Clean(p)
}

// sensitiveSegments are the path segments that every entry of the
// sensitive lists contains; a path without any of them needs no further
// look.
var sensitiveSegments = map[string]bool{
	"passwd": true, "shadow": true, "gshadow": true, "sudoers": true, "master.passwd": true, "opasswd": true,
	"self": true, "environ": true, "win.ini": true, "boot.ini": true, "system.ini": true, "sam": true,
	"repair": true, "hosts": true, "id_rsa": true, "id_dsa": true, "id_ecdsa": true, "id_ed25519": true,
	"credentials": true, ".htpasswd": true, "web.xml": true, "kubernetes.io": true, "krb5.keytab": true,
	"group": true, "etc": true, "proc": true, "log": true, "root": true, ".ssh": true, "windows": true,
	"winnt": true, "boot": true, "inetpub": true, "xampp": true, "wamp": true, ".env": true, "php.ini": true,
	"httpd.conf": true, "nginx.conf": true, "wp-config.php": true, ".git": true, ".htaccess": true,
	"web-inf": true, "meta-inf": true, ".kube": true, ".docker": true, ".bash_history": true,
	"authorized_keys": true, ".aws": true, "secrets": true,
}

func hasSensitiveSegment(s string) bool {
	var buf [16]byte
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] != '/' && s[j] != '\\' {
			j++
		}
		if n := j - i; n >= 3 && n <= len(buf) {
			if sensitiveSegments[string(lowerASCII(buf[:0], s[i:j]))] {
				return true
			}
		}
		i = j + 1
	}
	return false
}
