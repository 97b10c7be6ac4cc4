#include "core/dinamize/account_fields.h"

#include <regex>
#include <stdexcept>

namespace dwu {
namespace {

bool digits(const std::string& s, size_t max) {
    return !s.empty() && s.size() <= max && s.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

void validate_account_fields(const AccountFields& f) {
    static const std::regex name("^[a-z0-9][a-z0-9_.-]{0,99}$");
    // Scheme, host and optional port only: Dinamize's paths are appended by the client, and
    // user-info in a URL would put a secret where logs print URLs.
    static const std::regex url("^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$");
    if (!std::regex_match(f.name, name))
        throw std::invalid_argument(
            "account name must be 1-100 characters of a-z, 0-9, '_', '.', '-', starting "
            "with a letter or digit");
    if (f.base_url.size() > 200 || !std::regex_match(f.base_url, url))
        throw std::invalid_argument(
            "base URL must look like https://api.dinamize.com (scheme, host, optional port; "
            "no path, no user-info)");
    if (f.user.empty() || f.user.size() > 254 || f.user.find_first_of(" \t\r\n") != std::string::npos)
        throw std::invalid_argument("user must be a Dinamize login of 1-254 characters without spaces");
    if (!digits(f.client_code, 32)) throw std::invalid_argument("client code must be digits only (at most 32)");
    if (!digits(f.list_code, 32)) throw std::invalid_argument("list code must be digits only (at most 32)");
}

void validate_password(const std::string& password) {
    if (password.empty()) throw std::invalid_argument("password must not be empty");
    if (password.size() > 1024) throw std::invalid_argument("password is longer than 1024 bytes");
}

}  // namespace dwu
