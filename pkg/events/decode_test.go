package events

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestDecodeValid(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in    []byte
		check func(t *testing.T, e *Envelope)
	}{
		"base": {in: validBase(), check: func(t *testing.T, e *Envelope) {
			want := time.Date(2025, 3, 1, 12, 34, 56, 789e6, time.UTC)
			if e.SpecVersion != "1.0" || e.ID != "evt-0001" || e.Source != "https://agents.example.com/acme/agent-1" ||
				e.Type != "escai.tool.call" || !e.Time.Equal(want) || e.DataContentType != "application/json" ||
				e.Tenant != "acme" || e.AgentID != "agent-1" || e.SessionID != "" || e.TraceParent != "" ||
				string(e.Data) != `{"tool":"sql","args":{"q":"select 1"}}` || e.Extensions != nil {
				t.Fatalf("decoded %+v", e)
			}
		}},
		"id 128 bytes":                     {in: with("id", `"`+strings.Repeat("x", 128)+`"`)},
		"id 1 byte":                        {in: with("id", `"x"`)},
		"id unicode":                       {in: with("id", `"événement-1"`)},
		"id with colon and slash":          {in: with("id", `"urn:uuid:1/2"`)},
		"source 512 bytes":                 {in: with("source", `"/`+strings.Repeat("a", 511)+`"`)},
		"source relative reference":        {in: with("source", `"agents/agent-1"`)},
		"type 8 tokens":                    {in: with("type", `"escai.a.b.c.d.e.f.g.h"`)},
		"type token 64":                    {in: with("type", `"escai.`+strings.Repeat("t", 64)+`"`)},
		"type one token":                   {in: with("type", `"escai.error"`)},
		"time with offset":                 {in: with("time", `"2025-03-01T14:34:56.789+02:00"`)},
		"time without fraction":            {in: with("time", `"2025-03-01T12:34:56Z"`)},
		"time offset -23:59":               {in: with("time", `"2025-03-01T12:34:56-23:59"`)},
		"time long fraction":               {in: with("time", `"2025-03-01T12:34:56.1234567891234Z"`)},
		"time year 0000 utc":               {in: with("time", `"0000-01-01T00:00:01Z"`)},
		"datacontenttype charset":          {in: with("datacontenttype", `"application/json; charset=utf-8"`)},
		"datacontenttype absent":           {in: without("datacontenttype")},
		"data absent":                      {in: without("data")},
		"data null":                        {in: with("data", `null`), check: dataIs(`null`)},
		"data string":                      {in: with("data", `"hi"`), check: dataIs(`"hi"`)},
		"data number":                      {in: with("data", `-1.5e3`), check: dataIs(`-1.5e3`)},
		"data keeps whitespace":            {in: with("data", "{ \"a\" :\n [1, 2] }"), check: dataIs("{ \"a\" :\n [1, 2] }")},
		"data with brackets in strings":    {in: with("data", `{"s":"\"{[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\"}`)},
		"data duplicate keys inside":       {in: with("data", `{"a":1,"a":2}`)},
		"tenant 64":                        {in: with("tenant", `"`+strings.Repeat("a", 64)+`"`)},
		"tenant 63":                        {in: with("tenant", `"`+strings.Repeat("a", 63)+`"`)},
		"tenant digits dash underscore":    {in: with("tenant", `"0a_b-c"`)},
		"sessionid":                        {in: with("sessionid", `"s-1"`), check: func(t *testing.T, e *Envelope) { eq(t, e.SessionID, "s-1") }},
		"traceparent":                      {in: with("traceparent", `"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"`)},
		"traceparent future version":       {in: with("traceparent", `"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"`)},
		"extension object":                 {in: with("escaipii", `{"masked":2}`), check: extIs("escaipii", `{"masked":2}`)},
		"32 extensions":                    {in: plus(exts("x", 32)...)},
		"extension name 20":                {in: with(strings.Repeat("x", 20), `1`)},
		"extension null":                   {in: with("x1", `null`), check: extIs("x1", `null`)},
		"whitespace everywhere":            {in: []byte(" \n{ \"specversion\" : \"1.0\" ,\t\"id\":\"a\",\"source\":\"s\",\"type\":\"escai.x\",\"time\":\"2025-01-01T00:00:00Z\",\"tenant\":\"t\",\"agentid\":\"a\" }\r\n")},
		"escapes in attribute":             {in: with("id", `"a\"b\\c\/d\u00e9"`), check: func(t *testing.T, e *Envelope) { eq(t, e.ID, `a"b\c/dé`) }},
		"key written with escapes":         {in: render(append(baseMembers()[:6], member{`ten\u0061nt`, `"acme"`}, member{"agentid", `"agent-1"`})), check: func(t *testing.T, e *Envelope) { eq(t, e.Tenant, "acme") }},
		"depth 32":                         {in: with("data", nested(31))},
		"keys in any order":                {in: render([]member{{"data", `1`}, {"agentid", `"a"`}, {"tenant", `"t"`}, {"time", `"2025-01-01T00:00:00Z"`}, {"type", `"escai.x"`}, {"source", `"s"`}, {"id", `"i"`}, {"specversion", `"1.0"`}})},
		"subject and dataschema extension": {in: plus(member{"subject", `"x"`}, member{"dataschema", `"https://x/s.json"`})},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e, err := Decode(tc.in, DefaultLimits())
			if err != nil {
				t.Fatalf("Decode(%s): %v", tc.in, err)
			}
			if err := e.Validate(); err != nil {
				t.Fatalf("decoded envelope does not Validate: %v", err)
			}
			if tc.check != nil {
				tc.check(t, e)
			}
		})
	}
}

