package validate

import "strings"

// NoSQL (MongoDB) injection.
//
// Two forms. Operator injection puts a query operator where the
// application expects a scalar: {"password": {"$ne": null}} as JSON, or
// password[$ne]=1 through a query-string parser. JavaScript injection
// reaches $where or mapReduce: "' || '1'=='1", "'; sleep(5000); '",
// "this.password.match(/.*/)".
//
// Operator keys are expected inside a query document (an object under
// "filter", "query", "where"…, KindMongoQuery) and only tagged there; a
// key in query-string bracket form ("user[$ne]") is an injection anywhere
// outside code, and so is the value found under it. In
// strings an operator counts only in operator context: after '{', '[', a
// quote or ',' and before ':', ']' or a quote; "$5" and "costs $10" are
// prices.

// mongoOps are the operators injection payloads use.
var mongoOps = map[string]bool{
	"ne": true, "gt": true, "gte": true, "lt": true, "lte": true, "eq": true, "in": true,
	"nin": true, "regex": true, "where": true, "exists": true, "or": true, "and": true,
	"nor": true, "not": true, "expr": true, "function": true, "accumulator": true,
	"elemmatch": true, "size": true, "type": true, "all": true, "mod": true, "text": true,
	"jsonschema": true, "lookup": true, "match": true, "group": true, "comment": true,
	"set": true, "unset": true, "push": true, "inc": true, "rename": true, "options": true,
	"search": true, "where:": true,
}

// isMongoOp reports whether key ("$ne") is an operator.
func isMongoOp(key string) bool {
	if len(key) < 3 || len(key) > 12 || key[0] != '$' {
		return false
	}
	var b [12]byte
	n := 0
	for i := 1; i < len(key); i++ {
		ch := key[i]
		if ch >= 'A' && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		if !isAlpha(ch) {
			return false
		}
		b[n] = ch
		n++
	}
	return mongoOps[string(b[:n])]
}

// nosqlKey handles an object key that is an operator ("$ne"), or that
// carries one the way query-string parsers (qs, PHP, Rails) build nested
// objects: "user[$ne]", "pass[$gt]".
func (c *checker) nosqlKey(k FieldKind, key string, inQuery bool) {
	if isMongoOp(key) {
		c.report(k, ThreatNoSQLi, "nosqli.operator_key", key, inQuery || k.IsCode())
		return
	}
	if span := bracketOperator(key); span != "" {
		// A query document is written as JSON, never in bracket form:
		// a bracketed operator is someone else's parser at work.
		c.report(k, ThreatNoSQLi, "nosqli.operator_key", span, k.IsCode())
	}
}

// bracketOperator finds "[$op]" in a key or a path: what "user[$ne]=x"
// becomes once a query-string parser has turned it into an object.
func bracketOperator(s string) string {
	for from := 0; from < len(s); {
		i := strings.Index(s[from:], "[$")
		if i < 0 {
			return ""
		}
		i += from
		j := i + 2
		for j < len(s) && isAlpha(s[j]) && j-i <= 13 {
			j++
		}
		if j < len(s) && s[j] == ']' && isMongoOp(s[i+1:j]) {
			return s[i : j+1]
		}
		from = i + 2
	}
	return ""
}

func (c *checker) nosqlString(k FieldKind, s string, m classes) {
	if !c.asText {
		// A value under a key such as "user[$ne]": the key is the
		// injection, whatever the value ("", "x"). The walker only hands
		// keys starting with '$' to nosqlKey, so the path is where a
		// bracketed one shows.
		if span := bracketOperator(bstr(c.path)); span != "" {
			c.report(k, ThreatNoSQLi, "nosqli.operator_key", span, false)
			return
		}
	}
	if !m.has(cDollar|cPipe|cAmp|cSemi|cPct) && !(m.has(cDot) && m.has(cParen)) {
		return
	}
	if k == KindQuery && (isJSONDocument(s) || mongoShell(s)) {
		// A query field holding a whole query document or a mongo shell
		// call: operators are what it is made of.
		if span := operatorInString(s); span != "" {
			c.report(k, ThreatNoSQLi, "nosqli.operator", span, true)
		}
		return
	}
	if m.has(cDollar) {
		if span := operatorInString(s); span != "" {
			c.report(k, ThreatNoSQLi, "nosqli.operator", span, false)
			return
		}
	}
	if span := mongoJS(s, m); span != "" {
		c.report(k, ThreatNoSQLi, "nosqli.javascript", span, false)
		return
	}
	if m.has(cPct) {
		d, rounds := c.dec.canonical(s, false)
		if rounds > 0 {
			ds := bstr(d)
			dm := classify(ds)
			if dm.has(cDollar) && operatorInString(ds) != "" {
				// "user%5B%24ne%5D=x": a form body or query string.
				c.report(k, ThreatNoSQLi, "nosqli.operator_decoded", s, false)
				return
			}
			if span := mongoJS(ds, dm); span != "" {
				c.report(k, ThreatNoSQLi, "nosqli.javascript", s, false)
			}
		}
	}
}

