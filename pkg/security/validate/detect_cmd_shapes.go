package validate

import "strings"

// Command injection shapes beyond "separator + command":
//
//   - Windows batch control flow, which needs no separator to run:
//     "FOR /F %G IN (…) DO …", "IF NOT EXIST x ECHO y", "if %a% gtr %b%".
//   - bash-only syntax: shellshock function definitions ("() { :;};").
//   - code that runs a command, written where a value belongs: PHP's
//     system('…'), passthru(…), shell_exec(…), phpinfo(), Python's
//     os.system(…), Java's Runtime.getRuntime().exec(…).
//   - a command line where a host name or a file name belongs (hosts
//     never hold spaces; file names do not start "gunzip -c /var/…").

// skipCmdSpace skips spaces and '+', which is a space in form-encoded
// values ("+|+dir+c:\\").
func skipCmdSpace(s string, i int) int {
	for i < len(s) && (isSpace(s[i]) || s[i] == '+') {
		i++
	}
	return i
}

// drivePath reports a Windows drive path at s[k:]: "c:\", "C:/x".
func drivePath(s string, k int) bool {
	return k+2 < len(s) && isAlpha(s[k]) && s[k+1] == ':' && (s[k+2] == '\\' || s[k+2] == '/') && (k == 0 || !isAlnum(s[k-1]))
}

// winVar reports a Windows environment variable at s[k:]: "%SYSTEMROOT%".
func winVar(s string, k int) bool {
	if k >= len(s) || s[k] != '%' {
		return false
	}
	e := k + 1
	for e < len(s) && (isAlnum(s[e]) || s[e] == '_') {
		e++
	}
	return e > k+1 && e < len(s) && s[e] == '%'
}

func isSeparator(c byte) bool { return c == ';' || c == '|' || c == '&' || c == '\n' || c == '`' }

// pipeFilter names the filters a pipeline ends in ("ls -la | sort").
func pipeFilter(cmd string) bool {
	switch strings.ToLower(cmd) {
	case "sort", "head", "tail", "more", "less", "tee", "cut", "tr", "column", "fmt", "fold":
		return true
	}
	return false
}

// variableRun finds "$name" run as a command at s[i:] where the value
// assigned name earlier ("x=adduse[r];$x").
func variableRun(s string, i int) string {
	e := i + 1
	for e < len(s) && isWordByte(s[e]) {
		e++
	}
	name := s[i+1 : e]
	if len(name) == 0 || !endsCommand(s, e) && (e >= len(s) || s[e] != ' ') {
		return ""
	}
	for a := strings.Index(s, name+"="); a >= 0 && a < i; {
		if a == 0 || !isWordByte(s[a-1]) {
			return s[i:e]
		}
		n := strings.Index(s[a+1:], name+"=")
		if n < 0 {
			break
		}
		a += 1 + n
	}
	return ""
}

