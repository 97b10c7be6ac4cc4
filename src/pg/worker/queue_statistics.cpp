#include "pg/worker/queue_statistics.h"

#include <chrono>
#include <cstdlib>
#include <cstring>

#include "pg/pg_headers.h"
#include "pg/worker/transaction.h"

namespace {

constexpr auto kCheckGap = std::chrono::seconds(1);
// Stale: at least this many queued jobs and more than kStaleFactor times the estimate.
constexpr int64 kStaleMinimum = 1000;
constexpr int64 kStaleFactor = 4;

struct CheckArgs {
    bool analyzed;
};

// The planner's row estimate of the queued jobs (a plan-only EXPLAIN: no rows read; SPI runs
// EXPLAIN only when not read-only).
int64 estimated_queued() {
    if (SPI_execute("EXPLAIN SELECT 1 FROM dwu_crm.crm_sync_queue WHERE dwu_status = 'queued'", false, 1) !=
            SPI_OK_UTILITY ||
        SPI_processed < 1)
        elog(ERROR, "dwu_crm: EXPLAIN of the queue failed");
    char* line = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
    const char* rows = line ? strstr(line, "rows=") : nullptr;
    return rows ? strtoll(rows + 5, nullptr, 10) : 0;
}

void check_tx(void* p) {
    auto* a = static_cast<CheckArgs*>(p);
    const int64 estimate = estimated_queued();
    const int64 stale_above = Max(kStaleMinimum, estimate * kStaleFactor);
    // Counts no further than the point where the estimate is shown stale: cheap when it is right.
    const char* sql =
        "SELECT count(*) FROM (SELECT 1 FROM dwu_crm.crm_sync_queue WHERE dwu_status = 'queued' LIMIT $1) s";
    Oid types[1] = {INT8OID};
    Datum values[1] = {Int64GetDatum(stale_above + 1)};
    if (SPI_execute_with_args(sql, 1, types, values, nullptr, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "dwu_crm: counting the queued jobs failed");
    bool isnull = false;
    const int64 live = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    if (live <= stale_above) return;
    // Only the status, from a small sample (300 × the target rows: 3,000, some ms on 1M rows where
    // a whole-table ANALYZE samples 30,000 and computes the payloads' statistics too): the share of
    // queued jobs is what the claim's plan hinges on. Autovacuum's ANALYZE keeps the rest.
    if (SPI_execute("SET LOCAL default_statistics_target = 10", false, 0) != SPI_OK_UTILITY ||
        SPI_execute("ANALYZE dwu_crm.crm_sync_queue (dwu_status)", false, 0) != SPI_OK_UTILITY)
        elog(ERROR, "dwu_crm: ANALYZE of the queue failed");
    a->analyzed = true;
}

}  // namespace

void dwu_refresh_queue_statistics(bool after_idle_round) {
    static std::chrono::steady_clock::time_point next_check{};
    const auto now = std::chrono::steady_clock::now();
    if (now < next_check && !after_idle_round) return;
    next_check = now + kCheckGap;
    CheckArgs a{false};
    if (dwu_run_in_transaction("dwu_crm: checking the queue's statistics", check_tx, &a) && a.analyzed)
        ereport(DEBUG1, (errmsg("dwu_crm worker analyzed crm_sync_queue: its statistics hid the queued jobs")));
}
