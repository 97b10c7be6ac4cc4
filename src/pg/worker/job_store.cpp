#include "pg/worker/job_store.h"

#include "pg/pg_headers.h"
#include "pg/settings.h"
#include "pg/spi_values.h"
#include "pg/worker/transaction.h"

extern "C" {
#include "utils/array.h"
#include "utils/jsonb.h"
}

namespace {

MemoryContext batch_cxt = nullptr;

// Claimed rows copied out of SPI memory into batch_cxt: plain C, so safe under PG_TRY.
struct ClaimedRow {
    int64 id;
    int64 lead_id;
    int64 account_id;
    int32 attempt;
    int32 config_version;
    char* list_code;
    char* operation;
    char* queued_operation;
    char* lead_json;
    char* contact_code;
    char* payload_json;
};

struct ClaimArgs {
    int batch_size;
    int lease_seconds;
    int64 only_account;
    bool creates_only;
    int count;
    ClaimedRow* rows;
    int64 next_due_ms;
};

// Jobs whose worker died mid-call: claimable again once their lease ran out.
// A claimed job ($1 = dwu_crm.max_attempts) whose leases ran out that many times without an outcome
// recorded is failed instead: nothing is sent again forever (riders just go back to the queue).
const char* const kRequeueExpiredLeases = R"SQL(
UPDATE dwu_crm.crm_sync_queue
   SET dwu_status = CASE WHEN dwu_coalesced_into IS NULL AND dwu_attempt_count >= $1 THEN 'failed' ELSE 'queued' END,
       dwu_last_error = CASE WHEN dwu_coalesced_into IS NULL AND dwu_attempt_count >= $1
                             THEN 'no outcome was recorded in ' || dwu_attempt_count
                                  || ' attempts (each lease ran out): failed so that it is not sent again'
                             ELSE dwu_last_error END,
       dwu_last_error_category = CASE WHEN dwu_coalesced_into IS NULL AND dwu_attempt_count >= $1
                                      THEN 'API_ERROR' ELSE dwu_last_error_category END,
       dwu_locked_until = NULL, dwu_locked_by = NULL, dwu_coalesced_into = NULL, updated_at = now()
 WHERE dwu_status = 'processing' AND dwu_locked_until < now()
)SQL";

// At worker start: also jobs held by a process that no longer exists, lease or not.
const char* const kRequeueOrphans = R"SQL(
UPDATE dwu_crm.crm_sync_queue q
   SET dwu_status = 'queued', dwu_locked_until = NULL, dwu_locked_by = NULL, dwu_coalesced_into = NULL,
       updated_at = now()
 WHERE q.dwu_status = 'processing'
   AND (q.dwu_locked_until < now()
        OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = q.dwu_locked_by))
)SQL";

// The enabled accounts ($3 = 0: all, else that one) and, unless $4 (a backfill round's own claim),
// whether each has reached dwu_crm.import_threshold ($5) due creates: then they are left to the
// bulk import. One text for the claim and the backfill probe, so the two never disagree (creates
// the claim leaves alone that the probe does not pick up would wait forever). The claim judges it
// itself: a probe run before it could miss a backlog committed just after, and the claim would
// send a batch of it one by one.
const std::string kAccountsAndBackfills = R"SQL(
WITH accounts AS (
    SELECT a.dwu_id, a.dwu_id = (SELECT d.dwu_id FROM dwu_crm.crm_dinamize_accounts d WHERE d.dwu_is_default AND d.dwu_enabled) AS is_default
      FROM dwu_crm.crm_dinamize_accounts a
     WHERE a.dwu_enabled AND ($3 = 0 OR a.dwu_id = $3)
), backfills AS (
    SELECT a.*, $5 > 0 AND NOT $4
                AND (SELECT count(*) FROM (SELECT 1 FROM dwu_crm.crm_sync_queue q
                                            WHERE q.dwu_account_id = a.dwu_id AND q.dwu_status = 'queued'
                                              AND q.dwu_next_attempt_at <= now() AND q.dwu_operation = 'create'
                                            LIMIT $5) s)
                  + (SELECT count(*) FROM (SELECT 1 FROM dwu_crm.crm_sync_queue q
                                            WHERE a.is_default AND q.dwu_account_id IS NULL AND q.dwu_status = 'queued'
                                              AND q.dwu_next_attempt_at <= now() AND q.dwu_operation = 'create'
                                            LIMIT $5) s) >= $5 AS backfill
      FROM accounts a
))SQL";