// batchControl finds Windows batch FOR and IF statements.
func batchControl(s string) string {
	for i := indexWordFold(s, "for", 0); i >= 0; i = indexWordFold(s, "for", i+3) {
		// FOR [/D|/R|/L|/F ["options"]] %x IN (…) DO …
		k := skipSpace(s, i+3)
		for k+1 < len(s) && s[k] == '/' && isAlpha(s[k+1]) {
			k = skipSpace(s, k+2)
			if k < len(s) && s[k] == '"' {
				if e := strings.IndexByte(s[k+1:], '"'); e >= 0 {
					k = skipSpace(s, k+2+e)
				}
			} else if k < len(s) && s[k] != '%' && s[k] != '/' {
				// a root or set for /R: FOR /R C:\ %f IN …
				for k < len(s) && !isSpace(s[k]) {
					k++
				}
				k = skipSpace(s, k)
			}
		}
		if k < len(s) && s[k] == '%' {
			k++
			if k < len(s) && s[k] == '%' {
				k++
			}
			v := k
			for v < len(s) && isWordByte(s[v]) && v-k < 32 {
				v++
			}
			if v > k && v < len(s) && isSpace(s[v]) {
				k = skipSpace(s, v)
				if wordAt(s, k, "in") {
					if k = skipSpace(s, k+2); k < len(s) && s[k] == '(' {
						return s[i:min(len(s), k+1)]
					}
				}
			}
		}
	}
	for i := indexWordFold(s, "if", 0); i >= 0; i = indexWordFold(s, "if", i+2) {
		k := skipSpace(s, i+2)
		slashI := hasFoldPrefix(s[k:], "/i ")
		if k == i+2 && !slashI {
			continue
		}
		if slashI {
			k = skipSpace(s, k+3)
		}
		if wordAt(s, k, "not") {
			k = skipSpace(s, k+3)
		}
		switch {
		case wordAt(s, k, "exist"):
			// IF EXIST file command
			t := skipSpace(s, k+5)
			for t < len(s) && !isSpace(s[t]) {
				t++
			}
			if cmd, _, _ := commandAt(s, t); cmd != "" || wordAt(s, skipSpace(s, t), "goto") || wordAt(s, skipSpace(s, t), "call") || hasFoldPrefix(s[skipSpace(s, t):], "(") {
				return s[i:min(len(s), k+5)]
			}
		case wordAt(s, k, "defined"):
			t := skipSpace(s, k+7)
			for t < len(s) && (isWordByte(s[t]) || s[t] == '%') {
				t++
			}
			t = skipSpace(s, t)
			if t < len(s) && s[t] == '(' || wordAt(s, t, "goto") || wordAt(s, t, "echo") || wordAt(s, t, "call") || wordAt(s, t, "set") {
				return s[i:min(len(s), k+7)]
			}
		case wordAt(s, k, "errorlevel") || wordAt(s, k, "cmdextversion"):
			if t := skipSpace(s, k+strings.IndexByte(s[k:]+" ", ' ')); t < len(s) && isDigit(s[t]) {
				return s[i:min(len(s), t+1)]
			}
		default:
			// IF "%VAR%" == "x" (…), IF %a% GTR %b% …, IF [%1]==[] ECHO,
			// if/i a==b foo: a comparison in batch syntax.
			if span := batchCompare(s, i, k); span != "" {
				return span
			}
		}
	}
	return ""
}

// shellshock finds a bash function definition in a value: "() { :;};".
func shellshock(s string) string {
	for i := strings.Index(s, "()"); i >= 0; {
		k := skipSpace(s, i+2)
		if k < len(s) && s[k] == '{' {
			k = skipSpace(s, k+1)
			if k+1 < len(s) && (s[k] == ':' || s[k] == '_') && s[skipSpace(s, k+1)] == ';' {
				return s[i:min(len(s), k+2)]
			}
		}
		j := strings.Index(s[i+2:], "()")
		if j < 0 {
			break
		}
		i += 2 + j
	}
	return ""
}

// codeExec finds code that runs a command: system('id'), passthru(…),
// shell_exec(…), popen(…), proc_open(…), pcntl_exec(…), phpinfo(),
// exec("…"), os.system(…), os.popen(…), subprocess.…(…),
// Runtime.getRuntime().exec(…), child_process.
func codeExec(s string) string {
	if i := strings.Index(s, "{${"); i >= 0 {
		// PHP's complex interpolation calls what it names: {${system(…)}}.
		k := i + 3
		for k < len(s) && isWordByte(s[k]) {
			k++
		}
		if k > i+3 && k < len(s) && s[k] == '(' {
			return s[i : k+1]
		}
	}
	// One pass over the calls: each '(' and the word before it.
	for k := strings.IndexByte(s, '('); k >= 0; {
		j := k
		for j > 0 && s[j-1] == ' ' && k-j < 2 {
			j--
		}
		i := j
		for i > 0 && isWordByte(s[i-1]) && j-i <= 14 {
			i--
		}
		var buf [16]byte
		if j > i && j-i <= 14 && (i == 0 || !isWordByte(s[i-1])) {
			a := skipSpace(s, k+1)
			switch string(lowerASCII(buf[:0], s[i:j])) {
			case "system", "exec", "eval", "assert":
				// system('id'), exec("ls"), os.system($cmd), PHP's
				// eval('…'): a string or a variable; "exec(@s)" is SQL.
				if a < len(s) && (s[a] == '\'' || s[a] == '"' || s[a] == '`' || s[a] == '$') {
					return s[i:min(len(s), a+1)]
				}
			case "phpinfo", "getruntime":
				if a < len(s) && s[a] == ')' {
					return s[i:min(len(s), a+1)]
				}
			case "passthru", "shell_exec", "popen", "proc_open", "pcntl_exec", "processbuilder":
				return s[i:min(len(s), k+1)]
			}
		}
		n := strings.IndexByte(s[k+1:], '(')
		if n < 0 {
			break
		}
		k += 1 + n
	}
	if i := indexFold(s, "child_process", 0); i >= 0 {
		return s[i : i+13]
	}
	if i := indexFold(s, "subprocess.", 0); i >= 0 && (i == 0 || !isWordByte(s[i-1])) {
		return s[i:min(len(s), i+16)]
	}
	return ""
}

