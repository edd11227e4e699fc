package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// CaseEvent is something that happened to a nudge that the case system is
// told about (bot/events turns it into a CloudEvent for each subscriber).
// It travels in the outbox entry of the change that caused it (Work.Events),
// written by the same script as the change, so a crash cannot lose it.
//
// It never holds a phone number or a message body: the nudge id, the case
// reference and a status.
type CaseEvent struct {
	// ID is the event id; empty for a message status event, whose id is
	// derived from the message and the event type (a repeated status
	// report then has the same id).
	ID string `json:"id,omitempty"`
	// Type is the event type (bot/events); empty for a message status
	// event, whose type follows from State.
	Type    string `json:"ty,omitempty"`
	Nudge   string `json:"n,omitempty"`
	Ref     string `json:"r,omitempty"` // case reference; filled in from the nudge when empty
	Flow    string `json:"f,omitempty"`
	Msg     string `json:"m,omitempty"`
	State   string `json:"st,omitempty"` // message status, or the nudge's outcome
	Code    int    `json:"co,omitempty"` // provider error code
	Channel string `json:"ch,omitempty"`
	// Callback is the werkplaats task a callback request created.
	Callback string    `json:"cb,omitempty"`
	Batch    string    `json:"b,omitempty"` // batch id (batch.done)
	At       time.Time `json:"at"`
}

// eventTimeLayout is how a Lua script writes CaseEvent.At (RFC 3339, which
// encoding/json reads back).
const eventTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// decodeWorkResult reads the outbox json a status script wrote ("" for none).
func decodeWorkResult(v string) (*Work, error) {
	if v == "" {
		return nil, nil
	}
	var w Work
	if err := json.Unmarshal([]byte(v), &w); err != nil {
		return nil, fmt.Errorf("decode outbox: %w", err)
	}
	return &w, nil
}

// SetStatusWork is SetStatus with the case events of the change: when w
// carries events they are written to outbox entry ob in the same script
// (with its pointer), and the work actually stored is returned (nil: none;
// a delivery report that arrived before the send was recorded changes the
// events' state to the reported one). The caller queues it and removes the
// entry (or leaves it to the recovery pass).
func (s *Store) SetStatusWork(ctx context.Context, tag, msgID, providerID string, st Status, ob Outbox, w *Work) (*Work, error) {
	return s.SetStatusWorkAlong(ctx, tag, msgID, providerID, st, ob, w, nil)
}

// Along adds commands to a round trip the store makes anyway. They must be
// harmless whatever the store's own commands answer (they record a state,
// not a step).
type Along func(pipe redis.Pipeliner)

// SetStatusWorkAlong is SetStatusWork with along (nil: nothing) sent in
// the same round trip, after the status script.
func (s *Store) SetStatusWorkAlong(ctx context.Context, tag, msgID, providerID string, st Status, ob Outbox, w *Work, along Along) (*Work, error) {
	work, err := encodeWork(w)
	if err != nil {
		return nil, err
	}
	var pointer *Outbox
	if work != "" {
		pointer = &ob
	}
	keys := []string{s.rcpKey(tag), s.msgsKey(tag), s.outboxKey(tag)}
	cmd, err := s.runPointedWith(ctx, pointer, along, sentScript, keys, providerID, msgID, encodeStatus(st), ms(s.retention), st.State,
		st.At.UnixMilli(), ob.ID, work)
	if err != nil {
		return nil, fmt.Errorf("set status: %w", err)
	}
	v, err := cmd.Text()
	if err != nil {
		return nil, fmt.Errorf("set status: %w", err)
	}
	return decodeWorkResult(v)
}

// ProviderStatusWork is ProviderStatus that also writes a message status
// event (CaseEvent without Type) to outbox entry ob when events is true
// and the status was applied to a message of a nudge, and the report's
// follow-up fu (nil: none) in the same entry; when fu.OptOut, the same
// script marks the recipient opted out on fu.Channel. It returns the
// message id and the work stored (nil: none).
func (s *Store) ProviderStatusWork(ctx context.Context, tag, providerID string, st Status, ob Outbox, events bool, fu *StatusWork) (string, *Work, error) {
	var pointer *Outbox
	evAt, fuJSON, optOut := "", "", ""
	if events {
		pointer, evAt = &ob, st.At.UTC().Format(eventTimeLayout)
	}
	if fu != nil {
		var err error
		if fuJSON, err = encodeWork(&Work{Status: fu}); err != nil {
			return "", nil, err
		}
		if fu.OptOut {
			optOut = fu.Channel
		}
		pointer = &ob
	}
	keys := []string{s.rcpKey(tag), s.msgsKey(tag), s.outboxKey(tag)}
	cmd, err := s.runPointed(ctx, pointer, statusScript, keys, providerID, encodeStatus(st), rank(st.State), ms(s.retention),
		st.State, st.At.UnixMilli(), ob.ID, evAt, st.Code, fuJSON, optOut)
	if err != nil {
		return "", nil, fmt.Errorf("provider status: %w", err)
	}
	res, err := cmd.StringSlice()
	if err != nil {
		return "", nil, fmt.Errorf("provider status: %w", err)
	}
	w, err := decodeWorkResult(res[1])
	if err != nil {
		return "", nil, err
	}
	if w == nil && pointer != nil {
		s.dropPointer(ctx, ob)
	}
	return res[0], w, nil
}

// SetOptOutWork records an opt-out reported by a provider, with the case
// events it causes written to outbox entry ob in the same MULTI/EXEC (the
// recipient's keys share one slot); the pointer is written just before.
// Without events it is SetOptOut. The caller queues w after a nil error.
func (s *Store) SetOptOutWork(ctx context.Context, tag, channel string, at time.Time, ob Outbox, w *Work) error {
	work, err := encodeWork(w)
	if err != nil {
		return err
	}
	if work == "" {
		return s.SetOptOut(ctx, tag, channel, true, at)
	}
	if err := s.rdb.ZAdd(ctx, s.pendingKeyOf(tag), redis.Z{Score: float64(ob.At.UnixMilli()), Member: ob.member()}).Err(); err != nil {
		return fmt.Errorf("set opt-out: %w", err)
	}
	pipe := s.rdb.TxPipeline()
	pipe.HSet(ctx, s.rcpKey(tag), "optout:"+channel, at.UnixMilli())
	pipe.PExpire(ctx, s.rcpKey(tag), s.retention)
	pipe.HSet(ctx, s.outboxKey(tag), ob.ID, work)
	pipe.PExpire(ctx, s.outboxKey(tag), s.retention)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("set opt-out: %w", err)
	}
	return s.indexOptOut(ctx, tag, channel, true, at)
}
