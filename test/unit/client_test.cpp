// The Dinamize client against the real simulator over loopback HTTP.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <memory>
#include <thread>

#include "core/sync/contact_sync.h"
#include "core/dinamize/dinamize_client.h"
#include "core/dinamize/dinamize_codes.h"
#include "core/dinamize/dinamize_errors.h"
#include "core/sync/sync_job.h"
#include "simulator_process.h"

namespace dwu {
namespace {

constexpr const char* kUser = "crm@example.com";
constexpr const char* kPassword = "s3cret-Pa55word";
constexpr const char* kClient = "300001";
constexpr const char* kList = "7";

class ClientTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        sim_ = new test::SimulatorProcess(std::string(kUser) + ":" + kPassword + ":" + kClient);
    }
    static void TearDownTestSuite() {
        delete sim_;
        sim_ = nullptr;
    }
    void SetUp() override { sim_->admin_post("/__sim/reset"); }

    Account account(const std::string& password = kPassword, const std::string& client = kClient) const {
        return Account(sim_->base_url(), kUser, password, client);
    }
    int auth_count() const { return nlohmann::json::parse(sim_->admin_get("/__sim/stats")).value("auth_ok", -1); }
    nlohmann::json contacts() const {
        return nlohmann::json::parse(
            sim_->admin_get(std::string("/__sim/contacts?client_code=") + kClient + "&list=" + kList))["contacts"];
    }

    static test::SimulatorProcess* sim_;
    HttpTransport http_{HttpOptions{}};
};
test::SimulatorProcess* ClientTest::sim_ = nullptr;

Contact contact(const std::string& email, const std::string& name = "Ana") {
    Contact c;
    c.email = email;
    c.name = name;
    c.external_code = "42";
    return c;
}

TEST_F(ClientTest, AuthenticatesAndAddsAContact) {
    DinamizeClient client(account(), http_);
    const std::string code = upsert_contact(client, contact("ana@example.com"), kList, "");
    EXPECT_FALSE(code.empty());
    const auto all = contacts();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0]["email"], "ana@example.com");
    EXPECT_EQ(all[0]["code"], code);
    EXPECT_EQ(all[0]["external_code"], "42");
    EXPECT_EQ(auth_count(), 1);
}

TEST_F(ClientTest, ReusesTheTokenAcrossCalls) {
    DinamizeClient client(account(), http_);
    for (int i = 0; i < 5; i++) upsert_contact(client, contact("p" + std::to_string(i) + "@example.com"), kList, "");
    EXPECT_EQ(contacts().size(), 5u);
    EXPECT_EQ(auth_count(), 1);
}

TEST_F(ClientTest, ReauthenticatesOnceWhenTheTokenIsRejected) {
    DinamizeClient client(account(), http_);
    upsert_contact(client, contact("a@example.com"), kList, "");
    sim_->admin_post("/__sim/expire-tokens");
    upsert_contact(client, contact("b@example.com"), kList, "");
    EXPECT_EQ(contacts().size(), 2u);
    EXPECT_EQ(auth_count(), 2);
}

TEST_F(ClientTest, RenewsATokenIdleForTooLongOrTooOld) {
    Clock::time_point now = Clock::now();
    DinamizeClient client(account(), http_, TokenRules{}, [&now] { return now; });
    upsert_contact(client, contact("t1@example.com"), kList, "");
    EXPECT_EQ(auth_count(), 1);
    EXPECT_EQ(client.token_generation(), 1u);

    now += std::chrono::minutes(54);  // idle, but not long enough
    upsert_contact(client, contact("t2@example.com"), kList, "");
    EXPECT_EQ(auth_count(), 1);

    now += std::chrono::minutes(56);  // idle past the renewal point
    upsert_contact(client, contact("t3@example.com"), kList, "");
    EXPECT_EQ(auth_count(), 2);

    // In steady use, the maximum age still forces a renewal.
    for (int i = 0; i < 30; i++) {  // 25 h of calls 50 min apart: never idle, but aged past 23.5 h once
        now += std::chrono::minutes(50);
        find_contact_code(client, "t1@example.com", kList);
    }
    EXPECT_EQ(auth_count(), 3);
    EXPECT_EQ(client.token_generation(), 3u);
}

