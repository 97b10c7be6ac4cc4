#include "core/inflight/transfer_pump.h"

#include <curl/curl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

#include "core/dinamize/dinamize_errors.h"

namespace dwu {

struct TransferPump::Slot {
    std::string key;
    HttpTransfer* transfer = nullptr;
    Clock::time_point next_try{};
    bool done = false;
    int result = CURLE_OK;
    std::exception_ptr error;
};

struct TransferPump::Task {
    const std::function<void()>* fn = nullptr;
    bool done = false;
    std::exception_ptr error;
};

struct TransferPump::Curl {
    struct MultiDeleter {
        void operator()(CURLM* m) const { curl_multi_cleanup(m); }
    };
    std::unique_ptr<CURLM, MultiDeleter> multi{curl_multi_init()};
};

TransferPump::TransferPump(size_t max_in_flight, Admit admit)
    : max_in_flight_(max_in_flight), admit_(std::move(admit)), curl_(std::make_unique<Curl>()) {
    if (max_in_flight_ < 1) throw std::invalid_argument("transfer pump: max_in_flight must be >= 1");
    if (!curl_->multi) throw std::runtime_error("libcurl initialisation failed");
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) throw std::runtime_error("transfer pump: eventfd failed");
    CURLM* m = curl_->multi.get();
    curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, &TransferPump::on_socket);
    curl_multi_setopt(m, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, &TransferPump::on_timer);
    curl_multi_setopt(m, CURLMOPT_TIMERDATA, this);
    // Keep a connection per request in flight, so that none is closed and opened again.
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, static_cast<long>(max_in_flight_));
}

TransferPump::~TransferPump() {
    for (auto& [easy, slot] : running_) curl_multi_remove_handle(curl_->multi.get(), easy);
    if (wake_fd_ >= 0) close(wake_fd_);
}

int TransferPump::on_socket(CURL*, curl_socket_t fd, int what, void* self, void*) {
    auto* pump = static_cast<TransferPump*>(self);
    try {
        if (what == CURL_POLL_REMOVE)
            pump->sockets_.erase(fd);
        else
            pump->sockets_[fd] = what;
    } catch (...) {
        return -1;  // libcurl fails the transfers of that socket
    }
    return 0;
}

int TransferPump::on_timer(CURLM*, long timeout_ms, void* self) {
    auto* pump = static_cast<TransferPump*>(self);
    pump->timer_at_ = timeout_ms < 0 ? Clock::time_point::max() : Clock::now() + std::chrono::milliseconds(timeout_ms);
    return 0;
}

void TransferPump::notify_owner() {
    const uint64_t one = 1;
    // A full counter (never, in practice) still leaves the descriptor readable: nothing is lost.
    ssize_t n = write(wake_fd_, &one, sizeof one);
    (void)n;
}

void TransferPump::wake() { notify_owner(); }

void TransferPump::drain_wakeups() {
    uint64_t count;
    while (read(wake_fd_, &count, sizeof count) > 0) {
    }
}

// Queues `item` for the owner, wakes it, and waits until the owner (or stop()) marked it done.
template <typename Item>
void TransferPump::hand_to_owner(std::deque<Item*>& queue, Item& item) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (stopped_) throw Interrupted();
    queue.push_back(&item);
    notify_owner();
    done_cv_.wait(lock, [&] { return item.done; });
    if (item.error) std::rethrow_exception(item.error);
}

int TransferPump::run(const std::string& key, HttpTransfer& transfer) {
    Slot slot;
    slot.key = key;
    slot.transfer = &transfer;
    hand_to_owner(submitted_, slot);
    return slot.result;
}

void TransferPump::on_owner(const std::function<void()>& fn) {
    Task task;
    task.fn = &fn;
    hand_to_owner(tasks_, task);
}

void TransferPump::complete(Slot* slot, int result, std::exception_ptr error) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        slot->result = result;
        slot->error = std::move(error);
        slot->done = true;
    }
    done_cv_.notify_all();
}

void TransferPump::take_submitted() {
    std::lock_guard<std::mutex> lock(mutex_);
    while (!submitted_.empty()) {
        waiting_.push_back(submitted_.front());
        submitted_.pop_front();
    }
}

void TransferPump::run_tasks() {
    for (;;) {
        Task* task;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (tasks_.empty()) return;
            task = tasks_.front();
            tasks_.pop_front();
        }
        std::exception_ptr error;
        try {
            (*task->fn)();
        } catch (...) {
            error = std::current_exception();
        }
        {
            std::lock_guard<std::mutex> lock(mutex_);
            task->error = std::move(error);
            task->done = true;
        }
        done_cv_.notify_all();
    }
}

void TransferPump::start_admitted(Clock::time_point now) {
    for (auto it = waiting_.begin(); it != waiting_.end() && running_.size() < max_in_flight_;) {
        Slot* slot = *it;
        if (slot->next_try > now) {
            ++it;
            continue;
        }
        long wait_ms = 0;
        try {
            if (admit_) wait_ms = admit_(slot->key);
        } catch (...) {
            it = waiting_.erase(it);
            complete(slot, CURLE_OK, std::current_exception());
            continue;
        }
        if (wait_ms > 0) {
            slot->next_try = now + std::chrono::milliseconds(wait_ms);
            ++it;
            continue;
        }
        CURL* easy = slot->transfer->easy();
        if (curl_multi_add_handle(curl_->multi.get(), easy) != CURLM_OK) {
            it = waiting_.erase(it);
            complete(
                slot, CURLE_OK,
                std::make_exception_ptr(DinamizeError(ErrorCategory::Network, "", "transfer failed to start", true)));
            continue;
        }
        running_[easy] = slot;
        peak_ = std::max(peak_, running_.size());
        it = waiting_.erase(it);
    }
}

