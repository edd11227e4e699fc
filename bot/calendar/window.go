package calendar

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultSpec is the sending window used when none is configured.
const DefaultSpec = "mon-sat 09:00-20:00"

const windowExample = `valid examples: "mon-sat 09:00-20:00", "mon,wed,fri 10:00-16:00", "off"`

// Window is the period in which nudges may be sent; everything outside it
// (and public holidays) is quiet time. Create one with ParseWindow or
// DefaultWindow; the zero Window behaves like DefaultWindow.
type Window struct {
	days       [7]bool // indexed by time.Weekday
	start, end int     // minutes since local midnight; start inclusive, end exclusive
	holidays   HolidayOptions
	off        bool // no quiet hours at all
	loc        *time.Location
}

// DefaultWindow returns mon-sat 09:00-20:00 without optional holidays.
func DefaultWindow() Window {
	w, err := ParseWindow(DefaultSpec, HolidayOptions{})
	if err != nil {
		panic(err) // Only when tzdata is missing.
	}
	return w
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "sunday": time.Sunday,
	"mon": time.Monday, "monday": time.Monday,
	"tue": time.Tuesday, "tuesday": time.Tuesday,
	"wed": time.Wednesday, "wednesday": time.Wednesday,
	"thu": time.Thursday, "thursday": time.Thursday,
	"fri": time.Friday, "friday": time.Friday,
	"sat": time.Saturday, "saturday": time.Saturday,
}

// ParseWindow parses a sending window such as "mon-sat 09:00-20:00",
// "mon-fri 08:30-17:00", "mon,wed,fri 10:00-16:00" or "off" (always
// allowed). Days are English names or three-letter abbreviations, ranges
// may wrap ("fri-mon"); the end time is exclusive and may be "24:00".
// Public holidays, including the optional ones enabled in o, are closed.
func ParseWindow(spec string, o HolidayOptions) (Window, error) {
	loc, err := loadAmsterdam()
	if err != nil {
		return Window{}, err
	}
	fail := func(format string, args ...any) (Window, error) {
		return Window{}, fmt.Errorf("calendar: invalid sending window %q: %s (%s)", spec, fmt.Sprintf(format, args...), windowExample)
	}
	w := Window{holidays: o, loc: loc}
	fields := strings.Fields(strings.ToLower(spec))
	if len(fields) == 1 && fields[0] == "off" {
		w.off = true
		return w, nil
	}
	if len(fields) != 2 {
		return fail("want days and a time range separated by a space")
	}
	for item := range strings.SplitSeq(fields[0], ",") {
		from, to, isRange := strings.Cut(item, "-")
		a, ok := weekdays[from]
		if !ok {
			return fail("unknown day %q", from)
		}
		b := a
		if isRange {
			if b, ok = weekdays[to]; !ok {
				return fail("unknown day %q", to)
			}
		}
		for d := a; ; d = (d + 1) % 7 {
			w.days[d] = true
			if d == b {
				break
			}
		}
	}
	from, to, ok := strings.Cut(fields[1], "-")
	if !ok {
		return fail("time range %q must look like 09:00-20:00", fields[1])
	}
	if w.start, err = parseClock(from); err != nil {
		return fail("start time: %v", err)
	}
	if w.end, err = parseClock(to); err != nil {
		return fail("end time: %v", err)
	}
	if w.start >= w.end {
		return fail("start %s must be before end %s", from, to)
	}
	return w, nil
}

// parseClock parses "H:MM" or "HH:MM" (00:00 to 24:00) into minutes.
func parseClock(s string) (int, error) {
	hs, ms, ok := strings.Cut(s, ":")
	if !ok || len(hs) < 1 || len(hs) > 2 || len(ms) != 2 {
		return 0, fmt.Errorf("%q is not a clock time like 09:00", s)
	}
	h, errH := strconv.Atoi(hs)
	m, errM := strconv.Atoi(ms)
	if errH != nil || errM != nil || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("%q is not a clock time between 00:00 and 24:00", s)
	}
	return h*60 + m, nil
}

// norm returns the effective window: DefaultWindow for the zero Window.
func (w Window) norm() Window {
	if w.loc == nil {
		return DefaultWindow()
	}
	return w
}

// IsOff reports whether the window has no quiet hours at all.
func (w Window) IsOff() bool { return w.norm().off }

