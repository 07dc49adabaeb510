package stage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Message is one input handed to a Processor. Data and Header belong to the
// runtime; a processor that keeps them beyond Process must copy them.
type Message struct {
	Subject      string
	Data         []byte
	Header       nats.Header
	Stream       string
	Sequence     uint64 // stream sequence of the input
	NumDelivered uint64
	Stored       time.Time // when the broker stored the input
}

// Output is one message a processor wants stored downstream.
type Output struct {
	Subject string
	Data    []byte
	Header  nats.Header
	// MsgID is required: it must be derived from the event and the stage
	// (events.MsgID), never random, so a replay deduplicates.
	MsgID string
	// Opts are extra publish options (expectations for fenced appends).
	Opts []jetstream.PublishOpt
	// Future, when set, means the processor already published this output
	// itself (to keep an order only it can guarantee, such as a hash chain
	// under its lock); the runtime waits for this PubAck instead of
	// publishing. A future can be awaited once: never return it twice.
	Future jetstream.PubAckFuture
}

// Processor turns one input into zero or more outputs. It must not block on
// the network for long; errors wrapped with Permanent dead-letter the input,
// any other error is retried.
type Processor interface {
	Process(ctx context.Context, in *Message) ([]Output, error)
}

// ProcessorFunc adapts a function to Processor.
type ProcessorFunc func(ctx context.Context, in *Message) ([]Output, error)

// Process calls f.
func (f ProcessorFunc) Process(ctx context.Context, in *Message) ([]Output, error) {
	return f(ctx, in)
}

// Stored is one input whose outputs are all stored, with their PubAcks in
// the order of its outputs.
type Stored struct {
	In      *Message
	Outputs []Output
	Acks    []*jetstream.PubAck
}

// Committer is implemented by processors that must write a side effect
// after the outputs are stored and before the inputs are acked (the audit
// writer's index). An error naks the whole batch; the redelivery republishes
// with the same Msg-Ids, gets the same sequences back, and commits again, so
// Commit must be idempotent.
type Committer interface {
	Commit(ctx context.Context, batch []Stored) error
}

// PermanentError marks input that will never succeed (malformed, forged,
// over a limit). Code is a stable machine reason such as "too_deep"; Field
// names the offending attribute when known.
type PermanentError struct {
	Code  string
	Field string
	Err   error
	// Also are outputs stored with the dead letter, such as the security
	// report about why the input was refused.
	Also []Output
}

func (e *PermanentError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s (%s): %v", e.Code, e.Field, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Code, e.Err)
}

func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err as a permanent failure with a machine reason code.
func Permanent(code, field string, err error) error {
	if err == nil {
		err = errors.New(code)
	}
	return &PermanentError{Code: code, Field: field, Err: err}
}

// IsPermanent reports whether err is, or wraps, a PermanentError.
func IsPermanent(err error) bool {
	var pe *PermanentError
	return errors.As(err, &pe)
}

// Reason codes written by the runtime itself.
const (
	CodeMaxDeliver = "max_deliver_exceeded"
)
