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
//   - path.dotdot: a ".." climb that reaches a sensitive target (see
//     sensitiveAfterDotDot), or climbs deepUps or more levels in a row,
//     above the root of an absolute path, or above where a path that
//     started with a real directory began ("src/../../x"). A shallow climb
//     to an ordinary file ("../../shared/config.yaml", how monorepo tools
//     name a neighbour) is recorded as an informational path.dotdot in
//     path fields and is nothing in other fields. In file names any ".."
//     segment counts, and in URLs a climb of two levels or a relative
//     path as a query value.
//   - path.sensitive: a well-known sensitive file (/etc/passwd, win.ini,
//     .ssh keys, /proc/self/…) named in a path, file name or URL field, or
//     reached through ".." in a field of another kind.
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
			if i := indexFold(ds, h, 0); i >= 0 {
				c.report(k, ThreatPathTraversal, "path.hex_dotdot", ds[i:i+len(h)], false)
				return
			}
		}
	}
	if m.has(cPct|cHigh) && strings.Contains(ds, "..") {
		// ".." next to the junk of a malformed escape: "..%c1%8s..",
		// "..%uEFC8..", "%5C..%c0%9vetc%c0%9vpasswd".
		var changed bool
		c.low, changed = junkView(c.low, target)
		if jv := bstr(c.low); changed {
			ji := analyzePath(c.low)
			if ji.ups > info.ups && (ji.ups >= 2 || sensitiveTarget(&c.mask, jv, true) != "") {
				c.report(k, ThreatPathTraversal, "path.obfuscated", s, false)
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

	bare := looksLikeBarePath(ds)
	switch k {
	case KindPath:
		if info.ups > 0 {
			// Relative paths with a few ".." are how monorepo tools name
			// their neighbours ("../../shared/config.yaml"); what attack
			// collections add is depth or a target worth stealing.
			if deepClimb(info) || sensitiveTarget(&c.low, ds, true) != "" {
				c.report(k, ThreatPathTraversal, "path.dotdot", s, false)
				return
			}
		} else if t := sensitiveTarget(&c.low, ds, false); t != "" {
			c.report(k, ThreatPathTraversal, "path.sensitive", t, false)
			return
		}
		if len(c.v.roots) > 0 && outsideRoots(c.v.roots, ds, info) {
			c.report(k, ThreatPathTraversal, "path.outside_root", s, false)
			return
		}
		if info.aboveStart >= 2 {
			// A shallow climb to an ordinary file: recorded, nothing to
			// act on.
			c.report(k, ThreatPathTraversal, "path.dotdot", s, true)
		}
	case KindFilename, KindURL:
		// A file name has no business holding a separator and "..", nor
		// a URL climbing above its root or passing a relative path as a
		// query value ("?page=../../x").
		if info.ups > 0 && (k == KindFilename || info.aboveStart >= 2 || info.maxRun >= 2 || (info.abs && info.aboveStart >= 1)) {
			c.report(k, ThreatPathTraversal, "path.dotdot", s, false)
			return
		}
		if t := sensitiveTarget(&c.low, ds, false); t != "" {
			c.report(k, ThreatPathTraversal, "path.sensitive", t, false)
		}
	default:
		if info.ups == 0 {
			// "/etc/passwd" as the whole value, or in a file: URL; a
			// sentence that mentions it is not a path.
			if hasFilePrefix(ds) || (bare && len(ds) < 1024) {
				if t := sensitiveTarget(&c.low, ds, false); t != "" {
					c.report(k, ThreatPathTraversal, "path.sensitive", t, false)
				}
			}
			return
		}
		if t := sensitiveTarget(&c.low, ds, info.maxRun >= 2); t != "" {
			c.report(k, ThreatPathTraversal, "path.sensitive", t, false)
			return
		}
		if info.leadingUps >= deepUps || info.maxRun >= deepUps || (bare && deepClimb(info)) {
			c.report(k, ThreatPathTraversal, "path.dotdot", s, false)
			return
		}
	}
}

// deepUps is how many ".." in a row no project layout needs: monorepo
// tools climb two or three levels to a sibling package, payload lists
// climb six to twelve to be sure to reach the root.
const deepUps = 4

// deepClimb reports a ".." climb that a project layout does not explain:
// deepUps or more in a row, a climb above the root of an absolute path,
// or a relative path that goes down and then climbs above where it
// started ("src/../../x", "uploads/../../../etc").
func deepClimb(info pathInfo) bool {
	return info.leadingUps >= deepUps || info.maxRun >= deepUps ||
		(info.abs && info.aboveStart >= 1) || info.aboveStart > info.leadingUps
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
// when reached through "..": agents do read /etc/hosts or edit php.ini,
// but a relative path climbing to them is what LFI payloads look like.
// Directory names that projects use too (windows/ in a Flutter app,
// boot/, root/, META-INF/) are left to the depth rule.
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
		"/etc/", "/proc/", "/var/log/", "/var/lib/", "/var/www/", "/.ssh/", "/system32/",
		"/inetpub/", "/xampp/", "/wamp/", "/apache2/", "/httpd/",
		"/.env", "/.envrc", "php.ini", "wp-config.php", "/config.php", "/configuration.php",
		"/settings.php", "/local.xml", "/database.yml", "/parameters.yml", "/secrets.yml",
		"/master.key", "web.config", "applicationhost.config", "/.git/", "/.git-credentials",
		".htaccess", "/.kube/", "/.docker/", "/.aws/", "/.azure/",
		"/.gcloud/", "/.config/gcloud/", "/.netrc", "/.pgpass", "/.npmrc", "/.pypirc",
		"/.bashrc", "/.profile", ".bash_history", "/.zsh_history", "/.mysql_history",
		"/.psql_history", "authorized_keys", "/id_rsa", "/id_dsa", "/id_ecdsa", "/id_ed25519",
	}
	// sensitiveExempt are suffixes that make a sensitive name a harmless
	// one: a public key, or the template of an env file that is checked in.
	sensitiveExempt = [...]string{".pub", ".example", ".sample", ".template", ".dist", ".defaults"}
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
		if containsSensitive(ls, f) {
			return f
		}
	}
	if broad {
		for _, f := range sensitiveAfterDotDot {
			if containsSensitive(ls, f) {
				return f
			}
		}
	}
	return ""
}

