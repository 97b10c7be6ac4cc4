-- The worker runs in this database (dwu_crm.database = contrib_regression in the test config),
-- stays idle while no account is configured, and leaves queued jobs alone.
SET search_path = dwu_crm, public;

DO $$
BEGIN
    FOR i IN 1..100 LOOP
        PERFORM pg_stat_clear_snapshot();
        EXIT WHEN EXISTS (SELECT 1 FROM pg_stat_activity
                           WHERE backend_type = 'dwu_crm sync worker' AND datname = current_database());
        PERFORM pg_sleep(0.1);
    END LOOP;
END $$;
SELECT backend_type, datname IS NULL AS no_database FROM pg_stat_activity
 WHERE backend_type LIKE 'dwu_crm%' ORDER BY backend_type;

-- No Dinamize account configured yet: the woken worker moves the captured insert into the queue
-- by itself (waited for up to 10 s), and claims nothing.
INSERT INTO crm_leads (dwu_email) VALUES ('presence@example.com');
DO $$
BEGIN
    FOR i IN 1..100 LOOP
        EXIT WHEN NOT EXISTS (SELECT 1 FROM crm_captured_changes);
        PERFORM pg_sleep(0.1);
    END LOOP;
END $$;
SELECT count(*) AS left_captured FROM crm_captured_changes;
SELECT pg_sleep(0.5);
SELECT dwu_status, count(*) FROM crm_sync_queue GROUP BY 1;

-- The GUCs exist (credentials are not GUCs: see dinamize_configure).
SELECT name, setting, context FROM pg_settings
 WHERE name LIKE 'dwu_crm.%' AND name NOT IN ('dwu_crm.encryption_key_file', 'dwu_crm.webhook_secret_file')
 ORDER BY name;
SELECT current_setting('dwu_crm.encryption_key_file') <> '' AS key_file_set;

-- Bad settings are refused with a reason (ALTER SYSTEM runs the check without changing anything).
ALTER SYSTEM SET dwu_crm.field_map = 'phone:cmp4';
ALTER SYSTEM SET dwu_crm.batch_size = 0;
ALTER SYSTEM SET dwu_crm.no_such_setting = 1;

-- Waking at commit registers one callback per backend, not one per transaction: memory stays flat
-- over many transactions (pg_net's grew by megabytes).
CREATE PROCEDURE pg_temp.many_commits(n int) LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..n LOOP
        PERFORM dwu_crm.wake_worker_at_commit();
        COMMIT;
    END LOOP;
END $$;
CALL pg_temp.many_commits(2000);
SELECT sum(total_bytes) AS bytes_before FROM pg_backend_memory_contexts \gset
CALL pg_temp.many_commits(20000);
SELECT sum(total_bytes) AS bytes_after FROM pg_backend_memory_contexts \gset
SELECT :bytes_after - :bytes_before < 65536 AS memory_flat;
