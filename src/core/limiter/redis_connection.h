#pragma once
#include "core/pg_free.h"
// One blocking connection to Redis over hiredis 0.14 (Debian 12's: no redisOptions, no TLS).
// Connects lazily on first use, sends AUTH and SELECT on every (re)connect, and forgets the socket
// after any I/O error so the next call reconnects: a Redis restart costs one failed call, not a
// stuck worker. Connect and command timeouts are mandatory: with 0 hiredis waits forever, and a
// PostgreSQL worker blocked in read() cannot honour SIGTERM.
// Not thread-safe: one connection per thread (a PostgreSQL worker has one thread anyway).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/limiter/redis_error.h"

struct redisContext;  // hiredis handles, kept out of this header
struct redisReply;

namespace dwu {

struct RedisEndpoint {
    std::string host;
    int port = 0;
};

// "host:port, host:port" (a missing port is default_port). Throws std::invalid_argument.
std::vector<RedisEndpoint> parse_redis_endpoints(const std::string& text, int default_port);

struct RedisOptions {
    std::string host = "127.0.0.1";
    int port = 6379;
    // With sentinels, host and port are not used: each (re)connect asks the sentinels in turn
    // (SENTINEL get-master-addr-by-name) where `sentinel_master` is, and keeps the connection only
    // if ROLE there says master: after a failover the next reconnect finds the promoted replica.
    // The sentinels are asked without a password.
    std::vector<RedisEndpoint> sentinels;
    std::string sentinel_master;
    std::string password;  // empty: no AUTH. Never appears in a message.
    int database = 0;      // SELECTed after AUTH when not 0
    long connect_timeout_ms = 2000;
    long command_timeout_ms = 2000;  // each read/write of a command
};

struct ReplyDeleter {
    void operator()(redisReply* reply) const;
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

class RedisConnection {
public:
    // Throws std::invalid_argument for a timeout <= 0, a bad port or database; does not connect.
    explicit RedisConnection(RedisOptions options);
    ~RedisConnection();
    RedisConnection(const RedisConnection&) = delete;
    RedisConnection& operator=(const RedisConnection&) = delete;

    // Runs one command, binary-safe. Returns the reply, never an error reply: a server error
    // throws RedisError::Reply (the connection stays usable); a failure to connect, an I/O error
    // or a timeout throws RedisError::Unavailable and drops the socket.
    ReplyPtr command(const std::vector<std::string>& args);

    bool connected() const { return static_cast<bool>(context_); }
    // How many connections were set up so far: a change means the server may not be the one
    // seen before (a restart or a failover always breaks the connection).
    std::uint64_t connect_count() const { return connect_count_; }
    void disconnect();  // the next command reconnects
    // "host:port", safe for messages; with sentinels "<master name>@host:port" (of the master in
    // use or last found; "?" before any).
    std::string endpoint() const;
    const RedisOptions& options() const { return options_; }

private:
    struct ContextDeleter {
        void operator()(redisContext* c) const;
    };
    void connect();
    RedisEndpoint find_master();
    void check_master_role();
    ReplyPtr send(const std::vector<std::string>& args);
    [[noreturn]] void fail_io(const std::string& command_name, int call_errno);

    RedisOptions options_;
    std::unique_ptr<redisContext, ContextDeleter> context_;
    std::uint64_t connect_count_ = 0;
    RedisEndpoint master_;  // with sentinels: the master in use or last found
};

}  // namespace dwu
