#include "pg/worker/worker_state.h"

#include "pg/accounts/account_store.h"
#include "pg/pg_headers.h"
#include "pg/settings.h"
#include "pg/worker/transaction.h"

namespace dwu_worker {

bool shutdown_requested() { return ProcDiePending; }

void wait_ms(long ms) {
    (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, Max(ms, 1L), PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
}

void pause_ms(long ms) { (void)WaitLatch(MyLatch, WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, Max(ms, 1L), PG_WAIT_EXTENSION); }

void log_once(std::string& last, const std::string& message) {
    if (message == last) return;
    last = message;
    ereport(WARNING, (errmsg("%s", message.c_str())));
}

void apply_settings(WorkerState& w) {
    w.field_map = dwu::parse_field_map(dwu_field_map ? dwu_field_map : "");  // validated by its check hook
    w.policy.max_attempts = dwu_max_attempts;
    w.policy.base_delay_seconds = dwu_retry_base_seconds;
    w.policy.max_delay_seconds = dwu_retry_max_seconds;
    w.sessions.refresh(true);  // a new key file, timeouts or limits: sessions start afresh
    const std::string& line = w.sessions.limits().description;
    if (line != w.limits_line) {
        w.limits_line = line;
        ereport(LOG, (errmsg("dwu_crm worker rate limit: %s", w.limits_line.c_str())));
    }
}

Session& session_for(WorkerState& w, long long account_id, int config_version) {
    // An admin's dinamize_set_code() or a probe's findings reach the worker within a second.
    w.sessions.refresh_codes(dwu_run_in_transaction, std::chrono::seconds(1));
    if (Session* s = w.sessions.find(account_id, config_version)) return *s;
    const std::string account = std::to_string(account_id);
    std::string why;
    if (!w.sessions.has_keys(why))
        return w.sessions.unusable(account_id, "dwu_crm worker cannot decrypt account credentials: " + why);
    dwu_accounts::StoredAccount stored;
    if (!dwu_accounts::load_account(dwu_run_in_transaction, account_id, std::nullopt, stored))
        return w.sessions.unusable(account_id, "dwu_crm worker could not read Dinamize account " + account);
    if (!stored.found || !stored.enabled)  // the worker leaves a paused account's jobs queued
        return w.sessions.unusable(account_id, "Dinamize account " + account + " is disabled or removed");
    try {
        Session& s = w.sessions.open(stored, dwu_run_in_transaction);
        w.sessions.attach_codes(dwu_run_in_transaction, s);
        return s;
    } catch (const dwu_accounts::RefusedHost& e) {  // its jobs wait until the setting allows it
        return w.sessions.unusable(account_id, e.what());
    } catch (const dwu::CryptoError& e) {
        return w.sessions.unusable(account_id, "stored password of Dinamize account " + account +
                                                   " cannot be decrypted (data corrupted or unknown key): " + e.what());
    }
}

dwu::DinamizeClient* account_client(WorkerState& w, long long account_id, int config_version, std::string& why) {
    Session& s = session_for(w, account_id, config_version);
    why = s.unusable;
    if (!s.unusable.empty()) return nullptr;
    w.sessions.adopt_shared_token(s);
    return s.client.get();
}

void keep_tokens(WorkerState& w, Session& s) {
    w.sessions.persist_token(dwu_run_in_transaction, s);
    w.sessions.share_token(s);
}

dwu::SyncOutcome send_job(WorkerState& w, Session& s, const dwu::SyncJob& job) {
    dwu::SyncOutcome outcome = dwu::run_job(*s.client, job, w.field_map);
    if (dwu::RateGate* gate = w.sessions.gate()) {
        gate->end_job();
        if (outcome.category == dwu::ErrorCategory::RateLimit) w.sessions.rate_limited(s, outcome.retry_after_seconds);
    }
    return outcome;
}

}  // namespace dwu_worker
