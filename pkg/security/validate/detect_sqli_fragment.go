package validate

import "strings"

// SQL injection shapes that libinjection's fingerprint list does not hold.
//
// libinjection knows the fingerprints of the payloads it was tuned on; the
// public collections (and the OWASP CRS regression tests) hold many more
// that a database still executes. The rules here recognise them by how a
// fragment meets the query an application builds around it, and run only
// where a value should not be SQL at all (fragment fields: unknown,
// structured, query fragments, URL query values):
//
//   - a quote break-out: the value's first quote closes the application's
//     literal and an operator or SQL word follows ("'or(id glob 1)--",
//     "x'|email--", "'xor 7<", "' is not?--", "';@@#--").
//   - a comment that starts the value ("-- -", " -- &password="): the rest
//     of the application's query is cut off.
//   - an ORDER BY / GROUP BY column-count probe (" ORDER BY 29-- ").
//   - a whole statement where a value belongs ("select
//     current_setting('config_file');", "insert into users(…) values(…)").
//   - literal <=> literal, MySQL's null-safe tautology ("42<=>42").
//
// Catalogue and function probes (information_schema, pg_catalog,
// current_setting(…), exec(@s)) are in strongSQL's word switch.

// sqlFragment returns the rule and span of the first shape above in s.
func sqlFragment(s string, m classes) (string, string) {
	if m.has(cQuote | cBacktick) {
		if span := quoteBreakout(s); span != "" {
			return "sqli.quote_breakout", span
		}
	}
	if m.has(cDash) {
		if span := leadingComment(s); span != "" {
			return "sqli.comment_truncation", span
		}
	}
	if m.has(cLetter) && m.has(cDigit) {
		if span := orderByProbe(s); span != "" {
			return "sqli.order_probe", span
		}
	}
	if m.has(cLetter) {
		if span := fragmentStatement(s); span != "" {
			return "sqli.statement", span
		}
	}
	if m.has(cLetter) {
		if span := leadingLogic(s); span != "" {
			return "sqli.boolean_probe", span
		}
	}
	if m.has(cParen) {
		if span := parenBreakout(s); span != "" {
			return "sqli.paren_breakout", span
		}
	}
	if m.has(cQuote) {
		if span := literalComparison(s); span != "" {
			return "sqli.tautology", span
		}
	}
	if m.has(cParen) && m.has(cLetter) && len(s) <= 64 {
		if span := openSQLCall(s); span != "" {
			return "sqli.function_probe", span
		}
	}
	if m.has(cColon) {
		if span := pgCast(s); span != "" {
			return "sqli.cast", span
		}
	}
	if m.has(cLT) && m.has(cEq) && m.has(cGT) {
		if i := strings.Index(s, "<=>"); i >= 0 {
			a := i
			for a > 0 && s[a-1] == ' ' {
				a--
			}
			b := a
			for b > 0 && (isWordByte(s[b-1]) || s[b-1] == '\'' || s[b-1] == '"') {
				b--
			}
			if _, _, ok := sqlLiteral(s[b:a], 0); ok && b < a {
				if _, _, ok := sqlLiteral(s, skipSpace(s, i+3)); ok {
					return "sqli.tautology", s[b:min(len(s), i+3)]
				}
			}
		}
	}
	return sqlObfuscation(s, m)
}

// breakoutWords follow a break-out quote in injections: logic and
// comparison operators, clauses and statement verbs.
var breakoutWords = map[string]bool{
	"or": true, "and": true, "xor": true, "not": true, "is": true, "like": true, "rlike": true,
	"regexp": true, "glob": true, "sounds": true, "div": true, "mod": true, "between": true,
	"union": true, "having": true, "where": true, "limit": true, "procedure": true, "into": true,
	"select": true, "insert": true, "update": true, "delete": true, "drop": true, "create": true,
	"alter": true, "exec": true, "execute": true, "waitfor": true, "declare": true, "collate": true,
	"truncate": true, "shutdown": true, "in": true, "order": true, "group": true, "if": true,
	"notnull": true, "isnull": true, "except": true, "intersect": true,
}

