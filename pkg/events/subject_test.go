package events

import (
	"strings"
	"testing"
)

func TestEventSubject(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		stage         Stage
		tenant, agent string
		typ           string
		want          string
		err           error
		field         string
	}{
		"in":                {StageIn, "acme", "agent-1", "escai.tool.call", "escai.in.acme.agent-1.tool.call", nil, ""},
		"valid":             {StageValid, "acme", "agent-1", "escai.tool.call", "escai.valid.acme.agent-1.tool.call", nil, ""},
		"clean":             {StageClean, "acme", "a", "escai.error", "escai.clean.acme.a.error", nil, ""},
		"rejected":          {StageRejected, "acme", "agent-1", "escai.tool.call", "escai.rejected.acme.agent-1", nil, ""},
		"rejected bad type": {StageRejected, "acme", "agent-1", "*", "escai.rejected.acme.agent-1", nil, ""},
		"8 type tokens":     {StageIn, "t", "a", "escai.a.b.c.d.e.f.g.h", "escai.in.t.a.a.b.c.d.e.f.g.h", nil, ""},
		"unknown stage":     {Stage("audit"), "acme", "a", "escai.x", "", ErrInvalidSubject, "stage"},
		"empty stage":       {Stage(""), "acme", "a", "escai.x", "", ErrInvalidSubject, "stage"},
		"wildcard stage":    {Stage("*"), "acme", "a", "escai.x", "", ErrInvalidSubject, "stage"},
		"tenant empty":      {StageIn, "", "a", "escai.x", "", ErrMissingAttribute, "tenant"},
		"tenant star":       {StageIn, "*", "a", "escai.x", "", ErrInvalidIdentifier, "tenant"},
		"tenant gt":         {StageIn, ">", "a", "escai.x", "", ErrInvalidIdentifier, "tenant"},
		"tenant dot":        {StageIn, "a.b", "a", "escai.x", "", ErrInvalidIdentifier, "tenant"},
		"tenant space":      {StageIn, "a b", "a", "escai.x", "", ErrInvalidIdentifier, "tenant"},
		"agent empty":       {StageIn, "t", "", "escai.x", "", ErrMissingAttribute, "agentid"},
		"agent gt":          {StageRejected, "t", ">", "", "", ErrInvalidIdentifier, "agentid"},
		"agent tab":         {StageIn, "t", "a\tb", "escai.x", "", ErrInvalidIdentifier, "agentid"},
		"type missing":      {StageIn, "t", "a", "", "", ErrMissingAttribute, "type"},
		"type wildcard":     {StageIn, "t", "a", "escai.>", "", ErrInvalidAttribute, "type"},
		"type star":         {StageIn, "t", "a", "escai.tool.*", "", ErrInvalidAttribute, "type"},
		"type no prefix":    {StageIn, "t", "a", "tool.call", "", ErrInvalidAttribute, "type"},
		"type empty token":  {StageIn, "t", "a", "escai.tool..call", "", ErrInvalidAttribute, "type"},
		"type whitespace":   {StageIn, "t", "a", "escai.tool call", "", ErrInvalidAttribute, "type"},
		"type 9 tokens":     {StageIn, "t", "a", "escai.a.b.c.d.e.f.g.h.i", "", ErrInvalidAttribute, "type"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := EventSubject(tc.stage, tc.tenant, tc.agent, tc.typ)
			if tc.err != nil {
				wantErr(t, err, tc.err, tc.field)
				if got != "" {
					t.Fatalf("returned %q with an error", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("EventSubject = %q, %v; want %q", got, err, tc.want)
			}
			s, err := ParseEventSubject(got)
			if err != nil {
				t.Fatalf("ParseEventSubject(%q): %v", got, err)
			}
			if s.String() != got {
				t.Fatalf("String() = %q, want %q", s.String(), got)
			}
		})
	}
}

func TestEnvelopeSubject(t *testing.T) {
	t.Parallel()
	e := goEnvelope()
	got, err := e.Subject(StageClean)
	if err != nil || got != "escai.clean.acme.agent-1.tool.call" {
		t.Fatalf("Subject = %q, %v", got, err)
	}
	e.AgentID = "*"
	_, err = e.Subject(StageIn)
	wantErr(t, err, ErrInvalidIdentifier, "agentid")
}

