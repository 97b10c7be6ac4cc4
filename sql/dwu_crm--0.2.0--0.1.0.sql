-- dwu_crm 0.2.0 -> 0.1.0: the way back when 0.2.0 misbehaves (README "Rollback"). Undoes
-- dwu_crm--0.1.0--0.2.0.sql, so that a downgraded install has the catalog of a fresh 0.1.0 install
-- (test/e2e/test_update_path.sh). Every row of the tables 0.1.0 has is kept; what only 0.2.0 has
-- goes: the response codes an admin set or the probe learned (crm_response_codes), the erasure,
-- adoption and probe functions. The CRM tables become members of the extension again, as 0.1.0
-- has them: from here a DROP EXTENSION deletes them. Run with the 0.2.0 files still installed,
-- then install the 0.1.0 library (the 0.2.0 worker waits while the versions differ).
\echo Use "ALTER EXTENSION dwu_crm UPDATE TO '0.1.0'" to load this file. \quit

-- What only 0.2.0 has.
DROP FUNCTION @extschema@.library_version();
DROP FUNCTION @extschema@.dinamize_probe_requests(text, text), @extschema@.dinamize_probe_codes(text);
DROP FUNCTION @extschema@.dinamize_set_code(text, text, text), @extschema@.store_response_code(bigint, text, text, text),
    @extschema@.dinamize_response_codes(text), @extschema@.response_codes_of(bigint);
DROP TRIGGER crm_response_codes_touch ON @extschema@.crm_response_codes;
DROP FUNCTION @extschema@.crm_response_codes_touch();
-- Out of extconfig first (a plain DROP TABLE would leave its oid there), then dropped.
ALTER EXTENSION dwu_crm DROP TABLE @extschema@.crm_response_codes;
DROP TABLE @extschema@.crm_response_codes;
DROP TABLE @extschema@.crm_response_code_defaults;
DROP FUNCTION @extschema@.adopt_crm(text, boolean), @extschema@.sync_unlinked_leads();
DROP TRIGGER crm_sync_queue_erasure_done ON @extschema@.crm_sync_queue;
DROP FUNCTION @extschema@.crm_sync_queue_erasure_done(), @extschema@.erase_person(text), @extschema@.erased_changes(jsonb);
DROP TRIGGER crm_dinamize_accounts_restore_paused ON @extschema@.crm_dinamize_accounts;
DROP FUNCTION @extschema@.crm_dinamize_accounts_restore_paused();
DROP INDEX @extschema@.crm_sync_queue_completed_idx;

-- 0.1.0's view (it counts every job ever finished).
CREATE OR REPLACE VIEW @extschema@.sync_queue_depth AS
SELECT q.dwu_status AS status,
       a.dwu_name AS account,
       count(*) AS jobs,
       now() - min(q.created_at) AS oldest_age,
       count(*) FILTER (WHERE q.dwu_status = 'queued' AND q.dwu_next_attempt_at > now()) AS waiting_for_retry
  FROM @extschema@.crm_sync_queue q
  LEFT JOIN @extschema@.crm_dinamize_accounts a ON a.dwu_id = q.dwu_account_id
 GROUP BY q.dwu_status, a.dwu_name
UNION ALL
SELECT 'captured', NULL, count(*), now() - min(c.created_at), 0
  FROM @extschema@.crm_captured_changes c
 WHERE c.dwu_sync
HAVING count(*) > 0;
COMMENT ON VIEW @extschema@.sync_queue_depth IS
    'Queue depth by status and account (captured: not moved into the queue yet), age of the oldest job in each, and queued jobs waiting for a retry.';

-- The extension's own sequences are not dumped by 0.1.0: out of extconfig (member again at once).
DO $sequences$
DECLARE
    seq text;
