package calendar

import (
	"strings"
	"testing"
	"time"
)

// ams builds a wall-clock time in Amsterdam.
func ams(t *testing.T, y int, m time.Month, d, hh, mm int) time.Time {
	t.Helper()
	return time.Date(y, m, d, hh, mm, 0, 0, amsterdam())
}

func TestFormat(t *testing.T) {
	t.Parallel()
	winter := time.Date(2026, time.November, 24, 9, 0, 0, 0, time.UTC) // 10:00 CET
	summer := time.Date(2026, time.July, 1, 22, 30, 0, 0, time.UTC)    // 00:30 CEST on 2 July
	tests := []struct {
		name, lang      string
		in              time.Time
		date, dt, clock string
	}{
		{"nl", "nl", winter, "dinsdag 24 november", "dinsdag 24 november om 10:00", "10:00"},
		{"en", "en", winter, "Tuesday 24 November", "Tuesday 24 November at 10:00", "10:00"},
		{"en-GB", "en-GB", winter, "Tuesday 24 November", "Tuesday 24 November at 10:00", "10:00"},
		{"empty falls back to nl", "", winter, "dinsdag 24 november", "dinsdag 24 november om 10:00", "10:00"},
		{"tr", "tr", winter, "24 Kasım Salı", "24 Kasım Salı saat 10:00", "10:00"},
		{"pl", "pl", winter, "wtorek, 24 listopada", "wtorek, 24 listopada, godz. 10:00", "10:00"},
		{"uk", "uk", winter, "вівторок, 24 листопада", "вівторок, 24 листопада, о 10:00", "10:00"},
		{"ar", "ar", winter, "الثلاثاء 24 نوفمبر", "الثلاثاء 24 نوفمبر الساعة 10:00", "10:00"},
		{"ar-MA", "ar-MA", summer, "الخميس 2 يوليو", "الخميس 2 يوليو الساعة 00:30", "00:30"},
		{"unknown falls back to nl", "fr", winter, "dinsdag 24 november", "dinsdag 24 november om 10:00", "10:00"},
		{"converted to Amsterdam crosses midnight", "nl", summer, "donderdag 2 juli", "donderdag 2 juli om 00:30", "00:30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := FormatDate(tt.in, tt.lang); got != tt.date {
				t.Errorf("FormatDate = %q, want %q", got, tt.date)
			}
			if got := FormatDateTime(tt.in, tt.lang); got != tt.dt {
				t.Errorf("FormatDateTime = %q, want %q", got, tt.dt)
			}
			if got := FormatTime(tt.in, tt.lang); got != tt.clock {
				t.Errorf("FormatTime = %q, want %q", got, tt.clock)
			}
		})
	}
}

func TestEaster(t *testing.T) {
	t.Parallel()
	tests := []struct {
		year  int
		month time.Month
		day   int
	}{
		{2008, time.March, 23}, {2011, time.April, 24}, {2019, time.April, 21},
		{2024, time.March, 31}, {2025, time.April, 20}, {2026, time.April, 5},
		{2027, time.March, 28}, {2038, time.April, 25}, {2285, time.March, 22},
	}
	for _, tt := range tests {
		if m, d := easter(tt.year); m != tt.month || d != tt.day {
			t.Errorf("easter(%d) = %s %d, want %s %d", tt.year, m, d, tt.month, tt.day)
		}
	}
}

