package store

import "github.com/redis/go-redis/v9"

// All scripts touch keys of one recipient only (one hash tag, one slot).
// Keys derived inside a script (a conversation key found through the
// recipient's index) share the declared keys' hash tag, so they live in the
// same slot on Redis Cluster.

// createScript starts a conversation unless the recipient opted out, the
// same event already started one (idempotent), or one is active for the flow.
//
// The work the new nudge queues (its sends and timers) is written to the
// recipient's outbox in the same script: a crash before it is queued leaves
// the outbox entry for the recovery pass (outbox.go).
//
// KEYS: 1 rcp (with the active flows "a:<flow>", the events "e:<event>"
// and the history "n:<nudge>"), 2 (unused: was the conversation), 3 msgs
// (with the conversation "c:<cid>" and its transcript "l:<cid>"),
// 4 (unused: was the history), 5 outbox
// ARGV: 1 optout field, 2 flow id, 3 cid, 4 state, 5 status,
// 6 score ms, 7 ttl ms, 8 outbox id, 9 outbox json (empty: none),
// 10 event, 11 n recipient field pairs, then pairs, then n message pairs
// (id, json).
var createScript = redis.NewScript(shortLua + indexLua + convLua + `
local rcp = KEYS[1]
if redis.call('HEXISTS', rcp, ARGV[1]) == 1 then return {'optedout'} end
local ev = 'e:' .. ARGV[10]
local ex = redis.call('HGET', rcp, ev)
-- An event, and a flow's active conversation, count while the
-- conversation they name is kept: the recipient hash lives as long as the
-- recipient is active, which can be longer than one conversation's data.
if ex and redis.call('HEXISTS', KEYS[3], 'c:' .. ex) == 1 then return {'exists', ex} end
local af = 'a:' .. ARGV[2]
local act = redis.call('HGET', rcp, af)
if act and redis.call('HEXISTS', KEYS[3], 'c:' .. act) == 1 then return {'active', act} end
local ttl = tonumber(ARGV[7])
local i = 12
local nf = tonumber(ARGV[11])
if nf > 0 then
  redis.call('HSET', rcp, unpack(ARGV, i, i + 2 * nf - 1))
  i = i + 2 * nf
end
local nm = tonumber(ARGV[i]); i = i + 1
local ids = {}
for _ = 1, nm do
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i+1])
  table.insert(ids, ARGV[i])
  i = i + 2
end
index(KEYS[3], ARGV[3], ids)
local id = short(ARGV[3])
redis.call('HSET', rcp, ev, id)
redis.call('HSET', rcp, 'n:' .. id, ARGV[6])
if ARGV[5] == 'waiting' then
  redis.call('HSET', rcp, af, id)
  conv_put(KEYS[3], ARGV[3], '1', ARGV[5], '', ARGV[4])
else
  conv_put(KEYS[3], ARGV[3], '1', ARGV[5], ARGV[6], ARGV[4])
end
if ARGV[9] ~= '' then redis.call('HSET', KEYS[5], ARGV[8], ARGV[9]) end
for _, k in ipairs({1, 3, 5}) do redis.call('PEXPIRE', KEYS[k], ttl) end
return {'ok'}
`)

// convLua reads and writes a conversation: field "c:<cid>" of the msgs
// hash, "rev|status|end ms|state" (end empty while it waits; state as
// stateCodec stores it). One field instead of a hash of its own: a hash
// holding a value over 64 bytes is a hash table, about 300 bytes before
// any data.
const convLua = `
local function conv_get(msgsKey, cid)
  local v = redis.call('HGET', msgsKey, 'c:' .. short(cid))
  if not v then return nil end
  local a = string.find(v, '|', 1, true)
  local b = string.find(v, '|', a + 1, true)
  local c = string.find(v, '|', b + 1, true)
  return {rev = string.sub(v, 1, a - 1), st = string.sub(v, a + 1, b - 1), e = string.sub(v, b + 1, c - 1), state = string.sub(v, c + 1)}
end
local function conv_put(msgsKey, cid, rev, st, e, state)
  redis.call('HSET', msgsKey, 'c:' .. short(cid), rev .. '|' .. st .. '|' .. e .. '|' .. state)
end
`

