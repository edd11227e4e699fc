// Package form turns a console request into a typed, validated struct
// with an error per field, so handlers never parse forms themselves.
//
// Fields are described with struct tags:
//
//	type ClaimForm struct {
//		Note    string    `form:"note,max=2000"`
//		Outcome string    `form:"outcome,required"`
//		At      time.Time `form:"at,datetime"` // <input type="datetime-local">
//	}
//
// Decode fills the struct and collects field errors with stable codes
// (required, too_long, invalid_number, invalid_date, ...) — the same
// codes the JSON API uses where one exists — then calls the struct's
// Validate method, when it has one, for rules across fields.
package form

import (
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// FieldError is what is wrong with one field: a stable code and, when the
// code alone does not say it, a message for people (the console shows
// the translated code first).
type FieldError struct {
	Code    string
	Message string
}

// Errors are the field errors of one form, by field name.
type Errors map[string]FieldError

// Add records the first error of field.
func (e Errors) Add(field, code, message string) {
	if _, ok := e[field]; !ok {
		e[field] = FieldError{Code: code, Message: message}
	}
}

// Any reports whether there is an error.
func (e Errors) Any() bool { return len(e) > 0 }

// Has reports whether field has an error.
func (e Errors) Has(field string) bool { _, ok := e[field]; return ok }

// Validator is a form with rules across fields.
type Validator interface{ Validate(Errors) }

// Field codes.
const (
	CodeRequired = "required"
	CodeTooLong  = "too_long"
	CodeNumber   = "invalid_number"
	CodeDate     = "invalid_date"
	CodeInvalid  = "invalid_field"
)

// Amsterdam is where dates and times typed into the console are meant.
var amsterdam = mustLoad("Europe/Amsterdam")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Decode fills dst (a pointer to a struct) from the request's form and
// returns the field errors (empty when all is well).
func Decode(r *http.Request, dst any) Errors {
	errs := Errors{}
	if err := r.ParseForm(); err != nil {
		errs.Add("", CodeInvalid, "the form could not be read")
		return errs
	}
	v := reflect.ValueOf(dst).Elem()
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("form")
		if tag == "" || tag == "-" {
			continue
		}
		opts := strings.Split(tag, ",")
		name := opts[0]
		raw := strings.TrimSpace(r.Form.Get(name))
		required, kind, maxLen := false, "", 0
		for _, o := range opts[1:] {
			switch {
			case o == "required":
				required = true
			case o == "date" || o == "datetime":
				kind = o
			case strings.HasPrefix(o, "max="):
				maxLen, _ = strconv.Atoi(strings.TrimPrefix(o, "max="))
			}
		}
		fv := v.Field(i)
		if fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.String {
			vals := r.Form[name]
			if required && len(vals) == 0 {
				errs.Add(name, CodeRequired, "")
			}
			fv.Set(reflect.ValueOf(append([]string(nil), vals...)))
			continue
		}
		if fv.Kind() == reflect.Bool {
			fv.SetBool(raw == "on" || raw == "true" || raw == "1")
			continue
		}
		if fv.Kind() == reflect.String {
			fv.SetString(raw)
		}
		if raw == "" {
			if required {
				errs.Add(name, CodeRequired, "")
			}
			continue
		}
		if maxLen > 0 && len([]rune(raw)) > maxLen {
			errs.Add(name, CodeTooLong, strconv.Itoa(maxLen))
			continue
		}
		switch fv.Interface().(type) {
		case string:
		case int:
			n, err := strconv.Atoi(raw)
			if err != nil {
				errs.Add(name, CodeNumber, "")
				continue
			}
			fv.SetInt(int64(n))
		case time.Time:
			tm, err := ParseTime(raw, kind)
			if err != nil {
				errs.Add(name, CodeDate, "")
				continue
			}
			fv.Set(reflect.ValueOf(tm))
		}
	}
	if val, ok := dst.(Validator); ok {
		val.Validate(errs)
	}
	return errs
}

// ParseTime reads what a date or datetime-local input sends (in
// Europe/Amsterdam), or an RFC 3339 time.
func ParseTime(raw, kind string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, raw); err == nil {
		return t, nil
	}
	if kind == "date" {
		return time.ParseInLocation(time.DateOnly, raw, amsterdam)
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04", raw, amsterdam); err == nil {
		return t, nil
	}
	return time.ParseInLocation("2006-01-02T15:04:05", raw, amsterdam)
}
