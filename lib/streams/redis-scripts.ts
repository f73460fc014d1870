// Lua scripts: each state change of a reply and its announcement happen in one atomic step, so a
// reader that subscribes and then reads the list can never miss a chunk or see one twice.
// Hash fields: userId, correlationId, status, attempt, startedAt, final. List items: "<ts>:<text as JSON>".
// The list length is the chunk's seq.

const BASE = `'"sessionId":"' .. ARGV[1] .. '","messageId":"' .. ARGV[2] .. '","correlationId":"' .. h[4] .. '"'`;
const PUBLISH = `redis.call('PUBLISH', 'chat:session:' .. ARGV[1], ev)
redis.call('PUBLISH', 'chat:user:' .. h[3], ev)`;
const LOAD = `local h = redis.call('HMGET', KEYS[1], 'status', 'attempt', 'userId', 'correlationId')`;

/** KEYS: hash. ARGV: sessionId, messageId, userId, correlationId, runningTtl. */
export const CREATE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'userId', ARGV[3], 'correlationId', ARGV[4], 'status', 'queued', 'attempt', 0, 'startedAt', 0)
redis.call('EXPIRE', KEYS[1], ARGV[5])
local h = {'queued', '0', ARGV[3], ARGV[4]}
local ev = '{"type":"status",' .. ${BASE} .. ',"status":"queued","attempt":0}'
${PUBLISH}
return 1`;

/** KEYS: hash, list. ARGV: sessionId, messageId, attempt, now, runningTtl. */
export const START_SCRIPT = `
${LOAD}
if h[1] ~= 'queued' and h[1] ~= 'generating' then return 0 end
if tonumber(ARGV[3]) <= tonumber(h[2]) then return 0 end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], 'status', 'generating', 'attempt', ARGV[3], 'startedAt', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
local ev
if tonumber(h[2]) > 0 then
  ev = '{"type":"reset",' .. ${BASE} .. ',"attempt":' .. ARGV[3] .. '}'
  ${PUBLISH}
end
ev = '{"type":"status",' .. ${BASE} .. ',"status":"generating","attempt":' .. ARGV[3] .. '}'
${PUBLISH}
return 1`;

/** KEYS: hash, list. ARGV: sessionId, messageId, attempt, text as JSON, ts, runningTtl. */
export const APPEND_SCRIPT = `
${LOAD}
if h[1] ~= 'generating' or h[2] ~= ARGV[3] then return -1 end
local seq = redis.call('RPUSH', KEYS[2], ARGV[5] .. ':' .. ARGV[4])
if seq == 1 then redis.call('EXPIRE', KEYS[2], ARGV[6]) end
local ev = '{"type":"chunk",' .. ${BASE} .. ',"attempt":' .. ARGV[3] .. ',"seq":' .. seq .. ',"text":' .. ARGV[4] .. ',"ts":' .. ARGV[5] .. '}'
${PUBLISH}
return seq`;

/**
 * KEYS: hash, list. ARGV: sessionId, messageId, attempt ('' = any), status, event fields as JSON
 * (without braces), ttl. Returns the terminal event's JSON, or false when the reply already ended.
 */
export const FINISH_SCRIPT = `
${LOAD}
if not h[1] then return false end
if h[1] ~= 'queued' and h[1] ~= 'generating' then return false end
if ARGV[3] ~= '' and h[2] ~= ARGV[3] then return false end
local seq = redis.call('LLEN', KEYS[2])
local ev = '{' .. ARGV[5] .. ',' .. ${BASE} .. ',"attempt":' .. h[2] .. ',"seq":' .. seq .. '}'
redis.call('HSET', KEYS[1], 'status', ARGV[4], 'final', ev)
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('EXPIRE', KEYS[2], ARGV[6])
${PUBLISH}
if ARGV[4] == 'cancelled' then redis.call('PUBLISH', 'chat:control', ev) end
return ev`;
