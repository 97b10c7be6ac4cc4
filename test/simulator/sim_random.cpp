#include "sim_random.h"

#include <random>

namespace sim {
namespace {

// One generator per thread: no locking needed on the server's thread pool.
std::mt19937_64& generator() {
    thread_local std::mt19937_64 gen = [] {
        std::random_device rd;
        std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
        return std::mt19937_64(seq);
    }();
    return gen;
}

// Random text drawn from an alphabet, not an encoding of bytes: no hex or base64 library applies.
std::string random_chars(const std::string& alphabet, std::size_t length) {
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    std::string out;
    out.reserve(length);
    for (std::size_t i = 0; i < length; ++i) out += alphabet[pick(generator())];
    return out;
}

// The 6-digit account part: digits of the client code, left-padded with zeros or cut to 6.
std::string six_digit_code(const std::string& client_code) {
    std::string digits;
    for (char c : client_code)
        if (c >= '0' && c <= '9') digits += c;
    if (digits.size() > 6) digits.resize(6);
    return std::string(6 - digits.size(), '0') + digits;
}

}  // namespace

std::string random_hex(std::size_t length) { return random_chars("0123456789abcdef", length); }

std::string random_token(const std::string& client_code) {
    std::uniform_int_distribution<int> five_digits(10000, 99999);
    std::uniform_int_distribution<int> one_or_two_digits(1, 99);
    static const std::string kBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    return std::to_string(five_digits(generator())) + "." + six_digit_code(client_code) + "." +
           std::to_string(one_or_two_digits(generator())) + "." + random_chars(kBase64, 48);
}

}  // namespace sim