// Allowed reports whether t falls inside the window on an open day that is
// not a public holiday.
func (w Window) Allowed(t time.Time) bool {
	w = w.norm()
	if w.off {
		return true
	}
	lt := t.In(w.loc)
	if !w.days[lt.Weekday()] {
		return false
	}
	if _, hol := isHoliday(lt, w.holidays, w.loc); hol {
		return false
	}
	sec := lt.Hour()*3600 + lt.Minute()*60 + lt.Second()
	return sec >= w.start*60 && sec < w.end*60
}

// NextAllowed returns t itself when it is allowed, otherwise the start of
// the next allowed period, skipping closed days and public holidays.
func (w Window) NextAllowed(t time.Time) time.Time {
	w = w.norm()
	if w.Allowed(t) {
		return t
	}
	lt := t.In(w.loc)
	y, m, d := lt.Date()
	// At least one weekday is open and holidays never span a week, so a
	// fortnight is always enough.
	for i := 0; i <= 14; i++ {
		day := time.Date(y, m, d+i, 0, 0, 0, 0, w.loc)
		if !w.days[day.Weekday()] {
			continue
		}
		if _, hol := isHoliday(day, w.holidays, w.loc); hol {
			continue
		}
		start := time.Date(y, m, d+i, w.start/60, w.start%60, 0, 0, w.loc)
		if start.After(t) {
			return start
		}
	}
	return t // Unreachable for a window made by ParseWindow.
}

// AddWorkingDays returns the instant at the same local clock time n working
// days after t (before t when n is negative). A working day is Monday to
// Friday and not a public holiday (with the window's holiday options); the
// window's sending hours and days do not matter.
func (w Window) AddWorkingDays(t time.Time, n int) time.Time {
	w = w.norm()
	lt := t.In(w.loc)
	y, m, d := lt.Date()
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	offset := 0
	for n > 0 {
		offset += step
		day := time.Date(y, m, d+offset, 0, 0, 0, 0, w.loc)
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		if _, hol := isHoliday(day, w.holidays, w.loc); hol {
			continue
		}
		n--
	}
	if offset == 0 {
		return t
	}
	return time.Date(y, m, d+offset, lt.Hour(), lt.Minute(), lt.Second(), lt.Nanosecond(), w.loc)
}

var dayAbbr = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// String returns the window in ParseWindow syntax, e.g.
// "mon-sat 09:00-20:00" or "off". Runs of three or more days are written
// as a range.
func (w Window) String() string {
	w = w.norm()
	if w.off {
		return "off"
	}
	// Walk Monday..Sunday and collect runs of open days.
	var parts []string
	for i := 0; i < 7; {
		if !w.days[(i+1)%7] {
			i++
			continue
		}
		j := i
		for j+1 < 7 && w.days[(j+2)%7] {
			j++
		}
		first, last := dayAbbr[(i+1)%7], dayAbbr[(j+1)%7]
		switch j - i {
		case 0:
			parts = append(parts, first)
		case 1:
			parts = append(parts, first, last)
		default:
			parts = append(parts, first+"-"+last)
		}
		i = j + 1
	}
	return fmt.Sprintf("%s %02d:%02d-%02d:%02d", strings.Join(parts, ","),
		w.start/60, w.start%60, w.end/60, w.end%60)
}

// IsWorkingDay reports whether t's local date is Monday to Friday and not a
// public holiday (with the window's holiday options).
func (w Window) IsWorkingDay(t time.Time) bool {
	w = w.norm()
	lt := t.In(w.loc)
	if wd := lt.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	_, hol := isHoliday(lt, w.holidays, w.loc)
	return !hol
}

// NextWorkingAt returns the first instant at local clock time hh:00 on a
// working day that is not before t: today when t is a working day before
// hh:00, else the next working day.
func (w Window) NextWorkingAt(t time.Time, hh int) time.Time {
	w = w.norm()
	lt := t.In(w.loc)
	at := time.Date(lt.Year(), lt.Month(), lt.Day(), hh, 0, 0, 0, w.loc)
	if w.IsWorkingDay(lt) && !at.Before(t) {
		return at
	}
	next := w.AddWorkingDays(lt, 1)
	return time.Date(next.Year(), next.Month(), next.Day(), hh, 0, 0, 0, w.loc)
}