// quoteBreakout finds the first quote of a kind that starts the value or is
// glued to the word before it ("admin'"), followed by an operator or a SQL
// word. English apostrophes are followed by a letter ("O'Brien", "it's");
// a plural possessive ("parents' or guardians'") needs more SQL after it
// to count; a value that is one quoted string ("'-'", "\"+1 555\"") is a
// literal.
func quoteBreakout(s string) string {
	for _, q := range [...]byte{'\'', '"', '`'} {
		i := strings.IndexByte(s, q)
		if i < 0 {
			continue
		}
		atStart := skipSpace(s, 0) == i
		glued := i > 0 && (isWordByte(s[i-1]) || s[i-1] == '\\' || s[i-1] == ')')
		if !atStart && !glued {
			continue
		}
		closeAt := strings.IndexByte(s[i+1:], q)
		if atStart && closeAt >= 0 && strings.TrimSpace(s[i+2+closeAt:]) == "" && !closesParen(s[i+1:i+1+closeAt]) {
			// one quoted string ("'-'", "\"+1 555\""), unless it closes
			// the application's parenthesis ("` < 0) AND `")
			continue
		}
		j := i + 1
		for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == ')') {
			j++
		}
		if j >= len(s) {
			continue
		}
		unclosed := strings.Count(s, string(q))%2 == 1
		if breakoutOperator(s, j, q) {
			return s[i:min(len(s), j+4)]
		}
		if !isAlpha(s[j]) {
			continue
		}
		e := j
		for e < len(s) && isAlpha(s[e]) {
			e++
		}
		var buf [12]byte
		if e-j > len(buf) || !breakoutWords[string(lowerASCII(buf[:0], s[j:e]))] {
			continue
		}
		if e < len(s) && (isWordByte(s[e]) || s[e] == q) {
			continue // "'orange", "'or'"
		}
		w := s[j:e]
		if (eqFold(w, "order") || eqFold(w, "group")) && !wordAt(s, skipSpace(s, e), "by") {
			continue
		}
		k := skipSpace(s, e)
		operand := k >= len(s) || !isAlpha(s[k])
		if operand || (atStart && unclosed) || sqlPunctuation(s[e:]) {
			return s[i:min(len(s), e)]
		}
	}
	return ""
}

// breakoutOperator reports an operator at s[j] that continues SQL after a
// break-out quote: "'|", "'||", "'&&", "'<", "'=", "';" before SQL, "'--",
// "'#", "'/*", "'::", "'?|", "'@@". An operator that is itself quoted
// ("'='", "'*'") is a literal.
func breakoutOperator(s string, j int, q byte) bool {
	c := s[j]
	next := byte(0)
	if j+1 < len(s) {
		next = s[j+1]
	}
	after := j + 1
	for after < len(s) && strings.IndexByte("|&<>=!^*~", s[after]) >= 0 {
		after++
	}
	if after < len(s) && s[after] == q {
		return false
	}
	switch c {
	case '|', '&', '^', '<', '>', '=', '~':
		return true
	case '!':
		return next == '=' || next == '!'
	case '*':
		return next == ' ' || isDigit(next) || next == '(' || concatThenComment(s, j+1)
	case '%':
		return concatThenComment(s, j+1)
	case '-':
		return next == '-' || concatThenComment(s, j+1)
	case '/':
		return next == '*' || concatThenComment(s, j+1)
	case '+':
		// "x'+email--": the application's literal joined to a column,
		// the rest of its query cut off
		return concatThenComment(s, j+1)
	case '#':
		return next == 0 || next == ' ' || next == '-'
	case ':':
		return next == ':'
	case ',':
		// "', 2, 1": more values in an INSERT or IN list
		k := skipSpace(s, j+1)
		return k < len(s) && (isDigit(s[k]) || wordAt(s, k, "null") || wordAt(s, k, "select") || s[k] == '(' || s[k] == '@')
	case '?':
		return next == '|' || next == '&' || next == ' '
	case '@':
		return next == '@'
	case ';':
		k := skipSpace(s, j+1)
		if k >= len(s) || s[k] == '@' || s[k] == '#' || hasFoldPrefix(s[k:], "--") {
			return true
		}
		e := k
		for e < len(s) && isAlpha(s[e]) {
			e++
		}
		var buf [10]byte
		if e-k > 0 && e-k <= len(buf) {
			w := string(lowerASCII(buf[:0], s[k:e]))
			return statementVerbs[w] || w == "waitfor" || w == "exec" || w == "shutdown"
		}
	}
	return false
}