// hostCommand finds a command line in a host field: a host name never
// holds a space, so a command word among space-separated tokens ("sleep
// 5", "10.0.0.5 && id", "/usr/bin/python3 -m http.server") is one.
func hostCommand(s string) string {
	t := strings.TrimSpace(s)
	for _, d := range [...]string{"/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/usr/local/bin/"} {
		// a program, not a host or a socket directory
		if strings.HasPrefix(t, d) && len(t) > len(d) {
			return t[:min(len(t), len(d)+8)]
		}
	}
	if !strings.ContainsAny(t, " \t+") {
		return ""
	}
	for i := 0; i < len(t); {
		if cmd, _, _ := commandAt(t, i); cmd != "" {
			return t[i:min(len(t), i+len(cmd)+8)]
		}
		for i < len(t) && !isSpace(t[i]) && t[i] != '+' {
			i++
		}
		i = skipCmdSpace(t, i)
	}
	return ""
}

// bareCommand finds a file name that is a command line: a command that
// is not an English word, then an argument a file name would not have
// ("gunzip -c /var/log/x.gz", "perl -e '…'"), or any command with a
// drive path ("dir+c:\\", "type C:\\boot.ini").
func bareCommand(s string) string {
	i := skipCmdSpace(s, 0)
	cmd, strong, _ := commandAt(s, i)
	if cmd == "" {
		return ""
	}
	e := strings.Index(s[i:], cmd) + i + len(cmd)
	if e >= len(s) || !(isSpace(s[e]) || s[e] == '+') {
		return ""
	}
	k := skipCmdSpace(s, e)
	if drivePath(s, k) || winVar(s, k) || strong && k < len(s) && pathArgShaped(s, e) {
		return s[i:min(len(s), k+4)]
	}
	return ""
}

// cmdShapeCandidate is the cheap test for cmdShapes on a value without
// separators: a batch keyword, "()" or a call.
func cmdShapeCandidate(s string, m classes) bool {
	if m.has(cParen) || m.has(cSlash) && (m.has(cBracket|cStar) || strings.IndexByte(s, '?') >= 0) {
		return true
	}
	if len(s) <= 24 && m.has(cLetter) {
		// a recon command alone: "whoami"
		var buf [24]byte
		if reconCommands[string(lowerASCII(buf[:0], strings.TrimSpace(s)))] {
			return true
		}
	}
	return batchStart(s)
}

// batchStart reports a value that starts with IF or FOR: batch control
// flow (after a separator, cmdCandidate already holds).
func batchStart(s string) bool {
	t := s[skipCmdSpace(s, 0):]
	return hasFoldPrefix(t, "if") && len(t) > 2 && (isSpace(t[2]) || t[2] == '/') || hasFoldPrefix(t, "for ")
}