func TestHolidays(t *testing.T) {
	t.Parallel()
	tests := []struct {
		year int
		o    HolidayOptions
		want string
	}{
		{2025, HolidayOptions{}, "01-01 Nieuwjaarsdag, 04-20 Eerste Paasdag, 04-21 Tweede Paasdag, 04-26 Koningsdag, " +
			"05-29 Hemelvaartsdag, 06-08 Eerste Pinksterdag, 06-09 Tweede Pinksterdag, 12-25 Eerste Kerstdag, 12-26 Tweede Kerstdag"},
		{2026, HolidayOptions{GoodFriday: true, LiberationDay: true}, "01-01 Nieuwjaarsdag, 04-03 Goede Vrijdag, 04-05 Eerste Paasdag, " +
			"04-06 Tweede Paasdag, 04-27 Koningsdag, 05-05 Bevrijdingsdag, 05-14 Hemelvaartsdag, 05-24 Eerste Pinksterdag, " +
			"05-25 Tweede Pinksterdag, 12-25 Eerste Kerstdag, 12-26 Tweede Kerstdag"},
		{2024, HolidayOptions{GoodFriday: true}, "01-01 Nieuwjaarsdag, 03-29 Goede Vrijdag, 03-31 Eerste Paasdag, 04-01 Tweede Paasdag, " +
			"04-27 Koningsdag, 05-09 Hemelvaartsdag, 05-19 Eerste Pinksterdag, 05-20 Tweede Pinksterdag, 12-25 Eerste Kerstdag, 12-26 Tweede Kerstdag"},
		{2027, HolidayOptions{}, "01-01 Nieuwjaarsdag, 03-28 Eerste Paasdag, 03-29 Tweede Paasdag, 04-27 Koningsdag, " +
			"05-06 Hemelvaartsdag, 05-16 Eerste Pinksterdag, 05-17 Tweede Pinksterdag, 12-25 Eerste Kerstdag, 12-26 Tweede Kerstdag"},
		// Hemelvaartsdag and Bevrijdingsdag fall on the same day.
		{2016, HolidayOptions{LiberationDay: true}, "01-01 Nieuwjaarsdag, 03-27 Eerste Paasdag, 03-28 Tweede Paasdag, 04-27 Koningsdag, " +
			"05-05 Hemelvaartsdag, 05-05 Bevrijdingsdag, 05-15 Eerste Pinksterdag, 05-16 Tweede Pinksterdag, 12-25 Eerste Kerstdag, 12-26 Tweede Kerstdag"},
		// Before 2014: Koninginnedag on 30 April (29 when Sunday, as in 2006).
		{2006, HolidayOptions{}, "01-01 Nieuwjaarsdag, 04-16 Eerste Paasdag, 04-17 Tweede Paasdag, 04-29 Koninginnedag, " +
			"05-25 Hemelvaartsdag, 06-04 Eerste Pinksterdag, 06-05 Tweede Pinksterdag, 12-25 Eerste Kerstdag, 12-26 Tweede Kerstdag"},
	}
	for _, tt := range tests {
		var got []string
		for _, h := range Holidays(tt.year, tt.o) {
			if h.Date.Year() != tt.year || h.Date.Hour() != 0 || h.Date.Location().String() != Zone {
				t.Errorf("%d: %s has date %v, want midnight in %s", tt.year, h.Name, h.Date, Zone)
			}
			got = append(got, h.Date.Format("01-02")+" "+h.Name)
		}
		if g := strings.Join(got, ", "); g != tt.want {
			t.Errorf("Holidays(%d, %+v) =\n%s\nwant\n%s", tt.year, tt.o, g, tt.want)
		}
	}
}

func TestIsHoliday(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   time.Time
		o    HolidayOptions
		want string // "" for no holiday
	}{
		{"Koningsdag 2025", ams(t, 2025, time.April, 26, 12, 0), HolidayOptions{}, "Koningsdag"},
		{"27 April 2025 is not", ams(t, 2025, time.April, 27, 12, 0), HolidayOptions{}, ""},
		{"Goede Vrijdag off by default", ams(t, 2026, time.April, 3, 12, 0), HolidayOptions{}, ""},
		{"Goede Vrijdag enabled", ams(t, 2026, time.April, 3, 12, 0), HolidayOptions{GoodFriday: true}, "Goede Vrijdag"},
		{"Bevrijdingsdag enabled", ams(t, 2026, time.May, 5, 12, 0), HolidayOptions{LiberationDay: true}, "Bevrijdingsdag"},
		{"UTC evening is Amsterdam New Year", time.Date(2025, time.December, 31, 23, 30, 0, 0, time.UTC), HolidayOptions{}, "Nieuwjaarsdag"},
		{"Christmas Eve", ams(t, 2026, time.December, 24, 12, 0), HolidayOptions{}, ""},
	}
	for _, tt := range tests {
		h, ok := IsHoliday(tt.in, tt.o)
		if ok != (tt.want != "") || h.Name != tt.want {
			t.Errorf("%s: IsHoliday = %q, %v; want %q", tt.name, h.Name, ok, tt.want)
		}
	}
}

func TestAt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		d          time.Time
		daysBefore int
		hh, mm     int
		want       time.Time
	}{
		{"day before across spring DST", ams(t, 2026, time.March, 30, 0, 0), 1, 9, 0, ams(t, 2026, time.March, 29, 9, 0)},
		{"two days before across autumn DST", ams(t, 2026, time.October, 26, 14, 0), 2, 18, 30, ams(t, 2026, time.October, 24, 18, 30)},
		{"same day", ams(t, 2026, time.November, 24, 10, 0), 0, 8, 0, ams(t, 2026, time.November, 24, 8, 0)},
		{"crosses month and year", ams(t, 2027, time.January, 1, 0, 0), 3, 9, 0, ams(t, 2026, time.December, 29, 9, 0)},
		{"UTC input uses Amsterdam date", time.Date(2026, time.July, 1, 23, 0, 0, 0, time.UTC), 1, 9, 0, ams(t, 2026, time.July, 1, 9, 0)},
	}
	for _, tt := range tests {
		got := At(tt.d, tt.daysBefore, tt.hh, tt.mm)
		if !got.Equal(tt.want) {
			t.Errorf("%s: At = %v, want %v", tt.name, got, tt.want)
		}
		if h, m, _ := got.In(amsterdam()).Clock(); h != tt.hh || m != tt.mm {
			t.Errorf("%s: local clock %02d:%02d, want %02d:%02d", tt.name, h, m, tt.hh, tt.mm)
		}
	}
}
