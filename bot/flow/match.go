package flow

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Normalize lower-cases s, strips accents and punctuation (a lone "?" is
// kept as "?") and folds white space, so "Bél mij  terug!" becomes
// "bel mij terug".
func Normalize(s string) string {
	s = strings.TrimSpace(s)
	if s != "" && strings.Trim(s, "?¿ ") == "" {
		return "?"
	}
	var b strings.Builder
	space := false
	for _, r := range norm.NFKD.String(strings.ToLower(s)) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		case r == '\'' || r == '’':
			// "don't" → "dont"
		default:
			space = true
		}
	}
	return b.String()
}

// digitFillers may stand next to a digit answer: "optie 2", "2 graag", "2 a.u.b.".
var digitFillers = map[string]bool{
	"optie": true, "nummer": true, "keuze": true, "graag": true, "aub": true, "a": true, "u": true, "b": true,
	"alstublieft": true, "ok": true, "oke": true, "ja": true, "please": true, "option": true, "number": true, "choice": true,
}

// negations turn a phrase around: "bel mij niet" must not match "bel mij".
var negations = []string{"niet", "geen", "nee", "not", "dont", "no", "never", "nooit"}

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
// ("Retour afzender": the text is too hard).
var confusedPhrases = []string{
	"?", "snap ik niet", "snap het niet", "ik snap het niet", "begrijp ik niet", "ik begrijp het niet",
	"begrijp het niet", "te moeilijk", "moeilijk", "wat bedoelt u", "wat bedoel je", "wat betekent dit",
	"wat moet ik doen", "huh", "wat", "he", "hoe bedoelt u", "onduidelijk", "ik snap er niks van",
	"i dont understand", "dont understand", "too difficult", "what does this mean", "what do you mean",
}

// understoodPhrases say the opposite, but are close to a confused phrase
// ("duidelijk" is two edits from "onduidelijk").
var understoodPhrases = []string{"duidelijk", "helder", "begrepen", "snap ik", "ik snap het", "ik begrijp het", "understood", "i understand", "clear"}

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
		if n == p || (p != "?" && editDistance(n, p) <= tolerance(len(p))) {
			return true
		}
	}
	return false
}

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