// cmdShapes runs the rules above that apply to any non-code field.
func cmdShapes(s string, m classes) (string, string) {
	if !m.has(cParen|cLBrace|cSlash|cPct|cEq|cSemi|cPipe|cAmp|cLF|cBracket|cStar|cQuote) && !cmdShapeCandidate(s, m) {
		return "", ""
	}
	if m.has(cLBrace) {
		if span := braceWord(s); span != "" {
			return "cmd.brace_expansion", span
		}
	}
	if m.has(cLetter) {
		if span := batchControl(s); span != "" {
			return "cmd.batch", span
		}
	}
	if m.has(cParen) {
		if m.has(cLBrace) {
			if span := shellshock(s); span != "" {
				return "cmd.shellshock", span
			}
		}
		if span := codeExec(s); span != "" {
			return "cmd.code_exec", span
		}
	} else if m.has(cLetter) && indexFold(s, "child_process", 0) >= 0 {
		return "cmd.code_exec", "child_process"
	}
	return "", ""
}

// hostMeta finds characters a host name cannot hold and payloads use:
// quotes, parentheses, braces, '$', '\', '!', '<', '>'.
func hostMeta(s string) string {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\'', '"', '{', '}', '$', '\\', '!', '<', '>', '^':
			return s[i:min(len(s), i+8)]
		}
	}
	return ""
}

// prefixCommands run the command that follows them.
var prefixCommands = map[string]bool{
	"nohup": true, "sudo": true, "doas": true, "time": true, "strace": true, "ltrace": true,
	"which": true, "whereis": true, "timeout": true, "xargs": true, "exec": true, "busybox": true,
	"sh": true, "bash": true, "zsh": true, "dash": true, "ksh": true, "cmd": true, "powershell": true,
	"pwsh": true, "runas": true, "setsid": true, "stdbuf": true, "chroot": true, "env": true,
	"flock": true, "ionice": true, "taskset": true, "unshare": true, "nsenter": true,
}

// commandLineStart finds a value that is a command line from its first
// word, where a field holds a value: a prefix command running another
// ("nohup sh -c whoami", "which netcat", "time who", "cmd /c dir"), or
// a Windows reconnaissance command with its verb ("net view", "reg query
// HKLM\…"). The second command must end the value or take an argument
// shaped like one, so "Which cat is yours?" stays a question.
//
// In a file name (fileName) the arguments must look like what a command
// line has and a file name does not (see pathArgShaped).
func commandLineStart(s string, fileName bool) string {
	shaped := argShaped
	if fileName {
		shaped = pathArgShaped
	}
	i := skipCmdSpace(s, 0)
	for i < len(s) && (s[i] == '\'' || s[i] == '"') {
		i = skipCmdSpace(s, i+1)
	}
	if i < len(s) && (s[i] == '$' || s[i] == '%') {
		return shellVarCommand(s, i)
	}
	e := i
	for e < len(s) && (isAlnum(s[e]) || s[e] == '_' || s[e] == '-' || s[e] == '.' || s[e] == '/') {
		e++
	}
	if e == i || e-i > 32 {
		return ""
	}
	first := s[i:e]
	if k := strings.LastIndexByte(first, '/'); k >= 0 {
		first = first[k+1:]
	}
	var buf [24]byte
	if len(first) > len(buf) {
		return ""
	}
	w := string(lowerASCII(buf[:0], strings.TrimSuffix(first, ".exe")))
	if !startWords[w] {
		return ""
	}
	if !prefixCommands[w] {
		switch {
		case w == "net" || w == "reg" || w == "sc" || w == "wmic":
			if cmd, strong, _ := commandAt(s, i); strong && len(cmd) > len(w) {
				if t := i + len(cmd); t >= len(s) || s[t] == ' ' || s[t] == '/' {
					return s[i:min(len(s), i+len(cmd))]
				}
			}
		case reconCommands[w]:
			// "whoami", "uname -a", "ipconfig /all", "whoami;…": what a
			// probe runs first; nobody's name or id.
			if e >= len(s) || isSpace(s[e]) || s[e] == '+' || isSeparator(s[e]) {
				return s[i:e]
			}
		case attackCommands[w]:
			// LOLBins take any argument ("netsh firewall set opmode
			// disable"); the others one shaped like an argument.
			if k := skipCmdSpace(s, e); k > e && k < len(s) && (shaped(s, e) || lolbins[w] && !fileName) {
				return s[i:min(len(s), k+4)]
			}
		}
		if tier, ok := commandWords[w]; ok && tier != subCmd && e < len(s) && (isSpace(s[e]) || s[e] == '+') {
			rest := s[skipCmdSpace(s, e):]
			// (an absolute path after a command is enough: "cat /etc/hosts")
			// "type C:\WINNT\repair\SAM", "cat /etc/pa[s]swd", "dd
			// if=/etc/passwd of=…": a command reading a file payloads
			// aim for.
			if globTarget(rest) != "" || sensitiveArg(rest) {
				return s[i:min(len(s), e+8)]
			}
			// "sleep 10", "ping -n 5 127.0.0.1": the timing probe.
			if (w == "sleep" || w == "ping" || w == "timeout") && rest != "" && timingArgs(rest) {
				return s[i:min(len(s), e+4)]
			}
		}
		return ""
	}
	// options and numbers between: "sh -c", "timeout 5", "cmd /c"; a
	// quote closing the first word: "\"time\" who"
	if e < len(s) && (s[e] == '"' || s[e] == '\'') {
		e++
	}
	k := skipCmdSpace(s, e)
	for k < len(s) && (s[k] == '-' || s[k] == '/' || isDigit(s[k])) {
		for k < len(s) && !isSpace(s[k]) && s[k] != '+' {
			k++
		}
		k = skipCmdSpace(s, k)
	}
	if k >= len(s) || k == e {
		return ""
	}
	cmd, _, _ := commandAt(s, k)
	if cmd == "" {
		return ""
	}
	end := k + len(cmd)
	if shaped(s, end) {
		return s[i:min(len(s), end)]
	}
	return ""
}