void TransferPump::collect_done() {
    CURLM* m = curl_->multi.get();
    int pending = 0;
    while (CURLMsg* msg = curl_multi_info_read(m, &pending)) {
        if (msg->msg != CURLMSG_DONE) continue;
        CURL* easy = msg->easy_handle;
        const int result = msg->data.result;
        curl_multi_remove_handle(m, easy);
        const auto it = running_.find(easy);
        if (it == running_.end()) continue;
        Slot* slot = it->second;
        running_.erase(it);
        complete(slot, result, nullptr);
    }
}

// libcurl's timer, if it ran out (a transfer just added is due at once): true when it ran.
bool TransferPump::run_expired_timer() {
    if (timer_at_ > Clock::now()) return false;
    timer_at_ = Clock::time_point::max();
    int running = 0;
    curl_multi_socket_action(curl_->multi.get(), CURL_SOCKET_TIMEOUT, 0, &running);
    return true;
}

long TransferPump::pump(const std::vector<WaitFd>& ready) {
    drain_wakeups();
    run_tasks();
    take_submitted();
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopped_) return -1;
    }
    CURLM* m = curl_->multi.get();
    int running = 0;
    start_admitted(Clock::now());
    for (const WaitFd& r : ready) {
        if (r.fd == wake_fd_ || !sockets_.count(r.fd)) continue;
        const int mask = (r.read ? CURL_CSELECT_IN : 0) | (r.write ? CURL_CSELECT_OUT : 0);
        curl_multi_socket_action(m, r.fd, mask, &running);
    }
    run_expired_timer();
    collect_done();
    // A finished transfer frees a slot: the next waiting request starts now, not at the next wake.
    if (!waiting_.empty() && running_.size() < max_in_flight_) {
        start_admitted(Clock::now());
        if (run_expired_timer()) collect_done();
    }

    return pump_due_ms();
}

long TransferPump::pump_due_ms() const {
    const Clock::time_point now = Clock::now();
    Clock::time_point next = timer_at_;
    if (running_.size() < max_in_flight_)
        for (const Slot* slot : waiting_) next = std::min(next, slot->next_try);
    if (next == Clock::time_point::max()) return -1;
    if (next <= now) return 0;
    return static_cast<long>(std::chrono::ceil<std::chrono::milliseconds>(next - now).count());
}

std::vector<TransferPump::WaitFd> TransferPump::wait_fds() const {
    std::vector<WaitFd> fds{{wake_fd_, true, false}};
    for (const auto& [fd, what] : sockets_)
        fds.push_back(
            {fd, what == CURL_POLL_IN || what == CURL_POLL_INOUT, what == CURL_POLL_OUT || what == CURL_POLL_INOUT});
    return fds;
}

long TransferPump::wait_and_pump(long timeout_ms) {
    // Never past what libcurl's timer or a waiting admission asked for.
    const long due = pump_due_ms();
    if (due >= 0 && (timeout_ms < 0 || due < timeout_ms)) timeout_ms = due;
    std::vector<pollfd> polled;
    for (const WaitFd& w : wait_fds())
        polled.push_back({w.fd, static_cast<short>((w.read ? POLLIN : 0) | (w.write ? POLLOUT : 0)), 0});
    if (poll(polled.data(), polled.size(), static_cast<int>(timeout_ms)) < 0 && errno != EINTR)
        throw std::runtime_error("transfer pump: poll failed");
    std::vector<WaitFd> ready;
    for (const pollfd& p : polled)
        if (p.revents)  // an error or hang-up is for libcurl to read: as readable
            ready.push_back({p.fd, (p.revents & (POLLIN | POLLERR | POLLHUP)) != 0, (p.revents & POLLOUT) != 0});
    return pump(ready);
}

void TransferPump::stop() {
    std::vector<Slot*> abandoned;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopped_ = true;
        for (Slot* s : submitted_) abandoned.push_back(s);
        submitted_.clear();
        for (Task* t : tasks_) {
            t->error = std::make_exception_ptr(Interrupted());
            t->done = true;
        }
        tasks_.clear();
    }
    for (Slot* s : waiting_) abandoned.push_back(s);
    waiting_.clear();
    for (auto& [easy, slot] : running_) {
        curl_multi_remove_handle(curl_->multi.get(), easy);
        abandoned.push_back(slot);
    }
    running_.clear();
    for (Slot* s : abandoned) complete(s, CURLE_OK, std::make_exception_ptr(Interrupted()));
    done_cv_.notify_all();
}

bool TransferPump::stopped() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stopped_;
}

size_t TransferPump::waiting() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return waiting_.size() + submitted_.size();
}

PumpedTransport::PumpedTransport(TransferPump& pump, HttpOptions options, std::string key)
    : pump_(pump), options_(std::move(options)), key_(std::move(key)), transfer_(options_) {}

HttpResponse PumpedTransport::post(const std::string& url, const std::string& content_type, const std::string& body,
                                   const std::vector<std::string>& headers) {
    transfer_.prepare_post(url, content_type, body, headers);
    return transfer_.finish(pump_.run(key_, transfer_));
}

HttpResponse PumpedTransport::post_form(const std::string& url, const std::vector<FormPart>& parts,
                                        const std::vector<std::string>& headers) {
    transfer_.prepare_form(url, parts, headers);
    return transfer_.finish(pump_.run(key_, transfer_));
}

}  // namespace dwu