// concatThenComment reports a name right at s[k] followed by a comment
// that ends the value: "email--", "email#", "email -- -".
func concatThenComment(s string, k int) bool {
	e := k
	for e < len(s) && isWordByte(s[e]) {
		e++
	}
	if e == k || !isAlpha(s[k]) {
		return false
	}
	t := skipSpace(s, e)
	switch {
	case hasFoldPrefix(s[t:], "--"):
		return strings.TrimLeft(s[t+2:], " -") == ""
	case t < len(s) && s[t] == '#':
		return strings.TrimSpace(s[t+1:]) == ""
	}
	return false
}

// sqlPunctuation reports what SQL has and prose does not: a comment, a
// statement separator, a comparison or a function call.
func sqlPunctuation(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ';', '=', '<', '>', '#':
			return true
		case '-':
			if i+1 < len(s) && s[i+1] == '-' {
				return true
			}
		case '/':
			if i+1 < len(s) && s[i+1] == '*' {
				return true
			}
		case '(':
			if i > 0 && isWordByte(s[i-1]) || i > 1 && s[i-1] == ' ' && isWordByte(s[i-2]) {
				return true
			}
		}
	}
	return false
}

// leadingComment finds a value that starts with a SQL comment: "-- -",
// " -- &password=", "-- or # ". An option ("--verbose") or the end of
// options before an argument ("-- file.txt") is not one.
func leadingComment(s string) string {
	i := skipSpace(s, 0)
	if !hasFoldPrefix(s[i:], "--") {
		return ""
	}
	k := i + 2
	if k < len(s) && s[k] != ' ' && s[k] != '\t' {
		return ""
	}
	rest := strings.TrimLeft(s[k:], " \t")
	if rest == "" {
		return s[i:k]
	}
	switch rest[0] {
	case '-', '+', '&', '#', '\'', '"', ';', ')':
		return s[i:min(len(s), k+2)]
	}
	for _, w := range [...]string{"or", "and", "union", "select", "if", "exec", "waitfor", "drop"} {
		// "-- or # ", not "-- and then what?"
		if wordAt(rest, 0, w) && (sqlPunctuation(rest[len(w):]) || strings.ContainsAny(rest[len(w):], "0123456789'\"")) {
			return s[i:min(len(s), k+1+len(w))]
		}
	}
	return ""
}

// orderByProbe finds "ORDER BY <n>" or "GROUP BY <n>" that starts the
// fragment (after spaces, a quote, a closing parenthesis or a number) and
// ends it or meets a comment: the column-count probe of UNION-based
// injection.
func orderByProbe(s string) string {
	if i := indexWordFold(s, "having", 0); i >= 0 && strings.TrimLeft(s[:i], " +)'\"0123456789") == "" {
		// " HAVING 1=0-- ": the probe that makes an error name a column
		if _, k, ok := sqlLiteral(s, skipSQLSpace(s, i+6)); ok {
			if k = skipSpace(s, k); k < len(s) && (s[k] == '=' || s[k] == '<' || s[k] == '>') {
				return s[i:min(len(s), k+1)]
			}
		}
	}
	for _, w := range [...]string{"order", "group"} {
		i := indexWordFold(s, w, 0)
		if i < 0 {
			continue
		}
		p := i - 1
		for p >= 0 && (s[p] == ' ' || s[p] == '+' || s[p] == ')' || s[p] == '\'' || s[p] == '"' || isDigit(s[p])) {
			p--
		}
		if p >= 0 {
			continue
		}
		k := skipSQLSpace(s, i+len(w))
		if !wordAt(s, k, "by") {
			continue
		}
		k = skipSQLSpace(s, k+2)
		e := k
		for e < len(s) && isDigit(s[e]) {
			e++
		}
		if e == k {
			continue
		}
		t := e
		for t < len(s) && (s[t] == ' ' || s[t] == '+') {
			t++
		}
		if t >= len(s) || s[t] == '#' || s[t] == ';' || s[t] == ')' || s[t] == '%' || hasFoldPrefix(s[t:], "--") || hasFoldPrefix(s[t:], "/*") {
			return s[i:e]
		}
	}
	return ""
}

// sqlStopWords follow "select" or "from" in English, never in SQL.
var sqlStopWords = map[string]bool{
	"the": true, "a": true, "an": true, "this": true, "that": true, "these": true, "those": true,
	"your": true, "my": true, "our": true, "their": true, "his": true, "her": true, "its": true,
	"one": true, "each": true, "any": true, "some": true, "which": true, "what": true, "it": true,
	"them": true, "me": true, "you": true, "us": true, "here": true, "there": true, "to": true,
}

