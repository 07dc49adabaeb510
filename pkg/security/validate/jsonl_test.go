package validate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/escai-framework/escai/pkg/security/config"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestRunJSONLGolden(t *testing.T) {
	t.Parallel()
	in, err := os.ReadFile(filepath.Join("testdata", "jsonl", "input.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	v := newValidator(t, config.LevelStandard)
	var out bytes.Buffer
	if err := RunJSONL(context.Background(), v, bytes.NewReader(in), &out); err != nil {
		t.Fatalf("RunJSONL: %v", err)
	}
	golden := filepath.Join("testdata", "jsonl", "output.golden.jsonl")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("output differs from %s (run with -update after checking):\n%s", golden, out.String())
	}
	// One output line per input line, each a JSON object.
	inLines := strings.Count(strings.TrimSuffix(string(in), "\n"), "\n") + 1
	outLines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(outLines) != inLines {
		t.Fatalf("%d output lines for %d input lines", len(outLines), inLines)
	}
	for i, l := range outLines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("output line %d is not JSON: %s", i+1, l)
		}
	}
}

func TestRunJSONLLongLine(t *testing.T) {
	t.Parallel()
	v := newValidator(t, config.LevelStandard)
	long := `{"id":"big","field":"data.output","value":"` + strings.Repeat("a", MaxLineBytes) + `"}`
	in := `{"id":1,"field":"data.city","value":"Oslo"}` + "\n" + long + "\n" + `{"id":3,"field":"data.city","value":"Rome"}` + "\n"
	var out bytes.Buffer
	if err := RunJSONL(context.Background(), v, strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines: %q", len(lines), out.String())
	}
	if lines[1] != `{"id":"big","error":"line longer than 1048576 bytes"}` {
		t.Fatalf("long line answer %s", lines[1])
	}
	if !strings.Contains(lines[2], `"id":3`) || !strings.Contains(lines[2], `"verdict":"clean"`) {
		t.Fatalf("line after the long one: %s", lines[2])
	}
}

func TestRunJSONLLineEndings(t *testing.T) {
	t.Parallel()
	v := newValidator(t, config.LevelStandard)
	cases := map[string]struct {
		in   string
		want int
	}{
		"crlf":             {"{\"id\":1,\"field\":\"a\",\"value\":\"b\"}\r\n{\"id\":2,\"field\":\"a\",\"value\":\"b\"}\r\n", 2},
		"no final newline": {"{\"id\":1,\"field\":\"a\",\"value\":\"b\"}\n{\"id\":2,\"field\":\"a\",\"value\":\"b\"}", 2},
		"empty input":      {"", 0},
		"blank line":       {"\n", 1},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			if err := RunJSONL(context.Background(), v, strings.NewReader(tc.in), &out); err != nil {
				t.Fatal(err)
			}
			if got := strings.Count(out.String(), "\n"); got != tc.want {
				t.Fatalf("%d lines, want %d: %q", got, tc.want, out.String())
			}
		})
	}
}

func TestRunJSONLContext(t *testing.T) {
	t.Parallel()
	v := newValidator(t, config.LevelStandard)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := RunJSONL(ctx, v, strings.NewReader(`{"id":1,"field":"a","value":"b"}`+"\n"), io.Discard)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

type failReader struct{}

func (failReader) Read([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestRunJSONLIOErrors(t *testing.T) {
	t.Parallel()
	v := newValidator(t, config.LevelStandard)
	if err := RunJSONL(context.Background(), v, strings.NewReader(`{"id":1,"field":"a","value":"b"}`+"\n"), failWriter{}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("write error: %v", err)
	}
	if err := RunJSONL(context.Background(), v, failReader{}, io.Discard); err == nil || !strings.Contains(err.Error(), "broken pipe") {
		t.Fatalf("read error: %v", err)
	}
	if err := RunJSONL(context.Background(), nil, strings.NewReader(""), io.Discard); err == nil {
		t.Fatal("nil validator accepted")
	}
}
