#include "core/crypto/secret_box.h"

#include "core/crypto/openssl_calls.h"
#include "core/crypto/secret_file.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <new>
#include <system_error>

namespace dwu {
namespace {

constexpr std::size_t kMaxPlaintextBytes = 1u << 20;  // passwords and tokens are tiny; keeps ints safe
constexpr std::size_t kMaxKeyFileBytes = 1 << 20;

struct CipherCtxDeleter {
    void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }  // also wipes the key schedule
};
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

// Wipes a stack buffer that held key bytes, whichever way we leave.
struct CleansedBuffer {
    unsigned char bytes[kKeyBytes];
    ~CleansedBuffer() { OPENSSL_cleanse(bytes, sizeof bytes); }
};

[[noreturn]] void throw_openssl_error(const char* call) {
    throw CryptoError(CryptoErrorKind::Internal, openssl_failure(call));
}

CryptoError tampered() { return CryptoError(CryptoErrorKind::Tampered, "ciphertext failed authentication"); }

CipherCtxPtr new_gcm_ctx(bool encrypt, const unsigned char* key, const unsigned char* nonce) {
    CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    if (!ctx) throw_openssl_error("EVP_CIPHER_CTX_new");
    const int enc = encrypt ? 1 : 0;
    if (EVP_CipherInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr, enc) != 1)
        throw_openssl_error("EVP_CipherInit_ex");
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kSealNonceBytes, nullptr) != 1)
        throw_openssl_error("EVP_CTRL_GCM_SET_IVLEN");
    if (EVP_CipherInit_ex(ctx.get(), nullptr, nullptr, key, nonce, enc) != 1) throw_openssl_error("EVP_CipherInit_ex");
    return ctx;
}

// Feeds AAD, then in → out (same length). GCM is a stream mode: out gets exactly in's length.
void gcm_update(EVP_CIPHER_CTX* ctx, std::string_view aad, std::string_view in, unsigned char* out) {
    int len = 0;
    if (!aad.empty() && EVP_CipherUpdate(ctx, nullptr, &len, bytes_of(aad), static_cast<int>(aad.size())) != 1)
        throw_openssl_error("EVP_CipherUpdate (AAD)");
    if (!in.empty()) {
        if (EVP_CipherUpdate(ctx, out, &len, bytes_of(in), static_cast<int>(in.size())) != 1)
            throw_openssl_error("EVP_CipherUpdate");
        if (static_cast<std::size_t>(len) != in.size())
            throw CryptoError(CryptoErrorKind::Internal, "AES-GCM returned an unexpected length");
    }
}

std::string seal_blob(std::uint16_t version, const unsigned char* key, const unsigned char* nonce,
                      std::string_view plaintext, std::string_view aad) {
    if (plaintext.size() > kMaxPlaintextBytes) throw std::length_error("secret to seal is larger than 1 MiB");
    if (aad.size() > kMaxPlaintextBytes) throw std::length_error("AAD is larger than 1 MiB");
    std::string blob(kSealOverheadBytes + plaintext.size(), '\0');
    unsigned char* p = bytes_of(blob);
    p[0] = kSealFormat;
    p[1] = static_cast<unsigned char>(version >> 8);
    p[2] = static_cast<unsigned char>(version & 0xff);
    std::copy(nonce, nonce + kSealNonceBytes, p + 3);
    unsigned char* ciphertext = p + kSealHeaderBytes;
    unsigned char* tag = ciphertext + plaintext.size();

    CipherCtxPtr ctx = new_gcm_ctx(true, key, nonce);
    gcm_update(ctx.get(), aad, plaintext, ciphertext);
    unsigned char none[EVP_MAX_BLOCK_LENGTH];  // GCM's final step outputs no bytes
    int len = 0;
    if (EVP_CipherFinal_ex(ctx.get(), none, &len) != 1) throw_openssl_error("EVP_CipherFinal_ex");
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kSealTagBytes, tag) != 1)
        throw_openssl_error("EVP_CTRL_GCM_GET_TAG");
    return blob;
}

