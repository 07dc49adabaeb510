package validate

import "strings"

// More SQL injection shapes for fragment fields, run after sqlObfuscation:
//
//   - a hex literal whose bytes (ASCII or UTF-16LE) spell a statement:
//     "0x77616974666f722064656c6179…" (waitfor delay …), MSSQL's
//     "0x730065006c00…" (select …) handed to EXEC.
//   - a fragment that starts with a WHERE clause (optionally after an
//     alias, "AS x WHERE") comparing literals: " WHERE 1=1 AND 1=0--".
//   - a number glued to OR/AND and a tautology: "1or1=1".
//   - an operand compared with itself by LIKE, RLIKE, REGEXP or GLOB:
//     "42 like 42", "' and password glob password;".
//   - an unclosed conditional call comparing a number: "if(1234=".
//   - a comment closed before a comparison: "password:*/=1--".
//   - a bare credential column cast to a type: "password::int".
//   - a run of character-code calls: "chr(122).chr(97).chr(112)".
//   - a fragment that starts with CASE WHEN … THEN and never ENDs.
//   - DDL that starts the value: "ALTER TABLE `t` CHANGE …", "/CREATE
//     TABLE Persons".
//   - a bare dangerous system procedure: "sp_executesql".
//   - a bare verb opening a call: "insert(", "exec(".
//   - a chain of literal comparisons: "'{…}' < '$.c[2].f' = 7".
//   - a statement separator that only ends the query: "; --", "';#".
//   - a fragment that starts with LIKE and a wildcard: " like '%'".
//   - a leading OR/AND comparing a function call with a literal:
//     "OR json_extract('{…}', '$.name') = 'Aztalan'".
//   - quotes doubled to slip past an escaper: ` or ""a""=""a"`.

func sqlShapes(s string, m classes) (string, string) {
	if m.has(cDigit) && m.has(cLetter) && len(s) >= 18 {
		if span := hexStatement(s); span != "" {
			return "sqli.hex_encoded", span
		}
	}
	if m.has(cLetter) && m.has(cEq) {
		if span := leadingWhere(s); span != "" {
			return "sqli.boolean_probe", span
		}
		if span := gluedLogic(s); span != "" {
			return "sqli.tautology", span
		}
	}
	if m.has(cLetter) {
		if span := selfMatch(s); span != "" {
			return "sqli.tautology", span
		}
		if span := leadingCase(s); span != "" {
			return "sqli.boolean_probe", span
		}
		if span := leadingDDL(s); span != "" {
			return "sqli.statement", span
		}
		if span := bareProcedure(s); span != "" {
			return "sqli.statement", span
		}
	}
	if m.has(cParen) && m.has(cDigit) {
		if span := openConditional(s); span != "" {
			return "sqli.function_probe", span
		}
	}
	if m.has(cParen) && len(s) <= 16 {
		if span := bareOpenVerb(s); span != "" {
			return "sqli.function_probe", span
		}
	}
	if m.has(cQuote) && m.has(cEq) {
		if span := literalChain(s); span != "" {
			return "sqli.tautology", span
		}
	}
	if m.has(cSemi) && (m.has(cDash) || m.has(cHash)) {
		if span := separatorComment(s); span != "" {
			return "sqli.comment_truncation", span
		}
	}
	if m.has(cQuote) && m.has(cPct) {
		if span := leadingLike(s); span != "" {
			return "sqli.tautology", span
		}
	}
	if m.has(cParen) && m.has(cEq) {
		if span := logicCallCompare(s); span != "" {
			return "sqli.boolean_probe", span
		}
	}
	if m.has(cStar) && m.has(cSlash) && m.has(cEq) {
		if span := commentThenCompare(s); span != "" {
			return "sqli.comment_truncation", span
		}
	}
	if m.has(cColon) {
		if span := bareCast(s); span != "" {
			return "sqli.cast", span
		}
	}
	if m.has(cParen) && m.has(cDigit) {
		if span := charCodeRun(s); span != "" {
			return "sqli.char_encoding", span
		}
	}
	if m.has(cQuote) && len(s) <= 512 && (strings.Contains(s, `""`) || strings.Contains(s, "''")) {
		var buf [512]byte
		b := buf[:0]
		for i := 0; i < len(s); i++ {
			if (s[i] == '"' || s[i] == '\'') && i+1 < len(s) && s[i+1] == s[i] {
				i++
			}
			b = append(b, s[i])
		}
		t := bstr(b)
		if rule, _ := strongSQL(t, false); rule != "" {
			return rule + "_folded", s
		}
		if span := leadingLogic(t); span != "" {
			return "sqli.boolean_probe_folded", s
		}
	}
	return "", ""
}

