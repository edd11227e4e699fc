package batch

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/lang"
	"github.com/seintje/seintje/bot/outreach"
	"github.com/seintje/seintje/bot/phone"
	"github.com/seintje/seintje/bot/store"
)

// Stable codes of a rejected row.
const (
	CodeInvalidPhone = "invalid_phone"
	CodeNotMobile    = "not_mobile"
	CodeMissingVar   = "missing_var"
	CodeInvalidVar   = "invalid_var"
	CodeOptedOut     = "opted_out"
	CodeDuplicateRow = "duplicate_row"
	CodeAlreadySent  = "already_sent"
	CodeMissingField = "missing_field"
	CodeInvalidField = "invalid_field"
)

// Rejection is one problem in one row.
type Rejection struct {
	Row     int    `json:"row"`
	Ref     string `json:"ref,omitempty"`
	Field   string `json:"field"` // the column as the file names it; for JSON the item's field path
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Row is a valid person, ready to be sent.
type Row struct {
	Row        int    `json:"r"`
	Ref        string `json:"f"`
	Phone      string `json:"p"` // E.164
	Name       string `json:"n"`
	Lang       string `json:"l"`
	Caseworker string `json:"c"`
	Vars       Vars   `json:"v,omitempty"`
	Idem       string `json:"i,omitempty"`
	tag, event string
}

// Namer gives a field's name as the input spells it ("telefoon" in a
// CSV, "recipient.phone" in JSON).
type Namer func(field string) string

// JSONNames names fields like POST /v1/nudges does.
func JSONNames(field string) string {
	switch field {
	case ColRef, ColPhone, ColName, ColLanguage:
		return "recipient." + field
	case ColCaseworker:
		return "caseworker.name"
	}
	return "vars." + strings.TrimPrefix(field, "var:")
}

// CheckResult is the outcome of checking every row.
type CheckResult struct {
	Valid    []*Row // the rows as checked, not copied
	Rejected []Rejection
}

// Check checks every item against the flow and the people's state (opt-out,
// events already sent) without storing anything. defaultCaseworker signs
// rows without a caseworker.
func Check(ctx context.Context, svc *outreach.Service, st *store.Store, f *flow.Flow, items []Item, name Namer, defaultCaseworker string) (*CheckResult, error) {
	type res struct {
		row  *Row
		errs []Rejection
	}
	out := make([]res, len(items))
	workers := max(1, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(items); i += workers {
				r, errs := checkItem(svc, f, items[i], name, defaultCaseworker)
				out[i] = res{r, errs}
			}
		})
	}
	wg.Wait()

	c := &CheckResult{}
	byTag := map[string]int{}
	byRef := map[string]int{}
	var probes []store.Probe
	var idx []int
	for i, r := range out {
		if len(r.errs) > 0 {
			c.Rejected = append(c.Rejected, r.errs...)
			continue
		}
		row := r.row
		if first, dup := byTag[row.tag]; dup {
			c.Rejected = append(c.Rejected, Rejection{Row: row.Row, Ref: row.Ref, Field: name(ColPhone), Code: CodeDuplicateRow,
				Message: fmt.Sprintf("the same phone number as row %d; a person gets one message per batch", first)})
			continue
		}
		if first, dup := byRef[row.Ref]; dup {
			c.Rejected = append(c.Rejected, Rejection{Row: row.Row, Ref: row.Ref, Field: name(ColRef), Code: CodeDuplicateRow,
				Message: fmt.Sprintf("the same case reference as row %d, with another phone number; check which number is right", first)})
			continue
		}
		byTag[row.tag], byRef[row.Ref] = row.Row, row.Row
		probes = append(probes, store.Probe{Tag: row.tag, Channel: "sms", Event: row.event})
		idx = append(idx, i)
	}
	found, err := st.ProbeAll(ctx, probes)
	if err != nil {
		return nil, err
	}
	for k, p := range found {
		row := out[idx[k]].row
		switch {
		case p.OptedOut:
			c.Rejected = append(c.Rejected, Rejection{Row: row.Row, Ref: row.Ref, Field: name(ColPhone), Code: CodeOptedOut,
				Message: "this person asked not to get our text messages (STOP); nothing will be sent"})
		case p.Existing != "":
			c.Rejected = append(c.Rejected, Rejection{Row: row.Row, Ref: row.Ref, Field: name(ColPhone), Code: CodeAlreadySent,
				Message: "this person already got this message for the same event (nudge " + p.Existing + "); it is not sent twice"})
		default:
			c.Valid = append(c.Valid, row)
		}
	}
	sortRejections(c.Rejected)
	return c, nil
}