BEGIN
    FOR seq IN SELECT c.oid::regclass::text
                 FROM pg_catalog.pg_extension e
                 CROSS JOIN LATERAL pg_catalog.unnest(e.extconfig) AS x(oid)
                 JOIN pg_catalog.pg_class c ON c.oid = x.oid AND c.relkind = 'S'
                WHERE e.extname = 'dwu_crm'
    LOOP
        EXECUTE pg_catalog.format('ALTER EXTENSION dwu_crm DROP SEQUENCE %s', seq);
        EXECUTE pg_catalog.format('ALTER EXTENSION dwu_crm ADD SEQUENCE %s', seq);
    END LOOP;
END
$sequences$;

-- The CRM tables and their sequences are members again, their rows dumped as 0.1.0 dumps them.
DO $ownership$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['crm_leads', 'crm_opportunities', 'crm_contacts', 'crm_audit_log'] LOOP
        EXECUTE pg_catalog.format('ALTER EXTENSION dwu_crm ADD TABLE @extschema@.%I', t);
        EXECUTE pg_catalog.format('ALTER EXTENSION dwu_crm ADD SEQUENCE %s',
                                  pg_catalog.pg_get_serial_sequence(pg_catalog.format('@extschema@.%I', t), 'dwu_id'));
    END LOOP;
END
$ownership$;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.crm_contacts', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.crm_opportunities', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.crm_leads', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.crm_audit_log', '');

-- 0.1.0's functions.
CREATE OR REPLACE FUNCTION @extschema@.pull_apply_contact(account_id bigint, list_code text, run bigint, code text,
                                               hash text, remote jsonb, remote_status text, item jsonb,
                                               base jsonb, base_status text, observed_at timestamptz, rule text)
    RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    lead bigint;
    cur jsonb;
    local jsonb;
    resolved jsonb;
    winner text;
    outcome text;
    has_queued boolean;
    has_processing boolean;
    sets text;
    cols text;
