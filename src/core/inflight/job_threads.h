#pragma once
#include "core/pg_free.h"
// A fixed set of threads that run the PostgreSQL-free part of jobs (core/sync's run_job and the
// client under it), so that many jobs can each wait on their own request while one thread (the
// owner of the TransferPump) drives all the transfers. The threads block every signal: in a
// PostgreSQL process the signals (SIGTERM, SIGHUP, SIGUSR1, the latch's) belong to the main
// thread. A task must not call PostgreSQL and must not let an exception escape (one that does is
// swallowed: the task's own code reports its outcome).
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dwu {

class JobThreads {
public:
    explicit JobThreads(size_t count);  // count >= 1; throws std::system_error if a thread cannot start
    // Waits for the running tasks to end (stop the pump first, so that none waits on a request);
    // tasks not started yet are dropped.
    ~JobThreads();
    JobThreads(const JobThreads&) = delete;
    JobThreads& operator=(const JobThreads&) = delete;

    void post(std::function<void()> task);
    size_t size() const { return threads_.size(); }
    size_t busy() const;  // tasks queued or running

private:
    void loop();

    mutable std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::function<void()>> queue_;
    size_t running_ = 0;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace dwu
