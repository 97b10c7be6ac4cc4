#include "core/limiter/rate_limiter_shared.h"

#include <hiredis/hiredis.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <stdexcept>

#include "core/limiter/rate_limit_scripts.h"

namespace dwu {
namespace {

// An epoch that changes again while we put our admissions back (Redis restarting in a loop)
// ends the call with an error after this many rounds: the facade then falls back to its share.
constexpr int kMaxRestoreRounds = 3;

void require_account(const std::string& account) {
    if (account.empty()) throw std::invalid_argument("rate limiter: empty account");
}

std::string random_member_prefix() {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device(), static_cast<unsigned>(getpid())};
    std::mt19937_64 rng(seed);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                  static_cast<unsigned long long>(rng()));
    return buf;
}

long integer_at(const redisReply* reply, size_t i) {
    const redisReply* e = reply->element[i];
    return e->type == REDIS_REPLY_INTEGER ? static_cast<long>(e->integer) : -1;
}

long ms_between(std::chrono::steady_clock::time_point from, std::chrono::steady_clock::time_point to) {
    return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count());
}

// The run_id line of INFO server ("run_id:<40 hex>\r\n"); empty when absent.
std::string run_id_of(const redisReply* reply) {
    if (reply->type != REDIS_REPLY_STRING) return "";
    const std::string text(reply->str, reply->len);
    const std::string tag = "run_id:";
    const size_t at = text.find(tag);
    if (at == std::string::npos) return "";
    const size_t start = at + tag.size();
    const size_t end = text.find_first_of("\r\n", start);
    std::string id = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (id.size() > 64 || id.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) return "";
    return id;
}

}  // namespace

SharedRateLimiter::SharedRateLimiter(RedisConnection& redis, RateLimits limits, std::string key_prefix, long settle_ms,
                                     MonotonicClock clock)
    : redis_(redis),
      limits_(std::move(limits)),
      prefix_(std::move(key_prefix)),
      settle_ms_(settle_ms),
      clock_(std::move(clock)),
      admit_(kAdmitScript),
      restore_(kRestoreScript),
      block_(kBlockScript),
      member_prefix_(random_member_prefix()) {
    validate(limits_);
    if (settle_ms_ < 0) throw std::invalid_argument("rate limiter: settle of < 0 ms");
    if (!clock_) throw std::invalid_argument("shared rate limiter: no clock");
    for (const auto& w : active_windows(limits_)) {
        const auto length = enforced_length(limits_, w);
        longest_ = std::max(longest_, length);
        // After one window every entry from before the loss has left it: no longer pause.
        settle_ms_ = std::min(settle_ms_, static_cast<long>(length.count()));
    }
}

std::string SharedRateLimiter::window_key(const std::string& account, int window_seconds) const {
    return prefix_ + "rl:" + account + ":" + std::to_string(window_seconds);
}

std::string SharedRateLimiter::share_window_key(const std::string& account, int window_seconds) const {
    if (!limits_.caller_share) throw std::logic_error("rate limiter: no caller share");
    return window_key(account + ":" + limits_.caller_share->name, window_seconds);
}

std::string SharedRateLimiter::block_key(const std::string& account) const { return prefix_ + "block:" + account; }

std::string SharedRateLimiter::next_member() { return member_prefix_ + ":" + std::to_string(++member_counter_); }

std::vector<std::string> SharedRateLimiter::window_keys(const std::string& account) const {
    std::vector<std::string> keys;
    for (const auto& w : active_windows(limits_)) keys.push_back(window_key(account, w.window_seconds));
    if (limits_.caller_share)
        for (const auto& w : active_windows(limits_)) keys.push_back(share_window_key(account, w.window_seconds));
    return keys;
}

std::vector<long> SharedRateLimiter::window_lengths_ms() const {
    std::vector<long> lengths;
    for (const auto& w : active_windows(limits_))
        lengths.push_back(static_cast<long>(enforced_length(limits_, w).count()));
    if (limits_.caller_share) {
        const std::vector<long> again = lengths;
        lengths.insert(lengths.end(), again.begin(), again.end());
    }
    return lengths;
}

void SharedRateLimiter::prune(OwnLog& log, TimePoint now) const {
    const TimePoint horizon = now - longest_;
    while (!log.admissions.empty() && log.admissions.front().at <= horizon) log.admissions.pop_front();
}

void SharedRateLimiter::remember(const std::string& account, std::string member, TimePoint at) {
    OwnLog& log = own_[account];
    prune(log, at);
    log.admissions.push_back({std::move(member), at});
}

size_t SharedRateLimiter::remembered(const std::string& account) const {
    const auto it = own_.find(account);
    if (it == own_.end()) return 0;
    const TimePoint horizon = clock_() - longest_;
    return static_cast<size_t>(std::count_if(it->second.admissions.begin(), it->second.admissions.end(),
                                             [&](const OwnAdmission& a) { return a.at > horizon; }));
}

void SharedRateLimiter::record_local(const std::string& account) {
    require_account(account);
    remember(account, next_member(), clock_());
    restore_pending_ = true;
}

void SharedRateLimiter::record_local_block(const std::string& account, long seconds) {
    require_account(account);
    if (seconds <= 0) throw std::invalid_argument("rate limiter: block of <= 0 s");
    const TimePoint now = clock_();
    OwnLog& log = own_[account];
    log.blocked_until = std::max(log.blocked_until, now + std::chrono::seconds(seconds));
    restore_pending_ = true;
}

