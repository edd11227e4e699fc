package batch

import "github.com/redis/go-redis/v9"

// Every script touches the keys of one batch only ({b:<id>}, one cluster
// slot). The figures are kept per nudge (which state it is in) and as
// counts, so a repeated report (a retried task) changes nothing and
// reading the figures never scans the nudges.

// doneCheck (a snippet) ends a sending batch once every row was accepted and
// no first message waits to go out. KEYS[meta], KEYS[counts] must be set as
// M and N; now is the time in ms.
const doneCheck = `
local function done_check(M, N, now)
  if redis.call('HGET', M, 'state') ~= 'sending' or redis.call('HGET', M, 'queued') ~= '1' then return 0 end
  local c = redis.call('HMGET', N, 'd:pending', 'd:held_quiet_hours', 'd:held_weekly_limit')
  for _, v in ipairs(c) do
    if v and tonumber(v) > 0 then return 0 end
  end
  -- 'event' = 'due': the batch.done event for the case system is still to
  -- be queued (announceDone clears it; the recovery pass retries it).
  redis.call('HSET', M, 'state', 'done', 'finished_at', now, 'event', 'due')
  return 1
end
`

// deliveryScript records the delivery state of one nudge's first message,
// never moving it back to a lower rank.
//
// KEYS: 1 dl, 2 counts, 3 meta
// ARGV: 1 nudge, 2 rank, 3 state, 4 reason key ("" none), 5 now ms
var deliveryScript = redis.NewScript(doneCheck + `
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old then
  local r, st, rk = string.match(old, '^(%d+)|([^|]*)|(.*)$')
  if tonumber(r) > tonumber(ARGV[2]) then return 0 end
  if st == ARGV[3] and rk == ARGV[4] then return 0 end
  redis.call('HINCRBY', KEYS[2], 'd:' .. st, -1)
  if rk ~= '' then redis.call('HINCRBY', KEYS[2], 'r:' .. rk, -1) end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. '|' .. ARGV[3] .. '|' .. ARGV[4])
redis.call('HINCRBY', KEYS[2], 'd:' .. ARGV[3], 1)
if ARGV[4] ~= '' then redis.call('HINCRBY', KEYS[2], 'r:' .. ARGV[4], 1) end
if ARGV[3] == 'sent' and redis.call('HEXISTS', KEYS[3], 'first_sent_at') == 0 then
  redis.call('HSET', KEYS[3], 'first_sent_at', ARGV[5])
end
if ARGV[3] == 'sent' or ARGV[3] == 'failed' then redis.call('HSET', KEYS[3], 'last_sent_at', ARGV[5]) end
return done_check(KEYS[3], KEYS[2], ARGV[5])
`)

// convScript records a nudge's conversation state (never from ended back to
// waiting) and its one-way flags.
//
// KEYS: 1 cv, 2 counts, 3 flags, 4 replies per hour
// ARGV: 1 nudge, 2 state, 3 outcome, 4 replied, 5 callback, 6 opted out,
// 7 hour bucket (unix hour)
var convScript = redis.NewScript(`
local old = redis.call('HGET', KEYS[1], ARGV[1])
local new = ARGV[2] .. '|' .. ARGV[3]
if old ~= new then
  local ost, oout = nil, ''
  if old then ost, oout = string.match(old, '^([^|]*)|(.*)$') end
  if not (ost == 'ended' and ARGV[2] == 'waiting') then
    if old then
      redis.call('HINCRBY', KEYS[2], 'c:' .. ost, -1)
      if oout ~= '' then redis.call('HINCRBY', KEYS[2], 'o:' .. oout, -1) end
    end
    redis.call('HSET', KEYS[1], ARGV[1], new)
    redis.call('HINCRBY', KEYS[2], 'c:' .. ARGV[2], 1)
    if ARGV[3] ~= '' then redis.call('HINCRBY', KEYS[2], 'o:' .. ARGV[3], 1) end
  end
end
local flags = {{'replied', ARGV[4]}, {'callback', ARGV[5]}, {'opted_out', ARGV[6]}}
for _, f in ipairs(flags) do
  if f[2] == '1' and redis.call('HSETNX', KEYS[3], ARGV[1] .. ':' .. f[1], '1') == 1 then
    redis.call('HINCRBY', KEYS[2], 'f:' .. f[1], 1)
    if f[1] == 'replied' then redis.call('HINCRBY', KEYS[4], ARGV[7], 1) end
  end
end
return 1
`)

// acceptScript records a chunk of rows handed to the nudge service and
// moves the cursor past it, once: a runner that resumes after a crash and
// does the chunk again finds the cursor moved and counts nothing twice.
//
// KEYS: 1 meta, 2 res, 3 dl, 4 cv, 5 counts
// ARGV: 1 expected cursor, 2 results json, 3 now ms, 4 n count pairs, pairs,
// then the ids of the nudges this batch started (each counted once); an id
// with the prefix "h:" is a nudge of an experiment's hold-out arm: no first
// message will ever go out (delivery held_out) and it has ended (held_out).
var acceptScript = redis.NewScript(doneCheck + `
if redis.call('HGET', KEYS[1], 'cursor') ~= ARGV[1] then return -1 end
redis.call('HSET', KEYS[1], 'cursor', tostring(tonumber(ARGV[1]) + 1))
redis.call('RPUSH', KEYS[2], ARGV[2])
local i = 5
for _ = 1, tonumber(ARGV[4]) do
  redis.call('HINCRBY', KEYS[5], ARGV[i], tonumber(ARGV[i+1]))
  i = i + 2
end
while ARGV[i] do
  local id, held = ARGV[i], false
  if string.sub(id, 1, 2) == 'h:' then id, held = string.sub(id, 3), true end
  if held then
    if redis.call('HSETNX', KEYS[3], id, '3|held_out|') == 1 then
      redis.call('HINCRBY', KEYS[5], 'd:held_out', 1)
    end
    if redis.call('HSETNX', KEYS[4], id, 'ended|held_out') == 1 then
      redis.call('HINCRBY', KEYS[5], 'c:ended', 1)
      redis.call('HINCRBY', KEYS[5], 'o:held_out', 1)
    end
  else
    if redis.call('HSETNX', KEYS[3], id, '0|pending|') == 1 then
      redis.call('HINCRBY', KEYS[5], 'd:pending', 1)
    end
    if redis.call('HSETNX', KEYS[4], id, 'waiting|') == 1 then
      redis.call('HINCRBY', KEYS[5], 'c:waiting', 1)
    end
  end
  i = i + 1
end
return 1
`)

// finishScript marks every row as handed over and ends the batch when
// nothing waits to go out.
//
// KEYS: 1 meta, 2 counts
// ARGV: 1 now ms
var finishScript = redis.NewScript(doneCheck + `
if redis.call('HGET', KEYS[1], 'state') ~= 'sending' then return -1 end
redis.call('HSET', KEYS[1], 'queued', '1', 'queued_at', ARGV[1])
return done_check(KEYS[1], KEYS[2], ARGV[1])
`)

// moveScript changes a batch's state when it is in one of the given states.
//
// KEYS: 1 meta
// ARGV: 1 new state, 2 time field, 3 now ms, 4 send_at ms ("" keep),
// then the states it may move from
// Returns the state before, or "" when the batch does not exist.
var moveScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'state')
if not cur then return '' end
for i = 5, #ARGV do
  if cur == ARGV[i] then
    redis.call('HSET', KEYS[1], 'state', ARGV[1], ARGV[2], ARGV[3])
    if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'send_at', ARGV[4]) end
    return cur
  end
end
return cur
`)
