#include "request_log.h"

#include "invented_codes.h"

#include <algorithm>
#include <chrono>
#include <vector>

namespace sim {
namespace {

using nlohmann::json;

json to_json(const RequestRecord& r) {
    json out{{"t_ms", r.t_ms},
             {"path", r.path},
             {"client_code", r.client_code.empty() ? json(nullptr) : json(r.client_code)},
             {"outcome", r.outcome}};
    if (r.fault) out["fault"] = fault_name(*r.fault);
    if (!r.unsent_code.empty()) out["unsent_code"] = r.unsent_code;
    return out;
}

bool earlier(const RequestRecord& a, const RequestRecord& b) { return a.t_ms < b.t_ms; }

}  // namespace

std::int64_t RequestLog::now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void RequestLog::record(RequestRecord r) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (capacity_ == 0) return;
    if (entries_.size() >= capacity_) entries_.pop_front();
    entries_.push_back(std::move(r));
}

json RequestLog::since(std::int64_t since_ms) const {
    std::vector<RequestRecord> picked;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& r : entries_)
            if (r.t_ms >= since_ms) picked.push_back(r);
    }
    // Entries are appended when their handler ends; a slow (delayed) request lands after
    // later arrivals, so order by arrival here.
    std::stable_sort(picked.begin(), picked.end(), earlier);
    json requests = json::array();
    for (const auto& r : picked) requests.push_back(to_json(r));
    return json{{"requests", std::move(requests)}};
}

std::size_t RequestLog::max_in_window(const std::string& client_code, std::int64_t window_ms) const {
    std::vector<std::int64_t> times;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& r : entries_)
            if (r.client_code == client_code) times.push_back(r.t_ms);
    }
    std::sort(times.begin(), times.end());
    // Two pointers: [first, last] is the longest run ending at `last` that fits in the window.
    std::size_t best = 0;
    std::size_t first = 0;
    for (std::size_t last = 0; last < times.size(); ++last) {
        while (times[last] - times[first] >= window_ms) ++first;
        best = std::max(best, last - first + 1);
    }
    return best;
}

void RequestLog::reset() {
    std::lock_guard<std::mutex> lock(mutex_);
    entries_.clear();
}

LoggedRequest::LoggedRequest(RequestLog& log, const std::string& path) : log_(log) {
    record_.t_ms = RequestLog::now_ms();
    record_.path = path;
    record_.outcome = invented::kInternalError;
}

LoggedRequest::~LoggedRequest() {
    try {
        commit();
    } catch (...) {  // out of memory: the entry is lost, the answer is not
    }
}

void LoggedRequest::commit() {
    if (committed_) return;
    committed_ = true;
    log_.record(std::move(record_));
}

}  // namespace sim
