// Package lang knows the languages Seintje writes to recipients in: which
// ones every shipped text has, which are written right to left, and what a
// well-formed language code looks like.
package lang

import (
	"regexp"
	"strings"
)

// Default is the language every text must have; others fall back to it.
const Default = "nl"

// Shipped returns the languages every shipped flow and system text has:
// Dutch, English, Turkish, Polish, Ukrainian and Arabic, the most common
// languages of benefit recipients in the Netherlands besides Dutch.
func Shipped() []string { return []string{"nl", "en", "tr", "pl", "uk", "ar"} }

// Name returns the English name of a language ("Arabic" for "ar-MA"),
// for notes to case workers; a language not listed gives its code.
func Name(code string) string {
	if n, ok := names()[Base(code)]; ok {
		return n
	}
	return code
}

// names are the shipped languages and other languages case systems in the
// Netherlands often record.
func names() map[string]string {
	return map[string]string{
		"nl": "Dutch", "en": "English", "tr": "Turkish", "pl": "Polish", "uk": "Ukrainian", "ar": "Arabic",
		"fr": "French", "de": "German", "es": "Spanish", "pt": "Portuguese", "it": "Italian", "ro": "Romanian",
		"bg": "Bulgarian", "ru": "Russian", "so": "Somali", "ti": "Tigrinya", "fa": "Persian", "prs": "Dari",
		"ps": "Pashto", "ku": "Kurdish", "ber": "Berber", "zgh": "Tamazight", "zh": "Chinese", "pap": "Papiamento",
		"srn": "Sranan Tongo", "hi": "Hindi", "ur": "Urdu", "am": "Amharic", "ckb": "Sorani Kurdish",
	}
}

// RTL reports whether the language is written right to left.
func RTL(code string) bool {
	switch Base(code) {
	case "ar", "fa", "he", "ur", "ps", "yi", "ckb", "dv", "ku-arab":
		return true
	}
	return false
}

// NeedsUCS2 reports whether the language's own letters fall outside the
// GSM-7 SMS alphabet, so every text in it is sent as UCS-2 (70 characters
// per SMS, 67 per part): Turkish ş ğ ı, Polish ą ł ż, and every language in
// another script. Dutch, English, German, Papiamento and Somali fit
// GSM-7 when written with care.
func NeedsUCS2(code string) bool {
	switch Base(code) {
	case "nl", "en", "de", "pap", "so", "":
		return false
	}
	return true
}

// codeRe is a BCP 47 language tag as case systems send it: a 2 or 3 letter
// language, then optional subtags ("nl", "ar-MA", "pt-BR", "zh-Hant-TW").
var codeRe = regexp.MustCompile(`^[a-z]{2,3}(-[a-z0-9]{2,8})*$`)

// Valid reports whether code is a well-formed language tag (after Canon).
func Valid(code string) bool { return codeRe.MatchString(Canon(code)) }

// Canon lower-cases a tag and writes "_" as "-": "AR_ma" is "ar-ma".
func Canon(code string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(code)), "_", "-")
}

// Base returns the language of a tag without its region or script:
// "ar-MA" is "ar", "nl" is "nl".
func Base(code string) string {
	base, _, _ := strings.Cut(Canon(code), "-")
	return base
}

// Isolate wraps s in a left-to-right isolate (U+2066 … U+2069), so a phone
// number such as "088 123 45 67" keeps its order inside right-to-left text
// (without it an Arabic phone shows "67 45 123 088").
func Isolate(s string) string {
	if s == "" {
		return s
	}
	return "\u2066" + s + "\u2069"
}
