package validate

import (
	"strings"

	libinjection "github.com/corazawaf/libinjection-go"
)

// SQL injection.
//
// libinjection tokenises a value the way a SQL parser would and matches the
// token fingerprint against known injections. It is built for values that
// should not be SQL at all (a user name, an id), so on a complete statement
// it fires by design: "SELECT * FROM t WHERE id = 42" has fingerprint
// "Eoknk". The context rules here are what makes it usable on agent
// traffic:
//
//   - sql fields: a statement is expected; only the strong markers below
//     (tautologies, UNION SELECT of NULLs, time delays, command execution,
//     error-based extraction) are tagged, and only informationally.
//   - query fields: a complete statement (it starts with a statement verb)
//     is treated as in sql fields, except that strong markers are flagged;
//     anything else is a fragment.
//   - unknown and ldap fields ("filter"): a well-formed expression
//     ("status = 'open' AND priority > 2") only counts with a strong
//     marker; RFC 4515 breakouts are the LDAP detector's.
//   - text: strong markers only, outside Markdown code.
//   - every other field: libinjection on the value and on its URL-decoded
//     form, plus the strong markers it misses (tautologies, UNION SELECT,
//     stacked statements, boolean-blind CASE WHEN / IF probes…).

// sqlCandidate is the pre-filter: libinjection only matters when the value
// has a quote, a comment, a statement separator, a parenthesis or an
// operator, or a bare numeric context with a SQL keyword ("1 union select
// 1,2", "1 order by 5").
func sqlCandidate(s string, m classes) bool {
	if m.has(cQuote | cBacktick | cHash | cSemi | cParen | cEq) {
		return true
	}
	if m.has(cDash) && indexFold(s, "--", 0) >= 0 {
		return true
	}
	if m.has(cSlash|cStar) && indexFold(s, "/*", 0) >= 0 {
		return true
	}
	if m.has(cLetter) && m.has(cDigit) {
		return hasWord(s, numericContextWords)
	}
	return false
}

// numericContextWords make a value without quotes or operators worth
// tokenising: "1 union select 1,2", "1 order by 5".
var numericContextWords = map[string]bool{
	"union": true, "order": true, "group": true, "having": true, "or": true, "and": true,
	"xor": true, "limit": true, "procedure": true, "div": true,
}

