-- Keep a stream's snapshot if it is newer than the one stored.
--
-- KEYS[1]  ld:{S}:snapshot  hash: seq, data
-- ARGV[1]  the snapshot's seq
-- ARGV[2]  the snapshot's bytes
--
-- Returns 1 when stored, 0 when the stored one is as new or newer (several
-- processes fold the same stream and may all offer the same snapshot).
local have = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
if tonumber(ARGV[1]) <= have then
  return 0
end
redis.call('HSET', KEYS[1], 'seq', ARGV[1], 'data', ARGV[2])
return 1
