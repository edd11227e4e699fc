package outreach

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seintje/seintje/bot/audit"
	"github.com/seintje/seintje/bot/channel"
	"github.com/seintje/seintje/bot/channel/telegram"
	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/lang"
	"github.com/seintje/seintje/bot/recipient"
	"github.com/seintje/seintje/bot/store"
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

// tgTexts are the Telegram-only texts, in the six languages of the
// shipped flows (B1; Dutch and English without ë or ï).
var tgTexts = map[string]flow.Text{
	"consent": {
		"nl": "Hallo! Wilt u berichten van {{.Agency}} via Telegram krijgen? Dan sturen wij korte berichten hier, in plaats van per sms. U kunt altijd stoppen: stuur /stop. Kies Ja of Nee.",
		"en": "Hello! Do you want to get messages from {{.Agency}} on Telegram? Then we send short messages here, instead of by text message. You can stop at any time: send /stop. Choose Yes or No.",
		"tr": "Merhaba! {{.Agency}} mesajlarını Telegram'dan almak ister misiniz? O zaman kısa mesajlarımızı SMS yerine buraya göndeririz. İstediğiniz zaman durdurabilirsiniz: /stop gönderin. Evet veya Hayır seçin.",
		"pl": "Dzień dobry! Wiadomości od: {{.Agency}} w Telegramie? Wtedy krótkie wiadomości przyjdą tutaj, a nie SMS-em. Zawsze można zrezygnować: proszę wysłać /stop. Proszę wybrać Tak albo Nie.",
		"uk": "Вітаємо! Хочете отримувати повідомлення від {{.Agency}} у Telegram? Тоді ми надсилатимемо короткі повідомлення сюди, а не SMS. Зупинити можна будь-коли: надішліть /stop. Виберіть Так або Ні.",
		"ar": "مرحبا! تريدون استلام رسائل {{.Agency}} في Telegram؟ عندها نرسل رسائل قصيرة هنا بدلا من الرسائل النصية. يمكنكم التوقف في أي وقت: أرسلوا ‎/stop. اختاروا نعم أو لا.",
	},
	"linked": {
		"nl": "Gelukt. U krijgt onze berichten nu via Telegram. Stoppen? Stuur /stop. Wilt u iemand spreken? Bel {{.CallbackNumber}} ({{.CallbackHours}}).",
		"en": "Done. You now get our messages on Telegram. To stop, send /stop. Want to talk to someone? Call {{.CallbackNumber}} ({{.CallbackHours}}).",
		"tr": "Tamam. Mesajlarımızı artık Telegram'dan alıyorsunuz. Durdurmak için /stop gönderin. Biriyle konuşmak ister misiniz? Arayın: {{.CallbackNumber}} ({{.CallbackHours}}).",
		"pl": "Gotowe. Wiadomości od nas przychodzą teraz w Telegramie. Aby zrezygnować, proszę wysłać /stop. Rozmowa z pracownikiem? Proszę dzwonić: {{.CallbackNumber}} ({{.CallbackHours}}).",
		"uk": "Готово. Тепер Ви отримуєте наші повідомлення в Telegram. Щоб зупинити, надішліть /stop. Хочете поговорити з людиною? Телефонуйте: {{.CallbackNumber}} ({{.CallbackHours}}).",
		"ar": "تم. تصلكم رسائلنا الآن في Telegram. للإيقاف أرسلوا ‎/stop. تريدون التحدث مع شخص؟ اتصلوا بالرقم {{.CallbackNumber}} ({{.CallbackHours}}).",
	},
	"refused": {
		"nl": "Goed. Er is niets veranderd: u krijgt onze berichten zoals eerst. Vragen? Bel {{.CallbackNumber}} ({{.CallbackHours}}).",
		"en": "All right. Nothing has changed: you get our messages as before. Questions? Call {{.CallbackNumber}} ({{.CallbackHours}}).",
		"tr": "Tamam. Hiçbir şey değişmedi: mesajlarımızı eskisi gibi alırsınız. Sorunuz mu var? Arayın: {{.CallbackNumber}} ({{.CallbackHours}}).",
		"pl": "Dobrze. Nic się nie zmienia: wiadomości przychodzą jak dotąd. Pytania? Proszę dzwonić: {{.CallbackNumber}} ({{.CallbackHours}}).",
		"uk": "Добре. Нічого не змінилося: Ви отримуєте наші повідомлення, як і раніше. Є питання? Телефонуйте: {{.CallbackNumber}} ({{.CallbackHours}}).",
		"ar": "حسنا. لم يتغير شيء: تصلكم رسائلنا كما من قبل. عندكم سؤال؟ اتصلوا بالرقم {{.CallbackNumber}} ({{.CallbackHours}}).",
	},
	"badlink": {
		"nl": "Deze link werkt niet meer. Vraag uw consulent om een nieuwe link. Of bel {{.CallbackNumber}} ({{.CallbackHours}}).",
		"en": "This link no longer works. Ask your case worker for a new link. Or call {{.CallbackNumber}} ({{.CallbackHours}}).",
		"tr": "Bu bağlantı artık çalışmıyor. Danışmanınızdan yeni bir bağlantı isteyin. Ya da arayın: {{.CallbackNumber}} ({{.CallbackHours}}).",
		"pl": "Ten link już nie działa. Proszę poprosić o nowy link osobę prowadzącą sprawę. Albo proszę dzwonić: {{.CallbackNumber}} ({{.CallbackHours}}).",
		"uk": "Це посилання більше не працює. Попросіть у свого консультанта нове посилання. Або телефонуйте: {{.CallbackNumber}} ({{.CallbackHours}}).",
		"ar": "هذا الرابط لم يعد يعمل. اطلبوا رابطا جديدا من المستشار المسؤول عن ملفكم. أو اتصلوا بالرقم {{.CallbackNumber}} ({{.CallbackHours}}).",
	},
	"notlinked": {
		"nl": "Hallo! Dit is {{.Agency}}. Wilt u hier berichten van ons krijgen? Vraag uw consulent om een link. Vragen? Bel {{.CallbackNumber}} ({{.CallbackHours}}).",
		"en": "Hello! This is {{.Agency}}. Want to get our messages here? Ask your case worker for a link. Questions? Call {{.CallbackNumber}} ({{.CallbackHours}}).",
		"tr": "Merhaba! Burası {{.Agency}}. Mesajlarımızı burada almak ister misiniz? Danışmanınızdan bir bağlantı isteyin. Sorunuz mu var? Arayın: {{.CallbackNumber}} ({{.CallbackHours}}).",
		"pl": "Dzień dobry! Tu {{.Agency}}. Wiadomości od nas tutaj? Proszę poprosić o link osobę prowadzącą sprawę. Pytania? Proszę dzwonić: {{.CallbackNumber}} ({{.CallbackHours}}).",
		"uk": "Вітаємо! Це {{.Agency}}. Хочете отримувати наші повідомлення тут? Попросіть посилання у свого консультанта. Є питання? Телефонуйте: {{.CallbackNumber}} ({{.CallbackHours}}).",
		"ar": "مرحبا! هنا {{.Agency}}. تريدون استلام رسائلنا هنا؟ اطلبوا رابطا من المستشار المسؤول عن ملفكم. عندكم سؤال؟ اتصلوا بالرقم {{.CallbackNumber}} ({{.CallbackHours}}).",
	},
	"yes": {"nl": "Ja", "en": "Yes", "tr": "Evet", "pl": "Tak", "uk": "Так", "ar": "نعم"},
	"no":  {"nl": "Nee", "en": "No", "tr": "Hayır", "pl": "Nie", "uk": "Ні", "ar": "لا"},
}

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

