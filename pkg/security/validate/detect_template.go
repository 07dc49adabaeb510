package validate

import "strings"

// Server-side template injection.
//
// Template syntax alone is not an attack: "Hello {name}", "{{ user.name }}"
// and "${HOME}" are everyday text. An injection probes or reaches the
// runtime, so the detector finds template delimiters ({{ }}, ${ }, #{ },
// *{ }, <% %>, {% %}, [[ ]], @( )) and flags them only when the expression
// inside computes (7*7, 7*'7'), walks the object model (__class__,
// __globals__, constructor.constructor, getClass()), reaches a known
// dangerous global (config, self, request, lipsum, cycler, Runtime, T(…),
// freemarker's Execute) or is a Log4j lookup (${jndi:…}, ${env:…}).

func templateCandidate(m classes) bool {
	return m.has(cLBrace) || (m.has(cLT) && m.has(cPct)) || m.has(cBracket) || (m.has(cAt|cDollar) && m.has(cParen)) || m.has(cHash)
}

func (c *checker) template(k FieldKind, s string, m classes) {
	if !templateCandidate(m) {
		return
	}
	if rule, span := templateExpr(s); rule != "" {
		c.report(k, ThreatTemplateInjection, rule, span, false)
		return
	}
	if k != KindText && m.has(cPct) {
		d, rounds := c.dec.canonical(s, false)
		if rounds > 0 {
			if rule, _ := templateExpr(bstr(d)); rule != "" {
				c.report(k, ThreatTemplateInjection, rule, s, false)
			}
		}
	}
}

type delim struct{ open, close string }

var delims = [...]delim{
	{"{{", "}}"}, {"${", "}"}, {"#{", "}"}, {"*{", "}"}, {"@{", "}"}, {"<%", "%>"},
	{"{%", "%}"}, {"[[", "]]"}, {"@(", ")"}, {"{php}", "{/php}"},
}

// templateExpr returns the rule and span of the first dangerous template
// expression in s.
func templateExpr(s string) (string, string) {
	for _, d := range delims {
		from := 0
		for from < len(s) {
			i := strings.Index(s[from:], d.open)
			if i < 0 {
				break
			}
			i += from
			start := i + len(d.open)
			end := strings.Index(s[start:], d.close)
			var inner string
			if end < 0 {
				// unterminated: the application's template supplies the
				// close, look at what follows.
				inner = s[start:min(len(s), start+256)]
			} else {
				inner = s[start : start+end]
			}
			if len(inner) <= 2048 {
				if d.open == "${" || d.open == "{{" || d.open == "#{" {
					if lookupExpr(inner) {
						return "template.lookup", s[i:min(len(s), start+len(inner)+len(d.close))]
					}
				}
				if d.open == "{php}" {
					return "template.php", s[i:min(len(s), start+8)]
				}
				if rule := dangerousExpr(inner, d.open); rule != "" {
					return rule, s[i:min(len(s), start+len(inner)+len(d.close))]
				}
			}
			from = start
		}
	}
	// Freemarker and Velocity directives.
	for _, w := range [...]string{"<#assign", "freemarker.template.utility", "#set(", "#set (", "$class.inspect", "#foreach(", "<#import"} {
		if i := indexFold(s, w, 0); i >= 0 {
			if w == "#foreach(" || w == "#set(" || w == "#set (" {
				rest := s[i:min(len(s), i+256)]
				if dangerousExpr(rest, "#") == "" && !strings.Contains(rest, "$") {
					continue
				}
			}
			return "template.directive", s[i:min(len(s), i+len(w))]
		}
	}
	// Smarty: {system('id')}, {$smarty.version}
	if i := indexFold(s, "{$smarty", 0); i >= 0 {
		return "template.smarty", s[i:min(len(s), i+8)]
	}
	return "", ""
}

// lookupExpr reports a Log4j-style lookup: ${jndi:…}, ${env:…},
// ${${lower:j}ndi:…}, ${::-j}.
func lookupExpr(inner string) bool {
	t := strings.TrimLeft(inner, " ")
	for _, p := range [...]string{"jndi:", "env:", "sys:", "java:", "lower:", "upper:", "::-", "ctx:", "main:", "bundle:", "date:", "base64:", "docker:", "k8s:", "spring:", "web:", "log4j:", "${"} {
		if hasFoldPrefix(t, p) {
			return true
		}
	}
	return containsFold(inner, "jndi")
}

