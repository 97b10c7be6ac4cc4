-- enqueue_sync(lead, operation): a lead queued by hand, as the change-capture triggers would.
SET search_path = dwu_crm, public;
\set VERBOSITY default
CREATE FUNCTION pg_temp.error_of(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    hint text;
BEGIN
    EXECUTE statement;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
    RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' | hint: ' || nullif(hint, ''), '');
END;
$$;

-- A paused account: its jobs stay queued, so what enqueue_sync wrote can be read back as is.
SELECT dinamize_configure('manual', 'http://127.0.0.1:9', 'manual@dwu.example', 'Manual-Pa55', '300200', '5') AS manual_id \gset
SELECT dinamize_set_account_enabled('manual', false);
SET dwu_crm.capture_changes = off;  -- only enqueue_sync queues in this test
INSERT INTO crm_leads (dwu_email, dwu_name, dwu_account_id) VALUES
    ('never.synced@example.com', 'Never', :manual_id),
    ('synced@example.com', 'Synced', :manual_id);
SELECT move_captured_changes() \g /dev/null
SELECT dwu_id AS fresh_lead FROM crm_leads WHERE dwu_email = 'never.synced@example.com' \gset
SELECT dwu_id AS synced_lead FROM crm_leads WHERE dwu_email = 'synced@example.com' \gset
-- As if the worker had created the second one in Dinamize.
INSERT INTO crm_lead_sync (dwu_lead_id, dwu_account_id, dwu_dinamize_contact_id, dwu_list_id, dwu_sync_status)
VALUES (:synced_lead, :manual_id, '777001', '5', 'synced');
RESET dwu_crm.capture_changes;

CREATE TEMP TABLE jobs (label text, job bigint);
INSERT INTO jobs VALUES
    ('fresh, derived', enqueue_sync(:fresh_lead)),
    ('synced, derived', enqueue_sync(:synced_lead)),
    ('synced, delete', enqueue_sync(:synced_lead, 'delete')),
    ('fresh, explicit UPDATE', enqueue_sync(:fresh_lead, ' UPDATE '));
SELECT j.label, q.dwu_lead_id = CASE WHEN j.label LIKE 'fresh%' THEN :fresh_lead ELSE :synced_lead END AS right_lead,
       q.dwu_operation, q.dwu_payload, q.dwu_status, q.dwu_attempt_count, a.dwu_name AS account
  FROM jobs j JOIN crm_sync_queue q ON q.dwu_id = j.job JOIN crm_dinamize_accounts a ON a.dwu_id = q.dwu_account_id
 ORDER BY j.job;
SELECT count(DISTINCT job) = 4 AS four_jobs FROM jobs;

-- Bad input: a clear error, nothing queued.
SELECT count(*) AS jobs_before FROM crm_sync_queue \gset
SELECT pg_temp.error_of(s) FROM (VALUES
    ($$SELECT enqueue_sync(NULL)$$),
    ($$SELECT enqueue_sync(-42)$$),
    ($$SELECT enqueue_sync(1, 'upsert')$$),
    ($$SELECT enqueue_sync(1, '')$$)
) AS t(s);
SELECT count(*) = :jobs_before AS nothing_queued FROM crm_sync_queue;

-- The app role may queue a lead by hand; it still cannot write the queue itself.
SET ROLE dwu_crm_app;
SELECT enqueue_sync(:fresh_lead) > 0 AS app_queued;
INSERT INTO crm_sync_queue (dwu_lead_id, dwu_operation) VALUES (:fresh_lead, 'create');
RESET ROLE;

-- Nothing is queued by a rolled-back call.
BEGIN;
SELECT enqueue_sync(:fresh_lead) > 0 AS queued_then_rolled_back;
ROLLBACK;
SELECT count(*) AS jobs_of_fresh_lead FROM crm_sync_queue WHERE dwu_lead_id = :fresh_lead;
