package app_test

import (
	"net/http"
	"strings"
	"testing"
)

// The operators' metrics follow a nudge: the send, the delivery report
// with its latency, the reply, and the callback queue it fills.
func TestMetricsFollowANudge(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	const phone = "+31612349911"
	id := h.nudge("missing-form", phone, map[string]any{"form": "het formulier", "due_date": "2031-01-31"})
	h.waitHandedOver(id)
	if r := h.status(h.twilio.Requests()[0].SID, phone, "delivered", 0); r.Status/100 != 2 {
		t.Fatalf("status: %d %s", r.Status, r.Body)
	}
	if r := h.sms(phone, "2", "SM"+randHex(16)); r.Status/100 != 2 {
		t.Fatalf("reply: %d %s", r.Status, r.Body)
	}
	eventually(t, "callback task", func() bool {
		return len(h.get("/v1/callbacks?status=open", tokWerkplaats).JSON(t)["callbacks"].([]any)) == 1
	})
	bad := h.do(http.MethodPost, "/webhooks/twilio/status", "", "application/x-www-form-urlencoded",
		strings.NewReader("MessageSid=SMx&MessageStatus=delivered"), map[string]string{"X-Twilio-Signature": "forged"})
	if bad.Status != http.StatusForbidden {
		t.Fatalf("forged status callback: %d", bad.Status)
	}
	m := string(h.get("/metrics", "").Body)
	for _, want := range []string{
		`seintje_messages_sent_total{channel="sms"} `,
		`seintje_delivery_reports_total{channel="sms",state="delivered"} 1`,
		`seintje_delivery_latency_seconds_count{channel="sms"} 1`,
		`seintje_replies_total{flow="missing-form"} 1`,
		`seintje_nudges_total{flow="missing-form",result="created"} 1`,
		`seintje_callback_queue_size{status="open"} 1`,
		`seintje_webhook_rejected_total{channel="status"} 1`,
		`seintje_send_failures_total{channel="sms",reason="rejected"} 0`,
		`seintje_redis_up 1`,
		`seintje_redis_errors_total 0`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(m, phone) || strings.Contains(m, phone[1:]) {
		t.Error("/metrics holds a phone number")
	}
}
