#include "core/limiter/rate_limit_scripts.h"

namespace dwu {

const char* const kAdmitScript = R"lua(
if #KEYS < 3 or #ARGV ~= 2 * #KEYS - 1 then
  return redis.error_reply('ERR dwu admit: expected 5 arguments and 2 per window')
end
-- Redis < 5 replicates scripts verbatim and refuses writes after TIME; replicate effects instead.
if redis.replicate_commands then redis.replicate_commands() end
local epoch = redis.call('GET', KEYS[2])
local run = ARGV[3] .. ':'
if (not epoch) or (ARGV[3] ~= '' and string.sub(epoch, 1, #run) ~= run) then
  epoch = ARGV[4]
  redis.call('SET', KEYS[2], epoch)
  local settle = tonumber(ARGV[5])
  if settle > 0 then redis.call('SET', KEYS[3], '1', 'PX', settle) end
end
if epoch ~= ARGV[2] then return {2, 0, epoch} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local wait = 0
for i = 1, 3, 2 do
  local ttl = redis.call('PTTL', KEYS[i])
  if ttl == -1 then ttl = 1000 end
  if ttl > wait then wait = ttl end
end
for i = 4, #KEYS do
  local span = tonumber(ARGV[2 * i - 2]) * 1000
  local limit = tonumber(ARGV[2 * i - 1])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - span)
  local count = redis.call('ZCARD', KEYS[i])
  if count >= limit then
    -- one more fits once count - limit + 1 entries have left: wait for the (count - limit)-th
    local entry = redis.call('ZRANGE', KEYS[i], count - limit, count - limit, 'WITHSCORES')
    local w = math.ceil((tonumber(entry[2]) + span - now) / 1000)
    if w < 1 then w = 1 end
    if w > wait then wait = w end
  end
end
if wait > 0 then return {0, wait} end
local totals = {1, 0}
for i = 4, #KEYS do
  redis.call('ZADD', KEYS[i], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[i], ARGV[2 * i - 2])
  totals[#totals + 1] = redis.call('ZCARD', KEYS[i])
end
return totals
)lua";

const char* const kRestoreScript = R"lua(
local n = #KEYS - 1
if n < 1 or #ARGV < n + 1 or (#ARGV - n - 1) % 2 ~= 0 then
  return redis.error_reply('ERR dwu restore: expected a block, one length per window and pairs')
end
if redis.replicate_commands then redis.replicate_commands() end
local block = tonumber(ARGV[1])
if block > 0 then
  local current = redis.call('PTTL', KEYS[1])
  if current ~= -1 and current < block then redis.call('SET', KEYS[1], '1', 'PX', block) end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local added = 0
for j = n + 2, #ARGV, 2 do
  local age_ms = tonumber(ARGV[j + 1])
  local new = 0
  for i = 1, n do
    if age_ms < tonumber(ARGV[i + 1]) then
      new = new + redis.call('ZADD', KEYS[i + 1], 'NX', now - age_ms * 1000, ARGV[j])
    end
  end
  if new > 0 then added = added + 1 end
end
for i = 1, n do
  if redis.call('EXISTS', KEYS[i + 1]) == 1 then redis.call('PEXPIRE', KEYS[i + 1], ARGV[i + 1]) end
end
return added
)lua";

const char* const kBlockScript = R"lua(
local ms = tonumber(ARGV[1])
local current = redis.call('PTTL', KEYS[1])
if current == -1 or current >= ms then return current end
redis.call('SET', KEYS[1], '1', 'PX', ms)
return ms
)lua";

}  // namespace dwu
