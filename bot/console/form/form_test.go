package form_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	_ "time/tzdata"

	"github.com/seintje/seintje/bot/console/form"
)

type noteForm struct {
	Outcome string    `form:"outcome,required"`
	Note    string    `form:"note,max=10"`
	At      time.Time `form:"at,datetime"`
	Day     time.Time `form:"day,date"`
	Count   int       `form:"count"`
	Urgent  bool      `form:"urgent"`
	Tags    []string  `form:"tag"`
}

func (f *noteForm) Validate(errs form.Errors) {
	if f.Outcome != "" && f.Outcome != "reached" && f.Outcome != "no_answer" {
		errs.Add("outcome", "invalid_field", "")
	}
}

func post(values url.Values) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(values.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

func TestDecode(t *testing.T) {
	ams, _ := time.LoadLocation("Europe/Amsterdam")
	tests := []struct {
		name   string
		values url.Values
		errs   map[string]string // field -> code
		check  func(t *testing.T, f noteForm)
	}{
		{name: "all fields", values: url.Values{"outcome": {" reached "}, "note": {"ok"}, "at": {"2026-12-03T10:30"},
			"day": {"2026-12-24"}, "count": {"3"}, "urgent": {"on"}, "tag": {"a", "b"}},
			check: func(t *testing.T, f noteForm) {
				if f.Outcome != "reached" || f.Note != "ok" || f.Count != 3 || !f.Urgent || len(f.Tags) != 2 {
					t.Errorf("decoded %+v", f)
				}
				if !f.At.Equal(time.Date(2026, 12, 3, 10, 30, 0, 0, ams)) || !f.Day.Equal(time.Date(2026, 12, 24, 0, 0, 0, 0, ams)) {
					t.Errorf("times %v %v, want Amsterdam time", f.At, f.Day)
				}
			}},
		{name: "required missing", values: url.Values{}, errs: map[string]string{"outcome": "required"}},
		{name: "too long counts letters", values: url.Values{"outcome": {"reached"}, "note": {"ééééééééééé"}}, errs: map[string]string{"note": "too_long"}},
		{name: "ten letters is fine", values: url.Values{"outcome": {"reached"}, "note": {"éééééééééé"}}},
		{name: "bad number and dates", values: url.Values{"outcome": {"reached"}, "count": {"drie"}, "at": {"morgen"}, "day": {"24-12-2026"}},
			errs: map[string]string{"count": "invalid_number", "at": "invalid_date", "day": "invalid_date"}},
		{name: "validate across fields", values: url.Values{"outcome": {"maybe"}}, errs: map[string]string{"outcome": "invalid_field"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f noteForm
			errs := form.Decode(post(tt.values), &f)
			if len(errs) != len(tt.errs) {
				t.Errorf("errors %v, want %v", errs, tt.errs)
			}
			for field, code := range tt.errs {
				if errs[field].Code != code {
					t.Errorf("%s: %q, want %q", field, errs[field].Code, code)
				}
			}
			if tt.check != nil {
				tt.check(t, f)
			}
		})
	}
}
