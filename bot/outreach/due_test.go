package outreach

import (
	"testing"
	"time"

	_ "time/tzdata"

	"github.com/seintje/seintje/bot/calendar"
	"github.com/seintje/seintje/bot/engine"
)

func TestDueForPreferredMoment(t *testing.T) {
	t.Parallel()
	loc, _ := time.LoadLocation("Europe/Amsterdam")
	s := &Service{Gate: &Gate{Window: calendar.DefaultWindow()}, Engine: &engine.Engine{Location: loc}}
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, loc) }
	tests := []struct {
		name, pref string
		now, want  time.Time
	}{
		{"morning asked in the morning", "morning", at(23, 10, 0), at(23, 10, 0)},
		{"morning asked in the afternoon", "morning", at(23, 15, 0), at(24, 9, 0)},
		{"morning asked on friday evening", "morning", at(27, 19, 0), at(30, 9, 0)},
		{"afternoon asked in the morning", "afternoon", at(23, 10, 0), at(23, 13, 0)},
		{"afternoon asked in the afternoon", "afternoon", at(23, 14, 0), at(23, 14, 0)},
		{"afternoon asked on saturday", "afternoon", at(28, 11, 0), at(30, 13, 0)},
		{"no preference", "none", at(28, 11, 0), at(28, 11, 0)},
		{"calls self", "self", at(23, 22, 0), at(23, 22, 0)},
	}
	for _, tt := range tests {
		if got := s.dueFor(tt.pref, tt.now); !got.Equal(tt.want) {
			t.Errorf("%s: due %v, want %v", tt.name, got.In(loc), tt.want)
		}
	}
}

func TestKeyword(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"STOP": "stop", " stop ": "stop", "Stoppen": "stop", "afmelden!": "stop", "UNSUBSCRIBE": "stop",
		"START": "start", "aanmelden": "start", "HELP": "help", "hulp?": "help", "Info": "help",
		"Стоп": "stop", "توقف": "stop", "Durdur!": "stop", "wypisz mnie": "stop", "СТАРТ": "start",
		"Yardım": "help", "pomoc": "help", "допомога": "help", "مساعدة": "help",
		"ik wil stoppen met werken": "", "2": "", "stop maar met bellen": "",
	} {
		if got := Keyword(in); got != want {
			t.Errorf("Keyword(%q) = %q, want %q", in, got, want)
		}
	}
}