func dataIs(want string) func(*testing.T, *Envelope) {
	return func(t *testing.T, e *Envelope) { eq(t, string(e.Data), want) }
}

func extIs(name, want string) func(*testing.T, *Envelope) {
	return func(t *testing.T, e *Envelope) {
		got, ok := e.Extension(name)
		if !ok {
			t.Fatalf("extension %q missing", name)
		}
		eq(t, string(got), want)
	}
}

func eq(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	const tp = "4bf92f3577b34da6a3ce929d0e0e4736"
	const pid = "00f067aa0ba902b7"
	tests := map[string]struct {
		in    []byte
		lim   Limits
		err   error
		field string
	}{
		// size
		"one byte over limit": {in: validBase(), lim: Limits{MaxBytes: len(validBase()) - 1}, err: ErrTooLarge},
		"33 extensions":       {in: plus(exts("x", 33)...), err: ErrTooLarge},
		"33 invalid keys":     {in: plus(exts("X", 33)...), err: ErrTooLarge},
		"default size limit":  {in: with("data", `"`+strings.Repeat("a", 256<<10)+`"`), err: ErrTooLarge},
		// UTF-8
		"invalid utf8 in value":      {in: with("id", "\"a\xffb\""), err: ErrInvalidUTF8},
		"invalid utf8 in key":        {in: with("x\xc3", `1`), err: ErrInvalidUTF8},
		"invalid utf8 in data":       {in: with("data", "\"\xed\xa0\x80\""), err: ErrInvalidUTF8},
		"invalid utf8 outside value": {in: append(validBase(), 0xff), err: ErrInvalidUTF8},
		// depth
		"depth 33":                  {in: with("data", nested(32)), err: ErrTooDeep},
		"depth 1000":                {in: with("data", nested(1000)), err: ErrTooDeep},
		"depth in extension":        {in: with("x", nested(32)), err: ErrTooDeep},
		"depth of objects":          {in: with("data", strings.Repeat(`{"a":`, 32)+"1"+strings.Repeat("}", 32)), err: ErrTooDeep},
		"depth custom limit":        {in: with("data", nested(3)), lim: Limits{MaxDepth: 3}, err: ErrTooDeep},
		"depth after escaped quote": {in: with("data", `["\"[",`+nested(32)+`]`), err: ErrTooDeep},
		"depth before syntax":       {in: []byte(strings.Repeat("[", 1000)), err: ErrTooDeep},
		// syntax
		"empty input":          {in: nil, err: ErrMalformedJSON},
		"truncated":            {in: validBase()[:40], err: ErrMalformedJSON},
		"trailing garbage":     {in: append(validBase(), []byte(` {}`)...), err: ErrMalformedJSON},
		"trailing comma":       {in: []byte(`{"id":"a",}`), err: ErrMalformedJSON},
		"array top level":      {in: []byte(`[1,2]`), err: ErrMalformedJSON},
		"string top level":     {in: []byte(`"{}"`), err: ErrMalformedJSON},
		"null top level":       {in: []byte(`null`), err: ErrMalformedJSON},
		"single quotes":        {in: []byte(`{'id':'a'}`), err: ErrMalformedJSON},
		"raw control in value": {in: with("id", "\"a\tb\""), err: ErrMalformedJSON},
		"bad escape":           {in: with("id", `"a\qb"`), err: ErrMalformedJSON},
		"empty object":         {in: []byte(`{}`), err: ErrMissingAttribute, field: "specversion"},
		// duplicates
		"duplicate tenant":              {in: plus(member{"tenant", `"other"`}), err: ErrDuplicateAttribute, field: "tenant"},
		"duplicate same value":          {in: plus(member{"id", `"evt-0001"`}), err: ErrDuplicateAttribute, field: "id"},
		"duplicate via escape":          {in: plus(member{`\u0074enant`, `"other"`}), err: ErrDuplicateAttribute, field: "tenant"},
		"duplicate data":                {in: plus(member{"data", `2`}), err: ErrDuplicateAttribute, field: "data"},
		"duplicate extension":           {in: plus(member{"x", `1`}, member{"x", `1`}), err: ErrDuplicateAttribute, field: "x"},
		"duplicate invalid key":         {in: plus(member{"X", `1`}, member{"X", `1`}), err: ErrDuplicateAttribute, field: "X"},
		"duplicate after invalid value": {in: render(append([]member{{"type", `5`}}, append(baseMembers()[:3], baseMembers()[4:]...)...)), err: ErrInvalidAttribute, field: "type"},
		"duplicate wins over bad value": {in: render(append([]member{{"tenant", `5`}}, baseMembers()...)), err: ErrDuplicateAttribute, field: "tenant"},
		// data_base64 and names
		"data_base64":          {in: plus(member{"data_base64", `"AAAA"`}), err: ErrUnsupported, field: "data_base64"},
		"data_base64 only":     {in: render(append(baseMembers()[:8], member{"data_base64", `"AAAA"`})), err: ErrUnsupported, field: "data_base64"},
		"upper-case name":      {in: plus(member{"Tenant", `"x"`}), err: ErrInvalidAttribute, field: "Tenant"},
		"name with underscore": {in: plus(member{"foo_bar", `1`}), err: ErrInvalidAttribute, field: "foo_bar"},
		"name with dash":       {in: plus(member{"foo-bar", `1`}), err: ErrInvalidAttribute, field: "foo-bar"},
		"name 21":              {in: plus(member{strings.Repeat("x", 21), `1`}), err: ErrInvalidAttribute, field: strings.Repeat("x", 21)},
		"empty name":           {in: plus(member{"", `1`}), err: ErrInvalidAttribute, field: ""},
		"name with space":      {in: plus(member{"ten ant", `1`}), err: ErrInvalidAttribute, field: "ten ant"},
		"name with newline":    {in: plus(member{`a\nb`, `1`}), err: ErrInvalidAttribute, field: `a\nb`},
		"name with NUL":        {in: plus(member{`a\u0000`, `1`}), err: ErrInvalidAttribute, field: `a\x00`},
		"name unicode":         {in: plus(member{"é", `1`}), err: ErrInvalidAttribute, field: `\u00e9`},
		"name truncated to 64": {in: plus(member{strings.Repeat("K", 200), `1`}), err: ErrInvalidAttribute, field: strings.Repeat("K", 64)},
		"name trailing space":  {in: plus(member{"tenant ", `"x"`}), err: ErrInvalidAttribute, field: "tenant "},
		// specversion
		"specversion missing": {in: without("specversion"), err: ErrMissingAttribute, field: "specversion"},
		"specversion number":  {in: with("specversion", `1.0`), err: ErrInvalidAttribute, field: "specversion"},
		"specversion 0.3":     {in: with("specversion", `"0.3"`), err: ErrUnsupported, field: "specversion"},
		"specversion empty":   {in: with("specversion", `""`), err: ErrInvalidAttribute, field: "specversion"},
		// id
		"id missing": {in: without("id"), err: ErrMissingAttribute, field: "id"},
		"id number":  {in: with("id", `1`), err: ErrInvalidAttribute, field: "id"},
		"id null":    {in: with("id", `null`), err: ErrInvalidAttribute, field: "id"},
		"id empty":   {in: with("id", `""`), err: ErrInvalidAttribute, field: "id"},
		"id 129":     {in: with("id", `"`+strings.Repeat("x", 129)+`"`), err: ErrInvalidAttribute, field: "id"},
		"id NUL":     {in: with("id", `"a\u0000"`), err: ErrInvalidAttribute, field: "id"},
		"id newline": {in: with("id", `"a\nb"`), err: ErrInvalidAttribute, field: "id"},
		"id tab":     {in: with("id", `"a\tb"`), err: ErrInvalidAttribute, field: "id"},
		"id CR LF":   {in: with("id", `"a\r\nNats-Msg-Id: x"`), err: ErrInvalidAttribute, field: "id"},
		"id DEL":     {in: with("id", `"a\u007f"`), err: ErrInvalidAttribute, field: "id"},
		"id C1":      {in: with("id", `"a\u0085"`), err: ErrInvalidAttribute, field: "id"},
		"id C1 raw":  {in: with("id", "\"a\u009fb\""), err: ErrInvalidAttribute, field: "id"},
		// source
		"source missing":   {in: without("source"), err: ErrMissingAttribute, field: "source"},
		"source object":    {in: with("source", `{}`), err: ErrInvalidAttribute, field: "source"},
		"source empty":     {in: with("source", `""`), err: ErrInvalidAttribute, field: "source"},
		"source 513":       {in: with("source", `"/`+strings.Repeat("a", 512)+`"`), err: ErrInvalidAttribute, field: "source"},
		"source control":   {in: with("source", `"https://a/\u0001"`), err: ErrInvalidAttribute, field: "source"},
		"source not URI":   {in: with("source", `"%zz"`), err: ErrInvalidAttribute, field: "source"},
		"source no scheme": {in: with("source", `"::"`), err: ErrInvalidAttribute, field: "source"},
		// type
		"type missing":      {in: without("type"), err: ErrMissingAttribute, field: "type"},
		"type array":        {in: with("type", `["escai.x"]`), err: ErrInvalidAttribute, field: "type"},
		"type no prefix":    {in: with("type", `"tool.call"`), err: ErrInvalidAttribute, field: "type"},
		"type other prefix": {in: with("type", `"com.example.x"`), err: ErrInvalidAttribute, field: "type"},
		"type prefix only":  {in: with("type", `"escai."`), err: ErrInvalidAttribute, field: "type"},
		"type upper":        {in: with("type", `"escai.Tool"`), err: ErrInvalidAttribute, field: "type"},
		"type empty token":  {in: with("type", `"escai.tool..call"`), err: ErrInvalidAttribute, field: "type"},
		"type trailing dot": {in: with("type", `"escai.tool."`), err: ErrInvalidAttribute, field: "type"},
		"type star":         {in: with("type", `"escai.tool.*"`), err: ErrInvalidAttribute, field: "type"},
		"type gt":           {in: with("type", `"escai.tool.>"`), err: ErrInvalidAttribute, field: "type"},
		"type space":        {in: with("type", `"escai.tool call"`), err: ErrInvalidAttribute, field: "type"},
		"type tab":          {in: with("type", `"escai.tool\tcall"`), err: ErrInvalidAttribute, field: "type"},
		"type unicode":      {in: with("type", `"escai.tööl"`), err: ErrInvalidAttribute, field: "type"},
		"type 9 tokens":     {in: with("type", `"escai.a.b.c.d.e.f.g.h.i"`), err: ErrInvalidAttribute, field: "type"},
		"type token 65":     {in: with("type", `"escai.`+strings.Repeat("t", 65)+`"`), err: ErrInvalidAttribute, field: "type"},
		"type leading dash": {in: with("type", `"escai.-x"`), err: ErrInvalidAttribute, field: "type"},
		"type upper prefix": {in: with("type", `"ESCAI.x"`), err: ErrInvalidAttribute, field: "type"},
		// time
		"time missing":          {in: without("time"), err: ErrMissingAttribute, field: "time"},
		"time number":           {in: with("time", `1700000000`), err: ErrInvalidAttribute, field: "time"},
		"time empty":            {in: with("time", `""`), err: ErrInvalidAttribute, field: "time"},
		"time words":            {in: with("time", `"yesterday"`), err: ErrInvalidAttribute, field: "time"},
		"time no zone":          {in: with("time", `"2025-03-01T12:34:56"`), err: ErrInvalidAttribute, field: "time"},
		"time space":            {in: with("time", `"2025-03-01 12:34:56Z"`), err: ErrInvalidAttribute, field: "time"},
		"time bad month":        {in: with("time", `"2025-13-01T12:34:56Z"`), err: ErrInvalidAttribute, field: "time"},
		"time zero":             {in: with("time", `"0001-01-01T00:00:00Z"`), err: ErrInvalidAttribute, field: "time"},
		"time one-digit hour":   {in: with("time", `"2025-03-01T1:02:03Z"`), err: ErrInvalidAttribute, field: "time"},
		"time comma fraction":   {in: with("time", `"2025-03-01T12:34:56,789Z"`), err: ErrInvalidAttribute, field: "time"},
		"time offset 24":        {in: with("time", `"2025-03-01T12:34:56+24:00"`), err: ErrInvalidAttribute, field: "time"},
		"time offset minute 60": {in: with("time", `"2025-03-01T12:34:56+01:60"`), err: ErrInvalidAttribute, field: "time"},
		"time offset space":     {in: with("time", `"2025-03-01T12:34:56 01:00"`), err: ErrInvalidAttribute, field: "time"},
		"time lower-case t":     {in: with("time", `"2025-03-01t12:34:56Z"`), err: ErrInvalidAttribute, field: "time"},
		"time empty fraction":   {in: with("time", `"2025-03-01T12:34:56.Z"`), err: ErrInvalidAttribute, field: "time"},
		"time offset no colon":  {in: with("time", `"2025-03-01T12:34:56+0100"`), err: ErrInvalidAttribute, field: "time"},
		"time hour 24":          {in: with("time", `"2025-03-01T24:00:00Z"`), err: ErrInvalidAttribute, field: "time"},
		"time leap second":      {in: with("time", `"2016-12-31T23:59:60Z"`), err: ErrInvalidAttribute, field: "time"},
		"time feb 30":           {in: with("time", `"2025-02-30T00:00:00Z"`), err: ErrInvalidAttribute, field: "time"},
		"time trailing":         {in: with("time", `"2025-03-01T12:34:56Zx"`), err: ErrInvalidAttribute, field: "time"},
		"time before year 0":    {in: with("time", `"0000-01-01T00:00:00+01:00"`), err: ErrInvalidAttribute, field: "time"},
		// datacontenttype
		"datacontenttype text":    {in: with("datacontenttype", `"text/plain"`), err: ErrInvalidAttribute, field: "datacontenttype"},
		"datacontenttype prefix":  {in: with("datacontenttype", `"application/jsonx"`), err: ErrInvalidAttribute, field: "datacontenttype"},
		"datacontenttype empty":   {in: with("datacontenttype", `""`), err: ErrInvalidAttribute, field: "datacontenttype"},
		"datacontenttype number":  {in: with("datacontenttype", `7`), err: ErrInvalidAttribute, field: "datacontenttype"},
		"datacontenttype garbage": {in: with("datacontenttype", `"application/json; ;;"`), err: ErrInvalidAttribute, field: "datacontenttype"},
		"datacontenttype control": {in: with("datacontenttype", `"application/json; a=\"\n\""`), err: ErrInvalidAttribute, field: "datacontenttype"},
		// traceparent
		"traceparent number":      {in: with("traceparent", `1`), err: ErrInvalidAttribute, field: "traceparent"},
		"traceparent empty":       {in: with("traceparent", `""`), err: ErrInvalidAttribute, field: "traceparent"},
		"traceparent upper":       {in: with("traceparent", `"00-`+strings.ToUpper(tp)+`-`+pid+`-01"`), err: ErrInvalidAttribute, field: "traceparent"},
		"traceparent version ff":  {in: with("traceparent", `"ff-`+tp+`-`+pid+`-01"`), err: ErrInvalidAttribute, field: "traceparent"},
		"traceparent zero trace":  {in: with("traceparent", `"00-`+strings.Repeat("0", 32)+`-`+pid+`-01"`), err: ErrInvalidAttribute, field: "traceparent"},
		"traceparent zero parent": {in: with("traceparent", `"00-`+tp+`-`+strings.Repeat("0", 16)+`-01"`), err: ErrInvalidAttribute, field: "traceparent"},
		"traceparent short":       {in: with("traceparent", `"00-`+tp+`-`+pid+`-1"`), err: ErrInvalidAttribute, field: "traceparent"},
		"traceparent long":        {in: with("traceparent", `"00-`+tp+`-`+pid+`-01-x"`), err: ErrInvalidAttribute, field: "traceparent"},
		"traceparent separators":  {in: with("traceparent", `"00_`+tp+`_`+pid+`_01"`), err: ErrInvalidAttribute, field: "traceparent"},
		"traceparent non-hex":     {in: with("traceparent", `"00-`+tp[:31]+`g-`+pid+`-01"`), err: ErrInvalidAttribute, field: "traceparent"},
		"traceparent upper flags": {in: with("traceparent", `"00-`+tp+`-`+pid+`-0A"`), err: ErrInvalidAttribute, field: "traceparent"},
		// tenant
		"tenant missing":    {in: without("tenant"), err: ErrMissingAttribute, field: "tenant"},
		"tenant number":     {in: with("tenant", `1`), err: ErrInvalidAttribute, field: "tenant"},
		"tenant bool":       {in: with("tenant", `true`), err: ErrInvalidAttribute, field: "tenant"},
		"tenant empty":      {in: with("tenant", `""`), err: ErrInvalidIdentifier, field: "tenant"},
		"tenant 65":         {in: with("tenant", `"`+strings.Repeat("a", 65)+`"`), err: ErrInvalidIdentifier, field: "tenant"},
		"tenant upper":      {in: with("tenant", `"Acme"`), err: ErrInvalidIdentifier, field: "tenant"},
		"tenant dot":        {in: with("tenant", `"ac.me"`), err: ErrInvalidIdentifier, field: "tenant"},
		"tenant star":       {in: with("tenant", `"*"`), err: ErrInvalidIdentifier, field: "tenant"},
		"tenant gt":         {in: with("tenant", `">"`), err: ErrInvalidIdentifier, field: "tenant"},
		"tenant space":      {in: with("tenant", `"ac me"`), err: ErrInvalidIdentifier, field: "tenant"},
		"tenant tab":        {in: with("tenant", `"ac\tme"`), err: ErrInvalidIdentifier, field: "tenant"},
		"tenant unicode":    {in: with("tenant", `"acmé"`), err: ErrInvalidIdentifier, field: "tenant"},
		"tenant NUL":        {in: with("tenant", `"acme\u0000"`), err: ErrInvalidIdentifier, field: "tenant"},
		"tenant slash":      {in: with("tenant", `"a/b"`), err: ErrInvalidIdentifier, field: "tenant"},
		"tenant lead dash":  {in: with("tenant", `"-acme"`), err: ErrInvalidIdentifier, field: "tenant"},
		"tenant lead under": {in: with("tenant", `"_unknown"`), err: ErrInvalidIdentifier, field: "tenant"},
		// agentid
		"agentid missing": {in: without("agentid"), err: ErrMissingAttribute, field: "agentid"},
		"agentid object":  {in: with("agentid", `{"a":1}`), err: ErrInvalidAttribute, field: "agentid"},
		"agentid empty":   {in: with("agentid", `""`), err: ErrInvalidIdentifier, field: "agentid"},
		"agentid 65":      {in: with("agentid", `"`+strings.Repeat("a", 65)+`"`), err: ErrInvalidIdentifier, field: "agentid"},
		"agentid upper":   {in: with("agentid", `"Agent-1"`), err: ErrInvalidIdentifier, field: "agentid"},
		"agentid dot":     {in: with("agentid", `"agent.1"`), err: ErrInvalidIdentifier, field: "agentid"},
		"agentid star":    {in: with("agentid", `"agent*"`), err: ErrInvalidIdentifier, field: "agentid"},
		"agentid gt":      {in: with("agentid", `"agent>"`), err: ErrInvalidIdentifier, field: "agentid"},
		"agentid space":   {in: with("agentid", `"agent 1"`), err: ErrInvalidIdentifier, field: "agentid"},
		"agentid tab":     {in: with("agentid", `"agent\t1"`), err: ErrInvalidIdentifier, field: "agentid"},
		"agentid unicode": {in: with("agentid", `"agent-ü"`), err: ErrInvalidIdentifier, field: "agentid"},
		"agentid NUL":     {in: with("agentid", `"\u0000"`), err: ErrInvalidIdentifier, field: "agentid"},
		// sessionid
		"sessionid number":  {in: with("sessionid", `42`), err: ErrInvalidAttribute, field: "sessionid"},
		"sessionid empty":   {in: with("sessionid", `""`), err: ErrInvalidIdentifier, field: "sessionid"},
		"sessionid 65":      {in: with("sessionid", `"`+strings.Repeat("s", 65)+`"`), err: ErrInvalidIdentifier, field: "sessionid"},
		"sessionid upper":   {in: with("sessionid", `"S1"`), err: ErrInvalidIdentifier, field: "sessionid"},
		"sessionid dot":     {in: with("sessionid", `"s.1"`), err: ErrInvalidIdentifier, field: "sessionid"},
		"sessionid star":    {in: with("sessionid", `"*"`), err: ErrInvalidIdentifier, field: "sessionid"},
		"sessionid gt":      {in: with("sessionid", `">"`), err: ErrInvalidIdentifier, field: "sessionid"},
		"sessionid space":   {in: with("sessionid", `"s 1"`), err: ErrInvalidIdentifier, field: "sessionid"},
		"sessionid tab":     {in: with("sessionid", `"s\t1"`), err: ErrInvalidIdentifier, field: "sessionid"},
		"sessionid unicode": {in: with("sessionid", `"ß"`), err: ErrInvalidIdentifier, field: "sessionid"},
		"sessionid NUL":     {in: with("sessionid", `"s\u0000"`), err: ErrInvalidIdentifier, field: "sessionid"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e, err := Decode(tc.in, tc.lim)
			if e != nil {
				t.Errorf("got an envelope with error %v", err)
			}
			wantErr(t, err, tc.err, tc.field)
		})
	}
}

