"""The server-side (Lua) scripts of the Redis store (``dedup.store.redis``): each runs as one atomic step on the
server. ``KEYS[1]`` is the index's key prefix (``name:``); ``INSERT`` has no keys, its ``ARGV[1]`` is the bucket
storage's name.
"""

#: ``RedisSetStorage.insert(key, value)`` for each (key, value) pair of ARGV[2:], under the storage name
#: ARGV[1]: the name's hash maps the key to its set (name .. key), the set holds the values.
INSERT = """
local name = ARGV[1]
local fields = {}
for i = 2, #ARGV, 2 do
  local set = name .. ARGV[i]
  redis.call('SADD', set, ARGV[i + 1])
  fields[#fields + 1] = ARGV[i]
  fields[#fields + 1] = set
  if #fields >= 1000 then
    redis.call('HSET', name, unpack(fields))
    fields = {}
  end
end
if #fields > 0 then
  redis.call('HSET', name, unpack(fields))
end
return 0
"""

#: Take ARGV[2] ids for writer ARGV[1] and mark them pending, renewing its lease (ARGV[3] ms); the first id.
TAKE = """
local p = KEYS[1]
redis.call('SET', p .. 'writer:' .. ARGV[1], '1', 'PX', ARGV[3])
local last = redis.call('INCRBY', p .. 'next', ARGV[2])
local first = last - tonumber(ARGV[2]) + 1
for i = first, last do
  redis.call('HSET', p .. 'pending', i, ARGV[1])
end
return first
"""

#: Make writer ARGV[1]'s documents visible: ARGV[3..] are (id, path, digest hex) triples. With ARGV[2] = '1'
#: a document stored under the same path is replaced, else such a path is an error and nothing changes. An
#: error too if any of the writer's documents is no longer pending for it (cleaned up: nothing changes), or if
#: its lease has run out (it reached the server after the writer gave up waiting for the answer).
COMMIT = """
local p = KEYS[1]
local writer, replace = ARGV[1], ARGV[2] == '1'
if redis.call('EXISTS', p .. 'writer:' .. writer) == 0 then
  return redis.error_reply('LATE')
end
for i = 3, #ARGV, 3 do
  if redis.call('HGET', p .. 'pending', ARGV[i]) ~= writer or redis.call('EXISTS', p .. 'doc:' .. ARGV[i]) == 0 then
    return redis.error_reply('LOST ' .. ARGV[i])
  end
  if not replace and redis.call('HEXISTS', p .. 'paths', ARGV[i + 1]) == 1 then
    return redis.error_reply('STORED ' .. ARGV[i + 1])
  end
end
local function hex(s)
  return (string.gsub(s, '.', function(c) return string.format('%02x', string.byte(c)) end))
end
for i = 3, #ARGV, 3 do
  local id, path, digest = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local old = redis.call('HGET', p .. 'paths', path)
  if old then
    local old_digest = redis.call('HGET', p .. 'doc:' .. old, 'digest')
    if old_digest then
      redis.call('SREM', p .. 'digest:' .. hex(old_digest), old)
    end
    redis.call('SREM', p .. 'live', old)
    redis.call('DEL', p .. 'doc:' .. old)
  end
  redis.call('HSET', p .. 'paths', path, id)
  redis.call('SADD', p .. 'digest:' .. digest, id)
  redis.call('SADD', p .. 'live', id)
  redis.call('HDEL', p .. 'pending', id)
end
return #ARGV
"""

#: Remove what writer ARGV[1] left pending (ids ARGV[2..]), where it is still pending for it.
DROP = """
local p = KEYS[1]
for i = 2, #ARGV do
  if redis.call('HGET', p .. 'pending', ARGV[i]) == ARGV[1] then
    redis.call('HDEL', p .. 'pending', ARGV[i])
    redis.call('DEL', p .. 'doc:' .. ARGV[i])
  end
end
return 0
"""

#: Remove the document stored under path ARGV[1]: its id, or false if there is none.
REMOVE = """
local p = KEYS[1]
local id = redis.call('HGET', p .. 'paths', ARGV[1])
if not id then
  return false
end
local digest = redis.call('HGET', p .. 'doc:' .. id, 'digest')
if digest then
  redis.call('SREM', p .. 'digest:' .. string.gsub(digest, '.', function(c) return string.format('%02x', string.byte(c)) end), id)
end
redis.call('SREM', p .. 'live', id)
redis.call('HDEL', p .. 'paths', ARGV[1])
redis.call('DEL', p .. 'doc:' .. id)
return id
"""
