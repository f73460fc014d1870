// Lua scripts: each state change of a reply and its announcement happen in one atomic step, so a
// reader that subscribes and then reads the list can never miss a chunk or see one twice.
// Hash fields: userId, correlationId, status, attempt, startedAt, final. List items: "<ts>:<text as JSON>".
// The list length is the chunk's seq. The running hash has a field "<messageId>:<attempt>" for the
// current attempt of each generating reply, holding the start of that attempt's chunk lines: the
// append script fences a whole batch with one HMGET on it, and the worker sends per chunk only the
// field, the text and the time, not the ids every line repeats (half the bytes it wrote before).
//
// Events are published on a few shard channels (see events.ts), one message per shard per script
// call, each line "<userId>\t<sessionId>\t<event JSON>": a flush of 1,000 replies is one PUBLISH
// per shard, not two per reply.
//
// On a Redis Cluster (`clustered`) the same scripts run with the keys of one slot group (see
// events.ts): the channel is the group's, from the session id, and the publish is SPUBLISH, which
// reaches only the shard that owns the channel's slot. The control channel stays a plain PUBLISH
// (a cancellation is rare and every worker must hear it).
import { EVENT_CHANNEL_PREFIX, EVENT_SHARDS } from "./events";

const HASH = `local x = 0
  for i = 1, #u do x = (x * 31 + string.byte(u, i)) % 65521 end`;
/** The shard channel of a user id; must match `eventChannelOf` in events.ts. */
const SHARD_OF = `local function shard(u)
  ${HASH}
  return '${EVENT_CHANNEL_PREFIX}' .. (x % ${EVENT_SHARDS})
end`;
/** On a cluster: the event channel of the session's slot group, ARGV[1]; must match `groupChannelOf`. */
const GROUP_SHARD_OF = `local function shard(_)
  local u = ARGV[1]
  ${HASH}
  return '{chat-' .. (x % ${EVENT_SHARDS}) .. '}:events'
end`;
const BASE = `'"sessionId":"' .. ARGV[1] .. '","messageId":"' .. ARGV[2] .. '","correlationId":"' .. h[4] .. '"'`;
/** Filled in per layout: the `shard` function, and PUBLISH or SPUBLISH. */
const SHARD = "@SHARD_OF@";
const PUBLISH = `redis.call('@PUBLISH@', shard(h[3]), h[3] .. '\\t' .. ARGV[1] .. '\\t' .. ev)`;
const LOAD = `local h = redis.call('HMGET', KEYS[1], 'status', 'attempt', 'userId', 'correlationId')`;

/** KEYS: hash. ARGV: sessionId, messageId, userId, correlationId, runningTtl. */
export const CREATE_SCRIPT = `${SHARD}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'userId', ARGV[3], 'correlationId', ARGV[4], 'status', 'queued', 'attempt', 0, 'startedAt', 0)
redis.call('EXPIRE', KEYS[1], ARGV[5])
local h = {'queued', '0', ARGV[3], ARGV[4]}
local ev = '{"type":"status",' .. ${BASE} .. ',"status":"queued","attempt":0}'
${PUBLISH}
return 1`;

/**
 * KEYS: hash, list, running hash. ARGV: sessionId, messageId, attempt, now, runningTtl, userId,
 * correlationId, reason, then the checkpoint's chunk texts as JSON (may be none). A reply never
 * created is registered here (the worker may take the job before the send's create, which then
 * changes nothing): one round trip for the worker, not two.
 *
 * From the second attempt on, the attempt continues the text the list holds: no reset, seq goes
 * on. A list shorter than the checkpoint (Redis lost its data) is rebuilt from it, chunk for chunk,
 * so cursors into the kept text stay placeable. Only a reply lost with no checkpoint restarts.
 * Returns false when the attempt may not start, else {continued 0/1, reason, chunk items...}.
 */
export const START_SCRIPT = `${SHARD}
${LOAD}
local found = h[1] ~= false
if not found then
  h = {'queued', '0', ARGV[6], ARGV[7]}
  redis.call('HSET', KEYS[1], 'userId', ARGV[6], 'correlationId', ARGV[7])
end
if h[1] ~= 'queued' and h[1] ~= 'generating' then return false end
if tonumber(ARGV[3]) <= tonumber(h[2]) then return false end
local len = redis.call('LLEN', KEYS[2])
local checkpoint = #ARGV - 8
if checkpoint > len then
  redis.call('DEL', KEYS[2])
  for i = 9, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[4] .. ':' .. ARGV[i]) end
  redis.call('EXPIRE', KEYS[2], ARGV[5])
  len = checkpoint
end
local later = tonumber(ARGV[3]) > 1
local continued = later and (found or len > 0)
if not continued then
  redis.call('DEL', KEYS[2])
  len = 0
end
local reason = ''
if later then reason = ARGV[8] end
if later and not found then reason = 'store_lost' end
redis.call('HSET', KEYS[1], 'status', 'generating', 'attempt', ARGV[3], 'startedAt', ARGV[4],
  'continued', continued and 1 or 0, 'kept', len, 'reason', reason)
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('HDEL', KEYS[3], ARGV[2] .. ':' .. h[2])
redis.call('HSET', KEYS[3], ARGV[2] .. ':' .. ARGV[3], h[3] .. '\\t' .. ARGV[1] .. '\\t{"type":"chunk",' .. ${BASE} ..
  ',"attempt":' .. ARGV[3] .. ',"seq":')
local ev
if later and not continued then
  ev = '{"type":"reset",' .. ${BASE} .. ',"attempt":' .. ARGV[3] .. '}'
  ${PUBLISH}
end
local extra = ''
if reason ~= '' then extra = ',"reason":"' .. reason .. '"' end
if continued then extra = extra .. ',"continued":true,"seq":' .. len end
ev = '{"type":"status",' .. ${BASE} .. ',"status":"generating","attempt":' .. ARGV[3] .. extra .. '}'
${PUBLISH}
local out = {continued and 1 or 0, reason}
if continued and len > 0 then
  for _, item in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do out[#out + 1] = item end
end
return out`;

