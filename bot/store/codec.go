package store

import (
	"encoding/json"
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// stateCodec stores a conversation's state (the Nudge JSON) compressed:
// zstd with a raw dictionary of the JSON's field names and common values,
// which takes a typical state from about 700 bytes to about 235. Millions
// of conversations wait at once, each with its state in Redis, so this is
// a large part of what a waiting conversation costs. Scripts never read
// the state (they use the plain "st" and "rev" fields); a state written
// before compression (starting with '{') is still read as JSON.
//
// zstd rather than the standard library's DEFLATE: a DEFLATE compressor
// that uses a dictionary clears more than 600 KB of tables on every reset,
// which cost about 45 µs of CPU per reply; zstd at its fastest level
// compresses as well here (the dictionary does the work) and adds about
// 15 µs per reply (load and commit) to the JSON encoding (BenchmarkStateCodec).
// EncodeAll and DecodeAll are safe for concurrent use.
type stateCodec struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
}

func newStateCodec() *stateCodec {
	dict := []byte(stateDict)
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderDictRaw(1, dict), zstd.WithEncoderCRC(false),
		zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		panic(fmt.Sprintf("zstd encoder: %v", err)) // fixed options: cannot fail
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderDictRaw(1, dict), zstd.WithDecoderConcurrency(0),
		zstd.WithDecoderMaxMemory(1<<20))
	if err != nil {
		panic(fmt.Sprintf("zstd decoder: %v", err))
	}
	return &stateCodec{enc: enc, dec: dec}
}

// stateMarker starts a compressed state (a JSON state starts with '{').
const stateMarker = 'z'

// stateDict is the preset dictionary: a typical state, most frequent
// substrings last (DEFLATE prefers the nearest match).
const stateDict = `"notes":[{"at":"","code":"superseded","text":""}],"callback_ids":["-"],"batch":"","experiment":"","arm":"",` +
	`"reminded":[],"escalated":true,"outcome":"","confused":0,"status":"ended","step":"done",` +
	`{"id":"-","flow":{"id":"no-show","version":1,"digest":""},"lang":"nl","first_name":"","caseworker":"",` +
	`"vars":{"appointment_at":"2026-12-01T09:00:00Z"},"status":"waiting","step":"ask",` +
	`"started_at":"2026-12-01T09:00:00.000000000Z","updated_at":"2026-12-01T09:00:00.000000000Z",` +
	`"deadline":"2026-12-01T09:00:00.000000000Z","timer_seq":1,"unanswered":1,"confused":0,"rev":1,` +
	`"tag":"","ref":"","name":"","channel":"sms","triggered_by":"","event_key":""}`

// encode returns the stored form of a state.
func (c *stateCodec) encode(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return c.enc.EncodeAll(raw, append(make([]byte, 0, len(raw)/2+16), stateMarker)), nil
}

// decode reads a stored state into v.
func (c *stateCodec) decode(stored string, v any) error {
	if stored == "" || stored[0] != stateMarker {
		return json.Unmarshal([]byte(stored), v)
	}
	raw, err := c.dec.DecodeAll([]byte(stored[1:]), nil)
	if err != nil {
		return fmt.Errorf("decompress state: %w", err)
	}
	return json.Unmarshal(raw, v)
}