// shortLua: inside a recipient's keys a conversation is named by its id
// without the recipient tag that starts it ("<tag>-<id>", NewScopedID):
// the keys carry the tag already. short leaves any other name ("_") as
// it is. Every script that uses convLua, indexLua, routeLua or seenLua
// starts with it.
const shortLua = `
local function short(cid)
  if string.sub(cid, 25, 25) == '-' then return string.sub(cid, 26) end
  return cid
end
`

// indexLua appends message ids to a conversation's transcript: field
// "l:<cid>" of the msgs hash, the ids comma-separated in order.
const indexLua = `
local function index(msgsKey, cid, ids)
  if #ids == 0 then return end
  local f = 'l:' .. short(cid)
  local add = table.concat(ids, ',')
  local cur = redis.call('HGET', msgsKey, f)
  if cur and cur ~= '' then add = cur .. ',' .. add end
  redis.call('HSET', msgsKey, f, add)
end
`

// commitScript applies one transition if the conversation is still at the
// revision the caller read (optimistic concurrency: two replies at once
// cannot both advance the same step). The work the transition queues
// (sends, timers, index entries) goes to the recipient's outbox in the same
// script. A transition caused by a received text also marks that text
// processed (removes it from the pending hash): if it already was, nothing
// is written and -1 is returned, so a text is processed exactly once.
//
// Seintje's own outcomes of the transition (replied, asked for a call) are
// recorded in the same script, once each (HSETNX), for nudges outside an
// experiment (an experiment's counting is done by RecordOutcome). A consent
// the step records (a WhatsApp opt-in answered by SMS) is written by the
// same script too (grantLua).
//
// KEYS: 1, 2 and 3 (unused: were the conversation, the waiting set and
// the active flows), 4 msgs (with the conversation "c:<cid>" and its
// transcript "l:<cid>"), 5 (unused: was the transcript), 6 cb, 7 rcp (with
// the active flows "a:<flow>"), 8 outbox, 9 inbound pending, 10 outcomes,
// 11 chlog
// ARGV: 1 expected rev, 2 state json, 3 status, 4 flow id, 5 cid,
// 6 score ms, 7 ttl ms, 8 inbound msg id (empty: none), 9 outbox id,
// 10 outbox json (empty: none), 11 n message pairs (id, json|"" to only
// index), then pairs, then n callback pairs (id, json), then n outcome
// pairs (name, json), then the 5 grant arguments.
var commitScript = redis.NewScript(shortLua + grantLua + indexLua + convLua + `
if ARGV[8] ~= '' and redis.call('HEXISTS', KEYS[9], ARGV[8]) == 0 then return -1 end
local cur = conv_get(KEYS[4], ARGV[5])
if not cur or cur.rev ~= ARGV[1] then return 0 end
local ttl = tonumber(ARGV[7])
local e = ''
if ARGV[3] ~= 'waiting' then
  local af = 'a:' .. ARGV[4]
  if redis.call('HGET', KEYS[7], af) == short(ARGV[5]) then
    redis.call('HDEL', KEYS[7], af)
  end
  e = cur.e
  if e == '' then e = ARGV[6] end
end
conv_put(KEYS[4], ARGV[5], tostring(tonumber(ARGV[1]) + 1), ARGV[3], e, ARGV[2])
if ARGV[8] ~= '' then redis.call('HDEL', KEYS[9], ARGV[8]) end
if ARGV[10] ~= '' then redis.call('HSET', KEYS[8], ARGV[9], ARGV[10]) end
local i = 11
local nm = tonumber(ARGV[i]); i = i + 1
local ids = {}
for _ = 1, nm do
  if ARGV[i+1] ~= '' then redis.call('HSET', KEYS[4], ARGV[i], ARGV[i+1]) end
  table.insert(ids, ARGV[i])
  i = i + 2
end
index(KEYS[4], ARGV[5], ids)
local nc = tonumber(ARGV[i]); i = i + 1
for _ = 1, nc do
  redis.call('HSET', KEYS[6], ARGV[i], ARGV[i+1])
  i = i + 2
end
local no = tonumber(ARGV[i] or '0'); i = i + 1
for _ = 1, no do
  redis.call('HSETNX', KEYS[10], ARGV[i], ARGV[i+1])
  i = i + 2
end
if no > 0 then redis.call('PEXPIRE', KEYS[10], ttl) end
-- PEXPIRE on a key that does not exist is a no-op.
for _, k in ipairs({4, 6, 7, 8}) do redis.call('PEXPIRE', KEYS[k], ttl) end
grant(KEYS[7], KEYS[11], i, ttl)
return 1
`)

