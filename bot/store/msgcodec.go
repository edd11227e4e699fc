package store

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// msgCodec stores a message compressed: zstd with a raw dictionary of the
// flows' texts as they were shipped when it was made (msgdict.txt), which
// takes the first message of a no-show nudge from 550 bytes of JSON to
// about 205. A message is kept as long as its recipient's data (it can
// count as a report to the agency), so it is the largest thing a waiting
// conversation holds. The text is compressed, not stored by reference: a
// sent text is exactly what went out, whatever the flow or the
// configuration says later.
//
// Stored form: a message of at least msgCompressMin bytes of JSON is
// "m<p>|<conv>|<channel>|" followed by the compressed JSON,
// where <p> is 1 for a proactive message and <conv> the conversation
// (without the recipient tag, shortID, and then not repeated in the
// JSON). The scripts read only that prefix (msgMetaLua). A shorter
// message is stored as plain JSON (starting with '{'), as every message
// was before.
//
// msgdict.txt must never change: every stored message needs the exact
// dictionary it was compressed with. A better dictionary gets a new id
// (msgDictID) and a file of its own, and the decoder keeps the old ones.
type msgCodec struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
}

//go:embed msgdict.txt
var msgDict []byte

const msgDictID = 2 // 1 is the state dictionary (codec.go)

func newMsgCodec() *msgCodec {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderDictRaw(msgDictID, msgDict), zstd.WithEncoderCRC(false),
		zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		panic(fmt.Sprintf("zstd encoder: %v", err)) // fixed options: cannot fail
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderDictRaw(msgDictID, msgDict), zstd.WithDecoderConcurrency(0),
		zstd.WithDecoderMaxMemory(1<<20))
	if err != nil {
		panic(fmt.Sprintf("zstd decoder: %v", err))
	}
	return &msgCodec{enc: enc, dec: dec}
}

// msgCompressMin is the smallest JSON that is compressed. A short reply
// ("2", "STOP") gains a few dozen bytes and would cost the reply path a
// compression (about 15 µs of CPU: the encoder resets its tables from the
// dictionary every time); the texts Seintje sends are longer.
const msgCompressMin = 256

// encode returns the stored form of m.
func (c *msgCodec) encode(m Message) ([]byte, error) {
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode message: %w", err)
	}
	if len(raw) < msgCompressMin || strings.Contains(m.Conv, "|") || strings.Contains(m.Channel, "|") {
		return raw, nil // short, or cannot be a prefix field: stored as JSON
	}
	conv := m.Conv
	if _, ok := TagOf(conv); ok {
		conv, m.Conv = shortID(conv), "" // the prefix has it
		if raw, err = json.Marshal(m); err != nil {
			return nil, fmt.Errorf("encode message: %w", err)
		}
	}
	p := "0"
	if m.Proactive {
		p = "1"
	}
	out := make([]byte, 0, len(raw)/2+len(conv)+len(m.Channel)+16)
	out = append(out, 'm')
	out = append(out, p...)
	out = append(out, '|')
	out = append(out, conv...)
	out = append(out, '|')
	out = append(out, m.Channel...)
	out = append(out, '|')
	return c.enc.EncodeAll(raw, out), nil
}

// decode reads a message of recipient tag, as stored, into m.
func (c *msgCodec) decode(tag, stored string, m *Message) error {
	if stored == "" || stored[0] != 'm' {
		return json.Unmarshal([]byte(stored), m)
	}
	var fields [3]string
	rest := stored[1:]
	for k := range fields {
		i := strings.IndexByte(rest, '|')
		if i < 0 {
			return fmt.Errorf("decode message: no prefix")
		}
		fields[k], rest = rest[:i], rest[i+1:]
	}
	raw, err := c.dec.DecodeAll([]byte(rest), nil)
	if err != nil {
		return fmt.Errorf("decompress message: %w", err)
	}
	if err := json.Unmarshal(raw, m); err != nil {
		return err
	}
	if m.Conv == "" && fields[1] != "" {
		m.Conv = fullID(tag, fields[1])
	}
	return nil
}

// msgMetaLua reads what the scripts need of a stored message of the
// recipient whose hash is rcpKey: whether it is proactive, its
// conversation (whole) and its channel (nil when raw is not a message).
const msgMetaLua = `
local function msgmeta(rcpKey, raw)
  if string.sub(raw, 1, 1) == 'm' then
    local p, conv, ch = string.match(raw, '^m(%d)|([^|]*)|([^|]*)|')
    if not p then return nil end
    if conv ~= '' and not string.find(conv, '-', 1, true) then
      conv = string.match(rcpKey, '{r:([^}]*)}') .. '-' .. conv
    end
    return {proactive = p == '1', conv = conv, channel = ch}
  end
  local ok, m = pcall(cjson.decode, raw)
  if not ok then return nil end
  return m
end
`