var hexStatementWords = [...]string{"select", "waitfor", "exec", "declare", "union", "insert", "update", "delete", "drop", "create", "shutdown"}

// hexStatement decodes a long hex literal and reports it when the text it
// spells starts with a statement verb followed by a space.
func hexStatement(s string) string {
	for i := 0; i+2 < len(s); i++ {
		n := strings.IndexByte(s[i:len(s)-2], '0')
		if n < 0 {
			return ""
		}
		i += n
		if s[i+1]|0x20 != 'x' || i > 0 && isWordByte(s[i-1]) {
			continue
		}
		e := i + 2
		for e < len(s) && isHexDigit(s[e]) {
			e++
		}
		if e-i-2 < 16 {
			continue
		}
		var buf [24]byte
		b := buf[:0]
		for k := i + 2; k+1 < e && len(b) < len(buf); k += 2 {
			c := hexVal(s[k])<<4 | hexVal(s[k+1])
			if c == 0 {
				continue // UTF-16LE
			}
			b = append(b, c)
		}
		t := bstr(b)
		for _, w := range hexStatementWords {
			if hasFoldPrefix(t, w) && len(t) > len(w) && t[len(w)] == ' ' {
				return s[i:e]
			}
		}
		i = e
	}
	return ""
}

func isHexDigit(c byte) bool { return isDigit(c) || c|0x20 >= 'a' && c|0x20 <= 'f' }

func hexVal(c byte) byte {
	if isDigit(c) {
		return c - '0'
	}
	return c | 0x20 - 'a' + 10
}

// literalCompare reads "literal op literal" at s[i:] and returns its end.
func literalCompare(s string, i int) (int, bool) {
	_, k, ok := sqlLiteral(s, i)
	if !ok || k == i {
		return i, false
	}
	k = skipSpace(s, k)
	n := compareOpLen(s, k)
	if n == 0 {
		return i, false
	}
	_, e, ok := sqlLiteral(s, skipSpace(s, k+n))
	return e, ok
}

// compareOpLen is the length of the comparison operator at s[k] (!=, <>,
// >=, <=, =, <, >), 0 when there is none.
func compareOpLen(s string, k int) int {
	switch {
	case k+1 < len(s) && (s[k:k+2] == "!=" || s[k:k+2] == "<>" || s[k:k+2] == ">=" || s[k:k+2] == "<="):
		return 2
	case k < len(s) && (s[k] == '=' || s[k] == '<' || s[k] == '>'):
		return 1
	}
	return 0
}

// leadingWhere finds a value that starts with WHERE (or "AS name WHERE")
// and compares two literals: " WHERE 1=1 AND 1=0--".
func leadingWhere(s string) string {
	i := skipSpace(s, 0)
	if wordAt(s, i, "as") {
		k := skipSpace(s, i+2)
		e := k
		for e < len(s) && isWordByte(s[e]) {
			e++
		}
		if e == k {
			return ""
		}
		i = skipSpace(s, e)
	}
	if !wordAt(s, i, "where") {
		return ""
	}
	if e, ok := literalCompare(s, skipSpace(s, i+5)); ok {
		return s[i:e]
	}
	return ""
}

