package httpapi

import (
	"encoding/json"
	"net/http"
)

// writeJSON answers with v as JSON and returns the status for metrics.
// The answer is never cached and never sniffed as anything else.
func writeJSON(w http.ResponseWriter, status int, v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		// Unreachable: the response types marshal.
		status = http.StatusInternalServerError
		b = []byte(`{"error":"internal","message":"the response could not be encoded"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
	return status
}

func writeError(w http.ResponseWriter, status int, code, msg string) int {
	return writeJSON(w, status, ErrorResponse{Error: code, Message: msg})
}
