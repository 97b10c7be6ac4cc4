// See pull_runner.h. The transaction callbacks are C-style (no C++ object with
// a destructor in their frames); everything they return is copied into
// runner_cxt, reset at each call.
#include <chrono>
#include <string>

#include "core/dinamize/dinamize_api.h"
#include "core/dinamize/dinamize_errors.h"
#include "core/sync/pull_diff.h"
#include "pg/worker/pull_runner.h"
#include "pg/worker/worker_state.h"
#include "pg/pg_headers.h"
#include "pg/pull_settings.h"
#include "pg/settings.h"
#include "pg/spi_values.h"
#include "pg/worker/transaction.h"

namespace {

constexpr long kMaxSleepMs = 60000;          // these duties want a look at least this often
constexpr int kFailedStepRetrySeconds = 60;  // a step that failed is tried again after this long
constexpr long kOptoutPageSize = 10000;
constexpr long kHistoryPageSize = 500;  // the most contact/history returns (reference §5.6)

MemoryContext runner_cxt = nullptr;

struct WebhookArgs {
    int batch_size;
    int handled;
};

void process_webhooks_tx(void* arg) {
    auto* a = static_cast<WebhookArgs*>(arg);
    Oid types[1] = {INT4OID};
    Datum values[1] = {Int32GetDatum(a->batch_size)};
    if (SPI_execute_with_args("SELECT dwu_crm.process_webhook_events($1)", 1, types, values, nullptr, false, 0) !=
            SPI_OK_SELECT ||
        SPI_processed != 1)
        elog(ERROR, "dwu_crm: process_webhook_events returned no row");
    bool isnull = false;
    Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    a->handled = isnull ? 0 : DatumGetInt32(d);
}

struct ClaimArgs {
    int lease_seconds;
    bool claimed;
    int64 account_id;
    int32 config_version;
    int64 run_id;
    int32 page;
    char* list_code;
    char* phase;
    char* since;
    int64 next_due_ms;  // -1: none
};

void claim_tx(void* arg) {
    auto* a = static_cast<ClaimArgs*>(arg);
    Oid types[1] = {INT4OID};
    Datum values[1] = {Int32GetDatum(a->lease_seconds)};
    if (SPI_execute_with_args("SELECT account_id, list_code, config_version, "
                              "run_id, phase, page, since "
                              "FROM dwu_crm.pull_claim($1)",
                              1, types, values, nullptr, false, 0) != SPI_OK_SELECT)
        elog(ERROR, "dwu_crm: pull_claim failed");
    if (SPI_processed == 1) {
        bool isnull = false;
        HeapTuple row = SPI_tuptable->vals[0];
        TupleDesc desc = SPI_tuptable->tupdesc;
        a->claimed = true;
        a->account_id = DatumGetInt64(SPI_getbinval(row, desc, 1, &isnull));
        a->list_code = dwu_spi_text(row, desc, 2, runner_cxt);
        a->config_version = DatumGetInt32(SPI_getbinval(row, desc, 3, &isnull));
        a->run_id = DatumGetInt64(SPI_getbinval(row, desc, 4, &isnull));
        a->phase = dwu_spi_text(row, desc, 5, runner_cxt);
        a->page = DatumGetInt32(SPI_getbinval(row, desc, 6, &isnull));
        a->since = dwu_spi_text(row, desc, 7, runner_cxt);
        return;
    }
    if (SPI_execute("SELECT dwu_crm.pull_next_due_ms()", true, 1) != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "dwu_crm: pull_next_due_ms failed");
    bool isnull = false;
    Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    a->next_due_ms = isnull ? -1 : DatumGetInt64(d);
}

struct ApplyArgs {
    bool contacts;  // pull_apply_contacts, else pull_apply_activity
    int64 account_id;
    const char* list_code;
    int64 run_id;
    const char* rows_json;
    bool has_next;
    double observed_epoch;  // seconds
};

void apply_tx(void* arg) {
    auto* a = static_cast<ApplyArgs*>(arg);
    Oid types[6] = {INT8OID, TEXTOID, INT8OID, TEXTOID, BOOLOID, FLOAT8OID};
    Datum values[6] = {Int64GetDatum(a->account_id), CStringGetTextDatum(a->list_code),
                       Int64GetDatum(a->run_id),     CStringGetTextDatum(a->rows_json),
                       BoolGetDatum(a->has_next),    Float8GetDatum(a->observed_epoch)};
    const char* sql = a->contacts ? "SELECT dwu_crm.pull_apply_contacts($1, $2, $3, $4::jsonb, $5, "
                                    "to_timestamp($6))"
                                  : "SELECT dwu_crm.pull_apply_activity($1, $2, $3, $4::jsonb, $5)";
    if (SPI_execute_with_args(sql, a->contacts ? 6 : 5, types, values, nullptr, false, 0) != SPI_OK_SELECT)
        elog(ERROR, "dwu_crm: applying a pull step failed");
}

struct FailArgs {
    int64 account_id;
    const char* list_code;
    int64 run_id;
    const char* message;  // nullptr: no error to record (stopping)
    int retry_seconds;
};

void fail_tx(void* arg) {
    auto* a = static_cast<FailArgs*>(arg);
    Oid types[5] = {INT8OID, TEXTOID, INT8OID, TEXTOID, INT4OID};
    Datum values[5] = {Int64GetDatum(a->account_id), CStringGetTextDatum(a->list_code), Int64GetDatum(a->run_id),
                       a->message ? CStringGetTextDatum(a->message) : (Datum)0, Int32GetDatum(a->retry_seconds)};
    const char nulls[5] = {' ', ' ', ' ', a->message ? ' ' : 'n', ' '};
    if (SPI_execute_with_args("SELECT dwu_crm.pull_failed($1, $2, $3, $4, $5)", 5, types, values, nulls, false, 0) !=
        SPI_OK_SELECT)
        elog(ERROR, "dwu_crm: pull_failed failed");
}

struct StepResult {
    std::string rows;  // JSON array for the apply function
    bool has_next = false;
    bool interrupted = false;
    std::string error;  // never holds a secret (DinamizeError messages name no credential)
    int retry_seconds = kFailedStepRetrySeconds;
    long skipped = 0;  // items of the page that cannot be stored: left out, the page goes on
};

// The step's one Dinamize request. No transaction is open here.
StepResult fetch_step(dwu::DinamizeClient& client, const ClaimArgs& c, const dwu::FieldMap& field_map) {
    StepResult r;
    const std::string phase = c.phase ? c.phase : "";
    const std::string since = c.since ? c.since : "";
    try {
        if (phase == "contacts") {
            dwu::ContactQuery q;
            q.list_code = c.list_code;
            q.page = {c.page, dwu_pull_page_size};
            dwu::Page page = dwu::search_contacts(client, q);
            r.has_next = page.next;
            r.rows = dwu::pull_rows(page.items, field_map, &r.skipped).dump();
        } else if (phase == "optouts") {
            dwu::Query q;
            if (!since.empty()) q.search.push_back({"request_date", ">=", since});
            q.page = {c.page, kOptoutPageSize};
            dwu::Page page = dwu::search_optouts(client, c.list_code, q);
            r.has_next = page.next;
            r.rows = dwu::storable_items(page.items, &r.skipped).dump();
        } else {
            dwu::HistoryQuery q;
            q.list_code = c.list_code;
            q.date_start = since;
            q.kinds = {dwu::kHistoryBounce, dwu::kHistorySpam, dwu::kHistoryBounceOther};
            q.page = {c.page, kHistoryPageSize};
            dwu::HistoryPage page = dwu::contact_history(client, q);
            r.has_next = page.next;
            r.rows = dwu::storable_items(page.items, &r.skipped).dump();
        }
    } catch (const dwu::Interrupted&) {
        r.interrupted = true;
    } catch (const dwu::DinamizeError& e) {
        r.error = std::string("pull of list ") + c.list_code + " (" + phase + ", page " + std::to_string(c.page) +
                  "): " + e.what();
        if (e.category() == dwu::ErrorCategory::RateLimit && e.retry_after_seconds() > 0)
            r.retry_seconds = e.retry_after_seconds();
    } catch (const std::exception& e) {
        r.error = std::string("pull of list ") + c.list_code + " (" + phase + "): " + e.what();
    }
    return r;
}

double epoch_seconds_now() {
    using namespace std::chrono;
    return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count() / 1e6;
}

void record_failure(const ClaimArgs& c, const char* message, int retry_seconds) {
    FailArgs f{c.account_id, c.list_code, c.run_id, message, retry_seconds};
    (void)dwu_run_in_transaction("dwu_crm: recording a failed pull step", fail_tx, &f);
}

void run_pull_step(const ClaimArgs& c, const AccountClientFn& client_for, const dwu::FieldMap& field_map) {
    std::string why;
    dwu::DinamizeClient* client = client_for(c.account_id, c.config_version, why);
    if (!client) {
        record_failure(c, why.c_str(), kFailedStepRetrySeconds);
        return;
    }
    char activity[128];
    snprintf(activity, sizeof activity, "dwu_crm: pulling Dinamize list %s of account %lld (%s, page %d)", c.list_code,
             static_cast<long long>(c.account_id), c.phase ? c.phase : "?", c.page);
    pgstat_report_activity(STATE_RUNNING, activity);
    pgstat_report_wait_start(PG_WAIT_EXTENSION);  // no transaction is open while we wait on HTTP
    StepResult r = fetch_step(*client, c, field_map);
    pgstat_report_wait_end();
    pgstat_report_activity(STATE_IDLE, nullptr);
    if (r.interrupted) {
        record_failure(c, nullptr, 0);
        return;
    }
    if (!r.error.empty()) {
        ereport(WARNING, (errmsg("dwu_crm %s", r.error.c_str())));
        record_failure(c, r.error.c_str(), r.retry_seconds);
        return;
    }
    if (r.skipped > 0)
        ereport(WARNING, (errmsg("dwu_crm: pull of list %s (%s, page %d) left out %ld item(s) Dinamize answered that "
                                 "cannot be stored (not an object, a NUL character, or an unmappable contact)",
                                 c.list_code, c.phase, c.page, r.skipped)));
    ApplyArgs a{strcmp(c.phase, "contacts") == 0,
                c.account_id,
                c.list_code,
                c.run_id,
                r.rows.c_str(),
                r.has_next,
                epoch_seconds_now()};
    if (!dwu_run_in_transaction("dwu_crm: applying a pulled page", apply_tx, &a))
        record_failure(c, "applying the pulled page failed (see the server log)", kFailedStepRetrySeconds);
}

}  // namespace

long dwu_run_background_tasks(const AccountClientFn& client_for, const dwu::FieldMap& field_map) {
    if (!runner_cxt) runner_cxt = AllocSetContextCreate(TopMemoryContext, "dwu_crm pull runner", ALLOCSET_SMALL_SIZES);
    MemoryContextReset(runner_cxt);
    long sleep_ms = kMaxSleepMs;

    WebhookArgs w{dwu_webhook_batch_size, 0};
    if (!dwu_run_in_transaction("dwu_crm: applying webhook events", process_webhooks_tx, &w))
        sleep_ms = dwu_worker::kRetryAfterErrorMs;
    else if (w.handled >= w.batch_size)
        sleep_ms = 0;

    ClaimArgs c{};
    c.lease_seconds = dwu_lease_seconds;
    c.next_due_ms = -1;
    if (!dwu_run_in_transaction("dwu_crm: claiming a pull step", claim_tx, &c))
        return Min(sleep_ms, dwu_worker::kRetryAfterErrorMs);
    if (!c.claimed) return c.next_due_ms < 0 ? sleep_ms : Min(sleep_ms, Max(c.next_due_ms, 10L));
    run_pull_step(c, client_for, field_map);
    return 0;
}
