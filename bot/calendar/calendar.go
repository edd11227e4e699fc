// Package calendar holds the Dutch calendar logic for nudges: formatting
// dates in the recipient's language, Dutch public holidays, sending windows
// (quiet hours) and working-day arithmetic. Everything is evaluated in the
// Europe/Amsterdam time zone and is daylight-saving safe: wall-clock times
// are always built with time.Date in that zone, never by adding 24 hours.
//
// The time zone is loaded with time.LoadLocation; binaries must import
// time/tzdata so this works on hosts without zoneinfo.
package calendar

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// Zone is the IANA name of the time zone all calculations use.
const Zone = "Europe/Amsterdam"

// loadAmsterdam loads the Amsterdam location once. It is set at package
// initialisation and never reassigned; the loaded *time.Location is
// immutable and safe for concurrent use.
var loadAmsterdam = sync.OnceValues(func() (*time.Location, error) {
	loc, err := time.LoadLocation(Zone)
	if err != nil {
		return nil, fmt.Errorf("calendar: load time zone %s (import _ \"time/tzdata\" in the binary): %w", Zone, err)
	}
	return loc, nil
})

// amsterdam returns the Amsterdam location and panics when the time zone
// database is missing, which is a build error (time/tzdata not linked).
func amsterdam() *time.Location {
	loc, err := loadAmsterdam()
	if err != nil {
		panic(err)
	}
	return loc
}

// dateFormat is how one language writes a date and a date with a time.
type dateFormat struct {
	days   [7]string  // Sunday first
	months [12]string // the form used after a day number (Polish and Ukrainian: genitive)
	// date formats weekday, day number and month; at joins date and clock time.
	date func(weekday string, day int, month string) string
	at   func(date, clock string) string
}

// formats are the date formats of the languages Seintje writes in. Polish
// and Ukrainian put the weekday first with a comma, Turkish writes the day
// before the month and the weekday last; Arabic uses the month names
// understood across the Arab world and Western digits, as in the Netherlands.
var formats = map[string]dateFormat{
	"nl": {
		days:   [7]string{"zondag", "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag"},
		months: [12]string{"januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"},
		date:   func(w string, d int, m string) string { return fmt.Sprintf("%s %d %s", w, d, m) },
		at:     func(d, c string) string { return d + " om " + c },
	},
	"en": {
		days:   [7]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
		months: [12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
		date:   func(w string, d int, m string) string { return fmt.Sprintf("%s %d %s", w, d, m) },
		at:     func(d, c string) string { return d + " at " + c },
	},
	"tr": {
		days:   [7]string{"Pazar", "Pazartesi", "Salı", "Çarşamba", "Perşembe", "Cuma", "Cumartesi"},
		months: [12]string{"Ocak", "Şubat", "Mart", "Nisan", "Mayıs", "Haziran", "Temmuz", "Ağustos", "Eylül", "Ekim", "Kasım", "Aralık"},
		date:   func(w string, d int, m string) string { return fmt.Sprintf("%d %s %s", d, m, w) },
		at:     func(d, c string) string { return d + " saat " + c },
	},
	"pl": {
		days:   [7]string{"niedziela", "poniedziałek", "wtorek", "środa", "czwartek", "piątek", "sobota"},
		months: [12]string{"stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia", "września", "października", "listopada", "grudnia"},
		date:   func(w string, d int, m string) string { return fmt.Sprintf("%s, %d %s", w, d, m) },
		at:     func(d, c string) string { return d + ", godz. " + c },
	},
	"uk": {
		days:   [7]string{"неділя", "понеділок", "вівторок", "середа", "четвер", "пʼятниця", "субота"},
		months: [12]string{"січня", "лютого", "березня", "квітня", "травня", "червня", "липня", "серпня", "вересня", "жовтня", "листопада", "грудня"},
		date:   func(w string, d int, m string) string { return fmt.Sprintf("%s, %d %s", w, d, m) },
		at:     func(d, c string) string { return d + ", о " + c },
	},
	"ar": {
		days:   [7]string{"الأحد", "الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت"},
		months: [12]string{"يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"},
		date:   func(w string, d int, m string) string { return fmt.Sprintf("%s %d %s", w, d, m) },
		at:     func(d, c string) string { return d + " الساعة " + c },
	},
}

// normLang maps a language tag ("en", "en-GB", "EN_us", "ar-MA") to a
// language with a date format; anything else falls back to "nl".
func normLang(lang string) string {
	base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(lang)), "-")
	base, _, _ = strings.Cut(base, "_")
	if _, ok := formats[base]; ok {
		return base
	}
	return "nl"
}

// FormatDate formats the Amsterdam date of t without year:
// "dinsdag 24 november" (nl, the default), "Tuesday 24 November" (en),
// "24 Kasım Salı" (tr), "wtorek, 24 listopada" (pl), "вівторок, 24
// листопада" (uk), "الثلاثاء 24 نوفمبر" (ar).
func FormatDate(t time.Time, lang string) string {
	f := formats[normLang(lang)]
	t = t.In(amsterdam())
	return f.date(f.days[t.Weekday()], t.Day(), f.months[t.Month()-1])
}

// FormatDateTime formats the Amsterdam date and clock time of t:
// "dinsdag 24 november om 10:00" (nl), "Tuesday 24 November at 10:00" (en),
// "24 Kasım Salı saat 10:00" (tr), "wtorek, 24 listopada, godz. 10:00"
// (pl), "вівторок, 24 листопада, о 10:00" (uk), "الثلاثاء 24 نوفمبر الساعة
// 10:00" (ar).
func FormatDateTime(t time.Time, lang string) string {
	return formats[normLang(lang)].at(FormatDate(t, lang), FormatTime(t, lang))
}

// FormatTime formats the Amsterdam clock time of t as "10:00" (24-hour
// clock in every language).
func FormatTime(t time.Time, lang string) string {
	_ = lang // Same format for every supported language.
	return t.In(amsterdam()).Format("15:04")
}

// At returns the instant daysBefore calendar days before the civil date of d
// (taken in Amsterdam) at local clock time hour:min. A negative daysBefore
// counts forward. When the clock time does not exist because of the
// spring-forward gap, time.Date's normalisation applies (02:30 becomes 03:30).
func At(d time.Time, daysBefore int, hour, min int) time.Time {
	loc := amsterdam()
	y, m, day := d.In(loc).Date()
	return time.Date(y, m, day-daysBefore, hour, min, 0, 0, loc)
}
