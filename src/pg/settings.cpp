#include <stdexcept>
#include <string>

#include "core/dinamize/host_policy.h"
#include "core/sync/contact_mapping.h"
#include "pg/cpp_boundary.h"
#include "pg/pg_headers.h"
#include "pg/settings.h"
#include "pg/shared_state.h"
#include "pg/pull_settings.h"

char* dwu_database = nullptr;
char* dwu_encryption_key_file = nullptr;
char* dwu_field_map = nullptr;
bool dwu_verify_tls = true;
int dwu_finished_jobs_ttl_seconds = 7 * 86400;
int dwu_sync_logs_ttl_seconds = 30 * 86400;
int dwu_audit_log_ttl_seconds = 0;
char* dwu_allowed_hosts = nullptr;
char* dwu_ca_file = nullptr;
char* dwu_https_proxy = nullptr;
int dwu_batch_size = 20;
int dwu_workers = 1;
int dwu_request_timeout_ms = 20000;
int dwu_login_min_interval_ms = 1000;
int dwu_connect_timeout_ms = 5000;
int dwu_lease_seconds = 300;
int dwu_requests_in_flight = 32;
int dwu_max_attempts = 3;
int dwu_retry_base_seconds = 5;
int dwu_idle_check_seconds = 60;
int dwu_retry_max_seconds = 3600;
bool dwu_capture_changes = true;
int dwu_update_delay_ms = 1000;
int dwu_import_threshold = 1000;
int dwu_import_batch = 10000;
char* dwu_redis_host = nullptr;
char* dwu_redis_sentinels = nullptr;
char* dwu_redis_sentinel_master = nullptr;
int dwu_redis_port = 6379;
char* dwu_redis_password_file = nullptr;
int dwu_redis_database = 0;
char* dwu_redis_key_prefix = nullptr;
int dwu_redis_timeout_ms = 1000;
int dwu_rate_limit = 60;
int dwu_rate_limit_window_seconds = 60;
int dwu_rate_limit_per_hour = 0;
int dwu_rate_limit_margin_ms = 250;
int dwu_rate_limit_resync_pause_ms = 4000;
double dwu_rate_limit_local_share = 0.5;
int dwu_rate_limit_max_wait_ms = 10000;
int dwu_api_max_rows = 100000;
int dwu_api_max_bytes = 64 * 1024 * 1024;
double dwu_api_rate_share = 0.5;