// hasWord reports whether any whole word of s (letters only, at most 12
// bytes) is in words, ignoring case. One pass, no allocation.
func hasWord(s string, words map[string]bool) bool {
	var buf [12]byte
	for i := 0; i < len(s); {
		if !isAlpha(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isAlpha(s[j]) {
			j++
		}
		if j-i <= len(buf) && (i == 0 || !isWordByte(s[i-1])) && (j == len(s) || !isWordByte(s[j])) {
			b := lowerASCII(buf[:0], s[i:j])
			if words[string(b)] {
				return true
			}
		}
		i = j
	}
	return false
}

func isSQLi(s string) bool {
	ok, _ := libinjection.IsSQLi(s)
	return ok
}

// sqliHit runs libinjection and applies the context rules that cut its
// false positives on values that are not SQL at all.
func sqliHit(s string) bool {
	ok, fp := libinjection.IsSQLi(s)
	if !ok || benignFingerprint(fp) {
		return false
	}
	if arithmeticFingerprint(fp) {
		// "(1 + 2) * 3 = 9" and "3 < 5 and 7 > 2" tokenise like a numeric
		// injection. A probe compares literals after AND/OR with "="
		// ("1 AND 1=2") or is a tautology; arithmetic and inequalities
		// alone are not one.
		return literalEqualityAfterLogic(s)
	}
	return true
}

// arithmeticFingerprint: only numbers, operators, logic and parentheses.
func arithmeticFingerprint(fp string) bool {
	for i := 0; i < len(fp); i++ {
		switch fp[i] {
		case '1', 'o', '&', '(', ')':
		default:
			return false
		}
	}
	return true
}

// literalEqualityAfterLogic finds AND/OR/XOR (or && ||) followed by
// "literal = literal" or "literal <> literal".
func literalEqualityAfterLogic(s string) bool {
	for i := 0; i < len(s); i++ {
		j := -1
		switch {
		case (s[i] == '&' || s[i] == '|') && i+1 < len(s) && s[i+1] == s[i]:
			j = i + 2
		case isAlpha(s[i]) && (i == 0 || !isWordByte(s[i-1])):
			for _, w := range [...]string{"and", "or", "xor"} {
				if wordAt(s, i, w) {
					j = i + len(w)
				}
			}
		}
		if j < 0 {
			continue
		}
		k := skipSQLSpace(s, j)
		for k < len(s) && s[k] == '(' {
			k = skipSQLSpace(s, k+1)
		}
		a, k2, ok := sqlOperand(s, k)
		if !ok || !isNumber(strings.TrimPrefix(a, "-")) {
			continue
		}
		k = skipSQLSpace(s, k2)
		switch {
		case hasFoldPrefix(s[k:], "<>"), hasFoldPrefix(s[k:], "!="):
			k += 2
		case k < len(s) && s[k] == '=':
			k++
		default:
			continue
		}
		b, _, ok := sqlOperand(s, skipSQLSpace(s, k))
		if ok && isNumber(strings.TrimPrefix(b, "-")) {
			return true
		}
	}
	return false
}

// sqli checks a fragment field (unknown and structured kinds) and reports
// whether it found an injection.
func (c *checker) sqli(k FieldKind, s string, m classes) bool {
	return c.sqliAs(k, k, s, m)
}

// sqliAs checks s with the rules of kind k and reports findings as kind
// rk: a URL query value is checked as an unknown fragment and reported as
// part of the URL.
func (c *checker) sqliAs(k, rk FieldKind, s string, m classes) bool {
	if k == KindQuery && (isStatement(s) || wellFormedExpr(s)) {
		// A query field holds a query: a whole statement, or an expression
		// in some query language (JQL, Lucene, a WHERE clause) that starts
		// with a name and keeps its quotes and parentheses balanced. Only
		// the strong markers count there.
		if rule, span := strongSQL(s, true); rule != "" {
			c.report(rk, ThreatSQLi, rule, span, false)
			return true
		} else if sqlCandidate(s, m) && isSQLi(s) {
			c.report(rk, ThreatSQLi, "sqli.query_expression", s, true)
		}
		return false
	}
	if rule, span := strongSQL(s, false); rule != "" {
		c.report(rk, ThreatSQLi, rule, span, false)
		return true
	}
	if rule, span := sqlFragment(s, m); rule != "" {
		c.report(rk, ThreatSQLi, rule, span, false)
		return true
	}
	// An unknown field may hold an expression someone wrote ("status !=
	// 'closed' || priority == 1"), and so may a "filter" argument, which
	// is as often a WHERE-style expression ("status = 'open' AND priority
	// > 2") as an RFC 4515 filter. An injection breaks out of the
	// application's literal, so its quotes are glued to a word or left
	// open; a well-formed expression with no strong marker is not one.
	exprOK := k == KindUnknown || k == KindLDAP
	if sqlCandidate(s, m) && sqliHit(s) {
		if exprOK && wellFormedExpr(s) {
			return false
		}
		c.report(rk, ThreatSQLi, "sqli.libinjection", s, false)
		return true
	}
	if m.has(cHigh) {
		// "’ OR ’1=1#": typographic quotes and accents that some
		// collations and ORMs turn into an apostrophe.
		var changed bool
		if c.wide, changed = foldQuotes(c.wide, s); changed {
			q := bstr(c.wide)
			qm := classify(q)
			rule, _ := strongSQL(q, false)
			if rule == "" {
				rule, _ = sqlFragment(q, qm)
			}
			if rule == "" && sqlCandidate(q, qm) && sqliHit(q) && !(exprOK && wellFormedExpr(q)) {
				rule = "sqli.libinjection"
			}
			if rule != "" {
				c.report(rk, ThreatSQLi, rule+"_folded", s, false)
				return true
			}
		}
	}
	if m.has(cPct | cPlus) {
		d, rounds := c.dec.canonical(s, true)
		if rounds > 0 {
			ds := bstr(d)
			dm := classify(ds)
			if sqlCandidate(ds, dm) && sqliHit(ds) && !(exprOK && wellFormedExpr(ds)) {
				c.report(rk, ThreatSQLi, "sqli.libinjection_decoded", s, false)
				return true
			}
			if rule, _ := strongSQL(ds, false); rule != "" {
				c.report(rk, ThreatSQLi, rule+"_decoded", s, false)
				return true
			}
			if rule, _ := sqlFragment(ds, dm); rule != "" {
				c.report(rk, ThreatSQLi, rule+"_decoded", s, false)
				return true
			}
			if dm.has(cNUL) && nulProbe(ds) {
				c.report(rk, ThreatSQLi, "sqli.nul_truncation", s, false)
				return true
			}
		}
	}
	return false
}

// benignFingerprint cuts libinjection's false positives on values that
// are not SQL at all. Its fingerprints for those contain no SQL keyword,
// operator or comment token: they come from text such as a sentence with
// one apostrophe and a parenthesis.
func benignFingerprint(fp string) bool {
	for i := 0; i < len(fp); i++ {
		switch fp[i] {
		case 'U', 'E', 'k', 'c', 'B', 'T', ';', 'o', '&', 'f':
			// union, statement, keyword, comment, group/order by, type
			// cast, separator, operator, logic, function: SQL shaped.
			return false
		}
	}
	return true
}

// sqlCode tags SQL in a sql field: informational only.
func (c *checker) sqlCode(s string, m classes) {
	if rule, span := strongSQL(s, true); rule != "" {
		c.report(KindSQL, ThreatSQLi, rule, span, true)
	}
}

// sqliText flags strong markers in free text.
func (c *checker) sqliText(s string, m classes) {
	if !m.has(cQuote|cParen|cSemi|cDigit) && !(m.has(cLetter) && indexWordFold(s, "union", 0) >= 0) {
		return
	}
	if rule, span := strongSQL(s, true); rule != "" {
		c.report(KindText, ThreatSQLi, rule, span, false)
	}
}

// wellFormedExpr reports a value that reads as a query expression of its
// own rather than a fragment breaking out of one: it starts with a letter,
// every quoted string opens after a separator (not glued to a word, as in
// "admin' OR"), quotes and parentheses balance, and there is no comment and
// no statement separator outside quotes.
func wellFormedExpr(s string) bool {
	i := skipSpace(s, 0)
	depth := 0
	for i < len(s) && s[i] == '(' {
		depth++
		i = skipSpace(s, i+1)
	}
	if i >= len(s) {
		return false
	}
	if q := s[i]; q == '"' || q == '\'' {
		// a leading quoted phrase: "machine learning" AND …; it must
		// close before a space or the end, with no doubled quotes.
		j := strings.IndexByte(s[i+1:], q)
		if j < 0 || i+1 >= len(s) || !isAlnum(s[i+1]) {
			// "' OR …'" and "'-'" are not phrases.
			return false
		}
		j += i + 1
		if j+1 < len(s) && s[j+1] != ' ' && s[j+1] != ')' {
			return false
		}
		i = j + 1
	} else if !isAlpha(s[i]) {
		return false
	}
	for ; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\'', '"', '`':
			if i > 0 && isWordByte(s[i-1]) {
				return false
			}
			j := i + 1
			for j < len(s) {
				if s[j] == c {
					if j+1 < len(s) && s[j+1] == c {
						j += 2
						continue
					}
					break
				}
				j++
			}
			if j >= len(s) {
				return false
			}
			if j+1 < len(s) && isWordByte(s[j+1]) {
				return false
			}
			i = j
		case '(':
			depth++
		case ')':
			depth--
			if depth < 0 {
				return false
			}
		case ';', '#':
			return false
		case '-':
			if i+1 < len(s) && s[i+1] == '-' {
				return false
			}
		case '/':
			if i+1 < len(s) && s[i+1] == '*' {
				return false
			}
		}
	}
	return depth == 0
}