TEST_F(ClientTest, TheBeforeRequestHookSeesEveryRequestAndCanStopIt) {
    DinamizeClient client(account(), http_);
    int hook_calls = 0;
    client.set_before_request([&] { ++hook_calls; });
    upsert_contact(client, contact("hook@example.com"), kList, "");
    EXPECT_EQ(hook_calls, 2);  // /auth, then contact/add
    client.forget_token();
    const int requests_before =
        static_cast<int>(nlohmann::json::parse(sim_->admin_get("/__sim/requests"))["requests"].size());
    client.set_before_request([] { throw Interrupted(); });
    EXPECT_THROW(upsert_contact(client, contact("stopped@example.com"), kList, ""), Interrupted);
    EXPECT_EQ(nlohmann::json::parse(sim_->admin_get("/__sim/requests"))["requests"].size(),
              static_cast<size_t>(requests_before));  // nothing was sent
}

SyncJob delete_job(const std::string& email, const std::string& queued_as, int attempt) {
    SyncJob job;
    job.id = 1;
    job.lead_id = 1;
    job.list_code = kList;
    job.operation = "delete";
    job.queued_operation = queued_as;
    job.attempt = attempt;
    job.payload_json = nlohmann::json{{"email", email}}.dump();
    return job;
}

TEST_F(ClientTest, ADeleteWithoutACodeFindsAContactAnEarlierAttemptMayHaveCreated) {
    DinamizeClient client(account(), http_);
    upsert_contact(client, contact("late@example.com"), kList, "");  // e.g. an import applied late
    const SyncOutcome out = run_job(client, delete_job("late@example.com", "delete", 1), {});
    EXPECT_TRUE(out.ok);
    EXPECT_FALSE(out.skipped);
    EXPECT_FALSE(out.contact_code.empty());
    EXPECT_TRUE(contacts().empty());
}

TEST_F(ClientTest, ACreateNeverSentAndThenDeletedCostsNoRequest) {
    DinamizeClient client(account(), http_);
    client.authenticate();
    const size_t before = nlohmann::json::parse(sim_->admin_get("/__sim/requests"))["requests"].size();
    const SyncOutcome out = run_job(client, delete_job("never@example.com", "create", 1), {});
    EXPECT_TRUE(out.ok);
    EXPECT_TRUE(out.skipped);
    EXPECT_EQ(nlohmann::json::parse(sim_->admin_get("/__sim/requests"))["requests"].size(), before);
    // On a later attempt the create may have landed: the e-mail is looked up (and not found here).
    const SyncOutcome retried = run_job(client, delete_job("never@example.com", "create", 2), {});
    EXPECT_TRUE(retried.skipped);
    EXPECT_EQ(nlohmann::json::parse(sim_->admin_get("/__sim/requests"))["requests"].size(), before + 1);
}

TEST_F(ClientTest, AdoptsAStoredTokenWithoutAuthenticating) {
    std::string token;
    Clock::time_point issued;
    {
        DinamizeClient first(account(), http_);
        first.authenticate();
        token = first.token();
        issued = first.token_issued_at();
    }
    DinamizeClient second(account(), http_);
    second.adopt_token(token, issued, issued);
    upsert_contact(second, contact("adopted@example.com"), kList, "");
    EXPECT_EQ(auth_count(), 1);
    EXPECT_EQ(second.token_generation(), 0u);
}

TEST_F(ClientTest, WrongPasswordIsAnAuthErrorWithoutTheSecret) {
    DinamizeClient client(account("wrong-password-xyz"), http_);
    try {
        client.authenticate();
        FAIL() << "authentication should fail";
    } catch (const DinamizeError& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Auth);
        EXPECT_EQ(e.dinamize_code(), codes::kInvalidCredentials);
        EXPECT_FALSE(e.retryable());
        EXPECT_EQ(std::string(e.what()).find("wrong-password-xyz"), std::string::npos);
        EXPECT_EQ(std::string(e.what()).find(kUser), std::string::npos);
    }
}

TEST_F(ClientTest, WrongClientCodeIsAnAuthError) {
    DinamizeClient client(account(kPassword, "999999"), http_);
    try {
        client.authenticate();
        FAIL() << "authentication should fail";
    } catch (const DinamizeError& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Auth);
        EXPECT_EQ(e.dinamize_code(), codes::kInvalidClientCode);
    }
}

