package console

import (
	"context"
	"time"

	"github.com/seintje/seintje/bot/lang"
	"github.com/seintje/seintje/bot/store"
)

// MessageView is one chat bubble.
type MessageView struct {
	Out    bool
	At     time.Time
	Body   string
	Lang   string // the language the text is in ("" for what the person wrote)
	Dir    string // rtl for right-to-left languages, auto for replies
	Kind   string
	Status string // queued, sent, delivered, read, failed, ...
	Reason string // plain reason of a failure or hold
	Chan   string
}

// Transcript is a conversation as the console shows it.
type Transcript struct {
	Nudge    *store.Nudge
	Messages []MessageView
}

// textDir is the dir attribute of a message Seintje sent in code: rtl for
// Arabic and other right-to-left languages, else auto, so a text in
// another language than the conversation's (a STOP confirmation in the
// recipient's own language) still shows the right way.
func textDir(code string) string {
	if lang.RTL(code) {
		return "rtl"
	}
	return "auto"
}

// transcript loads nudge id with its messages.
func (c *Console) transcript(ctx context.Context, id string) (*Transcript, error) {
	n, err := c.d.Store.Nudge(ctx, id)
	if err != nil {
		return nil, err
	}
	msgs, err := c.d.Store.Transcript(ctx, n.Tag, n.ID)
	if err != nil {
		return nil, err
	}
	t := &Transcript{Nudge: n}
	for _, m := range msgs {
		v := MessageView{Out: m.Dir == "out", At: m.At, Body: m.Body, Kind: m.Kind, Chan: m.Channel}
		if v.Out {
			v.Lang, v.Dir, v.Status = n.Lang, textDir(n.Lang), "queued"
		} else {
			v.Dir, v.Status = "auto", "received"
		}
		if m.Status != nil {
			v.Status, v.Reason = m.Status.State, m.Status.Reason
		}
		t.Messages = append(t.Messages, v)
	}
	return t, nil
}
