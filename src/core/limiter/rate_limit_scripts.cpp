#include "core/limiter/rate_limit_scripts.h"

namespace dwu {

const char* const kAdmitScript = R"lua(
if #ARGV ~= 2 * #KEYS - 1 then
  return redis.error_reply('ERR dwu admit: expected 2 arguments per window')
end
-- Redis < 5 replicates scripts verbatim and refuses writes after TIME; replicate effects instead.
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local wait = 0
local block = redis.call('PTTL', KEYS[1])
if block == -1 then
  wait = 1000
elseif block > 0 then
  wait = block
end
for i = 2, #KEYS do
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
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[i], ARGV[2 * i - 2])
end
return {1, 0}
)lua";

const char* const kBlockScript = R"lua(
local ms = tonumber(ARGV[1])
local current = redis.call('PTTL', KEYS[1])
if current == -1 or current >= ms then return current end
redis.call('SET', KEYS[1], '1', 'PX', ms)
return ms
)lua";

}  // namespace dwu
