package flow_test

import (
	"strings"
	"testing"
	"time"

	"github.com/seintje/seintje/bot/flow"
)

const waBase = `id: t
version: 1
variables:
  - name: due_date
    type: date
steps:
  - id: ask
    say:
      nl: "Hallo {{.FirstName}}, voor {{date .Vars.due_date}}. Bel {{.CallbackNumber}}."
    whatsapp:
      nl:
        content_sid: HX0123456789abcdef0123456789abcdef
        variables: ["{{.FirstName}}", "{{date .Vars.due_date}}"]
      en:
        content_sid: HXfedcba9876543210fedcba9876543210
        variables: ["{{.FirstName}}"]
    replies:
      - match: ["1"]
        goto: done
    wait:
      timeout: 48h
      then: later
  - id: later
    say:
      nl: "Hallo {{.FirstName}}, nog een keer."
    next: done
  - id: done
    action: end
`

// Templates are checked like texts; a proactive step without one is
// reported (here: the timeout step "later") once the flow uses WhatsApp.
func TestWhatsAppChecks(t *testing.T) {
	tests := []struct {
		name, old, new string
		want           string // "line:col code", "" for none
	}{
		{"valid: gap reported as a warning", "", "", "25:9 whatsapp-no-template"},
		{"bad content sid", "HX0123456789abcdef0123456789abcdef", "HX12", "12:22 bad-content-sid"},
		{"undefined variable", `"{{date .Vars.due_date}}"]`, `"{{date .Vars.due}}"]`, "13:39 undefined-variable"},
		{"unknown field", `["{{.FirstName}}"]`, `["{{.Voornaam}}"]`, "16:21 unknown-field"},
		{"template error", `["{{.FirstName}}"]`, `["{{.FirstName"]`, "16:21 template"},
		{"text in Arabic, no Arabic template", "Bel {{.CallbackNumber}}.\"\n", "Bel {{.CallbackNumber}}.\"\n      ar: \"مرحبا {{.FirstName}}. اتصلوا بالرقم {{.CallbackNumber}}.\"\n", "12:9 whatsapp-template-language"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(waBase, tc.old, tc.new, 1)
			_, ds := flow.Parse("t.yaml", []byte(src))
			var got []string
			for _, d := range ds {
				got = append(got, d.String())
				if strings.HasSuffix(tc.want, d.Code) && strings.HasPrefix(d.String(), "t.yaml:"+strings.Fields(tc.want)[0]+":") {
					if !strings.Contains(d.String(), "; fix: ") {
						t.Errorf("no fix in %q", d)
					}
					return
				}
			}
			t.Errorf("want %s, got %q", tc.want, got)
		})
	}
}

func TestWhatsAppTemplateAndVariables(t *testing.T) {
	f, ds := flow.Parse("t.yaml", []byte(waBase))
	if f == nil {
		t.Fatal(ds)
	}
	for _, tc := range []struct{ lang, want, sid string }{
		{"nl", "nl", "HX0123456789abcdef0123456789abcdef"},
		{"en", "en", "HXfedcba9876543210fedcba9876543210"},
		{"tr", "nl", "HX0123456789abcdef0123456789abcdef"}, // falls back to Dutch
	} {
		tpl, used, ok := f.WhatsAppTemplate("ask", "say", tc.lang)
		if !ok || used != tc.want || tpl.ContentSID != tc.sid {
			t.Errorf("%s: %v %q %q", tc.lang, ok, used, tpl.ContentSID)
		}
	}
	if _, _, ok := f.WhatsAppTemplate("later", "say", "nl"); ok {
		t.Error("later has a template")
	}
	tpl, _, _ := f.WhatsAppTemplate("ask", "say", "nl")
	loc, _ := time.LoadLocation("Europe/Amsterdam")
	vars, err := tpl.RenderVariables("nl", flow.Data{FirstName: "Sanne\nde", Vars: map[string]any{"due_date": time.Date(2026, 12, 1, 0, 0, 0, 0, loc)}})
	if err != nil {
		t.Fatal(err)
	}
	if vars["1"] != "Sanne de" || vars["2"] != "dinsdag 1 december" || len(vars) != 2 {
		t.Errorf("variables = %v", vars)
	}
	if got := f.ProactiveSteps(); strings.Join(got, ",") != "ask,later,done" {
		t.Errorf("proactive steps = %v", got)
	}
	if gaps := flow.WhatsAppGaps(f); len(gaps) != 1 || !strings.Contains(gaps[0].Message, `"later"`) {
		t.Errorf("gaps = %v", gaps)
	}
}

// A flow without any template is not warned about by `flows check`, only
// by WhatsAppGaps (`flows check --whatsapp`).
func TestWhatsAppGapsOnlyWhenAsked(t *testing.T) {
	src := strings.Replace(waBase, waBase[strings.Index(waBase, "    whatsapp:"):strings.Index(waBase, "    replies:")], "", 1)
	f, ds := flow.Parse("t.yaml", []byte(src))
	if f == nil || len(ds) != 0 {
		t.Fatalf("diagnostics without templates: %v", ds)
	}
	if gaps := flow.WhatsAppGaps(f); len(gaps) != 2 {
		t.Errorf("gaps = %v, want ask and later", gaps)
	}
}
