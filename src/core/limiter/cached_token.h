#pragma once
#include "core/pg_free.h"
// The Dinamize token as workers share it through Redis (see redis_token_cache.h): the token with
// its issue and last-use times, sealed with the encryption key ring and bound (AAD) to the
// Dinamize account it belongs to. Redis only ever holds this ciphertext. Workers that do not
// share the key file simply cannot open each other's entries and authenticate themselves.
#include <chrono>
#include <optional>
#include <string>

#include "core/dinamize/dinamize_client.h"
#include "core/crypto/secret_box.h"

namespace dwu {

struct CachedToken {
    std::string token;  // wiped on destruction
    Clock::time_point issued_at{};
    Clock::time_point last_used{};
    CachedToken() = default;
    CachedToken(const CachedToken&) = delete;
    CachedToken(CachedToken&&) = default;
    ~CachedToken();
};

std::string cached_token_aad(const std::string& account_key);

std::string seal_cached_token(const KeyRing& ring, const DinamizeClient& client, const std::string& account_key);

// nullopt for an entry this key ring cannot open, or that is malformed.
std::optional<CachedToken> open_cached_token(const KeyRing& ring, const std::string& blob,
                                             const std::string& account_key);

// How long Redis should keep the client's token: until the client would renew it anyway (by age
// or by idleness), at least 1 s.
std::chrono::milliseconds cached_token_ttl(const DinamizeClient& client, const TokenRules& rules,
                                           Clock::time_point now);

}  // namespace dwu
