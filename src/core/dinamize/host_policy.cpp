#include "core/dinamize/host_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace dwu {
namespace {

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

std::string_view strip_blanks(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool parse_ipv4(const std::string& text, std::uint32_t& out) {
    in_addr a{};
    if (inet_pton(AF_INET, text.c_str(), &a) != 1) return false;
    out = ntohl(a.s_addr);
    return true;
}

bool valid_host_name(std::string_view name) {
    if (name.empty() || name.size() > 253 || name.front() == '.' || name.back() == '.') return false;
    return std::all_of(name.begin(), name.end(),
                       [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '.'; });
}

bool in_network(std::uint32_t address, std::uint32_t network, int bits) {
    const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
    return (address & mask) == network;
}

struct UrlParts {
    std::string scheme, host;
};

UrlParts split_url(const std::string& url) {
    UrlParts p;
    const auto sep = url.find("://");
    if (sep == std::string::npos) return p;
    p.scheme = ascii_lower(url.substr(0, sep));
    const size_t start = sep + 3;
    size_t end = url.find_first_of(":/?#", start);
    if (end == std::string::npos) end = url.size();
    p.host = ascii_lower(url.substr(start, end - start));
    return p;
}

}  // namespace

bool is_public_ipv4(std::uint32_t a) {
    struct Net {
        std::uint32_t network;
        int bits;
    };
    static const Net kNotPublic[] = {
        {0x00000000, 8},   // "this network", 0.0.0.0
        {0x0A000000, 8},   // private
        {0x64400000, 10},  // shared address space (carrier-grade NAT)
        {0x7F000000, 8},   // loopback
        {0xA9FE0000, 16},  // link-local (cloud metadata services live here)
        {0xAC100000, 12},  // private
        {0xC0000000, 24},  // IETF protocol assignments
        {0xC0A80000, 16},  // private
        {0xC6120000, 15},  // benchmarking
        {0xE0000000, 3},   // multicast, reserved, broadcast
    };
    for (const Net& n : kNotPublic)
        if (in_network(a, n.network, n.bits)) return false;
    return true;
}

HostPolicy HostPolicy::parse(std::string_view list) {
    HostPolicy p;
    p.text_ = std::string(list);
    size_t pos = 0;
    while (pos <= list.size()) {
        size_t comma = list.find(',', pos);
        if (comma == std::string_view::npos) comma = list.size();
        std::string_view entry = strip_blanks(list.substr(pos, comma - pos));
        pos = comma + 1;
        if (entry.empty()) continue;
        const std::string original(entry);
        bool allows_http = false;
        const std::string low = ascii_lower(entry);
        if (low.rfind("http://", 0) == 0) {
            allows_http = true;
            entry.remove_prefix(7);
        } else if (low.rfind("https://", 0) == 0) {
            entry.remove_prefix(8);
        }
        std::string value = ascii_lower(entry);
        const auto slash = value.find('/');
        std::uint32_t address = 0;
        if (parse_ipv4(value.substr(0, slash), address)) {
            int bits = 32;
            if (slash != std::string::npos) {
                const std::string b = value.substr(slash + 1);
                if (b.empty() || b.size() > 2 || b.find_first_not_of("0123456789") != std::string::npos ||
                    std::stoi(b) > 32)
                    throw std::invalid_argument("dwu_crm.allowed_hosts: \"" + original +
                                                "\" has a bad prefix length (0-32)");
                bits = std::stoi(b);
            }
            const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
            if ((address & mask) != address)
                throw std::invalid_argument("dwu_crm.allowed_hosts: \"" + original +
                                            "\" has host bits set after the prefix");
            p.networks_.push_back({address, mask, allows_http});
            continue;
        }
        NameEntry n;
        n.allows_http = allows_http;
        if (value.rfind("*.", 0) == 0) {
            n.wildcard = true;
            value.erase(0, 1);  // keep the dot: ".dinamize.com"
            if (!valid_host_name(value.substr(1)))
                throw std::invalid_argument("dwu_crm.allowed_hosts: \"" + original + "\" is not a host pattern");
        } else if (!valid_host_name(value)) {
            throw std::invalid_argument("dwu_crm.allowed_hosts: \"" + original +
                                        "\" is not a host name, *.domain, IPv4 address or network");
        }
        n.name = value;
        p.names_.push_back(std::move(n));
    }
    return p;
}

const HostPolicy::NetworkEntry* HostPolicy::network_for(std::uint32_t address) const {
    for (const NetworkEntry& n : networks_)
        if ((address & n.mask) == n.network) return &n;
    return nullptr;
}

std::string HostPolicy::refusal(const std::string& url) const {
    const UrlParts u = split_url(url);
    if (u.scheme != "http" && u.scheme != "https") return "only http and https URLs can be called";
    const bool http = u.scheme == "http";
    bool matched = false, http_allowed = false;
    std::uint32_t address = 0;
    if (parse_ipv4(u.host, address)) {
        if (const NetworkEntry* n = network_for(address)) {
            matched = true;
            http_allowed = n->allows_http;
        }
    } else {
        for (const NameEntry& n : names_) {
            const bool hit = n.wildcard ? u.host.size() > n.name.size() &&
                                              u.host.compare(u.host.size() - n.name.size(), n.name.size(), n.name) == 0
                                        : u.host == n.name;
            if (hit) {
                matched = true;
                http_allowed = http_allowed || n.allows_http;
            }
        }
    }
    if (!matched) return "host " + u.host + " is not in dwu_crm.allowed_hosts";
    if (http && !http_allowed)
        return "plain http to " + u.host + " is not allowed by dwu_crm.allowed_hosts (list it as http://" + u.host +
               " to allow it)";
    return "";
}

bool HostPolicy::address_allowed(const sockaddr* address) const {
    if (!address) return false;
    if (address->sa_family == AF_INET) {
        const std::uint32_t a = ntohl(reinterpret_cast<const sockaddr_in*>(address)->sin_addr.s_addr);
        return is_public_ipv4(a) || network_for(a) != nullptr;
    }
    if (address->sa_family == AF_INET6) {
        const unsigned char* b = reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr.s6_addr;
        // An IPv4-mapped address (::ffff:a.b.c.d) is judged as the IPv4 address it maps.
        static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::equal(kMapped, kMapped + 12, b)) {
            const std::uint32_t a =
                (std::uint32_t{b[12]} << 24) | (std::uint32_t{b[13]} << 16) | (std::uint32_t{b[14]} << 8) | b[15];
            return is_public_ipv4(a) || network_for(a) != nullptr;
        }
        return (b[0] & 0xE0) == 0x20;  // 2000::/3, global unicast: loopback, ULA, link-local are not
    }
    return false;
}

}  // namespace dwu