// gluedLogic finds a number glued to OR/AND glued to an equality of two
// equal literals: "1or1=1", "1and2=2".
func gluedLogic(s string) string {
	for _, w := range [...]string{"or", "and"} {
		for from := 0; ; {
			i := indexFold(s, w, from)
			if i < 0 {
				break
			}
			from = i + 1
			j := i + len(w)
			if i == 0 || !isDigit(s[i-1]) || j >= len(s) || !isDigit(s[j]) {
				continue
			}
			a, k, ok := sqlLiteral(s, j)
			if !ok || k >= len(s) || s[k] != '=' {
				continue
			}
			if b, e, ok := sqlLiteral(s, k+1); ok && a == b {
				return s[i-1 : e]
			}
		}
	}
	return ""
}

// selfMatch finds an operand matched against itself with LIKE, RLIKE,
// REGEXP or GLOB: a number ("42 like 42"), or a name after AND/OR ("and
// password glob password").
func selfMatch(s string) string {
	for _, w := range [...]string{"like", "rlike", "regexp", "glob"} {
		for from := 0; ; {
			i := indexWordFold(s, w, from)
			if i < 0 {
				break
			}
			from = i + 1
			a := i
			for a > 0 && s[a-1] == ' ' {
				a--
			}
			b := a
			for b > 0 && isWordByte(s[b-1]) {
				b--
			}
			if b == a {
				continue
			}
			k := skipSpace(s, i+len(w))
			e := k
			for e < len(s) && isWordByte(s[e]) {
				e++
			}
			if !strings.EqualFold(s[b:a], s[k:e]) {
				continue
			}
			if isNumber(s[b:a]) {
				return s[b:e]
			}
			p := b
			for p > 0 && s[p-1] == ' ' {
				p--
			}
			q := p
			for q > 0 && isWordByte(s[q-1]) {
				q--
			}
			if p < b && (eqFold(s[q:p], "and") || eqFold(s[q:p], "or")) {
				return s[q:e]
			}
		}
	}
	return ""
}

// openConditional finds an unclosed IF/IIF call comparing a number:
// "if(1234=".
func openConditional(s string) string {
	if strings.IndexByte(s, ')') >= 0 {
		return ""
	}
	for _, w := range [...]string{"if", "iif"} {
		i := indexWordFold(s, w, 0)
		if i < 0 {
			continue
		}
		k := skipSpace(s, i+len(w))
		if k >= len(s) || s[k] != '(' {
			continue
		}
		k = skipSpace(s, k+1)
		_, e, ok := sqlLiteral(s, k)
		if !ok || e == k {
			continue
		}
		e = skipSpace(s, e)
		if e < len(s) && (s[e] == '=' || s[e] == '<' || s[e] == '>' || s[e] == '!') {
			return s[i : e+1]
		}
	}
	return ""
}

// commentThenCompare finds a comment closed right before a comparison
// with a literal: "password:*/=1--".
func commentThenCompare(s string) string {
	for from := 0; ; {
		i := strings.Index(s[from:], "*/")
		if i < 0 {
			return ""
		}
		i += from
		from = i + 2
		k := skipSpace(s, i+2)
		if k < len(s) && (s[k] == '=' || s[k] == '<' || s[k] == '>') {
			if _, e, ok := sqlLiteral(s, skipSpace(s, k+1)); ok {
				t := skipSpace(s, e)
				if t >= len(s) || strings.HasPrefix(s[t:], "--") || s[t] == '#' || s[t] == ';' {
					return s[i:e]
				}
			}
		}
	}
}

// bareCast finds a value that is one credential or catalogue column cast
// to a type: "password::int".
func bareCast(s string) string {
	i := strings.Index(s, "::")
	if i <= 0 || strings.Count(s, "::") != 1 {
		return ""
	}
	// an error-based probe casts a secret or catalogue column so that the
	// error message shows its value; "a::int" is only a type annotation
	named := false
	for _, w := range [...]string{"password", "passwd", "pass", "pwd", "username", "user", "usename", "email", "secret", "token",
		"table_name", "column_name", "schema_name", "current_database", "current_user", "session_user"} {
		named = named || eqFold(s[:i], w)
	}
	if !named {
		return ""
	}
	for _, w := range [...]string{"int", "integer", "int4", "int8", "bigint", "text", "varchar", "numeric", "bytea", "regclass", "bool", "boolean"} {
		if eqFold(s[i+2:], w) {
			return s
		}
	}
	return ""
}