// fragmentStatement finds a whole SQL statement (or the FROM clause of
// one) where a value belongs. Each verb needs the rest of its statement,
// so that "Select the best option", "Update the docs; set the flag" and
// "Drop me a line" stay prose.
func fragmentStatement(s string) string {
	i := skipSpace(s, 0)
	for i < len(s) && (s[i] == '(' || s[i] == '\'' || s[i] == '"' || s[i] == ';') {
		i = skipSpace(s, i+1)
	}
	e := i
	for e < len(s) && isAlpha(s[e]) {
		e++
	}
	if e == i || e-i > 8 || e >= len(s) {
		return ""
	}
	span := s[i:min(len(s), e+16)]
	w := s[i:e]
	k := skipSQLSpace(s, e)
	switch {
	case eqFold(w, "select"):
		if selectList(s, k) {
			return span
		}
	case eqFold(w, "insert") || eqFold(w, "replace"):
		if wordAt(s, k, "into") {
			t, n := sqlIdent(s, skipSQLSpace(s, k+4))
			if t != "" && (n >= len(s) || s[n] == '(' || s[n] == ' ') && !sqlStopWords[strings.ToLower(t)] {
				return span
			}
		}
	case eqFold(w, "delete"):
		if wordAt(s, k, "from") {
			if t, _ := sqlIdent(s, skipSQLSpace(s, k+4)); t != "" && !sqlStopWords[strings.ToLower(t)] {
				return span
			}
		}
	case eqFold(w, "update"):
		if t, n := sqlIdent(s, k); t != "" && wordAt(s, skipSQLSpace(s, n), "set") {
			n = skipSQLSpace(s, skipSQLSpace(s, n)+3)
			if _, n2 := sqlIdent(s, n); n2 > n && skipSpace(s, n2) < len(s) && s[skipSpace(s, n2)] == '=' {
				return span
			}
		}
	case eqFold(w, "drop") || eqFold(w, "truncate") || eqFold(w, "alter"):
		if t, n := sqlIdent(s, k); t != "" && !sqlStopWords[strings.ToLower(t)] {
			// "DROP sampletable;--": a name and the end of a statement
			if n = skipSpace(s, n); n < len(s) && (s[n] == ';' || hasFoldPrefix(s[n:], "--") || s[n] == '#') {
				return span
			}
		}
		for _, o := range [...]string{"table", "database", "schema", "user", "login", "view", "procedure", "function", "trigger", "index"} {
			if wordAt(s, k, o) {
				if t, _ := sqlIdent(s, skipSQLSpace(s, k+len(o))); t != "" && !sqlStopWords[strings.ToLower(t)] {
					return span
				}
			}
		}
	case eqFold(w, "create"):
		for _, o := range [...]string{"table", "database", "user", "login", "function", "procedure", "trigger"} {
			if wordAt(s, k, o) {
				if t, n := sqlIdent(s, skipSQLSpace(s, k+len(o))); t != "" && !sqlStopWords[strings.ToLower(t)] && (sqlPunctuation(s[n:]) || wordAt(s, skipSpace(s, n), "identified") || wordAt(s, skipSpace(s, n), "with")) {
					return span
				}
			}
		}
	case eqFold(w, "exec") || eqFold(w, "execute"):
		if k < len(s) && (s[k] == '(' || s[k] == '@') || hasFoldPrefix(s[k:], "master.") || hasFoldPrefix(s[k:], "sp_") || hasFoldPrefix(s[k:], "xp_") || wordAt(s, k, "immediate") {
			return span
		}
	case eqFold(w, "declare") || eqFold(w, "set"):
		if k+1 < len(s) && s[k] == '@' && (isAlpha(s[k+1]) || s[k+1] == '@') {
			return span
		}
	case eqFold(w, "waitfor"):
		if wordAt(s, k, "delay") || wordAt(s, k, "time") {
			return span
		}
	case eqFold(w, "shutdown"):
		if k >= len(s) || s[k] == ';' || hasFoldPrefix(s[k:], "--") || s[k] == '#' || wordAt(s, k, "with") {
			return span
		}
	case eqFold(w, "from"):
		// "FROM termine GROUP BY tag1": a table and a grouping clause.
		if t, n := sqlIdent(s, k); t != "" && !sqlStopWords[strings.ToLower(t)] {
			n = skipSpace(s, n)
			if (wordAt(s, n, "group") || wordAt(s, n, "order")) && wordAt(s, skipSpace(s, n+5), "by") {
				return span
			}
		}
		// "FROM `oxattribute` WHERE …": a backquoted table and a clause.
		if k < len(s) && s[k] == '`' {
			if e := strings.IndexByte(s[k+1:], '`'); e > 0 {
				t := skipSpace(s, k+2+e)
				for _, c := range [...]string{"where", "limit", "order", "group", "join", "union", "having"} {
					if wordAt(s, t, c) {
						return span
					}
				}
				if t >= len(s) || s[t] == ';' || hasFoldPrefix(s[t:], "--") || s[t] == '#' {
					return span
				}
			}
		}
	case eqFold(w, "show"):
		for _, o := range [...]string{"tables", "databases", "grants", "variables", "columns", "schemas"} {
			if wordAt(s, k, o) {
				return span
			}
		}
	}
	return ""
}