// statementVerbs start complete SQL statements.
var statementVerbs = map[string]bool{
	"select": true, "with": true, "insert": true, "update": true, "delete": true,
	"create": true, "alter": true, "drop": true, "explain": true, "show": true,
	"describe": true, "desc": true, "pragma": true, "begin": true, "commit": true,
	"rollback": true, "set": true, "truncate": true, "merge": true, "grant": true,
	"revoke": true, "call": true, "values": true, "copy": true, "analyze": true,
	"vacuum": true, "use": true, "replace": true, "upsert": true, "declare": true,
	"start": true, "refresh": true, "comment": true, "reindex": true, "cluster": true,
	"listen": true, "notify": true, "prepare": true, "execute": true, "deallocate": true,
	"optimize": true, "check": true, "table": true, "lock": true, "unlock": true,
}

// isStatement reports whether s starts (after spaces, parentheses and
// leading comments) with a statement verb followed by more SQL.
func isStatement(s string) bool {
	i := 0
	for i < len(s) {
		i = skipSpace(s, i)
		switch {
		case i < len(s) && s[i] == '(':
			i++
			continue
		case i+1 < len(s) && s[i] == '-' && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
			continue
		case i+1 < len(s) && s[i] == '/' && s[i+1] == '*':
			j := indexFold(s, "*/", i+2)
			if j < 0 {
				return false
			}
			i = j + 2
			continue
		}
		break
	}
	j := i
	for j < len(s) && isAlpha(s[j]) {
		j++
	}
	if j == i || j-i > 10 || j >= len(s) || !isSpace(s[j]) && s[j] != '*' && s[j] != '(' {
		return false
	}
	var w [10]byte
	n := copy(w[:], s[i:j])
	for x := 0; x < n; x++ {
		w[x] |= 0x20
	}
	return statementVerbs[string(w[:n])]
}

