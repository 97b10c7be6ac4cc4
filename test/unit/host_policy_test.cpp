// dwu_crm.allowed_hosts: which base URLs may be called, and which resolved addresses reached.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <memory>
#include <string>

#include "core/dinamize/dinamize_errors.h"
#include "core/dinamize/host_policy.h"
#include "core/dinamize/http_transport.h"
#include "simulator_process.h"

namespace dwu {
namespace {

sockaddr_in ipv4(const char* text) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, text, &a.sin_addr);
    return a;
}

sockaddr_in6 ipv6(const char* text) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    inet_pton(AF_INET6, text, &a.sin6_addr);
    return a;
}

template <typename Address>
bool allowed(const HostPolicy& p, const Address& a) {
    return p.address_allowed(reinterpret_cast<const sockaddr*>(&a));
}

TEST(HostPolicy, NamesAndWildcardsAllowHttpsOnly) {
    const HostPolicy p = HostPolicy::parse("api.dinamize.com, *.corp.example");
    EXPECT_EQ(p.refusal("https://api.dinamize.com"), "");
    EXPECT_EQ(p.refusal("https://API.Dinamize.com:443"), "");
    EXPECT_EQ(p.refusal("https://eu.corp.example"), "");
    EXPECT_NE(p.refusal("https://corp.example"), "") << "a wildcard covers subdomains, not the domain";
    EXPECT_NE(p.refusal("https://api.dinamize.com.evil.example"), "");
    EXPECT_NE(p.refusal("https://evilapi.dinamize.com"), "");
    EXPECT_NE(p.refusal("https://10.0.0.5"), "");
    const std::string plain = p.refusal("http://api.dinamize.com");
    EXPECT_NE(plain.find("plain http"), std::string::npos) << plain;
    EXPECT_NE(p.refusal("ftp://api.dinamize.com"), "");
}

TEST(HostPolicy, AnHttpEntryAllowsPlainHttp) {
    const HostPolicy p = HostPolicy::parse("http://sim.test, https://api.dinamize.com");
    EXPECT_EQ(p.refusal("http://sim.test:8080"), "");
    EXPECT_EQ(p.refusal("https://sim.test"), "");
    EXPECT_NE(p.refusal("http://api.dinamize.com"), "");
}

TEST(HostPolicy, AddressEntriesCoverUrlsAndResolvedAddresses) {
    const HostPolicy p = HostPolicy::parse("http://127.0.0.1, 10.20.0.0/16");
    EXPECT_EQ(p.refusal("http://127.0.0.1:9"), "");
    EXPECT_EQ(p.refusal("https://10.20.3.4"), "");
    EXPECT_NE(p.refusal("http://10.20.3.4"), "") << "the network entry has no http://";
    EXPECT_NE(p.refusal("https://10.21.0.1"), "");
    EXPECT_TRUE(allowed(p, ipv4("127.0.0.1")));
    EXPECT_FALSE(allowed(p, ipv4("127.0.0.2")));
    EXPECT_TRUE(allowed(p, ipv4("10.20.255.1")));
    EXPECT_TRUE(allowed(p, ipv6("::ffff:127.0.0.1"))) << "an IPv4-mapped address is judged as IPv4";
}

TEST(HostPolicy, OnlyPublicAddressesAreReachableByName) {
    const HostPolicy p = HostPolicy::parse("api.dinamize.com");
    EXPECT_TRUE(allowed(p, ipv4("200.147.35.149")));
    EXPECT_TRUE(allowed(p, ipv6("2001:db8::1")));
    for (const char* a : {"127.0.0.1", "10.1.1.1", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
                          "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255"})
        EXPECT_FALSE(allowed(p, ipv4(a))) << a;
    for (const char* a : {"::1", "::", "fe80::1", "fd00::1", "::ffff:10.0.0.1", "::ffff:169.254.169.254"})
        EXPECT_FALSE(allowed(p, ipv6(a))) << a;
    EXPECT_TRUE(allowed(p, ipv4("172.32.0.1")));
}

TEST(HostPolicy, BadEntriesAreRefusedByName) {
    for (const char* bad : {"*", "api dinamize", "10.0.0.0/33", "10.0.0.1/8", "http://", "a_b.example", "*."}) {
        try {
            HostPolicy::parse(bad);
            ADD_FAILURE() << bad << " was accepted";
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find("dwu_crm.allowed_hosts"), std::string::npos) << e.what();
        }
    }
    EXPECT_NO_THROW(HostPolicy::parse(" , api.dinamize.com ,, "));
}

TEST(HostPolicyTransport, ARefusedUrlIsNeverRequested) {
    test::SilentServer silent;
    HttpOptions options;
    options.hosts = std::make_shared<const HostPolicy>(HostPolicy::parse("api.dinamize.com"));
    HttpTransport http(options);
    try {
        http.post(silent.base_url() + "/auth", "application/json", "{}", {});
        FAIL();
    } catch (const DinamizeError& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Network);
        EXPECT_FALSE(e.retryable());
        EXPECT_NE(std::string(e.what()).find("not in dwu_crm.allowed_hosts"), std::string::npos) << e.what();
    }
}

TEST(HostPolicyTransport, ANameResolvingToLoopbackIsNotConnected) {
    test::SilentServer silent;
    const std::string port = silent.base_url().substr(silent.base_url().rfind(':'));
    HttpOptions options;
    options.timeout_ms = 300;
    options.hosts = std::make_shared<const HostPolicy>(HostPolicy::parse("http://localhost"));
    {
        HttpTransport http(options);
        try {
            http.post("http://localhost" + port + "/auth", "application/json", "{}", {});
            FAIL();
        } catch (const DinamizeError& e) {
            EXPECT_NE(std::string(e.what()).find("refused to connect to"), std::string::npos) << e.what();
        }
    }
    // With the loopback address listed, the same call connects (and meets the silent server's timeout).
    options.hosts = std::make_shared<const HostPolicy>(HostPolicy::parse("http://localhost, 127.0.0.1"));
    HttpTransport http(options);
    try {
        http.post("http://localhost" + port + "/auth", "application/json", "{}", {});
        FAIL();
    } catch (const DinamizeError& e) {
        EXPECT_NE(std::string(e.what()).find("no complete answer"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace dwu
