// A log of protocol requests (the /__sim/ paths are not logged) for tests: when each came, from
// which account, and what it got. Bounded: keeps the most recent `capacity` entries.
#pragma once

#include "fault_kind.h"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace sim {

struct RequestRecord {
    std::int64_t t_ms = 0;  // arrival, ms since the Unix epoch (system clock)
    std::string path;
    std::string client_code;         // "" = unknown (no valid token, no client_code in the /auth body)
    std::string outcome;             // envelope code sent, or the fault kind that replaced the answer
    std::optional<FaultKind> fault;  // set when a fault was injected (delay included)
    std::string unsent_code;         // lost_response: the code of the answer that was never sent
};

class RequestLog {
public:
    static constexpr std::size_t kDefaultCapacity = 200000;

    explicit RequestLog(std::size_t capacity = kDefaultCapacity) : capacity_(capacity) {}

    static std::int64_t now_ms();

    void record(RequestRecord r);
    // {"requests": [{"t_ms", "path", "client_code" (string|null), "outcome"[, "fault"]
    //  [, "unsent_code"]}, ...]} for entries with t_ms >= since_ms, in arrival order.
    nlohmann::json since(std::int64_t since_ms) const;
    // The most requests of `client_code` whose arrival times lie within any window of
    // `window_ms` (half-open: t .. t + window_ms - 1, like the rate limiter's window).
    std::size_t max_in_window(const std::string& client_code, std::int64_t window_ms) const;
    void reset();

private:
    const std::size_t capacity_;
    mutable std::mutex mutex_;
    std::deque<RequestRecord> entries_;  // in completion order; arrival order may differ slightly
};

// One protocol request's entry, recorded when the handler finishes (so before httplib writes the
// answer: a test holding the answer finds the entry), or earlier by commit() when the handler
// is about to reset the connection. The outcome starts as the invented internal-error code,
// which is what the exception handler sends if the handler throws.
class LoggedRequest {
public:
    LoggedRequest(RequestLog& log, const std::string& path);
    ~LoggedRequest();
    LoggedRequest(const LoggedRequest&) = delete;
    LoggedRequest& operator=(const LoggedRequest&) = delete;

    RequestRecord& record() { return record_; }
    void commit();

private:
    RequestLog& log_;
    RequestRecord record_;
    bool committed_ = false;
};

}  // namespace sim
