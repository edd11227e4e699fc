package console

import (
	"net/http"

	"github.com/seintje/seintje/bot/outreach"
	"github.com/seintje/seintje/bot/phone"
	"github.com/seintje/seintje/bot/store"
)

// InboxRow is one question, forwarded reply or text from an unknown
// number.
type InboxRow struct {
	store.InboxItem
	Name, Ref string
	Unknown   bool   // a number Seintje does not know
	Masked    string // the masked number, for unknown senders
	Nudge     string
	Before    *MessageView // the message it answers, when there is one
}

// InboxData is the inbox.
type InboxData struct {
	Show        string // unhandled or all
	Rows        []InboxRow
	Suggestions []outreach.Suggestion
}

// inboxShow lists what needs a case worker: questions and replies with the
// message they answer, texts from unknown numbers, home-visit suggestions.
func (c *Console) inboxShow(w http.ResponseWriter, r *http.Request, s *Session) {
	ctx := r.Context()
	d := InboxData{Show: r.URL.Query().Get("show")}
	if d.Show != "all" {
		d.Show = "unhandled"
	}
	items, err := c.d.Store.InboxItems(ctx, 200)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	for _, it := range items {
		if d.Show == "unhandled" && it.Handled() {
			continue
		}
		row := InboxRow{InboxItem: it}
		rcp, err := c.d.Store.Recipient(ctx, it.Message.Tag)
		if err == nil {
			row.Name, row.Ref = rcp.Name, rcp.Ref
			row.Masked = phone.Mask(rcp.Phone)
		}
		row.Unknown = row.Ref == ""
		if conv := it.Message.Conv; conv != "" && conv != "_" {
			row.Nudge = conv
			if t, err := c.transcript(ctx, conv); err == nil {
				for i := range t.Messages {
					m := t.Messages[i]
					if m.Out && !m.At.After(it.Message.At) {
						row.Before = &m
					}
				}
			}
		}
		d.Rows = append(d.Rows, row)
	}
	if d.Suggestions, err = c.d.Service.Suggestions(ctx, 50); err != nil {
		c.serverError(w, r, err)
		return
	}
	p := c.page(r, "inbox.title", d)
	p.Active = "/console/inbox"
	c.html(w, r, http.StatusOK, "inbox", p)
}
