#include "core/limiter/redis_connection.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace dwu {
namespace {

timeval to_timeval(long ms) {
    timeval tv{};
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    return tv;
}

// hiredis writes with write(2): a write to a socket Redis has closed raises SIGPIPE, whose default
// action kills the process. PostgreSQL workers ignore SIGPIPE, but this core also runs in tests and
// tools, so, like libpq, block SIGPIPE around each call and swallow one that the call raised.
class SigpipeGuard {
public:
    SigpipeGuard() {
        sigemptyset(&pipe_set_);
        sigaddset(&pipe_set_, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_set_, &old_mask_);
        sigset_t pending;
        sigemptyset(&pending);
        was_pending_ = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
    }
    ~SigpipeGuard() {
        sigset_t pending;
        sigemptyset(&pending);
        if (!was_pending_ && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
            const timespec no_wait{0, 0};
            siginfo_t info;
            sigtimedwait(&pipe_set_, &info, &no_wait);  // ours: consume it before unblocking
        }
        pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    }
    SigpipeGuard(const SigpipeGuard&) = delete;
    SigpipeGuard& operator=(const SigpipeGuard&) = delete;

private:
    sigset_t pipe_set_;
    sigset_t old_mask_;
    bool was_pending_ = false;
};

std::string first_word(const std::string& s) { return s.substr(0, s.find(' ')); }

}  // namespace

void ReplyDeleter::operator()(redisReply* reply) const { freeReplyObject(reply); }
void RedisConnection::ContextDeleter::operator()(redisContext* c) const { redisFree(c); }

RedisConnection::RedisConnection(RedisOptions options) : options_(std::move(options)) {
    if (options_.connect_timeout_ms <= 0 || options_.command_timeout_ms <= 0)
        throw std::invalid_argument("redis timeouts must be > 0 ms (0 would wait forever)");
    if (options_.port <= 0 || options_.port > 65535) throw std::invalid_argument("redis port out of range");
    if (options_.database < 0) throw std::invalid_argument("redis database must be >= 0");
    if (options_.host.empty()) throw std::invalid_argument("redis host is empty");
}

RedisConnection::~RedisConnection() = default;

std::string RedisConnection::endpoint() const { return options_.host + ":" + std::to_string(options_.port); }

void RedisConnection::disconnect() { context_.reset(); }

ReplyPtr RedisConnection::command(const std::vector<std::string>& args) {
    if (args.empty()) throw std::invalid_argument("redis command without a name");
    if (!context_) connect();
    return send(args);
}

void RedisConnection::connect() {
    // Note: a host name is resolved by getaddrinfo without a timeout; configure an address.
    redisContext* raw =
        redisConnectWithTimeout(options_.host.c_str(), options_.port, to_timeval(options_.connect_timeout_ms));
    if (!raw) throw RedisError(RedisError::Kind::Unavailable, "redis " + endpoint() + ": out of memory");
    context_.reset(raw);
    if (context_->err) {
        const std::string reason = context_->errstr;
        context_.reset();
        throw RedisError(RedisError::Kind::Unavailable, "redis " + endpoint() + ": cannot connect: " + reason);
    }
    if (redisSetTimeout(context_.get(), to_timeval(options_.command_timeout_ms)) != REDIS_OK) {
        context_.reset();
        throw RedisError(RedisError::Kind::Unavailable, "redis " + endpoint() + ": cannot set the command timeout");
    }
    redisEnableKeepAlive(context_.get());  // notices a silently dead peer on an idle connection
    try {
        if (!options_.password.empty()) send({"AUTH", options_.password});
        if (options_.database != 0) send({"SELECT", std::to_string(options_.database)});
    } catch (...) {
        context_.reset();  // half-set-up: never reuse a connection that is not authenticated
        throw;
    }
}

ReplyPtr RedisConnection::send(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    argv.reserve(args.size());
    lengths.reserve(args.size());
    for (const auto& a : args) {
        argv.push_back(a.data());
        lengths.push_back(a.size());
    }
    void* raw = nullptr;
    int call_errno = 0;
    {
        SigpipeGuard guard;
        errno = 0;
        raw = redisCommandArgv(context_.get(), static_cast<int>(argv.size()), argv.data(), lengths.data());
        call_errno = errno;
    }
    if (!raw) fail_io(args[0], call_errno);
    ReplyPtr reply(static_cast<redisReply*>(raw));
    if (reply->type == REDIS_REPLY_ERROR) {
        const std::string text(reply->str, reply->len);
        throw RedisError(RedisError::Kind::Reply, "redis " + endpoint() + ": " + args[0] + ": " + text,
                         first_word(text));
    }
    return reply;
}

void RedisConnection::fail_io(const std::string& command_name, int call_errno) {
    std::string reason = context_->errstr;
    if (context_->err == REDIS_ERR_IO && (call_errno == EAGAIN || call_errno == EWOULDBLOCK))
        reason = "no answer within " + std::to_string(options_.command_timeout_ms) + " ms";
    context_.reset();  // the stream is out of step or dead: reconnect on next use
    throw RedisError(RedisError::Kind::Unavailable, "redis " + endpoint() + ": " + command_name + ": " + reason);
}

}  // namespace dwu