// strongSQL finds the markers of an injection that do not occur in SQL
// written for a legitimate purpose. In statement mode it leaves out what a
// real query does use (sub-selects, comments, UNION of tables, stacked
// statements). It returns the rule id and the matched span.
func strongSQL(s string, statement bool) (string, string) {
	for i := 0; i < len(s); {
		c := s[i]
		if !isWordByte(c) {
			if c == '@' && i+9 <= len(s) && s[i+1] == '@' && hasFoldPrefix(s[i+2:], "version") && !statement {
				return "sqli.version_probe", s[i : i+9]
			}
			if c == '@' && !statement && i+4 < len(s) && s[i+1] == '@' && isAlpha(s[i+2]) && isAlpha(s[i+3]) && (i == 0 || s[i-1] != '@') {
				// "@@datadir", "@@hostname": a server variable.
				return "sqli.variable_probe", s[i:min(len(s), i+8)]
			}
			i++
			continue
		}
		j := i
		for j < len(s) && isWordByte(s[j]) {
			j++
		}
		if i > 0 && isWordByte(s[i-1]) {
			i = j
			continue
		}
		w := s[i:j]
		if len(w) < 2 || len(w) > 20 || !isAlpha(w[0]) || sqlMarkerLens[(w[0]|0x20)-'a']&(1<<len(w)) == 0 {
			i = j
			continue
		}
		switch {
		case eqFold(w, "or") || eqFold(w, "and") || eqFold(w, "xor"):
			if end := tautology(s, i, j, eqFold(w, "or"), !statement); end > 0 {
				return "sqli.tautology", s[i:end]
			}
			if !statement {
				k := skipSpace(s, j)
				for k < len(s) && s[k] == '(' {
					k = skipSpace(s, k+1)
				}
				if wordAt(s, k, "select") && precededByValue(s, i) {
					return "sqli.subselect", s[i:min(len(s), k+6)]
				}
			}
		case eqFold(w, "select") && !statement && i > 0:
			// "(SELECT version())", "(select * from …)": a sub-select in a
			// value. "(select one)" in a sentence has none of what follows.
			p := i - 1
			for p >= 0 && (isSpace(s[p]) || s[p] == '+') {
				p--
			}
			if p >= 0 && s[p] == '(' {
				k := skipSQLSpace(s, j)
				if k < len(s) && (s[k] == '*' || s[k] == '@' || s[k] == '(') {
					return "sqli.subselect", s[p:min(len(s), k+1)]
				}
				e := k
				for e < len(s) && isWordByte(s[e]) {
					e++
				}
				if e < len(s) && e > k && s[e] == '(' {
					return "sqli.subselect", s[p:min(len(s), e+1)]
				}
				if f := indexWordFold(s[j:min(len(s), j+120)], "from", 0); f >= 0 {
					return "sqli.subselect", s[p:min(len(s), j+f+4)]
				}
			}
		case !statement && (eqFold(w, "except") || eqFold(w, "intersect") || eqFold(w, "minus")):
			k := skipSQLSpace(s, j)
			if wordAt(s, k, "all") {
				k = skipSQLSpace(s, k+3)
			}
			if wordAt(s, k, "select") && precededByValue(s, i) || wordAt(s, k, "select") && skipSpace(s, 0) == i {
				return "sqli.union", s[i : k+6]
			}
		case eqFold(w, "union"):
			k := skipSQLSpace(s, j)
			for _, opt := range [...]string{"all", "distinct"} {
				if wordAt(s, k, opt) {
					k = skipSQLSpace(s, k+len(opt))
				}
			}
			if wordAt(s, k, "select") {
				if !statement {
					return "sqli.union", s[i : k+6]
				}
				if unionProbe(s, k+6) {
					return "sqli.union_probe", s[i : k+6]
				}
			}
		case eqFold(w, "sleep") || eqFold(w, "pg_sleep") || eqFold(w, "benchmark"):
			k := skipSQLSpace(s, j)
			if k < len(s) && s[k] == '(' {
				k2 := skipSpace(s, k+1)
				if k2 < len(s) && k2+1 < len(s) && (s[k2] == '-' || s[k2] == '(') && isDigit(s[skipSpace(s, k2+1)]) {
					k2++
				}
				if k2 < len(s) && (isDigit(s[k2]) || !eqFold(w, "sleep")) {
					return "sqli.time_delay", s[i:k2]
				}
			}
			if !statement && eqFold(w, "sleep") && k < len(s) && s[k] == '(' {
				// ") or sleep(__TIME__)=", "sELecT slEep ("10")": a
				// delay after a logic operator, a select or a quote,
				// whatever its argument.
				p := i - 1
				for p >= 0 && isSpace(s[p]) {
					p--
				}
				if p >= 0 && (s[p] == '\'' || s[p] == '"' || s[p] == '(' || s[p] == '=' || s[p] == '|' || s[p] == '&' || s[p] == ',') ||
					p >= 1 && (eqFold(s[max(0, p-1):p+1], "or") || p >= 2 && (eqFold(s[p-2:p+1], "and") || eqFold(s[p-2:p+1], "xor")) || p >= 5 && eqFold(s[p-5:p+1], "select")) {
					return "sqli.time_delay", s[i:min(len(s), k+1)]
				}
			}
			if !statement && eqFold(w, "sleep") && k > j && k < len(s) && isDigit(s[k]) && i > 0 && (s[i-1] == '\'' || s[i-1] == '"' || s[i-1] == '|' || s[i-1] == '+') {
				// "'sleep 50'", "'||sleep 5": a delay concatenated into a
				// string literal.
				return "sqli.time_delay", s[i-1 : k]
			}
		case eqFold(w, "case"):
			// "(CASE WHEN (1=1) THEN name ELSE id END)" in an ORDER BY or
			// sort parameter: a boolean-blind probe. A real CASE compares
			// a column; a probe compares literals or asks the database.
			k := skipSQLSpace(s, j)
			if wordAt(s, k, "when") {
				cs := k + 4
				if t := indexWordFold(s[cs:min(len(s), cs+240)], "then", 0); t > 0 && probeCondition(s[cs:cs+t], statement) {
					return "sqli.conditional", s[i:min(len(s), cs+t+4)]
				}
			}
		case (eqFold(w, "if") || eqFold(w, "iif")) && !statement:
			// "IF(1=1,name,id)": the MySQL and T-SQL form of the same probe.
			if k := skipSpace(s, j); k < len(s) && s[k] == '(' {
				if e := strings.IndexByte(s[k+1:min(len(s), k+241)], ','); e > 0 && probeCondition(s[k+1:k+1+e], false) {
					return "sqli.conditional", s[i:min(len(s), k+2+e)]
				}
			}
		case eqFold(w, "waitfor"):
			k := skipSQLSpace(s, j)
			if wordAt(s, k, "delay") || wordAt(s, k, "time") {
				return "sqli.time_delay", s[i:k]
			}
		case eqFold(w, "xp_cmdshell") || eqFold(w, "sp_oacreate") || eqFold(w, "xp_dirtree") ||
			eqFold(w, "sp_execute_external_script") || eqFold(w, "xp_regread") || eqFold(w, "sp_makewebtask"):
			return "sqli.exec", w
		case eqFold(w, "load_file") || eqFold(w, "lo_import") || eqFold(w, "openrowset") || eqFold(w, "opendatasource"):
			if k := skipSpace(s, j); k < len(s) && s[k] == '(' {
				return "sqli.file_access", w
			}
		case eqFold(w, "into"):
			k := skipSQLSpace(s, j)
			if wordAt(s, k, "outfile") || wordAt(s, k, "dumpfile") {
				return "sqli.file_access", s[i : k+7]
			}
		case !statement && (eqFold(w, "utl_http") || eqFold(w, "utl_inaddr") || eqFold(w, "dbms_pipe") || eqFold(w, "dbms_ldap") || eqFold(w, "utl_smtp") || eqFold(w, "utl_tcp")):
			// Oracle's network packages: out-of-band exfiltration.
			return "sqli.error_based", w
		case eqFold(w, "extractvalue") || eqFold(w, "updatexml") || eqFold(w, "utl_inaddr") ||
			eqFold(w, "utl_http") || eqFold(w, "dbms_pipe") || eqFold(w, "dbms_lock") || eqFold(w, "ctxsys") ||
			eqFold(w, "dbms_xmlgen") || eqFold(w, "xmltype") || eqFold(w, "geometrycollection"):
			if k := skipSpace(s, j); k < len(s) && (s[k] == '(' || s[k] == '.') {
				return "sqli.error_based", w
			}
		case eqFold(w, "rand") && !statement:
			if hasFoldPrefix(s[j:], "(0)*2") {
				return "sqli.error_based", s[i : j+5]
			}
		case !statement && (eqFold(w, "information_schema") || eqFold(w, "pg_catalog") || eqFold(w, "pg_shadow") ||
			eqFold(w, "sysobjects") || eqFold(w, "syscolumns") || eqFold(w, "sysdatabases") || eqFold(w, "sqlite_master") ||
			eqFold(w, "sqlite_schema") || eqFold(w, "msysobjects") || eqFold(w, "all_tables") || eqFold(w, "all_tab_columns") ||
			eqFold(w, "dba_users")):
			// The system catalogue: what an injection enumerates. A value
			// that names it is not data.
			return "sqli.catalog", w
		case !statement && eqFold(w, "mysql"):
			if hasFoldPrefix(s[j:], ".user") {
				return "sqli.catalog", s[i:min(len(s), j+5)]
			}
		case !statement && (eqFold(w, "current_setting") || eqFold(w, "pg_read_file") || eqFold(w, "pg_read_binary_file") ||
			eqFold(w, "pg_ls_dir") || eqFold(w, "lo_get") || eqFold(w, "lo_export") || eqFold(w, "lo_from_bytea") ||
			eqFold(w, "sys_eval") || eqFold(w, "sys_exec") || eqFold(w, "load_extension") || eqFold(w, "randomblob") ||
			eqFold(w, "gtid_subset") || eqFold(w, "name_const") || eqFold(w, "dbms_xmlquery") || eqFold(w, "utl_file")):
			if k := skipSpace(s, j); k < len(s) && (s[k] == '(' || s[k] == '.') {
				return "sqli.function_probe", w
			}
		case !statement && (eqFold(w, "version") || eqFold(w, "database") || eqFold(w, "user") || eqFold(w, "schema") ||
			eqFold(w, "current_user") || eqFold(w, "system_user") || eqFold(w, "session_user") || eqFold(w, "connection_id")):
			// "version()", "user()": what a probe asks the database;
			// "user() is deprecated" is a sentence about one.
			if hasFoldPrefix(s[j:], "()") && (i == 0 || s[i-1] != '.') {
				t := skipSpace(s, j+2)
				if t >= len(s) || !isAlpha(s[t]) {
					return "sqli.function_probe", s[i : j+2]
				}
			}
		case !statement && (eqFold(w, "exec") || eqFold(w, "execute")):
			k := skipSpace(s, j)
			if k < len(s) && s[k] == '(' {
				k = skipSpace(s, k+1)
			}
			if k < len(s) && (s[k] == '@' || hasFoldPrefix(s[k:], "master.") || hasFoldPrefix(s[k:], "sp_") || hasFoldPrefix(s[k:], "xp_") ||
				hasFoldPrefix(s[k:], "char(") || hasFoldPrefix(s[k:], "0x") || wordAt(s, k, "immediate")) {
				return "sqli.exec", s[i:min(len(s), k+2)]
			}
		case !statement && (eqFold(w, "char") || eqFold(w, "chr")):
			// char(0x70)+char(0x65)…: a string spelled in code points to
			// get past quote filters.
			if k := skipSpace(s, j); k+1 < len(s) && s[k] == '(' && isDigit(s[skipSpace(s, k+1)]) {
				// joined by + or || (T-SQL, Oracle, PostgreSQL); a
				// spreadsheet's =A1&CHAR(10)&B1 joins with '&'.
				if e := strings.IndexByte(s[k:], ')'); e > 0 {
					t := skipSpace(s, k+e+1)
					if t < len(s) && (s[t] == '+' || hasFoldPrefix(s[t:], "||")) {
						t = skipSpace(s, t+1)
						if t < len(s) && s[t] == '|' {
							t = skipSpace(s, t+1)
						}
						if hasFoldPrefix(s[t:], "char(") || hasFoldPrefix(s[t:], "chr(") {
							return "sqli.char_encoding", s[i:min(len(s), k+1)]
						}
					}
				}
			}
		case eqFold(w, "copy") && statement:
			// COPY … FROM PROGRAM runs a shell command on PostgreSQL.
			if k := indexWordFold(s, "program", j); k > 0 && k-j < 200 && indexWordFold(s[j:k], "from", 0) >= 0 {
				return "sqli.exec", s[i : k+7]
			}
		}
		i = j
	}
	if !statement {
		if k := indexFold(s, "/*!", 0); k >= 0 {
			return "sqli.mysql_comment", s[k:min(len(s), k+8)]
		}
		if span := stackedStatement(s); span != "" {
			return "sqli.stacked", span
		}
		if span := quoteThenComment(s); span != "" {
			return "sqli.comment_truncation", span
		}
	}
	return "", ""
}