func TestParseEventSubject(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in   string
		want Subject
		ok   bool
	}{
		"in":                   {"escai.in.acme.agent-1.tool.call", Subject{StageIn, "acme", "agent-1", "tool.call"}, true},
		"valid one token":      {"escai.valid.acme.a.error", Subject{StageValid, "acme", "a", "error"}, true},
		"clean 8 tokens":       {"escai.clean.t.a.a.b.c.d.e.f.g.h", Subject{StageClean, "t", "a", "a.b.c.d.e.f.g.h"}, true},
		"rejected":             {"escai.rejected.acme.agent-1", Subject{StageRejected, "acme", "agent-1", ""}, true},
		"longest":              {"escai.rejected." + strings.Repeat("t", 64) + "." + strings.Repeat("a", 64), Subject{StageRejected, strings.Repeat("t", 64), strings.Repeat("a", 64), ""}, true},
		"empty":                {in: ""},
		"prefix only":          {in: "escai"},
		"prefix dot":           {in: "escai."},
		"wrong prefix":         {in: "escaix.in.acme.a.x"},
		"upper prefix":         {in: "ESCAI.in.acme.a.x"},
		"no prefix":            {in: "in.acme.a.x"},
		"leading dot":          {in: ".escai.in.acme.a.x"},
		"wrong stage":          {in: "escai.audit.acme.a.x"},
		"security stage":       {in: "escai.security.acme.a.x"},
		"upper stage":          {in: "escai.IN.acme.a.x"},
		"wildcard stage":       {in: "escai.*.acme.a.x"},
		"stage only":           {in: "escai.in"},
		"stage dot":            {in: "escai.in."},
		"tenant only":          {in: "escai.in.acme"},
		"no type":              {in: "escai.in.acme.a"},
		"trailing dot":         {in: "escai.in.acme.a."},
		"empty tenant":         {in: "escai.in..a.b"},
		"empty agent":          {in: "escai.in.acme..b"},
		"empty type token":     {in: "escai.in.acme.a.tool..call"},
		"tenant star":          {in: "escai.in.*.a.b"},
		"agent star":           {in: "escai.in.acme.*.b"},
		"tenant gt":            {in: "escai.in.>"},
		"type gt":              {in: "escai.in.acme.a.>"},
		"type star":            {in: "escai.in.acme.a.tool.*"},
		"space":                {in: "escai.in.acme.a b.x"},
		"tab":                  {in: "escai.in.acme.a.x\t"},
		"newline":              {in: "escai.in.acme.a.x\r\n"},
		"unicode":              {in: "escai.in.acmé.a.x"},
		"NUL":                  {in: "escai.in.acme\x00.a.x"},
		"upper tenant":         {in: "escai.in.ACME.a.x"},
		"tenant 65":            {in: "escai.in." + strings.Repeat("t", 65) + ".a.x"},
		"9 type tokens":        {in: "escai.in.t.a.a.b.c.d.e.f.g.h.i"},
		"rejected with type":   {in: "escai.rejected.acme.a.tool"},
		"rejected fallback":    {in: RejectedSubjectFallback()},
		"audit subject":        {in: AuditSubject(1)},
		"way too long":         {in: "escai.in.t.a." + strings.Repeat("x.", 100000) + "x"},
		"invalid utf8":         {in: "escai.in.t.a.\xff"},
		"tenant leading under": {in: "escai.in._a.a.x"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseEventSubject(tc.in)
			if !tc.ok {
				wantErr(t, err, ErrInvalidSubject, "subject")
				if got != (Subject{}) {
					t.Fatalf("returned %+v with an error", got)
				}
				if len(err.Error()) > 300 {
					t.Fatalf("error echoes too much: %d bytes", len(err.Error()))
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseEventSubject(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			if got.String() != tc.in {
				t.Fatalf("String() = %q, want %q", got.String(), tc.in)
			}
		})
	}
}

func TestSubjectEventType(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		s    Subject
		want string
	}{
		"tokens":   {Subject{Stage: StageIn, Tenant: "t", Agent: "a", TypeTokens: "tool.call"}, "escai.tool.call"},
		"rejected": {Subject{Stage: StageRejected, Tenant: "t", Agent: "a"}, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := tc.s.EventType(); got != tc.want {
				t.Fatalf("EventType = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCheckSubject(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		subject string
		mod     func(e *Envelope)
		err     error
		field   string
	}{
		"match":              {subject: "escai.in.acme.agent-1.tool.call"},
		"match rejected":     {subject: "escai.rejected.acme.agent-1"},
		"match clean":        {subject: "escai.clean.acme.agent-1.tool.call"},
		"other agent":        {subject: "escai.in.acme.agent-2.tool.call", err: ErrSubjectMismatch, field: "agentid"},
		"other tenant":       {subject: "escai.in.globex.agent-1.tool.call", err: ErrSubjectMismatch, field: "tenant"},
		"other type":         {subject: "escai.in.acme.agent-1.tool.result", err: ErrSubjectMismatch, field: "type"},
		"type prefix":        {subject: "escai.in.acme.agent-1.tool", err: ErrSubjectMismatch, field: "type"},
		"type longer":        {subject: "escai.in.acme.agent-1.tool.call.x", err: ErrSubjectMismatch, field: "type"},
		"rejected other":     {subject: "escai.rejected.acme.agent-2", err: ErrSubjectMismatch, field: "agentid"},
		"tenant wins":        {subject: "escai.in.globex.agent-2.x", err: ErrSubjectMismatch, field: "tenant"},
		"envelope no prefix": {subject: "escai.in.acme.agent-1.tool.call", mod: func(e *Envelope) { e.Type = "tool.call" }, err: ErrSubjectMismatch, field: "type"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := ParseEventSubject(tc.subject)
			if err != nil {
				t.Fatal(err)
			}
			e := goEnvelope()
			if tc.mod != nil {
				tc.mod(e)
			}
			err = CheckSubject(e, s)
			if tc.err == nil {
				if err != nil {
					t.Fatalf("CheckSubject: %v", err)
				}
				return
			}
			wantErr(t, err, tc.err, tc.field)
		})
	}
}

func TestCheckSubjectNilEnvelope(t *testing.T) {
	t.Parallel()
	wantErr(t, CheckSubject(nil, Subject{Stage: StageIn}), ErrSubjectMismatch, "")
}

func TestDecodeFromSubject(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		subject string
		raw     []byte
		err     error
		field   string
		subj    Subject
	}{
		"ok":             {subject: "escai.in.acme.agent-1.tool.call", raw: validBase(), subj: Subject{StageIn, "acme", "agent-1", "tool.call"}},
		"forged agent":   {subject: "escai.in.acme.agent-2.tool.call", raw: validBase(), err: ErrSubjectMismatch, field: "agentid", subj: Subject{StageIn, "acme", "agent-2", "tool.call"}},
		"forged tenant":  {subject: "escai.in.globex.agent-1.tool.call", raw: validBase(), err: ErrSubjectMismatch, field: "tenant", subj: Subject{StageIn, "globex", "agent-1", "tool.call"}},
		"other type":     {subject: "escai.in.acme.agent-1.prompt", raw: validBase(), err: ErrSubjectMismatch, field: "type", subj: Subject{StageIn, "acme", "agent-1", "prompt"}},
		"bad subject":    {subject: "escai.in.acme.*.tool.call", raw: validBase(), err: ErrInvalidSubject, field: "subject"},
		"bad body":       {subject: "escai.in.acme.agent-1.tool.call", raw: []byte(`{`), err: ErrMalformedJSON, subj: Subject{StageIn, "acme", "agent-1", "tool.call"}},
		"body too large": {subject: "escai.in.acme.agent-1.tool.call", raw: append(validBase(), ' '), err: ErrTooLarge, subj: Subject{StageIn, "acme", "agent-1", "tool.call"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e, s, err := DecodeFromSubject(tc.subject, tc.raw, Limits{MaxBytes: len(validBase())})
			if s != tc.subj {
				t.Fatalf("subject = %+v, want %+v", s, tc.subj)
			}
			if tc.err == nil {
				if err != nil || e == nil {
					t.Fatalf("DecodeFromSubject: %v", err)
				}
				return
			}
			if e != nil {
				t.Fatal("returned an envelope with an error")
			}
			wantErr(t, err, tc.err, tc.field)
		})
	}
}

func TestAuditSubject(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		p    int
		want string
	}{
		"zero":  {0, "escai.audit.0"},
		"seven": {7, "escai.audit.7"},
		"large": {1 << 20, "escai.audit.1048576"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := AuditSubject(tc.p); got != tc.want {
				t.Fatalf("AuditSubject(%d) = %q, want %q", tc.p, got, tc.want)
			}
		})
	}
}

