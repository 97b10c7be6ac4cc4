-- The pull's decisions, without HTTP: pull_apply_contact() as the worker calls it for a changed
-- Dinamize contact. New contacts become leads; a remote-only change is applied with no echo; a
-- change on both sides (a local change still unsent) is resolved by the rule and recorded.
SET search_path = dwu_crm, public;
\set VERBOSITY default
-- A paused account: local changes stay queued (unsent), as the conflicts need.
SELECT dinamize_configure('pulled', 'http://127.0.0.1:9', 'pull@dwu.example', 'Pull-Pa55', '300970', '6') AS pid \gset
SELECT dinamize_set_account_enabled('pulled', false);
CREATE FUNCTION pg_temp.remote(email text, name text, city text) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('dwu_email', email, 'dwu_name', name, 'dwu_city', city)
$$;
-- Applies a pulled contact in its own transaction, with capture off.
CREATE FUNCTION pg_temp.apply(code text, remote jsonb, base jsonb, observed timestamptz, rule text,
                              status text DEFAULT 'valid', base_status text DEFAULT 'valid') RETURNS text
LANGUAGE sql AS $$
    SELECT set_config('dwu_crm.capture_changes', 'off', true);  -- as the worker's apply does (SET LOCAL)
    SELECT dwu_crm.pull_apply_contact((SELECT dwu_id FROM dwu_crm.crm_dinamize_accounts WHERE dwu_name = 'pulled'), '6', 1, code, md5(remote::text), remote, status,
                                      remote || jsonb_build_object('code', code), base, base_status, observed, rule)
$$;
CREATE FUNCTION pg_temp.lead(e text) RETURNS text LANGUAGE sql AS $$
    SELECT concat_ws(' | ', dwu_name, dwu_city, dwu_origin, dwu_email_status) FROM dwu_crm.crm_leads WHERE dwu_email = e
$$;
-- Queued jobs of a lead, once captured changes are moved into the queue.
CREATE FUNCTION pg_temp.jobs(e text) RETURNS bigint LANGUAGE sql AS $$
    SELECT dwu_crm.move_captured_changes();
    SELECT count(*) FROM dwu_crm.crm_sync_queue q JOIN dwu_crm.crm_leads l ON l.dwu_id = q.dwu_lead_id
     WHERE l.dwu_email = e AND q.dwu_status = 'queued'
$$;

-- merge_fields: local wins on fields changed locally since the base, remote on the others.
SELECT merge_fields('{"a": 1, "b": 2, "c": 3}', '{"a": 9, "b": 8, "c": 3}', '{"a": 1, "b": 0, "c": 3}') AS merged,
       merge_fields('{"a": 1}', '{"a": 2}', NULL) AS no_base_local_wins;

-- A contact new to the CRM: a lead (origin Dinamize), linked, nothing queued.
SELECT pg_temp.apply('900001', pg_temp.remote('new@example.com', 'New', 'Natal'), NULL, now(), 'last_modified', 'opted_out', NULL);
SELECT pg_temp.lead('new@example.com') AS lead, pg_temp.jobs('new@example.com') AS queued,
       (SELECT dwu_dinamize_contact_id FROM crm_lead_sync s JOIN crm_leads l ON l.dwu_id = s.dwu_lead_id
         WHERE l.dwu_email = 'new@example.com') AS linked_to,
       (SELECT dwu_source_data ->> 'code' FROM crm_leads WHERE dwu_email = 'new@example.com') AS source_code;

-- Leads of the CRM, synced: the base is what Dinamize held.
INSERT INTO crm_leads (dwu_email, dwu_name, dwu_city, dwu_account_id) VALUES
    ('only.remote@example.com', 'Rita', 'Rio', :pid), ('lww.remote@example.com', 'Leo', 'Lima', :pid),
    ('lww.local@example.com', 'Lia', 'Luz', :pid), ('merge@example.com', 'Max', 'Maceio', :pid);
SELECT move_captured_changes() \g /dev/null
UPDATE crm_sync_queue SET dwu_status = 'completed', dwu_completed_at = now() WHERE dwu_status = 'queued';

-- Only Dinamize changed: applied, no job.
SELECT pg_temp.apply('900002', pg_temp.remote('only.remote@example.com', 'Rita R.', 'Rio'),
                     pg_temp.remote('only.remote@example.com', 'Rita', 'Rio'), now(), 'last_modified');
SELECT pg_temp.lead('only.remote@example.com') AS lead, pg_temp.jobs('only.remote@example.com') AS queued;

-- Both changed; last_modified: Dinamize's change seen after the local edit wins...
UPDATE crm_leads SET dwu_name = 'Leo (CRM)' WHERE dwu_email = 'lww.remote@example.com';
SELECT pg_temp.apply('900003', pg_temp.remote('lww.remote@example.com', 'Leo (Dinamize)', 'Lima'),
                     pg_temp.remote('lww.remote@example.com', 'Leo', 'Lima'), now() + interval '1 minute', 'last_modified');
SELECT pg_temp.lead('lww.remote@example.com') AS lead, pg_temp.jobs('lww.remote@example.com') AS queued;
-- ...and a local edit newer than what was seen wins; the queued job will send it.
UPDATE crm_leads SET dwu_name = 'Lia (CRM)' WHERE dwu_email = 'lww.local@example.com';
SELECT pg_temp.apply('900004', pg_temp.remote('lww.local@example.com', 'Lia (Dinamize)', 'Luz'),
                     pg_temp.remote('lww.local@example.com', 'Lia', 'Luz'), now() - interval '1 minute', 'last_modified');
SELECT pg_temp.lead('lww.local@example.com') AS lead, pg_temp.jobs('lww.local@example.com') AS queued;

-- merge: the local name and Dinamize's city.
UPDATE crm_leads SET dwu_name = 'Max (CRM)' WHERE dwu_email = 'merge@example.com';
SELECT pg_temp.apply('900005', pg_temp.remote('merge@example.com', 'Max', 'Manaus'),
                     pg_temp.remote('merge@example.com', 'Max', 'Maceio'), now(), 'merge');
SELECT pg_temp.lead('merge@example.com') AS lead, pg_temp.jobs('merge@example.com') AS queued;

-- Every conflict with both versions.
SELECT l.dwu_email, c.dwu_rule, c.dwu_winner, c.dwu_local, c.dwu_remote, c.dwu_base, c.dwu_resolved
  FROM crm_sync_conflicts c JOIN crm_leads l ON l.dwu_id = c.dwu_lead_id ORDER BY c.dwu_id;

-- pull_configure and pull_now check their arguments.
SELECT pull_configure('pulled', conflict_rule => 'coin_flip');
SELECT pull_configure('pulled', every => interval '10 ms');
SELECT pull_now('nobody');
SELECT pull_now('pulled');
SELECT pull_configure('pulled', every => interval '1 hour', conflict_rule => 'merge');
SELECT account, list_code, pull_interval, conflict_rule FROM pull_status WHERE account = 'pulled';
SELECT dinamize_remove_account('pulled');
