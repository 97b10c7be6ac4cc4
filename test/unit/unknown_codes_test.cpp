// The client against a simulator that answers the five unpublished conditions with codes other
// than our defaults (--code), as the real API will: each sync still ends right, by lookups, and an
// unknown code does not cost a login while the token is in use.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "core/dinamize/dinamize_client.h"
#include "core/dinamize/dinamize_codes.h"
#include "core/dinamize/dinamize_errors.h"
#include "core/sync/contact_sync.h"
#include "core/sync/sync_job.h"
#include "simulator_process.h"

namespace dwu {
namespace {

constexpr const char* kUser = "codes@example.com";
constexpr const char* kPassword = "c0des-Pa55word";
constexpr const char* kClient = "300002";
constexpr const char* kList = "7";
constexpr const char* kExpired = "359001";
constexpr const char* kInvalid = "359002";
constexpr const char* kDuplicate = "359003";
constexpr const char* kNotFound = "359004";

class UnknownCodesTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        sim_ = new test::SimulatorProcess(
            std::string(kUser) + ":" + kPassword + ":" + kClient,
            {"--code", std::string("expired_token=") + kExpired, "--code", std::string("invalid_field=") + kInvalid,
             "--code", std::string("duplicate_email=") + kDuplicate, "--code", std::string("not_found=") + kNotFound,
             "--code", "duplicate_title=359006"});
    }
    static void TearDownTestSuite() {
        delete sim_;
        sim_ = nullptr;
    }
    void SetUp() override { sim_->admin_post("/__sim/reset"); }

    // A client with the default table (none of the simulator's codes), a clock the test moves,
    // and a minute between logins.
    std::unique_ptr<DinamizeClient> client() {
        auto c = std::make_unique<DinamizeClient>(Account(sim_->base_url(), kUser, kPassword, kClient), http_,
                                                  TokenRules{}, [this] { return now_; });
        c->set_login_interval(std::chrono::minutes(1));
        return c;
    }
    int auth_count() const { return nlohmann::json::parse(sim_->admin_get("/__sim/stats")).value("auth_ok", -1); }
    nlohmann::json contacts() const {
        return nlohmann::json::parse(
            sim_->admin_get(std::string("/__sim/contacts?client_code=") + kClient + "&list=" + kList))["contacts"];
    }
    void delete_on_dinamize(DinamizeClient& c, const std::string& code) {
        c.call("/emkt/contact/delete", {{"contact_code", code}, {"contact-list_code", kList}});
    }

    static test::SimulatorProcess* sim_;
    HttpTransport http_{HttpOptions{}};
    Clock::time_point now_ = Clock::now();
};
test::SimulatorProcess* UnknownCodesTest::sim_ = nullptr;

Contact contact(const std::string& email, const std::string& name) {
    Contact c;
    c.email = email;
    c.name = name;
    c.external_code = "42";
    return c;
}

SyncJob delete_job(const std::string& email, const std::string& code) {
    SyncJob job;
    job.id = 1;
    job.lead_id = 42;
    job.list_code = kList;
    job.operation = job.queued_operation = "delete";
    job.attempt = 1;
    job.contact_code = code;
    job.payload_json = nlohmann::json{{"email", email}}.dump();
    return job;
}

TEST_F(UnknownCodesTest, ADuplicateUnderAnUnknownCodeResolvesToTheExistingContactWithoutALogin) {
    auto c = client();
    const std::string first = upsert_contact(*c, contact("dup@example.com", "First"), kList, "");
    const std::string second = upsert_contact(*c, contact("dup@example.com", "Second"), kList, "");
    EXPECT_EQ(first, second);
    const auto all = contacts();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0]["name"], "Second");
    EXPECT_EQ(auth_count(), 1);
}