// The claim, in one statement:
//  - per lead, only the oldest unfinished job is claimable: operations reach Dinamize in commit
//    order; jobs of disabled accounts (or with no account while none is the default) wait;
//  - fair: each account's oldest due jobs take turns (1st of every account, then 2nd, ...), so one
//    account's backlog never starves another's;
//  - coalescing: the lead's later queued jobs ride along (dwu_coalesced_into) with the claimed
//    one, whose call carries the lead's latest state: anything then delete → one delete, create
//    then updates → one create, updates → one update.
const std::string kClaim = kAccountsAndBackfills + R"SQL(, candidates AS (
    SELECT c.dwu_id, c.dwu_next_attempt_at, a.dwu_id AS account_id
      FROM backfills a
     CROSS JOIN LATERAL (
        (SELECT q.dwu_id, q.dwu_next_attempt_at
           FROM dwu_crm.crm_sync_queue q
          WHERE q.dwu_account_id = a.dwu_id AND q.dwu_status = 'queued' AND q.dwu_next_attempt_at <= now()
            AND (NOT $4 OR q.dwu_operation = 'create') AND NOT (a.backfill AND q.dwu_operation = 'create')
            AND NOT EXISTS (SELECT 1 FROM dwu_crm.crm_sync_queue e
                             WHERE e.dwu_lead_id = q.dwu_lead_id AND e.dwu_id < q.dwu_id
                               AND e.dwu_status IN ('queued', 'processing'))
          ORDER BY q.dwu_next_attempt_at, q.dwu_id
          LIMIT $1)
        UNION ALL
        (SELECT q.dwu_id, q.dwu_next_attempt_at
           FROM dwu_crm.crm_sync_queue q
          WHERE a.is_default AND q.dwu_account_id IS NULL AND q.dwu_status = 'queued'
            AND q.dwu_next_attempt_at <= now()
            AND (NOT $4 OR q.dwu_operation = 'create') AND NOT (a.backfill AND q.dwu_operation = 'create')
            AND NOT EXISTS (SELECT 1 FROM dwu_crm.crm_sync_queue e
                             WHERE e.dwu_lead_id = q.dwu_lead_id AND e.dwu_id < q.dwu_id
                               AND e.dwu_status IN ('queued', 'processing'))
          ORDER BY q.dwu_next_attempt_at, q.dwu_id
          LIMIT $1)) c
), due AS (
    SELECT q.dwu_id, q.dwu_lead_id, c.account_id
      FROM dwu_crm.crm_sync_queue q
      JOIN (SELECT *, row_number() OVER (PARTITION BY account_id ORDER BY dwu_next_attempt_at, dwu_id) AS turn
              FROM candidates) c ON c.dwu_id = q.dwu_id
     WHERE q.dwu_status = 'queued'
     ORDER BY c.turn, c.dwu_next_attempt_at, c.dwu_id
     LIMIT $1
       FOR UPDATE OF q SKIP LOCKED
), riders AS (
    SELECT f.dwu_id, f.dwu_operation, f.dwu_payload, d.dwu_id AS head_id
      FROM due d
      JOIN dwu_crm.crm_sync_queue f ON f.dwu_lead_id = d.dwu_lead_id AND f.dwu_id > d.dwu_id
     WHERE f.dwu_status = 'queued'
       FOR UPDATE OF f SKIP LOCKED
), ride AS (
    UPDATE dwu_crm.crm_sync_queue q
       SET dwu_status = 'processing', dwu_coalesced_into = r.head_id,
           dwu_locked_until = now() + make_interval(secs => $2), dwu_locked_by = pg_backend_pid(),
           updated_at = now()
      FROM riders r
     WHERE q.dwu_id = r.dwu_id
), carried AS (
    -- Per claimed job, what its riders change: joined once (not looked up per row).
    SELECT head_id, count(*)::int AS riders, bool_or(dwu_operation = 'delete') AS deleted,
           (array_agg(dwu_payload ORDER BY dwu_id DESC) FILTER (WHERE dwu_operation = 'delete'))[1] AS delete_payload
      FROM riders
     GROUP BY head_id
)
UPDATE dwu_crm.crm_sync_queue q
   SET dwu_status = 'processing',
       dwu_account_id = due.account_id,
       dwu_coalesced_into = NULL,
       dwu_locked_until = now() + make_interval(secs => $2),
       dwu_locked_by = pg_backend_pid(),
       dwu_attempt_count = q.dwu_attempt_count + 1,
       updated_at = now()
  FROM due
  JOIN dwu_crm.crm_dinamize_accounts a ON a.dwu_id = due.account_id
  LEFT JOIN carried c ON c.head_id = due.dwu_id
 WHERE q.dwu_id = due.dwu_id
