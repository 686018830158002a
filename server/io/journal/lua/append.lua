-- Append facts to one journal stream: check, number and XADD in one atomic step.
--
-- KEYS[1]  ld:{S}:facts    the stream of facts (entry id "<seq>-0", field "f")
-- KEYS[2]  ld:{S}:meta     hash: seq (the last seq)
-- KEYS[3]  ld:streams      the index of streams (one entry when S is created)
-- ARGV[1]  expect_seq: "" for none, else the seq the stream must be at
-- ARGV[2]  the stream's name S (for the index)
-- ARGV[3..] the facts' JSON bodies, in order
--
-- Returns {1, last_seq} when appended, {0, current_seq} when expect_seq did
-- not match (nothing written).
--
-- No epoch is kept beside the seq: a tail that reconnects re-reads the entry
-- at its position and compares it with what it folded (journal_redis.py,
-- _verify), which finds a rewound or recreated stream by its content.
local top = tonumber(redis.call('HGET', KEYS[2], 'seq') or '0')
if ARGV[1] ~= '' and tonumber(ARGV[1]) ~= top then
  return {0, top}
end
if #ARGV < 3 then
  return {1, top}
end
if top == 0 then
  redis.call('XADD', KEYS[3], '*', 'stream', ARGV[2])
end
for i = 3, #ARGV do
  top = top + 1
  redis.call('XADD', KEYS[1], top .. '-0', 'f', ARGV[i])
end
redis.call('HSET', KEYS[2], 'seq', top)
return {1, top}
