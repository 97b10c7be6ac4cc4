#include "core/limiter/cached_token.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "core/dinamize/untrusted_json.h"

namespace dwu {

CachedToken::~CachedToken() { wipe(token); }

std::string cached_token_aad(const std::string& account_key) { return "redis-token:" + account_key; }

std::string seal_cached_token(const KeyRing& ring, const DinamizeClient& client, const std::string& account_key) {
    nlohmann::json record = {{"token", client.token()},
                             {"issued_ms", epoch_ms(client.token_issued_at())},
                             {"last_used_ms", epoch_ms(client.token_last_used())}};
    std::string text = record.dump();
    wipe(record["token"].get_ref<std::string&>());
    std::string blob;
    try {
        blob = seal(ring, text, cached_token_aad(account_key));
    } catch (...) {
        wipe(text);
        throw;
    }
    wipe(text);
    return blob;
}

std::optional<CachedToken> open_cached_token(const KeyRing& ring, const std::string& blob,
                                             const std::string& account_key) {
    std::string text;
    try {
        text = open(ring, blob, cached_token_aad(account_key));
    } catch (const CryptoError&) {
        return std::nullopt;
    }
    // Authenticated by the AEAD, but read from the network all the same: the one bounded parser.
    nlohmann::json record = std::move(parse_untrusted_json(text).value);
    wipe(text);
    std::optional<CachedToken> out;
    if (record.is_object() && record.value("token", nlohmann::json()).is_string() &&
        record.value("issued_ms", nlohmann::json()).is_number_integer() &&
        record.value("last_used_ms", nlohmann::json()).is_number_integer()) {
        out.emplace();
        out->token = record["token"].get<std::string>();
        out->issued_at = from_epoch_ms(record["issued_ms"].get<long long>());
        out->last_used = from_epoch_ms(record["last_used_ms"].get<long long>());
        if (out->token.empty()) out.reset();
    }
    if (record.is_object() && record.contains("token") && record["token"].is_string())
        wipe(record["token"].get_ref<std::string&>());
    return out;
}

std::chrono::milliseconds cached_token_ttl(const DinamizeClient& client, const TokenRules& rules,
                                           Clock::time_point now) {
    const auto by_age = client.token_issued_at() + rules.renew_at_age - now;
    const auto by_idle = client.token_last_used() + rules.renew_when_idle - now;
    const auto ttl = std::chrono::duration_cast<std::chrono::milliseconds>(std::min(by_age, by_idle));
    return std::max(ttl, std::chrono::milliseconds(1000));
}

}  // namespace dwu
