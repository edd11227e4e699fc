package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleMessage() Message {
	return Message{ID: "06h3fdwv7398cca7", Conv: "ff7c91c1dee7a5a554b15acf-06h3fdwv735kjnyy", Dir: "out", Channel: "sms",
		At: time.Date(2026, 12, 2, 17, 5, 9, 432071748, time.UTC),
		Body: "Hallo Sanne, u had vrijdag 20 november om 10:00 een afspraak met ons. We hebben u gemist. Gaat het goed met u?\n" +
			"Stuur 1 voor een nieuwe afspraak.\nStuur 2, dan bellen wij u.\nOf bel zelf 088 123 45 67 (maandag tot en met vrijdag van 9 tot 17 uur).\nGroet, Ahmed",
		Kind: "say", Step: "ask", Proactive: true,
		Buttons: []Button{{Label: "1 Nieuwe afspraak", Reply: "1"}, {Label: "2 Bel mij terug", Reply: "2"}}}
}

// A message comes back exactly as it was stored, in fewer than half the
// bytes of its JSON, with the prefix the scripts read; a short reply is
// kept as plain JSON (not worth a compression on the reply path), and
// plain JSON is read as before; a prefix that cannot hold the
// conversation falls back to JSON.
func TestMessageCodec(t *testing.T) {
	c := newMsgCodec()
	for _, tc := range []struct {
		name   string
		m      Message
		prefix string
	}{
		{"first message", sampleMessage(), "m1|06h3fdwv735kjnyy|sms|"},
		{"reply", Message{ID: "06h3fdwv7398ccb0", Conv: "ff7c91c1dee7a5a554b15acf-06h3fdwv735kjnyy", Dir: "in", Channel: "whatsapp",
			At: time.Date(2026, 12, 2, 17, 9, 0, 0, time.UTC), Body: "٢ bel mij | graag, morgen na twaalf uur ben ik thuis. Ik heb de brief gekregen maar begrijp hem niet goed.", Kind: "reply", Route: "callback", ProviderID: "SM1"}, "m0|06h3fdwv735kjnyy|whatsapp|"},
		{"short reply", Message{ID: "06h3fdwv7398ccb2", Conv: "ff7c91c1dee7a5a554b15acf-06h3fdwv735kjnyy", Dir: "in", Channel: "sms",
			At: time.Date(2026, 12, 2, 17, 9, 0, 0, time.UTC), Body: "2", Kind: "reply", ProviderID: "SM2"}, `{"id":"06h3fdwv7398ccb2","conv":"ff7c91c1dee7a5a554b15acf-06h3fdwv735kjnyy"`},
		{"no conversation", Message{ID: "06h3fdwv7398ccb1", Dir: "in", Channel: "sms", At: time.Date(2026, 12, 2, 17, 9, 0, 0, time.UTC), Body: strings.Repeat("STOP ", 60), Kind: "system"}, "m0||sms|"},
		{"bar in the conversation", Message{ID: "x", Conv: "a|b", Channel: "sms", Body: strings.Repeat("hoi ", 80)}, "{"},
		{"conversation without a tag", Message{ID: "y", Conv: "simulate-1", Channel: "sms", Body: strings.Repeat("hoi ", 80)}, "m0|simulate-1|sms|"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := c.encode(tc.m)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(b), tc.prefix) {
				t.Errorf("stored form starts %q, want %q", b[:min(len(b), len(tc.prefix))], tc.prefix)
			}
			var got Message
			if err := c.decode("ff7c91c1dee7a5a554b15acf", string(b), &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.m) {
				t.Errorf("decoded %+v, want %+v", got, tc.m)
			}
		})
	}
	m := sampleMessage()
	raw, _ := json.Marshal(m)
	b, _ := c.encode(m)
	if len(b) > len(raw)/2 {
		t.Errorf("stored %d bytes for %d bytes of JSON, want at most half", len(b), len(raw))
	}
	var legacy Message
	if err := c.decode("ff7c91c1dee7a5a554b15acf", string(raw), &legacy); err != nil || !reflect.DeepEqual(legacy, m) {
		t.Errorf("plain JSON read as %+v, %v", legacy, err)
	}
}

// msgdict.txt is the dictionary every stored message was compressed with:
// changing it would make them unreadable. A better dictionary gets a new
// id and a file of its own (msgcodec.go).
func TestMessageDictionaryIsFrozen(t *testing.T) {
	sum := sha256.Sum256(msgDict)
	if got := hex.EncodeToString(sum[:]); got != "5ef7eeb63f472646dcf38e8388e5cb1fb58ca00ea98948dd17c661a4954118e3" {
		t.Fatalf("msgdict.txt changed (sha256 %s): stored messages need the dictionary they were compressed with; add a new one with a new id instead", got)
	}
}
