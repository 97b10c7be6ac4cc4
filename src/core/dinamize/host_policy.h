#pragma once
#include "core/pg_free.h"
// Which hosts the extension may call (dwu_crm.allowed_hosts): the database server must not become
// a way to reach internal hosts, nor send a password over plain http, because an admin typed (or
// was tricked into) a base URL.
//
// The list is comma-separated; each entry is an optional scheme and one of:
//   api.dinamize.com       that host name (case-insensitive)
//   *.dinamize.com         any host name under that domain (not the domain itself)
//   10.1.2.3, 10.0.0.0/8   an IPv4 address or network: a base URL naming it, and a host name
//                          resolving to it (see below)
// An entry without a scheme (or with https://) allows https only; `http://` also allows plain http.
//
// Two checks: the base URL's host must match an entry (refusal()); and, at connect time, an
// address that is not public (loopback, private, link-local, shared, unspecified, multicast, any
// IPv6 other than global unicast) is refused unless an address entry covers it
// (address_allowed()), so a public-looking name pointed at 127.0.0.1 still cannot reach it.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

struct sockaddr;

namespace dwu {

class HostPolicy {
public:
    // Throws std::invalid_argument naming the bad entry.
    static HostPolicy parse(std::string_view list);

    // Empty when `url` (scheme://host[:port]) may be called, else why not (for an error message).
    std::string refusal(const std::string& url) const;
    // Whether a connection to this resolved address may be opened.
    bool address_allowed(const sockaddr* address) const;

    const std::string& text() const { return text_; }

private:
    struct NameEntry {
        std::string name;  // lower case; for a wildcard, the suffix with its leading dot
        bool wildcard = false;
        bool allows_http = false;
    };
    struct NetworkEntry {
        std::uint32_t network = 0, mask = 0;
        bool allows_http = false;
    };
    const NetworkEntry* network_for(std::uint32_t address) const;

    std::string text_;
    std::vector<NameEntry> names_;
    std::vector<NetworkEntry> networks_;
};

// Whether an IPv4 address (host order) is one the public internet routes.
bool is_public_ipv4(std::uint32_t address);

}  // namespace dwu