// dangerousExpr classifies the inside of a template delimiter.
func dangerousExpr(e, open string) string {
	// ERB and EJS output markers: <%= expr %>, <%- expr %>, {{= expr}}.
	e = strings.TrimLeft(e, " =-")
	if len(strings.TrimSpace(e)) == 0 {
		return ""
	}
	if open == "<%" || open == "#{" {
		// Ruby: backticks and %x() run a shell command.
		if strings.Contains(e, "`") || strings.Contains(e, "%x(") {
			return "template.code_exec"
		}
		for _, w := range [...]string{"file.open", "file.read", "io.popen", "dir.entries", "dir.glob", "kernel.", "open3", "instance_eval", "send("} {
			if containsFold(e, w) {
				return "template.code_exec"
			}
		}
	}
	if arithmeticProbe(e) {
		return "template.arithmetic"
	}
	if strings.Contains(e, "__") {
		for _, w := range [...]string{"__class__", "__mro__", "__subclasses__", "__globals__", "__builtins__", "__init__", "__import__", "__base__", "__bases__", "__dict__", "__getattribute__", "__proto__", "__reduce__"} {
			if strings.Contains(e, w) {
				return "template.object_walk"
			}
		}
	}
	for _, w := range [...]string{"getruntime", "processbuilder", "getclass", "forname", "classloader", "constructor.constructor", "child_process", "popen", "subprocess", ".exec(", "exec(", "eval(", "system(", "passthru(", "shell_exec", "os.system", "require(", "process.mainmodule", "process.binding", "freemarker.template", "?new(", "t(java", "new java.", "java.lang", "invoke(", "getmethod", "@java.lang", "import os", "__import__", "file_get_contents", "readfile(", "include(", "/etc/passwd", "settings.secret", "globals()", "dict.items", "getattr(", "|attr(", "self._templatereference", "constructor("} {
		if containsFold(e, w) {
			return "template.code_exec"
		}
	}
	// Jinja2/Twig globals that expose the application.
	t := strings.TrimSpace(e)
	for _, w := range [...]string{"config", "self", "request", "settings", "lipsum", "cycler", "joiner", "namespace", "url_for", "get_flashed_messages", "application", "_self", "app.request", "range.constructor", "this.constructor", "constructor"} {
		if wordAt(t, 0, w) {
			rest := t[len(w):]
			if rest == "" || rest[0] == '.' || rest[0] == '[' || rest[0] == '|' || rest[0] == '(' || rest[0] == ' ' {
				return "template.global"
			}
		}
	}
	if open == "{{" || open == "{%" {
		// Twig filters that run code: {{['id']|filter('system')}}
		for _, w := range [...]string{"|filter(", "|map(", "|reduce(", "|sort(", "registerundefinedfiltercallback", "getfilter("} {
			if containsFold(e, w) {
				return "template.code_exec"
			}
		}
	}
	return ""
}

// arithmeticProbe matches the classic probes: a number, an arithmetic
// operator and a number or a quoted number (7*7, 7*'7', 1337+1, 49/7),
// making up the whole expression.
func arithmeticProbe(e string) bool {
	t := strings.TrimSpace(e)
	i := 0
	for i < len(t) && isDigit(t[i]) {
		i++
	}
	if i == 0 || i > 12 {
		return false
	}
	j := skipSpace(t, i)
	if j >= len(t) || !strings.ContainsRune("*+-/%", rune(t[j])) {
		return false
	}
	j = skipSpace(t, j+1)
	if j < len(t) && (t[j] == '\'' || t[j] == '"') {
		j++
	}
	k := j
	for k < len(t) && isDigit(t[k]) {
		k++
	}
	if k == j {
		return false
	}
	if k < len(t) && (t[k] == '\'' || t[k] == '"') {
		k++
	}
	return skipSpace(t, k) == len(t)
}
