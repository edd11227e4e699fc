package calendar

import (
	"strings"
	"testing"
	"time"
)

func TestParseWindow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec    string
		want    string // String() of the result
		wantErr string // substring of the error
	}{
		{spec: "mon-sat 09:00-20:00", want: "mon-sat 09:00-20:00"},
		{spec: "  MON-FRI   08:30-17:00 ", want: "mon-fri 08:30-17:00"},
		{spec: "mon,wed,fri 10:00-16:00", want: "mon,wed,fri 10:00-16:00"},
		{spec: "fri-mon 9:00-24:00", want: "mon,fri-sun 09:00-24:00"},
		{spec: "monday,tuesday 10:00-11:00", want: "mon,tue 10:00-11:00"},
		{spec: "off", want: "off"},
		{spec: "", wantErr: "want days and a time range"},
		{spec: "mon-sat", wantErr: "want days and a time range"},
		{spec: "maa-vr 09:00-17:00", wantErr: `unknown day "maa"`},
		{spec: "mon-xyz 09:00-17:00", wantErr: `unknown day "xyz"`},
		{spec: "mon-fri 09:00", wantErr: "must look like 09:00-20:00"},
		{spec: "mon-fri 9-17", wantErr: `start time: "9" is not a clock time`},
		{spec: "mon-fri 09:00-25:00", wantErr: "end time"},
		{spec: "mon-fri 09:60-17:00", wantErr: "start time"},
		{spec: "mon-fri 20:00-09:00", wantErr: "must be before end"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			t.Parallel()
			w, err := ParseWindow(tt.spec, HolidayOptions{})
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseWindow(%q) = %v, want error containing %q", tt.spec, w, tt.wantErr)
				}
				if msg := err.Error(); !strings.Contains(msg, tt.wantErr) || !strings.Contains(msg, DefaultSpec) {
					t.Errorf("error %q lacks %q or a valid example", msg, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseWindow(%q): %v", tt.spec, err)
			}
			if got := w.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			// String round-trips.
			if w2, err := ParseWindow(w.String(), HolidayOptions{}); err != nil || w2 != w {
				t.Errorf("round trip of %q: %v, %v", w.String(), w2, err)
			}
		})
	}
}

func TestDefaultWindow(t *testing.T) {
	t.Parallel()
	if got := DefaultWindow().String(); got != DefaultSpec {
		t.Errorf("DefaultWindow() = %q, want %q", got, DefaultSpec)
	}
	if got := (Window{}).String(); got != DefaultSpec {
		t.Errorf("zero Window = %q, want %q", got, DefaultSpec)
	}
}