// charCodeRun finds three or more CHR()/CHAR() calls on numbers joined by
// concatenation: "chr(122).chr(97).chr(112)", "CHAR(83)+CHAR(69)+CHAR(76)".
func charCodeRun(s string) string {
	n, start, end := 0, -1, 0
	for i := 0; i < len(s); i++ {
		p := indexFold(s, "ch", i)
		if p < 0 {
			return ""
		}
		i = p
		w := 0
		if wordAt(s, i, "chr") {
			w = 3
		} else if wordAt(s, i, "char") {
			w = 4
		}
		if w == 0 || i+w >= len(s) || s[i+w] != '(' {
			continue
		}
		k := i + w + 1
		d := k
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		if k == d || k >= len(s) || s[k] != ')' {
			continue
		}
		if n > 0 {
			gap := strings.TrimSpace(s[end:i])
			if gap != "." && gap != "||" && gap != "+" && gap != "," {
				n, start = 0, -1
			}
		}
		if n == 0 {
			start = i
		}
		n++
		end = k + 1
		if n >= 3 {
			return s[start:end]
		}
		i = k
	}
	return ""
}

// leadingCase finds a value that starts with CASE WHEN and has THEN but
// no END.
func leadingCase(s string) string {
	i := skipSpace(s, 0)
	if !wordAt(s, i, "case") {
		return ""
	}
	k := skipSpace(s, i+4)
	if !wordAt(s, k, "when") {
		return ""
	}
	// a whole CASE … END is an expression ("ORDER BY CASE WHEN … END");
	// the probe leaves it open
	if t := indexWordFold(s, "then", k+4); t > 0 && !strings.ContainsAny(s, ",.!?") && indexWordFold(s, "end", t) < 0 {
		return s[i : t+4]
	}
	return ""
}

var ddlActions = [...]string{"add", "change", "modify", "drop", "rename", "alter"}

// leadingDDL finds "ALTER TABLE name ACTION" at the start of the value,
// or CREATE/DROP/ALTER TABLE name after break-out punctuation.
func leadingDDL(s string) string {
	i := skipSpace(s, 0)
	if i < len(s) && strings.IndexByte("/;'\")", s[i]) >= 0 {
		// "/CREATE TABLE Persons": a statement after break-out punctuation
		k := skipSpace(s, i+1)
		for _, v := range [...]string{"create", "drop", "alter"} {
			if !wordAt(s, k, v) {
				continue
			}
			t := skipSpace(s, k+len(v))
			if !wordAt(s, t, "table") {
				continue
			}
			t = skipSpace(s, t+5)
			e := t
			for e < len(s) && (isWordByte(s[e]) || s[e] == '.' || s[e] == '`') {
				e++
			}
			if n := skipSpace(s, e); e > t && (n >= len(s) || s[n] == '(' || s[n] == ';') {
				return s[i:e]
			}
		}
		return ""
	}
	if !wordAt(s, i, "alter") {
		return ""
	}
	k := skipSpace(s, i+5)
	if !wordAt(s, k, "table") {
		return ""
	}
	k = skipSpace(s, k+5)
	e := k
	if e < len(s) && s[e] == '`' {
		if n := strings.IndexByte(s[e+1:], '`'); n >= 0 {
			e += n + 2
		}
	} else {
		for e < len(s) && (isWordByte(s[e]) || s[e] == '.') {
			e++
		}
	}
	if e == k {
		return ""
	}
	t := skipSpace(s, e)
	for _, a := range ddlActions {
		if wordAt(s, t, a) {
			return s[i : t+len(a)]
		}
	}
	return ""
}

// bareProcedure finds a value that is only the name of a system procedure
// that runs dynamic SQL or commands.
func bareProcedure(s string) string {
	t := strings.TrimSpace(s)
	if len(t) < 10 || len(t) > 14 || t[2] != '_' {
		return ""
	}
	for _, w := range [...]string{"sp_executesql", "xp_cmdshell", "sp_oacreate", "sp_oamethod", "sp_makewebtask", "xp_regread", "xp_dirtree", "sp_configure", "xp_fileexist"} {
		if eqFold(t, w) {
			return t
		}
	}
	return ""
}