BEGIN
    SELECT s.dwu_lead_id INTO lead
      FROM @extschema@.crm_lead_sync s JOIN @extschema@.crm_leads l ON l.dwu_id = s.dwu_lead_id
     WHERE s.dwu_list_id = list_code AND s.dwu_dinamize_contact_id = code;
    IF lead IS NULL THEN
        SELECT l.dwu_id INTO lead FROM @extschema@.crm_leads l
         WHERE lower(l.dwu_email) = lower(remote ->> 'dwu_email')
           AND coalesce(l.dwu_account_id, @extschema@.default_account_id()) = account_id
         ORDER BY l.dwu_id LIMIT 1;
    END IF;
    IF lead IS NULL THEN
        SELECT string_agg(format('%I', k), ', '), string_agg(format('r.%I', k), ', ') INTO cols, sets
          FROM jsonb_object_keys(remote) k;
        EXECUTE format('INSERT INTO @extschema@.crm_leads (%s, dwu_account_id, dwu_origin, dwu_source_data,
                                                             dwu_email_status, dwu_email_status_at)
                        SELECT %s, $2, ''Dinamize'', $3, $4, CASE WHEN $4 <> ''valid'' THEN now() END
                          FROM jsonb_populate_record(NULL::@extschema@.crm_leads, $1) r
                        RETURNING dwu_id', cols, sets)
          INTO lead USING remote, account_id, item, remote_status;
        INSERT INTO @extschema@.crm_lead_sync AS s (dwu_lead_id, dwu_account_id, dwu_list_id, dwu_dinamize_contact_id,
                                                    dwu_sync_status, dwu_last_sync, dwu_last_successful_sync)
        VALUES (lead, account_id, list_code, code, 'synced', now(), now())
        ON CONFLICT ON CONSTRAINT crm_lead_sync_contact_list_key
        DO UPDATE SET dwu_lead_id = EXCLUDED.dwu_lead_id, dwu_account_id = EXCLUDED.dwu_account_id,
                      dwu_sync_status = 'synced', updated_at = now();
        outcome := 'created';
    ELSE
        SELECT to_jsonb(l) INTO cur FROM @extschema@.crm_leads l WHERE l.dwu_id = lead FOR UPDATE;
        SELECT jsonb_object_agg(k, cur -> k) INTO local FROM jsonb_object_keys(remote) k;
        IF local = remote THEN
            outcome := 'unchanged';  -- e.g. our own push seen back
        ELSE
            SELECT coalesce(bool_or(q.dwu_status = 'queued'), false), coalesce(bool_or(q.dwu_status = 'processing'), false)
              INTO has_queued, has_processing
              FROM @extschema@.crm_sync_queue q
             WHERE q.dwu_lead_id = lead AND q.dwu_status IN ('queued', 'processing');
            -- A captured change not moved into the queue yet is as good as queued.
            has_queued := has_queued OR EXISTS (SELECT 1 FROM @extschema@.crm_captured_changes c
                                                 WHERE c.dwu_entity_type = 'lead' AND c.dwu_entity_id = lead
                                                   AND c.dwu_sync);
            IF NOT (has_queued OR has_processing) THEN
                resolved := remote;  -- only Dinamize changed it
                outcome := 'updated';
            ELSE
                -- Both sides changed the lead since the last sync: a local change is still unsent.
                IF rule = 'merge' THEN
                    resolved := @extschema@.merge_fields(local, remote, base);
                ELSIF (cur ->> 'updated_at')::timestamptz > observed_at THEN
                    resolved := local;   -- the local edit is newer than the moment Dinamize's was seen
                ELSE
                    resolved := remote;
                END IF;
                winner := CASE WHEN resolved = local THEN 'local' WHEN resolved = remote THEN 'remote' ELSE 'merged' END;
                INSERT INTO @extschema@.crm_sync_conflicts (dwu_lead_id, dwu_account_id, dwu_contact_code, dwu_rule,
                            dwu_winner, dwu_local, dwu_remote, dwu_base, dwu_resolved, dwu_local_changed_at,
                            dwu_remote_seen_at)
                VALUES (lead, account_id, code, rule, winner, local, remote, base, resolved,
                        (cur ->> 'updated_at')::timestamptz, observed_at);
                outcome := 'conflict';
                -- Dinamize must end with the resolution: a queued job reads the lead when it runs;
                -- one in flight sends what it read before, so another follows it.
                IF (resolved <> remote OR has_processing) AND NOT has_queued THEN
                    INSERT INTO @extschema@.crm_sync_queue (dwu_lead_id, dwu_account_id, dwu_operation, dwu_payload)
                    VALUES (lead, account_id, 'update', jsonb_build_object('email', resolved ->> 'dwu_email'));
                    PERFORM @extschema@.wake_worker_at_commit();
                END IF;
            END IF;
            IF resolved <> local THEN
                PERFORM @extschema@.set_lead_fields(lead, (SELECT jsonb_object_agg(k, resolved -> k)
                                                             FROM jsonb_object_keys(resolved) k
                                                            WHERE (resolved -> k) IS DISTINCT FROM (local -> k)));
            END IF;
            IF resolved = remote AND cur -> 'dwu_source_data' IS DISTINCT FROM item THEN
                UPDATE @extschema@.crm_leads SET dwu_source_data = item WHERE dwu_id = lead;
            END IF;
        END IF;
        IF remote_status IS DISTINCT FROM base_status AND cur ->> 'dwu_email_status' IS DISTINCT FROM remote_status THEN
            UPDATE @extschema@.crm_leads SET dwu_email_status = remote_status, dwu_email_status_at = now()
             WHERE dwu_id = lead;
        END IF;
        INSERT INTO @extschema@.crm_lead_sync AS s (dwu_lead_id, dwu_account_id, dwu_list_id, dwu_dinamize_contact_id,
                                                    dwu_sync_status, dwu_last_sync, dwu_last_successful_sync)
        VALUES (lead, account_id, list_code, code, 'synced', now(), now())
        ON CONFLICT DO NOTHING;
    END IF;
    INSERT INTO @extschema@.crm_remote_contacts AS r (dwu_account_id, dwu_list_id, dwu_contact_code, dwu_hash, dwu_fields,
                                                      dwu_email_status, dwu_lead_id, dwu_seen_run)
    VALUES (account_id, list_code, code, hash, remote, remote_status, lead, run)
    ON CONFLICT (dwu_account_id, dwu_list_id, dwu_contact_code)
    DO UPDATE SET dwu_hash = EXCLUDED.dwu_hash, dwu_fields = EXCLUDED.dwu_fields,
                  dwu_email_status = EXCLUDED.dwu_email_status, dwu_lead_id = EXCLUDED.dwu_lead_id,
                  dwu_seen_run = EXCLUDED.dwu_seen_run, dwu_changed_at = now(), dwu_gone_at = NULL;
    RETURN outcome;
