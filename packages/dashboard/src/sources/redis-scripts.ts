/** Lua run by the Redis source for its actions, each atomic; keys under the broker's namespace. */

/**
 * Moves dead letters back to their queue, as an enqueue does (bytes kept, id kept, appended to
 * the list, a wake-up published for idle dq consumers).
 * KEYS: xq, xq.msgs, q, q.msgs; ARGV: wake-up channel, ids...
 */
export const RETRY_SCRIPT = `
local moved = 0
for index = 2, #ARGV do
  local id = ARGV[index]
  local data = redis.call("HGET", KEYS[2], id)
  if data and redis.call("ZREM", KEYS[1], id) == 1 then
    redis.call("HSET", KEYS[4], id, data)
    redis.call("HDEL", KEYS[2], id)
    redis.call("RPUSH", KEYS[3], id)
    moved = moved + 1
  end
end
if moved > 0 then
  redis.call("PUBLISH", ARGV[1], "1")
end
return moved
`;

/** Deletes a waiting message. KEYS: list, hash; ARGV: id. Returns 1 when it was stored. */
export const DELETE_LISTED_SCRIPT = `
redis.call("LREM", KEYS[1], 1, ARGV[1])
return redis.call("HDEL", KEYS[2], ARGV[1])
`;

/** Deletes a dead letter. KEYS: xq, xq.msgs; ARGV: id. */
export const DELETE_DEAD_SCRIPT = `
local removed = redis.call("ZREM", KEYS[1], ARGV[1])
return math.max(removed, redis.call("HDEL", KEYS[2], ARGV[1]))
`;

/**
 * Drops a queue's messages, its delay queue's and its dead letters; returns how many were stored.
 * KEYS: q, q.msgs, q.DQ, q.DQ.msgs, q.XQ, q.XQ.msgs
 */
export const PURGE_SCRIPT = `
local count = redis.call("HLEN", KEYS[2]) + redis.call("HLEN", KEYS[4]) + redis.call("ZCARD", KEYS[5])
redis.call("DEL", KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6])
return count
`;
