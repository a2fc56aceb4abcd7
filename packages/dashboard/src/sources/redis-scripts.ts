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

/**
 * One page in one round trip: the ids of a list (LRANGE) or a zset (ZRANGE with scores), in the
 * page's order, and their bytes (HMGET of just those ids), with the list's or zset's length.
 * KEYS: list or zset, hash; ARGV: "list" | "zset", "oldest" | "newest", offset, limit.
 * Replies { total, ids, data (nil when gone), scores }.
 */
export const PAGE_SCRIPT = `
local kind, order = ARGV[1], ARGV[2]
local offset, limit = tonumber(ARGV[3]), tonumber(ARGV[4])
local total, ids, scores = 0, {}, {}
if kind == "zset" then
  total = redis.call("ZCARD", KEYS[1])
  local scored
  if order == "oldest" then
    scored = redis.call("ZRANGE", KEYS[1], offset, offset + limit - 1, "WITHSCORES")
  else
    scored = redis.call("ZREVRANGE", KEYS[1], offset, offset + limit - 1, "WITHSCORES")
  end
  for i = 1, #scored, 2 do
    ids[#ids + 1] = scored[i]
    scores[#scores + 1] = scored[i + 1]
  end
else
  total = redis.call("LLEN", KEYS[1])
  if order == "oldest" then
    ids = redis.call("LRANGE", KEYS[1], offset, offset + limit - 1)
  elseif offset < total then
    local listed = redis.call("LRANGE", KEYS[1], -(offset + limit), -(offset + 1))
    for i = #listed, 1, -1 do
      ids[#ids + 1] = listed[i]
    end
  end
end
local data = {}
if #ids > 0 then
  data = redis.call("HMGET", KEYS[2], unpack(ids))
end
return { total, ids, data, scores }
`;
