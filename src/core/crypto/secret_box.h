#pragma once
#include "core/pg_free.h"
// Encryption at rest for Dinamize passwords and auth tokens: AES-256-GCM (OpenSSL 3 EVP) under
// versioned keys, so a key can be rotated while blobs sealed under the old one still open.
//
// Sealed blob (store as bytea), format 1:
//   byte 0          format, 0x01
//   bytes 1..2      key version, big-endian (1..65535)
//   bytes 3..14     nonce, 12 bytes from RAND_bytes, fresh for every seal
//   next n bytes    ciphertext, n = plaintext length (at most 1 MiB)
//   last 16 bytes   GCM tag
// A blob is 31 bytes longer than its plaintext. The header is not fed to GCM (as with Tink's
// key-id prefix): the version only selects a key, so a changed version selects another key (the
// tag fails) or none (UnknownKeyVersion). The caller's AAD binds a blob to its row, e.g.
// "crm_accounts:3:password": the same blob copied into another row or column fails to open.
//
// Key file, and key string (e.g. a GUC value) in the same format:
//   # a comment               blank lines and lines whose first non-blank is '#' are ignored
//   1:<64 hex digits>         VERSION:KEY; the version is decimal, 1..65535;
//   2:<44 base64 characters>  the key is 32 bytes, as hex or as standard padded base64
// Spaces and tabs around either field are ignored, and ';' also separates entries (a GUC value
// is one line). The highest version is the current one, used by seal; the others only open
// older blobs. Errors name the line (and entry), never a key character.
//
// Threads: seal/open share nothing but OpenSSL's RAND. A KeyRing is read-only in use: fill it,
// then share it const; never add keys while other threads seal or open with it.
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

namespace dwu {

constexpr std::uint8_t kSealFormat = 1;
constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kSealNonceBytes = 12;
constexpr std::size_t kSealTagBytes = 16;
constexpr std::size_t kSealHeaderBytes = 1 + 2 + kSealNonceBytes;
constexpr std::size_t kSealOverheadBytes = kSealHeaderBytes + kSealTagBytes;

enum class CryptoErrorKind {
    BadKey,             // a key, key file or key string is unusable (or the ring is empty)
    UnknownKeyVersion,  // the blob names a key version the ring does not hold
    Tampered,           // the blob is not one we sealed under this key and AAD
    Internal,           // OpenSSL itself failed
};

// Messages never hold key bytes or plaintext.
class CryptoError : public std::runtime_error {
public:
    CryptoError(CryptoErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
    CryptoErrorKind kind() const { return kind_; }

private:
    CryptoErrorKind kind_;
};

namespace detail {
struct KeyAccess;  // secret_box.cpp's only door to the raw key bytes
}

class KeyRing {
public:
    KeyRing() = default;
    KeyRing(KeyRing&&) = default;
    KeyRing& operator=(KeyRing&&) = default;  // the replaced keys are wiped
    KeyRing(const KeyRing&) = delete;         // no stray copies of keys
    KeyRing& operator=(const KeyRing&) = delete;

    // Throws CryptoError(BadKey) unless key is exactly 32 bytes, version is 1..65535 and new.
    void add_key(std::uint16_t version, std::string_view key);
    // Add every key of a key file / key string (format above). All or nothing: on any error
    // (CryptoError(BadKey) naming the file and line) the ring is left as it was. A key file must
    // be a regular file without access for other users (like PostgreSQL's ssl_key_file).
    void load_key_file(const std::string& path);
    void load_keys(std::string_view text, std::string_view source_name);

    std::uint16_t current_version() const;  // highest version; 0 when the ring is empty
    bool has_version(std::uint16_t version) const { return keys_.count(version) != 0; }
    std::size_t size() const { return keys_.size(); }
    bool empty() const { return keys_.empty(); }

private:
    friend struct detail::KeyAccess;
    // Held in place by the map's nodes (never moved or copied), wiped by its own destructor.
    struct Key {
        unsigned char bytes[kKeyBytes];
        Key() = default;
        ~Key();
        Key(const Key&) = delete;
        Key& operator=(const Key&) = delete;
    };
    std::map<std::uint16_t, Key> keys_;
};

// Encrypts under the ring's current key. Throws CryptoError(BadKey) on an empty ring,
// std::length_error above 1 MiB of plaintext.
std::string seal(const KeyRing& ring, std::string_view plaintext, std::string_view aad);

// The plaintext (wipe it when done). Throws CryptoError: UnknownKeyVersion, or Tampered for any
// truncated, malformed or altered blob, wrong key or wrong AAD.
std::string open(const KeyRing& ring, std::string_view blob, std::string_view aad);

// The key version a blob was sealed with (to find what needs re-sealing), -1 if it is no blob.
int blob_key_version(std::string_view blob);

// OPENSSL_cleanse, then clear: for strings that held a password, token or plaintext.
void wipe(std::string& s) noexcept;

namespace detail {
// For known-answer tests only: seal with a caller-chosen 12-byte nonce. Reusing a nonce under
// one key reveals the GCM authentication key; production code calls seal().
std::string seal_with_nonce(const KeyRing& ring, std::string_view nonce, std::string_view plaintext,
                            std::string_view aad);
}  // namespace detail

}  // namespace dwu
