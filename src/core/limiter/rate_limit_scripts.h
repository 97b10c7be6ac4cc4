#pragma once
#include "core/pg_free.h"
// The Lua scripts of the shared rate limiter. A script runs atomically in Redis, so check, admit
// and record happen in one round trip and two workers can never both take an account's last slot.
// They read the time from Redis (TIME / PTTL), never from the caller: hosts whose clocks disagree
// still share one timeline (a restored entry carries its age, not a time).
//
// Admit — KEYS[1] = <prefix>block:<account>; KEYS[2] = <prefix>rl-epoch (the epoch marker);
//   KEYS[3] = <prefix>rl-settle; KEYS[4..n+3] = <prefix>rl:<account>:<seconds>, one sorted set per
//   active window (members: unique request ids; scores: admission time in µs).
//   ARGV[1] = a unique member id; ARGV[2] = the epoch the caller knows ('' at first);
//   ARGV[3] = the run_id of the server the caller is connected to ('' if unknown); ARGV[4] = a new
//   unique epoch, "<run_id>:<unique>"; ARGV[5] = settle ms (>= 0); then per window k (KEYS[k+3]):
//   ARGV[2k+4] = window length in ms, ARGV[2k+5] = limit (> 0).
//   First the epoch: a missing marker means Redis lost its data (a restart without persistence,
//   FLUSHALL); a marker of another run_id means another server process now (a failover, a restart
//   that loaded an older snapshot). Either way the marker becomes ARGV[4] and, when ARGV[5] > 0,
//   KEYS[3] is set for ARGV[5] ms: a settle during which nothing is admitted, so that every process
//   can put its recent admissions back before anyone takes their slots. If the marker (new or not)
//   is not ARGV[2], records nothing and returns {2, 0, marker}: the caller must restore its
//   admissions (Restore), then ask again with that epoch.
//   Then drops each window's entries older than the window. If the block or settle key exists, or
//   any window holds >= limit entries, records nothing and returns {0, wait_ms}: the largest of
//   their PTTLs (1000 ms for one without expiry, e.g. a block set by hand) and, per full window,
//   the ms until enough entries leave it for one more request (>= 1). Otherwise ZADDs the member
//   to every window, sets each window key's PEXPIRE to its length, and returns {1, 0}.
//   A limiter with a caller share passes, after the account's windows, the same windows of the
//   sub-account (<prefix>rl:<account>:<name>:<seconds>, lower limits): the script treats them as
//   more windows, so both are checked and recorded in one atomic call.
//
// Restore — KEYS[1] = <prefix>block:<account>; KEYS[2..n+1] = the windows as for Admit.
//   ARGV[1] = block ms still to run (0: none); ARGV[2..n+1] = each window's length in ms; then
//   pairs (member id, age in ms) of the caller's own admissions. Extends the block to ARGV[1]
//   unless it already lives longer; ZADDs NX each entry younger than a window into that window with
//   score now - age (NX: an entry still there keeps its score, so restoring twice changes
//   nothing), and PEXPIREs each window to its length. Returns how many entries were missing (from
//   one window or more) and were added.
//
// Block — KEYS[1] = <prefix>block:<account>; ARGV[1] = block length in ms (> 0).
//   Sets the key with that PX unless it already lives at least as long (or has no expiry): a
//   shorter retry-after never cuts a longer block short. Returns the block's remaining ms (-1 for
//   a block without expiry).
namespace dwu {

extern const char* const kAdmitScript;
extern const char* const kRestoreScript;
extern const char* const kBlockScript;

}  // namespace dwu
