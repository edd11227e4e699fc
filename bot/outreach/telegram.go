package outreach

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/seintje/seintje/bot/channel"
	"github.com/seintje/seintje/bot/channel/telegram"
	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/store"
)

// Errors of the Telegram API endpoints.
var (
	ErrUnknownRecipient = errors.New("no recipient with this reference")
	ErrNotLinked        = errors.New("the recipient has not linked Telegram")
)

// TelegramClient is what the Telegram part needs from the channel.
type TelegramClient interface {
	channel.Sender
	AnswerCallback(ctx context.Context, id, text string) error
}

// Telegram handles the Telegram side: one-time links, the consent
// question, /stop, button presses. It feeds replies into the same
// Service.HandleInbound as SMS, so flows are written once.
type Telegram struct {
	s           *Service
	client      TelegramClient
	botUsername string
	linkTTL     time.Duration
	texts       map[string]*flow.Compiled
}

// Kinds of Telegram messages.
const (
	KindConsent = "telegram_consent"
	KindLink    = "telegram_link"
)

// tgTexts are the Telegram-only texts (B1 Dutch, English; no ë or ï).
var tgTexts = map[string]flow.Text{
	"consent": {
		"nl": "Hallo! Wilt u berichten van {{.Agency}} via Telegram krijgen? Dan sturen wij korte berichten hier, in plaats van per sms. U kunt altijd stoppen: stuur /stop. Kies Ja of Nee.",
		"en": "Hello! Do you want to get messages from {{.Agency}} on Telegram? Then we send short messages here, instead of by text message. You can stop at any time: send /stop. Choose Yes or No.",
	},
	"linked": {
		"nl": "Gelukt. U krijgt onze berichten nu via Telegram. Stoppen? Stuur /stop. Wilt u iemand spreken? Bel {{.CallbackNumber}} ({{.CallbackHours}}).",
		"en": "Done. You now get our messages on Telegram. To stop, send /stop. Want to talk to someone? Call {{.CallbackNumber}} ({{.CallbackHours}}).",
	},
	"refused": {
		"nl": "Goed. Er is niets veranderd: u krijgt onze berichten zoals eerst. Vragen? Bel {{.CallbackNumber}} ({{.CallbackHours}}).",
		"en": "All right. Nothing has changed: you get our messages as before. Questions? Call {{.CallbackNumber}} ({{.CallbackHours}}).",
	},
	"badlink": {
		"nl": "Deze link werkt niet meer. Vraag uw consulent om een nieuwe link. Of bel {{.CallbackNumber}} ({{.CallbackHours}}).",
		"en": "This link no longer works. Ask your case worker for a new link. Or call {{.CallbackNumber}} ({{.CallbackHours}}).",
	},
	"notlinked": {
		"nl": "Hallo! Dit is {{.Agency}}. Wilt u hier berichten van ons krijgen? Vraag uw consulent om een link. Vragen? Bel {{.CallbackNumber}} ({{.CallbackHours}}).",
		"en": "Hello! This is {{.Agency}}. Want to get our messages here? Ask your case worker for a link. Questions? Call {{.CallbackNumber}} ({{.CallbackHours}}).",
	},
	"yes": {"nl": "Ja", "en": "Yes"},
	"no":  {"nl": "Nee", "en": "No"},
}

var (
	consentYes = []string{"ja", "yes", "ja graag", "yes please", "oke", "ok", "goed"}
	consentNo  = []string{"nee", "no", "nee dank u", "no thanks"}
)

// NewTelegram returns the Telegram handler of s. botUsername is the bot's
// username (for t.me links); linkTTL how long a link works.
func NewTelegram(s *Service, client TelegramClient, botUsername string, linkTTL time.Duration) (*Telegram, error) {
	if linkTTL <= 0 {
		linkTTL = 14 * 24 * time.Hour
	}
	t := &Telegram{s: s, client: client, botUsername: botUsername, linkTTL: linkTTL, texts: map[string]*flow.Compiled{}}
	for k, v := range tgTexts {
		c, err := flow.CompileText("telegram_"+k, v)
		if err != nil {
			return nil, fmt.Errorf("telegram text %s: %w", k, err)
		}
		t.texts[k] = c
	}
	return t, nil
}

