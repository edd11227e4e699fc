package lint

import (
	"slices"
	"testing"
)

// A web link counts as one word and does not split a sentence.
func TestLinksAreOneWord(t *testing.T) {
	const token = "NwdJhY4f4Qj7qyHEaNE7KChF54CDGj9qyi8CRvLs9bM"
	for _, tc := range []struct {
		name, text string
		sentences  int
		words      int
	}{
		{"telegram link", "Open deze link: https://t.me/GemeenteSeintjeBot?start=" + token, 1, 4},
		{"link ends a sentence", "Kijk op https://www.utrecht.nl/werk. Dat is alles.", 2, 6},
		{"link in brackets", "Lees het (https://example.nl/a?b=c) rustig.", 1, 4},
		{"no link", "Bel ons gerust.", 1, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Dutch(tc.text)
			if len(r.Sentences) != tc.sentences || r.Words != tc.words {
				t.Errorf("%d sentences, %d words; want %d, %d (%q)", len(r.Sentences), r.Words, tc.sentences, tc.words, r.Sentences)
			}
			if long := r.LongWords(20); len(long) > 0 || slices.Contains(r.words, "start") {
				t.Errorf("link measured as words: %v", r.words)
			}
		})
	}
}