// probeCondition reports the condition of a boolean-blind probe: literals
// compared with literals ("1=1", "'a'<>'b'", "(2>1)"), or, outside
// statements, a condition that asks the database something (a
// sub-select, ASCII(SUBSTRING(…)), @@version, a delay).
func probeCondition(c string, statement bool) bool {
	i := skipSQLSpace(c, 0)
	for i < len(c) && c[i] == '(' {
		i = skipSQLSpace(c, i+1)
	}
	if _, k, ok := sqlLiteral(c, i); ok {
		k = skipSQLSpace(c, k)
		op := 0
		switch {
		case hasFoldPrefix(c[k:], "<>"), hasFoldPrefix(c[k:], "!="), hasFoldPrefix(c[k:], "<="), hasFoldPrefix(c[k:], ">="), hasFoldPrefix(c[k:], "=="):
			op = 2
		case k < len(c) && (c[k] == '=' || c[k] == '<' || c[k] == '>'):
			op = 1
		}
		if op > 0 {
			if _, e, ok := sqlLiteral(c, skipSQLSpace(c, k+op)); ok {
				for e < len(c) && (c[e] == ')' || isSpace(c[e])) {
					e++
				}
				if e == len(c) {
					return true
				}
			}
		}
	}
	if statement {
		return false
	}
	for _, w := range [...]string{"select", "ascii(", "substr", "mid(", "length(", "@@", "version(", "user(", "database(", "schema(", "current_user", "sleep(", "benchmark(", "pg_sleep", "load_file("} {
		if indexFold(c, w, 0) >= 0 {
			return true
		}
	}
	return false
}

