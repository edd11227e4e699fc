package flow_test

// Reply matching in the six languages of the shipped flows, against the
// Go-owned fixture testdata/six-languages.yaml (never the shipped wording).

import (
	"os"
	"testing"

	"github.com/seintje/seintje/bot/flow"
)

func sixLanguages(t *testing.T) *flow.Flow {
	t.Helper()
	src, err := os.ReadFile("testdata/six-languages.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f, ds := flow.Parse("testdata/six-languages.yaml", src)
	if ds.HasErrors() {
		t.Fatalf("fixture: %v", ds.Err())
	}
	return f
}

func TestNormalizeScripts(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"Arabic-Indic digit", "٢", "2"},
		{"Arabic-Indic digits", "١٢", "12"},
		{"Eastern Arabic-Indic digit", "۲", "2"},
		{"full-width digit", "２", "2"},
		{"Devanagari digit", "२", "2"},
		{"Arabic-Indic with text", "رقم ٢ من فضلك", "رقم 2 من فضلك"},
		{"Arabic question mark alone", "؟", "?"},
		{"full-width question mark alone", "？", "?"},
		{"Arabic harakat and hamza", "أُرِيدُ", "اريد"},
		{"Arabic tatweel", "نعـــم", "نعم"},
		{"Arabic alef maksura and ta marbuta", "مساعدة على", "مساعده علي"},
		{"Turkish dotless i", "ANLAMADIM", "anlamadim"},
		{"Turkish letters", "Beni arayın, lütfen!", "beni arayin lutfen"},
		{"Turkish capital dotted I", "İYİ", "iyi"},
		{"Polish letters", "Proszę zadzwonić, dziękuję", "prosze zadzwonic dziekuje"},
		{"Polish l with stroke", "Łódź", "lodz"},
		{"Ukrainian", "Зателефонуйте мені!", "зателефонуите мені"},
		{"Ukrainian apostrophe", "пʼять", "пять"},
		{"Ukrainian yi", "Її", "іі"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := flow.Normalize(tc.in); got != tc.want {
				t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestMatchRouteSixLanguages(t *testing.T) {
	f := sixLanguages(t)
	routes := f.Start().Replies
	const none, help, callback = -1, 0, 1
	for _, tc := range []struct {
		lang, in string
		want     int
	}{
		// Digits in other scripts route exactly like "1" and "2".
		{"ar", "٢", callback},
		{"ar", "١", help},
		{"ar", "۲", callback},
		{"ar", "٢.", callback},
		{"ar", "رقم ٢", callback},
		{"ar", "نعم ٢", callback},
		{"ar", "٢ من فضلك", callback},
		{"ar", "١٢", none},
		{"ar", "٢٠", none},
		{"nl", "２", callback},
		{"tr", "evet 2", callback},
		{"tr", "2 lütfen", callback},
		{"pl", "tak, 2", callback},
		{"pl", "2 proszę", callback},
		{"uk", "так, 2", callback},
		{"uk", "2 будь ласка", callback},
		// "Call me" as people write it, with and without their letters.
		{"tr", "Beni arayın", callback},
		{"tr", "beni arayin", callback},
		{"tr", "BENİ ARAYIN", callback},
		{"tr", "beni arayabilir misiniz?", callback},
		{"tr", "geri arayin lutfen", callback},
		{"pl", "Proszę zadzwonić", callback},
		{"pl", "prosze zadzwonic", callback},
		{"pl", "zadzwońcie do mnie", callback},
		{"pl", "zadzwon do mnie", callback},
		{"uk", "Зателефонуйте мені", callback},
		{"uk", "зателефонуйте мені будь ласка", callback},
		{"uk", "подзвоніть мені", callback},
		{"uk", "передзвоніть", callback},
		{"ar", "اتصلوا بي", callback},
		{"ar", "اتصلو بي", callback},
		{"ar", "إتصل بي", callback},
		{"ar", "كلموني", callback},
		{"ar", "عيطو ليا", callback},
		{"tr", "yardım", help},
		{"tr", "yardim edin", help},
		{"pl", "pomoc", help},
		{"pl", "proszę o pomoc", help},
		{"uk", "допоможіть", help},
		{"ar", "ساعدوني", help},
		// Negations block the tolerant match in every language.
		{"tr", "beni aramayın", none},
		{"tr", "beni aramayin", none},
		{"tr", "aramayın lütfen", none},
		{"tr", "hayır 2", none},
		{"pl", "nie dzwońcie do mnie", none},
		{"pl", "proszę nie dzwonić", none},
		{"pl", "nie 2", none},
		{"uk", "не телефонуйте мені", none},
		{"uk", "не 2", none},
		{"ar", "لا تتصلوا بي", none},
		{"ar", "لا ٢", none},
		// "I don't understand" is not a route.
		{"tr", "anlamadım", none},
		{"pl", "nie rozumiem", none},
		{"uk", "не розумію", none},
		{"ar", "لا أفهم", none},
		// A digit inside a sentence is not a choice.
		{"ar", "عندي ٢ أطفال وأنا مريضة اليوم", none},
		{"pl", "mam 2 dzieci i jestem chora dzisiaj", none},
	} {
		t.Run(tc.lang+"/"+tc.in, func(t *testing.T) {
			if got := flow.MatchRoute(routes, tc.in); got != tc.want {
				t.Errorf("MatchRoute(%q) = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}

func TestIsConfusedSixLanguages(t *testing.T) {
	for _, tc := range []struct {
		lang, in string
		want     bool
	}{
		{"tr", "Anlamadım", true},
		{"tr", "anlamadim", true},
		{"tr", "anlamıyorum", true},
		{"tr", "çok zor", true},
		{"tr", "bu ne demek?", true},
		{"tr", "anladım", false},
		{"tr", "anladim", false},
		{"pl", "Nie rozumiem", true},
		{"pl", "nie rozumiem.", true},
		{"pl", "za trudne", true},
		{"pl", "co to znaczy?", true},
		{"pl", "rozumiem", false},
		{"pl", "jasne", false},
		{"uk", "Не розумію", true},
		{"uk", "я не розумію", true},
		{"uk", "незрозуміло", true},
		{"uk", "що це означає?", true},
		{"uk", "зрозуміло", false},
		{"uk", "розумію", false},
		{"uk", "не понимаю", true},
		{"ar", "لا أفهم", true},
		{"ar", "لا افهم", true},
		{"ar", "ما فهمت", true},
		{"ar", "مش فاهم", true},
		{"ar", "صعب", true},
		{"ar", "؟", true},
		{"ar", "؟؟", true},
		{"ar", "فهمت", false},
		{"ar", "واضح", false},
		// A short non-Latin word is not "close" to a confused phrase just
		// because its letters take two bytes each.
		{"ar", "شكرا", false},
		{"uk", "дякую", false},
		{"ar", "صحن", false},
	} {
		t.Run(tc.lang+"/"+tc.in, func(t *testing.T) {
			if got := flow.IsConfused(tc.in); got != tc.want {
				t.Errorf("IsConfused(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestYesNo(t *testing.T) {
	for _, tc := range []struct {
		in      string
		yes, no bool
	}{
		{"ja", true, false}, {"Yes", true, false}, {"Evet", true, false}, {"tamam", true, false},
		{"Tak", true, false}, {"так", true, false}, {"نعم", true, false}, {"نعـم", true, false},
		{"nee", false, true}, {"No", false, true}, {"Hayır", false, true}, {"hayir", false, true},
		{"nie", false, true}, {"Ні", false, true}, {"لا", false, true}, {"لا شكرا", false, true},
		{"misschien", false, false}, {"2", false, false}, {"", false, false},
	} {
		if got := flow.IsYes(tc.in); got != tc.yes {
			t.Errorf("IsYes(%q) = %v, want %v", tc.in, got, tc.yes)
		}
		if got := flow.IsNo(tc.in); got != tc.no {
			t.Errorf("IsNo(%q) = %v, want %v", tc.in, got, tc.no)
		}
	}
}
