// Package validate owns the field-aware input validation of ESCAI events:
// limits, identifier allow-lists, injection detection and custom rules,
// applied per field according to what the field is expected to hold.
//
// Agents legitimately carry SQL, shell commands, HTML and file paths in
// their events: an agent running a SQL tool should show "SELECT * FROM
// users". A validator that flags every SQL keyword is useless here, and one
// that misses "../../etc/passwd" in a file path or "*)(uid=*))(|(uid=*" in
// an LDAP filter is dangerous. So every string value is first given a field
// kind (from its JSON path), and the kind decides which detectors run, how
// strictly, and what a finding means.
//
// The package is pure: data in, a Result out. It imports the standard
// library, pkg/events, pkg/security/config, libinjection-go and yaml, does
// no I/O except in RunJSONL (on the reader and writer it is given), and
// keeps no state between calls. A Validator is built once with New (field
// table, rules and roots compiled) and is safe for concurrent use.
//
//	v, err := validate.New(validate.DefaultConfig(cfg.ValidationLevel))
//	…
//	res := v.CheckEvent(env)        // walks env.Data without recursion
//	switch res.Verdict {
//	case validate.VerdictRejected:  // dead-letter; res.Reasons[0].Code for the header
//	case validate.VerdictFlagged:   // pass, with res.Threats recorded on the event
//	}
//
// # Levels
//
// config.ValidationLevel (ESCAI_VALIDATION_LEVEL) sets what rejects:
//
//	                          permissive   standard (default)   strict
//	limits, UTF-8, controls   reject       reject               reject
//	identifiers, tool names   reject       reject               reject
//	custom rule: required,
//	  type, max_length, allow reject       reject               reject
//	threat in a structured
//	  field (path, URL, …)    flag         reject               reject
//	threat in an unknown
//	  field                   flag         flag                 reject
//	custom rule: deny match   flag         reject               reject
//	threat in free text       flag         flag                 flag
//	finding in code (SQL,
//	  shell, source)          tag          tag                  tag
//
// "flag" makes the verdict flagged: the event passes and its threats are
// recorded. "tag" adds an informational threat and leaves the verdict
// clean: SQL in a sql field is expected content. A rejected Result carries
// Reasons; a threat that rejects has the code "threat_" + its type.
//
// # Field policy
//
// A value's kind comes from, in order: Config.Fields.Paths (full-path globs,
// first match), its own key, the kind inherited from an enclosing key, or
// KindUnknown. Keys match case-insensitively ignoring '_', '-' and spaces
// (file_path = filePath); a compound key is matched by its last word, then
// the others ("output_dir" is a path, "error_message" text, "command_line"
// shell). A key can mean one kind for a string and another for an object:
// "input" is unknown text as a string and tool arguments as an object,
// "filter" an LDAP filter as a string and a MongoDB query document as an
// object. Headers, text and code kinds are inherited by everything under
// them (the values under "headers" are headers); arguments reset the
// scope. In an object that also names a file ("file_path", "path",
// "filename"), "content", "text", "body" and "data" are file content
// (source), not a message.
//
//	kind        default keys (and OpenTelemetry attributes)                  detectors
//	identifier  tenant, agentid, sessionid (the envelope)                    [a-z0-9][a-z0-9_-]{0,63}
//	name        tool, tool_name, function.name, gen_ai.tool.name,           [A-Za-z0-9_][A-Za-z0-9_.:/-]{0,127}
//	            gen_ai.request.model, gen_ai.operation.name
//	path        path, file, file_path, dir, directory, folder, cwd,         all, deep or sensitive traversal,
//	            destination, notebook_path, file.path                         substitutions, commands
//	filename    filename, basename, attachment, file.name                   all, any ".." segment
//	url         url, uri, href, link, endpoint, redirect(_uri), callback,   all, script schemes, decoded
//	            src, url.full, http.url                                       path and query
//	header      header(s), user_agent, referer, cookie, content_type,       all, any CR/LF
//	            subject, http.request.header.*
//	ldap        filter, ldap_filter, search_filter, base_dn, dn             all, RFC 4515 breakouts
//	host        host, hostname, domain, server, ip, addr, server.address    all, strict metacharacters
//	query       query, q, search, keywords, jql, kql, promql, lucene         all; a whole statement or a
//	                                                                         well-formed expression is
//	                                                                         expected, a fragment is not
//	sql         sql, sql_query, statement, where, db.statement,             tags only
//	            db.query.text
//	shell       command, cmd, shell, bash, command_line, argv,              tags only (reverse shells,
//	            process.command_line                                          download-and-execute, rm -rf /)
//	source      code, script, snippet, patch, diff, old_string, new_string, none
//	            file_text, regex, pattern, html, css
//	text        prompt, content, text, message(s), output, completion,      high-confidence rules, Markdown
//	            response, result, stdout, stderr, error, description,         code excluded
//	            title, comment, body, gen_ai.prompt, gen_ai.completion,
//	            gen_ai.input.messages, gen_ai.output.messages,
//	            gen_ai.system_instructions, gen_ai.tool.call.result
//	arguments   arguments, args, parameters, params, kwargs, input (object), the JSON inside is walked
//	            gen_ai.tool.call.arguments                                    with its own policy
//	mongo_query filter, query, where, find, criteria, pipeline, aggregate,  operator keys tagged only
//	            match, selector, update, projection (objects)
//	unknown     everything else                                              all, precision rules
//
// Free text is scanned with the rules that do not fire on ordinary prose,
// Markdown or HTML (XSS outside code spans and fenced blocks, template
// expressions, strong SQL injection markers); a short one-line text value
// that starts the way payloads do ("; cat /etc/passwd", "*)(uid=*") gets
// every detector, and its findings stay flagged, never rejected. Text that
// starts with YAML front matter is a Markdown file, not a message, and is
// not scanned.
//
// # Detectors
//
// Threat names are a contract (DESIGN.md): sqli, xss, path_traversal,
// cmd_injection, ldap_injection, nosqli, template_injection, crlf. Each
// finding carries the field path, the rule id ("sqli.libinjection",
// "path.encoded_dotdot"…) and a fingerprint: the first 8 hex digits of the
// SHA-256 of the matched span. Values are never copied into a Result.
//
//   - sqli: libinjection-go, only when the value has a quote, comment,
//     operator or numeric SQL context, on the value and its URL-decoded
//     form; plus markers libinjection misses (tautologies, stacked
//     statements, quote-then-comment, time delays, file and command
//     access, error-based extraction, sub-selects, catalogue and function
//     probes such as information_schema, current_setting(…), exec(@s)) and
//     the shapes of a fragment meeting the application's query: a quote
//     break-out followed by an operator ("'or(id glob 1)--", "x'|email--"),
//     a leading comment ("-- -"), an ORDER BY column probe, a whole
//     statement where a value belongs, literal <=> literal, PostgreSQL
//     JSON operators and casts. Query-string values of URL fields are also
//     checked one by one, decoded, and typographic quotes are folded.
//     Context rules cut its false positives: complete statements are
//     expected in sql and query fields, well-formed expressions in unknown
//     fields, arithmetic is not a numeric injection.
//   - xss: libinjection-go on the value, its decoded form (percent, HTML
//     entities with any zero padding, \x and \u escapes), its full-width
//     folded form (＜script＞) and with control characters removed, plus
//     script URL schemes, script tags, JavaScript string breakouts,
//     handlers in unfinished or unknown tags ("<x onend="), namespaced
//     tags (<v:vmlframe>), CSS url(javascript:…), and JavaScript where a
//     value belongs: sink calls (alert(), eval(…), new Function(…)),
//     tagged templates (${alert}), globals indexed by strings
//     (self["\x24"]), DOM access (document.cookie) and attribute
//     break-outs. Text, search queries and whole URLs get the JavaScript
//     rules of prose: "confirm() the dialog" is a sentence, alert(1) is
//     not; URL query values are checked alone. In text and unknown
//     fields markup that cannot run script (<style>, <link>, <meta>,
//     https <iframe>, <!DOCTYPE>, a <script> merely mentioned) is ignored,
//     and so is Markdown code in text (a backtick glued to a word is a
//     tagged template, not a code span).
//   - path_traversal: after canonicalisation (URL decoding repeated up to
//     4 times, %uXXXX, overlong UTF-8 such as %c0%ae and its five- and
//     six-byte forms, look-alike slashes and dots, backslashes): encoded
//     "..", "....//" and "..;/", ".." next to the junk of a malformed
//     escape ("..%c1%8s..", "..%uEFC8.."), NUL bytes,
//     climbs that are deep (4 or more "..", above the root of an absolute
//     path, or above where the path started: "src/../../x") or that reach a
//     sensitive target (/etc/passwd, win.ini, .ssh, .aws, .env, id_rsa…),
//     well-known sensitive files, and paths outside Config.AllowedRoots. A
//     shallow climb to an ordinary file ("../../shared/config.yaml", as in
//     a monorepo) is only tagged.
//   - cmd_injection: separators and substitutions (; && || | & ` $( )
//     newline) followed by a command, with quote, backslash, $@ and ${IFS}
//     obfuscation removed. In path and file name fields ";", "|" and "&"
//     alone are ordinary characters ("notes;draft.txt"): a $( ) or
//     backtick substitution, or a separator followed by a command word with
//     an argument a file name would not have (an option, a path, a URL),
//     is the threat. Host fields allow no metacharacter and no space-
//     separated command word at all. Also: Windows batch control flow
//     (FOR … IN (…) DO, IF [NOT] EXIST, IF %a% GTR %b%), a command line
//     from the first word in unknown and file name fields (a prefix
//     command running another: "nohup sh -c id", "which netcat"; recon
//     commands; LOLBins; a command reading a sensitive file), commands
//     broken up by quotes, backslashes, "$@" or empty substitutions,
//     '+' as an encoded space, literal "\n" separators, process
//     substitution, brace expansion, shellshock, shell function
//     definitions, code that runs a command (system('…'), passthru(…),
//     phpinfo()), and wildcard paths that stand for a shell or a
//     sensitive file (/???/b??h, /et*/*wd). Lists of tool names ("MySQL |
//     Redis | Docker") and pipelines ending in a filter ("-la | sort")
//     are not. Wildcard command paths, SSI directives.
//   - ldap_injection: RFC 4515 breakouts (")(", "*)(", "*)*", "(|(",
//     "(&)"), unbalanced filters, NULs, values made only of filter
//     specials (plain in ldap fields, encoded elsewhere: "%28", "\29",
//     "*()|&'") and LDAP URLs carrying a filter; a complete filter in an
//     ldap field is expected.
//   - nosqli: MongoDB operators as keys outside a query document, or in
//     strings in operator context ({"$ne":…}, [$ne]=), and JavaScript
//     injected into $where ("' || '1'=='1", "this.password.match(").
//   - template_injection: {{ }}, ${ }, #{ }, *{ }, <% %>, {% %}, [[ ]]
//     holding a computation (7*7), an object walk (__class__,
//     constructor.constructor), a dangerous global (config, self,
//     request, T(java…)) or a Log4j lookup (${jndi:…}).
//   - crlf: CR or LF, raw or encoded (%0d%0a, %250a, %E5%98%8A), in header
//     and URL fields; elsewhere when followed by a response header.
//
// # Limits
//
// Exceeding a limit rejects with the limit's reason code and stops the
// walk:
//
//	limit                        default    reason code
//	Limits.MaxEventBytes         256 KiB    limit_event_size
//	Limits.MaxDepth              32         limit_depth
//	Limits.MaxStringBytes        64 KiB     limit_string_length
//	Limits.MaxObjectKeys         1,000      limit_object_keys
//	Limits.MaxArrayLen           10,000     limit_array_length
//	MaxFutureSkew (event time)   5m         limit_future_time
//	valid UTF-8                             invalid_utf8
//	control characters                      control_characters
//	JSON syntax                             malformed_json
//
// Control characters: free text may hold any but NUL (terminal output
// carries escape sequences), code and unknown fields tab, CR and LF,
// structured fields and identifiers none.
//
// # Custom rules
//
// LoadRules reads a YAML (or JSON) file of Rules: a path glob, required, a
// JSON type, a maximum length, an RE2 allow-list matched against the whole
// value and an RE2 deny-list naming a threat. The file is checked at
// start-up, every problem reported with its line; a misspelt key is an
// error, not a rule that silently checks nothing.
//
// # Command line
//
// RunJSONL is `escai validate`: JSON lines {"id","field","value"} in,
// {"id","threats":[…],"verdict":"clean|flagged|rejected"} out, one line per
// input line, in order; a bad or over-long line gets {"id","error"} and
// the run goes on.
package validate
