package store

import "github.com/redis/go-redis/v9"

// All scripts touch keys of one recipient only (one hash tag, one slot).
// Keys derived inside a script (a conversation key found through the
// recipient's index) share the declared keys' hash tag, so they live in the
// same slot on Redis Cluster.

// createScript starts a conversation unless the recipient opted out, the
// same event already started one (idempotent), or one is active for the flow.
//
// KEYS: 1 rcp, 2 event, 3 active, 4 conv, 5 convs, 6 msgs, 7 index, 8 all
// nudges of the recipient (history, newest last)
// ARGV: 1 optout field, 2 flow id, 3 cid, 4 state json, 5 status,
// 6 score ms, 7 ttl ms, 8 n recipient field pairs, then pairs,
// then n message pairs (id, json).
var createScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return {'optedout'} end
local ex = redis.call('GET', KEYS[2])
if ex then return {'exists', ex} end
local act = redis.call('HGET', KEYS[3], ARGV[2])
if act then return {'active', act} end
local ttl = tonumber(ARGV[7])
local i = 9
local nf = tonumber(ARGV[8])
for _ = 1, nf do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i+1])
  i = i + 2
end
local nm = tonumber(ARGV[i]); i = i + 1
for _ = 1, nm do
  redis.call('HSET', KEYS[6], ARGV[i], ARGV[i+1])
  redis.call('RPUSH', KEYS[7], ARGV[i])
  i = i + 2
end
redis.call('SET', KEYS[2], ARGV[3], 'PX', ttl)
redis.call('HSET', KEYS[4], 'rev', '1', 'state', ARGV[4])
redis.call('ZADD', KEYS[8], ARGV[6], ARGV[3])
if ARGV[5] == 'waiting' then
  redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
  redis.call('ZADD', KEYS[5], ARGV[6], ARGV[3])
end
for k = 1, 8 do
  if k ~= 2 then redis.call('PEXPIRE', KEYS[k], ttl) end
end
return {'ok'}
`)

// commitScript applies one transition if the conversation is still at the
// revision the caller read (optimistic concurrency: two replies at once
// cannot both advance the same step).
//
// KEYS: 1 conv, 2 convs, 3 active, 4 msgs, 5 index, 6 cb, 7 rcp
// ARGV: 1 expected rev, 2 state json, 3 status, 4 flow id, 5 cid,
// 6 score ms, 7 ttl ms, 8 n message pairs (id, json|"" to only index),
// then pairs, then n callback pairs (id, json).
var commitScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'rev') ~= ARGV[1] then return 0 end
local ttl = tonumber(ARGV[7])
redis.call('HSET', KEYS[1], 'rev', tostring(tonumber(ARGV[1]) + 1), 'state', ARGV[2])
if ARGV[3] == 'waiting' then
  redis.call('ZADD', KEYS[2], ARGV[6], ARGV[5])
else
  redis.call('ZREM', KEYS[2], ARGV[5])
  if redis.call('HGET', KEYS[3], ARGV[4]) == ARGV[5] then
    redis.call('HDEL', KEYS[3], ARGV[4])
  end
end
local i = 8
local nm = tonumber(ARGV[i]); i = i + 1
for _ = 1, nm do
  if ARGV[i+1] ~= '' then redis.call('HSET', KEYS[4], ARGV[i], ARGV[i+1]) end
  redis.call('RPUSH', KEYS[5], ARGV[i])
  i = i + 2
end
local nc = tonumber(ARGV[i]); i = i + 1
for _ = 1, nc do
  redis.call('HSET', KEYS[6], ARGV[i], ARGV[i+1])
  i = i + 2
end
for k = 1, 7 do
  if redis.call('EXISTS', KEYS[k]) == 1 then redis.call('PEXPIRE', KEYS[k], ttl) end
end
return 1
`)

// inboundScript stores a received message (deduplicated by the provider's
// id) and returns what routing needs: the recipient and the most recently
// active waiting conversation.
//
// KEYS: 1 dedupe, 2 msgs, 3 rcp, 4 convs
// ARGV: 1 msg id, 2 json, 3 ttl ms, 4 dedupe ttl ms, 5 conv key prefix
// Returns {'dup', msgid} or {'ok', cid, rev, state, rcp field/value ...}.
var inboundScript = redis.NewScript(`
local prev = redis.call('GET', KEYS[1])
if prev then return {'dup', prev} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[4]))
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3]))
local out = {'ok', '', '', ''}
local top = redis.call('ZREVRANGE', KEYS[4], 0, 0)
if top[1] then
  local h = redis.call('HMGET', ARGV[5] .. top[1], 'rev', 'state')
  if h[1] then
    out[2] = top[1]; out[3] = h[1]; out[4] = h[2]
  else
    redis.call('ZREM', KEYS[4], top[1])
  end
end
local rcp = redis.call('HGETALL', KEYS[3])
for _, v in ipairs(rcp) do table.insert(out, v) end
return out
`)

// sentScript records the provider id and status of a sent message, and
// applies a delivery status that arrived before we knew the id.
//
// KEYS: 1 psid, 2 mst, 3 pending
// ARGV: 1 provider id, 2 msg id, 3 status value, 4 ttl ms
var sentScript = redis.NewScript(`
local ttl = tonumber(ARGV[4])
if ARGV[1] ~= '' then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ttl)
end
local cur = redis.call('HGET', KEYS[2], ARGV[2])
local val = ARGV[3]
local early = ARGV[1] ~= '' and redis.call('HGET', KEYS[3], ARGV[1])
if early then
  val = early
  redis.call('HDEL', KEYS[3], ARGV[1])
end
redis.call('HSET', KEYS[2], ARGV[2], val)
redis.call('PEXPIRE', KEYS[2], ttl)
return 1
`)

// statusScript records a delivery status from the provider's callback,
// never moving a message back from a final status.
//
// KEYS: 1 psid, 2 mst, 3 pending
// ARGV: 1 provider id, 2 status value, 3 rank, 4 ttl ms
// Returns the message id, or ” when parked as pending.
var statusScript = redis.NewScript(`
local ttl = tonumber(ARGV[4])
local mid = redis.call('HGET', KEYS[1], ARGV[1])
if not mid then
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[3], ttl)
  return ''
end
local cur = redis.call('HGET', KEYS[2], mid)
if cur then
  local r = tonumber(string.match(cur, '^(%d+)|'))
  if r and r > tonumber(ARGV[3]) then return mid end
end
redis.call('HSET', KEYS[2], mid, ARGV[2])
redis.call('PEXPIRE', KEYS[2], ttl)
return mid
`)
