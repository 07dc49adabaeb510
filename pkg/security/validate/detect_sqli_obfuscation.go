package validate

import "strings"

// SQL injection shapes that hide their keywords from a tokenizer.
//
// They run with sqlFragment, where a value should not be SQL at all:
//
//   - an inline comment used as whitespace or to split a keyword:
//     "DROP/*comment*/sampletable", "SELECT/**/password/**/FROM/**/t",
//     "DR/**/OP/*x*/t". A keyword glued to a comment with a word on its
//     other side is SQL; C-style comments in prose are separated by
//     spaces and hold no SQL verbs.
//   - MySQL's scientific-notation bypass: "1.e(ascii", "1.e.tables" (a
//     number glued to a function call or a qualified name, which MySQL
//     parses as 1.0 followed by the name). Outline numbering ("1.e(ii)")
//     and "1.e.g." are not.
//   - a clause that starts the value: "HAVING COUNT(id) > 5".
//   - a set operation on a row constructor: "except values(1,2)".
//   - sqlmap's error-based marker, a hex string 'q' + three letters + 'q'
//     ("0x7170716271") next to the function that leaks it (FLOOR, CONCAT,
//     EXTRACTVALUE…).
//   - SELECT of a delay function with no argument list ("select
//     pg_sleep"), and MSSQL's "BACKUP DATABASE … TO DISK".
//   - a leading OR/AND with a literal IN list: " or 'x' in ('x')".

// sqlObfuscation returns the rule and span of the first shape above in s.
func sqlObfuscation(s string, m classes) (string, string) {
	if m.has(cSlash) && m.has(cStar) && m.has(cLetter) {
		if span := commentSplit(s); span != "" {
			return "sqli.comment_obfuscation", span
		}
	}
	if m.has(cDot) && m.has(cDigit) {
		if span := scientificNotation(s); span != "" {
			return "sqli.scientific_notation", span
		}
	}
	if m.has(cLetter) && m.has(cDigit) {
		if span := sqlmapMarker(s); span != "" {
			return "sqli.error_based", span
		}
	}
	if m.has(cLetter) {
		if span := delayOrBackup(s); span != "" {
			return "sqli.statement", span
		}
	}
	if m.has(cParen) && m.has(cQuote) {
		if span := leadingInList(s); span != "" {
			return "sqli.boolean_probe", span
		}
	}
	if m.has(cQuote) {
		if span := openLiteralComparison(s); span != "" {
			return "sqli.tautology", span
		}
	}
	if m.has(cSemi) && m.has(cLetter) {
		if span := leadingSeparator(s); span != "" {
			return "sqli.stacked", span
		}
		if span := selectSession(s); span != "" {
			return "sqli.statement", span
		}
	}
	if m.has(cParen) && m.has(cLetter) {
		if span := leadingHaving(s); span != "" {
			return "sqli.boolean_probe", span
		}
		if span := setOpValues(s); span != "" {
			return "sqli.union", span
		}
	}
	return sqlShapes(s, m)
}

// commentKeywords are the SQL words that a comment glued to them turns
// into an obfuscated query.
var commentKeywords = map[string]bool{
	"select": true, "union": true, "from": true, "where": true, "drop": true,
	"insert": true, "update": true, "delete": true, "into": true, "values": true,
	"exec": true, "execute": true, "truncate": true, "alter": true, "having": true,
	"order": true, "group": true, "limit": true, "table": true, "declare": true,
	"waitfor": true, "sleep": true, "benchmark": true, "concat": true,
}