func checkItem(svc *outreach.Service, f *flow.Flow, it Item, name Namer, defaultCaseworker string) (*Row, []Rejection) {
	var errs []Rejection
	add := func(field, code, msg string) {
		errs = append(errs, Rejection{Row: it.Row, Ref: it.Ref, Field: name(field), Code: code, Message: msg})
	}
	cw := it.Caseworker
	if cw == "" {
		cw = defaultCaseworker
	}
	switch {
	case it.Ref == "":
		add(ColRef, CodeMissingField, "the case reference is empty")
	case len(it.Ref) > 64:
		add(ColRef, CodeInvalidField, "the case reference is longer than 64 characters")
	}
	switch {
	case it.Name == "":
		add(ColName, CodeMissingField, "the name is empty; the first name is used in the message")
	case len(it.Name) > 100:
		add(ColName, CodeInvalidField, "the name is longer than 100 characters")
	}
	switch {
	case cw == "":
		add(ColCaseworker, CodeMissingField, "no case worker: messages are signed with a name; fill in the column or give one for the whole batch")
	case len(cw) > 100:
		add(ColCaseworker, CodeInvalidField, "the case worker's name is longer than 100 characters")
	}
	language := lang.Canon(it.Language)
	if language != "" && !lang.Valid(language) {
		add(ColLanguage, CodeInvalidField, "the language must be a code such as nl, en, tr, pl, uk or ar")
	}
	vars := it.vars()
	for _, v := range f.Variables {
		if v.Name == outreach.TelegramLinkVar {
			continue
		}
		if raw, ok := vars[v.Name]; v.Required && (!ok || raw == nil || raw == "") {
			add("var:"+v.Name, CodeMissingVar, fmt.Sprintf("%s is empty; the flow needs it", v.Name))
		}
	}
	ph := fixPhone(it.Phone)
	if ph == "" {
		add(ColPhone, CodeInvalidPhone, "the phone number is empty")
	} else if _, err := phone.Normalize(ph); err != nil {
		code := CodeInvalidPhone
		if errors.Is(err, phone.ErrNotMobile) {
			code = CodeNotMobile
		}
		add(ColPhone, code, err.Error())
	}
	if len(errs) > 0 {
		return nil, errs
	}
	v, err := svc.Validate(outreach.TriggerRequest{Flow: f.ID, Ref: it.Ref, Phone: ph, Name: it.Name, Lang: language,
		Vars: vars, Caseworker: cw, IdempotencyKey: it.IdempotencyKey})
	var fe *outreach.FieldError
	if errors.As(err, &fe) {
		field := strings.TrimPrefix(fe.Field, "vars.")
		if field != fe.Field {
			field = "var:" + field
		}
		add(field, fe.Code, strings.TrimPrefix(fe.Message, "vars."))
		return nil, errs
	}
	if err != nil {
		add(ColPhone, CodeInvalidField, err.Error())
		return nil, errs
	}
	return &Row{Row: it.Row, Ref: it.Ref, Phone: v.E164, Name: it.Name, Lang: v.Lang, Caseworker: cw, Vars: varsOf(v.Vars),
		Idem: it.IdempotencyKey, tag: v.Tag, event: v.Event}, nil
}

// fixPhone repairs what spreadsheets do to Dutch mobile numbers: a number
// cell drops the leading 0 (612345678) or the + (31612345678).
func fixPhone(s string) string {
	s = strings.TrimSpace(s)
	digits := strings.Trim(s, "0123456789") == ""
	switch {
	case digits && len(s) == 9 && s[0] == '6':
		return "0" + s
	case digits && len(s) == 11 && strings.HasPrefix(s, "316"):
		return "+" + s
	}
	return s
}

func sortRejections(r []Rejection) {
	// Stable by row: rows were checked in order, duplicates and probes after.
	slices.SortStableFunc(r, func(a, b Rejection) int { return a.Row - b.Row })
}
