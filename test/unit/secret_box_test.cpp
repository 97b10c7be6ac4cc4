// secret_box: AES-256-GCM known answers, blob layout, tamper detection, rotation, key files.
#include "core/crypto/secret_box.h"
#include "hex_for_tests.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <functional>
#include <thread>
#include <vector>

namespace dwu {
namespace {

using test::from_hex;
using test::to_hex;

// OpenSSL's encoder; secret_box decodes with EVP_DecodeBlock and its own strictness checks.
std::string to_base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

const std::string kKey1Hex = "babce107fbb31212953c98e2178bd29f09caef789868fd299bd9fef553114e67";
const std::string kKey2Hex = "c3131046d37f0f419a1a97ccc0c6037340e21de69a7075750201d53dbf93cddc";
const std::string kKey3Hex = "0740a9ec2a5312024df434c57ab67cb62d810d82182d06643ce032bb51af9ed4";
const std::string kAad = "crm_accounts:3:password";

KeyRing ring_of(std::uint16_t version, const std::string& key_hex) {
    KeyRing ring;
    ring.add_key(version, from_hex(key_hex));
    return ring;
}

// The CryptoError f throws (a test failure if it throws none).
CryptoError error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const CryptoError& e) {
        return e;
    }
    ADD_FAILURE() << "expected a CryptoError";
    return CryptoError(CryptoErrorKind::Internal, "none thrown");
}

// No 6-character run of the key's text (hex or base64) may appear in an error message.
void expect_no_key_material(const std::string& message, const std::string& key_text) {
    for (std::size_t i = 0; i + 6 <= key_text.size(); i++)
        ASSERT_EQ(message.find(key_text.substr(i, 6)), std::string::npos) << "message leaks key text: " << message;
}

// ---------------------------------------------------------------- known answers

