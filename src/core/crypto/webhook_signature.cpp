#include "core/crypto/webhook_signature.h"

#include "core/crypto/hex_digest.h"
#include "core/crypto/openssl_calls.h"
#include "core/crypto/secret_box.h"
#include "core/crypto/secret_file.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cerrno>
#include <initializer_list>
#include <limits>
#include <memory>
#include <system_error>
#include <utility>

namespace dwu {
namespace {

constexpr std::size_t kMaxSecretFileBytes = 64 * 1024;

struct MacDeleter {
    void operator()(EVP_MAC* m) const { EVP_MAC_free(m); }
};
struct MacCtxDeleter {
    void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }  // also wipes the key schedule
};

[[noreturn]] void throw_mac_error(const char* call) { throw std::runtime_error(openssl_failure(call)); }

// HMAC-SHA256 of the concatenated parts into out (32 bytes): no copy of the body is made.
void hmac_parts(std::string_view key, std::initializer_list<std::string_view> parts, unsigned char* out) {
    std::unique_ptr<EVP_MAC, MacDeleter> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
    if (!mac) throw_mac_error("EVP_MAC_fetch(HMAC)");
    std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter> ctx(EVP_MAC_CTX_new(mac.get()));
    if (!ctx) throw_mac_error("EVP_MAC_CTX_new");
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                 OSSL_PARAM_construct_end()};
    static const unsigned char no_key = 0;  // a null key would mean "keep the previous one"
    if (EVP_MAC_init(ctx.get(), key.empty() ? &no_key : bytes_of(key), key.size(), params) != 1)
        throw_mac_error("EVP_MAC_init");
    for (std::string_view part : parts)
        if (!part.empty() && EVP_MAC_update(ctx.get(), bytes_of(part), part.size()) != 1)
            throw_mac_error("EVP_MAC_update");
    std::size_t n = 0;
    if (EVP_MAC_final(ctx.get(), out, &n, kWebhookSignatureBytes) != 1) throw_mac_error("EVP_MAC_final");
    if (n != kWebhookSignatureBytes) throw std::runtime_error("HMAC-SHA256 returned an unexpected length");
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// 64 hex digits → 32 bytes; false for anything else. (The signature is the sender's, not a secret.)
bool decode_signature(std::string_view hex, unsigned char* out) {
    if (hex.size() != 2 * kWebhookSignatureBytes) return false;
    for (std::size_t i = 0; i < kWebhookSignatureBytes; i++) {
        const int hi = hex_value(hex[2 * i]);
        const int lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[i] = static_cast<unsigned char>(hi << 4 | lo);
    }
    return true;
}

// Wipes a buffer that held a MAC (of a secret), whichever way we leave.
struct CleansedMac {
    unsigned char bytes[kWebhookSignatureBytes];
    ~CleansedMac() { OPENSSL_cleanse(bytes, sizeof bytes); }
};

}  // namespace

struct WebhookSecretsAccess {
    static const std::vector<std::string>& secrets(const WebhookSecrets& s) { return s.secrets_; }
    static std::vector<std::string>& secrets(WebhookSecrets& s) { return s.secrets_; }
};

WebhookSecrets::~WebhookSecrets() { clear(); }

WebhookSecrets::WebhookSecrets(WebhookSecrets&& other) noexcept : secrets_(std::move(other.secrets_)) {
    other.secrets_.clear();
}

WebhookSecrets& WebhookSecrets::operator=(WebhookSecrets&& other) noexcept {
    if (this != &other) {
        clear();
        secrets_ = std::move(other.secrets_);
        other.secrets_.clear();
    }
    return *this;
}

void WebhookSecrets::clear() noexcept {
    for (std::string& s : secrets_) wipe(s);
    secrets_.clear();
}

WebhookSecrets WebhookSecrets::parse(std::string_view text, std::string_view source) {
    WebhookSecrets out;  // wiped if we throw half-way
    std::vector<std::string>& secrets = WebhookSecretsAccess::secrets(out);
    for_each_secret_line(text, [&](std::string_view line, std::size_t line_no) {
        // Never quote the line: it is a secret.
        const auto fail = [&](const std::string& problem) {
            throw WebhookSecretError(std::string(source) + ", line " + std::to_string(line_no) + ": " + problem);
        };
        if (line.size() < kWebhookSecretMinBytes)
            fail("the secret is " + std::to_string(line.size()) + " bytes, at least " +
                 std::to_string(kWebhookSecretMinBytes) + " are needed (use 32 random bytes, e.g. as 64 hex digits)");
        if (line.size() > kWebhookSecretMaxBytes)
            fail("the secret is longer than " + std::to_string(kWebhookSecretMaxBytes) + " bytes");
        if (line.find('\0') != std::string_view::npos) fail("the secret holds a NUL byte");
        secrets.emplace_back(line);
    });
    if (secrets.empty()) throw WebhookSecretError(std::string(source) + ": no secret in it");
    return out;
}

WebhookSecrets WebhookSecrets::load_file(const std::string& path) {
    static const SecretFileRules kSecretFile{"webhook secret file", kMaxSecretFileBytes, "64 KiB", false};
    WebhookSecrets out;
    try {
        with_secret_file(path, kSecretFile, [&](std::string_view text) { out = parse(text, path); });
    } catch (const SecretFileError& e) {
        throw WebhookSecretError(e.what());
    }
    return out;
}

std::string hmac_sha256(std::string_view key, std::string_view message) {
    unsigned char mac[kWebhookSignatureBytes];
    hmac_parts(key, {message}, mac);
    return std::string(reinterpret_cast<const char*>(mac), sizeof mac);
}

std::string sign_webhook(std::string_view secret, std::string_view raw_body, std::int64_t signed_at) {
    const std::string timestamp = std::to_string(signed_at);
    unsigned char mac[kWebhookSignatureBytes];
    hmac_parts(secret, {timestamp, ".", raw_body}, mac);
    return to_hex(mac, sizeof mac);
}

WebhookCheck verify_webhook_signature(const WebhookSecrets& secrets, std::string_view raw_body,
                                      std::string_view signature_hex, std::int64_t signed_at, std::int64_t now,
                                      std::int64_t max_age_seconds) {
    WebhookCheck check;
    if (__builtin_sub_overflow(now, signed_at, &check.age_seconds))
        check.age_seconds =
            signed_at < 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
    unsigned char given[kWebhookSignatureBytes];
    if (!decode_signature(signature_hex, given)) {
        check.verdict = WebhookVerdict::MalformedSignature;
        return check;
    }
    const std::string timestamp = std::to_string(signed_at);
    // Every secret is tried (no early exit), each comparison in constant time.
    bool matched = false;
    for (const std::string& secret : WebhookSecretsAccess::secrets(secrets)) {
        CleansedMac expected;
        hmac_parts(secret, {timestamp, ".", raw_body}, expected.bytes);
        matched |= CRYPTO_memcmp(expected.bytes, given, kWebhookSignatureBytes) == 0;
    }
    if (!matched)
        check.verdict = WebhookVerdict::BadSignature;
    else if (check.age_seconds > max_age_seconds)
        check.verdict = WebhookVerdict::TooOld;
    else if (check.age_seconds < -max_age_seconds)
        check.verdict = WebhookVerdict::TooNew;
    else
        check.verdict = WebhookVerdict::Valid;
    return check;
}

}  // namespace dwu
