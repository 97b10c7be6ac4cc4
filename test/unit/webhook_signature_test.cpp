// webhook_signature: HMAC-SHA256 known answers (RFC 4231), the signature check (constant-time
// compare, several secrets, timestamp window) and the secret file (format, permissions).
#include "core/crypto/webhook_signature.h"
#include "hex_for_tests.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>

namespace dwu {
namespace {

using test::from_hex;
using test::to_hex;

// RFC 4231 section 4: the HMAC-SHA-256 test cases.
struct Rfc4231Case {
    const char* name;
    std::string key;
    std::string data;
    const char* hmac_sha256_hex;
};

TEST(HmacSha256, Rfc4231TestVectors) {
    const Rfc4231Case cases[] = {
        {"4.2 test case 1", std::string(20, '\x0b'), "Hi There",
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {"4.3 test case 2 (key shorter than the output)", "Jefe", "what do ya want for nothing?",
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {"4.4 test case 3", std::string(20, '\xaa'), std::string(50, '\xdd'),
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
        {"4.5 test case 4", from_hex("0102030405060708090a0b0c0d0e0f10111213141516171819"), std::string(50, '\xcd'),
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
        {"4.7 test case 6 (key larger than the block)", std::string(131, '\xaa'),
         "Test Using Larger Than Block-Size Key - Hash Key First",
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
        {"4.8 test case 7 (key and data larger than the block)", std::string(131, '\xaa'),
         "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be "
         "hashed before being used by the HMAC algorithm.",
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
    };
    for (const Rfc4231Case& c : cases) EXPECT_EQ(to_hex(hmac_sha256(c.key, c.data)), c.hmac_sha256_hex) << c.name;
}

TEST(HmacSha256, Rfc4231TruncatedTestCase5) {
    // 4.6: the output truncated to 128 bits.
    const std::string mac = hmac_sha256(std::string(20, '\x0c'), "Test With Truncation");
    EXPECT_EQ(to_hex(mac.substr(0, 16)), "a3b6167473100ee06e0c796c2955552b");
}

const std::string kSecret = "whsec-9f1c2a7e5b3d4c6f8a0b1c2d3e4f5a6b";
const std::string kOtherSecret = "whsec-0123456789abcdef0123456789abcdef";
const std::string kBody = "{\"id\": \"ev-1\",  \"email\": \"ana@example.com\"}\n";  // as a sender wrote it
constexpr std::int64_t kNow = 1767225600;                                           // 2026-01-01 00:00:00 UTC
constexpr std::int64_t kMaxAge = 300;

WebhookSecrets secrets_of(const std::string& text) { return WebhookSecrets::parse(text, "test secrets"); }

WebhookVerdict verdict(const WebhookSecrets& s, std::string_view body, std::string_view sig, std::int64_t ts,
                       std::int64_t now = kNow) {
    return verify_webhook_signature(s, body, sig, ts, now, kMaxAge).verdict;
}

TEST(WebhookSignature, SignsTheTimestampDotBody) {
    // The scheme: hex HMAC-SHA256 of "<timestamp>.<body>", the same as the generic HMAC.
    EXPECT_EQ(sign_webhook(kSecret, kBody, kNow), to_hex(hmac_sha256(kSecret, std::to_string(kNow) + "." + kBody)));
    EXPECT_EQ(sign_webhook("Jefe", "what do ya want for nothing?", 1),
              to_hex(hmac_sha256("Jefe", "1.what do ya want for nothing?")));
}

TEST(WebhookSignature, AcceptsAValidSignatureInEitherCase) {
    const WebhookSecrets s = secrets_of(kSecret);
    std::string sig = sign_webhook(kSecret, kBody, kNow);
    EXPECT_EQ(verdict(s, kBody, sig, kNow), WebhookVerdict::Valid);
    for (char& c : sig) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(verdict(s, kBody, sig, kNow), WebhookVerdict::Valid);
}

TEST(WebhookSignature, RefusesAWrongSignatureAlteredBodyOrTimestamp) {
    const WebhookSecrets s = secrets_of(kSecret);
    const std::string sig = sign_webhook(kSecret, kBody, kNow);
    std::string flipped = sig;
    flipped[10] = flipped[10] == '0' ? '1' : '0';
    EXPECT_EQ(verdict(s, kBody, flipped, kNow), WebhookVerdict::BadSignature);
    EXPECT_EQ(verdict(s, kBody, sign_webhook(kOtherSecret, kBody, kNow), kNow), WebhookVerdict::BadSignature);
    // One byte of the body changed, the same JSON re-serialised, a trailing newline dropped.
    std::string tampered = kBody;
    tampered[tampered.find("ana")] = 'A';
    EXPECT_EQ(verdict(s, tampered, sig, kNow), WebhookVerdict::BadSignature);
    EXPECT_EQ(verdict(s, "{\"id\": \"ev-1\", \"email\": \"ana@example.com\"}", sig, kNow),
              WebhookVerdict::BadSignature);
    EXPECT_EQ(verdict(s, kBody.substr(0, kBody.size() - 1), sig, kNow), WebhookVerdict::BadSignature);
    // The timestamp is signed: moving it (to get into the window) breaks the signature.
    EXPECT_EQ(verdict(s, kBody, sig, kNow - 1), WebhookVerdict::BadSignature);
    EXPECT_EQ(verdict(s, "", sign_webhook(kSecret, "", kNow), kNow), WebhookVerdict::Valid);
}

TEST(WebhookSignature, RefusesAMalformedSignature) {
    const WebhookSecrets s = secrets_of(kSecret);
    const std::string sig = sign_webhook(kSecret, kBody, kNow);
    for (const std::string& bad : {std::string(), sig.substr(0, 63), sig + "0", "sha256=" + sig, " " + sig.substr(1),
                                   sig.substr(0, 63) + "g", std::string(64, 'z')})
        EXPECT_EQ(verdict(s, kBody, bad, kNow), WebhookVerdict::MalformedSignature) << bad;
}

TEST(WebhookSignature, TimestampWindowBothWays) {
    const WebhookSecrets s = secrets_of(kSecret);
    const auto at = [&](std::int64_t ts, std::int64_t now) {
        return verify_webhook_signature(s, kBody, sign_webhook(kSecret, kBody, ts), ts, now, kMaxAge);
    };
    EXPECT_EQ(at(kNow - kMaxAge, kNow).verdict, WebhookVerdict::Valid);  // the edges are inside
    EXPECT_EQ(at(kNow + kMaxAge, kNow).verdict, WebhookVerdict::Valid);
    const WebhookCheck old = at(kNow - kMaxAge - 1, kNow);
    EXPECT_EQ(old.verdict, WebhookVerdict::TooOld);
    EXPECT_EQ(old.age_seconds, kMaxAge + 1);
    const WebhookCheck ahead = at(kNow + 3600, kNow);
    EXPECT_EQ(ahead.verdict, WebhookVerdict::TooNew);
    EXPECT_EQ(ahead.age_seconds, -3600);
    // A replay a day later of a request that was valid then.
    EXPECT_EQ(at(kNow, kNow + 86400).verdict, WebhookVerdict::TooOld);
    // Absurd timestamps saturate instead of overflowing.
    const std::int64_t min = std::numeric_limits<std::int64_t>::min();
    const std::int64_t max = std::numeric_limits<std::int64_t>::max();
    EXPECT_EQ(at(min, kNow).verdict, WebhookVerdict::TooOld);
    EXPECT_EQ(at(min, kNow).age_seconds, max);
    EXPECT_EQ(at(max, kNow).verdict, WebhookVerdict::TooNew);
    EXPECT_EQ(at(max, -kNow).age_seconds, min);
}

TEST(WebhookSignature, AForgeryIsBadSignatureWhateverItsTimestamp) {
    // Only an authentic request learns about the window.
    const WebhookSecrets s = secrets_of(kSecret);
    EXPECT_EQ(verdict(s, kBody, std::string(64, '0'), kNow - 86400), WebhookVerdict::BadSignature);
}

TEST(WebhookSignature, AnySecretOfTheFileVerifies) {
    // Rotation: the old and the new secret are both valid while senders move over.
    const WebhookSecrets s = secrets_of("# old, until March\n" + kOtherSecret + "\n# new\n" + kSecret + "\n");
    EXPECT_EQ(s.size(), 2u);
    EXPECT_EQ(verdict(s, kBody, sign_webhook(kSecret, kBody, kNow), kNow), WebhookVerdict::Valid);
    EXPECT_EQ(verdict(s, kBody, sign_webhook(kOtherSecret, kBody, kNow), kNow), WebhookVerdict::Valid);
    EXPECT_EQ(verdict(s, kBody, sign_webhook("whsec-a-third-secret-nobody-has", kBody, kNow), kNow),
              WebhookVerdict::BadSignature);
}

TEST(WebhookSignature, NoSecretNoMatch) {
    const WebhookSecrets none;
    EXPECT_EQ(verdict(none, kBody, sign_webhook(kSecret, kBody, kNow), kNow), WebhookVerdict::BadSignature);
}

// The WebhookSecretError f throws (a test failure if it throws none).
std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const WebhookSecretError& e) {
        return e.what();
    }
    ADD_FAILURE() << "no WebhookSecretError";
    return "";
}

TEST(WebhookSecrets, ParsesLinesCommentsAndBlanks) {
    const WebhookSecrets s = secrets_of("\n  # comment\r\n\t" + kSecret + "  \r\n\n" + kOtherSecret);
    EXPECT_EQ(s.size(), 2u);
    // Surrounding blanks and the CR are not part of the secret.
    EXPECT_EQ(verdict(s, kBody, sign_webhook(kSecret, kBody, kNow), kNow), WebhookVerdict::Valid);
    EXPECT_EQ(verdict(s, kBody, sign_webhook(kOtherSecret, kBody, kNow), kNow), WebhookVerdict::Valid);
    EXPECT_EQ(verdict(s, kBody, sign_webhook(kSecret + " ", kBody, kNow), kNow), WebhookVerdict::BadSignature);
}

TEST(WebhookSecrets, ErrorsNameTheLineNeverTheSecret) {
    const std::string short_secret = "tooshort-secret";  // 15 bytes
    std::string e = error_of([&] { secrets_of(kSecret + "\n# fine so far\n" + short_secret + "\n"); });
    EXPECT_EQ(e,
              "test secrets, line 3: the secret is 15 bytes, at least 16 are needed (use 32 random bytes, e.g. as 64 "
              "hex digits)");
    EXPECT_EQ(e.find(short_secret), std::string::npos);
    EXPECT_EQ(e.find(kSecret), std::string::npos);
    e = error_of([&] { secrets_of(std::string(1025, 'x')); });
    EXPECT_EQ(e, "test secrets, line 1: the secret is longer than 1024 bytes");
    EXPECT_EQ(error_of([&] { secrets_of(""); }), "test secrets: no secret in it");
    EXPECT_EQ(error_of([&] { secrets_of("# only a comment\n\n  \n"); }), "test secrets: no secret in it");
    EXPECT_EQ(error_of([&] { secrets_of(std::string("0123456789abcdef\0x", 18)); }),
              "test secrets, line 1: the secret holds a NUL byte");
}

TEST(WebhookSecrets, MovedSecretsStayUsable) {
    WebhookSecrets a = secrets_of(kSecret);
    WebhookSecrets b = std::move(a);
    EXPECT_EQ(b.size(), 1u);
    EXPECT_EQ(verdict(b, kBody, sign_webhook(kSecret, kBody, kNow), kNow), WebhookVerdict::Valid);
    WebhookSecrets c;
    c = std::move(b);
    EXPECT_EQ(verdict(c, kBody, sign_webhook(kSecret, kBody, kNow), kNow), WebhookVerdict::Valid);
}

// A secret file in the test's temp dir, removed at the end.
class TempSecretFile {
public:
    TempSecretFile(const std::string& text, mode_t mode) {
        path_ = ::testing::TempDir() + "dwu_webhook_secret_XXXXXX";
        const int fd = mkstemp(path_.data());
        EXPECT_GE(fd, 0);
        EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
        EXPECT_EQ(fchmod(fd, mode), 0);
        close(fd);
    }
    ~TempSecretFile() { unlink(path_.c_str()); }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

TEST(WebhookSecrets, LoadsAFileOnlyItsOwnerCanRead) {
    for (mode_t mode : {0600, 0400}) {
        const TempSecretFile file(kSecret + "\n" + kOtherSecret + "\n", mode);
        const WebhookSecrets s = WebhookSecrets::load_file(file.path());
        EXPECT_EQ(s.size(), 2u);
        EXPECT_EQ(verdict(s, kBody, sign_webhook(kOtherSecret, kBody, kNow), kNow), WebhookVerdict::Valid);
    }
}

TEST(WebhookSecrets, RefusesAFileItsGroupOrOthersCanAccess) {
    for (mode_t mode : {0640, 0604, 0660, 0644, 0610, 0601}) {
        const TempSecretFile file(kSecret + "\n", mode);
        const std::string e = error_of([&] { WebhookSecrets::load_file(file.path()); });
        EXPECT_EQ(e, "webhook secret file \"" + file.path() +
                         "\" is accessible to its group or to other users; run chmod 600 on it")
            << std::oct << mode;
        EXPECT_EQ(e.find(kSecret), std::string::npos);
    }
}

TEST(WebhookSecrets, FileErrorsNameThePath) {
    const std::string missing = ::testing::TempDir() + "dwu_no_such_webhook_secret";
    EXPECT_EQ(error_of([&] { WebhookSecrets::load_file(missing); }),
              "cannot open webhook secret file \"" + missing + "\": No such file or directory");
    const std::string dir = ::testing::TempDir();
    EXPECT_NE(error_of([&] { WebhookSecrets::load_file(dir); }).find("is not a regular file"), std::string::npos);
    const TempSecretFile bad("# rotated out\n\nshort\n", 0600);
    EXPECT_EQ(
        error_of([&] { WebhookSecrets::load_file(bad.path()); }),
        bad.path() +
            ", line 3: the secret is 5 bytes, at least 16 are needed (use 32 random bytes, e.g. as 64 hex digits)");
    const TempSecretFile big(std::string(64 * 1024 + 1, 'x'), 0600);
    EXPECT_EQ(error_of([&] { WebhookSecrets::load_file(big.path()); }),
              "webhook secret file \"" + big.path() + "\" is larger than 64 KiB");
}

}  // namespace
}  // namespace dwu