RETURNING q.dwu_id, q.dwu_lead_id, q.dwu_attempt_count,
          CASE WHEN q.dwu_operation = 'delete' OR c.deleted THEN 'delete'
               WHEN q.dwu_operation = 'create' THEN 'create'
               ELSE 'update' END,
          (SELECT to_jsonb(l)::text FROM dwu_crm.crm_leads l WHERE l.dwu_id = q.dwu_lead_id),
          (SELECT s.dwu_dinamize_contact_id FROM dwu_crm.crm_lead_sync s
            WHERE s.dwu_lead_id = q.dwu_lead_id AND s.dwu_list_id = a.dwu_list_code),
          coalesce(c.delete_payload, q.dwu_payload)::text,
          a.dwu_id, a.dwu_list_code, a.dwu_config_version,
          coalesce(c.riders, 0),
          q.dwu_operation
)SQL";

// An account with at least $5 due creates: a backfill for the bulk import (one at random, so
// several workers and accounts take turns).
const std::string kBackfillAccount = kAccountsAndBackfills + R"SQL(
SELECT dwu_id FROM backfills WHERE backfill ORDER BY random() LIMIT 1
)SQL";

// When the next job becomes due: the earliest queued job of an enabled account (one index probe
// per account: a paused account's backlog must not look due and keep the workers spinning), or
// the earliest lease to run out.
const char* const kNextDue = R"SQL(
SELECT (extract(epoch FROM min(t) - now()) * 1000)::bigint FROM (
    SELECT (SELECT q.dwu_next_attempt_at FROM dwu_crm.crm_sync_queue q
             WHERE q.dwu_account_id = a.dwu_id AND q.dwu_status = 'queued'
             ORDER BY q.dwu_next_attempt_at LIMIT 1) AS t
      FROM dwu_crm.crm_dinamize_accounts a WHERE a.dwu_enabled
    UNION ALL
    SELECT (SELECT q.dwu_next_attempt_at FROM dwu_crm.crm_sync_queue q
             WHERE q.dwu_account_id IS NULL AND q.dwu_status = 'queued'
             ORDER BY q.dwu_next_attempt_at LIMIT 1)
     WHERE EXISTS (SELECT FROM dwu_crm.crm_dinamize_accounts d WHERE d.dwu_is_default AND d.dwu_enabled)
    UNION ALL
    SELECT min(dwu_locked_until) FROM dwu_crm.crm_sync_queue WHERE dwu_status = 'processing') s
)SQL";

