#pragma once
#include "core/pg_free.h"
// The Lua scripts of the shared rate limiter. A script runs atomically in Redis, so check, admit
// and record happen in one round trip and two workers can never both take an account's last slot.
// Both read the time from Redis (TIME / PTTL), never from the caller: hosts whose clocks disagree
// still share one timeline.
//
// Admit — KEYS[1] = <prefix>block:<account>; KEYS[2..n+1] = <prefix>rl:<account>:<seconds>, one
//   sorted set per active window (members: unique request ids; scores: admission time in µs).
//   ARGV[1] = a unique member id; then per window k (KEYS[k+1]): ARGV[2k] = window length in ms,
//   ARGV[2k+1] = limit (> 0).
//   Drops each window's entries older than the window. If the block key exists, or any window
//   holds >= limit entries, records nothing and returns {0, wait_ms}: the largest of the block's
//   PTTL (1000 ms for a block without expiry, set by hand to pause an account) and, per full
//   window, the ms until enough entries leave it for one more request (>= 1). Otherwise ZADDs the
//   member to every window, sets each window key's PEXPIRE to its length, and returns {1, 0}.
//   A limiter with a caller share passes, after the account's windows, the same windows of the
//   sub-account (<prefix>rl:<account>:<name>:<seconds>, lower limits): the script treats them as
//   more windows, so both are checked and recorded in one atomic call.
//
// Block — KEYS[1] = <prefix>block:<account>; ARGV[1] = block length in ms (> 0).
//   Sets the key with that PX unless it already lives at least as long (or has no expiry): a
//   shorter retry-after never cuts a longer block short. Returns the block's remaining ms (-1 for
//   a block without expiry).
namespace dwu {

extern const char* const kAdmitScript;
extern const char* const kBlockScript;

}  // namespace dwu
