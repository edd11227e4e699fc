// Package texts holds Seintje's own messages to recipients (STOP
// confirmation, HELP, the acknowledgement of a question, ...), in plain
// Dutch at B1 level with translations in the other languages of the
// shipped flows (Languages). Flow texts live in flows/; these are the few
// messages that do not belong to one flow.
//
// The Dutch and English texts avoid ë and ï (they force an SMS into UCS-2);
// Turkish, Polish, Ukrainian and Arabic need UCS-2 anyway. Every text names
// the callback number, so a person can always reach a human.
package texts

import (
	"fmt"

	"github.com/seintje/seintje/bot/flow"
)

// Key names one system text.
type Key string

const (
	// StopConfirm answers STOP: the one and only message after an opt-out.
	StopConfirm Key = "stop_confirm"
	// StartConfirm answers START after an opt-out.
	StartConfirm Key = "start_confirm"
	// Help answers HELP / HULP / INFO: who we are and how to reach a person.
	Help Key = "help"
	// UnknownSender answers a text from a number Seintje does not know.
	UnknownSender Key = "unknown_sender"
	// Ack answers a question that is forwarded to the case worker.
	Ack Key = "ack"
	// Simple is the fallback simpler text when a flow has none.
	Simple Key = "simple"
)

// defaults are the shipped texts in the six languages of the shipped flows:
// Dutch (nl), English (en), Turkish (tr), Polish (pl), Ukrainian (uk) and
// Arabic (ar). Any other language falls back to Dutch. The translations are
// as plain as the Dutch: short sentences, the polite form (Turkish "siz",
// Ukrainian "Ви", Polish "proszę" with an infinitive so no Pan/Pani guess is
// needed, Arabic plural address, which is polite and fits every reader).
var defaults = map[Key]flow.Text{
	StopConfirm: {
		// One SMS segment in every language with a number of up to 16
		// characters (+31 88 123 45 67): 160 GSM-7 characters for Dutch and
		// English, 70 UCS-2 characters for the others, so no opening hours.
		// Every language says the stop is for this channel ("here": tr
		// buradan, pl tu, uk тут, ar هنا): STOP on WhatsApp or Telegram
		// leaves SMS allowed, so "no more messages at all" would be untrue.
		// You will get no more messages from us on this channel. Want them
		// again? Send START. Questions? Call <number>.
		"nl": "U krijgt van ons geen berichten meer via dit kanaal. Toch weer graag? Stuur START. Vragen? Bel {{.CallbackNumber}}.",
		"en": "You will get no more messages from us on this channel. Want them again? Send START. Questions? Call {{.CallbackNumber}}.",
		"tr": "Artık buradan mesaj gelmeyecek. Tekrar: START. Soru: {{.CallbackNumber}}",
		"pl": "Nie wyślemy tu już wiadomości. Znów: START. Tel. {{.CallbackNumber}}",
		"uk": "Тут повідомлень більше не буде. Знову: START. Тел. {{.CallbackNumber}}",
		"ar": "لن تصلكم رسائلنا هنا بعد الآن. للعودة: START. هاتف: {{.CallbackNumber}}",
	},
	StartConfirm: {
		"nl": "Welkom terug. U krijgt weer berichten van ons. Stoppen? Stuur STOP.",
		"en": "Welcome back. You will get messages from us again. To stop, send STOP.",
		"tr": "Tekrar hoş geldiniz. Bizden yine mesaj alacaksınız. Durdurmak için STOP gönderin.",
		"pl": "Witamy ponownie. Znów będziemy wysyłać wiadomości. Aby zrezygnować, proszę wysłać STOP.",
		"uk": "З поверненням. Ви знову отримуватимете наші повідомлення. Щоб зупинити, надішліть STOP.",
		"ar": "أهلا بعودتكم. ستصلكم رسائلنا من جديد. للإيقاف أرسلوا STOP.",
	},
	Help: {
		"nl": "Dit bericht komt van {{.Agency}}. Wij sturen u soms een korte tip of vraag. Wilt u iemand spreken? Bel {{.CallbackNumber}} ({{.CallbackHours}}). Of stuur 2, dan bellen wij u. Stoppen? Stuur STOP.",
		"en": "This message is from {{.Agency}}. We sometimes send you a short tip or question. Want to talk to someone? Call {{.CallbackNumber}} ({{.CallbackHours}}). Or send 2 and we call you. To stop, send STOP.",
		"tr": "Bu mesaj {{.Agency}} kurumundan. Size bazen kısa bir bilgi veya soru gönderiyoruz. Biriyle konuşmak ister misiniz? Arayın: {{.CallbackNumber}} ({{.CallbackHours}}). Ya da 2 gönderin, sizi arayalım. Durdurmak için STOP gönderin.",
		"pl": "Ta wiadomość jest od: {{.Agency}}. Czasem wysyłamy krótką wskazówkę lub pytanie. Rozmowa z pracownikiem? Proszę dzwonić: {{.CallbackNumber}} ({{.CallbackHours}}). Albo proszę wysłać 2, a zadzwonimy. Aby zrezygnować, proszę wysłać STOP.",
		"uk": "Це повідомлення від {{.Agency}}. Ми іноді надсилаємо Вам коротку пораду або запитання. Хочете поговорити з людиною? Телефонуйте: {{.CallbackNumber}} ({{.CallbackHours}}). Або надішліть 2, і ми Вам зателефонуємо. Щоб зупинити, надішліть STOP.",
		"ar": "هذه الرسالة من {{.Agency}}. نرسل لكم أحيانا نصيحة قصيرة أو سؤالا. تريدون التحدث مع شخص؟ اتصلوا بالرقم {{.CallbackNumber}} ({{.CallbackHours}}). أو أرسلوا 2 ونحن نتصل بكم. للإيقاف أرسلوا STOP.",
	},
	UnknownSender: {
		"nl": "Dank u voor uw bericht. We weten nog niet wie u bent. Wilt u ons bellen? Bel {{.CallbackNumber}} ({{.CallbackHours}}).",
		"en": "Thank you for your message. We do not know who you are yet. Please call us on {{.CallbackNumber}} ({{.CallbackHours}}).",
		"tr": "Mesajınız için teşekkür ederiz. Kim olduğunuzu henüz bilmiyoruz. Lütfen bizi arayın: {{.CallbackNumber}} ({{.CallbackHours}}).",
		"pl": "Dziękujemy za wiadomość. Nie wiemy jeszcze, kto do nas pisze. Prosimy o telefon: {{.CallbackNumber}} ({{.CallbackHours}}).",
		"uk": "Дякуємо за повідомлення. Ми ще не знаємо, хто Ви. Будь ласка, зателефонуйте нам: {{.CallbackNumber}} ({{.CallbackHours}}).",
		"ar": "شكرا على رسالتكم. لا نعرف بعد من أنتم. من فضلكم اتصلوا بنا على الرقم {{.CallbackNumber}} ({{.CallbackHours}}).",
	},
	Ack: {
		"nl": "Dank u voor uw bericht. {{if .Caseworker}}{{.Caseworker}}{{else}}Uw consulent{{end}} leest het en neemt contact met u op. Liever nu bellen? Bel {{.CallbackNumber}} ({{.CallbackHours}}).",
		"en": "Thank you for your message. {{if .Caseworker}}{{.Caseworker}}{{else}}Your case worker{{end}} will read it and contact you. Rather call now? Call {{.CallbackNumber}} ({{.CallbackHours}}).",
		"tr": "Mesajınız için teşekkür ederiz. {{if .Caseworker}}{{.Caseworker}}{{else}}Danışmanınız{{end}} mesajınızı okuyup sizinle iletişime geçecek. Hemen konuşmak mı istiyorsunuz? Arayın: {{.CallbackNumber}} ({{.CallbackHours}}).",
		"pl": "Dziękujemy za wiadomość. {{if .Caseworker}}{{.Caseworker}}{{else}}Osoba prowadząca sprawę{{end}} przeczyta ją i odpowie. Rozmowa od razu? Proszę dzwonić: {{.CallbackNumber}} ({{.CallbackHours}}).",
		"uk": "Дякуємо за повідомлення. {{if .Caseworker}}{{.Caseworker}}{{else}}Ваш консультант{{end}} прочитає його і зв'яжеться з Вами. Хочете поговорити зараз? Телефонуйте: {{.CallbackNumber}} ({{.CallbackHours}}).",
		"ar": "شكرا على رسالتكم. رسالتكم الآن عند {{if .Caseworker}}{{.Caseworker}}{{else}}المستشار المسؤول عن ملفكم{{end}}، وسنتواصل معكم. تريدون الاتصال الآن؟ اتصلوا بالرقم {{.CallbackNumber}} ({{.CallbackHours}}).",
	},
	Simple: {
		"nl": "Sorry, dat was niet duidelijk. Wilt u dat wij u bellen? Stuur 2. Of bel zelf: {{.CallbackNumber}}.",
		"en": "Sorry, that was not clear. Do you want us to call you? Send 2. Or call us: {{.CallbackNumber}}.",
		"tr": "Özür dileriz, mesajımız açık değildi. Sizi aramamızı ister misiniz? 2 gönderin. Ya da siz bizi arayın: {{.CallbackNumber}}.",
		"pl": "Przepraszamy, to było niejasne. Mamy zadzwonić? Proszę wysłać 2. Albo proszę zadzwonić do nas: {{.CallbackNumber}}.",
		"uk": "Вибачте, це було незрозуміло. Хочете, щоб ми Вам зателефонували? Надішліть 2. Або зателефонуйте самі: {{.CallbackNumber}}.",
		"ar": "عذرا، لم تكن رسالتنا واضحة. تريدون أن نتصل بكم؟ أرسلوا 2. أو اتصلوا أنتم بالرقم {{.CallbackNumber}}.",
	},
}