TEST_F(UnknownCodesTest, AnUpdateOfAContactGoneFromDinamizeCreatesItAgain) {
    auto c = client();
    const std::string code = upsert_contact(*c, contact("gone@example.com", "Old"), kList, "");
    delete_on_dinamize(*c, code);
    const std::string again = upsert_contact(*c, contact("gone@example.com", "New"), kList, code);
    EXPECT_NE(again, code);
    const auto all = contacts();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0]["name"], "New");
    EXPECT_EQ(auth_count(), 1);
}

TEST_F(UnknownCodesTest, ADeleteOfAContactAlreadyGoneSucceeds) {
    auto c = client();
    const std::string code = upsert_contact(*c, contact("twice@example.com", "Ana"), kList, "");
    delete_on_dinamize(*c, code);
    const SyncOutcome out = run_job(*c, delete_job("twice@example.com", code), {});
    EXPECT_TRUE(out.ok) << out.message;
    EXPECT_EQ(out.message, "contact was already absent from Dinamize");
    EXPECT_EQ(auth_count(), 1);
}

TEST_F(UnknownCodesTest, AnInvalidAddressUnderAnUnknownCodeFailsRetryableAndCreatesNothing) {
    auto c = client();
    upsert_contact(*c, contact("fine@example.com", "Ana"), kList, "");
    // 1: the token was accepted a moment ago: no login. 2: two minutes later one harmless read
    // shows the token still works: no login, the code is remembered. 3: no read, no login.
    const int logins_after[] = {1, 1, 1};
    for (int expected : logins_after) {
        try {
            upsert_contact(*c, contact("not-an-email", "Bad"), kList, "");
            ADD_FAILURE() << "Dinamize should refuse the e-mail";
        } catch (const DinamizeError& e) {
            EXPECT_TRUE(e.unknown_code());
            EXPECT_EQ(e.dinamize_code(), kInvalid);
            EXPECT_TRUE(e.retryable());  // max_attempts bounds it; the code may have been a token's
        }
        EXPECT_EQ(auth_count(), expected);
        now_ += std::chrono::minutes(2);
    }
    EXPECT_EQ(contacts().size(), 1u);
}

// With requests in flight each job runs on a client of its own: it starts from what the account
// client learnt, or every job would spend a read to learn the same code again.
TEST_F(UnknownCodesTest, AJobsClientStartsFromWhatTheAccountsClientLearnt) {
    auto reads = [this] {
        const auto all = nlohmann::json::parse(sim_->admin_get("/__sim/requests?since_ms=0"))["requests"];
        return std::count_if(all.begin(), all.end(),
                             [](const nlohmann::json& r) { return r["path"] == "/emkt/contact-list/search"; });
    };
    auto account = client();
    upsert_contact(*account, contact("fine@example.com", "Ana"), kList, "");
    now_ += std::chrono::minutes(2);
    EXPECT_THROW(upsert_contact(*account, contact("not-an-email", "Bad"), kList, ""), DinamizeError);
    ASSERT_EQ(reads(), 1);  // the token still works: the code is not the token's, remembered
    now_ += std::chrono::minutes(2);
    auto job = client();
    job->adopt_token(account->token(), account->token_issued_at(), account->token_last_used());
    job->learn(account->learnt());
    EXPECT_THROW(upsert_contact(*job, contact("not-an-email", "Bad"), kList, ""), DinamizeError);
    EXPECT_EQ(reads(), 1);
    EXPECT_EQ(auth_count(), 1);
}

TEST_F(UnknownCodesTest, ARevokedTokenUnderAnUnknownCodeGetsANewLoginOnceTheIntervalIsOver) {
    auto c = client();
    upsert_contact(*c, contact("a@example.com", "Ana"), kList, "");
    sim_->admin_post("/__sim/expire-tokens");
    EXPECT_THROW(upsert_contact(*c, contact("b@example.com", "Bia"), kList, ""), DinamizeError);
    EXPECT_EQ(auth_count(), 1);  // the token was accepted a moment ago: no login storm
    now_ += std::chrono::seconds(61);
    upsert_contact(*c, contact("b@example.com", "Bia"), kList, "");
    EXPECT_EQ(auth_count(), 2);
    EXPECT_EQ(contacts().size(), 2u);
}

