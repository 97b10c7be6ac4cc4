// dinamize_probe_codes' requests against the simulator: what each condition answers, with nothing
// changed in Dinamize, and a code shared by two conditions not taken for either.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <string>

#include "core/dinamize/code_probe.h"
#include "core/dinamize/dinamize_client.h"
#include "core/sync/contact_sync.h"
#include "simulator_process.h"

namespace dwu {
namespace {

constexpr const char* kAccount = "probe@example.com:Pr0be-Pa55:300003";
constexpr const char* kList = "7";

std::map<CodeMeaning, ProbeFinding> by_meaning(const std::vector<ProbeFinding>& found) {
    std::map<CodeMeaning, ProbeFinding> m;
    for (const auto& f : found) m.emplace(f.meaning, f);
    return m;
}

nlohmann::json contacts(const test::SimulatorProcess& sim) {
    return nlohmann::json::parse(
        sim.admin_get(std::string("/__sim/contacts?client_code=300003&list=") + kList))["contacts"];
}

TEST(CodeProbe, LearnsTheSimulatorsCodesAndChangesNothing) {
    test::SimulatorProcess sim(kAccount, {"--code", "expired_token=459001", "--code", "invalid_field=459002", "--code",
                                          "duplicate_email=459003", "--code", "not_found=459004"});
    HttpTransport http{HttpOptions{}};
    DinamizeClient client(Account(sim.base_url(), "probe@example.com", "Pr0be-Pa55", "300003"), http);

    auto found = by_meaning(probe_codes(client, kList));
    EXPECT_EQ(found.at(CodeMeaning::ExpiredToken).code, "459001");
    EXPECT_EQ(found.at(CodeMeaning::NotFound).code, "459004");
    EXPECT_EQ(found.at(CodeMeaning::InvalidField).code, "459002");
    EXPECT_EQ(found.at(CodeMeaning::DuplicateEmail).code, "");  // an empty list: skipped
    EXPECT_NE(found.at(CodeMeaning::DuplicateEmail).note.find("empty"), std::string::npos);
    EXPECT_EQ(found.at(CodeMeaning::DuplicateTitle).code, "");
    EXPECT_TRUE(contacts(sim).empty());

    Contact c;
    c.email = "kept@example.com";
    c.name = "Kept";
    c.external_code = "7";
    upsert_contact(client, c, kList, "");
    const nlohmann::json before = contacts(sim);
    found = by_meaning(probe_codes(client, kList));
    EXPECT_EQ(found.at(CodeMeaning::DuplicateEmail).code, "459003");
    EXPECT_EQ(contacts(sim), before);
    // The client's own token survived the made-up one: it still works, without a new login.
    const int auths = nlohmann::json::parse(sim.admin_get("/__sim/stats")).value("auth_ok", -1);
    EXPECT_EQ(find_contact_code(client, "kept@example.com", kList), before[0]["code"].get<std::string>());
    EXPECT_EQ(nlohmann::json::parse(sim.admin_get("/__sim/stats")).value("auth_ok", -1), auths);
}

TEST(CodeProbe, ACodeAnsweredForTwoConditionsIsNotTakenForEither) {
    test::SimulatorProcess sim(kAccount, {"--code", "invalid_field=459999", "--code", "not_found=459999"});
    HttpTransport http{HttpOptions{}};
    DinamizeClient client(Account(sim.base_url(), "probe@example.com", "Pr0be-Pa55", "300003"), http);
    auto found = by_meaning(probe_codes(client, kList));
    EXPECT_EQ(found.at(CodeMeaning::NotFound).code, "");
    EXPECT_EQ(found.at(CodeMeaning::InvalidField).code, "");
    EXPECT_NE(found.at(CodeMeaning::NotFound).note.find("459999"), std::string::npos);
    EXPECT_EQ(found.at(CodeMeaning::ExpiredToken).code, "249001");  // the default, still told apart
}

}  // namespace
}  // namespace dwu