TEST_F(ClientTest, ADuplicateEmailResolvesToTheExistingContact) {
    DinamizeClient client(account(), http_);
    const std::string first = upsert_contact(client, contact("dup@example.com", "First"), kList, "");
    // A re-send after a crash: no known code, the e-mail is already there.
    const std::string second = upsert_contact(client, contact("dup@example.com", "Second"), kList, "");
    EXPECT_EQ(first, second);
    const auto all = contacts();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0]["name"], "Second");
}

TEST_F(ClientTest, AKnownCodeIsUpdatedNotDuplicated) {
    DinamizeClient client(account(), http_);
    const std::string code = upsert_contact(client, contact("up@example.com", "Old"), kList, "");
    EXPECT_EQ(upsert_contact(client, contact("up@example.com", "New"), kList, code), code);
    const auto all = contacts();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0]["name"], "New");
}

TEST_F(ClientTest, AnInvalidEmailIsAValidationErrorNotRetried) {
    DinamizeClient client(account(), http_);
    try {
        upsert_contact(client, contact("not-an-email"), kList, "");
        FAIL() << "Dinamize should refuse the e-mail";
    } catch (const DinamizeError& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Validation);
        EXPECT_FALSE(e.retryable());
        EXPECT_EQ(e.dinamize_code(), codes::kInvalidField);
    }
    EXPECT_EQ(contacts().size(), 0u);
}

TEST_F(ClientTest, FindsAContactByEmail) {
    DinamizeClient client(account(), http_);
    const std::string code = upsert_contact(client, contact("find@example.com"), kList, "");
    EXPECT_EQ(find_contact_code(client, "find@example.com", kList), code);
    EXPECT_EQ(find_contact_code(client, "nobody@example.com", kList), "");
}

TEST_F(ClientTest, RecordsTheRequestIdOfTheLastAnswer) {
    DinamizeClient client(account(), http_);
    upsert_contact(client, contact("rid@example.com"), kList, "");
    EXPECT_FALSE(client.last_request_unique().empty());
}

TEST(TransportTest, RefusedConnectionIsARetryableNetworkError) {
    HttpTransport http(HttpOptions{});
    DinamizeClient client(Account("http://127.0.0.1:1", "u@example.com", "pw-secret", "1"), http);
    try {
        client.authenticate();
        FAIL() << "nothing listens on port 1 (privileged, never used here)";
    } catch (const DinamizeError& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Network);
        EXPECT_TRUE(e.retryable());
        EXPECT_TRUE(e.dinamize_code().empty());
        EXPECT_EQ(std::string(e.what()).find("pw-secret"), std::string::npos);
    }
}

TEST(TransportTest, ASilentServerTimesOutAsARetryableNetworkError) {
    test::SilentServer silent;
    HttpOptions options;
    options.timeout_ms = 300;
    HttpTransport http(options);
    try {
        http.post(silent.base_url() + "/auth", "application/json", "{}", {});
        FAIL() << "the silent server never answers";
    } catch (const DinamizeError& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Network);
        EXPECT_TRUE(e.retryable());
        EXPECT_NE(std::string(e.what()).find("300 ms"), std::string::npos);
    }
}

std::atomic<bool> abort_flag{false};

TEST(TransportTest, AnAbortStopsATransferInFlight) {
    test::SilentServer silent;
    HttpOptions options;
    options.timeout_ms = 60000;
    HttpTransport http(options, [] { return abort_flag.load(); });
    abort_flag = false;
    std::thread trigger([] {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        abort_flag = true;
    });
    EXPECT_THROW(http.post(silent.base_url() + "/auth", "application/json", "{}", {}), Interrupted);
    trigger.join();
}

TEST(TransportTest, AMalformedUrlIsNotRetried) {
    HttpTransport http(HttpOptions{});
    try {
        http.post("ftp://127.0.0.1/auth", "application/json", "{}", {});
        FAIL();
    } catch (const DinamizeError& e) {
        EXPECT_EQ(e.category(), ErrorCategory::Network);
        EXPECT_FALSE(e.retryable());
    }
}

TEST(EndpointForMessages, DropsUserInfoAndPath) {
    EXPECT_EQ(endpoint_for_messages("https://user:pw@api.dinamize.com:443/auth?x=1"), "https://api.dinamize.com:443");
    EXPECT_EQ(endpoint_for_messages("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
}

}  // namespace
}  // namespace dwu