// obfuscatedCommand finds a command word broken up by characters the
// shell removes before running it: paired quotes or backticks
// ("w'h'o'am'i", "ping“ 127.0.0.1", "wh\"\"oami"), backslashes
// ("c\at", outside paths) or "$@" ("who$@ami"). Nobody writes a word that
// way except to get it past a filter.
func obfuscatedCommand(s string, backslash bool) string {
	for i := 0; i < len(s); {
		for i < len(s) && !isAlpha(s[i]) {
			i++
		}
		start := i
		quotes, tricks := 0, 0
		var w [24]byte
		n := 0
		for i < len(s) && n < len(w) {
			ch := s[i]
			switch {
			case isAlnum(ch):
				w[n] = ch | 0x20
				if isDigit(ch) {
					w[n] = ch
				}
				n++
				i++
				continue
			case (ch == '\'' || ch == '"' || ch == '`') && n > 0 && i+1 < len(s) && s[i+1] == ch:
				quotes += 2 // an empty string: ping``, wh""oami
				i += 2
				continue
			case (ch == '\'' || ch == '"' || ch == '`') && n > 0 && i+1 < len(s) && isAlpha(s[i+1]):
				quotes++
				i++
				continue
			case ch == '\\' && backslash && n > 0 && i+1 < len(s) && isAlpha(s[i+1]):
				tricks++
				i++
				continue
			case ch == '$' && n > 0 && i+1 < len(s) && (s[i+1] == '@' || s[i+1] == '*'):
				tricks++
				i += 2
				continue
			case ch == '$' && n > 0 && i+2 < len(s) && (s[i+1] == '(' && s[i+2] == ')' || s[i+1] == '{' && s[i+2] == '}'):
				tricks++
				i += 3
				continue
			}
			break
		}
		if (quotes >= 2 && quotes%2 == 0 || tricks > 0) && n > 1 && (start == 0 || !isWordByte(s[start-1])) {
			if tier, ok := commandWords[string(w[:n])]; ok && tier != subCmd || prefixCommands[string(w[:n])] {
				return s[start:i]
			}
		}
		for i < len(s) && (isAlnum(s[i]) || s[i] == '_') {
			i++
		}
		if i == start {
			i++
		}
	}
	return ""
}

