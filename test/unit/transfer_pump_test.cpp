// The transfer pump against the real simulator over loopback: many requests from many threads in
// flight through one multi handle, admitted when sent, connections kept alive, stopped at once.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/dinamize/dinamize_errors.h"
#include "core/dinamize/dinamize_client.h"
#include "core/inflight/job_threads.h"
#include "core/inflight/shared_login.h"
#include "core/inflight/transfer_pump.h"
#include "simulator_process.h"

namespace dwu {
namespace {

constexpr const char* kAccount = "pump:secret:910001";
const std::string kAuthBody = R"({"user":"pump","password":"secret","client_code":"910001"})";

// Every request takes 200 ms to arrive (the simulator's --latency-ms): all of a test overlap.
class TransferPumpTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        sim_ = new test::SimulatorProcess(kAccount, {"--latency-ms", "200", "--threads", "64"});
    }
    static void TearDownTestSuite() {
        delete sim_;
        sim_ = nullptr;
    }
    static std::string url() { return sim_->base_url() + "/auth"; }
    static test::SimulatorProcess* sim_;
};
test::SimulatorProcess* TransferPumpTest::sim_ = nullptr;

// Runs `threads` requests on job threads and pumps on this thread until all are answered.
struct Outcomes {
    std::mutex mutex;
    std::vector<HttpResponse> answers;
    std::vector<std::string> errors;
    std::atomic<int> finished{0};
};

void post_from_threads(TransferPump& pump, JobThreads& threads, int count, Outcomes& out, const std::string& url,
                       const std::string& key = "a") {
    for (int i = 0; i < count; i++)
        threads.post([&pump, &out, url, key] {
            PumpedTransport transport(pump, HttpOptions{}, key);
            try {
                HttpResponse r = transport.post(url, "application/json", kAuthBody, {});
                std::lock_guard<std::mutex> lock(out.mutex);
                out.answers.push_back(std::move(r));
            } catch (const std::exception& e) {
                std::lock_guard<std::mutex> lock(out.mutex);
                out.errors.push_back(e.what());
            }
            out.finished++;
            pump.wake();
        });
}

void pump_until(TransferPump& pump, const std::function<bool()>& done) {
    for (int rounds = 0; !done() && rounds < 100000; rounds++) pump.wait_and_pump(100);
}

TEST_F(TransferPumpTest, ManyRequestsFromManyThreadsAreInFlightTogether) {
    constexpr int kRequests = 32;
    // Held back until all 32 are waiting, so that they are sent together whatever the scheduling.
    TransferPump* self = nullptr;
    std::atomic<int> asked{0};
    TransferPump pump(kRequests, [&](const std::string& key) -> long {
        EXPECT_EQ(key, "a");
        asked++;
        return self->waiting() < kRequests && self->in_flight() == 0 ? 5 : 0;
    });
    self = &pump;
    JobThreads threads(kRequests);
    Outcomes out;
    post_from_threads(pump, threads, kRequests, out, url());
    pump_until(pump, [&] { return out.finished == kRequests; });
    pump.stop();
    ASSERT_EQ(out.errors.size(), 0u) << out.errors.front();
    ASSERT_EQ(out.answers.size(), static_cast<size_t>(kRequests));
    for (const auto& a : out.answers) {
        EXPECT_EQ(a.status, 200);
        EXPECT_EQ(nlohmann::json::parse(a.body).value("code", ""), "480001");
    }
    EXPECT_EQ(pump.peak_in_flight(), static_cast<size_t>(kRequests));
    EXPECT_GE(asked.load(), kRequests);
}

TEST_F(TransferPumpTest, NeverMoreInFlightThanTheMaximum) {
    TransferPump pump(4);
    JobThreads threads(10);
    Outcomes out;
    post_from_threads(pump, threads, 10, out, url());
    pump_until(pump, [&] { return out.finished == 10; });
    pump.stop();
    EXPECT_EQ(out.answers.size(), 10u);
    EXPECT_EQ(pump.peak_in_flight(), 4u);
}

// The second round finds the first round's connections in the multi handle's cache.
TEST_F(TransferPumpTest, ConnectionsAreKeptAliveAndReused) {
    TransferPump pump(8);
    JobThreads threads(8);
    Outcomes first, second;
    post_from_threads(pump, threads, 8, first, url());
    pump_until(pump, [&] { return first.finished == 8; });
    post_from_threads(pump, threads, 8, second, url());
    pump_until(pump, [&] { return second.finished == 8; });
    pump.stop();
    ASSERT_EQ(second.answers.size(), 8u);
    long opened = 0;
    for (const auto& a : second.answers) opened += a.new_connections;
    long opened_first = 0;
    for (const auto& a : first.answers) opened_first += a.new_connections;
    EXPECT_GT(opened_first, 0);
    EXPECT_EQ(opened, 0);
}

