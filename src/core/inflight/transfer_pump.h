#pragma once
#include "core/pg_free.h"
// Many HTTP requests in flight through one libcurl multi handle. One thread owns the pump (the
// worker's main thread) and drives it; the requests come from other threads (the job threads),
// each blocking in run() until its answer is in. The multi handle's connection cache keeps
// connections alive and reuses them across requests.
//
// The owner waits on wait_fds() (curl's sockets and a wake-up eventfd that run(), on_owner() and
// wake() write) together with whatever else it waits for (the worker: its latch, in one
// WaitEventSet), then calls pump() with the descriptors that fired. pump() never blocks. Each
// request is admitted (the rate limiter, on the owner thread) right before it is handed to
// libcurl, so a slot is taken when the request is sent, not when its job started.
// PostgreSQL-free; nothing here may ereport (the worker's glue does, after pump() returns).
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/dinamize/dinamize_errors.h"
#include "core/dinamize/http_transport.h"

namespace dwu {

// What an admission throws for a wait too long to hold a request in the pump: the job goes back
// to the queue unattempted for that long (the worker's deferral), as Interrupted does on a stop.
class AdmissionDeferred : public Interrupted {
public:
    explicit AdmissionDeferred(long ms) : wait_ms(ms) {}
    long wait_ms;
};

class TransferPump {
public:
    // Asked on the owner thread before a request of `key` is sent: 0 sends it now; > 0 asks again
    // after that many ms (the request waits, the others go on). A DinamizeError it throws fails
    // that request instead (the requester gets it; nothing is sent).
    using Admit = std::function<long(const std::string& key)>;

    // max_in_flight >= 1. Throws std::runtime_error when libcurl or the eventfd cannot be set up.
    explicit TransferPump(size_t max_in_flight, Admit admit = nullptr);
    ~TransferPump();  // stop() first; no run() may be waiting any more
    TransferPump(const TransferPump&) = delete;
    TransferPump& operator=(const TransferPump&) = delete;

    // --- any thread but the owner's ---
    // Sends the prepared transfer under `key` (the account the limiter counts) and waits until it
    // is done; returns libcurl's result for HttpTransfer::finish. Throws what the admission threw,
    // or Interrupted once stop() was called (a request in flight is abandoned: the caller must
    // assume it may have reached the server).
    int run(const std::string& key, HttpTransfer& transfer);
    // Runs `task` on the owner thread at its next pump() and waits for it: for what must not run
    // on two threads at once (the Redis connection's users). Its exception is rethrown here;
    // Interrupted once stop() was called.
    void on_owner(const std::function<void()>& task);
    // Makes the owner's wait return (a job thread finished).
    void wake();

    // --- the owner thread ---
    struct WaitFd {
        int fd;
        bool read;
        bool write;
    };
    // What to wait on before the next pump(): the wake-up descriptor (read) and curl's sockets.
    std::vector<WaitFd> wait_fds() const;
    // Runs the tasks, starts the admitted requests, moves the transfers whose descriptors are in
    // `ready` (with what each is ready for) and any whose timer ran out, completes those done. Returns how long the
    // owner may wait before calling it again at the latest (ms; -1: only when a descriptor fires).
    long pump(const std::vector<WaitFd>& ready = {});
    // How long until pump() must run again at the latest (libcurl's timer, a waiting admission):
    // ms, 0 now, -1 only when a descriptor fires. What pump() returns; a timer set by libcurl
    // since (a callback) counts too.
    long pump_due_ms() const;
    // For owners without a wait of their own (tests, tools): poll() on wait_fds() up to
    // `timeout_ms` (-1: no limit) or pump_due_ms(), whichever is sooner, then pump() with what
    // fired. Returns what pump() returned.
    long wait_and_pump(long timeout_ms);
    // Fails every request waiting or in flight, and every later one, with Interrupted.
    void stop();

    bool stopped() const;
    size_t in_flight() const { return running_.size(); }
    size_t peak_in_flight() const { return peak_; }
    size_t waiting() const;  // submitted, not yet sent (not admitted yet, or no free slot)

private:
    struct Slot;
    struct Task;
    struct Curl;
    using Clock = std::chrono::steady_clock;

    template <typename Item>
    void hand_to_owner(std::deque<Item*>& queue, Item& item);
    void take_submitted();
    void run_tasks();
    void start_admitted(Clock::time_point now);
    void collect_done();
    bool run_expired_timer();
    void complete(Slot* slot, int result, std::exception_ptr error);
    void drain_wakeups();
    void notify_owner();

    // libcurl's callbacks (on the owner thread, inside curl_multi_* calls); they never throw.
    static int on_socket(CURL* easy, curl_socket_t fd, int what, void* self, void* socket_data);
    static int on_timer(CURLM* multi, long timeout_ms, void* self);

    size_t max_in_flight_;
    Admit admit_;
    std::unique_ptr<Curl> curl_;
    int wake_fd_ = -1;

    mutable std::mutex mutex_;  // guards submitted_, tasks_, stopped_ and the slots' done/result
    std::condition_variable done_cv_;
    std::deque<Slot*> submitted_;
    std::deque<Task*> tasks_;
    bool stopped_ = false;

    // The owner's alone.
    std::deque<Slot*> waiting_;       // in submission order
    std::map<void*, Slot*> running_;  // easy handle → slot
    std::map<int, int> sockets_;      // fd → CURL_POLL_IN / OUT / INOUT
    Clock::time_point timer_at_ = Clock::time_point::max();
    size_t peak_ = 0;
};

// A DinamizeClient's transport through a pump: many clients, one per job thread, share one
// multi handle. Each request is admitted under `key` (the limiter's account key).
class PumpedTransport : public HttpPoster {
public:
    PumpedTransport(TransferPump& pump, HttpOptions options, std::string key);

    HttpResponse post(const std::string& url, const std::string& content_type, const std::string& body,
                      const std::vector<std::string>& headers) override;
    HttpResponse post_form(const std::string& url, const std::vector<FormPart>& parts,
                           const std::vector<std::string>& headers) override;

private:
    TransferPump& pump_;
    HttpOptions options_;
    std::string key_;
    HttpTransfer transfer_;  // after options_: it refers to them
};

}  // namespace dwu