// selectList reports what follows "select" in a statement rather than in
// a sentence: '*', '@@', a literal, a function call, NULL, DISTINCT/TOP,
// or "<column> FROM <table>" with the table followed by a clause, a
// separator or the end.
func selectList(s string, k int) bool {
	if k >= len(s) {
		return false
	}
	switch c := s[k]; {
	case c == '*' || c == '@' || c == '\'' || c == '"' || c == '`' || isDigit(c):
		return true
	case c == '(':
		// "select (select …)", "select (1)"; jq's "select(.a == 1)" is
		// not SQL.
		k = skipSpace(s, k+1)
		return k < len(s) && (isDigit(s[k]) || s[k] == '\'' || s[k] == '@' || wordAt(s, k, "select"))
	}
	if wordAt(s, k, "null") {
		return true
	}
	t, n := sqlIdent(s, k)
	if t == "" || sqlStopWords[strings.ToLower(t)] {
		return false
	}
	if n2 := skipSpace(s, n); n2 < len(s) && s[n2] == '(' {
		return true
	}
	if n2 := skipSpace(s, n); wordAt(s, n2, "where") || wordAt(s, n2, "group") && wordAt(s, skipSpace(s, n2+5), "by") || wordAt(s, n2, "having") || wordAt(s, n2, "into") {
		// "SELECT dDJq WHERE 9896=9896", "SELECT x GROUP BY y"
		return true
	}
	f := indexWordFold(s[:min(len(s), n+120)], "from", n)
	if f < 0 {
		return false
	}
	// the column list between: identifiers and commas only
	for x := n; x < f; x++ {
		if c := s[x]; !(isWordByte(c) || c == ',' || c == ' ' || c == '.' || c == '*') {
			return false
		}
	}
	tbl, e := sqlIdent(s, skipSQLSpace(s, f+4))
	if tbl == "" || sqlStopWords[strings.ToLower(tbl)] {
		return false
	}
	e = skipSpace(s, e)
	if e >= len(s) || s[e] == ';' || s[e] == ')' || s[e] == ',' || s[e] == '#' || hasFoldPrefix(s[e:], "--") {
		return true
	}
	for _, c := range [...]string{"where", "join", "limit", "order", "group", "union", "inner", "left", "as", "having"} {
		if wordAt(s, e, c) {
			return true
		}
	}
	return false
}

// sqlIdent reads an identifier (letters, digits, '_', '.', '$') at s[k:].
func sqlIdent(s string, k int) (string, int) {
	e := k
	for e < len(s) && (isWordByte(s[e]) || s[e] == '.' || s[e] == '$') {
		e++
	}
	if e == k || !isAlpha(s[k]) && s[k] != '_' {
		return "", k
	}
	return s[k:e], e
}