// commentSplit finds a SQL keyword glued to an inline comment with a word
// on the comment's other side. Empty comments between letters are removed
// first: MySQL joins "DR/**/OP" into DROP.
func commentSplit(s string) string {
	if len(s) > 1024 || !strings.Contains(s, "/*") {
		return ""
	}
	var buf [1024]byte
	b := buf[:0]
	for i := 0; i < len(s); i++ {
		if s[i] == '/' && strings.HasPrefix(s[i:], "/**/") && i > 0 && isAlpha(s[i-1]) && i+4 < len(s) && isAlpha(s[i+4]) {
			i += 3
			continue
		}
		b = append(b, s[i])
	}
	t := bstr(b)
	for from := 0; ; {
		o := strings.Index(t[from:], "/*")
		if o < 0 {
			return ""
		}
		o += from
		c := strings.Index(t[o+2:], "*/")
		if c < 0 {
			return ""
		}
		e := o + 2 + c + 2
		// the word before the comment and the word after it
		a := o
		for a > 0 && isWordByte(t[a-1]) {
			a--
		}
		z := e
		for z < len(t) && isWordByte(t[z]) {
			z++
		}
		if a < o && z > e && (sqlWord(t[a:o]) || sqlWord(t[e:z])) {
			return s[:min(len(s), 32)]
		}
		from = e
	}
}

func sqlWord(w string) bool {
	var buf [12]byte
	return len(w) <= len(buf) && commentKeywords[string(lowerASCII(buf[:0], w))]
}

// scientificNotation finds a digit, ".e" and a call or a qualified name
// glued to it: "1.e(ascii", "0.e.tables", "1.e.user".
func scientificNotation(s string) string {
	for i := 0; ; {
		k := indexFold(s, ".e", i)
		if k < 0 {
			return ""
		}
		i = k + 1
		if k == 0 || !isDigit(s[k-1]) || k+3 >= len(s) {
			continue
		}
		if d := k - 1; d > 0 && (s[d-1] == '.' || isAlpha(s[d-1])) {
			continue // "v2.1.e", "a1.e": a version or a name
		}
		n := k + 3
		if s[k+2] != '(' && s[k+2] != '.' {
			continue
		}
		e := n
		for e < len(s) && isWordByte(s[e]) {
			e++
		}
		w := s[n:e]
		if len(w) < 3 || romanNumeral(w) {
			continue
		}
		return s[k-1 : e]
	}
}

func romanNumeral(w string) bool {
	for i := 0; i < len(w); i++ {
		if strings.IndexByte("ivxlcdmIVXLCDM", w[i]) < 0 {
			return false
		}
	}
	return true
}

// aggregates are the functions a HAVING clause compares.
var aggregates = [...]string{"count", "sum", "avg", "min", "max"}

// leadingHaving finds a value that starts with a HAVING clause on an
// aggregate compared with something: " HAVING COUNT(CustomerID) > 5".
func leadingHaving(s string) string {
	i := skipSpace(s, 0)
	for i < len(s) && (s[i] == '\'' || s[i] == '"' || s[i] == ')') {
		i = skipSpace(s, i+1)
	}
	if !wordAt(s, i, "having") {
		return ""
	}
	k := skipSQLSpace(s, i+6)
	for _, f := range aggregates {
		if !wordAt(s, k, f) {
			continue
		}
		p := skipSpace(s, k+len(f))
		if p >= len(s) || s[p] != '(' {
			return ""
		}
		c := strings.IndexByte(s[p:], ')')
		if c < 0 {
			return ""
		}
		o := skipSpace(s, p+c+1)
		if o < len(s) && strings.IndexByte("<>=!", s[o]) >= 0 {
			return s[i:min(len(s), o+1)]
		}
		return ""
	}
	return ""
}

// setOpValues finds UNION, EXCEPT or INTERSECT followed by a row
// constructor: "except values(1,2)", "union all values (null)".
func setOpValues(s string) string {
	for _, op := range [...]string{"union", "except", "intersect"} {
		for from := 0; ; {
			i := indexWordFold(s, op, from)
			if i < 0 {
				break
			}
			from = i + 1
			k := skipSQLSpace(s, i+len(op))
			if wordAt(s, k, "all") {
				k = skipSQLSpace(s, k+3)
			} else if wordAt(s, k, "distinct") {
				k = skipSQLSpace(s, k+8)
			}
			if !wordAt(s, k, "values") {
				continue
			}
			p := skipSpace(s, k+6)
			if p+1 < len(s) && s[p] == '(' {
				if v := skipSpace(s, p+1); v < len(s) && (isDigit(s[v]) || s[v] == '\'' || s[v] == '"' || s[v] == '@' || wordAt(s, v, "null")) {
					return s[i:min(len(s), p+1)]
				}
			}
		}
	}
	return ""
}

