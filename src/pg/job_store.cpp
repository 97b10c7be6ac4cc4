#include "pg/job_store.h"

#include "pg/pg_headers.h"
#include "pg/transaction.h"

extern "C" {
#include "utils/array.h"
}

namespace {

MemoryContext batch_cxt = nullptr;

// Claimed rows copied out of SPI memory into batch_cxt: plain C, so safe under PG_TRY.
struct ClaimedRow {
    int64 id;
    int64 lead_id;
    int32 attempt;
    char* operation;
    char* lead_json;
    char* contact_code;
    char* payload_json;
};

struct ClaimArgs {
    int batch_size;
    int lease_seconds;
    const char* list_code;
    int count;
    ClaimedRow* rows;
    int64 next_due_ms;
};

// Jobs whose worker died mid-call: claimable again once their lease ran out.
const char* const kRequeueExpiredLeases = R"SQL(
UPDATE dwu_crm.crm_sync_queue
   SET dwu_status = 'queued', dwu_locked_until = NULL, dwu_locked_by = NULL, updated_at = now()
 WHERE dwu_status = 'processing' AND dwu_locked_until < now()
)SQL";

// At worker start: also jobs held by a process that no longer exists, lease or not.
const char* const kRequeueOrphans = R"SQL(
UPDATE dwu_crm.crm_sync_queue q
   SET dwu_status = 'queued', dwu_locked_until = NULL, dwu_locked_by = NULL, updated_at = now()
 WHERE q.dwu_status = 'processing'
   AND (q.dwu_locked_until < now()
        OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = q.dwu_locked_by))
)SQL";

// Per lead, only the oldest unfinished job is claimable: operations reach Dinamize in commit order.
const char* const kClaim = R"SQL(
WITH due AS (
    SELECT q.dwu_id
      FROM dwu_crm.crm_sync_queue q
     WHERE q.dwu_status = 'queued'
       AND q.dwu_next_attempt_at <= now()
       AND NOT EXISTS (SELECT 1 FROM dwu_crm.crm_sync_queue e
                        WHERE e.dwu_lead_id = q.dwu_lead_id AND e.dwu_id < q.dwu_id
                          AND e.dwu_status IN ('queued', 'processing'))
     ORDER BY q.dwu_next_attempt_at, q.dwu_id
     LIMIT $1
       FOR UPDATE SKIP LOCKED
)
UPDATE dwu_crm.crm_sync_queue q
   SET dwu_status = 'processing',
       dwu_locked_until = now() + make_interval(secs => $2),
       dwu_locked_by = pg_backend_pid(),
       dwu_attempt_count = q.dwu_attempt_count + 1,
       updated_at = now()
  FROM due
 WHERE q.dwu_id = due.dwu_id
RETURNING q.dwu_id, q.dwu_lead_id, q.dwu_attempt_count, q.dwu_operation,
          (SELECT to_jsonb(l)::text FROM dwu_crm.crm_leads l WHERE l.dwu_id = q.dwu_lead_id),
          (SELECT s.dwu_dinamize_contact_id FROM dwu_crm.crm_lead_sync s
            WHERE s.dwu_lead_id = q.dwu_lead_id AND s.dwu_list_id = $3),
          q.dwu_payload::text
)SQL";

const char* const kNextDue = R"SQL(
SELECT (extract(epoch FROM min(t) - now()) * 1000)::bigint FROM (
    SELECT min(dwu_next_attempt_at) AS t FROM dwu_crm.crm_sync_queue WHERE dwu_status = 'queued'
    UNION ALL
    SELECT min(dwu_locked_until) FROM dwu_crm.crm_sync_queue WHERE dwu_status = 'processing') s
)SQL";

