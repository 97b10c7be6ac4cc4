#include "pg/accounts/sql_session.h"

#include "pg/accounts/account_sessions.h"
#include "pg/accounts/account_store.h"
#include "pg/cpp_boundary.h"
#include "pg/pg_headers.h"
#include "pg/settings.h"

namespace {

// Polled by libcurl's loop every ~50 ms: only reads the flags the signal handlers set.
bool backend_interrupted() { return QueryCancelPending || ProcDiePending; }

// Allocated once, never destroyed: nothing runs at backend exit.
dwu_accounts::Sessions& backend_sessions() {
    static auto* sessions = new dwu_accounts::Sessions(backend_interrupted, LimiterUser::SqlFunctions);
    return *sessions;
}

// Reports the wait in pg_stat_activity while a request is in flight.
struct WaitReport {
    WaitReport() { pgstat_report_wait_start(PG_WAIT_EXTENSION); }
    ~WaitReport() { pgstat_report_wait_end(); }
    WaitReport(const WaitReport&) = delete;
    WaitReport& operator=(const WaitReport&) = delete;
};

dwu_accounts::Session& session_for(const std::optional<std::string>& account) {
    dwu_accounts::StoredAccount row;
    dwu_accounts::load_account(dwu_accounts::run_in_callers_transaction, 0, account, row);
    if (!row.found) {
        if (account)
            throw SqlStateError(ERRCODE_UNDEFINED_OBJECT,
                                "no Dinamize account named \"" + account->substr(0, 100) + "\"",
                                "SELECT dwu_name FROM dwu_crm.crm_dinamize_accounts lists them.");
        throw SqlStateError(ERRCODE_UNDEFINED_OBJECT, "no default Dinamize account",
                            "Pass account => '<name>', or make one the default with dwu_crm.dinamize_configure(..., "
                            "make_default => true).");
    }
    if (!row.enabled)
        throw SqlStateError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                            "Dinamize account \"" + row.name + "\" is disabled",
                            "dwu_crm.dinamize_set_account_enabled(name, true) resumes it.");
    dwu_accounts::Sessions& sessions = backend_sessions();
    sessions.refresh();  // dwu_crm.request_timeout_ms, verify_tls, the rate limit may have changed
    // What this transaction sees of crm_response_codes: a change just made here counts at once.
    sessions.refresh_codes(dwu_accounts::run_in_callers_transaction, std::chrono::milliseconds(0));
    if (dwu_accounts::Session* s = sessions.find(row.id, row.config_version)) return *s;
    try {
        dwu_accounts::Session& s = sessions.open(row);
        sessions.attach_codes(dwu_accounts::run_in_callers_transaction, s);
        return s;
    } catch (const dwu_accounts::RefusedHost& e) {
        throw SqlStateError(ERRCODE_INSUFFICIENT_PRIVILEGE, e.what(),
                            "A superuser decides which hosts may be called: dwu_crm.allowed_hosts.");
    }
}

}  // namespace

void with_account_client(const std::optional<std::string>& account,
                         const std::function<void(dwu::DinamizeClient&)>& call) {
    dwu_accounts::Session& session = session_for(account);
    dwu_accounts::Sessions& sessions = backend_sessions();
    if (dwu::RateGate* gate = sessions.gate()) gate->set_max_wait_ms(dwu_rate_limit_max_wait_ms);
    sessions.adopt_shared_token(session);  // no usable token yet: the one the others share
    WaitReport waiting;
    try {
        call(*session.client);
    } catch (const dwu::DinamizeError& e) {
        if (e.category() == dwu::ErrorCategory::RateLimit) sessions.rate_limited(session, e.retry_after_seconds());
        sessions.log_limiter_changes(LOG, "dwu_crm");
        throw;
    }
    sessions.log_limiter_changes(LOG, "dwu_crm");
}

void forget_shared_token(const std::string& client_code, const std::string& base_url, const std::string& user) {
    dwu_accounts::Sessions& sessions = backend_sessions();
    sessions.refresh();
    std::string why;
    const std::string key = dwu::LoginLock::account_key(client_code, client_code + "\n" + base_url + "\n" + user);
    if (sessions.forget_shared_token(key, why)) return;
    pg_guarded([&why] {
        ereport(WARNING, (errmsg("dwu_crm: the shared Dinamize token could not be removed from Redis: %s", why.c_str()),
                          errhint("It expires by itself; tokens are bound to the base URL and user they were "
                                  "issued for.")));
    });
}

dwu::ReadCaps sql_read_caps() {
    dwu::ReadCaps caps;
    caps.max_items = dwu_api_max_rows;
    caps.max_bytes = dwu_api_max_bytes;
    return caps;
}