// bareOpenVerb finds a value that is only a statement verb or INSERT()
// with an opening parenthesis: "insert(", "exec(".
func bareOpenVerb(s string) string {
	t := strings.TrimSpace(s)
	if !strings.HasSuffix(t, "(") {
		return ""
	}
	v := strings.TrimSpace(t[:len(t)-1])
	for _, w := range [...]string{"insert", "exec", "execute", "waitfor", "declare", "union", "select", "max", "min", "avg"} {
		if eqFold(v, w) {
			return t
		}
	}
	return ""
}

// literalChain finds a value that starts with a quoted literal and chains
// two comparisons of literals: "'{\"a\":2}' < '$.c[2].f' = 7".
func literalChain(s string) string {
	i := skipSpace(s, 0)
	if i >= len(s) || s[i] != '\'' && s[i] != '"' {
		return ""
	}
	e, ok := literalCompare(s, i)
	if !ok {
		return ""
	}
	// the second literal starts the next comparison
	k := skipSpace(s, e)
	n := compareOpLen(s, k)
	if n == 0 {
		return ""
	}
	if _, e2, ok := sqlLiteral(s, skipSpace(s, k+n)); ok && skipSpace(s, e2) >= len(s) {
		return s[i:e2]
	}
	return ""
}

// separatorComment finds a value that is a statement separator (after at
// most a quote or parenthesis) followed by a comment and nothing else:
// "; --", "');#".
func separatorComment(s string) string {
	i := skipSpace(s, 0)
	for i < len(s) && (s[i] == '\'' || s[i] == '"' || s[i] == ')') {
		i++
	}
	if i >= len(s) || s[i] != ';' {
		return ""
	}
	k := skipSpace(s, i+1)
	if strings.HasPrefix(s[k:], "--") || k < len(s) && s[k] == '#' {
		if e := k + strings.IndexAny(s[k:]+"\n", "\n"); skipSpace(s, e) >= len(s) {
			return s[i:e]
		}
	}
	return ""
}

// leadingLike finds a value that starts with [NOT] LIKE and a quoted
// pattern with a wildcard, and ends there: " like '%'".
func leadingLike(s string) string {
	i := skipSpace(s, 0)
	k := i
	if wordAt(s, k, "not") {
		k = skipSpace(s, k+3)
	}
	if !wordAt(s, k, "like") {
		return ""
	}
	k = skipSpace(s, k+4)
	lit, e, ok := sqlLiteral(s, k)
	if !ok || e == k || strings.IndexByte(lit, '%') < 0 {
		return ""
	}
	if t := skipSpace(s, e); t >= len(s) || strings.HasPrefix(s[t:], "--") || s[t] == '#' {
		return s[i:e]
	}
	return ""
}

// logicCallCompare finds a value that starts with OR/AND and compares a
// function call with a literal: "OR json_extract(x, '$.a') = 'b'".
func logicCallCompare(s string) string {
	i := skipSpace(s, 0)
	w := 0
	if wordAt(s, i, "or") {
		w = 2
	} else if wordAt(s, i, "and") {
		w = 3
	}
	if w == 0 {
		return ""
	}
	k := skipSpace(s, i+w)
	e := k
	for e < len(s) && isWordByte(s[e]) {
		e++
	}
	if e == k || e >= len(s) || s[e] != '(' {
		return ""
	}
	// the matching parenthesis, skipping quoted strings
	depth := 0
	for ; e < len(s); e++ {
		switch s[e] {
		case '\'', '"':
			n := strings.IndexByte(s[e+1:], s[e])
			if n < 0 {
				return ""
			}
			e += n + 1
		case '(':
			depth++
		case ')':
			depth--
		}
		if depth == 0 {
			break
		}
	}
	if e >= len(s) {
		return ""
	}
	t := skipSpace(s, e+1)
	n := compareOpLen(s, t)
	if n == 0 {
		return ""
	}
	if _, e2, ok := sqlLiteral(s, skipSpace(s, t+n)); ok && e2 > skipSpace(s, t+n) {
		return s[i:e2]
	}
	return ""
}
