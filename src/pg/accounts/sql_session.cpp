#include <algorithm>
#include <map>
#include <memory>
#include <string>

#include "core/dinamize/account_fields.h"
#include "core/crypto/secret_box.h"
#include "pg/accounts/api_session.h"
#include "pg/cpp_boundary.h"
#include "pg/accounts/key_ring.h"
#include "pg/accounts/request_limits.h"
#include "pg/settings.h"
#include "pg/accounts/account_row.h"  // PostgreSQL headers last

namespace {

// Plain C under pg_guarded: reads the named (NULL: the default) account into *row, copied into
// the caller's memory context.
void load_account(const char* name, AccountRow* row) {
    MemoryContext caller = CurrentMemoryContext;
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
    dwu_read_account_row(0, name, row, caller);
    SPI_finish();
}

std::string bytes_of(const bytea* b) { return b ? std::string(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b)) : std::string(); }

dwu::Clock::time_point from_ms(long long ms) { return dwu::Clock::time_point(std::chrono::milliseconds(ms)); }

// Polled by libcurl's loop every ~50 ms: only reads the flags the signal handlers set.
bool backend_interrupted() { return QueryCancelPending || ProcDiePending; }

struct Session {
    int config_version = 0;
    std::string limiter_key;  // the Dinamize account (client code), as the rate limiter knows it
    std::unique_ptr<dwu::DinamizeClient> client;
};

struct BackendClients {
    dwu::HttpOptions options;
    std::unique_ptr<dwu::HttpTransport> http;
    std::map<long long, Session> sessions;  // by account id; clients refer to `http`
};

// Allocated once, never destroyed: nothing runs at backend exit.
BackendClients& backend_clients() {
    static BackendClients* clients = new BackendClients();
    return *clients;
}

dwu::HttpTransport& transport() {
    BackendClients& b = backend_clients();
    dwu::HttpOptions now;
    now.timeout_ms = dwu_request_timeout_ms;
    now.connect_timeout_ms = dwu_connect_timeout_ms;
    now.verify_tls = dwu_verify_tls;
    if (!b.http || now.timeout_ms != b.options.timeout_ms || now.connect_timeout_ms != b.options.connect_timeout_ms ||
        now.verify_tls != b.options.verify_tls) {
        b.sessions.clear();  // they hold a reference to the old transport
        b.http = std::make_unique<dwu::HttpTransport>(now, backend_interrupted);
        b.options = now;
    }
    return *b.http;
}

// The rate gate's sleep in a backend: on the latch, ended by a cancel, a timeout or termination.
bool sleep_for_rate_limit(long ms) {
    if (backend_interrupted()) return false;
    pg_guarded([ms] {
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, Max(ms, 1L), PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
    });
    return !backend_interrupted();
}

// This backend's rate limiter, rebuilt when its settings change; null when rate limiting is off.
dwu::RateGate* backend_gate() {
    static RequestLimits* limits = nullptr;  // never destroyed: nothing runs at backend exit
    static std::string fingerprint;
    const std::string now = dwu_request_limits_fingerprint();
    if (!limits || now != fingerprint) {
        delete limits;
        limits = new RequestLimits(dwu_build_request_limits(sleep_for_rate_limit));
        fingerprint = now;
        if (!limits->problem.empty()) {
            const char* problem = limits->problem.c_str();
            pg_guarded([problem] { ereport(WARNING, (errmsg("%s", problem))); });
        }
    }
    return limits->gate.get();
}

// Redis lost or back, as seen by this backend: one line each.
void log_limiter_changes(dwu::RateGate& gate) {
    for (const dwu::ModeChange& change : gate.take_changes()) {
        const char* reason = change.reason.c_str();
        if (change.to == dwu::LimiterMode::Local)
            pg_guarded([reason] {
                ereport(LOG, (errmsg("dwu_crm cannot use Redis for the shared rate limit: %s", reason)));
            });
        else
            pg_guarded([reason] { ereport(LOG, (errmsg("dwu_crm is back on the shared rate limit: %s", reason))); });
    }
}

// Reports the wait in pg_stat_activity while a request is in flight.
struct WaitReport {
    WaitReport() { pgstat_report_wait_start(PG_WAIT_EXTENSION); }
    ~WaitReport() { pgstat_report_wait_end(); }
    WaitReport(const WaitReport&) = delete;
    WaitReport& operator=(const WaitReport&) = delete;
};

Session& session_for(const std::optional<std::string>& account) {
    AccountRow row;
    const char* name = account ? account->c_str() : nullptr;
    pg_guarded([&] { load_account(name, &row); });
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
                            std::string("Dinamize account \"") + row.name + "\" is disabled",
                            "dwu_crm.dinamize_set_account_enabled(name, true) resumes it.");

    dwu::HttpTransport& http = transport();
    BackendClients& b = backend_clients();
    auto it = b.sessions.find(row.id);
    if (it != b.sessions.end() && it->second.config_version == row.config_version) return it->second;

    b.sessions.erase(row.id);
    const dwu::KeyRing ring = dwu_load_key_ring();
    std::string password = dwu::open(ring, bytes_of(row.password), dwu::account_password_aad(row.id));
    Session s;
    s.config_version = row.config_version;
    s.limiter_key = row.client_code ? row.client_code : "";
    s.client =
        std::make_unique<dwu::DinamizeClient>(dwu::Account(row.base_url ? row.base_url : "", row.user ? row.user : "",
                                                           password, row.client_code ? row.client_code : ""),
                                              http);
    dwu::wipe(password);
    if (row.token_id != 0 && row.token) {
        try {
            std::string token = dwu::open(ring, bytes_of(row.token), dwu::auth_token_aad(row.token_id, row.id));
            s.client->adopt_token(std::move(token), from_ms(row.issued_ms), from_ms(row.last_used_ms));
        } catch (const dwu::CryptoError&) {
            // An unreadable stored token is not reused: the client authenticates anew.
        }
    }
    return b.sessions.emplace(row.id, std::move(s)).first->second;
}

}  // namespace

void with_account_client(const std::optional<std::string>& account,
                         const std::function<void(dwu::DinamizeClient&)>& call) {
    Session& session = session_for(account);
    dwu::DinamizeClient& client = *session.client;
    dwu::RateGate* gate = backend_gate();
    if (gate) {
        gate->set_max_wait_ms(dwu_rate_limit_max_wait_ms);
        client.set_before_request([gate, key = session.limiter_key] { gate->before_request(key); });
    } else
        client.set_before_request(nullptr);
    WaitReport waiting;
    try {
        call(client);
    } catch (const dwu::DinamizeError& e) {
        // Dinamize's own 240024: the worker and every other process pause this account too.
        if (gate && e.category() == dwu::ErrorCategory::RateLimit)
            gate->block(session.limiter_key, std::max(1, e.retry_after_seconds()));
        if (gate) log_limiter_changes(*gate);
        throw;
    }
    if (gate) log_limiter_changes(*gate);
}
