package validate

import (
	"strings"
)

// FieldKind says what a field is expected to hold, and therefore which
// detectors run on it and what a finding means. The names returned by
// String are what rule files and FieldPolicy configuration use.
type FieldKind int

// The field kinds. The zero value is KindUnknown: a field nobody described
// gets every detector with precision rules, and a finding in it is flagged
// (standard) or rejected (strict).
const (
	// KindUnknown is a field with no mapping.
	KindUnknown FieldKind = iota
	// KindIdentifier is an ESCAI identifier ([a-z0-9][a-z0-9_-]{0,63}):
	// tenant, agentid, sessionid, subject tokens. Allow-list only.
	KindIdentifier
	// KindName is a tool or function name
	// ([A-Za-z0-9_][A-Za-z0-9_.:/-]{0,127}). Allow-list only.
	KindName
	// KindPath is a file-system path; it is canonicalised (repeated URL
	// decoding, overlong UTF-8, backslashes, look-alike slashes and dots)
	// before the traversal check.
	KindPath
	// KindFilename is a single file name: separators or dot segments in it
	// are traversal.
	KindFilename
	// KindURL is a URL or URI: scheme, decoded path, query and fragment are
	// checked.
	KindURL
	// KindHeader is an HTTP or mail header value: CR and LF are injection.
	KindHeader
	// KindLDAP is an LDAP search filter (RFC 4515).
	KindLDAP
	// KindHost is a host name or address, optionally with a port.
	KindHost
	// KindQuery is a search or query string that may hold a whole SQL
	// statement (a tool argument called "query"): a complete statement is
	// expected content, an injection fragment is not.
	KindQuery
	// KindSQL is SQL an agent runs. Expected content: informational tags
	// only.
	KindSQL
	// KindShell is a shell command line an agent runs. Expected content:
	// informational tags only.
	KindShell
	// KindSource is source code, a patch or file content an agent writes.
	// Expected content: never flagged.
	KindSource
	// KindText is free text: prompts, model output, tool output, messages.
	// Scanned with the high-confidence rules and flagged, never rejected.
	// Markdown code spans and fenced blocks are not scanned, since a
	// renderer shows them as code.
	KindText
	// KindArguments holds tool-call arguments: a string holding a JSON
	// object or array (gen_ai.tool.call.arguments, OpenAI "arguments") is
	// parsed and walked with its own field policy; any other string is
	// KindUnknown. Objects under it start a fresh policy scope.
	KindArguments
	// KindMongoQuery is a MongoDB-style query document (an object under
	// "filter", "query", "where"…): operator keys ($gt, $ne…) are expected
	// there and only tagged.
	KindMongoQuery

	kindCount
)

var kindNames = [kindCount]string{
	KindUnknown:    "unknown",
	KindIdentifier: "identifier",
	KindName:       "name",
	KindPath:       "path",
	KindFilename:   "filename",
	KindURL:        "url",
	KindHeader:     "header",
	KindLDAP:       "ldap",
	KindHost:       "host",
	KindQuery:      "query",
	KindSQL:        "sql",
	KindShell:      "shell",
	KindSource:     "source",
	KindText:       "text",
	KindArguments:  "arguments",
	KindMongoQuery: "mongo_query",
}

// String returns the configuration name of k ("path", "sql", "text"…).
func (k FieldKind) String() string {
	if k >= 0 && k < kindCount {
		return kindNames[k]
	}
	return "FieldKind(" + itoa(int(k)) + ")"
}

// ParseFieldKind maps a configuration name (case-insensitive) to its kind.
// "code" is accepted for KindSource and "json" for KindArguments.
func ParseFieldKind(s string) (FieldKind, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "code":
		return KindSource, true
	case "json":
		return KindArguments, true
	case "mongo", "mongoquery", "nosql":
		return KindMongoQuery, true
	}
	for k, n := range kindNames {
		if n == s {
			return FieldKind(k), true
		}
	}
	return KindUnknown, false
}

