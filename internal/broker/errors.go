package broker

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalidConfig is returned by Start for a Config that cannot work
	// (missing store directory, bad route URL, ...).
	ErrInvalidConfig = errors.New("broker: invalid server config")
	// ErrNotReady is returned by Start when the server does not accept
	// clients, or JetStream is not usable, before the start-up deadline.
	ErrNotReady = errors.New("broker: server not ready")
	// ErrInvalidDefinition is returned by LoadDefinitions for a definition
	// file that does not parse or breaks the streams/ conventions. The
	// message names the file.
	ErrInvalidDefinition = errors.New("broker: invalid stream definition")
	// ErrInvalidOverrides is returned by Apply and EnsureTenant for
	// Overrides with negative values or keys that name no stream.
	ErrInvalidOverrides = errors.New("broker: invalid overrides")
	// ErrInvalidTenant is returned by EnsureTenant for a tenant that is not
	// an identifier ([a-z0-9][a-z0-9_-]{0,63}).
	ErrInvalidTenant = errors.New("broker: invalid tenant identifier")
	// ErrNoTemplate is returned by EnsureTenant when the definitions hold no
	// per-tenant template.
	ErrNoTemplate = errors.New("broker: no tenant stream template")
	// ErrImmutableField matches every *ImmutableFieldError.
	ErrImmutableField = errors.New("broker: immutable field")
)

// ImmutableFieldError reports a definition that differs from the server in a
// field the server cannot change on an existing stream or consumer. Apply
// never deletes and recreates: an operator migrates the data by hand.
type ImmutableFieldError struct {
	Kind   string // "stream" or "consumer"
	Stream string
	Name   string // consumer durable name; empty for a stream
	Field  string // JSON field name, as in the definition file
	Have   string // the server's value, JSON encoded
	Want   string // the definition's value, JSON encoded
}

func (e *ImmutableFieldError) Error() string {
	what := "stream " + e.Stream
	if e.Kind == KindConsumer {
		what = fmt.Sprintf("consumer %s on stream %s", e.Name, e.Stream)
	}
	return fmt.Sprintf("broker: %s: field %q cannot be changed in place (server has %s, definition wants %s); migrate by hand",
		what, e.Field, e.Have, e.Want)
}

// Is makes errors.Is(err, ErrImmutableField) true.
func (e *ImmutableFieldError) Is(target error) bool { return target == ErrImmutableField }
