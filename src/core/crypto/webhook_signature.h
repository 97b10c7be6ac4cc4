#pragma once
#include "core/pg_free.h"
// Signed webhooks: the sender signs each request with a secret it shares with the database
// server, as Stripe and GitHub do, and webhook_receive() checks it before storing anything.
//
// Scheme (the README's "Signed webhooks"):
//   signature = lower- or upper-case hex of HMAC-SHA256(secret, "<timestamp>.<body>")
//   timestamp = Unix seconds, written in decimal without sign or leading zeros
//   body      = the request body exactly as received (the bytes, not a re-serialised JSON)
// The request is accepted when the signature matches under one of the secrets and the timestamp
// is within max_age seconds of the server's clock (either way: a late replay, or a clock skew).
//
// Secret file (dwu_crm.webhook_secret_file): one secret per line, used as its bytes; blank lines
// and lines whose first non-blank is '#' are ignored, spaces, tabs and a CR around a secret too.
// Several lines = several valid secrets, for rotation (add the new one, move the senders over,
// remove the old one). Each secret is 16 to 1024 bytes. The file must be a regular file without
// any access for its group or other users (mode 600 or 400), at most 64 KiB. Errors name the
// file and the line, never a secret's character.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace dwu {

constexpr std::size_t kWebhookSignatureBytes = 32;  // SHA-256
constexpr std::size_t kWebhookSecretMinBytes = 16;
constexpr std::size_t kWebhookSecretMaxBytes = 1024;

// An unusable secret file or secret text. Messages never hold a secret.
class WebhookSecretError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The valid secrets, wiped when destroyed. Move-only: no stray copies of secrets.
class WebhookSecrets {
public:
    WebhookSecrets() = default;
    ~WebhookSecrets();
    WebhookSecrets(WebhookSecrets&& other) noexcept;
    WebhookSecrets& operator=(WebhookSecrets&& other) noexcept;
    WebhookSecrets(const WebhookSecrets&) = delete;
    WebhookSecrets& operator=(const WebhookSecrets&) = delete;

    // Parses secret-file text (format above); source names it in errors. Throws
    // WebhookSecretError, also when the text holds no secret.
    static WebhookSecrets parse(std::string_view text, std::string_view source);
    // Reads and parses the file, after checking it is a regular file no other user can access.
    static WebhookSecrets load_file(const std::string& path);

    std::size_t size() const { return secrets_.size(); }
    bool empty() const { return secrets_.empty(); }

private:
    friend struct WebhookSecretsAccess;
    void clear() noexcept;
    std::vector<std::string> secrets_;
};

enum class WebhookVerdict {
    Valid,               // the signature matches under a secret, the timestamp is in the window
    MalformedSignature,  // not 64 hex digits
    BadSignature,        // matches under no secret: forged, altered body or timestamp, wrong secret
    TooOld,              // authentic, but older than max_age: a replay or a late delivery
    TooNew,              // authentic, but more than max_age ahead of the server's clock
};

struct WebhookCheck {
    WebhookVerdict verdict = WebhookVerdict::BadSignature;
    // now - signed_at (negative: in the future), saturated to the int64 range.
    std::int64_t age_seconds = 0;
};

// The whole check. The signature is compared in constant time (CRYPTO_memcmp) against each
// secret's HMAC; the window is checked only for an authentic signature, so TooOld / TooNew are
// never an answer to a forgery. max_age_seconds >= 0.
WebhookCheck verify_webhook_signature(const WebhookSecrets& secrets, std::string_view raw_body,
                                      std::string_view signature_hex, std::int64_t signed_at, std::int64_t now,
                                      std::int64_t max_age_seconds);

// What a sender computes: the lower-case hex signature of body at signed_at under secret.
std::string sign_webhook(std::string_view secret, std::string_view raw_body, std::int64_t signed_at);

// HMAC-SHA256 (RFC 2104 over SHA-256, OpenSSL's EVP_MAC): the 32 raw bytes.
std::string hmac_sha256(std::string_view key, std::string_view message);

}  // namespace dwu