// startWords are the first words commandLineStart looks further at: one
// map lookup for the common case of a value that starts with a plain word.
var startWords = func() map[string]bool {
	m := map[string]bool{}
	for _, set := range [...]map[string]bool{prefixCommands, reconCommands, attackCommands} {
		for w := range set {
			m[w] = true
		}
	}
	for w, tier := range commandWords {
		if tier != subCmd {
			m[w] = true
		}
	}
	for _, w := range [...]string{"net", "reg", "sc", "wmic"} {
		m[w] = true
	}
	return m
}()

// reconCommands are what a probe runs first; a value that is one of them
// (alone or with options) is a command line.
var reconCommands = map[string]bool{
	"whoami": true, "uname": true, "ifconfig": true, "ipconfig": true, "netstat": true,
	"systeminfo": true, "tasklist": true, "printenv": true, "lsb_release": true, "getuid": true,
	"sysinfo": true,
}

// attackCommands start a command line wherever they start a value with an
// argument: network tools, LOLBins and PowerShell execution.
var attackCommands = map[string]bool{
	"nc": true, "ncat": true, "netcat": true, "socat": true, "telnet": true, "certutil": true,
	"bitsadmin": true, "powershell": true, "pwsh": true, "mshta": true, "rundll32": true,
	"regsvr32": true, "wmic": true, "netsh": true, "cscript": true, "wscript": true, "nmap": true,
	"invoke-expression": true, "iex": true, "invoke-webrequest": true, "iwr": true,
	"start-process": true, "schtasks": true, "vssadmin": true, "wevtutil": true, "bcdedit": true,
	"msiexec": true, "nslookup": true, "traceroute": true, "tracert": true, "whoami": true,
	"uname": true, "netstat": true, "ifconfig": true, "ipconfig": true, "cmd": true, "chmod": true,
	"chown": true, "useradd": true, "crontab": true, "nohup": true, "mkfifo": true, "xxd": true,
	"base64": true, "wget": true, "curl": true, "tftp": true, "busybox": true, "printenv": true,
}

// lolbins are the Windows binaries attackers live off; no value starts
// with one by chance.
var lolbins = map[string]bool{
	"netsh": true, "wmic": true, "certutil": true, "bitsadmin": true, "schtasks": true, "vssadmin": true,
	"wevtutil": true, "bcdedit": true, "mshta": true, "rundll32": true, "regsvr32": true, "cscript": true,
	"wscript": true, "powershell": true, "pwsh": true, "invoke-expression": true, "iex": true,
	"start-process": true, "msiexec": true,
}

// sensitiveArg reports an argument list naming a file payloads aim for
// (/etc/passwd, win.ini, \WINNT\repair\SAM…).
func sensitiveArg(rest string) bool {
	var buf [256]byte
	b := buf[:0]
	rest = rest[:min(len(rest), 200)]
	for i := 0; i < len(rest); {
		for i < len(rest) && isSpace(rest[i]) {
			i++
		}
		e := i
		for e < len(rest) && !isSpace(rest[e]) {
			e++
		}
		tok := rest[i:e]
		i = e
		if k := strings.IndexByte(tok, '='); k >= 0 {
			tok = tok[k+1:] // dd if=/etc/passwd
		}
		if strings.ContainsAny(tok, "/\\") && sensitiveTarget(&b, tok, tok[0] == '/' || tok[0] == '\\' || len(tok) > 2 && tok[1] == ':') != "" {
			return true
		}
	}
	return false
}

// shellVarCommand finds a command run through a variable that names a
// shell: "$SHELL -c …", "${BASH} …", "%COMSPEC% /c …".
func shellVarCommand(s string, i int) string {
	for _, v := range [...]string{"$shell", "${shell}", "$bash", "${bash}", "%comspec%", "$0 "} {
		if hasFoldPrefix(s[i:], v) {
			e := i + len(v)
			if e >= len(s) || isSpace(s[e]) || s[e] == '+' || s[e] == ';' {
				return s[i:min(len(s), e+4)]
			}
		}
	}
	return ""
}

