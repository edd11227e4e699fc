package store

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/seintje/seintje/bot/engine"
	"github.com/seintje/seintje/bot/flow"
)

func sampleNudge() *Nudge {
	now := time.Date(2026, 12, 2, 8, 30, 51, 601001888, time.UTC)
	return &Nudge{Conversation: engine.Conversation{ID: "7e4337466f4f9d26069042ff-06h3br60t7g3x34g", Flow: flow.Ref{ID: "no-show", Version: 3, Digest: "32a9b16ae6b4"},
		Lang: "nl", FirstName: "Sanne", Caseworker: "Ahmed", Vars: map[string]string{"appointment_at": "2026-11-20T09:00:00Z"},
		Status: engine.Waiting, Step: "ask", StartedAt: now, UpdatedAt: now, Deadline: now.Add(48 * time.Hour), TimerSeq: 1, Unanswered: 1, Rev: 1},
		Tag: "7e4337466f4f9d26069042ff", Ref: "B-0", Name: "Sanne de Vries", Channel: "sms", TriggeredBy: "bench", EventKey: "47868a39bd831738d5d7756c06c0e8c1",
		Notes: []Note{{At: now, Code: "superseded", Text: "a newer nudge of the same flow replaced this one"}}}
}

func TestStateCodecRoundTrip(t *testing.T) {
	c := newStateCodec()
	n := sampleNudge()
	tests := []struct {
		name   string
		stored func(t *testing.T) string
	}{
		{"compressed", func(t *testing.T) string {
			b, err := c.encode(n)
			if err != nil {
				t.Fatal(err)
			}
			if b[0] != stateMarker {
				t.Fatalf("not marked compressed: %q", b[:1])
			}
			return string(b)
		}},
		{"plain JSON written before compression", func(t *testing.T) string {
			b, err := c.encode(n)
			if err != nil {
				t.Fatal(err)
			}
			var back Nudge
			if err := c.decode(string(b), &back); err != nil {
				t.Fatal(err)
			}
			raw, _ := jsonOf(&back)
			return raw
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 3 { // pooled compressors and readers are reused
				var got Nudge
				if err := c.decode(tt.stored(t), &got); err != nil {
					t.Fatal(err)
				}
				if got.ID != n.ID || got.Name != n.Name || !got.Deadline.Equal(n.Deadline) || got.Vars["appointment_at"] != "2026-11-20T09:00:00Z" ||
					len(got.Notes) != 1 || got.Notes[0].Text != n.Notes[0].Text || got.EventKey != n.EventKey {
					t.Fatalf("round trip lost data: %+v", got)
				}
			}
		})
	}
	b, _ := c.encode(n)
	raw, _ := jsonOf(n)
	t.Logf("state: %d bytes as JSON, %d stored", len(raw), len(b))
	if len(b) >= len(raw)*2/3 || strings.Contains(string(b), "Sanne") {
		t.Errorf("state not compressed: %d of %d bytes", len(b), len(raw))
	}
}

func jsonOf(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// BenchmarkStateCodec: the CPU cost of compressing a state on every commit
// and decompressing it on every load.
//
//	go test -run '^$' -bench StateCodec ./bot/store
func BenchmarkStateCodec(b *testing.B) {
	c := newStateCodec()
	n := sampleNudge()
	stored, err := c.encode(n)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encode", func(b *testing.B) {
		for range b.N {
			if _, err := c.encode(n); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		var v Nudge
		for range b.N {
			if err := c.decode(string(stored), &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	raw, _ := jsonOf(n)
	b.Run("json-only", func(b *testing.B) {
		var v Nudge
		for range b.N {
			_, _ = jsonOf(n)
			_ = json.Unmarshal([]byte(raw), &v)
		}
	})
}