// containsSensitive finds f in ls at an occurrence not followed by an
// exempt suffix ("id_rsa.pub", ".env.example").
func containsSensitive(ls, f string) bool {
	for from := 0; from < len(ls); {
		i := strings.Index(ls[from:], f)
		if i < 0 {
			return false
		}
		end := from + i + len(f)
		exempt := false
		for _, x := range sensitiveExempt {
			if strings.HasPrefix(ls[end:], x) {
				exempt = true
				break
			}
		}
		if !exempt {
			return true
		}
		from = end
	}
	return false
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
// look. Env files (".env", ".env.local") are matched by prefix.
var sensitiveSegments = map[string]bool{
	"passwd": true, "shadow": true, "gshadow": true, "sudoers": true, "master.passwd": true, "opasswd": true,
	"self": true, "environ": true, "win.ini": true, "boot.ini": true, "system.ini": true, "sam": true,
	"repair": true, "hosts": true, "id_rsa": true, "id_dsa": true, "id_ecdsa": true, "id_ed25519": true,
	"credentials": true, ".htpasswd": true, "web.xml": true, "kubernetes.io": true, "krb5.keytab": true,
	"group": true, "etc": true, "proc": true, "log": true, "lib": true, "www": true, "root": true,
	".ssh": true, "windows": true, "winnt": true, "system32": true, "boot": true, "inetpub": true,
	"xampp": true, "wamp": true, "apache2": true, "httpd": true, ".envrc": true, "php.ini": true,
	"wp-config.php": true, "config.php": true, "configuration.php": true, "settings.php": true,
	"local.xml": true, "database.yml": true, "parameters.yml": true, "secrets.yml": true,
	"master.key": true, "web.config": true, "applicationhost.config": true, ".git": true,
	".git-credentials": true, ".htaccess": true, "web-inf": true, "meta-inf": true, ".kube": true,
	".docker": true, ".aws": true, ".azure": true, ".gcloud": true, "gcloud": true, ".netrc": true,
	".pgpass": true, ".npmrc": true, ".pypirc": true, ".bashrc": true, ".profile": true,
	".bash_history": true, ".zsh_history": true, ".mysql_history": true, ".psql_history": true,
	"authorized_keys": true, "secrets": true,
}

func hasSensitiveSegment(s string) bool {
	var buf [24]byte
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] != '/' && s[j] != '\\' {
			j++
		}
		e := j
		if k := strings.IndexByte(s[i:j], ';'); k > 0 {
			e = i + k // "boot.ini;index.html": IIS stops at ';'
		}
		if n := e - i; n >= 3 && n <= len(buf) {
			seg := lowerASCII(buf[:0], s[i:e])
			if sensitiveSegments[string(seg)] || (len(seg) >= 4 && string(seg[:4]) == ".env") {
				return true
			}
		}
		i = j + 1
	}
	return false
}