// leadingLogic finds a fragment that starts with AND, OR or XOR (after
// spaces, a quote, a parenthesis or a number) followed by a literal that
// ends it or meets SQL: "AND false", "and 0", "xor 1234567890<", "AND
// 6698=(", "or class!=\"". "Or maybe not" has neither.
func leadingLogic(s string) string {
	i := skipSpace(s, 0)
	digits := false
	for i < len(s) && (s[i] == '\'' || s[i] == '"' || s[i] == ')' || isDigit(s[i])) {
		digits = digits || isDigit(s[i])
		i = skipSpace(s, i+1)
	}
	var w string
	for _, x := range [...]string{"and", "or", "xor"} {
		if wordAt(s, i, x) {
			w = x
		}
	}
	if w == "" {
		return ""
	}
	k := skipSQLSpace(s, i+len(w))
	if wordAt(s, k, "not") {
		k = skipSQLSpace(s, k+3)
	}
	e := k
	switch {
	case wordAt(s, k, "true") || wordAt(s, k, "false") || wordAt(s, k, "null"):
		e = k + strings.IndexByte(s[k:]+" ", ' ')
		for e > k && !isAlpha(s[e-1]) {
			e--
		}
	case k < len(s) && (isDigit(s[k]) || s[k] == '-' && k+1 < len(s) && isDigit(s[k+1])):
		e = k + 1
		for e < len(s) && isDigit(s[e]) {
			e++
		}
	case k < len(s) && isAlpha(s[k]):
		// "or class!=\"", "OR backend_layout= '": a name compared with
		// the application's literal
		for e < len(s) && isWordByte(s[e]) {
			e++
		}
		o := skipSpace(s, e)
		if o+1 < len(s) && (s[o] == '!' || s[o] == '<' || s[o] == '>' || s[o] == '=') && (s[o+1] == '=' || s[o+1] == '>') {
			return s[i:min(len(s), o+2)]
		}
		if o < len(s) && s[o] == '=' {
			if v := skipSpace(s, o+1); v >= len(s) || s[v] == '\'' || s[v] == '"' {
				return s[i:min(len(s), o+1)]
			}
		}
		return ""
	case k < len(s) && (s[k] == '\'' || s[k] == '"'):
		// "xor 'test'>": a literal compared
		if _, e2, ok := sqlLiteral(s, k); ok {
			e = e2
		} else {
			return ""
		}
	default:
		return ""
	}
	t := skipSpace(s, e)
	if t >= len(s) && !digits || t < len(s) && strings.IndexByte("=<>!#;)'\"(-*+/%", s[t]) >= 0 {
		// ("1 or 2" alone is an answer, not a probe)
		return s[i:min(len(s), t+1)]
	}
	return ""
}

// pgCast finds a PostgreSQL cast where a value belongs: "1+current_user::int",
// "unistr(password)::int", "'1'::int". Rust and C++ paths ("std::string")
// do not cast to these types after ')' or a quote.
func pgCast(s string) string {
	for i := strings.Index(s, "::"); i > 0; {
		p := s[i-1]
		k := i + 2
		e := k
		for e < len(s) && isAlpha(s[e]) {
			e++
		}
		var buf [12]byte
		if e > k && e-k <= len(buf) {
			t := string(lowerASCII(buf[:0], s[k:e]))
			switch t {
			case "int", "integer", "int4", "int8", "bigint", "smallint", "text", "varchar", "numeric", "bytea", "regclass", "oid", "json", "jsonb", "bool", "boolean", "float", "float4", "float8", "double", "real", "decimal":
				b := i
				for b > 0 && isWordByte(s[b-1]) {
					b--
				}
				if p == ')' || p == '\'' || eqFold(s[b:i], "current_user") || eqFold(s[b:i], "version") || eqFold(s[b:i], "user") {
					return s[b:e]
				}
			}
		}
		n := strings.Index(s[i+2:], "::")
		if n < 0 {
			break
		}
		i += 2 + n
	}
	return ""
}

// sqlFunctions are the functions probes call to test what a filter lets
// through ("UPPER(", "uNhEx(", "MAKE_SET(", "length?(").
var sqlFunctions = map[string]bool{
	"ascii": true, "bin": true, "benchmark": true, "cast": true, "char": true, "char_length": true,
	"chr": true, "coalesce": true, "concat": true, "concat_ws": true, "conv": true, "convert": true,
	"count": true, "database": true, "decode": true, "elt": true, "encode": true, "exp": true,
	"extractvalue": true, "field": true, "find_in_set": true, "floor": true, "group_concat": true,
	"hex": true, "if": true, "ifnull": true, "in": true, "instr": true, "isnull": true, "lcase": true,
	"left": true, "length": true, "load_file": true, "locate": true, "lower": true, "lpad": true,
	"ltrim": true, "make_set": true, "md5": true, "mid": true, "month": true, "name_const": true,
	"nullif": true, "oct": true, "ord": true, "position": true, "rand": true, "repeat": true,
	"replace": true, "reverse": true, "right": true, "rpad": true, "rtrim": true, "schema": true,
	"sha1": true, "sha2": true, "sleep": true, "space": true, "strcmp": true, "substr": true,
	"substring": true, "substring_index": true, "sum": true, "trim": true, "ucase": true,
	"unhex": true, "updatexml": true, "upper": true, "user": true, "uuid": true, "version": true,
	"year": true, "current_user": true, "session_user": true, "system_user": true, "pg_sleep": true,
	"sysdate": true, "systimestamp": true,
	"utl_inaddr": true, "values": true, "sin": true, "cos": true, "log": true, "ln": true, "format": true,
	"minute": true, "hour": true, "day": true, "second": true, "time": true, "default": true,
	"compress": true, "uncompress": true, "analyse": true, "div": true, "exists": true, "abs": true,
	"round": true, "ceil": true, "pi": true, "pow": true, "sqrt": true, "weight_string": true,
}