// TestDecodeErrorMessages pins what dead-letter readers see: the offset of
// a syntax error and a bounded, quoted echo of bad values.
func TestDecodeErrorMessages(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in   []byte
		want string
	}{
		"syntax offset":      {in: []byte(`{"id": x}`), want: "events: malformed JSON at byte offset 8: invalid character 'x' looking for beginning of value"},
		"trailing garbage":   {in: []byte(`{} x`), want: "events: malformed JSON at byte offset 4: invalid character 'x' after top-level value"},
		"not an object":      {in: []byte(` [1]`), want: "events: malformed JSON at byte offset 1: top-level value is not an object"},
		"identifier echo":    {in: with("tenant", `"ACME"`), want: `events: attribute "tenant": invalid identifier: must match [a-z0-9][a-z0-9_-]{0,63}, got "ACME"`},
		"missing":            {in: without("agentid"), want: `events: attribute "agentid": missing attribute`},
		"echo is quoted":     {in: with("id", `"a\r\nb"`), want: `events: attribute "id": invalid attribute: contains control characters, got "a\r\nb"`},
		"echo is ascii":      {in: with("tenant", `"é"`), want: `events: attribute "tenant": invalid identifier: must match [a-z0-9][a-z0-9_-]{0,63}, got "\u00e9"`},
		"too large":          {in: bytes.Repeat([]byte(" "), 300<<10), want: "events: too large: 307200 bytes exceeds the limit of 262144"},
		"too deep":           {in: []byte(nested(40)), want: "events: too deeply nested: nesting exceeds 32 at byte offset 32"},
		"invalid utf8":       {in: []byte("{\"a\xff\":1}"), want: "events: invalid UTF-8 at byte offset 3"},
		"duplicate":          {in: plus(member{"tenant", `"b"`}), want: `events: attribute "tenant": duplicate attribute: the key appears more than once`},
		"echo of long value": {in: with("id", `"`+strings.Repeat("x", 200)+`"`), want: `events: attribute "id": invalid attribute: longer than 128 bytes, got "` + strings.Repeat("x", 64) + `"... (200 bytes)`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Decode(tc.in, Limits{})
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tc.want {
				t.Fatalf("got  %s\nwant %s", err, tc.want)
			}
		})
	}
}

