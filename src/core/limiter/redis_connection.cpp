#include "core/limiter/redis_connection.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>

#include <algorithm>
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

std::string trimmed(const std::string& s) {
    const size_t first = s.find_first_not_of(" \t");
    if (first == std::string::npos) return "";
    return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

std::string reply_text(const redisReply* r) {
    return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) ? std::string(r->str, r->len) : "";
}

}  // namespace

std::vector<RedisEndpoint> parse_redis_endpoints(const std::string& text, int default_port) {
    std::vector<RedisEndpoint> out;
    size_t start = 0;
    while (start <= text.size()) {
        const size_t comma = text.find(',', start);
        const std::string item =
            trimmed(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        start = comma == std::string::npos ? text.size() + 1 : comma + 1;
        if (item.empty()) {
            if (comma == std::string::npos && out.empty() && trimmed(text).empty()) break;
            throw std::invalid_argument("empty entry in the list of Redis addresses \"" + text + "\"");
        }
        RedisEndpoint e;
        const size_t colon = item.rfind(':');
        e.host = colon == std::string::npos ? item : item.substr(0, colon);
        e.port = default_port;
        if (colon != std::string::npos) {
            const std::string digits = item.substr(colon + 1);
            if (digits.empty() || digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos)
                throw std::invalid_argument("bad port in Redis address \"" + item + "\"");
            e.port = std::stoi(digits);
        }
        if (e.host.empty() || e.port <= 0 || e.port > 65535)
            throw std::invalid_argument("bad Redis address \"" + item + "\"");
        out.push_back(std::move(e));
    }
    return out;
}

void ReplyDeleter::operator()(redisReply* reply) const { freeReplyObject(reply); }
void RedisConnection::ContextDeleter::operator()(redisContext* c) const { redisFree(c); }

RedisConnection::RedisConnection(RedisOptions options) : options_(std::move(options)) {
    if (options_.connect_timeout_ms <= 0 || options_.command_timeout_ms <= 0)
        throw std::invalid_argument("redis timeouts must be > 0 ms (0 would wait forever)");
    if (options_.port <= 0 || options_.port > 65535) throw std::invalid_argument("redis port out of range");
    if (options_.database < 0) throw std::invalid_argument("redis database must be >= 0");
    if (options_.sentinels.empty() && options_.host.empty()) throw std::invalid_argument("redis host is empty");
    if (!options_.sentinels.empty() && options_.sentinel_master.empty())
        throw std::invalid_argument("redis sentinels without a master name");
    for (const auto& e : options_.sentinels)
        if (e.host.empty() || e.port <= 0 || e.port > 65535) throw std::invalid_argument("bad redis sentinel address");
}

RedisConnection::~RedisConnection() = default;

std::string RedisConnection::endpoint() const {
    if (options_.sentinels.empty()) return options_.host + ":" + std::to_string(options_.port);
    return options_.sentinel_master + "@" +
           (master_.host.empty() ? "?" : master_.host + ":" + std::to_string(master_.port));
}

// Asks each sentinel in turn; the first that names the master wins. Every failure is Unavailable:
// without a master address there is nothing to talk to.
RedisEndpoint RedisConnection::find_master() {
    std::string reasons;
    for (const auto& sentinel : options_.sentinels) {
        const std::string where = sentinel.host + ":" + std::to_string(sentinel.port);
        std::unique_ptr<redisContext, ContextDeleter> c(
            redisConnectWithTimeout(sentinel.host.c_str(), sentinel.port, to_timeval(options_.connect_timeout_ms)));
        std::string reason;
        if (!c || c->err) {
            reason = c ? c->errstr : "out of memory";
        } else if (redisSetTimeout(c.get(), to_timeval(options_.command_timeout_ms)) != REDIS_OK) {
            reason = "cannot set the command timeout";
        } else {
            const char* argv[] = {"SENTINEL", "get-master-addr-by-name", options_.sentinel_master.c_str()};
            const size_t lengths[] = {8, 23, options_.sentinel_master.size()};
            void* raw = nullptr;
            {
                SigpipeGuard guard;
                raw = redisCommandArgv(c.get(), 3, argv, lengths);
            }
            ReplyPtr reply(static_cast<redisReply*>(raw));
            if (!reply) {
                reason = c->errstr;
            } else if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2) {
                RedisEndpoint e;
                e.host = reply_text(reply->element[0]);
                const std::string port = reply_text(reply->element[1]);
                if (!port.empty() && port.size() <= 5 && port.find_first_not_of("0123456789") == std::string::npos)
                    e.port = std::stoi(port);
                if (!e.host.empty() && e.port > 0 && e.port <= 65535) return e;
                reason = "unexpected answer";
            } else if (reply->type == REDIS_REPLY_NIL) {
                reason = "does not know master " + options_.sentinel_master;
            } else {
                reason = reply->type == REDIS_REPLY_ERROR
                             ? std::string(reply->str, std::min<size_t>(reply->len, 200))  // no secret in it
                             : "unexpected answer";
            }
        }
        reasons += (reasons.empty() ? "" : "; ") + where + ": " + reason;
    }
    throw RedisError(RedisError::Kind::Unavailable,
                     "redis " + endpoint() + ": no sentinel names the master (" + reasons + ")");
}

// A sentinel may name an old master that has not learnt yet it was demoted, or answer before a
// failover ends: write only to a server that says it is the master.
void RedisConnection::check_master_role() {
    ReplyPtr reply = send({"ROLE"});
    const std::string role =
        reply->type == REDIS_REPLY_ARRAY && reply->elements > 0 ? reply_text(reply->element[0]) : "";
    if (role != "master")
        throw RedisError(RedisError::Kind::Unavailable, "redis " + endpoint() +
                                                            ": the sentinels name it the master, but its ROLE is " +
                                                            (role.empty() ? "unknown" : role));
}

void RedisConnection::disconnect() { context_.reset(); }

ReplyPtr RedisConnection::command(const std::vector<std::string>& args) {
    if (args.empty()) throw std::invalid_argument("redis command without a name");
    if (!context_) connect();
    return send(args);
}

void RedisConnection::connect() {
    // Note: a host name is resolved by getaddrinfo without a timeout; configure an address.
    RedisEndpoint target{options_.host, options_.port};
    if (!options_.sentinels.empty()) target = master_ = find_master();
    redisContext* raw =
        redisConnectWithTimeout(target.host.c_str(), target.port, to_timeval(options_.connect_timeout_ms));
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
        if (!options_.sentinels.empty()) check_master_role();
    } catch (...) {
        context_.reset();  // half-set-up: never reuse a connection that is not authenticated
        throw;
    }
    connect_count_++;
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