/** Fields per reply in APPEND_SCRIPT's ARGV. */
export const APPEND_FIELDS = 4;

/**
 * Appends one chunk to each of several replies. KEYS: the running hash, then each reply's list.
 * ARGV: runningTtl, then per reply: shard channel, "<messageId>:<attempt>", text as JSON, ts.
 * Returns each reply's new seq, or -1 where the attempt is stale or the reply ended.
 */
export const APPEND_SCRIPT = `
local n = #KEYS - 1
local fields = {}
for i = 1, n do fields[i] = ARGV[1 + (i - 1) * ${APPEND_FIELDS} + 2] end
local heads = redis.call('HMGET', KEYS[1], unpack(fields))
local out = {}
local groups = {}
local order = {}
for i = 1, n do
  local b = 1 + (i - 1) * ${APPEND_FIELDS}
  local head = heads[i]
  if not head then
    out[i] = -1
  else
    local seq = redis.call('RPUSH', KEYS[1 + i], ARGV[b + 4] .. ':' .. ARGV[b + 3])
    if seq == 1 then redis.call('EXPIRE', KEYS[1 + i], ARGV[1]) end
    local channel = ARGV[b + 1]
    local lines = groups[channel]
    if not lines then
      lines = {}
      groups[channel] = lines
      order[#order + 1] = channel
    end
    lines[#lines + 1] = head .. seq .. ',"text":' .. ARGV[b + 3] .. ',"ts":' .. ARGV[b + 4] .. '}'
    out[i] = seq
  end
end
for _, channel in ipairs(order) do redis.call('@PUBLISH@', channel, table.concat(groups[channel], '\\n')) end
return out`;

/**
 * KEYS: hash, list, running hash. ARGV: sessionId, messageId, attempt ('' = any), status, event
 * fields as JSON (without braces), ttl. Returns the terminal event's JSON, or false when the reply
 * already ended.
 */
export const FINISH_SCRIPT = `${SHARD}
${LOAD}
if not h[1] then return false end
if h[1] ~= 'queued' and h[1] ~= 'generating' then return false end
if ARGV[3] ~= '' and h[2] ~= ARGV[3] then return false end
local seq = redis.call('LLEN', KEYS[2])
local ev = '{' .. ARGV[5] .. ',' .. ${BASE} .. ',"attempt":' .. h[2] .. ',"seq":' .. seq .. '}'
redis.call('HSET', KEYS[1], 'status', ARGV[4], 'final', ev)
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('EXPIRE', KEYS[2], ARGV[6])
redis.call('HDEL', KEYS[3], ARGV[2] .. ':' .. h[2])
${PUBLISH}
if ARGV[4] == 'cancelled' then redis.call('PUBLISH', 'chat:control', ev) end
return ev`;

/**
 * KEYS: hash, list, running hash. ARGV: messageId. Stops a running reply's text: its attempt's
 * field leaves the running hash, so every later append is refused. Returns the list's items, or
 * false when the reply is unknown or ended.
 */
export const STOP_SCRIPT = `
local h = redis.call('HMGET', KEYS[1], 'status', 'attempt')
if not h[1] then return false end
if h[1] ~= 'queued' and h[1] ~= 'generating' then return false end
redis.call('HDEL', KEYS[3], ARGV[1] .. ':' .. h[2])
return redis.call('LRANGE', KEYS[2], 0, -1)`;

/** KEYS: hash, list, running hash. ARGV: messageId. Forgets the reply (its chat was deleted). */
export const REMOVE_SCRIPT = `
local attempt = redis.call('HGET', KEYS[1], 'attempt')
if attempt then redis.call('HDEL', KEYS[3], ARGV[1] .. ':' .. attempt) end
redis.call('DEL', KEYS[1], KEYS[2])
return 1`;

/** A script as it runs on one Redis, or (`clustered`) on a Redis Cluster. */
export function scriptFor(lua: string, clustered: boolean): string {
  return lua
    .replace(SHARD, () => (clustered ? GROUP_SHARD_OF : SHARD_OF))
    .replaceAll("@PUBLISH@", clustered ? "SPUBLISH" : "PUBLISH");
}
/**
 * KEYS: hash, list. ARGV: the first list index to return, and the last (-1 or none: to the end).
 * The hash's fields, the list's length and its items in that range, read at one moment.
 */
export const READ_SCRIPT = `
return {redis.call('HGETALL', KEYS[1]), redis.call('LLEN', KEYS[2]), redis.call('LRANGE', KEYS[2], ARGV[1], ARGV[2] or -1)}`;