// routeLua picks the conversation a reply belongs to: the one whose last
// proactive message handed to the provider (sent, delivered, read) is the
// most recent. Messages held back (quiet hours, weekly limit) or refused
// never enter the "seen" hash, so they do not count. A waiting conversation
// gets the reply; one that ended within the late window gets it as a late
// reply; older ended ones are skipped. Returns {kind, cid, rev, state} with
// kind 'wait', 'late' or empty.
//
// Uses: rcpKey, rcp (its HGETALL: fields "v:<cid>" → "ms|msgid"),
// msgsKey (the conversations, convLua), nowms, latems.
const routeLua = convLua + `
local function route(rcpKey, rcp, msgsKey, nowms, latems)
  local cands = {}
  for j = 1, #rcp, 2 do
    local f = rcp[j]
    if string.sub(f, 1, 2) == 'v:' then
      local at = tonumber(string.match(rcp[j+1], '^(%d+)|'))
      if at then table.insert(cands, {string.sub(f, 3), at}) end
    end
  end
  table.sort(cands, function(a, b) return a[2] > b[2] end)
  for _, c in ipairs(cands) do
    local h = conv_get(msgsKey, c[1])
    if not h then
      redis.call('HDEL', rcpKey, 'v:' .. c[1])
    else
      if h.st == 'waiting' then return {'wait', c[1], h.rev, h.state} end
      local e = tonumber(h.e)
      if e and nowms - e <= latems then return {'late', c[1], h.rev, h.state} end
    end
  end
  return {'', '', '', ''}
end
`

// inboundScript stores a received message (deduplicated by the provider's
// id) and returns what routing needs: the recipient and the conversation
// the person saw (routeLua). The text is listed as pending until the
// script that finishes its processing removes it; a re-delivery of a text
// that is stored but still pending is handed back for processing
// ('resume'), one that was processed is a duplicate ('dup').
//
// KEYS: 1 dedupe, 2 msgs, 3 rcp, 4 (unused: was the seen hash, now
// fields "v:<cid>" of rcp), 5 inbound pending
// ARGV: 1 msg id, 2 json, 3 ttl ms, 4 dedupe ttl ms, 5 (unused),
// 6 now ms, 7 late window ms, 8 pending json (where to answer)
// Returns {'dup', msgid} or {'ok'|'resume', msg json, kind, cid, rev,
// state, rcp field/value ...} (the recipient's own fields only).
var inboundScript = redis.NewScript(shortLua + routeLua + `
local prev = redis.call('GET', KEYS[1])
local res = 'ok'
local msg = ARGV[2]
if prev then
  if redis.call('HEXISTS', KEYS[5], prev) == 0 then return {'dup', prev} end
  res = 'resume'
  msg = redis.call('HGET', KEYS[2], prev) or ''
else
  redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[4]))
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3]))
  redis.call('HSET', KEYS[5], ARGV[1], ARGV[8])
  redis.call('PEXPIRE', KEYS[5], tonumber(ARGV[4]))
end
local rcp = redis.call('HGETALL', KEYS[3])
local r = route(KEYS[3], rcp, KEYS[2], tonumber(ARGV[6]), tonumber(ARGV[7]))
local out = {res, msg, r[1], r[2], r[3], r[4]}
for j = 1, #rcp, 2 do
  if string.sub(rcp[j], 2, 2) ~= ':' then
    table.insert(out, rcp[j])
    table.insert(out, rcp[j+1])
  end
end
return out
`)

// routeScript runs routeLua alone (after a conflict).
//
// KEYS: 1 rcp, 2 msgs
// ARGV: 1 now ms, 2 late window ms
var routeScript = redis.NewScript(shortLua + routeLua + `
return route(KEYS[1], redis.call('HGETALL', KEYS[1]), KEYS[2], tonumber(ARGV[1]), tonumber(ARGV[2]))
`)