const char* const kRecord = R"SQL(
WITH o AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS o(
        job_id bigint, lead_id bigint, account_id bigint, list_code text, operation text, attempt int, fate text, delay_ms bigint,
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
), riders_done AS (
    -- Jobs that rode along end as their call ended; when it is to be retried they go back to the
    -- queue on their own (the next claim coalesces them again).
    UPDATE dwu_crm.crm_sync_queue q
       SET dwu_status = o.fate,
           dwu_coalesced_into = CASE WHEN o.fate = 'queued' THEN NULL ELSE q.dwu_coalesced_into END,
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
     WHERE q.dwu_coalesced_into = o.job_id AND q.dwu_status = 'processing' AND q.dwu_locked_by = pg_backend_pid()
       AND o.job_id IN (SELECT dwu_id FROM done)
    RETURNING q.dwu_id, q.dwu_operation, o.job_id AS head_id, o.fate
), link AS (
    INSERT INTO dwu_crm.crm_lead_sync AS s
           (dwu_lead_id, dwu_account_id, dwu_list_id, dwu_dinamize_contact_id, dwu_sync_status, dwu_last_sync,
            dwu_last_successful_sync, dwu_sync_error_count, dwu_last_error_message)
    SELECT DISTINCT ON (o.lead_id, o.list_code)
           o.lead_id, o.account_id, o.list_code, o.contact_code,
           CASE WHEN o.fate = 'completed' AND o.operation = 'delete' THEN 'deleted'
                WHEN o.fate = 'completed' THEN 'synced'
                WHEN o.fate = 'failed' THEN 'failed'
                ELSE 'pending' END,
           now(),
           CASE WHEN o.fate = 'completed' THEN now() END,
           CASE WHEN o.category IS NULL OR o.refund THEN 0 ELSE 1 END,
           CASE WHEN o.category IS NOT NULL THEN o.message END
      FROM (SELECT o.*,
                   -- two leads of this batch got one contact: the later job's lead keeps it
                   CASE WHEN o.contact_code IS NULL THEN 1
                        ELSE row_number() OVER (PARTITION BY o.contact_code, o.list_code ORDER BY o.job_id DESC)
                   END AS contact_rank
              FROM o
             WHERE o.job_id IN (SELECT dwu_id FROM done) AND NOT o.skipped) o
     WHERE o.contact_rank = 1
     ORDER BY o.lead_id, o.list_code, o.job_id DESC
    ON CONFLICT (dwu_lead_id, dwu_list_id) DO UPDATE
       SET dwu_dinamize_contact_id = coalesce(EXCLUDED.dwu_dinamize_contact_id, s.dwu_dinamize_contact_id),
           dwu_account_id = EXCLUDED.dwu_account_id,
           dwu_sync_status = EXCLUDED.dwu_sync_status,
           dwu_last_sync = EXCLUDED.dwu_last_sync,
           dwu_last_successful_sync = coalesce(EXCLUDED.dwu_last_successful_sync, s.dwu_last_successful_sync),
           dwu_sync_error_count = CASE WHEN EXCLUDED.dwu_sync_status IN ('synced', 'deleted') THEN 0
                                       ELSE s.dwu_sync_error_count + EXCLUDED.dwu_sync_error_count END,
           dwu_last_error_message = EXCLUDED.dwu_last_error_message,
           updated_at = now()
), logged AS (
    INSERT INTO dwu_crm.crm_sync_logs
           (dwu_queue_id, dwu_lead_id, dwu_account_id, dwu_operation, dwu_status, dwu_attempt, dwu_error_category,
            dwu_error_code, dwu_error_message, dwu_retry_after, dwu_duration_ms, dwu_request_unique)
    SELECT o.job_id, o.lead_id, o.account_id, o.operation,
           CASE WHEN o.category IS NULL THEN 'success' ELSE 'error' END,
           o.attempt, o.category, o.error_code, o.message, o.retry_after, o.duration_ms, o.request_unique
      FROM o
     WHERE o.job_id IN (SELECT dwu_id FROM done)
), riders_logged AS (
    INSERT INTO dwu_crm.crm_sync_logs
           (dwu_queue_id, dwu_lead_id, dwu_account_id, dwu_operation, dwu_status, dwu_error_category,
            dwu_error_code, dwu_error_message, dwu_coalesced_into)
    SELECT r.dwu_id, o.lead_id, o.account_id, r.dwu_operation,
           CASE WHEN o.category IS NULL THEN 'success' ELSE 'error' END,
           o.category, o.error_code,
           CASE WHEN o.category IS NULL THEN 'coalesced into job ' || o.job_id || ' (' || o.operation || ')'
                ELSE o.message END,
           o.job_id
      FROM riders_done r JOIN o ON o.job_id = r.head_id
     WHERE r.fate IN ('completed', 'failed')
)
SELECT count(*) FROM done
)SQL";