// globTargets are what wildcard paths in payloads stand for.
var globTargets = [...]string{
	"/etc/passwd", "/etc/shadow", "/etc/hosts", "/etc/group", "/etc/issue", "/bin/sh", "/bin/bash",
	"/bin/cat", "/bin/nc", "/bin/ls", "/bin/busybox", "/usr/bin/id", "/usr/bin/whoami", "/usr/bin/wget",
	"/usr/bin/curl", "/usr/bin/nc", "/usr/bin/python", "/usr/bin/perl", "/proc/self/environ",
}

// globTarget finds, among the words of s, a path with wildcards ('?',
// '*', "[…]") matching a sensitive file or a shell ("/et*/*wd",
// "/???/b??h", "/etc/pa[s]swd"). A segment that is only '*' ("/etc/*")
// is too broad to say what it stands for, and "/var/log/*.log" matches
// nothing of the kind.
func globTarget(s string) string {
	s = s[:min(len(s), 512)]
	for i := strings.IndexByte(s, '/'); i >= 0; {
		if i == 0 || strings.IndexByte(" +;|&'\"=", s[i-1]) >= 0 {
			e := i
			for e < len(s) && strings.IndexByte(" +;|&'\"=", s[e]) < 0 {
				e++
			}
			tok := s[i:e]
			if len(tok) >= 4 && len(tok) <= 64 && strings.ContainsAny(tok, "?*[") && strings.Count(tok, "*") <= 4 &&
				!strings.Contains(tok, "/*/") && !strings.HasSuffix(tok, "/*") && !strings.Contains(tok, "**") {
				for _, t := range globTargets {
					if shellGlobMatch(tok, t) {
						return tok
					}
				}
			}
		}
		n := strings.IndexByte(s[i+1:], '/')
		if n < 0 {
			break
		}
		i += 1 + n
	}
	return ""
}

// shellGlobMatch reports whether name matches the shell pattern p: '*'
// and '?' never match '/', "[…]" is a set of bytes. Patterns with more
// than four stars or longer than 64 bytes match nothing, which bounds the
// backtracking.
func shellGlobMatch(p, name string) bool {
	if len(p) > 64 || strings.Count(p, "*") > 4 {
		return false
	}
	return globFrom(p, name)
}

func globFrom(p, name string) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for j := 0; j <= len(name); j++ {
				if j > 0 && name[j-1] == '/' {
					return false
				}
				if globFrom(p[1:], name[j:]) {
					return true
				}
			}
			return false
		case '?':
			if name == "" || name[0] == '/' {
				return false
			}
		case '[':
			e := strings.IndexByte(p, ']')
			if e < 0 || name == "" || strings.IndexByte(p[1:e], name[0]) < 0 {
				return false
			}
			p, name = p[e+1:], name[1:]
			continue
		default:
			if name == "" || p[0] != name[0] {
				return false
			}
		}
		p, name = p[1:], name[1:]
	}
	return name == ""
}

// batchCompare reads "operand op operand" after IF at s[k:]: the batch
// comparison operators (EQU, NEQ, LSS, LEQ, GTR, GEQ) are batch only; "=="
// needs batch operands (%VAR%, [x], "x", (x)) or a batch command after
// it ("IF red==red echo test"), or the /I switch.
func batchCompare(s string, i, k int) string {
	if k >= len(s) {
		return ""
	}
	slashI := hasFoldPrefix(s[skipSpace(s, i+2):], "/i")
	e := k
	for e < len(s) && e-k < 80 && !isSpace(s[e]) && !(s[e] == '=' && e+1 < len(s) && s[e+1] == '=') {
		e++
	}
	a := s[k:e]
	o := skipSpace(s, e)
	for _, op := range [...]string{"equ", "neq", "lss", "leq", "gtr", "geq"} {
		if wordAt(s, o, op) && a != "" {
			return s[i:min(len(s), o+3)]
		}
	}
	if !hasFoldPrefix(s[o:], "==") || a == "" {
		return ""
	}
	b := skipSpace(s, o+2)
	be := b
	for be < len(s) && be-b < 80 && !isSpace(s[be]) {
		be++
	}
	batchOp := func(x string) bool {
		return strings.IndexByte(x, '%') >= 0 || len(x) >= 2 && (x[0] == '[' && x[len(x)-1] == ']' || x[0] == '"' && x[len(x)-1] == '"' || x[0] == '(' && x[len(x)-1] == ')')
	}
	if slashI || batchOp(a) || batchOp(s[b:be]) {
		return s[i:min(len(s), o+2)]
	}
	t := skipSpace(s, be)
	for _, c := range [...]string{"echo", "goto", "call", "set", "exit", "del", "copy", "start", "type"} {
		if wordAt(s, t, c) {
			return s[i:min(len(s), t+len(c))]
		}
	}
	return ""
}

