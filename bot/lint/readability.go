package lint

import (
	"regexp"
	"strings"
	"unicode"
)

// linkRe finds web links (such as a Telegram link with its one-time token).
// They are measured as the one word "link": a link is not read like words,
// and its "?" and "." must not end a sentence. A final . , ! ? or ) stays.
var linkRe = regexp.MustCompile(`https?://[^\s]*[^\s.,!?)]`)

// Readability measures a text. For Dutch, Ease is the Flesch-Douma reading
// ease (W.H. Douma, 1960, the Dutch adaptation of Flesch):
//
//	206.835 − 0.93 × (words / sentences) − 77 × (syllables / words)
//
// Syllables are counted as groups of vowels (a, e, i, o, u, y and their
// accented forms), which is close for Dutch: "uitkering" has three ("ui",
// "e", "i"). Higher is easier; 60 to 70 is plain language, B1 text usually
// scores above 60. For other languages only sentences are measured.
type Readability struct {
	Sentences []string
	Words     int
	Syllables int
	Ease      float64
	words     []string
}

// WordsPerSentence is the average sentence length.
func (r Readability) WordsPerSentence() float64 {
	if len(r.Sentences) == 0 {
		return 0
	}
	return float64(r.Words) / float64(len(r.Sentences))
}

// SyllablesPerWord is the average word length in syllables.
func (r Readability) SyllablesPerWord() float64 {
	if r.Words == 0 {
		return 0
	}
	return float64(r.Syllables) / float64(r.Words)
}

// LongSentences returns the sentences with more than max words.
func (r Readability) LongSentences(max int) []string {
	var out []string
	for _, s := range r.Sentences {
		if max > 0 && wordCount(s) > max {
			out = append(out, s)
		}
	}
	return out
}

// LongWords returns the distinct words with more than max letters.
func (r Readability) LongWords(max int) []string {
	var out []string
	seen := map[string]bool{}
	for _, w := range r.words {
		if max > 0 && len([]rune(w)) > max && !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// Dutch measures a Dutch text with Flesch-Douma.
func Dutch(text string) Readability {
	r := Sentences(text)
	for _, w := range r.words {
		r.Syllables += syllables(w)
	}
	if r.Words > 0 && len(r.Sentences) > 0 {
		r.Ease = 206.835 - 0.93*r.WordsPerSentence() - 77*r.SyllablesPerWord()
	}
	return r
}

// Sentences splits text into sentences (at . ! ? and line ends) and words.
func Sentences(text string) Readability {
	var r Readability
	text = linkRe.ReplaceAllString(text, "link")
	for _, line := range strings.Split(text, "\n") {
		start := 0
		rs := []rune(line)
		for i, c := range rs {
			end := c == '!' || c == '?' || (c == '.' && (i+1 == len(rs) || unicode.IsSpace(rs[i+1])))
			if end || i+1 == len(rs) {
				s := strings.TrimSpace(string(rs[start : i+1]))
				if wordCount(s) > 0 {
					r.Sentences = append(r.Sentences, s)
				}
				start = i + 1
			}
		}
	}
	for _, s := range r.Sentences {
		r.words = append(r.words, splitWords(s)...)
	}
	r.Words = len(r.words)
	return r
}

// splitWords returns the words of s: runs of letters (a word must contain
// a letter; numbers such as a phone number are not words).
func splitWords(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(c rune) bool {
		return !unicode.IsLetter(c) && !unicode.IsDigit(c) && c != '-' && c != '\''
	}) {
		f = strings.Trim(f, "-'")
		if strings.IndexFunc(f, unicode.IsLetter) >= 0 {
			out = append(out, strings.ToLower(f))
		}
	}
	return out
}

func wordCount(s string) int { return len(splitWords(s)) }

// syllables counts vowel groups, at least one per word.
func syllables(w string) int {
	n, in := 0, false
	for _, c := range w {
		v := strings.ContainsRune("aeiouyáéíóúàèìòùäëïöüâêîôû", c)
		if v && !in {
			n++
		}
		in = v
	}
	return max(n, 1)
}