// sqlLiteral reads a number or a quoted string at c[i:].
func sqlLiteral(c string, i int) (string, int, bool) {
	if i >= len(c) {
		return "", i, false
	}
	q := c[i]
	if q == '\'' || q == '"' {
		e := strings.IndexByte(c[i+1:], q)
		if e < 0 {
			return "", i, false
		}
		return c[i+1 : i+1+e], i + 2 + e, true
	}
	e := i
	if e < len(c) && c[e] == '-' {
		e++
	}
	d := e
	for e < len(c) && isDigit(c[e]) {
		e++
	}
	if e == d || (e < len(c) && isWordByte(c[e])) {
		return "", i, false
	}
	return c[i:e], e, true
}

// sqlMarkerWords are the words the switch in strongSQL acts on; keep the
// two in step. sqlMarkerLens indexes them by first letter and length, so
// that the other words of a value ("San", "Francisco") skip the switch.
var sqlMarkerWords = [...]string{
	"or", "and", "xor", "select", "union", "sleep", "pg_sleep", "benchmark", "case", "if", "iif",
	"waitfor", "xp_cmdshell", "sp_oacreate", "xp_dirtree", "sp_execute_external_script",
	"xp_regread", "sp_makewebtask", "load_file", "lo_import", "openrowset", "opendatasource",
	"into", "extractvalue", "updatexml", "utl_inaddr", "utl_http", "dbms_pipe", "dbms_lock",
	"ctxsys", "dbms_xmlgen", "xmltype", "geometrycollection", "rand", "copy",
	"information_schema", "pg_catalog", "pg_shadow", "sysobjects", "syscolumns", "sysdatabases",
	"sqlite_master", "sqlite_schema", "msysobjects", "all_tables", "all_tab_columns", "dba_users", "mysql",
	"current_setting", "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "lo_get", "lo_export",
	"lo_from_bytea", "sys_eval", "sys_exec", "load_extension", "randomblob", "gtid_subset", "name_const",
	"dbms_xmlquery", "utl_file", "version", "database", "user", "schema", "current_user", "system_user",
	"session_user", "connection_id", "dbms_ldap", "utl_smtp", "utl_tcp", "exec", "execute", "char", "chr", "except", "intersect", "minus",
}

var sqlMarkerLens = func() (t [26]uint32) {
	for _, w := range sqlMarkerWords {
		if len(w) < 32 {
			t[w[0]-'a'] |= 1 << len(w)
		}
	}
	return t
}()

// stackedStatement finds ';' followed by a second statement: SELECT … FROM,
// DROP TABLE, DELETE FROM, INSERT INTO, UPDATE … SET, EXEC(…), SHUTDOWN,
// DECLARE @…. A sentence with a semicolon ("pick one; select the best")
// does not have the rest of the statement.
func stackedStatement(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] != ';' {
			continue
		}
		k := skipSQLSpace(s, i+1)
		rest := s[k:]
		end := min(len(rest), 120)
		switch {
		case wordAt(rest, 0, "select"):
			if indexWordFold(rest[:end], "from", 6) > 0 || (len(rest) > 7 && (rest[7] == '*' || rest[7] == '@')) || hasFoldPrefix(rest[6:], " pg_sleep") || hasFoldPrefix(rest[6:], " sleep") || selectList(rest, skipSQLSpace(rest, 6)) {
				return s[i:min(len(s), k+6)]
			}
		case wordAt(rest, 0, "set"):
			// ";SET @a=…": a user variable, the start of a prepared
			// statement built from a string.
			if j := skipSpace(rest, 3); j < len(rest) && rest[j] == '@' {
				return s[i:min(len(s), k+5)]
			}
		case wordAt(rest, 0, "prepare"):
			if _, n := sqlIdent(rest, skipSpace(rest, 7)); n > 7 && wordAt(rest, skipSpace(rest, n), "from") {
				return s[i:min(len(s), k+7)]
			}
		case wordAt(rest, 0, "drop"):
			if j := skipSpace(rest, 4); wordAt(rest, j, "table") || wordAt(rest, j, "database") || wordAt(rest, j, "user") {
				return s[i:min(len(s), k+4)]
			}
		case wordAt(rest, 0, "delete"):
			if wordAt(rest, skipSpace(rest, 6), "from") {
				return s[i:min(len(s), k+6)]
			}
		case wordAt(rest, 0, "insert") || wordAt(rest, 0, "replace"):
			if wordAt(rest, skipSpace(rest, 6), "into") || indexWordFold(rest[:end], "values", 6) > 0 {
				return s[i:min(len(s), k+6)]
			}
		case wordAt(rest, 0, "update"):
			if indexWordFold(rest[:end], "set", 6) > 0 {
				return s[i:min(len(s), k+6)]
			}
		case wordAt(rest, 0, "exec") || wordAt(rest, 0, "execute"):
			j := skipSpace(rest, 4)
			if wordAt(rest, 0, "execute") {
				j = skipSpace(rest, 7)
			}
			if j < len(rest) && (rest[j] == '(' || rest[j] == '@' || hasFoldPrefix(rest[j:], "master") || hasFoldPrefix(rest[j:], "sp_") || hasFoldPrefix(rest[j:], "xp_") || wordAt(rest, j, "immediate")) {
				return s[i:min(len(s), k+4)]
			}
			if _, n := sqlIdent(rest, j); n > j && (n >= len(rest) || rest[skipSpace(rest, n)] == ';') && i > 0 && strings.Count(s[:i], ";") > 0 {
				// "…;prepare b from @a;execute b;"
				return s[i:min(len(s), k+4)]
			}
		case wordAt(rest, 0, "shutdown"):
			j := skipSpace(rest, 8)
			if j >= len(rest) || hasFoldPrefix(rest[j:], "--") || rest[j] == '#' || rest[j] == ';' || wordAt(rest, j, "with") {
				return s[i:min(len(s), k+8)]
			}
		case wordAt(rest, 0, "declare"):
			if j := skipSpace(rest, 7); j < len(rest) && rest[j] == '@' {
				return s[i:min(len(s), k+7)]
			}
		case wordAt(rest, 0, "truncate") || wordAt(rest, 0, "alter") || wordAt(rest, 0, "create"):
			if j := skipSpace(rest, strings.IndexByte(rest+" ", ' ')); wordAt(rest, j, "table") || wordAt(rest, j, "user") || wordAt(rest, j, "login") {
				return s[i:min(len(s), k+6)]
			}
		}
	}
	return ""
}