// Once per connection: INFO server's run_id tells whether this is still the server we knew. A
// server that refuses INFO (renamed by its admin) leaves it empty; the epoch marker still works.
void SharedRateLimiter::check_server() {
    if (redis_.connected() && redis_.connect_count() == checked_connection_) return;
    std::string id;
    try {
        id = run_id_of(redis_.command({"INFO", "server"}).get());
    } catch (const RedisError& e) {
        if (e.kind() != RedisError::Kind::Reply) throw;
    }
    checked_connection_ = redis_.connect_count();
    if (id != run_id_ && !run_id_.empty()) restore_pending_ = true;
    run_id_ = id;
}

void SharedRateLimiter::restore(const std::string& account, const OwnLog& log, TimePoint now) {
    std::vector<std::string> keys{block_key(account)};
    const std::vector<std::string> windows = window_keys(account);
    keys.insert(keys.end(), windows.begin(), windows.end());
    std::vector<std::string> args{std::to_string(std::max(0L, ms_between(now, log.blocked_until)))};
    for (long length : window_lengths_ms()) args.push_back(std::to_string(length));
    for (const auto& a : log.admissions) {
        args.push_back(a.member);
        args.push_back(std::to_string(std::max(0L, ms_between(a.at, now))));
    }
    ReplyPtr reply = restore_.run(redis_, keys, args);
    if (reply->type != REDIS_REPLY_INTEGER)
        throw RedisError(RedisError::Kind::Reply, "redis " + redis_.endpoint() + ": restore script: unexpected reply");
    restored_ += static_cast<long>(reply->integer);
}

void SharedRateLimiter::restore_all() {
    const TimePoint now = clock_();
    for (auto it = own_.begin(); it != own_.end();) {
        prune(it->second, now);
        if (it->second.admissions.empty() && it->second.blocked_until <= now) {
            it = own_.erase(it);
            continue;
        }
        restore(it->first, it->second, now);
        ++it;
    }
    restore_pending_ = false;
    restores_++;
}

Admission SharedRateLimiter::try_acquire(const std::string& account) {
    require_account(account);
    check_server();
    const std::vector<std::string> windows = window_keys(account);
    const std::vector<long> lengths = window_lengths_ms();
    std::vector<std::string> keys{block_key(account), epoch_key(), settle_key()};
    keys.insert(keys.end(), windows.begin(), windows.end());
    for (int round = 0; round < kMaxRestoreRounds; round++) {
        if (restore_pending_) restore_all();
        const std::string member = next_member();
        std::vector<std::string> args{member, epoch_, run_id_, run_id_ + ":" + member, std::to_string(settle_ms_)};
        // A caller share: the same request also counts in the sub-account's windows, at their
        // lower limits, checked and recorded by the same script call (so atomically with the
        // account's).
        size_t i = 0;
        for (const auto& w : active_windows(limits_)) {
            args.push_back(std::to_string(lengths[i++]));
            args.push_back(std::to_string(w.limit));
        }
        if (const auto& c = limits_.caller_share)
            for (const auto& w : active_windows(limits_)) {
                args.push_back(std::to_string(lengths[i++]));
                args.push_back(std::to_string(share_limit(*c, w)));
            }
        ReplyPtr reply = admit_.run(redis_, keys, args);
        const bool shape_ok = reply->type == REDIS_REPLY_ARRAY && reply->elements >= 2 &&
                              integer_at(reply.get(), 0) >= 0 && integer_at(reply.get(), 1) >= 0;
        if (shape_ok && integer_at(reply.get(), 0) == 2 && reply->elements == 3 &&
            reply->element[2]->type == REDIS_REPLY_STRING) {
            // Redis lost its data, or another limiter found so since we last looked: ours first.
            epoch_.assign(reply->element[2]->str, reply->element[2]->len);
            restore_pending_ = true;
            continue;
        }
        const bool admitted = shape_ok && integer_at(reply.get(), 0) == 1;
        const size_t expected = admitted ? 2 + windows.size() : 2;
        if (!shape_ok || reply->elements != expected || integer_at(reply.get(), 0) > 1)
            throw RedisError(RedisError::Kind::Reply,
                             "redis " + redis_.endpoint() + ": admit script: unexpected reply");
        Admission a;
        a.admitted = admitted;
        a.wait_ms = a.admitted ? 0 : std::max(1L, integer_at(reply.get(), 1));
        if (a.admitted)  // the account's windows come first (the caller share's after them)
            for (size_t w = 0; w < active_windows(limits_).size(); w++)
                a.window_totals.push_back(integer_at(reply.get(), 2 + w));
        if (a.admitted) remember(account, member, clock_());
        return a;
    }
    throw RedisError(RedisError::Kind::Reply,
                     "redis " + redis_.endpoint() + ": the rate limit's data kept vanishing while being restored");
}

long SharedRateLimiter::block(const std::string& account, long seconds) {
    require_account(account);
    if (seconds <= 0) throw std::invalid_argument("rate limiter: block of <= 0 s");
    const TimePoint now = clock_();
    ReplyPtr reply = block_.run(redis_, {block_key(account)}, {std::to_string(seconds * 1000L)});
    if (reply->type != REDIS_REPLY_INTEGER)
        throw RedisError(RedisError::Kind::Reply, "redis " + redis_.endpoint() + ": block script: unexpected reply");
    // Remembered like an admission, to be put back if Redis loses it.
    OwnLog& log = own_[account];
    const long remaining = reply->integer > 0 ? static_cast<long>(reply->integer) : seconds * 1000L;
    log.blocked_until = std::max(log.blocked_until, now + std::chrono::milliseconds(remaining));
    return static_cast<long>(reply->integer);
}

}  // namespace dwu