// ---- key file parsing ----

// Key text copied for OpenSSL (which wants it NUL-terminated), wiped whichever way we leave.
struct CleansedHexText {
    char text[2 * kKeyBytes + 1];
    ~CleansedHexText() { OPENSSL_cleanse(text, sizeof text); }
};

// Decoded base64 key bytes (any length until checked), wiped and freed by OPENSSL_clear_free.
struct CleansedHeapBuffer {
    unsigned char* bytes;
    std::size_t size;
    explicit CleansedHeapBuffer(std::size_t n) : bytes(static_cast<unsigned char*>(OPENSSL_malloc(n))), size(n) {
        if (!bytes) throw std::bad_alloc();
    }
    ~CleansedHeapBuffer() { OPENSSL_clear_free(bytes, size); }
    CleansedHeapBuffer(const CleansedHeapBuffer&) = delete;
    CleansedHeapBuffer& operator=(const CleansedHeapBuffer&) = delete;
};

bool is_hex(std::string_view s) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return OPENSSL_hexchar2int(static_cast<unsigned char>(c)) >= 0; });
}

// 64 hex digits → the 32 key bytes, by OPENSSL_hexstr2buf_ex (no separator); false if it refuses.
bool decode_hex_key(std::string_view s, unsigned char* out) {
    if (s.size() != 2 * kKeyBytes) return false;
    CleansedHexText copy;
    std::copy(s.begin(), s.end(), copy.text);
    copy.text[s.size()] = '\0';
    std::size_t n = 0;
    if (OPENSSL_hexstr2buf_ex(out, kKeyBytes, &n, copy.text, '\0') != 1 || n != kKeyBytes) {
        ERR_clear_error();
        return false;
    }
    return true;
}

// Strict, padded, standard base64 → its decoded length, the bytes in `out`; -1 if s is not that.
// EVP_DecodeBlock alone is too lenient: it reads '=' anywhere as a zero sextet (and counts the
// padding in its result), skips leading blanks and drops trailing blanks, '-' and line ends. So
// the padding is checked here (at most two '=', only at the end), the result must cover every
// input character, and the real length is the result less the padding; the rest of the
// alphabet is OpenSSL's to check.
long decode_base64(std::string_view s, std::unique_ptr<CleansedHeapBuffer>& out) {
    if (s.empty() || s.size() % 4 != 0 || s.size() > kMaxKeyFileBytes) return -1;
    const std::size_t pad = s.size() - (s.find_last_not_of('=') + 1);
    if (pad > 2 || s.find('=') < s.size() - pad) return -1;
    const std::size_t block_bytes = s.size() / 4 * 3;
    out = std::make_unique<CleansedHeapBuffer>(block_bytes);
    const int n = EVP_DecodeBlock(out->bytes, bytes_of(s), static_cast<int>(s.size()));
    if (n < 0 || static_cast<std::size_t>(n) != block_bytes) return -1;
    return static_cast<long>(block_bytes - pad);
}

// 1..65535 in plain decimal, or 0.
std::uint16_t parse_version(std::string_view s) {
    if (s.empty() || s.size() > 5) return 0;
    unsigned long v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return 0;
        v = v * 10 + static_cast<unsigned long>(c - '0');
    }
    return v <= 65535 ? static_cast<std::uint16_t>(v) : 0;
}

