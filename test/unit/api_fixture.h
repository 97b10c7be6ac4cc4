#pragma once
// A simulator per test suite for the typed API tests (api_*_test.cpp), reset before each test.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "core/dinamize/dinamize_api.h"
#include "core/dinamize/dinamize_client.h"
#include "simulator_process.h"

namespace dwu::test {

inline constexpr const char* kApiUser = "api@example.com";
inline constexpr const char* kApiPassword = "Pw-9f3Kq;\"zX!secret";  // distinctive, to look for in errors
inline constexpr const char* kApiClient = "300001";

class ApiTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        sim_ = new SimulatorProcess(std::string(kApiUser) + ":" + kApiPassword + ":" + kApiClient,
                                    {"--list", "7:Clientes", "--list", "9:Newsletter"});
    }
    static void TearDownTestSuite() {
        delete sim_;
        sim_ = nullptr;
    }
    void SetUp() override { sim_->admin_post("/__sim/reset"); }

    static Account account(const std::string& password = kApiPassword) {
        return Account(sim_->base_url(), kApiUser, password, kApiClient);
    }
    static nlohmann::json stats() { return nlohmann::json::parse(sim_->admin_get("/__sim/stats")); }
    // Protocol requests the simulator has seen since the last reset, /auth included.
    static long requests_seen() {
        const nlohmann::json s = stats();  // named: items() of a temporary would dangle in the loop
        long n = 0;
        for (const auto& [path, count] : s["requests"].items()) n += count.get<long>();
        return n;
    }
    static long requests_to(const std::string& path) { return stats()["requests"].value(path, 0L); }
    static nlohmann::json admin(const std::string& path, const nlohmann::json& body) {
        return nlohmann::json::parse(sim_->admin_post_body(path, body.dump()));
    }
    static nlohmann::json sim_contacts(const std::string& list) {
        return nlohmann::json::parse(
            sim_->admin_get(std::string("/__sim/contacts?client_code=") + kApiClient + "&list=" + list))["contacts"];
    }

    std::string add(const std::string& list, const std::string& email, const std::string& name = "",
                    nlohmann::json custom = nlohmann::json::object()) {
        Contact v;
        v.email = email;
        if (!name.empty()) v.name = name;
        v.custom_fields = std::move(custom);
        return add_contact(client_, list, v);
    }

    static std::vector<std::string> values_of(const std::vector<nlohmann::json>& items, const char* key) {
        std::vector<std::string> out;
        for (const auto& item : items) out.push_back(item.value(key, std::string()));
        return out;
    }

    static inline SimulatorProcess* sim_ = nullptr;
    HttpTransport http_{HttpOptions{}};
    DinamizeClient client_{account(), http_};
};

}  // namespace dwu::test