END;
$$;

CREATE OR REPLACE FUNCTION @extschema@.move_captured_changes(max_changes integer DEFAULT NULL, wait boolean DEFAULT true)
    RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    columns text[] := @extschema@.synced_columns();
    moved_rows bigint;
    queued_rows bigint;
BEGIN
    IF max_changes < 1 THEN
        RAISE EXCEPTION 'max_changes must be at least 1 (got %)', max_changes
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass NULL to move every captured change.';
    END IF;
    -- (0x64777563 = 'dwuc', 1): this extension's key for "moving captured changes".
    IF coalesce(wait, true) THEN
        PERFORM pg_advisory_xact_lock(1685550435, 1);
    ELSIF NOT pg_try_advisory_xact_lock(1685550435, 1) THEN
        RETURN NULL;
    END IF;
    WITH moved AS (
        DELETE FROM @extschema@.crm_captured_changes c
         WHERE max_changes IS NULL
            OR c.ctid = ANY (ARRAY(SELECT x.ctid FROM @extschema@.crm_captured_changes x
                                    ORDER BY x.dwu_seq LIMIT max_changes))
        RETURNING c.*
    ), audited AS (
        INSERT INTO @extschema@.crm_audit_log (dwu_user_id, dwu_db_user, dwu_action, dwu_entity_type, dwu_entity_id,
                                               dwu_changes, dwu_ip_address, dwu_user_agent, created_at)
        SELECT m.dwu_user_id, m.dwu_db_user, m.dwu_action, m.dwu_entity_type, m.dwu_entity_id, d.changes,
               m.dwu_ip_address, m.dwu_user_agent, m.created_at
          FROM moved m
         CROSS JOIN LATERAL (
               SELECT CASE m.dwu_action
                      WHEN 'CREATE' THEN jsonb_build_object('after', m.dwu_after - 'created_at' - 'updated_at')
                      WHEN 'DELETE' THEN jsonb_build_object('before', m.dwu_before - 'created_at' - 'updated_at')
                      -- The rows come without their NULL fields: a field set to or from NULL is a
                      -- key of one side only.
                      ELSE (SELECT jsonb_build_object('before', jsonb_object_agg(k, m.dwu_before -> k),
                                                      'after', jsonb_object_agg(k, m.dwu_after -> k))
                              FROM (SELECT jsonb_object_keys(m.dwu_after) UNION SELECT jsonb_object_keys(m.dwu_before)) AS f(k)
                             WHERE k <> 'updated_at' AND (m.dwu_before -> k) IS DISTINCT FROM (m.dwu_after -> k)
                            HAVING count(*) > 0)
                      END AS changes) d
         WHERE m.dwu_audit AND d.changes IS NOT NULL
         ORDER BY m.dwu_seq
    ), synced AS (
        SELECT m.* FROM moved m
         WHERE m.dwu_sync
           AND (m.dwu_action <> 'UPDATE'
                OR EXISTS (SELECT 1 FROM unnest(columns) AS c WHERE m.dwu_after -> c IS DISTINCT FROM m.dwu_before -> c))
    ), pushed AS (
        UPDATE @extschema@.crm_sync_queue q
           SET dwu_next_attempt_at = least(u.due, q.created_at + 10 * u.delay)
          FROM (SELECT s.dwu_entity_id AS lead, max(s.dwu_due) AS due, max(s.dwu_update_delay) AS delay
                  FROM synced s
                 WHERE s.dwu_action = 'UPDATE' AND s.dwu_update_delay > interval '0'
                 GROUP BY s.dwu_entity_id) u
         WHERE q.dwu_lead_id = u.lead AND q.dwu_status = 'queued' AND q.dwu_operation = 'update'
           AND q.dwu_next_attempt_at < least(u.due, q.created_at + 10 * u.delay)
    ), queued AS (
        INSERT INTO @extschema@.crm_sync_queue (dwu_lead_id, dwu_account_id, dwu_operation, dwu_payload,
                                                dwu_next_attempt_at, created_at)
        SELECT s.dwu_entity_id,
               CASE WHEN s.dwu_action = 'DELETE'
                    THEN coalesce(link.dwu_account_id, (s.dwu_before ->> 'dwu_account_id')::bigint, d.dwu_id)
                    ELSE coalesce((s.dwu_after ->> 'dwu_account_id')::bigint, d.dwu_id) END,
               lower(s.dwu_action),
               CASE WHEN s.dwu_action = 'DELETE'
                    THEN jsonb_strip_nulls(jsonb_build_object('email', s.dwu_before ->> 'dwu_email',
                                                              'contact_code', link.dwu_dinamize_contact_id))
                    ELSE jsonb_build_object('email', s.dwu_after ->> 'dwu_email') END,
               CASE WHEN s.dwu_action <> 'UPDATE' THEN s.created_at
                    WHEN s.dwu_update_delay > interval '0'
                    THEN greatest(s.dwu_due, least(max(s.dwu_due) OVER later, s.created_at + 10 * s.dwu_update_delay))
                    ELSE s.dwu_due END,
               s.created_at
          FROM synced s
          LEFT JOIN LATERAL (SELECT ls.dwu_dinamize_contact_id, ls.dwu_account_id FROM @extschema@.crm_lead_sync ls
                              WHERE s.dwu_action = 'DELETE' AND ls.dwu_lead_id = s.dwu_entity_id
                                AND ls.dwu_dinamize_contact_id IS NOT NULL
                              ORDER BY ls.dwu_id DESC LIMIT 1) link ON true
          LEFT JOIN (SELECT a.dwu_id FROM @extschema@.crm_dinamize_accounts a
                      WHERE a.dwu_is_default AND a.dwu_enabled) d ON true
        WINDOW later AS (PARTITION BY s.dwu_entity_id, s.dwu_action ORDER BY s.dwu_seq DESC)
         ORDER BY s.dwu_seq
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM queued) INTO moved_rows, queued_rows;
    IF queued_rows > 0 THEN PERFORM @extschema@.wake_worker_at_commit(); END IF;
    IF moved_rows > 0 THEN PERFORM @extschema@.note_captured_changes_moved(moved_rows); END IF;
    RETURN moved_rows;
