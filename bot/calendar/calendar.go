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

var (
	dayNames = map[string][7]string{
		"nl": {"zondag", "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag"},
		"en": {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
	}
	monthNames = map[string][12]string{
		"nl": {"januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"},
		"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	}
	atWord = map[string]string{"nl": "om", "en": "at"}
)

// normLang maps a language tag ("en", "en-GB", "EN_us", "nl-BE") to a
// supported base language; anything unsupported falls back to "nl".
func normLang(lang string) string {
	base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(lang)), "-")
	base, _, _ = strings.Cut(base, "_")
	if base == "en" {
		return "en"
	}
	return "nl"
}

// FormatDate formats the Amsterdam date of t without year:
// "dinsdag 24 november" (nl, the default) or "Tuesday 24 November" (en).
func FormatDate(t time.Time, lang string) string {
	l := normLang(lang)
	t = t.In(amsterdam())
	return fmt.Sprintf("%s %d %s", dayNames[l][t.Weekday()], t.Day(), monthNames[l][t.Month()-1])
}

// FormatDateTime formats the Amsterdam date and clock time of t:
// "dinsdag 24 november om 10:00" (nl) or "Tuesday 24 November at 10:00" (en).
func FormatDateTime(t time.Time, lang string) string {
	l := normLang(lang)
	return FormatDate(t, l) + " " + atWord[l] + " " + FormatTime(t, l)
}

// FormatTime formats the Amsterdam clock time of t as "10:00" (24-hour
// clock in both languages).
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