func (t *Telegram) text(k, lang string) string {
	out, err := t.texts[k].Render(lang, t.s.systemData(lang, ""))
	if err != nil {
		t.s.Log.Error("render telegram text", "key", k, "err", err)
		return k
	}
	return out
}

// chatHash is the keyed hash of a chat id used in key names.
func (s *Service) chatHash(chat string) string { return s.Keyer.Hash("tg", chat) }

func (s *Service) refHash(ref string) string { return s.Keyer.Hash("ref", ref) }

// telegramTag finds the recipient linked to a chat. An unlinked chat gets
// a tag of its own (like an unknown phone number), so what it sends is
// kept for case workers and answered kindly.
func (s *Service) telegramTag(ctx context.Context, chat string) (string, string, error) {
	tag, err := s.Store.TagByChat(ctx, s.chatHash(chat))
	if errors.Is(err, store.ErrNotFound) {
		return s.chatHash(chat), chat, nil
	}
	if err != nil {
		return "", "", err
	}
	return tag, chat, nil
}

// channelFor picks a new nudge's channel: Telegram when the recipient
// linked a chat and prefers it (and Telegram is configured), else SMS.
func (s *Service) channelFor(ctx context.Context, tag string) channel.Name {
	if _, ok := s.Senders[channel.Telegram]; !ok {
		return channel.SMS
	}
	l, err := s.Store.Telegram(ctx, tag)
	if err != nil {
		s.Log.WarnContext(ctx, "telegram state unreadable; using sms", "err", err)
		return channel.SMS
	}
	if l.Linked && l.Chat != "" && l.Pref == store.PrefTelegram {
		return channel.Telegram
	}
	return channel.SMS
}

// indexRef remembers which recipient a case reference belongs to (for the
// Telegram link and channel endpoints). Failure is logged, not fatal.
func (s *Service) indexRef(ctx context.Context, ref, tag string) {
	if ref == "" {
		return
	}
	if err := s.Store.IndexRef(ctx, s.refHash(ref), tag); err != nil {
		s.Log.WarnContext(ctx, "index case reference", "err", err)
	}
}

// telegramAddress decides where a queued Telegram message goes. handled
// is true when the message was dealt with (fallen back to SMS or failed).
func (s *Service) telegramAddress(ctx context.Context, m *store.Message, rcp store.Recipient) (to string, handled bool, err error) {
	to = rcp.Addrs[string(channel.Telegram)]
	if !inConversation(m) || m.Kind == KindStopConfirm {
		// Direct answers (unknown chat, STOP confirmation) go to the chat
		// that wrote to us.
		return to, false, nil
	}
	l, err := s.Store.Telegram(ctx, m.Tag)
	if err != nil {
		return "", true, err
	}
	if !l.Linked || to == "" {
		return "", true, s.fallbackToSMS(ctx, m, rcp, 0, "Telegram is no longer linked")
	}
	return to, false, nil
}

// telegramFailed handles a Telegram send that failed for good: a 403
// (bot blocked, account deactivated) unlinks the chat; either way the
// message goes by SMS when a number is known.
func (s *Service) telegramFailed(ctx context.Context, m *store.Message, rcp store.Recipient, sendErr error) error {
	code := 0
	var ce *channel.Error
	if errors.As(sendErr, &ce) {
		code = ce.Code
	}
	reason := "rejected by Telegram"
	if channel.KindOf(sendErr) == channel.OptedOut {
		reason = "Telegram refused: the person blocked the bot or left Telegram"
		chat := rcp.Addrs[string(channel.Telegram)]
		if err := s.Store.UnlinkTelegram(ctx, m.Tag, s.chatHash(chat), "telegram answered 403 (bot blocked or account deactivated)", s.Now()); err != nil {
			return err
		}
		s.Log.InfoContext(ctx, "telegram unlinked after 403", "msg", m.ID)
	} else {
		s.Log.WarnContext(ctx, "telegram send failed permanently", "msg", m.ID, "code", code, "err", sendErr)
	}
	if !inConversation(m) {
		return s.Store.SetStatus(ctx, m.Tag, m.ID, "", store.Status{State: "failed", Code: code, Reason: reason, At: s.Now()})
	}
	return s.fallbackToSMS(ctx, m, rcp, code, reason)
}