namespace {

// Runs the core's parser; its exception never leaves this function.
bool check_field_map(char** newval, void**, GucSource) {
    char message[256] = "";
    try {
        dwu::parse_field_map(*newval ? *newval : "");
    } catch (const std::exception& e) {
        snprintf(message, sizeof message, "%s", e.what());
    }
    if (message[0] == '\0') return true;
    GUC_check_errdetail("%s", message);
    GUC_check_errhint("Use a comma-separated list of crm_leads_column:cmpN, e.g. 'dwu_phone:cmp4,dwu_city:cmp5'.");
    return false;
}

bool check_allowed_hosts(char** newval, void**, GucSource) {
    char message[256] = "";
    try {
        dwu::HostPolicy::parse(*newval ? *newval : "");
    } catch (const std::exception& e) {
        snprintf(message, sizeof message, "%s", e.what());
    }
    if (message[0] == '\0') return true;
    GUC_check_errdetail("%s", message);
    GUC_check_errhint(
        "Use a comma-separated list of host names, *.domain, IPv4 addresses or networks, each "
        "optionally prefixed with http:// to allow plain http, e.g. 'api.dinamize.com'.");
    return false;
}

// Where the extension may connect, and how: superuser-only, since each is a way past the network's
// own protections (or a way to see the traffic).
void define_network_settings() {
    DefineCustomStringVariable("dwu_crm.allowed_hosts", "Hosts and addresses Dinamize base URLs may name.",
                               "Comma-separated host names, *.domain, IPv4 addresses or networks; http:// before "
                               "an entry also allows plain http. A name that resolves to a loopback or private "
                               "address is refused unless an address entry covers it.",
                               &dwu_allowed_hosts, "api.dinamize.com", PGC_SUSET, 0,
                               dwu_c_callback<check_allowed_hosts>, nullptr, nullptr);
    DefineCustomStringVariable("dwu_crm.ca_file", "CA certificates (PEM) trusted for Dinamize and the proxy.",
                               "Empty: the system's store. For a company proxy that re-signs TLS.", &dwu_ca_file, "",
                               PGC_SUSET, GUC_SUPERUSER_ONLY, nullptr, nullptr, nullptr);
    DefineCustomStringVariable("dwu_crm.https_proxy", "Proxy every Dinamize request tunnels through (CONNECT).",
                               "E.g. 'http://proxy.corp.example:3128'. Empty: none; the server's environment "
                               "(https_proxy) is ignored.",
                               &dwu_https_proxy, "", PGC_SUSET, GUC_SUPERUSER_ONLY, nullptr, nullptr, nullptr);
}

// How long the worker keeps history (pg_net's ttl, per table).
void define_retention_settings() {
    constexpr int kTenYears = 10 * 366 * 86400;
    DefineCustomIntVariable("dwu_crm.finished_jobs_ttl", "How long completed jobs stay in crm_sync_queue.",
                            "The worker deletes older ones in small batches; failed jobs stay. 0 keeps them all.",
                            &dwu_finished_jobs_ttl_seconds, 7 * 86400, 0, kTenYears, PGC_SIGHUP, GUC_UNIT_S, nullptr,
                            nullptr, nullptr);
    DefineCustomIntVariable("dwu_crm.sync_logs_ttl", "How long rows stay in crm_sync_logs.",
                            "The worker deletes older ones in small batches. 0 keeps them all.",
                            &dwu_sync_logs_ttl_seconds, 30 * 86400, 0, kTenYears, PGC_SIGHUP, GUC_UNIT_S, nullptr,
                            nullptr, nullptr);
    DefineCustomIntVariable("dwu_crm.audit_log_ttl", "How long rows stay in crm_audit_log.",
                            "0 (the default) keeps them all: the audit log is the company's record.",
                            &dwu_audit_log_ttl_seconds, 0, 0, kTenYears, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr,
                            nullptr);
}

// Dinamize counts requests per account (reference §4); these settings are the same for every
// account. Redis is where the workers of every cluster share the count.
void define_rate_limit_settings() {
    DefineCustomStringVariable("dwu_crm.redis_host", "Redis server shared by every worker for the Dinamize rate limit.",
                               "Empty: no Redis; this server's worker alone uses the whole limit.", &dwu_redis_host,
                               "127.0.0.1", PGC_SIGHUP, GUC_SUPERUSER_ONLY, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("dwu_crm.redis_port", "Port of the Redis server.", nullptr, &dwu_redis_port, 6379, 1, 65535,
                            PGC_SIGHUP, GUC_SUPERUSER_ONLY, nullptr, nullptr, nullptr);
    DefineCustomStringVariable("dwu_crm.redis_sentinels", "Redis Sentinels to ask where the Redis master is.",
                               "host:port, comma-separated (port 26379 by default). Set: dwu_crm.redis_host and "
                               "redis_port are not used.",
                               &dwu_redis_sentinels, "", PGC_SIGHUP, GUC_SUPERUSER_ONLY, nullptr, nullptr, nullptr);
    DefineCustomStringVariable("dwu_crm.redis_sentinel_master", "Name of the master the Redis Sentinels monitor.",
                               nullptr, &dwu_redis_sentinel_master, "", PGC_SIGHUP, GUC_SUPERUSER_ONLY, nullptr,
                               nullptr, nullptr);
    // A file, not the password itself: a changed setting's value is written to the server log.
    DefineCustomStringVariable("dwu_crm.redis_password_file", "File holding the Redis password (first line).",
                               "Empty: no AUTH. Readable only by the server's user.", &dwu_redis_password_file, "",
                               PGC_SIGHUP, GUC_SUPERUSER_ONLY, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("dwu_crm.redis_database", "Redis database number.", nullptr, &dwu_redis_database, 0, 0,
                            1000, PGC_SIGHUP, GUC_SUPERUSER_ONLY, nullptr, nullptr, nullptr);
    DefineCustomStringVariable("dwu_crm.redis_key_prefix", "Prefix of every Redis key dwu_crm writes.", nullptr,
                               &dwu_redis_key_prefix, "dwu_crm:", PGC_SIGHUP, GUC_SUPERUSER_ONLY, nullptr, nullptr,
                               nullptr);
    DefineCustomIntVariable("dwu_crm.redis_timeout_ms", "Connect and command timeout for Redis.",
                            "When Redis does not answer in time the worker uses its local share of the limit.",
                            &dwu_redis_timeout_ms, 1000, 10, 60000, PGC_SIGHUP, GUC_UNIT_MS, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "dwu_crm.rate_limit", "Dinamize requests allowed per account per window, all servers together.",
        "0 turns this window off.", &dwu_rate_limit, 60, 0, 1000000, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("dwu_crm.rate_limit_window", "Length of the window of dwu_crm.rate_limit.", nullptr,
                            &dwu_rate_limit_window_seconds, 60, 1, 3600, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr,
                            nullptr);
    DefineCustomIntVariable("dwu_crm.rate_limit_per_hour", "Dinamize requests allowed per account per hour.",
                            "0: no hourly limit.", &dwu_rate_limit_per_hour, 0, 0, 100000000, PGC_SIGHUP, 0, nullptr,
                            nullptr, nullptr);
    DefineCustomIntVariable("dwu_crm.rate_limit_margin_ms", "Added to each rate limit window.",
                            "Covers the varying delay between admitting a request and its arrival at Dinamize.",
                            &dwu_rate_limit_margin_ms, 250, 0, 60000, PGC_SIGHUP, GUC_UNIT_MS, nullptr, nullptr,
                            nullptr);
    DefineCustomIntVariable("dwu_crm.rate_limit_resync_pause",
                            "Pause of every server's requests after Redis is found to have lost the rate limit.",
                            "A restart without persistence, FLUSHALL or a failover: meanwhile each process puts "
                            "its recent requests back into Redis. At most the rate limit window.",
                            &dwu_rate_limit_resync_pause_ms, 4000, 0, 60000, PGC_SIGHUP, GUC_UNIT_MS, nullptr, nullptr,
                            nullptr);
    DefineCustomRealVariable("dwu_crm.rate_limit_local_share",
                             "Share of the limits this server's worker uses while Redis is unreachable.",
                             "E.g. 0.5 with two servers: together they stay under the limit without Redis. Split "
                             "among the server's dwu_crm.workers.",
                             &dwu_rate_limit_local_share, 0.5, 0.01, 1.0, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    // Superuser-only: a session waiting an hour would hold a backend and its slots that long.
    DefineCustomIntVariable(
        "dwu_crm.rate_limit_max_wait", "Longest a dinamize_* SQL function waits for a free request slot.",
        "Beyond it the call fails at once with SQLSTATE 53400, sending nothing. The worker "
        "always waits.",
        &dwu_rate_limit_max_wait_ms, 10000, 0, 3600000, PGC_SUSET, GUC_UNIT_MS, nullptr, nullptr, nullptr);
}

// What one dinamize_* SQL function may take, superuser-only so the application role cannot raise
// it: the rows and bytes it reads over several pages (all_pages, history, opt-outs, the
// catalog), and the backends' share of each account's rate limit.
void define_api_settings() {
    DefineCustomIntVariable("dwu_crm.api_max_rows", "Most rows one dinamize_* SQL function reads over its pages.",
                            "Beyond it the call fails with SQLSTATE 54000 and asks for no more pages.",
                            &dwu_api_max_rows, 100000, 1, 100000000, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("dwu_crm.api_max_bytes",
                            "Most bytes of Dinamize answers (items as JSON text) one dinamize_* SQL function "
                            "reads over its pages.",
                            "Beyond it the call fails with SQLSTATE 54000 and asks for no more pages.",
                            &dwu_api_max_bytes, 64 * 1024 * 1024, 1, INT_MAX, PGC_SUSET, GUC_UNIT_BYTE, nullptr,
                            nullptr, nullptr);
    DefineCustomRealVariable("dwu_crm.api_rate_share",
                             "Share of each account's rate limit the dinamize_* SQL functions may use together.",
                             "Every request still counts against the account's limit; the sync workers always "
                             "have the rest. 1: no reserve for the workers.",
                             &dwu_api_rate_share, 0.5, 0.01, 1.0, PGC_SUSET, 0, nullptr, nullptr, nullptr);
}

}  // namespace

void dwu_define_settings(bool preloading) {
    if (preloading)
        DefineCustomStringVariable("dwu_crm.database", "Database whose crm_sync_queue the dwu_crm worker serves.",
                                   nullptr, &dwu_database, "postgres", PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);

    DefineCustomStringVariable("dwu_crm.encryption_key_file",
                               "File holding the keys that encrypt Dinamize passwords and tokens.",
                               "Lines VERSION:KEY (32-byte key, hex or base64); the highest version encrypts. "
                               "Readable only by the server's user.",
                               &dwu_encryption_key_file, "", PGC_SIGHUP, GUC_SUPERUSER_ONLY, nullptr, nullptr, nullptr);
    DefineCustomStringVariable("dwu_crm.field_map", "crm_leads columns sent as Dinamize custom fields.",
                               "Comma-separated column:cmpN pairs, e.g. 'dwu_phone:cmp4'.", &dwu_field_map, "",
                               PGC_SIGHUP, 0, dwu_c_callback<check_field_map>, nullptr, nullptr);
    define_network_settings();
    define_retention_settings();
    DefineCustomBoolVariable("dwu_crm.verify_tls", "Verify the Dinamize server's TLS certificate.", nullptr,
                             &dwu_verify_tls, true, PGC_SIGHUP, GUC_SUPERUSER_ONLY, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("dwu_crm.workers", "Sync workers sharing the queue.",
                            "Each keeps up to dwu_crm.requests_in_flight requests in flight; several share the "
                            "queue's claims and the CPU of recording. The launcher adds or stops workers on reload.",
                            &dwu_workers, 1, 1, kMaxSyncWorkers, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("dwu_crm.requests_in_flight", "Requests each sync worker keeps in flight at once.",
                            "1: one job after another. More: that many jobs of the batch are sent at once "
                            "through one libcurl multi handle, each request admitted by the rate limiter "
                            "when it is sent.",
                            &dwu_requests_in_flight, 32, 1, 256, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("dwu_crm.batch_size", "Jobs the worker claims per transaction.", nullptr, &dwu_batch_size,
                            20, 1, 1000, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("dwu_crm.request_timeout_ms", "Timeout of one Dinamize request.", nullptr,
                            &dwu_request_timeout_ms, 20000, 100, 600000, PGC_SIGHUP, GUC_UNIT_MS, nullptr, nullptr,
                            nullptr);
    // Each login of one account is at least this far from the previous one of this process: a
    // token refused younger than that gets no new login (the job retries later), and an answer
    // with a code we do not know is not taken for a token problem while the token is that young.
    DefineCustomIntVariable("dwu_crm.login_min_interval", "Shortest time between two logins of one Dinamize account.",
                            "A token refused sooner after its login is not replaced at once; the job retries later.",
                            &dwu_login_min_interval_ms, 1000, 0, 3600000, PGC_SIGHUP, GUC_UNIT_MS, nullptr, nullptr,
                            nullptr);
    DefineCustomIntVariable("dwu_crm.connect_timeout_ms", "Timeout to connect to Dinamize.", nullptr,
                            &dwu_connect_timeout_ms, 5000, 100, 60000, PGC_SIGHUP, GUC_UNIT_MS, nullptr, nullptr,
                            nullptr);
    DefineCustomIntVariable("dwu_crm.lease_seconds", "How long a claimed job stays reserved for its worker.",
                            "A job whose lease ran out (its worker died) is claimable again.", &dwu_lease_seconds, 300,
                            10, 86400, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("dwu_crm.max_attempts", "Attempts before a job is marked failed.", nullptr,
                            &dwu_max_attempts, 3, 1, 100, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("dwu_crm.retry_base_seconds", "First retry delay; doubles on each attempt.", nullptr,
                            &dwu_retry_base_seconds, 5, 1, 3600, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("dwu_crm.idle_check_seconds",
                            "Longest the idle worker sleeps without being woken by a commit.",
                            "Commits that enqueue wake the worker at once; this is only a safety net.",
                            &dwu_idle_check_seconds, 60, 1, 3600, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("dwu_crm.retry_max_seconds", "Longest delay between two attempts of a job.", nullptr,
                            &dwu_retry_max_seconds, 3600, 1, 86400, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable("dwu_crm.capture_changes", "Queue changes of crm_leads for Dinamize.",
                             "Turned off (SET LOCAL) where changes that came from Dinamize are applied.",
                             &dwu_capture_changes, true, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("dwu_crm.update_delay", "How long a captured update of a lead waits before it is sent.",
                            "Edits of the same lead less than this apart become one call with its latest state "
                            "(each new edit restarts the wait, up to 10 times this). "
                            "Creates and deletes are sent at once.",
                            &dwu_update_delay_ms, 1000, 0, 600000, PGC_USERSET, GUC_UNIT_MS, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("dwu_crm.import_threshold",
                            "Due creates of one account from which they go through Dinamize's bulk import.",
                            "One import request carries up to dwu_crm.import_batch new leads instead of one "
                            "request each. 0: never import.",
                            &dwu_import_threshold, 1000, 0, 10000000, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("dwu_crm.import_batch", "New leads per bulk import file.", nullptr, &dwu_import_batch,
                            10000, 10, 100000, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    define_rate_limit_settings();
    define_api_settings();
    dwu_define_pull_settings();
    MarkGUCPrefixReserved("dwu_crm");
}
