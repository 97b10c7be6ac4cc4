-- An INSERT into crm_leads queues one create job per lead: the trigger captures it in the same
-- transaction (crm_captured_changes), and move_captured_changes() (the worker, before each round)
-- turns it into a job. The tests move them themselves to see the jobs at once.
SET search_path = dwu_crm, public;

INSERT INTO crm_leads (dwu_name, dwu_email, dwu_origin, dwu_country)
VALUES ('Ana Souza', 'ana@example.com', 'Manual', 'BR');
SELECT move_captured_changes() \g /dev/null
SELECT q.dwu_operation, q.dwu_status, q.dwu_attempt_count, q.dwu_payload, q.dwu_locked_until IS NULL AS unleased,
       q.dwu_lead_id = l.dwu_id AS for_the_lead
  FROM crm_sync_queue q JOIN crm_leads l ON l.dwu_email = 'ana@example.com';

-- A multi-row insert queues one job per row, in row order.
INSERT INTO crm_leads (dwu_email, dwu_origin)
SELECT 'bulk' || i || '@example.com', 'CSV' FROM generate_series(1, 5) i;
SELECT move_captured_changes() \g /dev/null
SELECT count(*) AS jobs, bool_and(dwu_operation = 'create') AS all_creates,
       array_agg(dwu_payload->>'email' ORDER BY dwu_id) AS emails
  FROM crm_sync_queue WHERE dwu_payload->>'email' LIKE 'bulk%';

-- COPY goes through the same trigger.
COPY crm_leads (dwu_email, dwu_origin) FROM stdin;
copy1@example.com	CSV
copy2@example.com	CSV
\.
SELECT move_captured_changes() \g /dev/null
SELECT count(*) AS copy_jobs FROM crm_sync_queue WHERE dwu_payload->>'email' LIKE 'copy%';

-- A rolled-back insert queues nothing; so does a rolled-back savepoint.
SELECT count(*) AS before FROM crm_sync_queue;
BEGIN;
INSERT INTO crm_leads (dwu_email) VALUES ('rolled.back@example.com');
ROLLBACK;
BEGIN;
INSERT INTO crm_leads (dwu_email) VALUES ('kept@example.com');
SAVEPOINT s;
INSERT INTO crm_leads (dwu_email) VALUES ('undone@example.com');
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT move_captured_changes() \g /dev/null
SELECT count(*) AS after, array_agg(dwu_payload->>'email') FILTER (WHERE dwu_id > 8) AS new_jobs FROM crm_sync_queue;

-- An insert that fails a constraint queues nothing either.
\set VERBOSITY terse
INSERT INTO crm_leads (dwu_email) VALUES ('ok1@example.com'), ('not an e-mail');
SELECT move_captured_changes() \g /dev/null
SELECT count(*) AS unchanged FROM crm_sync_queue;

-- Upserts: ON CONFLICT DO NOTHING captures nothing; DO UPDATE captures the update it made.
SET dwu_crm.update_delay = 0;  -- due at once: the monitoring view below counts no waiting job
INSERT INTO crm_leads (dwu_email, dwu_name) VALUES ('ana@example.com', 'Ana S.')
    ON CONFLICT ((coalesce(dwu_account_id, 0)), (lower(dwu_email))) DO NOTHING;
INSERT INTO crm_leads (dwu_email, dwu_name) VALUES ('ana@example.com', 'Ana Souza Lima')
    ON CONFLICT ((coalesce(dwu_account_id, 0)), (lower(dwu_email))) DO UPDATE SET dwu_name = excluded.dwu_name;
SELECT move_captured_changes() \g /dev/null
SELECT dwu_operation, count(*) FROM crm_sync_queue WHERE dwu_payload->>'email' = 'ana@example.com' GROUP BY 1 ORDER BY 1;
RESET dwu_crm.update_delay;

-- Captured changes move oldest first, at most max_changes at a time (in one transaction here, so
-- the worker cannot move them first).
BEGIN;
INSERT INTO crm_leads (dwu_email) SELECT 'batch' || i || '@example.com' FROM generate_series(1, 3) i;
SELECT move_captured_changes(2) AS moved;
SELECT array_agg(dwu_payload->>'email' ORDER BY dwu_id) AS queued FROM crm_sync_queue WHERE dwu_payload->>'email' LIKE 'batch%';
SELECT count(*) AS still_captured FROM crm_captured_changes;
COMMIT;
SELECT move_captured_changes() \g /dev/null
SELECT move_captured_changes(0);

-- Monitoring view; captured writes not moved yet show as 'captured'.
SELECT status, jobs, waiting_for_retry FROM sync_queue_depth ORDER BY status;
BEGIN;
INSERT INTO crm_leads (dwu_email) VALUES ('captured@example.com');
SELECT dwu_entity_type, dwu_action, dwu_after->>'dwu_email' AS email, dwu_sync, dwu_audit FROM crm_captured_changes;
SELECT status, jobs FROM sync_queue_depth ORDER BY status;
COMMIT;
SELECT move_captured_changes() \g /dev/null
SELECT count(*) AS left_captured FROM crm_captured_changes;

-- The trigger finds crm_captured_changes' columns by name, so that a library meets the table of
-- the version before or after it (between installing it and ALTER EXTENSION dwu_crm UPDATE): an
-- optional column gone or an unknown nullable one are fine; an unknown NOT NULL column, a
-- required one gone or one of another type stop the write with a clear error.
BEGIN;
ALTER TABLE crm_captured_changes DROP COLUMN dwu_user_agent, ADD COLUMN dwu_future text;
INSERT INTO crm_leads (dwu_email) VALUES ('layout@example.com');
SELECT dwu_action, dwu_after->>'dwu_email' AS email, dwu_future IS NULL AS future_is_null FROM crm_captured_changes;
ROLLBACK;
\set VERBOSITY terse
BEGIN;
ALTER TABLE crm_captured_changes ADD COLUMN dwu_future text NOT NULL DEFAULT 'x';
INSERT INTO crm_leads (dwu_email) VALUES ('layout@example.com');
ROLLBACK;
BEGIN;
ALTER TABLE crm_captured_changes DROP COLUMN dwu_seq;
INSERT INTO crm_leads (dwu_email) VALUES ('layout@example.com');
ROLLBACK;
BEGIN;
ALTER TABLE crm_captured_changes ALTER COLUMN dwu_user_agent TYPE varchar(200);
INSERT INTO crm_leads (dwu_email) VALUES ('layout@example.com');
ROLLBACK;
\set VERBOSITY default
INSERT INTO crm_leads (dwu_email) VALUES ('layout@example.com');
SELECT count(*) AS captured_again FROM crm_captured_changes;
SELECT move_captured_changes() \g /dev/null