const char* const kRecord = R"SQL(
WITH o AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS o(
        job_id bigint, lead_id bigint, operation text, attempt int, fate text, delay_ms bigint,
        refund boolean, skipped boolean, contact_code text, category text, error_code text,
        message text, retry_after int, duration_ms int, request_unique text)
), done AS (
    UPDATE dwu_crm.crm_sync_queue q
       SET dwu_status = o.fate,
           dwu_attempt_count = q.dwu_attempt_count - CASE WHEN o.refund THEN 1 ELSE 0 END,
           dwu_next_attempt_at = CASE WHEN o.fate = 'queued'
                                      THEN now() + o.delay_ms * interval '1 millisecond'
                                      ELSE q.dwu_next_attempt_at END,
           dwu_locked_until = NULL,
           dwu_locked_by = NULL,
           dwu_last_error = CASE WHEN o.category IS NOT NULL THEN o.message END,
           dwu_last_error_category = o.category,
           dwu_last_error_code = o.error_code,
           dwu_completed_at = CASE WHEN o.fate = 'completed' THEN now() END,
           updated_at = now()
      FROM o
     WHERE q.dwu_id = o.job_id AND q.dwu_status = 'processing' AND q.dwu_locked_by = pg_backend_pid()
    RETURNING q.dwu_id
), link AS (
    INSERT INTO dwu_crm.crm_lead_sync AS s
           (dwu_lead_id, dwu_list_id, dwu_dinamize_contact_id, dwu_sync_status, dwu_last_sync,
            dwu_last_successful_sync, dwu_sync_error_count, dwu_last_error_message)
    SELECT DISTINCT ON (o.lead_id)
           o.lead_id, $2, o.contact_code,
           CASE WHEN o.fate = 'completed' AND o.operation = 'delete' THEN 'deleted'
                WHEN o.fate = 'completed' THEN 'synced'
                WHEN o.fate = 'failed' THEN 'failed'
                ELSE 'pending' END,
           now(),
           CASE WHEN o.fate = 'completed' THEN now() END,
           CASE WHEN o.category IS NULL OR o.refund THEN 0 ELSE 1 END,
           CASE WHEN o.category IS NOT NULL THEN o.message END
      FROM o
     WHERE o.job_id IN (SELECT dwu_id FROM done) AND NOT o.skipped
     ORDER BY o.lead_id, o.job_id DESC
    ON CONFLICT (dwu_lead_id, dwu_list_id) DO UPDATE
       SET dwu_dinamize_contact_id = coalesce(EXCLUDED.dwu_dinamize_contact_id, s.dwu_dinamize_contact_id),
           dwu_sync_status = EXCLUDED.dwu_sync_status,
           dwu_last_sync = EXCLUDED.dwu_last_sync,
           dwu_last_successful_sync = coalesce(EXCLUDED.dwu_last_successful_sync, s.dwu_last_successful_sync),
           dwu_sync_error_count = CASE WHEN EXCLUDED.dwu_sync_status IN ('synced', 'deleted') THEN 0
                                       ELSE s.dwu_sync_error_count + EXCLUDED.dwu_sync_error_count END,
           dwu_last_error_message = EXCLUDED.dwu_last_error_message,
           updated_at = now()
), logged AS (
    INSERT INTO dwu_crm.crm_sync_logs
           (dwu_queue_id, dwu_lead_id, dwu_operation, dwu_status, dwu_attempt, dwu_error_category,
            dwu_error_code, dwu_error_message, dwu_retry_after, dwu_duration_ms, dwu_request_unique)
    SELECT o.job_id, o.lead_id, o.operation,
           CASE WHEN o.category IS NULL THEN 'success' ELSE 'error' END,
           o.attempt, o.category, o.error_code, o.message, o.retry_after, o.duration_ms, o.request_unique
      FROM o
     WHERE o.job_id IN (SELECT dwu_id FROM done)
)
SELECT count(*) FROM done
)SQL";

const char* const kRelease = R"SQL(
UPDATE dwu_crm.crm_sync_queue
   SET dwu_status = 'queued', dwu_locked_until = NULL, dwu_locked_by = NULL,
       dwu_attempt_count = greatest(dwu_attempt_count - 1, 0), updated_at = now()
 WHERE dwu_id = ANY($1) AND dwu_status = 'processing' AND dwu_locked_by = pg_backend_pid()
)SQL";

char* copy_value(HeapTuple tuple, TupleDesc desc, int col) {
    char* v = SPI_getvalue(tuple, desc, col);
    return v ? MemoryContextStrdup(batch_cxt, v) : nullptr;
}

int64 int_value(HeapTuple tuple, TupleDesc desc, int col) {
    bool isnull = false;
    Datum d = SPI_getbinval(tuple, desc, col, &isnull);
    if (isnull) return 0;
    return SPI_gettypeid(desc, col) == INT8OID ? DatumGetInt64(d) : DatumGetInt32(d);
}

void claim_in_txn(void* p) {
    auto* a = static_cast<ClaimArgs*>(p);
    if (SPI_execute(kRequeueExpiredLeases, false, 0) != SPI_OK_UPDATE) elog(ERROR, "dwu_crm: recovering leases failed");
    Oid types[3] = {INT4OID, INT4OID, TEXTOID};
    Datum values[3] = {Int32GetDatum(a->batch_size), Int32GetDatum(a->lease_seconds),
                       CStringGetTextDatum(a->list_code)};
    if (SPI_execute_with_args(kClaim, 3, types, values, nullptr, false, 0) != SPI_OK_UPDATE_RETURNING)
        elog(ERROR, "dwu_crm: claiming jobs failed");
    a->count = static_cast<int>(SPI_processed);
    a->rows = static_cast<ClaimedRow*>(MemoryContextAllocZero(batch_cxt, sizeof(ClaimedRow) * (a->count + 1)));
    for (int i = 0; i < a->count; i++) {
        HeapTuple t = SPI_tuptable->vals[i];
        TupleDesc d = SPI_tuptable->tupdesc;
        ClaimedRow& r = a->rows[i];
        r.id = int_value(t, d, 1);
        r.lead_id = int_value(t, d, 2);
        r.attempt = static_cast<int32>(int_value(t, d, 3));
        r.operation = copy_value(t, d, 4);
        r.lead_json = copy_value(t, d, 5);
        r.contact_code = copy_value(t, d, 6);
        r.payload_json = copy_value(t, d, 7);
    }
    a->next_due_ms = -1;
    if (a->count == 0) {
        if (SPI_execute(kNextDue, true, 1) != SPI_OK_SELECT) elog(ERROR, "dwu_crm: reading the queue failed");
        bool isnull = true;
        Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
        if (!isnull) a->next_due_ms = Max(DatumGetInt64(d), 0);
    }
}