// Parses one VERSION:KEY entry into staged. where = "<source>, line N[, entry E]".
void parse_entry(std::string_view entry, const std::string& where, const KeyRing& existing,
                 std::map<std::uint16_t, std::size_t>& seen, std::size_t line_no, KeyRing& staged) {
    const auto fail = [&](const std::string& problem) {
        throw CryptoError(CryptoErrorKind::BadKey, where + ": " + problem);
    };
    // Never quote the entry: a mistyped line may be a bare key.
    const auto colon = entry.find(':');
    if (colon == std::string_view::npos) fail("expected VERSION:KEY");
    const std::uint16_t version = parse_version(trim_blanks(entry.substr(0, colon)));
    if (version == 0) fail("key version must be a whole number from 1 to 65535");
    const std::string v = std::to_string(version);
    if (const auto it = seen.find(version); it != seen.end())
        fail("duplicate key version " + v + " (first on line " + std::to_string(it->second) + ")");
    if (existing.has_version(version)) fail("key version " + v + " is already in the key ring");
    seen.emplace(version, line_no);

    const std::string_view key = trim_blanks(entry.substr(colon + 1));
    if (key.empty()) fail("missing key after ':'");
    // Decoded by OpenSSL; every buffer that holds key bytes or text is wiped on the way out.
    if (is_hex(key)) {
        if (key.size() % 2 != 0) fail("key has an odd number of hex digits");
        if (key.size() / 2 != kKeyBytes)
            fail("key is " + std::to_string(key.size() / 2) + " bytes, must be 32 (64 hex digits)");
        CleansedBuffer decoded;
        if (!decode_hex_key(key, decoded.bytes)) fail("key is not valid hex");
        staged.add_key(version, std::string_view(reinterpret_cast<const char*>(decoded.bytes), kKeyBytes));
    } else {
        std::unique_ptr<CleansedHeapBuffer> decoded;
        const long n = decode_base64(key, decoded);
        if (n < 0) fail("key is neither hex nor padded standard base64");
        if (static_cast<std::size_t>(n) != kKeyBytes)
            fail("key is " + std::to_string(n) + " bytes, must be 32 (44 base64 characters)");
        staged.add_key(version, std::string_view(reinterpret_cast<const char*>(decoded->bytes), kKeyBytes));
    }
}

void parse_keys(std::string_view text, std::string_view source, const KeyRing& existing, KeyRing& staged) {
    std::map<std::uint16_t, std::size_t> seen;  // version → line, for duplicate messages
    for_each_secret_line(text, [&](std::string_view line, std::size_t line_no) {
        const bool several = line.find(';') != std::string_view::npos;
        std::size_t start = 0;
        for (int entry_no = 1;; entry_no++) {
            const std::size_t semi = line.find(';', start);
            const std::string_view entry =
                trim_blanks(line.substr(start, semi == std::string_view::npos ? std::string_view::npos : semi - start));
            if (!entry.empty()) {
                std::string where = std::string(source) + ", line " + std::to_string(line_no);
                if (several) where += ", entry " + std::to_string(entry_no);
                parse_entry(entry, where, existing, seen, line_no, staged);
            }
            if (semi == std::string_view::npos) break;
            start = semi + 1;
        }
    });
    if (staged.empty()) throw CryptoError(CryptoErrorKind::BadKey, std::string(source) + ": no key in it");
}

}  // namespace

namespace detail {
struct KeyAccess {
    // The key of that version, or nullptr.
    static const unsigned char* find(const KeyRing& ring, std::uint16_t version) {
        const auto it = ring.keys_.find(version);
        return it == ring.keys_.end() ? nullptr : it->second.bytes;
    }
    static void merge(KeyRing& into, KeyRing& from) { into.keys_.merge(from.keys_); }  // moves nodes, not keys
};
}  // namespace detail

KeyRing::Key::~Key() { OPENSSL_cleanse(bytes, sizeof bytes); }

void KeyRing::add_key(std::uint16_t version, std::string_view key) {
    if (version == 0) throw CryptoError(CryptoErrorKind::BadKey, "key version must be from 1 to 65535");
    if (key.size() != kKeyBytes)
        throw CryptoError(CryptoErrorKind::BadKey, "key version " + std::to_string(version) + " is " +
                                                       std::to_string(key.size()) + " bytes, must be 32");
    const auto [it, added] = keys_.try_emplace(version);
    if (!added)
        throw CryptoError(CryptoErrorKind::BadKey,
                          "key version " + std::to_string(version) + " is already in the key ring");
    std::copy(key.begin(), key.end(), it->second.bytes);
}

