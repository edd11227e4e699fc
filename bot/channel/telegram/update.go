package telegram

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/go-telegram/bot/models"
)

// Update is the part of a Telegram update Seintje uses.
type Update struct {
	ID      int64
	ChatID  int64 // 0 when the update has no chat Seintje handles
	Private bool  // a one-to-one chat with a person (not a group or channel)
	// Text of a message, or the data of a pressed button.
	Text string
	// CallbackID is set for a button press; it must be answered.
	CallbackID string
	// Lang is the person's Telegram app language (IETF tag), a hint only.
	Lang string
}

// IsCallback reports whether the update is a button press.
func (u Update) IsCallback() bool { return u.CallbackID != "" }

// StartPayload returns the token of "/start <token>" (a deep link), and
// whether the text is a /start command at all.
func (u Update) StartPayload() (string, bool) {
	if u.IsCallback() {
		return "", false
	}
	cmd, rest, _ := strings.Cut(strings.TrimSpace(u.Text), " ")
	if cmd != "/start" && !strings.HasPrefix(cmd, "/start@") {
		return "", false
	}
	return strings.TrimSpace(rest), true
}

// Parse decodes a webhook body. Updates of kinds Seintje does not handle
// come back with ChatID 0.
func Parse(body []byte) (Update, error) {
	var raw models.Update
	if err := json.Unmarshal(body, &raw); err != nil {
		return Update{}, fmt.Errorf("decode telegram update: %w", err)
	}
	u := Update{ID: raw.ID}
	switch {
	case raw.Message != nil:
		m := raw.Message
		u.ChatID, u.Private, u.Text = m.Chat.ID, m.Chat.Type == models.ChatTypePrivate, m.Text
		if m.From != nil {
			u.Lang = m.From.LanguageCode
		}
	case raw.CallbackQuery != nil:
		cq := raw.CallbackQuery
		u.CallbackID, u.Text, u.Lang = cq.ID, cq.Data, cq.From.LanguageCode
		if m := cq.Message.Message; m != nil {
			u.ChatID, u.Private = m.Chat.ID, m.Chat.Type == models.ChatTypePrivate
		} else if im := cq.Message.InaccessibleMessage; im != nil {
			u.ChatID, u.Private = im.Chat.ID, im.Chat.Type == models.ChatTypePrivate
		} else {
			// A button under an old message: the chat with the person is
			// the person's own id.
			u.ChatID, u.Private = cq.From.ID, true
		}
	}
	return u, nil
}