// braceWord finds a word with a brace alternative inside that expands to
// a command: "c{a,oun}t" is "cat count" to bash.
func braceWord(s string) string {
	for i := strings.IndexByte(s, '{'); i > 0; {
		e := strings.IndexByte(s[i:], '}')
		if e < 0 {
			return ""
		}
		e += i
		b := i
		for b > 0 && isAlpha(s[b-1]) {
			b--
		}
		a := e + 1
		for a < len(s) && isAlpha(s[a]) {
			a++
		}
		alts := s[i+1 : e]
		if b < i && strings.IndexByte(alts, ',') >= 0 && len(alts) < 32 {
			var w [32]byte
			for _, alt := range strings.Split(alts, ",") {
				word := append(append(append(w[:0], s[b:i]...), alt...), s[e+1:a]...)
				word = lowerASCII(word[:0], string(word))
				if tier, ok := commandWords[string(word)]; ok && tier != subCmd {
					return s[b:a]
				}
			}
		}
		n := strings.IndexByte(s[e:], '{')
		if n < 0 {
			return ""
		}
		i = e + n
	}
	return ""
}

// timingArgs reports arguments of a timing probe: options, numbers and
// addresses only ("10", "-n 5 127.0.0.1"); "10 hours of rain.mp3" is a
// file name.
func timingArgs(rest string) bool {
	num := false
	for i := 0; i < len(rest); {
		for i < len(rest) && (rest[i] == ' ' || rest[i] == '+') {
			i++
		}
		e := i
		for e < len(rest) && rest[e] != ' ' && rest[e] != '+' {
			e++
		}
		f := rest[i:e]
		i = e
		switch {
		case f == "":
		case f[0] == '-' && len(f) <= 3:
		case isNumber(f):
			num = true
		case strings.Count(f, ".") == 3 && strings.Trim(f, "0123456789.") == "":
		default:
			return false
		}
	}
	return num
}

// ansiEscape skips a terminal escape sequence written out at s[i:]
// ("\033[2A", "\x1b[1;31m", "\e[K"), which payloads put before a command
// to hide it from a log viewer; it returns where the command starts.
func ansiEscape(s string, i int) int {
	for _, p := range [...]string{"\\033[", "\\x1b[", "\\e["} {
		if hasFoldPrefix(s[i:], p) {
			k := i + len(p)
			for k < len(s) && k-i < 16 && (isDigit(s[k]) || s[k] == ';') {
				k++
			}
			if k < len(s) && isAlpha(s[k]) {
				return k + 1
			}
		}
	}
	return i
}

// functionDef finds a shell function defined after a separator: "; test()
// { test | test & }", ":(){ :|:& };:". JavaScript methods follow '{' or
// ',' and functions the word "function", not a command separator.
func functionDef(s string, i int) string {
	k := skipSpace(s, i)
	e := k
	for e < len(s) && (isWordByte(s[e]) || s[e] == ':' || s[e] == '-') && e-k < 32 {
		e++
	}
	if e == k || !hasFoldPrefix(s[e:], "()") {
		return ""
	}
	if t := skipSpace(s, e+2); t < len(s) && s[t] == '{' {
		return s[k:min(len(s), t+1)]
	}
	return ""
}