TEST_F(UnknownCodesTest, ARevokedTokenIsNotTakenForAMissingContact) {
    auto c = client();
    const std::string code = upsert_contact(*c, contact("kept@example.com", "Ana"), kList, "");
    sim_->admin_post("/__sim/expire-tokens");  // every call now answers the same unknown code
    const SyncOutcome out = run_job(*c, delete_job("kept@example.com", code), {});
    EXPECT_FALSE(out.ok);
    EXPECT_TRUE(out.retryable);
    EXPECT_THROW(upsert_contact(*c, contact("kept@example.com", "Bia"), kList, code), DinamizeError);
    const auto all = contacts();
    ASSERT_EQ(all.size(), 1u);  // neither deleted nor created again
    EXPECT_EQ(all[0]["name"], "Ana");
}

TEST_F(UnknownCodesTest, AKnownTokenCodeYoungerThanTheIntervalGetsNoNewLogin) {
    auto c = client();
    c->set_codes(std::make_shared<const ResponseCodes>(
        std::vector<ResponseCodes::Entry>{{kExpired, codes::standard_class(CodeMeaning::ExpiredToken)}}));
    upsert_contact(*c, contact("a@example.com", "Ana"), kList, "");
    sim_->admin_post("/__sim/expire-tokens");
    try {
        upsert_contact(*c, contact("b@example.com", "Bia"), kList, "");
        FAIL() << "the token is revoked";
    } catch (const DinamizeError& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Auth);
        EXPECT_TRUE(e.retryable());
    }
    EXPECT_EQ(auth_count(), 1);
    now_ += std::chrono::seconds(61);
    upsert_contact(*c, contact("b@example.com", "Bia"), kList, "");
    EXPECT_EQ(auth_count(), 2);
}

TEST_F(UnknownCodesTest, TheAccountsTableClassifiesTheSimulatorsCodes) {
    auto c = client();
    std::vector<ResponseCodes::Entry> rows;
    for (const auto& [code, meaning] : std::vector<std::pair<std::string, CodeMeaning>>{
             {kInvalid, CodeMeaning::InvalidField}, {kDuplicate, CodeMeaning::DuplicateEmail}})
        rows.push_back({code, codes::standard_class(meaning)});
    c->set_codes(std::make_shared<const ResponseCodes>(rows));
    try {
        upsert_contact(*c, contact("not-an-email", "Bad"), kList, "");
        FAIL() << "Dinamize should refuse the e-mail";
    } catch (const DinamizeError& e) {
        EXPECT_FALSE(e.unknown_code());
        EXPECT_EQ(e.category(), ErrorCategory::Validation);
        EXPECT_FALSE(e.retryable());
    }
    const std::string first = upsert_contact(*c, contact("d@example.com", "One"), kList, "");
    EXPECT_EQ(upsert_contact(*c, contact("d@example.com", "Two"), kList, ""), first);
}

TEST(StoredCodes, ReadsTheStoredSpellings) {
    const auto cls = codes::stored_class("not_found", "VALIDATION", false, false, false, true);
    ASSERT_TRUE(cls);
    EXPECT_TRUE(cls->not_found);
    EXPECT_EQ(cls->meaning, CodeMeaning::NotFound);
    EXPECT_FALSE(codes::stored_class("not_found", "NOPE", false, false, false, true));
    EXPECT_EQ(codes::stored_class("whatever", "AUTH", true, true, false, false)->meaning, CodeMeaning::Other);
    // The defaults are the rows of crm_response_code_defaults' seed.
    EXPECT_EQ(ResponseCodes::defaults()->size(), 10u);
    EXPECT_TRUE(ResponseCodes::defaults()->classify(codes::kNotFound).not_found);
    EXPECT_FALSE(ResponseCodes::defaults()->classify("359004").known());
}

}  // namespace
}  // namespace dwu
