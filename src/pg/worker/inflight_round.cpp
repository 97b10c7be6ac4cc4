// The job round with many requests in flight (dwu_crm.requests_in_flight > 1). The batch's jobs
// run on job threads, each with a client of its own whose requests go through the worker's one
// TransferPump; this thread drives the pump, waiting on its descriptors and the latch together,
// admits each request through the rate gate when it is sent, renews the leases and, on SIGTERM,
// stops the pump: every job still running goes back to the queue unattempted. The claim gives at
// most one job per lead, so a lead never has two requests in flight. Nothing here touches
// PostgreSQL from a job thread.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/inflight/shared_login.h"
#include "core/inflight/transfer_pump.h"
#include "core/sync/sync_job.h"
#include "pg/worker/worker_rounds.h"
#include "pg/pg_headers.h"  // after the headers that include core ones
// clang-format off
#include "pg/cpp_boundary.h"
// clang-format on
#include "pg/settings.h"

namespace dwu_worker {
namespace {

// One job of the batch while it runs on a job thread. The thread writes outcome, interrupted and
// deferred_ms, then sets finished (release): this thread reads them after seeing it (acquire).
struct InFlightJob {
    const dwu::SyncJob* job = nullptr;
    Session* session = nullptr;
    dwu::SyncOutcome outcome;
    dwu::DinamizeClient::Learnt learnt;  // the job client's, for the account client
    bool interrupted = false;
    long deferred_ms = 0;
    bool handled = false;  // by this thread, once finished
    std::atomic<bool> finished{false};
};

// The worker's pump and job threads, (re)made for the current setting.
void ensure_pump(WorkerState& w) {
    const auto size = static_cast<size_t>(dwu_requests_in_flight);
    if (w.pump && !w.pump->stopped() && w.job_threads && w.job_threads->size() == size) return;
    w.job_threads.reset();
    w.pump.reset();
    dwu_accounts::Sessions* sessions = &w.sessions;
    // On this thread, when a request is about to be sent: a short wait holds it in the pump (the
    // others go on); a longer one sends its job back to the queue unattempted for that long.
    w.pump = std::make_unique<dwu::TransferPump>(size, [sessions](const std::string& key) -> long {
        dwu::RateGate* gate = sessions->gate();
        if (!gate) return 0;
        const long wait = gate->try_admit(key);
        if (wait > 500) throw dwu::AdmissionDeferred(wait);
        return wait;
    });
    w.job_threads = std::make_unique<dwu::JobThreads>(size);
}

// Waits on the latch and the pump's descriptors together (no longer than timeout_ms); returns
// what fired. A postmaster death reads as a stop request.
struct Wakeup {
    std::vector<dwu::TransferPump::WaitFd> ready;
    bool postmaster_died = false;
};
Wakeup wait_for_pump(dwu::TransferPump& pump, long timeout_ms) {
    const std::vector<dwu::TransferPump::WaitFd> fds = pump.wait_fds();
    std::vector<WaitEvent> events(fds.size() + 2);
    int fired = 0;
    pg_guarded([&] {
        WaitEventSet* set = CreateWaitEventSet(CurrentMemoryContext, static_cast<int>(fds.size()) + 2);
        AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, nullptr);
        AddWaitEventToSet(set, WL_POSTMASTER_DEATH, PGINVALID_SOCKET, nullptr, nullptr);
        for (const auto& f : fds) {
            const uint32 what = (f.read ? WL_SOCKET_READABLE : 0) | (f.write ? WL_SOCKET_WRITEABLE : 0);
            if (what) AddWaitEventToSet(set, what, f.fd, nullptr, nullptr);
        }
        fired = WaitEventSetWait(set, timeout_ms, events.data(), static_cast<int>(events.size()), PG_WAIT_EXTENSION);
        FreeWaitEventSet(set);
    });
    Wakeup w;
    for (int i = 0; i < fired; i++) {
        const WaitEvent& e = events[i];
        if (e.events & WL_LATCH_SET) ResetLatch(MyLatch);
        if (e.events & WL_POSTMASTER_DEATH) w.postmaster_died = true;
        if (e.events & (WL_SOCKET_READABLE | WL_SOCKET_WRITEABLE))
            w.ready.push_back({e.fd, (e.events & WL_SOCKET_READABLE) != 0, (e.events & WL_SOCKET_WRITEABLE) != 0});
    }
    return w;
}

// Runs on a job thread: the job through a client of its own on the pump.
void run_on_thread(InFlightJob& slot, dwu::TransferPump& pump, const dwu::HttpOptions& http, dwu::SharedLogin& logins,
                   const dwu::FieldMap& field_map, const dwu::DinamizeClient& account_client,
                   std::shared_ptr<const dwu::ResponseCodes> codes, std::string token, dwu::Clock::time_point issued,
                   dwu::Clock::time_point used, const dwu::DinamizeClient::Learnt& learnt) {
    try {
        dwu::PumpedTransport transport(pump, http, slot.session->limiter_key);
        dwu::DinamizeClient client(account_client.account(), transport);
        client.set_codes(codes);
        client.set_login_interval(account_client.login_interval());
        if (!token.empty()) client.adopt_token(std::move(token), issued, used);
        client.learn(learnt);
        client.set_login_coordinator(&logins);
        slot.outcome = dwu::run_job(client, *slot.job, field_map);
        slot.learnt = client.learnt();
    } catch (const dwu::AdmissionDeferred& d) {
        slot.deferred_ms = d.wait_ms;
    } catch (...) {  // Interrupted (a stop), or nothing we could record: the job goes back
        slot.interrupted = true;
    }
    slot.finished.store(true, std::memory_order_release);
    pump.wake();
}

}  // namespace

