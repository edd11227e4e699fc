package flow

import (
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Normalize lower-cases s, strips accents and punctuation (a lone "?" is
// kept as "?") and folds white space, so "Bél mij  terug!" becomes
// "bel mij terug". Digits of every script become ASCII digits (Arabic-Indic
// "٢", Eastern Arabic-Indic "۲" and full-width "２" are "2"), and letters
// people type either way are folded: Turkish "ı" and Polish "ł" lose their
// mark like "ş" and "ą" do, Arabic "ى" is "ي" and "ة" is "ه", the Arabic
// tatweel and the Ukrainian apostrophe "ʼ" are dropped.
func Normalize(s string) string {
	s = strings.TrimSpace(s)
	if s != "" && strings.Trim(s, "?¿؟？ ") == "" {
		return "?"
	}
	var b strings.Builder
	space := false
	for _, r := range norm.NFKD.String(strings.ToLower(s)) {
		r = fold(r)
		switch {
		case unicode.Is(unicode.Mn, r), r == 'ـ':
			continue
		case r == '\'' || r == '’' || r == 'ʼ' || r == '`':
			// "don't" → "dont", "пʼять" → "пять" (ʼ counts as a letter)
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		default:
			space = true
		}
	}
	return b.String()
}

// letterFolds are letters that NFKD leaves alone but that people type
// without their mark, or in two spellings.
var letterFolds = map[rune]rune{
	'ı': 'i', 'ł': 'l', // Turkish dotless i, Polish l with stroke
	'ى': 'ي', 'ة': 'ه', 'ی': 'ي', 'ک': 'ك', // Arabic (and Persian keyboards)
}

// fold maps a digit of any script to its ASCII digit and applies letterFolds.
func fold(r rune) rune {
	if r < 0x80 {
		return r
	}
	if v, ok := digitValue(r); ok {
		return '0' + rune(v)
	}
	if f, ok := letterFolds[r]; ok {
		return f
	}
	return r
}

// digitValue returns the value of a decimal digit of any script. Unicode
// places every script's digits 0-9 in a run of ten code points, and the
// ranges of the Nd category start at a zero.
func digitValue(r rune) (int, bool) {
	if !unicode.Is(unicode.Nd, r) {
		return 0, false
	}
	for _, rg := range unicode.Nd.R16 {
		if lo, hi := rune(rg.Lo), rune(rg.Hi); r >= lo && r <= hi {
			return int(r-lo) % 10, true
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if lo, hi := rune(rg.Lo), rune(rg.Hi); r >= lo && r <= hi {
			return int(r-lo) % 10, true
		}
	}
	return 0, false
}

// Phrases normalizes each phrase, for word lists written as people type
// them, with their letters (keywords, confused phrases, ...).
func Phrases(phrases ...string) []string {
	out := make([]string, 0, len(phrases))
	for _, p := range phrases {
		out = append(out, Normalize(p))
	}
	return out
}

// wordSet is words as a set.
func wordSet(phrases ...string) map[string]bool {
	m := make(map[string]bool, len(phrases))
	for _, w := range Phrases(phrases...) {
		m[w] = true
	}
	return m
}

// digitFillers may stand next to a digit answer: "optie 2", "2 graag",
// "2 a.u.b.", "evet 2", "tak, 2", "نعم 2".
var digitFillers = wordSet(
	"optie", "nummer", "keuze", "graag", "aub", "a", "u", "b", "alstublieft", "ok", "oke", "ja",
	"please", "option", "number", "choice", "yes",
	// Turkish, Polish, Ukrainian, Arabic: yes, please, number, option.
	"evet", "lütfen", "tamam", "numara", "seçenek",
	"tak", "proszę", "numer", "opcja", "wybór",
	"так", "будь", "ласка", "номер", "варіант",
	"نعم", "من", "فضلك", "رقم", "اختيار",
)

// negations turn a phrase around: "bel mij niet" must not match "bel mij".
// Turkish negates inside the verb ("beni aramayın" is two edits from "beni
// arayın"), so its negated verbs of the shipped routes are listed as words.
var negations = Phrases(
	"niet", "geen", "nee", "not", "dont", "no", "never", "nooit",
	"hayır", "değil", "yok", "asla", "istemiyorum", "aramayın", "aramayınız", "aramasın", "etmeyin", "aramayin",
	"nie", "nigdy",
	"не", "ні", "ніколи",
	"لا", "ما", "مش", "لن",
)

// MatchRoute returns the index of the first route of s that matches text,
// or -1. Exact matches on any route win over tolerant ones.
func MatchRoute(routes []Route, text string) int {
	n := Normalize(text)
	if n == "" {
		return -1
	}
	for i, r := range routes {
		for _, m := range r.Match {
			if Normalize(m) == n {
				return i
			}
		}
	}
	for i, r := range routes {
		for _, m := range r.Match {
			if tolerant(n, Normalize(m)) {
				return i
			}
		}
	}
	return -1
}

// tolerant matches a normalized message against a normalized pattern.
func tolerant(msg, pat string) bool {
	if pat == "" {
		return false
	}
	words := strings.Fields(msg)
	pw := strings.Fields(pat)
	// "bel mij niet", "niet 2": a negation blocks every tolerant match.
	if !containsAny(pw, negations) && containsAny(words, negations) {
		return false
	}
	if isDigits(pat) {
		// "2", "2.", "2 graag", "optie 2": the digit with only filler words
		// around it; "ik heb 2 kinderen" is not a choice.
		if len(words) > 5 {
			return false
		}
		found := false
		for _, w := range words {
			switch {
			case w == pat:
				found = true
			case !digitFillers[w]:
				return false
			}
		}
		return found
	}
	if editDistance(msg, pat) <= tolerance(len([]rune(pat))) {
		return true
	}
	// The phrase appears (with small typos) inside a short message.
	if len(words) > len(pw)+4 {
		return false
	}
	for start := 0; start+len(pw) <= len(words); start++ {
		ok := true
		for k, p := range pw {
			if editDistance(words[start+k], p) > tolerance(len([]rune(p))) {
				ok = false
				break
			}
		}
		if ok && (len(pw) > 1 || len([]rune(pat)) >= 4) {
			return true
		}
	}
	return false
}

func tolerance(n int) int {
	switch {
	case n < 4:
		return 0
	case n < 8:
		return 1
	default:
		return 2
	}
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func containsAny(words, set []string) bool {
	for _, w := range words {
		for _, s := range set {
			if w == s {
				return true
			}
		}
	}
	return false
}

// confusedPhrases signal that the recipient did not understand the message
// ("Retour afzender": the text is too hard), in the six languages of the
// shipped flows.
var confusedPhrases = Phrases(
	"?", "snap ik niet", "snap het niet", "ik snap het niet", "begrijp ik niet", "ik begrijp het niet",
	"begrijp het niet", "te moeilijk", "moeilijk", "wat bedoelt u", "wat bedoel je", "wat betekent dit",
	"wat moet ik doen", "huh", "wat", "he", "hoe bedoelt u", "onduidelijk", "ik snap er niks van",
	"i dont understand", "dont understand", "too difficult", "what does this mean", "what do you mean",
	// Turkish
	"anlamadım", "anlamıyorum", "hiç anlamadım", "çok zor", "zor", "ne demek", "bu ne demek", "ne yapmam lazım",
	// Polish
	"nie rozumiem", "nic nie rozumiem", "nie rozumiem tego", "za trudne", "trudne", "co to znaczy", "o co chodzi", "niejasne",
	// Ukrainian (and the Russian many Ukrainians also write)
	"не розумію", "я не розумію", "незрозуміло", "не зрозуміло", "складно", "дуже складно", "що це означає", "що це значить",
	"не понимаю", "непонятно",
	// Arabic (standard and the Moroccan and Levantine everyday forms)
	"لا أفهم", "ما فهمت", "مش فاهم", "لم أفهم", "ما فهمتش", "صعب", "صعب جدا", "ماذا يعني هذا", "شو يعني", "ماذا أفعل",
)

// understoodPhrases say the opposite, but are close to a confused phrase
// ("duidelijk" is two edits from "onduidelijk", "anladım" from
// "anlamadım").
var understoodPhrases = Phrases(
	"duidelijk", "helder", "begrepen", "snap ik", "ik snap het", "ik begrijp het", "understood", "i understand", "clear",
	"anladım", "anlıyorum", "anlaşıldı", "rozumiem", "jasne", "zrozumiałe", "розумію", "зрозуміло", "зрозумів", "зрозуміла",
	"понятно", "فهمت", "مفهوم", "واضح",
)

// IsConfused reports whether text says the message was too hard to understand.
func IsConfused(text string) bool {
	n := Normalize(text)
	if n == "" {
		return false
	}
	for _, p := range understoodPhrases {
		if n == p {
			return false
		}
	}
	for _, p := range confusedPhrases {
		if n == p || (p != "?" && editDistance(n, p) <= tolerance(len([]rune(p)))) {
			return true
		}
	}
	return false
}

// yesPhrases and noPhrases answer a yes/no question (consent to a channel),
// in the six languages of the shipped flows.
var (
	yesPhrases = Phrases("ja", "yes", "ja graag", "yes please", "oke", "ok", "goed", "evet", "tamam", "olur",
		"tak", "tak proszę", "так", "так звичайно", "نعم", "ايوه", "أيوا", "اه", "موافق")
	noPhrases = Phrases("nee", "no", "nee dank u", "no thanks", "hayır", "istemiyorum", "hayır teşekkürler",
		"nie", "nie dziękuję", "ні", "ні дякую", "لا", "لا شكرا")
)

// IsYes reports whether text is a plain yes (whole message, any language).
func IsYes(text string) bool { return slices.Contains(yesPhrases, Normalize(text)) }

// IsNo reports whether text is a plain no (whole message, any language).
func IsNo(text string) bool { return slices.Contains(noPhrases, Normalize(text)) }

// editDistance is the Levenshtein distance over runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) == 0 {
		return len(rb)
	}
	if len(rb) == 0 {
		return len(ra)
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