func TestAuditSubjectNegativePanics(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Fatal("AuditSubject(-1) did not panic")
		}
	}()
	AuditSubject(-1)
}

func TestSecuritySubject(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		kind string
		want string
		ok   bool
	}{
		"auth failure": {"auth_failure", "escai.security.auth_failure", true},
		"pii":          {"pii-detected", "escai.security.pii-detected", true},
		"empty":        {kind: ""},
		"dot":          {kind: "a.b"},
		"star":         {kind: "*"},
		"gt":           {kind: ">"},
		"space":        {kind: "a b"},
		"upper":        {kind: "Auth"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := SecuritySubject(tc.kind)
			if !tc.ok {
				wantErr(t, err, ErrInvalidSubject, "kind")
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("SecuritySubject = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestRejectedSubjectFallback(t *testing.T) {
	t.Parallel()
	got := RejectedSubjectFallback()
	if got != "escai.rejected._unknown._unknown" {
		t.Fatalf("RejectedSubjectFallback = %q", got)
	}
	if ValidIdentifier(unknownToken) {
		t.Fatal("the fallback token is a valid identifier, so it could be a real tenant")
	}
	if !strings.HasPrefix(got, SubjectPrefix+"."+string(StageRejected)+".") {
		t.Fatal("fallback is not under the rejected subjects")
	}
}

func TestCleanStream(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		tenant string
		want   string
		err    error
	}{
		"ok":    {tenant: "acme", want: "ESCAI_CLEAN_acme"},
		"dash":  {tenant: "a-1_b", want: "ESCAI_CLEAN_a-1_b"},
		"empty": {tenant: "", err: ErrMissingAttribute},
		"dot":   {tenant: "a.b", err: ErrInvalidIdentifier},
		"slash": {tenant: "../x", err: ErrInvalidIdentifier},
		"gt":    {tenant: ">", err: ErrInvalidIdentifier},
		"space": {tenant: "a b", err: ErrInvalidIdentifier},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := CleanStream(tc.tenant)
			if tc.err != nil {
				wantErr(t, err, tc.err, "tenant")
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("CleanStream = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestMsgID(t *testing.T) {
	t.Parallel()
	a := goEnvelope()
	if got := MsgID(StageValid, a); got != "valid:acme:agent-1:evt-0001" {
		t.Fatalf("MsgID = %q", got)
	}
	// The same event decoded twice (a redelivery) gets the same id.
	e1, err1 := Decode(validBase(), Limits{})
	e2, err2 := Decode(validBase(), Limits{})
	if err1 != nil || err2 != nil || MsgID(StageIn, e1) != MsgID(StageIn, e2) {
		t.Fatal("MsgID is not deterministic")
	}
	tests := map[string]struct {
		stage Stage
		mod   func(e *Envelope)
	}{
		"other stage":    {StageClean, func(*Envelope) {}},
		"other tenant":   {StageValid, func(e *Envelope) { e.Tenant = "globex" }},
		"other agent":    {StageValid, func(e *Envelope) { e.AgentID = "agent-2" }},
		"other id":       {StageValid, func(e *Envelope) { e.ID = "evt-0002" }},
		"colon shifting": {StageValid, func(e *Envelope) { e.AgentID, e.ID = "agent", "1:evt-0001" }},
	}
	base := MsgID(StageValid, a)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := goEnvelope()
			tc.mod(e)
			if e.Validate() != nil {
				// An invalid envelope never reaches MsgID in the pipeline.
				return
			}
			if got := MsgID(tc.stage, e); got == base {
				t.Fatalf("MsgID collides with the base event: %q", got)
			}
		})
	}
}

func TestNamesAreContract(t *testing.T) {
	t.Parallel()
	got := map[string]string{
		"StreamIn": StreamIn, "StreamValid": StreamValid, "StreamRejected": StreamRejected,
		"StreamSecurity": StreamSecurity, "StreamAudit": StreamAudit, "StreamCleanPrefix": StreamCleanPrefix,
		"HeaderMsgID": HeaderMsgID, "HeaderRejectStage": HeaderRejectStage, "HeaderRejectCode": HeaderRejectCode,
		"HeaderRejectReason": HeaderRejectReason, "HeaderRejectField": HeaderRejectField,
		"HeaderSourceSubject": HeaderSourceSubject, "HeaderSourceSequence": HeaderSourceSequence,
		"SubjectPrefix": SubjectPrefix, "TypePrefix": TypePrefix, "SpecVersion": SpecVersion,
		"StageIn": string(StageIn), "StageValid": string(StageValid), "StageClean": string(StageClean), "StageRejected": string(StageRejected),
	}
	want := map[string]string{
		"StreamIn": "ESCAI_IN", "StreamValid": "ESCAI_VALID", "StreamRejected": "ESCAI_REJECTED",
		"StreamSecurity": "ESCAI_SECURITY", "StreamAudit": "ESCAI_AUDIT", "StreamCleanPrefix": "ESCAI_CLEAN_",
		"HeaderMsgID": "Nats-Msg-Id", "HeaderRejectStage": "Escai-Reject-Stage", "HeaderRejectCode": "Escai-Reject-Code",
		"HeaderRejectReason": "Escai-Reject-Reason", "HeaderRejectField": "Escai-Reject-Field",
		"HeaderSourceSubject": "Escai-Source-Subject", "HeaderSourceSequence": "Escai-Source-Sequence",
		"SubjectPrefix": "escai", "TypePrefix": "escai.", "SpecVersion": "1.0",
		"StageIn": "in", "StageValid": "valid", "StageClean": "clean", "StageRejected": "rejected",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %q, want %q", k, got[k], w)
		}
	}
}
