/**
 * The Lua side of the Redis broker, written for dq from the semantics of Python Dramatiq's
 * RedisBroker (key layout and commands, see README "Key layout"). Shipped as strings so that the
 * build carries them without file-system access.
 *
 * `dispatch` is called as
 * `EVALSHA <sha> 1 <ns> <command> <now_ms> <queue_name> <broker_id> <heartbeat_timeout>
 *  <dead_message_ttl> <do_maintenance 0|1> <max_unpack_size> [args...]`,
 * the argument order Dramatiq uses, so a Redis shared with Python workers sees the same effects.
 * dq adds two commands for its own batching, each with exactly the effects of running the
 * Dramatiq command once per id (in order) in one call: `ack_many id...` (N `ack`s),
 * `enqueue_many id1 data1 id2 data2...` (N `enqueue`s to the call's queue) and
 * `ack_fetch count register id...` (N `ack`s, then a `fetch` of count: a consumer refills its prefetch
 * window in the call that frees it).
 * `enqueue`, `enqueue_many` and `requeue` also PUBLISH a wake-up on `<ns>:__wakeup__.<queue>` for
 * idle dq consumers (a channel, not a key: nothing a Python worker sees). Idle dq consumers
 * register in `<ns>:__waiting__.<queue>` (a ZSET of broker ids, through `fetch count 1`), and
 * `enqueue` of one message onto an empty queue hands it to one of them directly (see `hand_off`),
 * saving the wake-up and fetch round trips; Python's fetch never registers, so Python workers
 * only ever see messages on the list.
 * The one difference is the shape of `fetch`'s reply: dq's returns `[id1, data1, id2, data2, ...]`
 * (data is nil when the id has no entry in the `.msgs` hash, and an array of 256 KiB chunks when it
 * is larger than that) so the consumer can drop nil entries from its ack set; the keys it touches
 * are the same.
 */
