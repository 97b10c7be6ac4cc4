#include "pg/worker/retention.h"

#include "pg/pg_headers.h"
#include "pg/settings.h"
#include "pg/spi_values.h"
#include "pg/worker/transaction.h"

namespace {

constexpr int kBatchRows = 1000;
constexpr int kBatchesPerVisit = 10;
constexpr long kVisitGapMs = 60 * 1000;
constexpr long kMoreToDoGapMs = 1000;

// Each statement deletes the oldest expired rows it can lock at once ($1: the TTL in seconds,
// $2: the batch size), through the index on their age; rows another session holds wait for the
// next batch.
const char* const kDeletes[] = {
    R"SQL(
DELETE FROM dwu_crm.crm_sync_queue WHERE dwu_id IN (
    SELECT dwu_id FROM dwu_crm.crm_sync_queue
     WHERE dwu_status = 'completed' AND dwu_completed_at < now() - make_interval(secs => $1)
     ORDER BY dwu_completed_at LIMIT $2 FOR UPDATE SKIP LOCKED)
)SQL",
    R"SQL(
DELETE FROM dwu_crm.crm_sync_logs WHERE dwu_id IN (
    SELECT dwu_id FROM dwu_crm.crm_sync_logs
     WHERE created_at < now() - make_interval(secs => $1)
     ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)
)SQL",
    R"SQL(
DELETE FROM dwu_crm.crm_audit_log WHERE dwu_id IN (
    SELECT dwu_id FROM dwu_crm.crm_audit_log
     WHERE created_at < now() - make_interval(secs => $1)
     ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)
)SQL",
};

struct DeleteArgs {
    const char* sql;
    int ttl_seconds;
    uint64 deleted;
};

void delete_batch_tx(void* p) {
    auto* a = static_cast<DeleteArgs*>(p);
    Oid types[2] = {INT4OID, INT4OID};
    Datum values[2] = {Int32GetDatum(a->ttl_seconds), Int32GetDatum(kBatchRows)};
    if (SPI_execute_with_args(a->sql, 2, types, values, nullptr, false, 0) != SPI_OK_DELETE)
        elog(ERROR, "dwu_crm: deleting expired history failed");
    a->deleted = SPI_processed;
}

}  // namespace

long dwu_run_retention() {
    const int ttls[] = {dwu_finished_jobs_ttl_seconds, dwu_sync_logs_ttl_seconds, dwu_audit_log_ttl_seconds};
    long next_ms = kVisitGapMs;
    for (int t = 0; t < 3; t++) {
        if (ttls[t] <= 0) continue;
        for (int batch = 0; batch < kBatchesPerVisit; batch++) {
            DeleteArgs a{kDeletes[t], ttls[t], 0};
            if (!dwu_run_in_transaction("dwu_crm: deleting expired history", delete_batch_tx, &a)) break;
            if (a.deleted < static_cast<uint64>(kBatchRows)) break;
            if (batch == kBatchesPerVisit - 1) next_ms = kMoreToDoGapMs;
        }
    }
    return next_ms;
}
