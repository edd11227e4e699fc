package calendar

import (
	"slices"
	"time"
)

// HolidayOptions enables the public holidays that are optional for many
// employers.
type HolidayOptions struct {
	GoodFriday    bool // Goede Vrijdag (Easter − 2)
	LiberationDay bool // Bevrijdingsdag (5 May)
}

// Holiday is a Dutch public holiday.
type Holiday struct {
	// Date is the civil date at 00:00 in Europe/Amsterdam.
	Date time.Time
	// Name is the Dutch name, e.g. "Eerste Paasdag".
	Name string
}

// easter returns the month and day of Easter Sunday (Gregorian calendar)
// using the Anonymous Gregorian algorithm (Meeus/Jones/Butcher).
func easter(year int) (time.Month, int) {
	a := year % 19
	b := year / 100
	c := year % 100
	d := b / 4
	e := b % 4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i := c / 4
	k := c % 4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return time.Month(month), day
}

// holidayDates returns the holidays of year as civil dates in loc, unsorted.
func holidayDates(year int, o HolidayOptions, loc *time.Location) []Holiday {
	date := func(m time.Month, d int) time.Time { return time.Date(year, m, d, 0, 0, 0, 0, loc) }
	em, ed := easter(year)
	fromEaster := func(n int) time.Time { return date(em, ed+n) }

	// Koningsdag (since 2014) is 27 April, or 26 April when that is a
	// Sunday. Before 2014 it was Koninginnedag, 30 April (29 April when
	// that is a Sunday).
	kingsName, kingsDay := "Koningsdag", 27
	if year < 2014 {
		kingsName, kingsDay = "Koninginnedag", 30
	}
	kings := date(time.April, kingsDay)
	if kings.Weekday() == time.Sunday {
		kings = date(time.April, kingsDay-1)
	}

	hs := []Holiday{
		{date(time.January, 1), "Nieuwjaarsdag"},
		{fromEaster(0), "Eerste Paasdag"},
		{fromEaster(1), "Tweede Paasdag"},
		{kings, kingsName},
		{fromEaster(39), "Hemelvaartsdag"},
		{fromEaster(49), "Eerste Pinksterdag"},
		{fromEaster(50), "Tweede Pinksterdag"},
		{date(time.December, 25), "Eerste Kerstdag"},
		{date(time.December, 26), "Tweede Kerstdag"},
	}
	if o.GoodFriday {
		hs = append(hs, Holiday{fromEaster(-2), "Goede Vrijdag"})
	}
	if o.LiberationDay {
		hs = append(hs, Holiday{date(time.May, 5), "Bevrijdingsdag"})
	}
	return hs
}

// Holidays returns the Dutch public holidays of year, sorted by date. Two
// holidays can share a date (Hemelvaartsdag and Bevrijdingsdag in 2016).
func Holidays(year int, o HolidayOptions) []Holiday {
	hs := holidayDates(year, o, amsterdam())
	slices.SortStableFunc(hs, func(a, b Holiday) int { return a.Date.Compare(b.Date) })
	return hs
}

// IsHoliday reports whether the Amsterdam date of t is a public holiday.
func IsHoliday(t time.Time, o HolidayOptions) (Holiday, bool) {
	return isHoliday(t, o, amsterdam())
}

func isHoliday(t time.Time, o HolidayOptions, loc *time.Location) (Holiday, bool) {
	y, m, d := t.In(loc).Date()
	for _, h := range holidayDates(y, o, loc) {
		if hy, hm, hd := h.Date.Date(); hy == y && hm == m && hd == d {
			return h, true
		}
	}
	return Holiday{}, false
}