long run_round_in_flight(WorkerState& w, std::mt19937_64& rng) {
    RoundBatch b;
    long sleep_ms = 0;
    if (!claim_batch(b, sleep_ms)) return sleep_ms;
    ensure_pump(w);
    dwu::TransferPump& pump = *w.pump;
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    for (auto& [id, s] : w.sessions.all()) s.used = false;

    std::vector<std::unique_ptr<InFlightJob>> slots;
    std::map<long long, std::unique_ptr<dwu::SharedLogin>> logins;  // by account
    size_t posted = 0;
    // Whatever way this round ends, no job thread may still use its slots or logins.
    struct WaitForThreads {
        dwu::TransferPump& pump;
        std::vector<std::unique_ptr<InFlightJob>>& slots;
        ~WaitForThreads() {
            auto running = [&] {
                return std::any_of(slots.begin(), slots.end(), [](const auto& s) {
                    return s->session && !s->finished.load(std::memory_order_acquire);
                });
            };
            if (!running()) return;
            try {
                pump.stop();
                while (running()) pump.wait_and_pump(10);
            } catch (...) {  // poll() failed: the threads still end, interrupted by the stop
                while (running()) pause_ms(10);
            }
        }
    } wait_for_threads{pump, slots};

    for (const dwu::SyncJob& job : b.jobs) {
        Session* s = nullptr;
        if (job_must_wait(w, b, job, s)) continue;
        w.sessions.adopt_shared_token(*s);
        auto& login = logins[job.account_id];
        if (!login) login = std::make_unique<dwu::SharedLogin>(pump, *s->client);
        slots.push_back(std::make_unique<InFlightJob>());
        InFlightJob& slot = *slots.back();
        slot.job = &job;
        slot.session = s;
        const dwu::DinamizeClient& account_client = *s->client;
        w.job_threads->post([&slot, &pump, &w, &login = *login, &account_client, codes = account_client.shared_codes(),
                             token = account_client.token(), issued = account_client.token_issued_at(),
                             used = account_client.token_last_used(), learnt = account_client.learnt()] {
            run_on_thread(slot, pump, w.sessions.http_options(), login, w.field_map, account_client, codes, token,
                          issued, used, learnt);
        });
        posted++;
    }

    char activity[96];
    snprintf(activity, sizeof activity, "dwu_crm: sending %zu jobs to Dinamize, up to %d in flight", posted,
             dwu_requests_in_flight);
    pgstat_report_activity(STATE_RUNNING, activity);
    bool stopping = false;
    size_t handled = 0;
    while (handled < posted) {
        if (!stopping && shutdown_requested()) {
            stopping = true;
            pump.stop();  // every job still running ends as interrupted: back to the queue
        }
        // The jobs in flight keep their leases until their outcomes are recorded.
        if (!stopping && leases_need_renewal(b)) renew_batch_leases(b);
        long timeout = pump.pump_due_ms();
        if (timeout < 0 || timeout > 1000) timeout = 1000;
        const Wakeup woke = wait_for_pump(pump, timeout);
        if (woke.postmaster_died && !stopping) {
            stopping = true;
            pump.stop();
        }
        pump.pump(woke.ready);
        for (auto& slot : slots) {
            if (slot->handled || !slot->finished.load(std::memory_order_acquire)) continue;
            slot->handled = true;
            handled++;
            const long long id = slot->job->id;
            if (slot->interrupted) {
                b.unattempted.push_back(id);
                continue;
            }
            if (slot->deferred_ms > 0) {
                b.deferred[slot->deferred_ms].push_back(id);
                continue;
            }
            slot->session->client->learn(slot->learnt);
            if (lost_to_another_worker(b, id)) continue;
            // Dinamize's own 240024: the account pauses everywhere, its waiting requests too.
            if (slot->outcome.category == dwu::ErrorCategory::RateLimit)
                w.sessions.rate_limited(*slot->session, slot->outcome.retry_after_seconds);
            dwu::RetryDecision decision = dwu::decide(slot->outcome, w.policy, uniform(rng));
            b.done.push_back({std::move(slot->outcome), decision});
        }
    }
    pgstat_report_activity(STATE_IDLE, nullptr);
    return finish_round(w, b);
}

}  // namespace dwu_worker