// ExampleHours are office hours ("Monday to Friday, 9 to 17") in the six
// languages, for the demo, the lints and the conversation tests; a real
// deployment sets its own (callback.hours in the configuration).
func ExampleHours() map[string]string {
	return map[string]string{
		"nl": "maandag tot en met vrijdag van 9 tot 17 uur",
		"en": "Monday to Friday, 9am to 5pm",
		"tr": "Pazartesi - Cuma, 09:00 - 17:00",
		"pl": "od poniedziałku do piątku, 9:00-17:00",
		"uk": "з понеділка по пʼятницю, 9:00-17:00",
		"ar": "من الاثنين إلى الجمعة، من 9 إلى 17",
	}
}

// Catalog is the compiled set of system texts.
type Catalog struct {
	texts map[Key]*flow.Compiled
}

// Default compiles the shipped texts.
func Default() (*Catalog, error) {
	c := &Catalog{texts: map[Key]*flow.Compiled{}}
	for k, t := range defaults {
		// Seintje sends these on its own too (STOP, HELP): the same tone
		// and privacy rules as a flow's first message.
		if problem := flow.CheckSystemText(t); problem != "" {
			return nil, fmt.Errorf("system text %s %s", k, problem)
		}
		ct, err := flow.CompileText(string(k), t)
		if err != nil {
			return nil, fmt.Errorf("system text %s: %w", k, err)
		}
		c.texts[k] = ct
	}
	return c, nil
}

// Render renders text k in lang (falling back to Dutch).
func (c *Catalog) Render(k Key, lang string, d flow.Data) (string, error) {
	t, ok := c.texts[k]
	if !ok {
		return "", fmt.Errorf("no system text %q", k)
	}
	return t.Render(lang, d)
}

// Keys lists every system text, for lints and docs.
func Keys() []Key {
	return []Key{StopConfirm, StartConfirm, Help, UnknownSender, Ack, Simple}
}

// Source returns the uncompiled text, for lints and docs.
func Source(k Key) flow.Text { return defaults[k] }