// MarshalText writes the configuration name, so kinds read well in JSON
// and YAML.
func (k FieldKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a configuration name.
func (k *FieldKind) UnmarshalText(b []byte) error {
	v, ok := ParseFieldKind(string(b))
	if !ok {
		return &ConfigError{Field: "kind", Problem: "unknown field kind " + quote(string(b)), Err: ErrInvalidConfig}
	}
	*k = v
	return nil
}

// IsStructured reports kinds with a grammar of their own (paths, URLs,
// headers, filenames, LDAP filters, hosts, query strings): an attack there
// is rejected at the standard level.
func (k FieldKind) IsStructured() bool {
	switch k {
	case KindPath, KindFilename, KindURL, KindHeader, KindLDAP, KindHost, KindQuery:
		return true
	}
	return false
}

// IsCode reports kinds that hold code an agent runs or writes (SQL, shell,
// source): detectors only add informational tags there.
func (k FieldKind) IsCode() bool {
	return k == KindSQL || k == KindShell || k == KindSource
}

// IsText reports free text, which is flagged and never rejected.
func (k FieldKind) IsText() bool { return k == KindText }

// IsIdentifier reports allow-list kinds, rejected whenever they do not
// match.
func (k FieldKind) IsIdentifier() bool { return k == KindIdentifier || k == KindName }

// inherits reports whether descendants without a mapping of their own take
// this kind: the values under "headers" are headers and the strings inside
// "messages" are text, but the values under "arguments" are whatever their
// own keys say.
func (k FieldKind) inherits() bool {
	switch k {
	case KindUnknown, KindIdentifier, KindName, KindArguments, KindQuery, KindLDAP, KindHost, KindFilename:
		return false
	}
	return true
}

// keyEntry is what a key means for a string value and for an object or
// array value: "input" is a prompt when it is a string and tool arguments
// when it is an object.
type keyEntry struct {
	str, obj FieldKind
}

// defaultKeys maps normalised key names (see normKey) to kinds. Keys are
// matched whole first; a compound key is then matched by its last token
// ("output_dir" is a path, "error_message" text) and then its other tokens
// from the right ("command_line" is shell).
var defaultKeys = map[string]keyEntry{
	// OpenTelemetry GenAI semantic conventions.
	"gen_ai.tool.name":              {KindName, KindUnknown},
	"gen_ai.tool.call.id":           {KindName, KindUnknown},
	"gen_ai.tool.call.arguments":    {KindArguments, KindArguments},
	"gen_ai.tool.call.result":       {KindText, KindText},
	"gen_ai.tool.description":       {KindText, KindText},
	"gen_ai.prompt":                 {KindText, KindText},
	"gen_ai.completion":             {KindText, KindText},
	"gen_ai.input.messages":         {KindText, KindText},
	"gen_ai.output.messages":        {KindText, KindText},
	"gen_ai.system_instructions":    {KindText, KindText},
	"gen_ai.tool.definitions":       {KindText, KindText},
	"gen_ai.request.model":          {KindName, KindUnknown},
	"gen_ai.response.model":         {KindName, KindUnknown},
	"gen_ai.operation.name":         {KindName, KindUnknown},
	"gen_ai.provider.name":          {KindName, KindUnknown},
	"gen_ai.system":                 {KindName, KindUnknown},
	"db.statement":                  {KindSQL, KindSQL},
	"db.query.text":                 {KindSQL, KindSQL},
	"process.command_line":          {KindShell, KindShell},
	"process.command_args":          {KindShell, KindShell},
	"url.full":                      {KindURL, KindURL},
	"url.path":                      {KindPath, KindPath},
	"url.query":                     {KindURL, KindURL},
	"http.url":                      {KindURL, KindURL},
	"http.target":                   {KindURL, KindURL},
	"server.address":                {KindHost, KindUnknown},
	"client.address":                {KindHost, KindUnknown},
	"net.peer.name":                 {KindHost, KindUnknown},
	"network.peer.address":          {KindHost, KindUnknown},
	"user_agent.original":           {KindHeader, KindHeader},
	"http.request.header.*":         {KindHeader, KindHeader},
	"http.response.header.*":        {KindHeader, KindHeader},
	"file.path":                     {KindPath, KindPath},
	"file.name":                     {KindFilename, KindFilename},
	"file.directory":                {KindPath, KindPath},
	"exception.message":             {KindText, KindText},
	"exception.stacktrace":          {KindText, KindText},
	"gen_ai.agent.description":      {KindText, KindText},
	"gen_ai.conversation.id":        {KindUnknown, KindUnknown},
	"gen_ai.data_source.id":         {KindUnknown, KindUnknown},
	"gen_ai.output.type":            {KindName, KindUnknown},
	"gen_ai.request.stop_sequences": {KindText, KindText},

	// Tool names.
	"tool":         {KindName, KindUnknown},
	"toolname":     {KindName, KindUnknown},
	"functionname": {KindName, KindUnknown},

	// Tool-call arguments.
	"arguments":  {KindArguments, KindArguments},
	"args":       {KindArguments, KindArguments},
	"toolargs":   {KindArguments, KindArguments},
	"toolinput":  {KindArguments, KindArguments},
	"parameters": {KindArguments, KindArguments},
	"params":     {KindArguments, KindArguments},
	"kwargs":     {KindArguments, KindArguments},
	"input":      {KindUnknown, KindArguments},

	// Paths and file names.
	"path":             {KindPath, KindPath},
	"paths":            {KindPath, KindPath},
	"file":             {KindPath, KindPath},
	"files":            {KindPath, KindPath},
	"filepath":         {KindPath, KindPath},
	"filepaths":        {KindPath, KindPath},
	"dir":              {KindPath, KindPath},
	"dirs":             {KindPath, KindPath},
	"directory":        {KindPath, KindPath},
	"folder":           {KindPath, KindPath},
	"cwd":              {KindPath, KindPath},
	"workdir":          {KindPath, KindPath},
	"workingdir":       {KindPath, KindPath},
	"workingdirectory": {KindPath, KindPath},
	"notebookpath":     {KindPath, KindPath},
	"targetfile":       {KindPath, KindPath},
	"sourcefile":       {KindPath, KindPath},
	"destination":      {KindPath, KindPath},
	"dest":             {KindPath, KindPath},
	"root":             {KindPath, KindPath},
	"filename":         {KindFilename, KindFilename},
	"filenames":        {KindFilename, KindFilename},
	"basename":         {KindFilename, KindFilename},
	"attachment":       {KindFilename, KindFilename},

	// URLs.
	"url":         {KindURL, KindURL},
	"urls":        {KindURL, KindURL},
	"uri":         {KindURL, KindURL},
	"uris":        {KindURL, KindURL},
	"href":        {KindURL, KindURL},
	"link":        {KindURL, KindURL},
	"links":       {KindURL, KindURL},
	"endpoint":    {KindURL, KindURL},
	"webhook":     {KindURL, KindURL},
	"redirect":    {KindURL, KindURL},
	"redirecturi": {KindURL, KindURL},
	"redirecturl": {KindURL, KindURL},
	"returnurl":   {KindURL, KindURL},
	"callback":    {KindURL, KindURL},
	"callbackurl": {KindURL, KindURL},
	"baseurl":     {KindURL, KindURL},
	"src":         {KindURL, KindURL},
	"imageurl":    {KindURL, KindURL},

	// Headers.
	"header":        {KindHeader, KindHeader},
	"headers":       {KindHeader, KindHeader},
	"useragent":     {KindHeader, KindHeader},
	"referer":       {KindHeader, KindHeader},
	"referrer":      {KindHeader, KindHeader},
	"cookie":        {KindHeader, KindHeader},
	"cookies":       {KindHeader, KindHeader},
	"setcookie":     {KindHeader, KindHeader},
	"contenttype":   {KindHeader, KindHeader},
	"subject":       {KindHeader, KindHeader},
	"replyto":       {KindHeader, KindHeader},
	"xforwardedfor": {KindHeader, KindHeader},

	// LDAP.
	"filter":       {KindLDAP, KindMongoQuery},
	"ldapfilter":   {KindLDAP, KindLDAP},
	"searchfilter": {KindLDAP, KindLDAP},
	"ldap":         {KindLDAP, KindLDAP},
	"basedn":       {KindLDAP, KindLDAP},
	"dn":           {KindLDAP, KindLDAP},

	// Hosts.
	"host":      {KindHost, KindHost},
	"hosts":     {KindHost, KindHost},
	"hostname":  {KindHost, KindHost},
	"hostnames": {KindHost, KindHost},
	"domain":    {KindHost, KindHost},
	"server":    {KindHost, KindUnknown},
	"ip":        {KindHost, KindHost},
	"ipaddress": {KindHost, KindHost},
	"addr":      {KindHost, KindHost},

	// Queries and SQL.
	"query":       {KindQuery, KindMongoQuery},
	"queries":     {KindQuery, KindMongoQuery},
	"q":           {KindQuery, KindMongoQuery},
	"search":      {KindQuery, KindMongoQuery},
	"searchquery": {KindQuery, KindQuery},
	"keyword":     {KindQuery, KindQuery},
	"keywords":    {KindQuery, KindQuery},
	"where":       {KindSQL, KindMongoQuery},
	"jql":         {KindQuery, KindQuery},
	"kql":         {KindQuery, KindQuery},
	"cql":         {KindQuery, KindQuery},
	"promql":      {KindQuery, KindQuery},
	"logql":       {KindQuery, KindQuery},
	"lucene":      {KindQuery, KindQuery},
	"spl":         {KindQuery, KindQuery},
	"selector":    {KindUnknown, KindMongoQuery},
	"match":       {KindUnknown, KindMongoQuery},
	"pipeline":    {KindUnknown, KindMongoQuery},
	"update":      {KindUnknown, KindMongoQuery},
	"projection":  {KindUnknown, KindMongoQuery},
	"find":        {KindUnknown, KindMongoQuery},
	"findone":     {KindUnknown, KindMongoQuery},
	"criteria":    {KindUnknown, KindMongoQuery},
	"conditions":  {KindUnknown, KindMongoQuery},
	"condition":   {KindUnknown, KindMongoQuery},
	"predicate":   {KindUnknown, KindMongoQuery},
	"aggregate":   {KindUnknown, KindMongoQuery},
	"aggregation": {KindUnknown, KindMongoQuery},
	"filters":     {KindLDAP, KindMongoQuery},
	"mongoquery":  {KindQuery, KindMongoQuery},
	"sql":         {KindSQL, KindSQL},
	"sqlquery":    {KindSQL, KindSQL},
	"querysql":    {KindSQL, KindSQL},
	"statement":   {KindSQL, KindSQL},
	"statements":  {KindSQL, KindSQL},
	"stmt":        {KindSQL, KindSQL},
	"cypher":      {KindSource, KindSource},
	"graphql":     {KindSource, KindSource},

	// Shell.
	"command":      {KindShell, KindShell},
	"commands":     {KindShell, KindShell},
	"cmd":          {KindShell, KindShell},
	"shell":        {KindShell, KindShell},
	"bash":         {KindShell, KindShell},
	"commandline":  {KindShell, KindShell},
	"cmdline":      {KindShell, KindShell},
	"shellcommand": {KindShell, KindShell},
	"argv":         {KindShell, KindShell},

	// Source code and file content.
	"code":         {KindSource, KindSource},
	"script":       {KindSource, KindSource},
	"sourcecode":   {KindSource, KindSource},
	"snippet":      {KindSource, KindSource},
	"program":      {KindSource, KindSource},
	"patch":        {KindSource, KindSource},
	"diff":         {KindSource, KindSource},
	"oldstring":    {KindSource, KindSource},
	"newstring":    {KindSource, KindSource},
	"oldstr":       {KindSource, KindSource},
	"newstr":       {KindSource, KindSource},
	"filetext":     {KindSource, KindSource},
	"filecontent":  {KindSource, KindSource},
	"filecontents": {KindSource, KindSource},
	"expression":   {KindSource, KindSource},
	"regex":        {KindSource, KindSource},
	"pattern":      {KindSource, KindSource},
	"html":         {KindSource, KindSource},
	"css":          {KindSource, KindSource},
	"xml":          {KindSource, KindSource},
	"yaml":         {KindSource, KindSource},
	"json":         {KindSource, KindSource},

	// Free text.
	"prompt":       {KindText, KindText},
	"prompts":      {KindText, KindText},
	"systemprompt": {KindText, KindText},
	"system":       {KindText, KindText},
	"instructions": {KindText, KindText},
	"content":      {KindText, KindText},
	"contents":     {KindText, KindText},
	"text":         {KindText, KindText},
	"message":      {KindText, KindText},
	"messages":     {KindText, KindText},
	"output":       {KindText, KindText},
	"outputs":      {KindText, KindText},
	"completion":   {KindText, KindText},
	"response":     {KindText, KindText},
	"result":       {KindText, KindText},
	"results":      {KindText, KindText},
	"stdout":       {KindText, KindText},
	"stderr":       {KindText, KindText},
	"error":        {KindText, KindText},
	"errors":       {KindText, KindText},
	"exception":    {KindText, KindText},
	"stacktrace":   {KindText, KindText},
	"traceback":    {KindText, KindText},
	"stack":        {KindText, KindText},
	"log":          {KindText, KindText},
	"logs":         {KindText, KindText},
	"description":  {KindText, KindText},
	"summary":      {KindText, KindText},
	"title":        {KindText, KindText},
	"reasoning":    {KindText, KindText},
	"thought":      {KindText, KindText},
	"thoughts":     {KindText, KindText},
	"thinking":     {KindText, KindText},
	"answer":       {KindText, KindText},
	"question":     {KindText, KindText},
	"comment":      {KindText, KindText},
	"comments":     {KindText, KindText},
	"note":         {KindText, KindText},
	"notes":        {KindText, KindText},
	"reason":       {KindText, KindText},
	"rationale":    {KindText, KindText},
	"observation":  {KindText, KindText},
	"body":         {KindText, KindText},
	"markdown":     {KindText, KindText},
	"detail":       {KindText, KindText},
	"details":      {KindText, KindText},
	"plan":         {KindText, KindText},
	"goal":         {KindText, KindText},
	"task":         {KindText, KindText},
	"feedback":     {KindText, KindText},
	"transcript":   {KindText, KindText},
	"history":      {KindText, KindText},
	"chunk":        {KindText, KindText},
	"chunks":       {KindText, KindText},
	"delta":        {KindText, KindText},
	"refusal":      {KindText, KindText},
	"caption":      {KindText, KindText},
}

// containerKeys name the parent of a tool name: {"function":{"name":…}}.
var nameParents = map[string]bool{
	"function": true, "tool": true, "toolcall": true, "tooluse": true, "functioncall": true,
}

// contentKeys are text keys whose value is file content when a sibling key
// names a file: {"file_path": "/app/index.html", "content": "<script>…"}
// is a file being written, not a message.
var contentKeys = map[string]bool{
	"content": true, "contents": true, "text": true, "body": true, "data": true,
}

// normKey lowercases ASCII letters and drops '_', '-' and spaces, so that
// filePath, file_path, file-path and FilePath are one key. Dots stay: they
// separate the namespaces of OpenTelemetry attribute names. Other bytes are
// kept. It writes into dst to avoid allocating.
func normKey(dst []byte, key string) []byte {
	dst = dst[:0]
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == '_' || c == '-' || c == ' ':
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func isKeySep(c byte) bool { return c == '_' || c == '-' || c == '.' || c == ' ' }