END;
$$;

DROP TABLE @extschema@.crm_capture_mover_lock;

-- 0.1.0's webhook_receive (unsigned events only), with its grants.
DROP FUNCTION @extschema@.webhook_receive(jsonb, text, text, text, text, text, text, bigint);
DROP FUNCTION @extschema@.webhook_verify_signature(text, text, bigint);
CREATE FUNCTION @extschema@.webhook_receive(payload jsonb, event_type text DEFAULT 'lead.upsert',
                                            source text DEFAULT 'app', event_id text DEFAULT NULL,
                                            account text DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    kind text := lower(btrim(event_type));
    src text := btrim(source);
    ev_id text;
    email text;
    acct bigint;
    bad text;
    id bigint;
BEGIN
    IF payload IS NULL THEN
        RAISE EXCEPTION 'webhook payload must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF jsonb_typeof(payload) <> 'object' THEN
        RAISE EXCEPTION 'webhook payload must be a JSON object, not %', jsonb_typeof(payload)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Send a flat object such as {"email": "ana@example.com", "name": "Ana"}.';
    END IF;
    IF pg_column_size(payload) > 65536 THEN
        RAISE EXCEPTION 'webhook payload is too large (% bytes, at most 65536)', pg_column_size(payload)
            USING ERRCODE = 'program_limit_exceeded';
    END IF;
    IF kind IS NULL OR kind NOT IN ('lead.upsert', 'lead.optout') THEN
        RAISE EXCEPTION 'unknown webhook event type "%"', event_type
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use lead.upsert or lead.optout.';
    END IF;
    IF src IS NULL OR src !~ '^[A-Za-z0-9_.:-]{1,50}$' THEN
        RAISE EXCEPTION 'webhook source must be 1 to 50 letters, digits or _.:-'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF jsonb_typeof(payload -> 'email') IS DISTINCT FROM 'string' THEN
        RAISE EXCEPTION 'webhook payload has no "email" string'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Every event names its lead by e-mail address.';
    END IF;
    email := btrim(payload ->> 'email');
    IF length(email) > 254 OR email !~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$' THEN
        RAISE EXCEPTION 'webhook payload "email" is not an e-mail address: "%"', left(email, 100)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT string_agg(k.key, ', ' ORDER BY k.key) INTO bad
      FROM jsonb_each(payload) k JOIN @extschema@.webhook_lead_columns() c ON c.payload_key = k.key
     WHERE CASE WHEN k.key = 'tags' THEN jsonb_typeof(k.value) NOT IN ('array', 'null')
                ELSE jsonb_typeof(k.value) NOT IN ('string', 'null') END;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'webhook payload keys of the wrong type: %', bad
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Lead fields are strings; tags is an array of strings.';
    END IF;
    ev_id := coalesce(event_id, payload ->> 'id', payload ->> 'event_id', md5(kind || payload::text));
    IF btrim(ev_id) = '' OR length(ev_id) > 200 THEN
        RAISE EXCEPTION 'webhook event id must be 1 to 200 characters' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF account IS NOT NULL THEN
        SELECT a.dwu_id INTO acct FROM @extschema@.crm_dinamize_accounts a
         WHERE a.dwu_name = account AND a.dwu_removed_at IS NULL;
        IF acct IS NULL THEN
            RAISE EXCEPTION 'no Dinamize account named "%"', account
                USING ERRCODE = 'undefined_object', HINT = 'SELECT dwu_name FROM dwu_crm.crm_dinamize_accounts lists them.';
        END IF;
    END IF;
    INSERT INTO @extschema@.crm_webhook_events (dwu_event_type, dwu_source, dwu_event_id, dwu_email_key,
                                                dwu_account_id, dwu_payload)
    VALUES (kind, src, ev_id, lower(email), acct, payload)
    ON CONFLICT ON CONSTRAINT crm_webhook_events_source_event_key DO NOTHING
    RETURNING dwu_id INTO id;
    IF id IS NULL THEN  -- a replay: the first delivery stands
        SELECT e.dwu_id INTO id FROM @extschema@.crm_webhook_events e
         WHERE e.dwu_source = src AND e.dwu_event_id = ev_id;
        RETURN id;
    END IF;
    PERFORM @extschema@.wake_worker_at_commit();
    RETURN id;
END;
$$;
COMMENT ON FUNCTION @extschema@.webhook_receive(jsonb, text, text, text, text) IS
    'Stores an inbound event (lead.upsert, lead.optout) for the worker; a replayed event id returns the stored event and has no effect.';
REVOKE ALL ON FUNCTION @extschema@.webhook_receive(jsonb, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.webhook_receive(jsonb, text, text, text, text) TO dwu_crm_app;

-- The comments 0.1.0 did not have.
COMMENT ON SCHEMA @extschema@ IS NULL;
COMMENT ON FUNCTION @extschema@.crm_dinamize_accounts_refuse_delete() IS NULL;
COMMENT ON FUNCTION @extschema@.default_account_id() IS NULL;
COMMENT ON FUNCTION @extschema@.audit_app_user_id() IS NULL;
COMMENT ON FUNCTION @extschema@.audit_app_ip() IS NULL;
COMMENT ON FUNCTION @extschema@.audit_app_user_agent() IS NULL;
COMMENT ON FUNCTION @extschema@.note_captured_changes_moved(bigint) IS NULL;
COMMENT ON FUNCTION @extschema@.crm_leads_touch() IS NULL;
COMMENT ON FUNCTION @extschema@.dinamize_set_account_enabled(text, boolean) IS NULL;
COMMENT ON FUNCTION @extschema@.dinamize_remove_account(text) IS NULL;
COMMENT ON TYPE @extschema@.dinamize_contact IS NULL;
COMMENT ON FUNCTION @extschema@.touch_updated_at() IS NULL;
COMMENT ON FUNCTION @extschema@.webhook_lead_columns() IS NULL;
COMMENT ON FUNCTION @extschema@.webhook_apply(@extschema@.crm_webhook_events) IS NULL;
COMMENT ON FUNCTION @extschema@.pull_interval_default() IS NULL;
COMMENT ON FUNCTION @extschema@.conflict_rule_default() IS NULL;
COMMENT ON FUNCTION @extschema@.email_status_rank(text) IS NULL;
COMMENT ON FUNCTION @extschema@.set_lead_fields(bigint, jsonb) IS NULL;
COMMENT ON FUNCTION @extschema@.pull_claim(integer) IS NULL;
COMMENT ON FUNCTION @extschema@.pull_next_due_ms() IS NULL;
COMMENT ON FUNCTION @extschema@.pull_step_state(bigint, text, bigint) IS NULL;
COMMENT ON FUNCTION @extschema@.pull_advance(bigint, text, boolean, jsonb) IS NULL;
COMMENT ON FUNCTION @extschema@.pull_failed(bigint, text, bigint, text, integer) IS NULL;
COMMENT ON FUNCTION @extschema@.pull_apply_contact(bigint, text, bigint, text, text, jsonb, text, jsonb, jsonb, text, timestamp with time zone, text) IS NULL;
COMMENT ON FUNCTION @extschema@.pull_apply_contacts(bigint, text, bigint, jsonb, boolean, timestamp with time zone) IS NULL;
COMMENT ON FUNCTION @extschema@.pull_find_lead(bigint, text, text, text, text) IS NULL;
COMMENT ON FUNCTION @extschema@.pull_set_email_status(bigint, text) IS NULL;
COMMENT ON FUNCTION @extschema@.pull_apply_activity(bigint, text, bigint, jsonb, boolean) IS NULL;
COMMENT ON FUNCTION @extschema@.account_id_of(text) IS NULL;

CREATE OR REPLACE FUNCTION @extschema@.requeue_failed(job_id bigint DEFAULT NULL, category text DEFAULT NULL,
                                          account_name text DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
    account bigint;
BEGIN
    IF account_name IS NOT NULL THEN
        SELECT a.dwu_id INTO account FROM @extschema@.crm_dinamize_accounts a WHERE a.dwu_name = account_name;
        IF account IS NULL THEN
            RAISE EXCEPTION 'no Dinamize account named "%"', account_name
                USING ERRCODE = 'no_data_found', HINT = 'SELECT dwu_name FROM dwu_crm.crm_dinamize_accounts lists them.';
        END IF;
    END IF;
    IF category IS NOT NULL AND category NOT IN ('NETWORK', 'AUTH', 'VALIDATION', 'RATE_LIMIT', 'API_ERROR') THEN
        RAISE EXCEPTION 'unknown error category "%"', category
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use NETWORK, AUTH, VALIDATION, RATE_LIMIT or API_ERROR, or NULL for all.';
    END IF;
    IF job_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM @extschema@.crm_sync_queue q
                                            WHERE q.dwu_id = requeue_failed.job_id AND q.dwu_status = 'failed') THEN
        RAISE EXCEPTION 'no failed job with id %', job_id
            USING ERRCODE = 'no_data_found',
                  HINT = 'SELECT dwu_id FROM dwu_crm.crm_sync_queue WHERE dwu_status = ''failed'' lists them.';
    END IF;
    WITH requeued AS (
        UPDATE @extschema@.crm_sync_queue q
           SET dwu_status = 'queued', dwu_attempt_count = 0, dwu_next_attempt_at = now(), updated_at = now()
         WHERE q.dwu_status = 'failed'
           AND (requeue_failed.job_id IS NULL OR q.dwu_id = requeue_failed.job_id)
           AND (requeue_failed.category IS NULL OR q.dwu_last_error_category = requeue_failed.category)
           AND (account IS NULL OR q.dwu_account_id = account)
        RETURNING q.dwu_lead_id
    ), relinked AS (
        UPDATE @extschema@.crm_lead_sync s SET dwu_sync_status = 'pending', updated_at = now()
         WHERE s.dwu_sync_status = 'failed' AND s.dwu_lead_id IN (SELECT dwu_lead_id FROM requeued)
    )
    SELECT count(*) INTO n FROM requeued;
    INSERT INTO @extschema@.crm_audit_log (dwu_action, dwu_entity_type, dwu_entity_id, dwu_changes)
    VALUES ('SYNC', 'sync_queue', requeue_failed.job_id,
            jsonb_strip_nulls(jsonb_build_object('requeued', n, 'category', category, 'account', account_name)));
    IF n > 0 THEN PERFORM @extschema@.wake_worker_at_commit(); END IF;
    RETURN n;
END;
$$;

CREATE OR REPLACE FUNCTION @extschema@.dinamize_set_account_enabled(account_name text, enabled boolean) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE @extschema@.crm_dinamize_accounts a
       SET dwu_enabled = dinamize_set_account_enabled.enabled, updated_at = now()
     WHERE a.dwu_name = account_name AND a.dwu_removed_at IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no Dinamize account named "%"', account_name
            USING ERRCODE = 'no_data_found', HINT = 'SELECT dwu_name FROM dwu_crm.crm_dinamize_accounts lists them.';
    END IF;
    INSERT INTO @extschema@.crm_audit_log (dwu_action, dwu_entity_type, dwu_entity_id, dwu_changes)
    SELECT 'CONFIGURE', 'dinamize_account', dwu_id, jsonb_build_object('enabled', enabled, 'by', session_user)
      FROM @extschema@.crm_dinamize_accounts WHERE dwu_name = account_name;
    PERFORM @extschema@.wake_worker_at_commit();
END;
$$;

CREATE OR REPLACE FUNCTION @extschema@.dinamize_remove_account(account_name text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    account bigint;
BEGIN
    UPDATE @extschema@.crm_dinamize_accounts
       SET dwu_enabled = false, dwu_is_default = false, dwu_removed_at = now(), dwu_password = ''::bytea,
           dwu_config_version = dwu_config_version + 1, updated_at = now()
     WHERE dwu_name = account_name AND dwu_removed_at IS NULL
    RETURNING dwu_id INTO account;
    IF account IS NULL THEN
        RAISE EXCEPTION 'no Dinamize account named "%"', account_name
            USING ERRCODE = 'no_data_found', HINT = 'SELECT dwu_name FROM dwu_crm.crm_dinamize_accounts lists them.';
    END IF;
    UPDATE @extschema@.crm_auth_tokens SET dwu_active = false, dwu_token = ''::bytea WHERE dwu_account_id = account;
    INSERT INTO @extschema@.crm_audit_log (dwu_action, dwu_entity_type, dwu_entity_id, dwu_changes)
    VALUES ('DELETE', 'dinamize_account', account, jsonb_build_object('name', account_name, 'by', session_user));
END;
$$;