// openSQLCall finds a SQL function name followed by an opening
// parenthesis that never closes, at most a few punctuation bytes later:
// the short probes a scanner sends to learn which names a filter blocks.
// A finished call ("upper(name)") is not one.
func openSQLCall(s string) string {
	if strings.IndexByte(s, ')') >= 0 {
		return ""
	}
	for i := 0; i < len(s); {
		if !isAlpha(s[i]) || i > 0 && isWordByte(s[i-1]) {
			i++
			continue
		}
		e := i
		for e < len(s) && isWordByte(s[e]) {
			e++
		}
		var buf [16]byte
		if e-i <= len(buf) && sqlFunctions[string(lowerASCII(buf[:0], s[i:e]))] {
			k := e
			for k < len(s) && k-e < 6 && !isAlnum(s[k]) && s[k] != '(' {
				k++
			}
			if k < len(s) && s[k] == '(' && strings.TrimSpace(s[k+1:]) == "" && (i == 0 || !isAlpha(s[skipSpace(s, 0)]) || skipSpace(s, 0) == i || strings.Count(s[:i], " ") <= 1) {
				return s[i : k+1]
			}
		}
		i = e
	}
	return ""
}

// closesParen reports a ')' with no '(' before it.
func closesParen(s string) bool {
	_, unmatched := parenDepth(s)
	return unmatched
}

// nulProbe reports a value that is only a NUL byte, after at most a
// quote, a parenthesis or a statement separator (";%00", "'%00"): the
// probe for drivers that end the query string at the first NUL.
func nulProbe(s string) bool {
	t := strings.TrimLeft(s, " ;'\")")
	return t != "" && strings.Trim(t, "\x00") == ""
}

// parenBreakout finds a value that starts by closing the application's
// parenthesis and goes on in SQL: "') like ('", ") or (1", ") and
// sleep(5". A parenthetical remark does not start with ')'.
func parenBreakout(s string) string {
	i := skipSpace(s, 0)
	if i < len(s) && (s[i] == '\'' || s[i] == '"') {
		i++
	}
	if i >= len(s) || s[i] != ')' {
		return ""
	}
	k := skipSpace(s, i+1)
	for _, w := range [...]string{"or", "and", "xor", "like", "rlike", "regexp", "union", "order", "group", "having", "when", "then", "is", "not"} {
		if wordAt(s, k, w) {
			t := skipSpace(s, k+len(w))
			if t >= len(s) || s[t] == '(' || s[t] == '\'' || s[t] == '"' || isDigit(s[t]) || s[t] == '@' || wordAt(s, t, "by") || wordAt(s, t, "select") || wordAt(s, t, "sleep") {
				return s[i:min(len(s), t+1)]
			}
		}
	}
	return ""
}

// literalComparison finds a value that compares two literals and nothing
// else: "'1' not regexp '2'", "'a' like 'a'", "'x'='x'". A quoted phrase
// followed by prose has no comparison word between literals.
func literalComparison(s string) string {
	i := skipSpace(s, 0)
	_, k, ok := sqlLiteral(s, i)
	if !ok || k == i || s[i] != '\'' && s[i] != '"' {
		return ""
	}
	k = skipSpace(s, k)
	if wordAt(s, k, "not") {
		k = skipSpace(s, k+3)
	}
	n := 0
	for _, w := range [...]string{"regexp", "rlike", "like", "glob", "sounds like"} {
		if wordAt(s, k, w) {
			n = len(w)
		}
	}
	if n == 0 {
		return ""
	}
	b, e, ok := sqlLiteral(s, skipSpace(s, k+n))
	_ = b
	if ok && skipSpace(s, e) >= len(s) {
		return s[i:e]
	}
	return ""
}