// Runs before kRecord, in its transaction. A contact code belongs to the lead whose job just got it:
// another lead's link to the same contact (two leads with one e-mail, e.g. in the default
// account's rows and with the account set explicitly; a code Dinamize re-used) is cleared first,
// or the unique link would make the whole batch's record fail, again at every retry.
const char* const kReleaseTakenContacts = R"SQL(
UPDATE dwu_crm.crm_lead_sync s
   SET dwu_dinamize_contact_id = NULL,
       dwu_sync_status = CASE WHEN s.dwu_sync_status = 'deleted' THEN 'deleted' ELSE 'pending' END,
       dwu_last_error_message = 'Dinamize contact ' || s.dwu_dinamize_contact_id || ' is now linked to lead ' || o.lead_id,
       updated_at = now()
  FROM (SELECT DISTINCT ON (x.contact_code, x.list_code) x.lead_id, x.list_code, x.contact_code
          FROM jsonb_to_recordset($1::jsonb) AS x(job_id bigint, lead_id bigint, list_code text, contact_code text,
                                                  skipped boolean)
         WHERE x.contact_code IS NOT NULL AND NOT coalesce(x.skipped, false)
         ORDER BY x.contact_code, x.list_code, x.job_id DESC) o
 WHERE s.dwu_dinamize_contact_id = o.contact_code AND s.dwu_list_id = o.list_code AND s.dwu_lead_id <> o.lead_id
)SQL";

// Unattempted jobs go back, their attempt refunded, with the jobs that rode along with them.
const char* const kRelease = R"SQL(
UPDATE dwu_crm.crm_sync_queue
   SET dwu_status = 'queued', dwu_locked_until = NULL, dwu_locked_by = NULL, dwu_coalesced_into = NULL,
       dwu_attempt_count = CASE WHEN dwu_id = ANY($1) THEN greatest(dwu_attempt_count - 1, 0)
                                ELSE dwu_attempt_count END,
       dwu_next_attempt_at = now() + $2 * interval '1 millisecond', updated_at = now()
 WHERE (dwu_id = ANY($1) OR dwu_coalesced_into = ANY($1))
   AND dwu_status = 'processing' AND dwu_locked_by = pg_backend_pid()
)SQL";

// A batch's jobs not yet sent keep their lease for another $2 seconds, with the jobs riding along;
// the ones no longer this worker's (the lease ran out and another worker claimed them) are not
// returned.
const char* const kRenewLeases = R"SQL(
UPDATE dwu_crm.crm_sync_queue
   SET dwu_locked_until = now() + make_interval(secs => $2)
 WHERE (dwu_id = ANY($1) OR dwu_coalesced_into = ANY($1))
   AND dwu_status = 'processing' AND dwu_locked_by = pg_backend_pid()
RETURNING dwu_id
)SQL";

// A statement the worker runs for every batch, prepared once per process (SPI_keepplan) instead of
// parsed each time. PostgreSQL re-plans it by itself when a table it reads changes.
// `replan_each_time`: a custom plan at every execution. The claim needs it: the queue goes from
// empty to 100k rows between two ANALYZEs, and a generic plan made while it was small (a merge
// join over the whole queue) stayed in use as it grew, each claim scanning every queued job.
struct KeptPlan {
    const char* sql;
    int nargs;
    Oid types[5];
    SPIPlanPtr plan;
    bool replan_each_time = false;
};

