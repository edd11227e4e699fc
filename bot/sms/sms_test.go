package sms

import (
	"slices"
	"strings"
	"testing"
)

func TestAnalyze(t *testing.T) {
	t.Parallel()
	a152 := strings.Repeat("a", 152)
	tests := []struct {
		name      string
		text      string
		enc       Encoding
		units     int
		segments  int
		per       int
		offending []rune
	}{
		{"empty", "", GSM7, 0, 0, 160, nil},
		{"pure GSM-7", "Hallo Piet, je afspraak is morgen om 10:00.", GSM7, 43, 1, 160, nil},
		{"GSM-7 accents", "é è ù ì ò Ç Ø ø Å å Ä Ö Ñ Ü § ä ö ñ ü à É Æ æ ß ¤ £ ¥ Γ Δ", GSM7, 57, 1, 160, nil},
		{"extension chars", "^{}\\[]~|€\f", GSM7, 20, 1, 160, nil},
		{"one e-diaeresis", "Beëindiging", UCS2, 11, 1, 70, []rune{'ë'}},
		{"distinct offending in order", "ïëáïë", UCS2, 5, 1, 70, []rune{'ï', 'ë', 'á'}},
		{"emoji", "Hoi 👋", UCS2, 6, 1, 70, []rune{'👋'}},
		{"exactly 160 GSM", strings.Repeat("a", 160), GSM7, 160, 1, 160, nil},
		{"161 GSM", strings.Repeat("a", 161), GSM7, 161, 2, 153, nil},
		{"306 GSM fills two parts", strings.Repeat("a", 306), GSM7, 306, 2, 153, nil},
		{"307 GSM", strings.Repeat("a", 307), GSM7, 307, 3, 153, nil},
		{"159 plus extension is 161", strings.Repeat("a", 159) + "€", GSM7, 161, 2, 153, nil},
		{"158 plus extension is 160", strings.Repeat("a", 158) + "€", GSM7, 160, 1, 160, nil},
		// Septets 153-154 would straddle the boundary, so € moves to part 2.
		{"extension at position 153", a152 + "€" + strings.Repeat("a", 152), GSM7, 306, 3, 153, nil},
		{"extension fits before boundary", strings.Repeat("a", 151) + "€" + strings.Repeat("a", 153), GSM7, 306, 2, 153, nil},
		{"exactly 70 UCS-2", "ë" + strings.Repeat("a", 69), UCS2, 70, 1, 70, []rune{'ë'}},
		{"71 UCS-2", "ë" + strings.Repeat("a", 70), UCS2, 71, 2, 67, []rune{'ë'}},
		{"134 UCS-2 fills two parts", "ë" + strings.Repeat("a", 133), UCS2, 134, 2, 67, []rune{'ë'}},
		// The surrogate pair at units 67-68 moves to part 2.
		{"surrogate pair at boundary", "ë" + strings.Repeat("a", 65) + "😀" + strings.Repeat("a", 66), UCS2, 134, 3, 67, []rune{'ë', '😀'}},
		{"invalid UTF-8", "a\xffb", UCS2, 3, 1, 70, []rune{'\uFFFD'}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Analyze(tt.text)
			if got.Encoding != tt.enc || got.Units != tt.units || got.Segments != tt.segments || got.PerSegment != tt.per {
				t.Errorf("Analyze() = %s %d units %d segments %d per; want %s %d %d %d",
					got.Encoding, got.Units, got.Segments, got.PerSegment, tt.enc, tt.units, tt.segments, tt.per)
			}
			if !slices.Equal(got.Offending, tt.offending) {
				t.Errorf("Offending = %q, want %q", got.Offending, tt.offending)
			}
		})
	}
}

func TestNonGSMCharacters(t *testing.T) {
	t.Parallel()
	for _, r := range "ëïáíóúâêç`\t\x1b" {
		if got := Analyze(string(r)); got.Encoding != UCS2 {
			t.Errorf("Analyze(%q).Encoding = %s, want UCS-2", r, got.Encoding)
		}
	}
}

func TestInfoString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text string
		want string
	}{
		{"", "0 segments, GSM-7, 0/160"},
		{strings.Repeat("a", 142), "1 segment, GSM-7, 142/160"},
		{strings.Repeat("a", 200), "2 segments, GSM-7, 200 units"},
		{"ë" + strings.Repeat("a", 149), "3 segments, UCS-2 (because of 'ë'), 150 units"},
		{"Hoi ë 👋", "1 segment, UCS-2 (because of 'ë', '👋'), 8/70"},
		{"ëïáíó", "1 segment, UCS-2 (because of 'ë', 'ï', 'á' and 2 more), 5/70"},
	}
	for _, tt := range tests {
		if got := Analyze(tt.text).String(); got != tt.want {
			t.Errorf("Analyze(%q).String() = %q, want %q", tt.text, got, tt.want)
		}
	}
}

// TestRecipientLanguages counts real texts in the languages of the shipped
// flows. Turkish and Polish look Latin but ş ğ ı ą ł ż are not GSM-7; a
// single one makes the whole text UCS-2 (67 characters per part).
func TestRecipientLanguages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text string
		enc        Encoding
		units      int
		segments   int
		first      rune
	}{
		{"Dutch", "Stuur 2, dan bellen wij u.", GSM7, 26, 1, 0},
		{"Turkish", "2 gönderin, sizi arayalım.", UCS2, 26, 1, 'ı'},
		{"Turkish ş", "Beş", UCS2, 3, 1, 'ş'},
		{"Turkish ğ", "Ağustos", UCS2, 7, 1, 'ğ'},
		{"Turkish ö ü are GSM-7, ç is not", "Gönderin, ütü", GSM7, 13, 1, 0},
		{"Turkish ç", "üç", UCS2, 2, 1, 'ç'},
		{"Polish", "Proszę wysłać 2, a zadzwonimy.", UCS2, 30, 1, 'ę'},
		{"Polish ł only", "Zadzwoń do mnie, wysłał", UCS2, 23, 1, 'ń'},
		{"Ukrainian", "Надішліть 2, і ми Вам зателефонуємо.", UCS2, 36, 1, 'Н'},
		{"Arabic", "أرسلوا 2 ونحن نتصل بكم.", UCS2, 23, 1, 'أ'},
		{"Arabic with an isolated number", "اتصلوا بالرقم \u2066088 123 45 67\u2069.", UCS2, 30, 1, 'ا'},
		// 71 Arabic letters: two parts of 67.
		{"Arabic 71", strings.Repeat("ب", 71), UCS2, 71, 2, 'ب'},
		// 402 units fill six parts exactly; 403 need a seventh.
		{"Polish 402", "ł" + strings.Repeat("a", 401), UCS2, 402, 6, 'ł'},
		{"Polish 403", "ł" + strings.Repeat("a", 402), UCS2, 403, 7, 'ł'},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Analyze(tt.text)
			if got.Encoding != tt.enc || got.Units != tt.units || got.Segments != tt.segments {
				t.Errorf("Analyze(%q) = %s, %d units, %d segments; want %s, %d, %d", tt.text, got.Encoding, got.Units, got.Segments, tt.enc, tt.units, tt.segments)
			}
			if tt.first != 0 && (len(got.Offending) == 0 || got.Offending[0] != tt.first) {
				t.Errorf("Offending = %q, want it to start with %q", got.Offending, tt.first)
			}
		})
	}
}