// markerFuncs leak a sqlmap marker through an error or a result row.
var markerFuncs = [...]string{"floor", "concat", "extractvalue", "updatexml", "rand", "char", "select", "union", "exp", "json_keys", "gtid_subset"}

// sqlmapMarker finds "0x71" + three lower-case letters + "71" in hex
// beside one of markerFuncs.
func sqlmapMarker(s string) string {
	for from := 0; ; {
		i := indexFold(s, "0x71", from)
		if i < 0 || i+12 > len(s) {
			return ""
		}
		from = i + 1
		h := s[i+4 : i+12]
		ok := hasFoldPrefix(h[6:], "71") && (i+12 == len(s) || !isAlnum(s[i+12]))
		for k := 0; ok && k < 6; k += 2 {
			hi, a := unhex(h[k])
			lo, b := unhex(h[k+1])
			c := hi<<4 | lo
			ok = a && b && c >= 'a' && c <= 'z'
		}
		if !ok {
			continue
		}
		for _, f := range markerFuncs {
			if indexWordFold(s, f, 0) >= 0 {
				return s[i : i+12]
			}
		}
	}
}

// delayOrBackup finds a value that starts with SELECT of a delay function
// ("select pg_sleep", "select sleep(5)") or with BACKUP DATABASE/LOG.
func delayOrBackup(s string) string {
	i := skipSpace(s, 0)
	switch {
	case wordAt(s, i, "select"):
		k := skipSQLSpace(s, i+6)
		if wordAt(s, k, "pg_sleep") {
			return s[i:min(len(s), k+8)]
		}
		for _, f := range [...]string{"sleep", "benchmark"} {
			// "Select sleep mode" is a label; "select sleep(5)" is not
			if p := skipSpace(s, k+len(f)); wordAt(s, k, f) && p < len(s) && s[p] == '(' {
				return s[i:min(len(s), p+1)]
			}
		}
	case wordAt(s, i, "backup"):
		k := skipSpace(s, i+6)
		if !wordAt(s, k, "database") && !wordAt(s, k, "log") {
			return ""
		}
		if t := indexWordFold(s, "to", k); t > 0 {
			d := skipSpace(s, t+2)
			// "TO DISK = 'path'" (and the "disks=" typo of a public list)
			e := d
			for e < len(s) && isAlpha(s[e]) {
				e++
			}
			w := s[d:e]
			if eq := skipSpace(s, e); (eqFold(w, "disk") || eqFold(w, "disks") || eqFold(w, "url")) && eq < len(s) && s[eq] == '=' {
				return s[i:min(len(s), eq+1)]
			}
		}
	}
	return ""
}

// leadingInList finds a value that starts with OR/AND, a literal and IN
// with a parenthesised list: " or 'whatever' in ('whatever')".
func leadingInList(s string) string {
	i := skipSpace(s, 0)
	for i < len(s) && (s[i] == '\'' || s[i] == '"' || s[i] == ')' || isDigit(s[i])) {
		i = skipSpace(s, i+1)
	}
	w := 0
	switch {
	case wordAt(s, i, "or"):
		w = 2
	case wordAt(s, i, "and"):
		w = 3
	default:
		return ""
	}
	k := skipSQLSpace(s, i+w)
	_, e, ok := sqlLiteral(s, k)
	if !ok || e <= k {
		return ""
	}
	t := skipSpace(s, e)
	if wordAt(s, t, "in") {
		p := skipSpace(s, t+2)
		if p < len(s) && s[p] == '(' {
			if _, _, ok := sqlLiteral(s, skipSpace(s, p+1)); ok {
				return s[i:min(len(s), p+1)]
			}
		}
	}
	return ""
}