// operatorInString finds "$op" in operator context.
func operatorInString(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			continue
		}
		j := i + 1
		for j < len(s) && isAlpha(s[j]) && j-i <= 12 {
			j++
		}
		if j == i+1 || !isMongoOp(s[i:j]) {
			continue
		}
		// before: start, '{', '[', quote, ',' or space after one of them
		p := i - 1
		for p >= 0 && s[p] == ' ' {
			p--
		}
		before := p < 0 || s[p] == '{' || s[p] == '[' || s[p] == '"' || s[p] == '\'' || s[p] == ','
		// after: ':', ']', quote, '=' (username[$ne]=x parsed by qs)
		q := j
		for q < len(s) && s[q] == ' ' {
			q++
		}
		after := q < len(s) && (s[q] == ':' || s[q] == ']' || s[q] == '"' || s[q] == '\'')
		if before && after {
			return s[i:j]
		}
	}
	return ""
}

// isJSONDocument reports a value that is a whole JSON object: a query
// document given as a string to a query field.
func isJSONDocument(s string) bool {
	i := skipSpace(s, 0)
	e := len(s) - 1
	for e >= 0 && isSpace(s[e]) {
		e--
	}
	return i < e && s[i] == '{' && s[e] == '}'
}

// mongoJS finds JavaScript injected into a $where or mapReduce string.
func mongoJS(s string, m classes) string {
	if m.has(cDot) && m.has(cParen) {
		if i := indexFold(s, "this.", 0); i >= 0 {
			rest := s[i+5:]
			j := 0
			for j < len(rest) && isWordByte(rest[j]) {
				j++
			}
			for _, f := range [...]string{".match(", ".length", ".startswith(", ".indexof(", ".substring(", ".charat(", ".tostring("} {
				if hasFoldPrefix(rest[j:], f) {
					return s[i:min(len(s), i+5+j+len(f))]
				}
			}
		}
		for _, w := range [...]string{"db.injection", "db.stores", "db.eval", "db.dropdatabase", "emit(1,1", "mapreduce("} {
			if i := indexFold(s, w, 0); i >= 0 {
				return s[i : i+len(w)]
			}
		}
	}
	if m.has(cPipe | cAmp) {
		// ' || '1'=='1   " || 1==1   ' && '1'=='1
		for i := 0; i+1 < len(s); i++ {
			if (s[i] == '|' && s[i+1] == '|') || (s[i] == '&' && s[i+1] == '&') {
				j := skipSpace(s, i+2)
				if end := jsEquality(s, j); end > 0 {
					return s[i:end]
				}
			}
		}
	}
	if m.has(cSemi) {
		for _, w := range [...]string{"sleep(", "while(true)", "while (true)", "do{pt=new date()", "return true", "return 1", "return this."} {
			if i := indexFold(s, w, 0); i >= 0 {
				p := i - 1
				for p >= 0 && s[p] == ' ' {
					p--
				}
				if p >= 0 && (s[p] == ';' || s[p] == '\'' || s[p] == '"' || s[p] == '{') {
					return s[i:min(len(s), i+len(w))]
				}
			}
		}
	}
	return ""
}

// jsEquality matches "x==x" or "'x'=='x" (== or ===) at s[j:].
func jsEquality(s string, j int) int {
	a, k, ok := sqlOperand(s, j)
	if !ok {
		return 0
	}
	k = skipSpace(s, k)
	if !hasFoldPrefix(s[k:], "==") {
		return 0
	}
	k += 2
	if k < len(s) && s[k] == '=' {
		k++
	}
	k = skipSpace(s, k)
	b, k2, ok := sqlOperand(s, k)
	if !ok || a != b {
		return 0
	}
	return k2
}

// mongoShell reports a mongo shell call: "db.users.find({…})".
func mongoShell(s string) bool {
	t := strings.TrimSpace(s)
	return hasFoldPrefix(t, "db.") && strings.IndexByte(t, '(') > 0
}