struct RecoverArgs {
    int recovered;
};

void recover_in_txn(void* p) {
    if (SPI_execute(kRequeueOrphans, false, 0) != SPI_OK_UPDATE) elog(ERROR, "dwu_crm: recovering jobs failed");
    static_cast<RecoverArgs*>(p)->recovered = static_cast<int>(SPI_processed);
}

struct TextArgs {
    const char* sql;
    int nargs;
    const char* values[2];
};

void exec_text_args_in_txn(void* p) {
    auto* a = static_cast<TextArgs*>(p);
    Oid types[2] = {TEXTOID, TEXTOID};
    Datum values[2];
    for (int i = 0; i < a->nargs; i++) values[i] = CStringGetTextDatum(a->values[i]);
    if (SPI_execute_with_args(a->sql, a->nargs, types, values, nullptr, false, 0) < 0)
        elog(ERROR, "dwu_crm: updating the queue failed");
}

struct ReleaseArgs {
    int count;
    const int64* ids;
};

void release_in_txn(void* p) {
    auto* a = static_cast<ReleaseArgs*>(p);
    Datum* elems = static_cast<Datum*>(palloc(sizeof(Datum) * Max(a->count, 1)));
    for (int i = 0; i < a->count; i++) elems[i] = Int64GetDatum(a->ids[i]);
    ArrayType* arr = construct_array(elems, a->count, INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE);
    Oid types[1] = {INT8ARRAYOID};
    Datum values[1] = {PointerGetDatum(arr)};
    if (SPI_execute_with_args(kRelease, 1, types, values, nullptr, false, 0) != SPI_OK_UPDATE)
        elog(ERROR, "dwu_crm: releasing jobs failed");
}

void extension_check_in_txn(void* p) {
    *static_cast<bool*>(p) = OidIsValid(get_extension_oid("dwu_crm", true));
}

std::string or_empty(const char* s) { return s ? std::string(s) : std::string(); }

}  // namespace

void dwu_job_store_init() {
    batch_cxt = AllocSetContextCreate(TopMemoryContext, "dwu_crm batch", ALLOCSET_DEFAULT_SIZES);
}

bool dwu_extension_installed() {
    bool installed = false;
    return dwu_run_in_transaction("dwu_crm: checking for the extension", extension_check_in_txn, &installed) &&
           installed;
}

bool dwu_recover_jobs(int* recovered) {
    RecoverArgs a{0};
    bool ok = dwu_run_in_transaction("dwu_crm: recovering unfinished jobs", recover_in_txn, &a);
    *recovered = a.recovered;
    return ok;
}

bool dwu_claim_jobs(int batch_size, int lease_seconds, const std::string& list_code,
                    std::vector<dwu::SyncJob>& jobs, long& next_due_ms) {
    MemoryContextReset(batch_cxt);
    ClaimArgs a{batch_size, lease_seconds, list_code.c_str(), 0, nullptr, -1};
    if (!dwu_run_in_transaction("dwu_crm: claiming jobs", claim_in_txn, &a)) return false;
    // Back in C++ land, no PG_TRY active: copy into owning objects.
    for (int i = 0; i < a.count; i++) {
        const ClaimedRow& r = a.rows[i];
        dwu::SyncJob job;
        job.id = r.id;
        job.lead_id = r.lead_id;
        job.attempt = r.attempt;
        job.operation = or_empty(r.operation);
        job.lead_json = or_empty(r.lead_json);
        job.contact_code = or_empty(r.contact_code);
        job.payload_json = or_empty(r.payload_json);
        jobs.push_back(std::move(job));
    }
    next_due_ms = static_cast<long>(a.next_due_ms);
    MemoryContextReset(batch_cxt);
    return true;
}

bool dwu_record_outcomes(const std::string& rows_json, const std::string& list_code) {
    TextArgs a{kRecord, 2, {rows_json.c_str(), list_code.c_str()}};
    return dwu_run_in_transaction("dwu_crm: recording outcomes", exec_text_args_in_txn, &a);
}

bool dwu_release_jobs(const std::vector<long long>& job_ids) {
    if (job_ids.empty()) return true;
    static_assert(sizeof(long long) == sizeof(int64), "job ids are bigint");
    ReleaseArgs a{static_cast<int>(job_ids.size()), reinterpret_cast<const int64*>(job_ids.data())};
    return dwu_run_in_transaction("dwu_crm: releasing unattempted jobs", release_in_txn, &a);
}
