package console

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/seintje/seintje/bot/console/form"
	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/outreach"
)

// SendForm is the fixed part of "send a nudge"; the flow's own variables
// come as var.<name> fields (decodeVars).
type SendForm struct {
	Flow  string `form:"flow,required"`
	Phone string `form:"phone,required,max=40"`
	Name  string `form:"name,required,max=100"`
	Ref   string `form:"ref,required,max=64"`
	Lang  string `form:"lang"`
}

// VarField is one input generated from a flow variable.
type VarField struct {
	flow.Variable
	Input string // text, date, datetime-local
	Value string
}

// SendData is the send screen.
type SendData struct {
	Flows   []FlowChoice
	Flow    *FlowChoice
	Form    SendForm
	Vars    []VarField
	Langs   []LangChoice
	Errors  form.Errors
	Preview *outreach.Preview
	PrevDir string
}

// FlowChoice is a flow to choose.
type FlowChoice struct{ ID, Description string }

// LangChoice is a language to choose, named in itself.
type LangChoice struct{ Code, Name string }

var sendLangs = []LangChoice{{"nl", "Nederlands"}, {"en", "English"}, {"tr", "Türkçe"}, {"pl", "Polski"}, {"uk", "Українська"},
	{"ar", "العربية"}, {"fr", "Français"}, {"de", "Deutsch"}, {"es", "Español"}, {"pt", "Português"}, {"so", "Soomaali"},
	{"ti", "ትግርኛ"}, {"fa", "فارسی"}, {"ro", "Română"}, {"bg", "Български"}, {"ru", "Русский"}, {"zh", "中文"}, {"pap", "Papiamentu"}}

// sendShow shows the form for a nudge: choose a flow, fill in the person
// and the flow's variables; a live preview shows the first message.
func (c *Console) sendShow(w http.ResponseWriter, r *http.Request, s *Session) {
	f := SendForm{Flow: r.URL.Query().Get("flow"), Lang: "nl"}
	c.renderSend(w, r, http.StatusOK, c.sendData(r, f, nil, nil))
}

func (c *Console) renderSend(w http.ResponseWriter, r *http.Request, status int, d SendData) {
	p := c.page(r, "send.title", d)
	p.Active = "/console/send"
	c.html(w, r, status, "send", p)
}

// sendData builds the screen for form f (values of the flow's variables
// from the request).
func (c *Console) sendData(r *http.Request, f SendForm, errs form.Errors, pv *outreach.Preview) SendData {
	d := SendData{Form: f, Langs: sendLangs, Errors: errs, Preview: pv}
	for _, in := range c.d.Registry.List() {
		d.Flows = append(d.Flows, FlowChoice{ID: in.ID, Description: in.Description})
	}
	slices.SortFunc(d.Flows, func(a, b FlowChoice) int { return strings.Compare(a.ID, b.ID) })
	if fl, ok := c.d.Registry.Current(f.Flow); ok {
		d.Flow = &FlowChoice{ID: fl.ID, Description: fl.Description}
		for _, v := range fl.Variables {
			if v.Name == outreach.TelegramLinkVar {
				continue // Seintje fills it in
			}
			vf := VarField{Variable: v, Input: "text", Value: r.FormValue("var." + v.Name)}
			switch v.Type {
			case flow.TypeDate:
				vf.Input = "date"
			case flow.TypeDatetime:
				vf.Input = "datetime-local"
			}
			d.Vars = append(d.Vars, vf)
		}
	}
	if pv != nil {
		d.PrevDir = textDir(pv.Lang)
	}
	return d
}

// decodeSend reads the form and the flow's variables into a trigger
// request; field errors use the API's codes.
func (c *Console) decodeSend(r *http.Request, s *Session) (SendForm, outreach.TriggerRequest, form.Errors) {
	var f SendForm
	errs := form.Decode(r, &f)
	req := outreach.TriggerRequest{Flow: f.Flow, Ref: f.Ref, Phone: f.Phone, Name: f.Name, Lang: f.Lang,
		Caseworker: s.Name, TriggeredBy: s.Actor, Vars: map[string]any{}}
	fl, ok := c.d.Registry.Current(f.Flow)
	if !ok {
		if f.Flow != "" {
			errs.Add("flow", "unknown_flow", "")
		}
		return f, req, errs
	}
	for _, v := range fl.Variables {
		raw := strings.TrimSpace(r.FormValue("var." + v.Name))
		if raw == "" || v.Name == outreach.TelegramLinkVar {
			continue // a missing required variable is the service's to report
		}
		if v.Type == flow.TypeDatetime {
			t, err := form.ParseTime(raw, "datetime")
			if err != nil {
				errs.Add("var."+v.Name, "invalid_var", "")
				continue
			}
			raw = t.Format(time.RFC3339)
		}
		req.Vars[v.Name] = raw
	}
	return f, req, errs
}

// fieldOf maps a service field ("recipient.phone", "vars.due_date") to the
// form's ("phone", "var.due_date").
func fieldOf(service string) string {
	switch service {
	case "recipient.phone":
		return "phone"
	case "recipient.name":
		return "name"
	case "recipient.ref":
		return "ref"
	case "recipient.language":
		return "lang"
	}
	if v, ok := strings.CutPrefix(service, "vars."); ok {
		return "var." + v
	}
	return service
}

// serviceErrors turns a trigger error into field errors (false when it is
// not about a field).
func serviceErrors(err error, errs form.Errors) bool {
	var fe *outreach.FieldError
	if errors.As(err, &fe) {
		errs.Add(fieldOf(fe.Field), fe.Code, fe.Message)
		return true
	}
	if errors.Is(err, outreach.ErrOptedOut) {
		errs.Add("phone", "recipient_opted_out", "")
		return true
	}
	return false
}