void KeyRing::load_keys(std::string_view text, std::string_view source_name) {
    KeyRing staged;  // all or nothing: nothing reaches *this before every line parsed
    parse_keys(text, source_name, *this, staged);
    detail::KeyAccess::merge(*this, staged);
}

void KeyRing::load_key_file(const std::string& path) {
    static const SecretFileRules kKeyFile{"key file", kMaxKeyFileBytes, "1 MiB", true};
    try {
        with_secret_file(path, kKeyFile, [&](std::string_view text) { load_keys(text, path); });
    } catch (const SecretFileError& e) {
        throw CryptoError(CryptoErrorKind::BadKey, e.what());
    }
}

std::uint16_t KeyRing::current_version() const { return keys_.empty() ? 0 : keys_.rbegin()->first; }

std::string seal(const KeyRing& ring, std::string_view plaintext, std::string_view aad) {
    const std::uint16_t version = ring.current_version();
    if (version == 0) throw CryptoError(CryptoErrorKind::BadKey, "the key ring is empty: no key to seal with");
    unsigned char nonce[kSealNonceBytes];
    if (RAND_bytes(nonce, sizeof nonce) != 1) throw_openssl_error("RAND_bytes");
    return seal_blob(version, detail::KeyAccess::find(ring, version), nonce, plaintext, aad);
}

std::string open(const KeyRing& ring, std::string_view blob, std::string_view aad) {
    if (blob.size() < kSealOverheadBytes || blob.size() > kSealOverheadBytes + kMaxPlaintextBytes ||
        static_cast<std::uint8_t>(blob[0]) != kSealFormat || aad.size() > kMaxPlaintextBytes)
        throw tampered();
    const auto* p = bytes_of(blob);
    const std::uint16_t version = static_cast<std::uint16_t>((p[1] << 8) | p[2]);
    const unsigned char* key = detail::KeyAccess::find(ring, version);
    if (!key)
        throw CryptoError(CryptoErrorKind::UnknownKeyVersion,
                          "sealed with key version " + std::to_string(version) + ", which is not in the key ring");
    const std::size_t n = blob.size() - kSealOverheadBytes;
    unsigned char tag[kSealTagBytes];  // SET_TAG wants a mutable pointer
    std::copy(p + kSealHeaderBytes + n, p + blob.size(), tag);

    std::string plaintext(n, '\0');
    try {
        CipherCtxPtr ctx = new_gcm_ctx(false, key, p + 3);
        gcm_update(ctx.get(), aad, blob.substr(kSealHeaderBytes, n), bytes_of(plaintext));
        if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kSealTagBytes, tag) != 1)
            throw_openssl_error("EVP_CTRL_GCM_SET_TAG");
        unsigned char none[EVP_MAX_BLOCK_LENGTH];  // GCM's final step outputs no bytes
        int len = 0;
        if (EVP_CipherFinal_ex(ctx.get(), none, &len) != 1) {  // the tag check
            ERR_clear_error();
            throw tampered();
        }
    } catch (...) {
        wipe(plaintext);  // GCM decrypts before it verifies: this is unauthenticated text
        throw;
    }
    return plaintext;
}

int blob_key_version(std::string_view blob) {
    if (blob.size() < kSealOverheadBytes || static_cast<std::uint8_t>(blob[0]) != kSealFormat) return -1;
    const auto* p = bytes_of(blob);
    return (p[1] << 8) | p[2];
}

void wipe(std::string& s) noexcept {
    if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
    s.clear();
}

namespace detail {
std::string seal_with_nonce(const KeyRing& ring, std::string_view nonce, std::string_view plaintext,
                            std::string_view aad) {
    if (nonce.size() != kSealNonceBytes) throw std::invalid_argument("nonce must be 12 bytes");
    const std::uint16_t version = ring.current_version();
    if (version == 0) throw CryptoError(CryptoErrorKind::BadKey, "the key ring is empty: no key to seal with");
    return seal_blob(version, KeyAccess::find(ring, version), bytes_of(nonce), plaintext, aad);
}
}  // namespace detail

}  // namespace dwu