export const DISPATCH_SCRIPT = String.raw`
local namespace = KEYS[1]
local command = ARGV[1]
local now = tonumber(ARGV[2])
local queue_name = ARGV[3]
local broker_id = ARGV[4]
local heartbeat_timeout = tonumber(ARGV[5])
local dead_message_ttl = tonumber(ARGV[6])
local do_maintenance = ARGV[7] == "1"
local max_unpack = tonumber(ARGV[8])
local first_arg = 9

-- A delay queue dead-letters into the XQ of its canonical queue.
local function canonical_name(name)
  local suffix = string.sub(name, -3)
  if suffix == ".DQ" or suffix == ".XQ" then
    return string.sub(name, 1, -4)
  end
  return name
end

local heartbeats = namespace .. ":__heartbeats__"
local acks_prefix = namespace .. ":__acks__."
local queue = namespace .. ":" .. queue_name
local queue_messages = queue .. ".msgs"
local acks = acks_prefix .. broker_id .. "." .. queue_name
local dead = namespace .. ":" .. canonical_name(queue_name) .. ".XQ"
local dead_messages = dead .. ".msgs"

-- Where a dq broker records the queues it consumes (the ack sets it may hold): maintenance finds a
-- dead broker's ack sets there instead of with KEYS. Not matched by Dramatiq's KEYS pattern.
local function consumed_key(id)
  return namespace .. ":__consumed__." .. id
end
local CONSUMED_TTL = 604800000

-- Consumers register as alive on every call; producers (enqueue, enqueue_many) and read-only or
-- admin calls do not, so one-shot producers leave no heartbeat entry behind (Dramatiq's script
-- registers every caller).
if command ~= "enqueue" and command ~= "enqueue_many" and command ~= "qsize" and command ~= "purge" then
  redis.call("ZADD", heartbeats, now, broker_id)
end

-- Puts a dead broker's unacked messages of one queue back on that queue.
local function requeue_dead(dead_id, name)
  local dead_acks = acks_prefix .. dead_id .. "." .. name
  local list = namespace .. ":" .. name
  local held = redis.call("SMEMBERS", dead_acks)
  local pushed = 0
  for _, message_id in ipairs(held) do
    if redis.call("HEXISTS", list .. ".msgs", message_id) == 1 then
      redis.call("RPUSH", list, message_id)
      pushed = pushed + 1
    end
  end
  if #held > 0 then
    redis.call("DEL", dead_acks)
  end
  redis.call("ZREM", namespace .. ":__waiting__." .. name, dead_id)
  if pushed > 0 then
    redis.call("PUBLISH", namespace .. ":__wakeup__." .. name, "1")
  end
end

-- Keys of the maintenance's SCAN pass (see below).
local scan_state = namespace .. ":__maintenance__"
local scan_seen = namespace .. ":__maintenance_seen__"
local SCAN_COUNT = 500

if do_maintenance then
  -- Brokers that stopped beating. A dq broker's record names every queue it consumed: all its ack
  -- sets go back and its entry goes. Any other (a Python worker, a dq broker whose record expired):
  -- this queue's ack set goes back, as in Dramatiq; its entry stays until the SCAN pass below
  -- shows it holds no ack set (Dramatiq runs KEYS for each such broker on every call instead).
  local stale = redis.call("ZRANGEBYSCORE", heartbeats, "-inf", now - heartbeat_timeout)
  for _, stale_id in ipairs(stale) do
    requeue_dead(stale_id, queue_name)
    local record = consumed_key(stale_id)
    local queues = redis.call("SMEMBERS", record)
    if #queues > 0 then
      for _, name in ipairs(queues) do
        if name ~= queue_name then
          requeue_dead(stale_id, name)
        end
      end
      redis.call("DEL", record)
      redis.call("ZREM", heartbeats, stale_id)
    end
  end

  -- A bounded SCAN step over the ack sets (SCAN_COUNT keys a call, resumed from a stored cursor):
  -- the owners seen during a pass are collected, and when the pass completes, a stale entry that
  -- was stale before the pass began and owns none of them is removed: it holds no ack set.
  local state = redis.call("HMGET", scan_state, "cursor", "started")
  local cursor = state[1] or "0"
  local started = tonumber(state[2]) or now
  if cursor == "0" and not state[2] then
    redis.call("DEL", scan_seen)
  end
  local pattern = string.gsub(acks_prefix, "([%*%?%[%]\\])", "\\%1") .. "*"
  local step = redis.call("SCAN", cursor, "MATCH", pattern, "COUNT", SCAN_COUNT)
  local prefix_length = #acks_prefix
  for _, key in ipairs(step[2]) do
    -- __acks__.<id>.<queue>: ids are uuids (no dot), queue names may hold dots.
    local rest = string.sub(key, prefix_length + 1)
    local dot = string.find(rest, ".", 1, true)
    if dot then
      redis.call("SADD", scan_seen, string.sub(rest, 1, dot - 1))
    end
  end
  if step[1] == "0" then
    local gone = redis.call("ZRANGEBYSCORE", heartbeats, "-inf", started - heartbeat_timeout)
    for _, stale_id in ipairs(gone) do
      if redis.call("SISMEMBER", scan_seen, stale_id) == 0 and redis.call("EXISTS", consumed_key(stale_id)) == 0 then
        redis.call("ZREM", heartbeats, stale_id)
      end
    end
    redis.call("DEL", scan_seen, scan_state)
  else
    redis.call("HSET", scan_state, "cursor", step[1], "started", started)
  end

  -- Dead letters older than the TTL go, in chunks that unpack can take.
  local expired = redis.call("ZRANGEBYSCORE", dead, "-inf", now - dead_message_ttl)
  local index = 1
  while index <= #expired do
    local last = math.min(index + max_unpack - 1, #expired)
    redis.call("ZREM", dead, unpack(expired, index, last))
    redis.call("HDEL", dead_messages, unpack(expired, index, last))
    index = last + 1
  end
end

-- Message bytes larger than this are replied as an array of chunks of this size: ioredis's reply
-- parser copies a bulk reply that spans socket reads into a module-wide pool three times its size,
-- which it never frees (a worker kept ~3x its largest message); chunks bound that pool.
local REPLY_CHUNK = 262144
local function reply_data(data)
  if not data or #data <= REPLY_CHUNK then
    return data
  end
  local chunks = {}
  for start = 1, #data, REPLY_CHUNK do
    chunks[#chunks + 1] = string.sub(data, start, start + REPLY_CHUNK - 1)
  end
  return chunks
end

-- Moves up to count ids from the queue to this broker's ack set; replies id, data pairs.
local function fetch(count)
  local wanted = math.min(count, max_unpack)
  local reply = {}
  for _ = 1, wanted do
    local message_id = redis.call("LPOP", queue)
    if not message_id then
      break
    end
    redis.call("SADD", acks, message_id)
    reply[#reply + 1] = message_id
    reply[#reply + 1] = reply_data(redis.call("HGET", queue_messages, message_id))
  end
  if #reply > 0 then
    local record = consumed_key(broker_id)
    redis.call("SADD", record, queue_name)
    redis.call("PEXPIRE", record, CONSUMED_TTL)
  end
  return reply
end

-- Dramatiq's ack for each id from ARGV[from] on; returns how many were held.
local function ack_ids(from)
  local count = 0
  for index = from, #ARGV do
    local message_id = ARGV[index]
    if redis.call("SREM", acks, message_id) == 1 then
      redis.call("HDEL", queue_messages, message_id)
      count = count + 1
    end
  end
  return count
end

-- Wakes idle dq consumers of the queue (Pub/Sub: nothing is stored; Python never listens).
local function wake_consumers()
  redis.call("PUBLISH", namespace .. ":__wakeup__." .. queue_name, "1")
end

-- dq consumers that found the queue empty, by broker id (see "fetch" and "enqueue").
local waiting = namespace .. ":__waiting__." .. queue_name

-- Hands a message straight to an idle dq consumer: the longest-waiting broker still subscribed
-- to its hand-off channel gets the id and bytes by Pub/Sub, with the id already in its ack set,
-- as if its fetch had returned it. Only when the queue is empty (FIFO kept). Returns whether a
-- consumer took it; registrations whose broker no longer listens are dropped on the way.
local function hand_off(message_id, data)
  -- A large message goes by the list (a fetch replies it in chunks, see reply_data).
  if #data > REPLY_CHUNK or redis.call("LLEN", queue) > 0 then
    return false
  end
  while true do
    local popped = redis.call("ZPOPMIN", waiting)
    if #popped == 0 then
      return false
    end
    local receiver = popped[1]
    local channel = namespace .. ":__handoff__." .. receiver
    if redis.call("PUBLISH", channel, queue_name .. "\n" .. message_id .. "\n" .. data) > 0 then
      redis.call("SADD", acks_prefix .. receiver .. "." .. queue_name, message_id)
      redis.call("SADD", consumed_key(receiver), queue_name)
      redis.call("PEXPIRE", consumed_key(receiver), CONSUMED_TTL)
      return true
    end
  end
end

if command == "enqueue" then
  local message_id = ARGV[first_arg]
  local data = ARGV[first_arg + 1]
  redis.call("HSET", queue_messages, message_id, data)
  if hand_off(message_id, data) then
    return 1
  end
  redis.call("RPUSH", queue, message_id)
  wake_consumers()
  return 1

elseif command == "enqueue_many" then
  local count = 0
  for index = first_arg, #ARGV - 1, 2 do
    local message_id = ARGV[index]
    redis.call("HSET", queue_messages, message_id, ARGV[index + 1])
    redis.call("RPUSH", queue, message_id)
    count = count + 1
  end
  wake_consumers()
  return count

elseif command == "fetch" then
  -- dq: with a second argument "1", a fetch that finds nothing registers this broker as waiting
  -- for a hand-off (atomically, so no enqueue slips between the empty LPOP and the registration).
  local reply = fetch(tonumber(ARGV[first_arg]))
  if #reply == 0 and ARGV[first_arg + 1] == "1" then
    redis.call("ZADD", waiting, now, broker_id)
  end
  return reply

elseif command == "ack" or command == "ack_many" then
  -- Dramatiq's ack takes one id; ack_many is the same effect for each id, in one call.
  return ack_ids(first_arg)

elseif command == "ack_fetch" then
  -- dq: ack_many of the ids after count and register, then a fetch of count (registering as
  -- "fetch" does when it finds nothing); one call instead of two.
  ack_ids(first_arg + 2)
  local reply = fetch(tonumber(ARGV[first_arg]))
  if #reply == 0 and ARGV[first_arg + 1] == "1" then
    redis.call("ZADD", waiting, now, broker_id)
  end
  return reply

elseif command == "nack" then
  local message_id = ARGV[first_arg]
  if redis.call("SREM", acks, message_id) == 1 then
    local data = redis.call("HGET", queue_messages, message_id)
    if data then
      redis.call("ZADD", dead, now, message_id)
      redis.call("HSET", dead_messages, message_id, data)
      redis.call("HDEL", queue_messages, message_id)
      return 1
    end
  end
  return 0

elseif command == "requeue" then
  local count = 0
  for index = first_arg, #ARGV do
    local message_id = ARGV[index]
    if redis.call("SREM", acks, message_id) == 1 and redis.call("HEXISTS", queue_messages, message_id) == 1 then
      redis.call("RPUSH", queue, message_id)
      count = count + 1
    end
  end
  if count > 0 then
    wake_consumers()
  end
  return count

elseif command == "unwait" then
  -- dq: this broker's consumers of the queue stopped waiting for hand-offs.
  return redis.call("ZREM", waiting, broker_id)

elseif command == "purge" then
  redis.call("DEL", queue, acks, queue_messages, dead, dead_messages)
  return 1

elseif command == "qsize" then
  local delay_name = queue_name .. ".DQ"
  return redis.call("HLEN", queue_messages)
    + redis.call("SCARD", acks)
    + redis.call("HLEN", namespace .. ":" .. delay_name .. ".msgs")
    + redis.call("SCARD", acks_prefix .. broker_id .. "." .. delay_name)
end

return redis.error_reply("dq dispatch: unknown command " .. tostring(command))
`;