// quoteThenComment finds a quote (and closing parentheses) followed by a
// comment that ends the value: "admin'--", "admin' #", "') -- -". The
// comment cuts off the rest of the application's query.
func quoteThenComment(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] != '\'' && s[i] != '"' {
			continue
		}
		j := i + 1
		for j < len(s) && (s[j] == ')' || s[j] == ' ' || s[j] == '\t') {
			j++
		}
		var k int
		switch {
		case j < len(s) && s[j] == '#':
			k = j + 1
		case j+1 < len(s) && s[j] == '-' && s[j+1] == '-':
			k = j + 2
		case j+1 < len(s) && s[j] == '/' && s[j+1] == '*':
			k = j + 2
		default:
			continue
		}
		// the rest is at most a short tail ("-", "+", " -")
		tail := strings.TrimSpace(s[k:])
		if len(tail) <= 2 {
			return s[i:min(len(s), k)]
		}
	}
	return ""
}

func eqFold(w, lower string) bool { return len(w) == len(lower) && hasFoldPrefix(w, lower) }

// skipSQLSpace skips spaces and /* */ comments, which MySQL accepts in
// place of spaces ("UNION/**/SELECT").
func skipSQLSpace(s string, i int) int {
	for {
		i = skipSpace(s, i)
		if i+1 < len(s) && s[i] == '/' && s[i+1] == '*' {
			j := indexFold(s, "*/", i+2)
			if j < 0 {
				return len(s)
			}
			i = j + 2
			continue
		}
		if i < len(s) && s[i] == '+' {
			i++
			continue
		}
		return i
	}
}

// precededByValue reports whether the operator at i follows a quote, a
// digit or a closing parenthesis: "' or", "1 or", ") or". A sentence ("true
// or false") does not qualify.
func precededByValue(s string, i int) bool {
	k := i - 1
	for k >= 0 && (isSpace(s[k]) || s[k] == '+') {
		k--
	}
	if k < 0 {
		return false
	}
	// /**/ before the operator
	if k >= 1 && s[k] == '/' && s[k-1] == '*' {
		return true
	}
	c := s[k]
	return c == '\'' || c == '"' || c == '`' || c == ')' || isDigit(c)
}

// tautology recognises "<value> OR x=x" after the operator word s[i:j]:
// equal operands around =, ==, LIKE, <=, >= or IS, and "OR 1" / "OR true"
// that end the injected fragment. It returns the end of the match or 0.
//
// loose (fragment fields only) also accepts a tautology after a word ("hi
// or 1=1 --") when its operands are the same number.
func tautology(s string, i, j int, or, loose bool) int {
	pre := precededByValue(s, i) || skipSpace(s, 0) == i || s[i-1] == '|' || s[i-1] == '&'
	if !pre && !loose {
		return 0
	}
	k := skipSQLSpace(s, j)
	for k < len(s) && s[k] == '(' {
		k = skipSQLSpace(s, k+1)
	}
	if wordAt(s, k, "not") {
		k = skipSQLSpace(s, k+3)
	}
	a, k2, ok := sqlOperand(s, k)
	if !ok {
		return 0
	}
	if !pre {
		return looseTautology(s, a, k2)
	}
	k = skipSQLSpace(s, k2)
	if k+1 < len(s) && s[k] == ':' && s[k+1] == ':' {
		// a PostgreSQL cast: '{"b":2}'::jsonb
		_, e, _ := sqlOperand(s, k+2)
		k = skipSQLSpace(s, e)
	}
	if k < len(s) && k > 0 && (len(a) > 0 && (a[0] == '{' || a[0] == '[')) && jsonOperator(s, k) > 0 {
		// "OR '{"a":"b"}' ? 'a'", "OR '{…}'::jsonb @> '{…}'": the
		// PostgreSQL JSON operators make a tautology no '=' filter sees.
		n := jsonOperator(s, k)
		if _, e, ok := sqlOperand(s, skipSQLSpace(s, k+n)); ok {
			return e
		}
	}
	// "OR 1", "OR true" closing the fragment.
	if k >= len(s) || s[k] == '#' || s[k] == ';' || s[k] == ')' || hasFoldPrefix(s[k:], "--") || hasFoldPrefix(s[k:], "/*") {
		if eqFold(a, "true") || (len(a) > 0 && isDigit(a[0]) && a != "0") {
			// "1 or 2" alone is an answer; "1 or 1", "' or 1" and
			// "1 or 2--" are not.
			p := i - 1
			for p >= 0 && (isSpace(s[p]) || s[p] == '+') {
				p--
			}
			if k < len(s) || p < 0 || !isDigit(s[p]) || a == "1" || eqFold(a, "true") || strings.HasSuffix(s[:p+1], a) && (p+1-len(a) == 0 || !isDigit(s[p-len(a)])) {
				return k2
			}
		}
		return 0
	}
	op := ""
	switch {
	case hasFoldPrefix(s[k:], "=="):
		op = "=="
	case hasFoldPrefix(s[k:], "<=>"):
		op = "<=>"
	case hasFoldPrefix(s[k:], ">="), hasFoldPrefix(s[k:], "<="):
		op = s[k : k+2]
	case s[k] == '=':
		op = "="
	case wordAt(s, k, "like"):
		op = "like"
	case wordAt(s, k, "is"):
		op = "is"
	case s[k] == '>' || s[k] == '<':
		op = s[k : k+1]
	default:
		return 0
	}
	k = skipSQLSpace(s, k+len(op))
	b, k3, ok := sqlOperand(s, k)
	if !ok {
		return 0
	}
	switch op {
	case ">", "<":
		// "OR 2>1" is always true; "AND 7 > 2" is arithmetic as often as
		// it is a probe.
		if or && isNumber(a) && isNumber(b) {
			if (op == ">" && numGreater(a, b)) || (op == "<" && numGreater(b, a)) {
				return k3
			}
		}
		return 0
	case "is":
		return 0
	}
	if len(a) == len(b) && hasFoldPrefix(a, lowerSmall(b)) {
		return k3
	}
	return 0
}