// finishInboundScript ends the processing of a received text that does not
// advance a conversation (STOP, START, HELP, an unknown sender, a late
// reply, a text with no conversation): in one step it files the text,
// changes recipient fields (opt-out, answer address), stores the answer (at
// most once per "once" period when asked), writes the work to queue to the
// outbox, and marks the text processed. Returns 'dup' when it already was,
// else 'ok' (answer stored) or 'ok-noanswer'.
//
// KEYS: 1 inbound pending, 2 msgs (with the transcript "l:<cid>"), 3 rcp,
// 4 once, 5 outbox
// ARGV: 1 in msg id, 2 in json, 3 ttl ms, 4 once ttl ms (empty: always),
// 5 answer id (empty: none), 6 answer json, 7 outbox id, 8 outbox json with the
// answer, 9 outbox json without it (empty: none), 10 rcp field to delete (empty: none),
// 11 conversation id ("_": none), 12 n rcp field pairs to set, then pairs
var finishInboundScript = redis.NewScript(shortLua + indexLua + `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 'dup' end
local ttl = tonumber(ARGV[3])
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
local ids = {ARGV[1]}
if ARGV[10] ~= '' then redis.call('HDEL', KEYS[3], ARGV[10]) end
local i = 13
for _ = 1, tonumber(ARGV[12]) do
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i+1])
  i = i + 2
end
local answer = ARGV[5] ~= ''
if answer and ARGV[4] ~= '' then
  answer = redis.call('SET', KEYS[4], '1', 'NX', 'PX', tonumber(ARGV[4]))
end
local res = 'ok-noanswer'
local ob = ARGV[9]
if answer then
  redis.call('HSET', KEYS[2], ARGV[5], ARGV[6])
  table.insert(ids, ARGV[5])
  ob = ARGV[8]
  res = 'ok'
end
index(KEYS[2], ARGV[11], ids)
if ob ~= '' then redis.call('HSET', KEYS[5], ARGV[7], ob) end
for _, k in ipairs({2, 3, 5}) do redis.call('PEXPIRE', KEYS[k], ttl) end
return res
`)

// seenLua keeps the fields "v:<cid>" → "ms|msgid" of the recipient hash:
// the last proactive message of each conversation that was handed to the
// provider. A later delivery report does not take it out: carriers'
// reports are not always right, and a reply shows the person got it.
const seenLua = `
local function seen(msgsKey, rcpKey, mid, state, atms, ttl)
  local raw = redis.call('HGET', msgsKey, mid)
  if not raw then return end
  local m = msgmeta(rcpKey, raw)
  if not m or not m.proactive or not m.conv or m.conv == '' or m.conv == '_' then return end
  if state == 'accepted' or state == 'queued' or state == 'sending' or state == 'sent' or state == 'delivered' or state == 'read' then
    local f = 'v:' .. short(m.conv)
    local cur = redis.call('HGET', rcpKey, f)
    if cur and string.match(cur, '|(.*)$') == mid then return end
    redis.call('HSET', rcpKey, f, atms .. '|' .. mid)
    redis.call('PEXPIRE', rcpKey, ttl)
  end
end
`

// sentScript records the provider id and status of a sent message, and
// applies a delivery status that arrived before we knew the id. The case
// events of the change (a message status event) go to the outbox in the
// same script; when an early status is applied, the events get its state.
// Returns the outbox json written (empty for none).
//
// KEYS: 1 rcp (fields "p:<provider id>" → msg id, "s:<msg id>" → status,
// "q:<provider id>" → a status that came first), 2 msgs, 3 outbox
// ARGV: 1 provider id, 2 msg id, 3 status value, 4 ttl ms, 5 state, 6 at ms,
// 7 outbox id, 8 outbox json (empty for none)
var sentScript = redis.NewScript(shortLua + msgMetaLua + seenLua + `
local ttl = tonumber(ARGV[4])
local rcp = KEYS[1]
if ARGV[1] ~= '' then redis.call('HSET', rcp, 'p:' .. ARGV[1], ARGV[2]) end
local val = ARGV[3]
local state = ARGV[5]
local ob = ARGV[8]
local early = ARGV[1] ~= '' and redis.call('HGET', rcp, 'q:' .. ARGV[1])
if early then
  val = early
  state = string.match(early, '^%d+|([^|]*)|') or state
  redis.call('HDEL', rcp, 'q:' .. ARGV[1])
  if ob ~= '' then
    local w = cjson.decode(ob)
    for _, e in ipairs(w.ev) do e.st = state end
    ob = cjson.encode(w)
  end
end
redis.call('HSET', rcp, 's:' .. ARGV[2], val)
redis.call('PEXPIRE', rcp, ttl)
seen(KEYS[2], rcp, ARGV[2], state, ARGV[6], ttl)
if ob ~= '' then
  redis.call('HSET', KEYS[3], ARGV[7], ob)
  redis.call('PEXPIRE', KEYS[3], ttl)
end
return ob
`)

