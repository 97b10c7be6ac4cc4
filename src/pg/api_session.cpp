#include <algorithm>
#include <map>
#include <memory>
#include <string>

#include "core/account_fields.h"
#include "core/secret_box.h"
#include "pg/api_session.h"
#include "pg/cpp_boundary.h"
#include "pg/key_ring.h"
#include "pg/request_limits.h"
#include "pg/settings.h"

namespace {

// The account row, copied out of SPI memory (plain C: safe under pg_guarded).
struct AccountRow {
    bool found;
    int64 id;
    bool enabled;
    int32 config_version;
    char *name, *base_url, *user, *client_code;
    bytea* password;
    int64 token_id;  // 0: no usable stored token
    bytea* token;
    int64 issued_ms, last_used_ms;
};

// The named account, or the default one ($1 NULL); removed accounts do not exist.
const char* const kLoadAccount = R"SQL(
SELECT a.dwu_id, a.dwu_enabled, a.dwu_config_version, a.dwu_name, a.dwu_base_url, a.dwu_user, a.dwu_client_code,
       a.dwu_password, t.dwu_id, t.dwu_token,
       (extract(epoch FROM t.dwu_issued_at) * 1000)::bigint, (extract(epoch FROM t.dwu_last_used_at) * 1000)::bigint
  FROM dwu_crm.crm_dinamize_accounts a
  LEFT JOIN LATERAL (SELECT * FROM dwu_crm.crm_auth_tokens t
                      WHERE t.dwu_account_id = a.dwu_id AND t.dwu_active AND length(t.dwu_token) > 0
                        AND t.dwu_config_version = a.dwu_config_version AND t.dwu_expires_at > now()
                      ORDER BY t.dwu_id DESC LIMIT 1) t ON true
 WHERE a.dwu_removed_at IS NULL
   AND CASE WHEN $1 IS NULL THEN a.dwu_is_default ELSE a.dwu_name = $1 END
)SQL";

char* copy_text(HeapTuple t, TupleDesc d, int col) {
    char* v = SPI_getvalue(t, d, col);
    if (!v) return nullptr;
    char* out = static_cast<char*>(SPI_palloc(strlen(v) + 1));
    strcpy(out, v);
    return out;
}

bytea* copy_bytea(HeapTuple t, TupleDesc d, int col) {
    bool isnull = false;
    Datum v = SPI_getbinval(t, d, col, &isnull);
    if (isnull) return nullptr;
    bytea* b = DatumGetByteaPP(v);
    bytea* out = static_cast<bytea*>(SPI_palloc(VARSIZE_ANY(b)));
    memcpy(out, b, VARSIZE_ANY(b));
    return out;
}

int64 int_value(HeapTuple t, TupleDesc d, int col) {
    bool isnull = false;
    Datum v = SPI_getbinval(t, d, col, &isnull);
    if (isnull) return 0;
    switch (SPI_gettypeid(d, col)) {
        case INT8OID:
            return DatumGetInt64(v);
        case BOOLOID:
            return DatumGetBool(v);
        default:
            return DatumGetInt32(v);
    }
}

// Plain C under pg_guarded: reads the account into *row.
void load_account(const char* name, AccountRow* row) {
    memset(row, 0, sizeof *row);
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
    Oid types[1] = {TEXTOID};
    Datum values[1] = {name ? CStringGetTextDatum(name) : (Datum)0};
    const char nulls[2] = {name ? ' ' : 'n', '\0'};
    if (SPI_execute_with_args(kLoadAccount, 1, types, values, nulls, true, 1) != SPI_OK_SELECT)
        elog(ERROR, "dwu_crm: reading the Dinamize account failed");
    if (SPI_processed == 1) {
        HeapTuple t = SPI_tuptable->vals[0];
        TupleDesc d = SPI_tuptable->tupdesc;
        row->found = true;
        row->id = int_value(t, d, 1);
        row->enabled = int_value(t, d, 2) != 0;
        row->config_version = static_cast<int32>(int_value(t, d, 3));
        row->name = copy_text(t, d, 4);
        row->base_url = copy_text(t, d, 5);
        row->user = copy_text(t, d, 6);
        row->client_code = copy_text(t, d, 7);
        row->password = copy_bytea(t, d, 8);
        row->token_id = int_value(t, d, 9);
        row->token = copy_bytea(t, d, 10);
        row->issued_ms = int_value(t, d, 11);
        row->last_used_ms = int_value(t, d, 12);
    }
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
