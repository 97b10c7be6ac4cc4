#include "core/inflight/job_threads.h"

#include <pthread.h>
#include <signal.h>

#include <stdexcept>

namespace dwu {

JobThreads::JobThreads(size_t count) {
    if (count < 1) throw std::invalid_argument("job threads: count must be >= 1");
    // A new thread inherits the creator's signal mask: block everything while creating them.
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    try {
        for (size_t i = 0; i < count; i++) threads_.emplace_back([this] { loop(); });
    } catch (...) {
        pthread_sigmask(SIG_SETMASK, &previous, nullptr);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
        }
        ready_.notify_all();
        for (auto& t : threads_) t.join();
        throw;
    }
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

JobThreads::~JobThreads() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
        queue_.clear();
    }
    ready_.notify_all();
    for (auto& t : threads_) t.join();
}

void JobThreads::post(std::function<void()> task) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        queue_.push_back(std::move(task));
    }
    ready_.notify_one();
}

size_t JobThreads::busy() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return queue_.size() + running_;
}

void JobThreads::loop() {
    for (;;) {
        std::function<void()> task;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            task = std::move(queue_.front());
            queue_.pop_front();
            running_++;
        }
        try {
            task();
        } catch (...) {
        }
        std::lock_guard<std::mutex> lock(mutex_);
        running_--;
    }
}

}  // namespace dwu