// statusScript records a delivery status from the provider's callback,
// never moving a message back from a final status. When asked (ARGV[8]
// set), a status applied to a message of a nudge also writes a message
// status event (store.CaseEvent, no type: it follows from the state) to
// the outbox in the same script. The report's follow-up (ARGV[10]: the
// escalation of an undelivered message, opt-out bookkeeping) goes into the
// same outbox entry, and an opt-out code marks the recipient opted out
// here too: a crash after the status change cannot lose them.
//
// KEYS: 1 rcp (fields "p:", "s:", "q:" as in sentScript), 2 msgs, 3 outbox
// ARGV: 1 provider id, 2 status value, 3 rank, 4 ttl ms, 5 state, 6 at ms,
// 7 outbox id, 8 event time (RFC 3339; empty for no event), 9 provider code,
// 10 follow-up work json (empty: none), 11 opted-out channel (empty: none)
// Returns {message id or empty when parked as pending, outbox json or empty}.
var statusScript = redis.NewScript(shortLua + msgMetaLua + seenLua + putLua + `
local ttl = tonumber(ARGV[4])
local fu = ARGV[10] or ''
local rcp = KEYS[1]
if ARGV[11] and ARGV[11] ~= '' then put(rcp, 'optout:' .. ARGV[11], ARGV[6], ttl) end
local function done(mid, ob)
  put(KEYS[3], ARGV[7], ob, ttl)
  return {mid, ob}
end
local mid = redis.call('HGET', rcp, 'p:' .. ARGV[1])
if not mid then
  redis.call('HSET', rcp, 'q:' .. ARGV[1], ARGV[2])
  redis.call('PEXPIRE', rcp, ttl)
  return done('', fu)
end
local cur = redis.call('HGET', rcp, 's:' .. mid)
if cur then
  local r = tonumber(string.match(cur, '^(%d+)|'))
  if r and r > tonumber(ARGV[3]) then return done(mid, fu) end
end
redis.call('HSET', rcp, 's:' .. mid, ARGV[2])
redis.call('PEXPIRE', rcp, ttl)
seen(KEYS[2], rcp, mid, ARGV[5], ARGV[6], ttl)
local ob = fu
if ARGV[8] ~= '' then
  local raw = redis.call('HGET', KEYS[2], mid)
  local m = nil
  if raw then m = msgmeta(rcp, raw) end
  if m and m.conv and m.conv ~= '' and m.conv ~= '_' then
    local w = {}
    if fu ~= '' then w = cjson.decode(fu) end
    w.ev = {{n = m.conv, m = mid, st = ARGV[5], co = tonumber(ARGV[9]), ch = m.channel, at = ARGV[8]}}
    ob = cjson.encode(w)
  end
end
return done(mid, ob)
`)

// addMessagesScript stores messages and appends them to a transcript
// (AddMessages). An empty json only indexes the id.
//
// KEYS: 1 msgs
// ARGV: 1 conversation id ("_": none), 2 ttl ms, then pairs (id, json)
var addMessagesScript = redis.NewScript(shortLua + indexLua + `
local ids = {}
for i = 3, #ARGV, 2 do
  if ARGV[i+1] ~= '' then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i+1]) end
  table.insert(ids, ARGV[i])
end
index(KEYS[1], ARGV[1], ids)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
`)