// McGrew & Viega, "The Galois/Counter Mode of Operation", test case 16 (AES-256, 60-byte
// plaintext, 20-byte AAD), sealed through the production path with its fixed IV.
TEST(SecretBoxKnownAnswer, McGrewViegaTestCase16) {
    const KeyRing ring = ring_of(1, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
    const std::string iv = from_hex("cafebabefacedbaddecaf888");
    const std::string plaintext = from_hex(
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
        "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
    const std::string aad = from_hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");

    const std::string blob = detail::seal_with_nonce(ring, iv, plaintext, aad);
    ASSERT_EQ(blob.size(), kSealOverheadBytes + 60);
    EXPECT_EQ(to_hex(blob.substr(0, 3)), "010001");  // format 1, key version 1
    EXPECT_EQ(to_hex(blob.substr(3, 12)), "cafebabefacedbaddecaf888");
    EXPECT_EQ(to_hex(blob.substr(15, 60)),
              "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
              "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662");
    EXPECT_EQ(to_hex(blob.substr(75)), "76fc6ece0f4e1768cddf8853bb2d551b");
    EXPECT_EQ(open(ring, blob, aad), plaintext);
}

// Test cases 13 and 14: zero key and IV, empty and 16-zero-byte plaintexts, no AAD.
TEST(SecretBoxKnownAnswer, McGrewViegaTestCases13And14) {
    const KeyRing ring = ring_of(1, std::string(64, '0'));
    const std::string iv(12, '\0');
    const std::string empty_blob = detail::seal_with_nonce(ring, iv, "", "");
    EXPECT_EQ(to_hex(empty_blob.substr(15)), "530f8afbc74536b9a963b4f1c4cb738b");
    EXPECT_EQ(open(ring, empty_blob, ""), "");

    const std::string blob = detail::seal_with_nonce(ring, iv, std::string(16, '\0'), "");
    EXPECT_EQ(to_hex(blob.substr(15, 16)), "cea7403d4d606b6e074ec5d3baf39d18");
    EXPECT_EQ(to_hex(blob.substr(31)), "d0d1c8a799996bf0265b98b5d48ab919");
}

TEST(SecretBoxKnownAnswer, RejectsANonceOfTheWrongSize) {
    const KeyRing ring = ring_of(1, kKey1Hex);
    EXPECT_THROW(detail::seal_with_nonce(ring, std::string(16, '\0'), "x", ""), std::invalid_argument);
}

// ---------------------------------------------------------------- seal / open

TEST(SecretBox, RoundTripsTextBinaryAndEmptySecrets) {
    const KeyRing ring = ring_of(1, kKey1Hex);
    for (const std::string& secret : {std::string("s3cret-Pa55word"), std::string("\0\x01\xff tok\0en", 10),
                                      std::string(), std::string(5000, 'k')}) {
        const std::string blob = seal(ring, secret, kAad);
        EXPECT_EQ(blob.size(), secret.size() + kSealOverheadBytes);
        EXPECT_EQ(open(ring, blob, kAad), secret);
    }
    EXPECT_EQ(open(ring, seal(ring, "no aad", ""), ""), "no aad");
}

TEST(SecretBox, WritesFormatAndBigEndianVersion) {
    const KeyRing ring = ring_of(0x0102, kKey1Hex);
    const std::string blob = seal(ring, "pw", kAad);
    EXPECT_EQ(to_hex(blob.substr(0, 3)), "010102");
    EXPECT_EQ(blob_key_version(blob), 0x0102);
    EXPECT_EQ(blob.find("pw"), std::string::npos);
}

TEST(SecretBox, EverySealUsesAFreshNonce) {
    const KeyRing ring = ring_of(1, kKey1Hex);
    const std::string a = seal(ring, "same password", kAad);
    const std::string b = seal(ring, "same password", kAad);
    EXPECT_NE(a.substr(3, 12), b.substr(3, 12));
    EXPECT_NE(a, b);
}

TEST(SecretBox, AnyAlteredByteOfNonceCiphertextOrTagIsTampered) {
    const KeyRing ring = ring_of(1, kKey1Hex);
    const std::string blob = seal(ring, "s3cret-Pa55word", kAad);
    for (std::size_t i = 3; i < blob.size(); i++) {
        for (unsigned char flip : {0x01, 0x80}) {
            std::string bad = blob;
            bad[i] = static_cast<char>(bad[i] ^ flip);
            const CryptoError e = error_of([&] { open(ring, bad, kAad); });
            EXPECT_EQ(e.kind(), CryptoErrorKind::Tampered) << "byte " << i;
            EXPECT_STREQ(e.what(), "ciphertext failed authentication");
        }
    }
}

TEST(SecretBox, BadFormatByteIsTampered) {
    const KeyRing ring = ring_of(1, kKey1Hex);
    std::string blob = seal(ring, "pw", kAad);
    blob[0] = 2;
    EXPECT_EQ(error_of([&] { open(ring, blob, kAad); }).kind(), CryptoErrorKind::Tampered);
    EXPECT_EQ(blob_key_version(blob), -1);
}

TEST(SecretBox, AnotherRowsAadIsTampered) {
    const KeyRing ring = ring_of(1, kKey1Hex);
    const std::string blob = seal(ring, "pw", "crm_accounts:3:password");
    for (const char* aad : {"crm_accounts:4:password", "crm_accounts:3:token", ""})
        EXPECT_EQ(error_of([&] { open(ring, blob, aad); }).kind(), CryptoErrorKind::Tampered) << aad;
}

TEST(SecretBox, SameVersionWithOtherKeyBytesIsTampered) {
    const std::string blob = seal(ring_of(1, kKey1Hex), "pw", kAad);
    EXPECT_EQ(error_of([&] { open(ring_of(1, kKey2Hex), blob, kAad); }).kind(), CryptoErrorKind::Tampered);
}

TEST(SecretBox, VersionNotInTheRingIsUnknownKeyVersion) {
    const std::string blob = seal(ring_of(7, kKey1Hex), "pw", kAad);
    const CryptoError e = error_of([&] { open(ring_of(1, kKey1Hex), blob, kAad); });
    EXPECT_EQ(e.kind(), CryptoErrorKind::UnknownKeyVersion);
    EXPECT_NE(std::string(e.what()).find("version 7"), std::string::npos) << e.what();
}

TEST(SecretBox, VersionRewrittenToAnotherKeyIsTampered) {
    KeyRing ring = ring_of(1, kKey1Hex);
    const std::string blob = seal(ring, "pw", kAad);
    ring.add_key(2, from_hex(kKey2Hex));
    std::string bad = blob;
    bad[2] = 2;
    EXPECT_EQ(error_of([&] { open(ring, bad, kAad); }).kind(), CryptoErrorKind::Tampered);
}

TEST(SecretBox, EveryTruncationIsTampered) {
    const KeyRing ring = ring_of(1, kKey1Hex);
    const std::string blob = seal(ring, "s3cret", kAad);
    for (std::size_t n = 0; n < blob.size(); n++)
        EXPECT_EQ(error_of([&] { open(ring, blob.substr(0, n), kAad); }).kind(), CryptoErrorKind::Tampered) << n;
    EXPECT_EQ(blob_key_version(blob.substr(0, kSealOverheadBytes - 1)), -1);
    EXPECT_EQ(blob_key_version(""), -1);
}

TEST(SecretBox, EmptyRingCannotSeal) {
    const KeyRing ring;
    EXPECT_EQ(ring.current_version(), 0);
    EXPECT_EQ(error_of([&] { seal(ring, "pw", kAad); }).kind(), CryptoErrorKind::BadKey);
}

TEST(SecretBox, RotationSealsWithTheNewestKeyAndStillOpensOldBlobs) {
    KeyRing ring = ring_of(1, kKey1Hex);
    const std::string old_blob = seal(ring, "old-password", kAad);
    EXPECT_EQ(blob_key_version(old_blob), 1);

    ring.load_keys("2:" + kKey2Hex, "dwu_crm.encryption_keys");
    EXPECT_EQ(ring.current_version(), 2);
    EXPECT_EQ(blob_key_version(seal(ring, "new-password", kAad)), 2);
    EXPECT_EQ(open(ring, old_blob, kAad), "old-password");

    std::string plaintext = open(ring, old_blob, kAad);  // re-seal, as a rotation job would
    const std::string resealed = seal(ring, plaintext, kAad);
    wipe(plaintext);
    EXPECT_TRUE(plaintext.empty());
    EXPECT_EQ(blob_key_version(resealed), 2);

    const KeyRing retired = ring_of(2, kKey2Hex);  // once v1 is gone, only re-sealed blobs open
    EXPECT_EQ(open(retired, resealed, kAad), "old-password");
    EXPECT_EQ(error_of([&] { open(retired, old_blob, kAad); }).kind(), CryptoErrorKind::UnknownKeyVersion);
}

TEST(SecretBox, ThreadsShareOneRing) {
    KeyRing ring = ring_of(1, kKey1Hex);
    ring.add_key(2, from_hex(kKey2Hex));
    const std::string v1_blob = detail::seal_with_nonce(ring_of(1, kKey1Hex), std::string(12, 'n'), "v1", kAad);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; t++) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 300; i++) {
                const std::string secret = "token-" + std::to_string(t) + "-" + std::to_string(i);
                const std::string aad = "crm_accounts:" + std::to_string(t) + ":token";
                try {
                    if (open(ring, seal(ring, secret, aad), aad) != secret) failures++;
                    if (open(ring, v1_blob, kAad) != "v1") failures++;
                    open(ring, v1_blob, aad);  // wrong row
                    failures++;
                } catch (const CryptoError& e) {
                    if (e.kind() != CryptoErrorKind::Tampered) failures++;
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
}

// ---------------------------------------------------------------- key ring

TEST(KeyRing, AddKeyWantsExactly32BytesAndANewNonZeroVersion) {
    KeyRing ring;
    const std::string key = from_hex(kKey1Hex);
    for (std::size_t n : {0, 16, 31, 33, 64}) {
        const std::string bytes = n <= key.size() ? key.substr(0, n) : key + key;
        const CryptoError e = error_of([&] { ring.add_key(1, bytes); });
        EXPECT_EQ(e.kind(), CryptoErrorKind::BadKey);
        EXPECT_NE(std::string(e.what()).find("must be 32"), std::string::npos) << e.what();
        expect_no_key_material(e.what(), kKey1Hex);
        EXPECT_EQ(std::string(e.what()).find(key.substr(0, 4)), std::string::npos);
    }
    EXPECT_EQ(error_of([&] { ring.add_key(0, key); }).kind(), CryptoErrorKind::BadKey);
    ring.add_key(1, key);
    EXPECT_EQ(error_of([&] { ring.add_key(1, from_hex(kKey2Hex)); }).kind(), CryptoErrorKind::BadKey);
    EXPECT_EQ(ring.size(), 1u);
}

TEST(KeyRing, ParsesCommentsBlanksHexAndBase64) {
    const std::string text =
        "# Dinamize credentials keys, newest last\n"
        "\n"
        "  1 : " +
        kKey1Hex +
        "  \r\n"
        "   # retired soon\n"
        "3:" +
        to_base64(from_hex(kKey3Hex)) +
        "\n"
        "2:\t" +
        kKey2Hex;  // no final newline
    KeyRing ring;
    ring.load_keys(text, "test keys");
    EXPECT_EQ(ring.size(), 3u);
    EXPECT_EQ(ring.current_version(), 3);
    EXPECT_TRUE(ring.has_version(1));
    EXPECT_TRUE(ring.has_version(2));

    // Same keys as add_key: blobs interoperate both ways.
    KeyRing direct = ring_of(3, kKey3Hex);
    EXPECT_EQ(open(direct, seal(ring, "pw", kAad), kAad), "pw");
    EXPECT_EQ(open(ring, seal(ring_of(1, kKey1Hex), "pw1", kAad), kAad), "pw1");
}

TEST(KeyRing, HexDigitsMayBeUpperCase) {
    std::string upper = kKey1Hex;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    KeyRing ring;
    ring.load_keys("1:" + upper, "upper");
    EXPECT_EQ(open(ring, seal(ring_of(1, kKey1Hex), "pw", kAad), kAad), "pw");
}

TEST(KeyRing, GucValueSeparatesEntriesWithSemicolons) {
    KeyRing ring;
    ring.load_keys("1:" + kKey1Hex + "; 2:" + to_base64(from_hex(kKey2Hex)) + ";", "dwu_crm.encryption_keys");
    EXPECT_EQ(ring.size(), 2u);
    EXPECT_EQ(ring.current_version(), 2);

    KeyRing bad;
    const CryptoError e =
        error_of([&] { bad.load_keys("1:" + kKey1Hex + ";1:" + kKey2Hex, "dwu_crm.encryption_keys"); });
    EXPECT_STREQ(e.what(), "dwu_crm.encryption_keys, line 1, entry 2: duplicate key version 1 (first on line 1)");
}

struct BadKeyText {
    std::string text;
    std::string message;  // the whole expected message
};

TEST(KeyRing, RejectsBadKeyTextNamingTheLineNeverTheKey) {
    const std::string b64_31 = to_base64(from_hex(kKey2Hex).substr(0, 31));
    const std::string b64_32 = to_base64(from_hex(kKey2Hex));
    const std::string neither = "keys.txt, line 2: key is neither hex nor padded standard base64";
    const auto with_char = [](std::string text, std::size_t at, char c) {
        text[at] = c;
        return text;
    };
    const std::string good = "1:" + kKey1Hex + "\n";
    const std::vector<BadKeyText> cases = {
        {good + "# again\n1:" + kKey2Hex + "\n", "keys.txt, line 3: duplicate key version 1 (first on line 1)"},
        {good + "2:" + kKey2Hex.substr(0, 62) + "\n", "keys.txt, line 2: key is 31 bytes, must be 32 (64 hex digits)"},
        {good + "2:" + b64_31 + "\n", "keys.txt, line 2: key is 31 bytes, must be 32 (44 base64 characters)"},
        {good + "2:" + kKey2Hex.substr(0, 63) + "\n", "keys.txt, line 2: key has an odd number of hex digits"},
        {good + "2:" + kKey2Hex.substr(0, 60) + "zz!?\n",
         "keys.txt, line 2: key is neither hex nor padded standard base64"},
        {good + "2:" + to_base64(from_hex(kKey2Hex)).substr(0, 43) + "\n",
         "keys.txt, line 2: key is neither hex nor padded standard base64"},
        // What OpenSSL's EVP_DecodeBlock alone would let through, or mis-measure:
        {good + "2:" + with_char(b64_32, 10, '=') + "\n", neither},    // '=' inside: a zero sextet to it
        {good + "2:" + b64_32.substr(0, 41) + "===\n", neither},       // three padding characters
        {good + "2:" + b64_32 + "----\n", neither},                    // trailing '-': dropped by it
        {good + "2:" + with_char(b64_32, 20, ' ') + "\n", neither},    // a blank inside
        {good + "2:" + with_char(b64_32, 7, '_') + "\n", neither},     // URL-safe alphabet
        {good + "2:" + b64_32.substr(0, 42) + "\xC3\xA9\n", neither},  // non-ASCII
        {good + "2:0x" + kKey2Hex + "\n", neither},
        {good + "2:" + with_char(kKey2Hex, 5, 'g') + "\n",  // a hex typo reads as base64
         "keys.txt, line 2: key is 48 bytes, must be 32 (44 base64 characters)"},
        {good + "2:" + kKey2Hex + "00\n", "keys.txt, line 2: key is 33 bytes, must be 32 (64 hex digits)"},
        {good + kKey2Hex + "\n", "keys.txt, line 2: expected VERSION:KEY"},
        {good + "v2:" + kKey2Hex + "\n", "keys.txt, line 2: key version must be a whole number from 1 to 65535"},
        {good + "0:" + kKey2Hex + "\n", "keys.txt, line 2: key version must be a whole number from 1 to 65535"},
        {good + "65536:" + kKey2Hex + "\n", "keys.txt, line 2: key version must be a whole number from 1 to 65535"},
        {good + "2:\n", "keys.txt, line 2: missing key after ':'"},
        {"", "keys.txt: no key in it"},
        {"# only a comment\n\n   \n", "keys.txt: no key in it"},
    };
    for (const auto& c : cases) {
        KeyRing ring;
        const CryptoError e = error_of([&] { ring.load_keys(c.text, "keys.txt"); });
        EXPECT_EQ(e.kind(), CryptoErrorKind::BadKey);
        EXPECT_EQ(std::string(e.what()), c.message);
        for (const std::string& key_hex : {kKey1Hex, kKey2Hex}) {
            expect_no_key_material(e.what(), key_hex);
            expect_no_key_material(e.what(), to_base64(from_hex(key_hex)));
        }
        EXPECT_TRUE(ring.empty()) << "a failed load must add nothing";
    }
}

TEST(KeyRing, FailedLoadLeavesTheRingAsItWas) {
    KeyRing ring = ring_of(1, kKey1Hex);
    const CryptoError e = error_of([&] { ring.load_keys("2:" + kKey2Hex + "\n1:" + kKey3Hex + "\n", "more keys"); });
    EXPECT_STREQ(e.what(), "more keys, line 2: key version 1 is already in the key ring");
    EXPECT_EQ(ring.size(), 1u);
    EXPECT_EQ(ring.current_version(), 1);
    EXPECT_EQ(open(ring, seal(ring_of(1, kKey1Hex), "pw", kAad), kAad), "pw");  // v1 untouched
}

// A key file in the test's temp dir, removed at the end.
class TempKeyFile {
public:
    TempKeyFile(const std::string& text, mode_t mode) {
        path_ = ::testing::TempDir() + "dwu_keys_XXXXXX";
        const int fd = mkstemp(path_.data());
        EXPECT_GE(fd, 0);
        EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
        EXPECT_EQ(fchmod(fd, mode), 0);
        close(fd);
    }
    ~TempKeyFile() { unlink(path_.c_str()); }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

TEST(KeyRing, LoadsAKeyFile) {
    const TempKeyFile file("# production\n1:" + kKey1Hex + "\n2:" + to_base64(from_hex(kKey2Hex)) + "\n", 0600);
    KeyRing ring;
    ring.load_key_file(file.path());
    EXPECT_EQ(ring.current_version(), 2);
    EXPECT_EQ(open(ring, seal(ring_of(2, kKey2Hex), "pw", kAad), kAad), "pw");
}

TEST(KeyRing, KeyFileErrorsNameThePathAndLine) {
    const TempKeyFile file("1:" + kKey1Hex + "\n\n3:" + kKey3Hex.substr(0, 62) + "\n", 0640);
    KeyRing ring;
    const CryptoError e = error_of([&] { ring.load_key_file(file.path()); });
    EXPECT_EQ(std::string(e.what()), file.path() + ", line 3: key is 31 bytes, must be 32 (64 hex digits)");
    expect_no_key_material(e.what(), kKey1Hex);
    expect_no_key_material(e.what(), kKey3Hex);
    EXPECT_TRUE(ring.empty());

    const TempKeyFile empty("", 0600);
    EXPECT_EQ(std::string(error_of([&] { ring.load_key_file(empty.path()); }).what()), empty.path() + ": no key in it");
}

TEST(KeyRing, RefusesKeyFilesOthersCanReadOrThatAreMissing) {
    const TempKeyFile file("1:" + kKey1Hex + "\n", 0644);
    KeyRing ring;
    const CryptoError open_to_all = error_of([&] { ring.load_key_file(file.path()); });
    EXPECT_EQ(open_to_all.kind(), CryptoErrorKind::BadKey);
    EXPECT_NE(std::string(open_to_all.what()).find("accessible to other users"), std::string::npos);

    const CryptoError missing = error_of([&] { ring.load_key_file(file.path() + ".missing"); });
    EXPECT_NE(std::string(missing.what()).find("No such file"), std::string::npos) << missing.what();
    EXPECT_EQ(error_of([&] { ring.load_key_file(::testing::TempDir()); }).kind(), CryptoErrorKind::BadKey);
    EXPECT_TRUE(ring.empty());
}

TEST(KeyRing, MovingARingKeepsItsKeys) {
    KeyRing a = ring_of(1, kKey1Hex);
    KeyRing b = std::move(a);
    const std::string blob = seal(b, "pw", kAad);
    a = ring_of(1, kKey2Hex);  // reusing a moved-from ring is fine
    EXPECT_EQ(open(b, blob, kAad), "pw");
    EXPECT_EQ(error_of([&] { open(a, blob, kAad); }).kind(), CryptoErrorKind::Tampered);
}

}  // namespace
}  // namespace dwu