KeptPlan requeue_expired_plan{kRequeueExpiredLeases, 1, {INT4OID}, nullptr};
KeptPlan claim_plan{kClaim.c_str(), 5, {INT4OID, INT4OID, INT8OID, BOOLOID, INT4OID}, nullptr, true};
KeptPlan backfill_account_plan{
    kBackfillAccount.c_str(), 5, {INT4OID, INT4OID, INT8OID, BOOLOID, INT4OID}, nullptr, true};
KeptPlan next_due_plan{kNextDue, 0, {}, nullptr};
// Both take the batch's outcomes as jsonb, parsed once by record_in_txn: as text, each statement
// parsed the same 10,000 rows again (tens of ms per import batch).
KeptPlan record_plan{kRecord, 1, {JSONBOID}, nullptr};
KeptPlan release_taken_plan{kReleaseTakenContacts, 1, {JSONBOID}, nullptr};
KeptPlan release_plan{kRelease, 2, {INT8ARRAYOID, INT8OID}, nullptr};
KeptPlan renew_leases_plan{kRenewLeases, 2, {INT8ARRAYOID, INT4OID}, nullptr};
// wait => false: when another worker (or a session) is moving them, this one goes on to its claim.
KeptPlan move_captured_plan{"SELECT dwu_crm.move_captured_changes($1, false)", 1, {INT4OID}, nullptr};

int execute_kept(KeptPlan& k, Datum* values, bool read_only, long count) {
    if (!k.plan) {
        SPIPlanPtr plan = SPI_prepare_cursor(k.sql, k.nargs, k.types, k.replan_each_time ? CURSOR_OPT_CUSTOM_PLAN : 0);
        if (!plan) elog(ERROR, "dwu_crm: preparing a statement failed: %s", SPI_result_code_string(SPI_result));
        if (SPI_keepplan(plan) != 0) elog(ERROR, "dwu_crm: keeping a prepared statement failed");
        k.plan = plan;
    }
    return SPI_execute_plan(k.plan, values, nullptr, read_only, count);
}

void claim_in_txn(void* p) {
    auto* a = static_cast<ClaimArgs*>(p);
    Datum max_attempts[1] = {Int32GetDatum(dwu_max_attempts)};
    if (execute_kept(requeue_expired_plan, max_attempts, false, 0) != SPI_OK_UPDATE)
        elog(ERROR, "dwu_crm: recovering leases failed");
    Datum values[5] = {Int32GetDatum(a->batch_size), Int32GetDatum(a->lease_seconds), Int64GetDatum(a->only_account),
                       BoolGetDatum(a->creates_only), Int32GetDatum(dwu_import_threshold)};
    if (execute_kept(claim_plan, values, false, 0) != SPI_OK_UPDATE_RETURNING)
        elog(ERROR, "dwu_crm: claiming jobs failed");
    a->count = static_cast<int>(SPI_processed);
    a->rows = static_cast<ClaimedRow*>(MemoryContextAllocZero(batch_cxt, sizeof(ClaimedRow) * (a->count + 1)));
    for (int i = 0; i < a->count; i++) {
        HeapTuple t = SPI_tuptable->vals[i];
        TupleDesc d = SPI_tuptable->tupdesc;
        ClaimedRow& r = a->rows[i];
        r.id = dwu_spi_int(t, d, 1);
        r.lead_id = dwu_spi_int(t, d, 2);
        r.attempt = static_cast<int32>(dwu_spi_int(t, d, 3));
        r.operation = dwu_spi_text(t, d, 4, batch_cxt);
        r.lead_json = dwu_spi_text(t, d, 5, batch_cxt);
        r.contact_code = dwu_spi_text(t, d, 6, batch_cxt);
        r.payload_json = dwu_spi_text(t, d, 7, batch_cxt);
        r.account_id = dwu_spi_int(t, d, 8);
        r.list_code = dwu_spi_text(t, d, 9, batch_cxt);
        r.config_version = static_cast<int32>(dwu_spi_int(t, d, 10));
        r.queued_operation = dwu_spi_text(t, d, 12, batch_cxt);
    }
    a->next_due_ms = -1;
    if (a->count == 0) {
        if (execute_kept(next_due_plan, nullptr, true, 1) != SPI_OK_SELECT)
            elog(ERROR, "dwu_crm: reading the queue failed");
        bool isnull = true;
        Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
        if (!isnull) a->next_due_ms = Max(DatumGetInt64(d), 0);
    }
}

