-- UPDATE and DELETE of leads queue what Dinamize must learn; nothing else does.
SET search_path = dwu_crm, public;
TRUNCATE crm_sync_queue;
INSERT INTO crm_leads (dwu_name, dwu_email, dwu_phone, dwu_address)
VALUES ('Bia', 'bia@example.com', '+55 11 5555-0000', 'Rua A, 1') RETURNING dwu_id AS bia \gset
SELECT move_captured_changes() \g /dev/null
TRUNCATE crm_sync_queue;

-- Columns Dinamize holds (e-mail, name; field_map is empty here) enqueue an update ...
UPDATE crm_leads SET dwu_name = 'Beatriz' WHERE dwu_id = :bia;
UPDATE crm_leads SET dwu_email = 'beatriz@example.com' WHERE dwu_id = :bia;
-- ... a no-op update and local-only columns do not.
UPDATE crm_leads SET dwu_name = 'Beatriz' WHERE dwu_id = :bia;
UPDATE crm_leads SET dwu_address = 'Rua B, 2', dwu_phone = '+55 11 5555-1111' WHERE dwu_id = :bia;
SELECT move_captured_changes() \g /dev/null
SELECT dwu_operation, dwu_payload FROM crm_sync_queue ORDER BY dwu_id;

-- updated_at follows changes; the id cannot change.
SELECT updated_at > created_at AS touched FROM crm_leads WHERE dwu_id = :bia;
UPDATE crm_leads SET dwu_id = dwu_id + 1000 WHERE dwu_id = :bia;

-- With capture switched off (how changes from Dinamize are applied) nothing is queued.
BEGIN;
SET LOCAL dwu_crm.capture_changes = off;
UPDATE crm_leads SET dwu_name = 'From Dinamize' WHERE dwu_id = :bia;
INSERT INTO crm_leads (dwu_email) VALUES ('from.dinamize@example.com');
COMMIT;
SELECT move_captured_changes() \g /dev/null
SELECT count(*) AS still_two FROM crm_sync_queue;
SHOW dwu_crm.capture_changes;

-- A delete keeps the Dinamize contact code after the lead row is gone.
INSERT INTO crm_lead_sync (dwu_lead_id, dwu_list_id, dwu_dinamize_contact_id, dwu_sync_status)
VALUES (:bia, '7', '100042', 'synced');
DELETE FROM crm_leads WHERE dwu_id = :bia;
SELECT move_captured_changes() \g /dev/null
SELECT dwu_operation, dwu_payload FROM crm_sync_queue WHERE dwu_operation = 'delete';
SELECT count(*) AS lead_rows, (SELECT count(*) FROM crm_lead_sync WHERE dwu_lead_id = :bia) AS link_rows
  FROM crm_leads WHERE dwu_id = :bia;

-- A bulk update of many leads is one statement's worth of jobs, one per changed lead.
INSERT INTO crm_leads (dwu_email) SELECT 'many' || i || '@example.com' FROM generate_series(1, 100) i;
UPDATE crm_leads SET dwu_name = 'Many' WHERE dwu_email LIKE 'many%';
SELECT move_captured_changes() \g /dev/null
SELECT dwu_operation, count(*) FROM crm_sync_queue WHERE dwu_payload->>'email' LIKE 'many%' GROUP BY 1 ORDER BY 1;

-- Failed jobs can be re-queued: by id, by category, or all.
UPDATE crm_sync_queue SET dwu_status = 'failed', dwu_attempt_count = 3,
       dwu_last_error_category = CASE WHEN dwu_id % 2 = 0 THEN 'NETWORK' ELSE 'VALIDATION' END
 WHERE dwu_payload->>'email' LIKE 'many%' AND dwu_operation = 'update';
SELECT min(dwu_id) AS one_failed FROM crm_sync_queue WHERE dwu_status = 'failed' \gset
SELECT requeue_failed(job_id => :one_failed);
SELECT requeue_failed(category => 'NETWORK') > 0 AS requeued_network;
SELECT count(*) FILTER (WHERE dwu_last_error_category = 'NETWORK') AS network_left,
       count(*) FILTER (WHERE dwu_last_error_category = 'VALIDATION') > 0 AS validation_left
  FROM crm_sync_queue WHERE dwu_status = 'failed';
SELECT requeue_failed() > 0 AS requeued_rest;
SELECT count(*) AS failed_left FROM crm_sync_queue WHERE dwu_status = 'failed';
SELECT bool_and(dwu_attempt_count = 0) AS attempts_reset FROM crm_sync_queue WHERE dwu_payload->>'email' LIKE 'many%';
SELECT requeue_failed(category => 'TIMEOUT');
SELECT requeue_failed(job_id => -1);

-- Monitoring views answer.
SELECT status, jobs > 0 AS has_jobs FROM sync_queue_depth ORDER BY status;
SELECT count(*) AS error_rows FROM sync_errors;
SELECT count(*) AS minutes FROM sync_outcomes_per_minute;

-- The movers' lock is a table only its owner can lock: the app role (or any other) cannot hold
-- it to stop captures from moving, and the mover still moves after the attempt.
SET ROLE dwu_crm_app;
BEGIN;
LOCK TABLE crm_capture_mover_lock IN SHARE ROW EXCLUSIVE MODE NOWAIT;
ROLLBACK;
SELECT move_captured_changes() IS NOT NULL AS app_moves_through_the_function;
RESET ROLE;