// telegramTag finds the recipient linked to a chat. An unlinked chat gets
// a tag of its own (like an unknown phone number), so what it sends is
// kept for case workers and answered kindly.
func (s *Service) telegramTag(ctx context.Context, chat string) (string, string, error) {
	tag, err := s.Store.TagByAddress(ctx, channel.Telegram, s.chatHash(chat))
	if errors.Is(err, store.ErrNotFound) {
		return s.chatHash(chat), chat, nil
	}
	if err != nil {
		return "", "", err
	}
	return tag, chat, nil
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
	if err := t.s.Store.LogChannel(ctx, tag, store.ChannelEvent{At: t.s.Now(), Channel: string(channel.Telegram), Action: "link_created", By: by}); err != nil {
		return Link{}, err
	}
	if err := t.s.audit(ctx, audit.Entry{Action: audit.ActionTelegramLink, Subject: tag, Channel: string(channel.Telegram)}); err != nil {
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
	ev := store.ChannelEvent{At: now, Channel: string(channel.Telegram), Action: "link_created", Reason: "sent in a message of flow " + flowID, By: by}
	if err := s.Store.LogChannel(ctx, tag, ev); err != nil {
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
		if _, err := t.s.Store.TagByAddress(ctx, channel.Telegram, ch); errors.Is(err, store.ErrNotFound) {
			t.direct(ctx, chat, KindLink, t.text("notlinked", langHint(u.Lang)), nil)
			return nil
		} else if err != nil {
			return err
		}
		return nil // already linked: nothing to do
	} else if open, err := t.s.Store.HasConsent(ctx, ch); err != nil {
		return err
	} else if open {
		switch {
		case flow.IsYes(text):
			return t.consent(ctx, chat, ch, true, u)
		case flow.IsNo(text):
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
	tag, err := t.s.Store.TagByAddress(ctx, channel.Telegram, ch)
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
		return t.s.unlinkTelegram(ctx, tag, ch, "the person sent /stop", t.s.Now())
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
	if err := t.s.Store.LogChannel(ctx, tag, store.ChannelEvent{At: t.s.Now(), Channel: string(channel.Telegram), Action: "link_opened"}); err != nil {
		return err
	}
	t.direct(ctx, chat, KindConsent, t.text("consent", lang), []channel.Button{
		{Label: t.text("yes", lang), Reply: "yes"}, {Label: t.text("no", lang), Reply: "no"}})
	return nil
}

// consent handles the answer to the consent question.
func (t *Telegram) consent(ctx context.Context, chat, ch string, yes bool, u telegram.Update) error {
	// A yes leaves the question open until the link is recorded
	// (linkTelegram): a crash in between, and the answer is handled again.
	take := t.s.Store.TakeConsent
	if yes {
		take = t.s.Store.PeekConsent
	}
	tag, err := take(ctx, ch)
	if errors.Is(err, store.ErrNotFound) {
		if _, err := t.s.Store.TagByAddress(ctx, channel.Telegram, ch); errors.Is(err, store.ErrNotFound) {
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
		if err := t.s.Store.LogChannel(ctx, tag, store.ChannelEvent{At: now, Channel: string(channel.Telegram), Action: "refused"}); err != nil {
			return err
		}
		t.direct(ctx, chat, KindLink, t.text("refused", rcp.Lang), nil)
		return nil
	}
	if cur := rcp.Channels.Get(channel.Telegram); cur.Consent != nil && cur.Address != "" && cur.Address != chat {
		// A new chat replaces the old one: the old chat no longer routes here.
		if err := t.s.unlinkTelegram(ctx, tag, t.s.chatHash(cur.Address), "replaced by a newly linked chat", now); err != nil {
			return err
		}
	}
	if err := t.s.linkTelegram(ctx, tag, chat, ch, now); err != nil {
		return err
	}
	t.s.Log.InfoContext(ctx, "telegram linked", "recipient", tag)
	t.direct(ctx, chat, KindLink, t.text("linked", rcp.Lang), nil)
	return nil
}

// linkTelegram links chat to recipient tag after consent: the chat
// becomes the Telegram address, Telegram the preferred channel, and an
// earlier Telegram opt-out is cleared (the person chose to connect). A
// chat linked to another recipient before is moved.
func (s *Service) linkTelegram(ctx context.Context, tag, chat, chatHash string, at time.Time) error {
	if prev, err := s.Store.TagByAddress(ctx, channel.Telegram, chatHash); err == nil && prev != tag {
		if err := s.unlinkTelegram(ctx, prev, chatHash, "linked to another person", at); err != nil {
			return err
		}
	}
	// The consent, the chat as address, Telegram preferred and the
	// "linked" event are one script; the address lookup and clearing the
	// answered question follow from the outbox (the recovery pass finishes
	// them after a crash).
	g := store.Grant{Channel: channel.Telegram, Addr: chat, Prefer: true,
		Consent: recipient.Consent{At: at, Source: recipient.SourceTelegramLink},
		Event:   &store.ChannelEvent{At: at, Channel: string(channel.Telegram), Action: "linked"}}
	ob := store.NewOutbox(tag, at)
	w := &store.Work{Link: &store.LinkWork{Channel: string(channel.Telegram), AddrHash: chatHash}}
	if err := s.Store.Grant(ctx, tag, g, &ob, w); err != nil {
		return fmt.Errorf("link telegram: %w", err)
	}
	return s.queueWork(ctx, ob, w)
}

// unlinkTelegram ends a link (the person sent /stop, or blocked the bot):
// the Telegram consent is gone and SMS is preferred again when Telegram
// was. The chat id stays as the address, so the one STOP confirmation can
// still be delivered (opt-out rules apply). The event is logged.
func (s *Service) unlinkTelegram(ctx context.Context, tag, chatHash, reason string, at time.Time) error {
	if err := s.Store.RevokeConsent(ctx, tag, channel.Telegram); err != nil {
		return fmt.Errorf("unlink telegram: %w", err)
	}
	if err := s.Store.UnindexAddress(ctx, channel.Telegram, chatHash, tag); err != nil {
		return err
	}
	return s.Store.LogChannel(ctx, tag, store.ChannelEvent{At: at, Channel: string(channel.Telegram), Action: "unlinked", Reason: reason})
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
	if b := lang.Base(code); slices.Contains(lang.Shipped(), b) {
		return b
	}
	return flow.DefaultLang
}
