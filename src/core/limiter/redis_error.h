#pragma once
#include "core/pg_free.h"
// The one exception every Redis call in the core throws. Two kinds, because callers act on them
// differently: Unavailable means "Redis could not be asked" (connect refused, I/O error, timeout),
// so the rate limiter falls back to its local share; Reply means Redis answered with an error.
// Messages name host:port and the command name, never a password or a command's arguments.
#include <stdexcept>
#include <string>

namespace dwu {

class RedisError : public std::runtime_error {
public:
    enum class Kind { Unavailable, Reply };

    RedisError(Kind kind, const std::string& message, std::string server_code = "")
        : std::runtime_error(message), kind_(kind), server_code_(std::move(server_code)) {}

    Kind kind() const { return kind_; }
    // First word of a server error reply (NOSCRIPT, WRONGPASS, NOAUTH, READONLY, …); empty for
    // Unavailable.
    const std::string& server_code() const { return server_code_; }

private:
    Kind kind_;
    std::string server_code_;
};

}  // namespace dwu