func inConversation(m *store.Message) bool { return m.Conv != "" && m.Conv != "_" }

// fallbackToSMS sends a copy of Telegram message m by SMS, in the same
// transcript (so both attempts show), and moves the conversation to SMS.
// The copy has a fixed id (m.ID + "-sms"): a retried fallback never sends
// twice.
func (s *Service) fallbackToSMS(ctx context.Context, m *store.Message, rcp store.Recipient, code int, reason string) error {
	now := s.Now()
	_, hasSMS := s.Senders[channel.SMS]
	switch {
	case m.Kind == KindStopConfirm:
		return s.Store.SetStatus(ctx, m.Tag, m.ID, "", store.Status{State: "failed", Code: code, Reason: reason, At: now})
	case rcp.Phone == "" || !hasSMS:
		return s.Store.SetStatus(ctx, m.Tag, m.ID, "", store.Status{State: "failed", Code: code, Reason: reason + "; no SMS fallback (no number or SMS not configured)", At: now})
	case rcp.OptedOut(string(channel.SMS)):
		return s.Store.SetStatus(ctx, m.Tag, m.ID, "", store.Status{State: "failed", Code: code, Reason: reason + "; no SMS fallback (opted out of SMS)", At: now})
	}
	cp := *m
	cp.ID, cp.Channel, cp.At, cp.Buttons, cp.Status, cp.ProviderID = m.ID+"-sms", string(channel.SMS), now, nil, nil, ""
	if _, err := s.Store.Message(ctx, m.Tag, cp.ID); errors.Is(err, store.ErrNotFound) {
		if err := s.Store.AddMessages(ctx, m.Tag, m.Conv, cp); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	if err := s.Queue.EnqueueSend(ctx, m.Tag, cp.ID, time.Time{}); err != nil {
		return err
	}
	if err := s.Store.SetStatus(ctx, m.Tag, m.ID, "", store.Status{State: "failed", Code: code, Reason: reason + "; sent again by SMS", At: now}); err != nil {
		return err
	}
	s.Log.InfoContext(ctx, "telegram message falls back to sms", "msg", m.ID, "copy", cp.ID)
	return s.moveToSMS(ctx, m.Conv, reason, now)
}

// moveToSMS switches a conversation's later messages to SMS and notes why.
func (s *Service) moveToSMS(ctx context.Context, id, reason string, now time.Time) error {
	for attempt := 0; attempt < 5; attempt++ {
		n, err := s.Store.Nudge(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if n.Channel == string(channel.SMS) {
			return nil
		}
		n.Channel = string(channel.SMS)
		n.Notes = append(n.Notes, store.Note{At: now, Code: "fallback_sms", Text: "fallback from telegram: " + reason + "; messages go by SMS"})
		err = s.Store.Commit(ctx, n, nil, nil)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		return err
	}
	return store.ErrConflict
}

// Link is a one-time Telegram deep link.
type Link struct {
	URL       string
	ExpiresAt time.Time
}

// CreateLink makes a one-time deep link for the recipient with case
// reference ref.
func (t *Telegram) CreateLink(ctx context.Context, ref, by string) (Link, error) {
	tag, err := t.s.Store.TagByRef(ctx, t.s.refHash(ref))
	if errors.Is(err, store.ErrNotFound) {
		return Link{}, ErrUnknownRecipient
	}
	if err != nil {
		return Link{}, err
	}
	link, _, err := t.reserveLink(ctx, tag)
	if err != nil {
		return Link{}, err
	}
	if err := t.s.Store.LogTelegram(ctx, tag, store.LinkEvent{At: t.s.Now(), Action: "link_created", By: by}); err != nil {
		return Link{}, err
	}
	return link, nil
}

// reserveLink makes a one-time deep link for recipient tag and stores its
// token (only as its SHA-256, single use, for the link lifetime). The
// recipient need not exist yet: the token is checked against the
// recipient when it is opened. token is the raw token, to give it back
// with releaseLink when the link is not handed out after all.
func (t *Telegram) reserveLink(ctx context.Context, tag string) (link Link, token string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Link{}, "", fmt.Errorf("link token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b[:]) // 43 characters of A-Za-z0-9_-
	if err := t.s.Store.PutLinkToken(ctx, tokenHash(token), tag, t.linkTTL); err != nil {
		return Link{}, "", err
	}
	return Link{URL: "https://t.me/" + t.botUsername + "?start=" + token, ExpiresAt: t.s.Now().Add(t.linkTTL)}, token, nil
}

// logLinkCreated records in the recipient's Telegram log that a nudge of
// flowID carries a new link. The nudge is stored already, so a failure is
// logged, not returned.
func (s *Service) logLinkCreated(ctx context.Context, tag, flowID, by string, now time.Time) {
	ev := store.LinkEvent{At: now, Action: "link_created", Reason: "sent in a message of flow " + flowID, By: by}
	if err := s.Store.LogTelegram(ctx, tag, ev); err != nil {
		s.Log.WarnContext(ctx, "log telegram link", "err", err)
	}
}

// releaseLink deletes a reserved token that was never handed out. Failure
// is logged: the token then expires unused (nobody has it).
func (t *Telegram) releaseLink(ctx context.Context, token string) {
	if _, err := t.s.Store.TakeLinkToken(context.WithoutCancel(ctx), tokenHash(token)); err != nil && !errors.Is(err, store.ErrNotFound) {
		t.s.Log.WarnContext(ctx, "release unused telegram link token", "err", err)
	}
}

func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// ChannelState is a recipient's channel settings.
type ChannelState struct {
	Preferred string
	Linked    bool
	LinkedAt  time.Time
	OptedOut  []string
	Events    []store.LinkEvent
}

// recipientTag resolves a case reference.
func (s *Service) recipientTag(ctx context.Context, ref string) (string, error) {
	tag, err := s.Store.TagByRef(ctx, s.refHash(ref))
	if errors.Is(err, store.ErrNotFound) {
		return "", ErrUnknownRecipient
	}
	return tag, err
}

// Channels returns the channel settings of a recipient.
func (s *Service) Channels(ctx context.Context, ref string) (ChannelState, error) {
	tag, err := s.recipientTag(ctx, ref)
	if err != nil {
		return ChannelState{}, err
	}
	l, err := s.Store.Telegram(ctx, tag)
	if err != nil {
		return ChannelState{}, err
	}
	rcp, err := s.Store.Recipient(ctx, tag)
	if err != nil {
		return ChannelState{}, err
	}
	st := ChannelState{Preferred: l.Pref, Linked: l.Linked, LinkedAt: l.LinkedAt}
	for ch := range rcp.OptOuts {
		st.OptedOut = append(st.OptedOut, ch)
	}
	st.Events, err = s.Store.TelegramLog(ctx, tag)
	return st, err
}

// SetPreferredChannel sets a recipient's preferred channel. Telegram
// needs a linked chat (ErrNotLinked).
func (s *Service) SetPreferredChannel(ctx context.Context, ref string, ch channel.Name, by string) error {
	tag, err := s.recipientTag(ctx, ref)
	if err != nil {
		return err
	}
	if ch == channel.Telegram {
		l, err := s.Store.Telegram(ctx, tag)
		if err != nil {
			return err
		}
		if !l.Linked {
			return ErrNotLinked
		}
	}
	if err := s.Store.SetPreferred(ctx, tag, string(ch)); err != nil {
		return err
	}
	return s.Store.LogTelegram(ctx, tag, store.LinkEvent{At: s.Now(), Action: "preferred_" + string(ch), By: by})
}

// HandleUpdate processes one webhook update. Updates are deduplicated by
// update_id; a failed update is forgotten so Telegram's retry is handled.
// The caller keeps a chat's updates in order (telegram.Sequencer).
func (t *Telegram) HandleUpdate(ctx context.Context, u telegram.Update) error {
	if u.ChatID == 0 || !u.Private {
		return nil // groups, channels and other update kinds are not for Seintje
	}
	// The update is marked done only after it was handled: a crash in
	// between makes the re-delivery (or the spool's replay) handle it.
	seen, err := t.s.Store.UpdateDone(ctx, u.ID)
	if err != nil {
		return err
	}
	if seen {
		t.s.Log.InfoContext(ctx, "duplicate telegram update ignored", "update", u.ID)
		return nil
	}
	if u.IsCallback() {
		// Always answer a button press, even when handling fails: the
		// person's app shows a spinner until it is answered.
		defer func() {
			if err := t.client.AnswerCallback(ctx, u.CallbackID, ""); err != nil {
				t.s.Log.WarnContext(ctx, "answer telegram callback", "err", err)
			}
		}()
	}
	if err := t.handle(ctx, u); err != nil {
		return err
	}
	return t.s.Store.MarkUpdateDone(ctx, u.ID)
}

func (t *Telegram) handle(ctx context.Context, u telegram.Update) error {
	chat := strconv.FormatInt(u.ChatID, 10)
	ch := t.s.chatHash(chat)
	text := u.Text
	if u.IsCallback() {
		switch {
		case strings.HasPrefix(text, telegram.CallbackConsent):
			return t.consent(ctx, chat, ch, text == telegram.CallbackConsent+"yes", u)
		case strings.HasPrefix(text, telegram.CallbackReply):
			text = strings.TrimPrefix(text, telegram.CallbackReply)
		default:
			return nil // not one of ours
		}
	} else if token, ok := u.StartPayload(); ok {
		if token != "" {
			return t.start(ctx, chat, ch, token, u)
		}
		if _, err := t.s.Store.TagByChat(ctx, ch); errors.Is(err, store.ErrNotFound) {
			t.direct(ctx, chat, KindLink, t.text("notlinked", langHint(u.Lang)), nil)
			return nil
		} else if err != nil {
			return err
		}
		return nil // already linked: nothing to do
	} else if open, err := t.s.Store.HasConsent(ctx, ch); err != nil {
		return err
	} else if open {
		switch n := flow.Normalize(text); {
		case contains(consentYes, n):
			return t.consent(ctx, chat, ch, true, u)
		case contains(consentNo, n):
			return t.consent(ctx, chat, ch, false, u)
		}
	}
	// Bot commands map onto Seintje's keywords.
	switch strings.ToLower(strings.TrimSpace(text)) {
	case "/stop":
		text = "STOP"
	case "/help", "/hulp":
		text = "HELP"
	}
	tag, err := t.s.Store.TagByChat(ctx, ch)
	linked := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if !linked && Keyword(text) == "start" {
		t.direct(ctx, chat, KindLink, t.text("notlinked", langHint(u.Lang)), nil)
		return nil
	}
	in := channel.Inbound{Channel: channel.Telegram, ProviderID: strconv.FormatInt(u.ID, 10), From: chat, Body: text}
	if err := t.s.HandleInbound(ctx, in); err != nil {
		return err
	}
	if linked && Keyword(text) == "stop" {
		// STOP in Telegram: opted out of Telegram (recorded by
		// HandleInbound) and unlinked; SMS is untouched.
		return t.s.Store.UnlinkTelegram(ctx, tag, ch, "the person sent /stop", t.s.Now())
	}
	return nil
}

// start handles /start <token>: a deep link was opened. The token is used
// up; the chat is asked for consent.
func (t *Telegram) start(ctx context.Context, chat, ch, token string, u telegram.Update) error {
	lang := langHint(u.Lang)
	tag, err := t.s.Store.TakeLinkToken(ctx, tokenHash(token))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !validToken(token)) {
		t.direct(ctx, chat, KindLink, t.text("badlink", lang), nil)
		return nil
	}
	if err != nil {
		return err
	}
	rcp, err := t.s.Store.Recipient(ctx, tag)
	if err != nil {
		return err
	}
	if !rcp.Known() {
		t.direct(ctx, chat, KindLink, t.text("badlink", lang), nil)
		return nil
	}
	if rcp.Lang != "" {
		lang = rcp.Lang
	}
	if err := t.s.Store.PutConsent(ctx, ch, tag, 24*time.Hour); err != nil {
		return err
	}
	if err := t.s.Store.LogTelegram(ctx, tag, store.LinkEvent{At: t.s.Now(), Action: "link_opened"}); err != nil {
		return err
	}
	t.direct(ctx, chat, KindConsent, t.text("consent", lang), []channel.Button{
		{Label: t.text("yes", lang), Reply: "yes"}, {Label: t.text("no", lang), Reply: "no"}})
	return nil
}

// consent handles the answer to the consent question.
func (t *Telegram) consent(ctx context.Context, chat, ch string, yes bool, u telegram.Update) error {
	tag, err := t.s.Store.TakeConsent(ctx, ch)
	if errors.Is(err, store.ErrNotFound) {
		if _, err := t.s.Store.TagByChat(ctx, ch); errors.Is(err, store.ErrNotFound) {
			t.direct(ctx, chat, KindLink, t.text("badlink", langHint(u.Lang)), nil)
		}
		return nil // a second press on an answered question
	}
	if err != nil {
		return err
	}
	rcp, err := t.s.Store.Recipient(ctx, tag)
	if err != nil {
		return err
	}
	if !rcp.Known() {
		// Erased (or expired) since the link was opened.
		t.direct(ctx, chat, KindLink, t.text("badlink", langHint(u.Lang)), nil)
		return nil
	}
	now := t.s.Now()
	if !yes {
		if err := t.s.Store.LogTelegram(ctx, tag, store.LinkEvent{At: now, Action: "refused"}); err != nil {
			return err
		}
		t.direct(ctx, chat, KindLink, t.text("refused", rcp.Lang), nil)
		return nil
	}
	if l, err := t.s.Store.Telegram(ctx, tag); err != nil {
		return err
	} else if l.Linked && l.Chat != "" && l.Chat != chat {
		// A new chat replaces the old one: the old chat no longer routes here.
		if err := t.s.Store.UnlinkTelegram(ctx, tag, t.s.chatHash(l.Chat), "replaced by a newly linked chat", now); err != nil {
			return err
		}
	}
	if err := t.s.Store.LinkTelegram(ctx, tag, chat, ch, now); err != nil {
		return err
	}
	t.s.Log.InfoContext(ctx, "telegram linked", "recipient", tag)
	t.direct(ctx, chat, KindLink, t.text("linked", rcp.Lang), nil)
	return nil
}

// direct sends a linking text straight away (not through the queue: the
// chat is not linked to anyone yet, so there is no recipient address to
// queue for). A failure is logged; the person can open the link again
// only with a new link, so the texts say whom to call.
func (t *Telegram) direct(ctx context.Context, chat, kind, body string, buttons []channel.Button) {
	if t.s.Pace != nil {
		if err := t.s.Pace(ctx, channel.Telegram); err != nil {
			t.s.Log.WarnContext(ctx, "telegram pace", "err", err)
			return
		}
	}
	m := channel.Message{ID: store.NewID(t.s.Now()), To: chat, Body: body}
	for _, b := range buttons {
		// Consent buttons carry c:yes / c:no, not flow replies.
		m.Buttons = append(m.Buttons, channel.Button{Label: b.Label, Reply: telegram.ConsentMarker + b.Reply})
	}
	if _, err := t.client.Send(ctx, m); err != nil {
		t.s.Log.WarnContext(ctx, "telegram direct send failed", "kind", kind, "err", err)
	}
}

func validToken(tok string) bool {
	if len(tok) == 0 || len(tok) > 64 {
		return false
	}
	for _, r := range tok {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func langHint(code string) string {
	if strings.HasPrefix(strings.ToLower(code), "en") {
		return "en"
	}
	return flow.DefaultLang
}

func contains(set []string, s string) bool {
	for _, v := range set {
		if v == s {
			return true
		}
	}
	return false
}