struct RecoverArgs {
    int recovered;
};

struct MoveArgs {
    int max_changes;
    int64 moved;
};

void move_captured_in_txn(void* p) {
    auto* a = static_cast<MoveArgs*>(p);
    Datum values[1] = {Int32GetDatum(a->max_changes)};
    if (execute_kept(move_captured_plan, values, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "dwu_crm: moving captured changes failed");
    bool isnull = false;
    Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    a->moved = isnull ? -1 : DatumGetInt64(d);  // NULL: another transaction is moving them
}

struct BackfillAccountArgs {
    int threshold;
    int64 account_id;
};

void backfill_account_in_txn(void* p) {
    auto* a = static_cast<BackfillAccountArgs*>(p);
    // $1 and $2 (batch size, lease) are the claim's: unused here.
    Datum values[5] = {Int32GetDatum(0), Int32GetDatum(0), Int64GetDatum(0), BoolGetDatum(false),
                       Int32GetDatum(a->threshold)};
    if (execute_kept(backfill_account_plan, values, true, 1) != SPI_OK_SELECT)
        elog(ERROR, "dwu_crm: looking for a backfill failed");
    a->account_id = SPI_processed == 1 ? dwu_spi_int(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1) : 0;
}

void recover_in_txn(void* p) {
    if (SPI_execute(kRequeueOrphans, false, 0) != SPI_OK_UPDATE) elog(ERROR, "dwu_crm: recovering jobs failed");
    static_cast<RecoverArgs*>(p)->recovered = static_cast<int>(SPI_processed);
}

void record_in_txn(void* p) {
    Datum values[1] = {DirectFunctionCall1(jsonb_in, CStringGetDatum(static_cast<const char*>(p)))};
    if (execute_kept(release_taken_plan, values, false, 0) != SPI_OK_UPDATE)
        elog(ERROR, "dwu_crm: releasing taken contact codes failed");
    if (execute_kept(record_plan, values, false, 0) != SPI_OK_SELECT) elog(ERROR, "dwu_crm: recording outcomes failed");
}

struct ReleaseArgs {
    int count;
    const int64* ids;
    int64 delay_ms;
};

void release_in_txn(void* p) {
    auto* a = static_cast<ReleaseArgs*>(p);
    Datum* elems = static_cast<Datum*>(palloc(sizeof(Datum) * Max(a->count, 1)));
    for (int i = 0; i < a->count; i++) elems[i] = Int64GetDatum(a->ids[i]);
    ArrayType* arr = construct_array(elems, a->count, INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE);
    Datum values[2] = {PointerGetDatum(arr), Int64GetDatum(a->delay_ms)};
    if (execute_kept(release_plan, values, false, 0) != SPI_OK_UPDATE) elog(ERROR, "dwu_crm: releasing jobs failed");
}

struct RenewArgs {
    int count;
    const int64* ids;
    int lease_seconds;
    int kept_count;
    int64* kept;  // palloc'd in batch_cxt, up to `count` ids
};

void renew_in_txn(void* p) {
    auto* a = static_cast<RenewArgs*>(p);
    Datum* elems = static_cast<Datum*>(palloc(sizeof(Datum) * Max(a->count, 1)));
    for (int i = 0; i < a->count; i++) elems[i] = Int64GetDatum(a->ids[i]);
    ArrayType* arr = construct_array(elems, a->count, INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE);
    Datum values[2] = {PointerGetDatum(arr), Int32GetDatum(a->lease_seconds)};
    if (execute_kept(renew_leases_plan, values, false, 0) != SPI_OK_UPDATE_RETURNING)
        elog(ERROR, "dwu_crm: renewing leases failed");
    a->kept = static_cast<int64*>(MemoryContextAlloc(batch_cxt, sizeof(int64) * Max(a->count, 1)));
    a->kept_count = 0;
    for (uint64 i = 0; i < SPI_processed; i++) {
        bool isnull = false;
        const int64 id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
        for (int k = 0; k < a->count; k++)
            if (a->ids[k] == id && a->kept_count < a->count) {
                a->kept[a->kept_count++] = id;
                break;
            }
    }
}

}  // namespace