// A refusal of the admission fails that request without sending it; another key goes on.
TEST_F(TransferPumpTest, AnAdmissionThatThrowsFailsOnlyThatRequestAndSendsNothing) {
    const long before = nlohmann::json::parse(sim_->admin_get("/__sim/requests")).at("requests").size();
    TransferPump pump(4, [](const std::string& key) -> long {
        if (key == "blocked") throw DinamizeError(ErrorCategory::RateLimit, "", "no slot", true, 7);
        return 0;
    });
    JobThreads threads(2);
    Outcomes refused, sent;
    post_from_threads(pump, threads, 1, refused, url(), "blocked");
    post_from_threads(pump, threads, 1, sent, url(), "open");
    pump_until(pump, [&] { return refused.finished == 1 && sent.finished == 1; });
    pump.stop();
    ASSERT_EQ(refused.errors.size(), 1u);
    EXPECT_EQ(refused.errors.front(), "no slot");
    EXPECT_EQ(sent.answers.size(), 1u);
    const long after = nlohmann::json::parse(sim_->admin_get("/__sim/requests")).at("requests").size();
    EXPECT_EQ(after - before, 1);
}

// Against a server that never answers, stop() ends every wait with Interrupted.
TEST_F(TransferPumpTest, StopInterruptsEveryRequestWaitingOrInFlight) {
    test::SilentServer silent;
    TransferPump pump(2);
    JobThreads threads(5);
    Outcomes out;
    post_from_threads(pump, threads, 5, out, silent.base_url() + "/auth");
    pump_until(pump, [&] { return pump.in_flight() == 2 && pump.waiting() == 3; });
    EXPECT_EQ(pump.in_flight(), 2u);
    pump.stop();
    pump_until(pump, [&] { return out.finished == 5; });
    EXPECT_EQ(out.answers.size(), 0u);
    ASSERT_EQ(out.errors.size(), 5u);
    for (const auto& e : out.errors) EXPECT_EQ(e, Interrupted().what());
    EXPECT_THROW(pump.on_owner([] {}), Interrupted);
}

TEST_F(TransferPumpTest, OwnerTasksRunOnTheOwnerThreadAndTheirErrorsComeBack) {
    TransferPump pump(1);
    JobThreads threads(1);
    const std::thread::id owner = std::this_thread::get_id();
    std::atomic<bool> ran_on_owner{false}, error_seen{false}, finished{false};
    threads.post([&] {
        pump.on_owner([&] { ran_on_owner = std::this_thread::get_id() == owner; });
        try {
            pump.on_owner([] { throw std::runtime_error("from the owner"); });
        } catch (const std::runtime_error& e) {
            error_seen = std::string(e.what()) == "from the owner";
        }
        finished = true;
        pump.wake();
    });
    pump_until(pump, [&] { return finished.load(); });
    pump.stop();
    EXPECT_TRUE(ran_on_owner);
    EXPECT_TRUE(error_seen);
}

// Eight jobs of one account in flight, none with a token: one login, on the owner thread through
// the account's own client, and every job's client takes its token.
TEST_F(TransferPumpTest, JobsInFlightShareOneLoginThroughTheAccountsClient) {
    auto auths = [] {
        const nlohmann::json log = nlohmann::json::parse(sim_->admin_get("/__sim/requests"));
        long n = 0;
        for (const auto& r : log.at("requests"))
            if (r.at("path") == "/auth") n++;
        return n;
    };
    const long before = auths();
    const Account account(sim_->base_url(), "pump", "secret", "910001");
    HttpTransport owner_http(HttpOptions{});
    DinamizeClient account_client(account, owner_http);
    TransferPump pump(8);
    SharedLogin logins(pump, account_client);
    JobThreads threads(8);
    std::atomic<int> finished{0}, succeeded{0};
    for (int i = 0; i < 8; i++)
        threads.post([&] {
            PumpedTransport transport(pump, HttpOptions{}, "910001");
            DinamizeClient job_client(account, transport);
            job_client.set_login_coordinator(&logins);
            try {
                job_client.call("/emkt/contact-list/search", {{"page_number", "1"}, {"page_size", "1"}});
                if (job_client.token() == account_client.token()) succeeded++;
            } catch (...) {
            }
            finished++;
            pump.wake();
        });
    pump_until(pump, [&] { return finished == 8; });
    pump.stop();
    EXPECT_EQ(succeeded.load(), 8);
    const long after = auths();
    EXPECT_EQ(after - before, 1);
    EXPECT_EQ(account_client.token_generation(), 1u);
}

}  // namespace
}  // namespace dwu