func TestDecodeSyntaxErrorUnwraps(t *testing.T) {
	t.Parallel()
	_, err := Decode([]byte(`{"a":}`), Limits{})
	var se *json.SyntaxError
	if !errorsAs(err, &se) || se.Offset != 6 {
		t.Fatalf("want a *json.SyntaxError at offset 6, got %v", err)
	}
}

func TestDecodeDoesNotRetainInput(t *testing.T) {
	t.Parallel()
	in := plus(member{"x", `{"k":1}`})
	e, err := Decode(in, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		in[i] = ' '
	}
	if string(e.Data) != `{"tool":"sql","args":{"q":"select 1"}}` || string(e.Extensions["x"]) != `{"k":1}` || e.Tenant != "acme" {
		t.Fatalf("envelope changed with its input: %+v", e)
	}
}

// TestDecodeDeepIsCheap runs the nesting attack at full size: the
// rejection comes from the pre-scan, not from a recursive parser.
// AllocsPerRun refuses to run in parallel tests, hence no t.Parallel.
func TestDecodeDeepIsCheap(t *testing.T) {
	deep := []byte(`{"data":` + nested(100_000) + `}`)
	_, err := Decode(deep, Limits{MaxBytes: len(deep)})
	wantErr(t, err, ErrTooDeep, "")
	allocs := testing.AllocsPerRun(10, func() { _, _ = Decode(deep, Limits{MaxBytes: len(deep)}) })
	if allocs > 5 {
		t.Fatalf("rejecting a deep document allocated %v times", allocs)
	}
}

// exts returns n extension members named prefix0, prefix1…
func exts(prefix string, n int) []member {
	ms := make([]member, n)
	for i := range ms {
		ms[i] = member{prefix + strconv.Itoa(i), strconv.Itoa(i)}
	}
	return ms
}