void dwu_job_store_init() {
    batch_cxt = AllocSetContextCreate(TopMemoryContext, "dwu_crm batch", ALLOCSET_DEFAULT_SIZES);
}

bool dwu_recover_jobs(int* recovered) {
    RecoverArgs a{0};
    bool ok = dwu_run_in_transaction("dwu_crm: recovering unfinished jobs", recover_in_txn, &a);
    *recovered = a.recovered;
    return ok;
}

bool dwu_claim_jobs(int batch_size, int lease_seconds, std::vector<dwu::SyncJob>& jobs, long& next_due_ms,
                    long long only_account, bool creates_only) {
    MemoryContextReset(batch_cxt);
    ClaimArgs a{batch_size, lease_seconds, only_account, creates_only, 0, nullptr, -1};
    if (!dwu_run_in_transaction("dwu_crm: claiming jobs", claim_in_txn, &a)) return false;
    // Back in C++ land, no PG_TRY active: copy into owning objects.
    for (int i = 0; i < a.count; i++) {
        const ClaimedRow& r = a.rows[i];
        dwu::SyncJob job;
        job.id = r.id;
        job.lead_id = r.lead_id;
        job.attempt = r.attempt;
        job.operation = dwu_or_empty(r.operation);
        job.queued_operation = dwu_or_empty(r.queued_operation);
        job.lead_json = dwu_or_empty(r.lead_json);
        job.contact_code = dwu_or_empty(r.contact_code);
        job.payload_json = dwu_or_empty(r.payload_json);
        job.account_id = r.account_id;
        job.list_code = dwu_or_empty(r.list_code);
        job.config_version = r.config_version;
        jobs.push_back(std::move(job));
    }
    next_due_ms = static_cast<long>(a.next_due_ms);
    MemoryContextReset(batch_cxt);
    return true;
}

bool dwu_move_captured_changes(int max_changes, long long& moved) {
    MoveArgs a{max_changes, 0};
    moved = 0;
    if (!dwu_run_in_transaction("dwu_crm: moving captured changes", move_captured_in_txn, &a)) return false;
    moved = a.moved;
    return true;
}

bool dwu_find_backfill(int threshold, long long& account_id) {
    BackfillAccountArgs a{threshold, 0};
    if (!dwu_run_in_transaction("dwu_crm: looking for a backfill", backfill_account_in_txn, &a)) return false;
    account_id = a.account_id;
    return true;
}

bool dwu_record_outcomes(const std::string& rows_json) {
    return dwu_run_in_transaction("dwu_crm: recording outcomes", record_in_txn, const_cast<char*>(rows_json.c_str()));
}

bool dwu_renew_leases(const std::vector<long long>& job_ids, int lease_seconds, std::vector<long long>& kept) {
    kept.clear();
    if (job_ids.empty()) return true;
    RenewArgs a{static_cast<int>(job_ids.size()), reinterpret_cast<const int64*>(job_ids.data()), lease_seconds, 0,
                nullptr};
    if (!dwu_run_in_transaction("dwu_crm: renewing the batch's leases", renew_in_txn, &a)) return false;
    kept.assign(a.kept, a.kept + a.kept_count);
    return true;
}

bool dwu_release_jobs(const std::vector<long long>& job_ids, long delay_ms) {
    if (job_ids.empty()) return true;
    static_assert(sizeof(long long) == sizeof(int64), "job ids are bigint");
    ReleaseArgs a{static_cast<int>(job_ids.size()), reinterpret_cast<const int64*>(job_ids.data()), delay_ms};
    return dwu_run_in_transaction("dwu_crm: releasing unattempted jobs", release_in_txn, &a);
}