// openLiteralComparison finds a value that starts with a quoted literal,
// a comparison and a second literal left open for the application's
// closing quote: "'3085'='30", "'x'!='y".
func openLiteralComparison(s string) string {
	i := skipSpace(s, 0)
	if i >= len(s) || s[i] != '\'' && s[i] != '"' {
		return ""
	}
	q := s[i]
	_, e, ok := sqlLiteral(s, i)
	if !ok {
		return ""
	}
	o := skipSpace(s, e)
	k := o
	for k < len(s) && k-o < 2 && strings.IndexByte("=!<>", s[k]) >= 0 {
		k++
	}
	if k == o || k-o == 1 && s[o] == '!' {
		return ""
	}
	v := skipSpace(s, k)
	if v >= len(s) || s[v] != q || strings.IndexByte(s[v+1:], q) >= 0 {
		return ""
	}
	for j := v + 1; j < len(s); j++ {
		if !isAlnum(s[j]) {
			return ""
		}
	}
	return s[i:]
}

// leadingSeparator finds ';' at the start of the value (after at most
// break-out quotes) followed by a statement verb: ";truncate[xx", "; drop
// table t", "';print'".
func leadingSeparator(s string) string {
	i := skipSpace(s, 0)
	quoted := false
	for i < len(s) && (s[i] == '\'' || s[i] == '"' || s[i] == ')') {
		quoted = true
		i++
	}
	if i >= len(s) || s[i] != ';' {
		return ""
	}
	k := skipSpace(s, i+1)
	e := k
	for e < len(s) && isAlpha(s[e]) {
		e++
	}
	var buf [10]byte
	if e-k < 3 || e-k > len(buf) || e < len(s) && isWordByte(s[e]) {
		return ""
	}
	w := string(lowerASCII(buf[:0], s[k:e]))
	if w == "print" && quoted {
		// "';print'": MSSQL's PRINT after a break-out quote
		if n := skipSpace(s, e); n >= len(s) || !isAlpha(s[n]) {
			return s[i:e]
		}
	}
	switch w {
	case "truncate", "drop", "delete", "insert", "update", "shutdown", "exec", "execute", "waitfor", "declare", "alter", "select", "create", "union":
		// ";drop me a line" is prose; a verb before punctuation, the end
		// or an object word is SQL
		n := skipSpace(s, e)
		if n >= len(s) || !isAlpha(s[n]) {
			return s[i:e]
		}
		for _, w := range [...]string{"table", "database", "from", "into", "all", "procedure", "xp_cmdshell", "delay", "user", "login"} {
			if wordAt(s, n, w) {
				return s[i:e]
			}
		}
	}
	return ""
}

// selectSession finds SELECT of a session function or variable as the
// whole value, ended by ';': "select session_user;", "select @@version;".
func selectSession(s string) string {
	i := skipSpace(s, 0)
	if !wordAt(s, i, "select") {
		return ""
	}
	k := skipSQLSpace(s, i+6)
	e := k
	for e < len(s) && (isWordByte(s[e]) || s[e] == '@') {
		e++
	}
	w := s[k:e]
	p := skipSpace(s, e)
	if p+1 < len(s) && s[p] == '(' && s[p+1] == ')' {
		p = skipSpace(s, p+2)
	}
	if p >= len(s) || s[p] != ';' || strings.TrimSpace(s[p+1:]) != "" {
		return ""
	}
	if strings.HasPrefix(w, "@@") || strings.IndexByte(w, '_') > 0 && sqlWordIn(w, sqlFunctions) || sqlWordIn(w, sessionFuncs) {
		return s[i : p+1]
	}
	return ""
}

var sessionFuncs = map[string]bool{"user": true, "version": true, "database": true, "schema": true, "current_user": true, "session_user": true, "system_user": true, "current_database": true, "current_schema": true, "banner": true}

func sqlWordIn(w string, set map[string]bool) bool {
	var buf [24]byte
	return len(w) <= len(buf) && set[string(lowerASCII(buf[:0], w))]
}