func TestAllowed(t *testing.T) {
	t.Parallel()
	def := DefaultWindow()
	off, _ := ParseWindow("off", HolidayOptions{})
	libDay, _ := ParseWindow(DefaultSpec, HolidayOptions{LiberationDay: true})
	tests := []struct {
		name string
		w    Window
		in   time.Time
		want bool
	}{
		{"weekday morning", def, ams(t, 2026, time.November, 24, 9, 0), true},
		{"before start", def, ams(t, 2026, time.November, 24, 8, 59), false},
		{"last minute", def, ams(t, 2026, time.November, 24, 19, 59), true},
		{"end is exclusive", def, ams(t, 2026, time.November, 24, 20, 0), false},
		{"Saturday", def, ams(t, 2026, time.November, 28, 12, 0), true},
		{"Sunday closed", def, ams(t, 2026, time.November, 29, 12, 0), false},
		{"Christmas closed", def, ams(t, 2026, time.December, 25, 12, 0), false},
		{"UTC converted", def, time.Date(2026, time.November, 24, 19, 30, 0, 0, time.UTC), false}, // 20:30 CET
		{"5 May open by default", def, ams(t, 2026, time.May, 5, 12, 0), true},
		{"5 May closed when enabled", libDay, ams(t, 2026, time.May, 5, 12, 0), false},
		{"off allows Sunday night", off, ams(t, 2026, time.December, 25, 3, 0), true},
		{"zero Window is default", Window{}, ams(t, 2026, time.November, 29, 12, 0), false},
	}
	for _, tt := range tests {
		if got := tt.w.Allowed(tt.in); got != tt.want {
			t.Errorf("%s: Allowed(%v) = %v, want %v", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestNextAllowed(t *testing.T) {
	t.Parallel()
	def := DefaultWindow()
	weekdays, _ := ParseWindow("mon-fri 08:30-17:00", HolidayOptions{})
	off, _ := ParseWindow("off", HolidayOptions{})
	tests := []struct {
		name string
		w    Window
		in   time.Time
		want time.Time
	}{
		{"allowed returns t", def, ams(t, 2026, time.November, 24, 10, 0), ams(t, 2026, time.November, 24, 10, 0)},
		{"early morning same day", def, ams(t, 2026, time.November, 24, 6, 0), ams(t, 2026, time.November, 24, 9, 0)},
		{"evening to next day", def, ams(t, 2026, time.November, 24, 21, 0), ams(t, 2026, time.November, 25, 9, 0)},
		{"Saturday 21:00 skips Sunday", def, ams(t, 2026, time.November, 28, 21, 0), ams(t, 2026, time.November, 30, 9, 0)},
		{"Christmas skipped", def, ams(t, 2026, time.December, 24, 21, 0), ams(t, 2026, time.December, 28, 9, 0)},
		{"Koningsdag 2026 skipped", def, ams(t, 2026, time.April, 26, 21, 0), ams(t, 2026, time.April, 28, 9, 0)},
		{"Koningsdag 2025 on Saturday", def, ams(t, 2025, time.April, 25, 20, 0), ams(t, 2025, time.April, 28, 9, 0)},
		// Spring forward: Sunday 29 March 2026 has 23 hours.
		{"across spring DST", def, ams(t, 2026, time.March, 28, 22, 0), ams(t, 2026, time.March, 30, 9, 0)},
		// Fall back: Sunday 25 October 2026 has 25 hours.
		{"across autumn DST", def, ams(t, 2026, time.October, 24, 22, 0), ams(t, 2026, time.October, 26, 9, 0)},
		{"weekday window from Friday evening", weekdays, ams(t, 2026, time.October, 23, 17, 0), ams(t, 2026, time.October, 26, 8, 30)},
		{"New Year", def, ams(t, 2025, time.December, 31, 20, 0), ams(t, 2026, time.January, 2, 9, 0)},
		{"off returns t", off, ams(t, 2026, time.December, 25, 3, 0), ams(t, 2026, time.December, 25, 3, 0)},
	}
	for _, tt := range tests {
		got := tt.w.NextAllowed(tt.in)
		if !got.Equal(tt.want) {
			t.Errorf("%s: NextAllowed(%v) = %v, want %v", tt.name, tt.in, got, tt.want)
		}
		if !tt.w.Allowed(got) {
			t.Errorf("%s: NextAllowed result %v is not allowed", tt.name, got)
		}
	}
}

func TestAddWorkingDays(t *testing.T) {
	t.Parallel()
	def := DefaultWindow()
	goodFriday, _ := ParseWindow(DefaultSpec, HolidayOptions{GoodFriday: true})
	tests := []struct {
		name string
		w    Window
		in   time.Time
		n    int
		want time.Time
	}{
		{"zero", def, ams(t, 2026, time.November, 24, 10, 0), 0, ams(t, 2026, time.November, 24, 10, 0)},
		{"Tuesday plus two", def, ams(t, 2026, time.November, 24, 10, 0), 2, ams(t, 2026, time.November, 26, 10, 0)},
		{"Friday plus two skips weekend", def, ams(t, 2026, time.November, 27, 10, 0), 2, ams(t, 2026, time.December, 1, 10, 0)},
		{"Saturday plus one", def, ams(t, 2026, time.November, 28, 10, 0), 1, ams(t, 2026, time.November, 30, 10, 0)},
		{"over Christmas", def, ams(t, 2026, time.December, 24, 15, 0), 1, ams(t, 2026, time.December, 28, 15, 0)},
		{"over Easter Monday across DST", def, ams(t, 2026, time.March, 27, 11, 15), 6, ams(t, 2026, time.April, 7, 11, 15)},
		{"Good Friday when enabled", goodFriday, ams(t, 2026, time.April, 2, 9, 0), 1, ams(t, 2026, time.April, 7, 9, 0)},
		{"Good Friday by default", def, ams(t, 2026, time.April, 2, 9, 0), 1, ams(t, 2026, time.April, 3, 9, 0)},
		{"across autumn DST", def, ams(t, 2026, time.October, 23, 9, 0), 1, ams(t, 2026, time.October, 26, 9, 0)},
		{"backwards", def, ams(t, 2026, time.December, 28, 9, 0), -2, ams(t, 2026, time.December, 23, 9, 0)},
	}
	for _, tt := range tests {
		got := tt.w.AddWorkingDays(tt.in, tt.n)
		if !got.Equal(tt.want) {
			t.Errorf("%s: AddWorkingDays(%v, %d) = %v, want %v", tt.name, tt.in, tt.n, got, tt.want)
		}
	}
}

func TestNextWorkingAt(t *testing.T) {
	w := DefaultWindow()
	loc, _ := time.LoadLocation(Zone)
	tests := []struct {
		name string
		now  time.Time
		hh   int
		want time.Time
	}{
		{"weekday morning before 9", time.Date(2026, 11, 23, 8, 0, 0, 0, loc), 9, time.Date(2026, 11, 23, 9, 0, 0, 0, loc)},
		{"weekday after 13 → next day", time.Date(2026, 11, 23, 14, 0, 0, 0, loc), 13, time.Date(2026, 11, 24, 13, 0, 0, 0, loc)},
		{"friday evening → monday", time.Date(2026, 11, 27, 18, 0, 0, 0, loc), 9, time.Date(2026, 11, 30, 9, 0, 0, 0, loc)},
		{"christmas eve → 28th", time.Date(2026, 12, 24, 15, 0, 0, 0, loc), 9, time.Date(2026, 12, 28, 9, 0, 0, 0, loc)},
	}
	for _, tt := range tests {
		if got := w.NextWorkingAt(tt.now, tt.hh); !got.Equal(tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
	if w.IsWorkingDay(time.Date(2026, 4, 27, 12, 0, 0, 0, loc)) {
		t.Error("Koningsdag is not a working day")
	}
}