// sqlOperand reads a number, a quoted string (an unterminated one runs to
// the end: the closing quote is the application's), or a word.
func sqlOperand(s string, k int) (string, int, bool) {
	if k >= len(s) {
		return "", k, false
	}
	if k+1 < len(s) && (s[k+1] == '\'' || s[k+1] == '"') && (s[k]|0x20 == 'n' || s[k]|0x20 == 'x' || s[k]|0x20 == 'b') && (k == 0 || !isWordByte(s[k-1])) {
		k++ // N'text', X'41', B'01': prefixed literals
	}
	switch q := s[k]; {
	case q == '\'' || q == '"' || q == '`':
		e := k + 1
		for e < len(s) && s[e] != q {
			e++
		}
		if e-k > 66 {
			return "", k, false
		}
		if e >= len(s) {
			// unterminated: the application supplies the closing quote;
			// the operand is the next token.
			t := k + 1
			for t < len(s) && !isSpace(s[t]) {
				t++
			}
			return s[k+1 : t], t, true
		}
		return s[k+1 : e], e + 1, true
	case isWordByte(q) || q == '-':
		e := k + 1
		for e < len(s) && (isWordByte(s[e]) || s[e] == '.') {
			e++
		}
		if e-k > 64 {
			return "", k, false
		}
		return s[k:e], e, true
	}
	return "", k, false
}

// looseTautology accepts "<n> = <n>" (or ==, <=>) after an operator word
// that follows something other than a value, when the fragment ends
// there or a comment or quote follows.
func looseTautology(s, a string, k int) int {
	if !isNumber(a) {
		return 0
	}
	k = skipSQLSpace(s, k)
	n := 0
	switch {
	case hasFoldPrefix(s[k:], "<=>"):
		n = 3
	case hasFoldPrefix(s[k:], "=="):
		n = 2
	case k < len(s) && s[k] == '=':
		n = 1
	default:
		return 0
	}
	b, e, ok := sqlOperand(s, skipSQLSpace(s, k+n))
	if !ok || b != a {
		return 0
	}
	t := skipSpace(s, e)
	if t >= len(s) || s[t] == '\'' || s[t] == '"' || s[t] == '#' || s[t] == ';' || s[t] == ')' || hasFoldPrefix(s[t:], "--") || hasFoldPrefix(s[t:], "/*") {
		return e
	}
	return 0
}

// jsonOperator returns the length of a PostgreSQL JSON operator at s[k:]
// (?, ?|, ?&, @>, <@), or 0.
func jsonOperator(s string, k int) int {
	switch {
	case hasFoldPrefix(s[k:], "?|"), hasFoldPrefix(s[k:], "?&"), hasFoldPrefix(s[k:], "@>"), hasFoldPrefix(s[k:], "<@"):
		return 2
	case s[k] == '?':
		return 1
	}
	return 0
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func numGreater(a, b string) bool {
	if len(a) != len(b) {
		return len(a) > len(b)
	}
	return a > b
}

// lowerSmall lower-cases an operand of at most 66 bytes; tautology
// operands are that short by construction.
func lowerSmall(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// unionProbe reports a UNION SELECT whose select list is what column-count
// and data-extraction probes use: NULLs, bare numbers, @@ variables,
// CHAR()/CONCAT()/0x literals, or the catalogue columns.
func unionProbe(s string, i int) bool {
	i = skipSQLSpace(s, i)
	if i >= len(s) {
		return false
	}
	for _, w := range [...]string{"null", "@@", "char(", "concat(", "group_concat(", "0x", "version(", "user(", "database(", "current_user", "table_name", "column_name", "password", "load_file(", "schema_name"} {
		if hasFoldPrefix(s[i:], w) {
			return true
		}
	}
	if isDigit(s[i]) {
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		j = skipSpace(s, j)
		return j >= len(s) || s[j] == ',' || s[j] == '-' || s[j] == '#' || s[j] == '/'
	}
	return false
}

// foldQuotes writes s into dst with the quote look-alikes (’ ‘ ʼ ′ ´ ＇)
// as an apostrophe and reports whether there were any.
func foldQuotes(dst []byte, s string) ([]byte, bool) {
	return foldRunes(dst, s, func(r rune) (byte, bool) {
		switch r {
		case 0x2019, 0x2018, 0x02bc, 0x2032, 0x00b4, 0xff07:
			return '\'', true
		}
		return 0, false
	})
}
