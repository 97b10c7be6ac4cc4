-- dwu_crm 0.1.0 -> 0.2.0. Carries exactly the changes of dwu_crm--0.2.0.sql over 0.1.0, so that an
-- updated install and a fresh 0.2.0 install have the same catalog (test/e2e/test_update_path.sh).
\echo Use "ALTER EXTENSION dwu_crm UPDATE TO '0.2.0'" to load this file. \quit

-- An unknown Dinamize account is undefined_object (42704) everywhere: these three raised
-- no_data_found (P0002), as unknown leads and jobs still do. CREATE OR REPLACE keeps each
-- function's owner, privileges and comment.
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
                USING ERRCODE = 'undefined_object', HINT = 'SELECT dwu_name FROM dwu_crm.crm_dinamize_accounts lists them.';
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
            USING ERRCODE = 'undefined_object', HINT = 'SELECT dwu_name FROM dwu_crm.crm_dinamize_accounts lists them.';
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
            USING ERRCODE = 'undefined_object', HINT = 'SELECT dwu_name FROM dwu_crm.crm_dinamize_accounts lists them.';
    END IF;
    UPDATE @extschema@.crm_auth_tokens SET dwu_active = false, dwu_token = ''::bytea WHERE dwu_account_id = account;
    INSERT INTO @extschema@.crm_audit_log (dwu_action, dwu_entity_type, dwu_entity_id, dwu_changes)
    VALUES ('DELETE', 'dinamize_account', account, jsonb_build_object('name', account_name, 'by', session_user));
END;
$$;

-- Every object has a comment (0.1.0 had 46, on tables, views and some functions).
COMMENT ON SCHEMA @extschema@ IS
    'dwu_crm: CRM leads, contacts and opportunities, kept in sync with Dinamize by a background worker.';
COMMENT ON FUNCTION @extschema@.crm_dinamize_accounts_refuse_delete() IS
    'Trigger function of crm_dinamize_accounts_keep: refuses to delete an account (use dinamize_remove_account).';
COMMENT ON FUNCTION @extschema@.default_account_id() IS
    'The id of the default Dinamize account, NULL when there is none or it is paused.';
COMMENT ON FUNCTION @extschema@.audit_app_user_id() IS
    'crm_audit_log.dwu_user_id default: the setting dwu_crm.app_user_id (NULL when not set).';
COMMENT ON FUNCTION @extschema@.audit_app_ip() IS
    'crm_audit_log.dwu_ip_address default: the setting dwu_crm.app_ip (NULL when not set).';
COMMENT ON FUNCTION @extschema@.audit_app_user_agent() IS
    'crm_audit_log.dwu_user_agent default: the setting dwu_crm.app_user_agent (NULL when not set).';
COMMENT ON FUNCTION @extschema@.note_captured_changes_moved(bigint) IS
    'Internal (move_captured_changes): counts moved captured rows in shared memory, for the workers'' VACUUM of crm_captured_changes.';
COMMENT ON FUNCTION @extschema@.crm_leads_touch() IS
    'Trigger function of crm_leads_touch: sets updated_at and refuses a change of dwu_id.';
COMMENT ON FUNCTION @extschema@.dinamize_set_account_enabled(text, boolean) IS
    'Pauses (false) or resumes (true) a Dinamize account; its jobs wait while it is paused.';
COMMENT ON FUNCTION @extschema@.dinamize_remove_account(text) IS
    'Removes a Dinamize account: disabled for good, password and tokens erased; its leads, jobs and logs stay.';
COMMENT ON TYPE @extschema@.dinamize_contact IS
    'A Dinamize contact as dinamize_search() and dinamize_contact_get() return it; raw is the item as Dinamize sent it.';
COMMENT ON FUNCTION @extschema@.touch_updated_at() IS
    'Trigger function of crm_contacts_touch and crm_opportunities_touch: sets updated_at.';
COMMENT ON FUNCTION @extschema@.webhook_lead_columns() IS
    'The keys a webhook payload may carry (English and Portuguese) and the crm_leads column each fills.';
COMMENT ON FUNCTION @extschema@.webhook_apply(@extschema@.crm_webhook_events) IS
    'Internal (process_webhook_events): applies one stored event to crm_leads (creates or updates the lead, or marks it opted out); returns the lead id.';
COMMENT ON FUNCTION @extschema@.pull_interval_default() IS
    'The pull interval of accounts without their own: the setting dwu_crm.pull_interval, 15 minutes when not set.';
COMMENT ON FUNCTION @extschema@.conflict_rule_default() IS
    'The conflict rule of accounts without their own: the setting dwu_crm.conflict_rule, last_modified when not set.';
COMMENT ON FUNCTION @extschema@.email_status_rank(text) IS
    'Strength of an e-mail status (spam_complaint 5, opted_out 4, bounced 3, invalid 2, soft_bounced 1, others 0): the stronger one wins.';
COMMENT ON FUNCTION @extschema@.set_lead_fields(bigint, jsonb) IS
    'Internal (pull): sets the crm_leads columns a JSON object names (column: value) of one lead.';
COMMENT ON FUNCTION @extschema@.pull_claim(integer) IS
    'Internal (worker): claims the next due pull step under a lease (SKIP LOCKED), adding pull state for new accounts first.';
COMMENT ON FUNCTION @extschema@.pull_next_due_ms() IS
    'Internal (worker): milliseconds until a pull step is due (0: now; NULL: none scheduled).';
COMMENT ON FUNCTION @extschema@.pull_step_state(bigint, text, bigint) IS
    'Internal (pull): locks and returns the pull state of a step this backend holds the lease of (no row: the lease was lost).';
COMMENT ON FUNCTION @extschema@.pull_advance(bigint, text, boolean, jsonb) IS
    'Internal (pull): ends a step and moves on to the next page, the next phase (contacts, optouts, history) or the end of the run.';
COMMENT ON FUNCTION @extschema@.pull_failed(bigint, text, bigint, text, integer) IS
    'Internal (worker): records a failed pull step and schedules the same step again after retry_seconds.';
COMMENT ON FUNCTION @extschema@.pull_apply_contact(bigint, text, bigint, text, text, jsonb, text, jsonb, jsonb, text, timestamp with time zone, text) IS
    'Internal (pull): applies one changed Dinamize contact to crm_leads, resolving a conflict by the rule; returns created, updated, unchanged or conflict.';
COMMENT ON FUNCTION @extschema@.pull_apply_contacts(bigint, text, bigint, jsonb, boolean, timestamp with time zone) IS
    'Internal (worker): applies one page of a list''s contacts (those whose hash changed, each in a subtransaction); returns the counts.';
COMMENT ON FUNCTION @extschema@.pull_find_lead(bigint, text, text, text, text) IS
    'Internal (pull): the lead a Dinamize record is about, by linked contact code, by lead id (external_code), else by e-mail.';
COMMENT ON FUNCTION @extschema@.pull_set_email_status(bigint, text) IS
    'Internal (pull): raises a lead''s e-mail status to the one given unless it already holds a stronger one; true if it changed.';
COMMENT ON FUNCTION @extschema@.pull_apply_activity(bigint, text, bigint, jsonb, boolean) IS
    'Internal (worker): applies a page of opt-outs, bounces or spam complaints to the leads'' e-mail status; returns the counts.';
COMMENT ON FUNCTION @extschema@.account_id_of(text) IS
    'The id of the Dinamize account named (NULL: the default account); undefined_object (42704) when there is none.';

-- Signed webhooks (issue 15): webhook_receive takes the body as received (raw_body), the sender's
-- signature and its timestamp, checked by the new webhook_verify_signature. A new signature of
-- webhook_receive: the 0.1.0 function is dropped (nothing depends on it) and created again with the
-- grants of 0.2.0's install script (which revokes PUBLIC's EXECUTE of every function).
DROP FUNCTION @extschema@.webhook_receive(jsonb, text, text, text, text);

-- Checks a signed webhook before webhook_receive parses or stores it: the hex HMAC-SHA256 of
-- '<signed_at>.<raw_body>' under a secret of the file dwu_crm.webhook_secret_file (several lines:
-- several valid secrets, for rotation), compared in constant time, and signed_at within
-- dwu_crm.webhook_max_age_seconds of the server's clock. Returns true for a valid signature, false
-- for an unsigned call (signature NULL) while dwu_crm.webhook_require_signature is off; anything
-- else raises: 28000 (no signature when one is required, no timestamp, malformed or wrong
-- signature, timestamp outside the window), 22004 (signature without raw_body), 55000 (no secret
-- file set), F0000 (an unusable secret file). Granted to nobody: webhook_receive calls it.
CREATE FUNCTION @extschema@.webhook_verify_signature(raw_body text, signature text, signed_at bigint)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'dwu_crm_webhook_verify_signature'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.webhook_verify_signature(text, text, bigint) IS
    'Internal (webhook_receive): checks the HMAC-SHA256 signature of ''<signed_at>.<raw_body>'' under the secrets of dwu_crm.webhook_secret_file and the timestamp window; true when signed, false when unsigned and allowed, else an error (28000).';

-- Stores one inbound event; the worker applies it. event_type: lead.upsert (create the lead of
-- payload.email, or update the fields the payload carries) or lead.optout (the address opted out).
-- The event id (argument, else payload.id / payload.event_id, else a hash of the payload) makes a
-- replay a no-op: the id of the stored event is returned and nothing else happens.
-- The body comes as payload (jsonb) or, for a signed webhook, as raw_body: the request body exactly
-- as received (text), which the signature covers and which is then parsed as the payload. The
-- signature is checked (webhook_verify_signature) before the body is parsed; a refused call stores
-- nothing.
CREATE FUNCTION @extschema@.webhook_receive(payload jsonb DEFAULT NULL, event_type text DEFAULT 'lead.upsert',
                                            source text DEFAULT 'app', event_id text DEFAULT NULL,
                                            account text DEFAULT NULL, raw_body text DEFAULT NULL,
                                            signature text DEFAULT NULL, signed_at bigint DEFAULT NULL)
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
    IF raw_body IS NOT NULL THEN
        IF payload IS NOT NULL THEN
            RAISE EXCEPTION 'webhook_receive takes the body as payload or as raw_body, not both'
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'A signed webhook passes raw_body (the request body exactly as received) alone.';
        END IF;
        IF octet_length(raw_body) > 65536 THEN
            RAISE EXCEPTION 'webhook body is too large (% bytes, at most 65536)', octet_length(raw_body)
                USING ERRCODE = 'program_limit_exceeded';
        END IF;
    END IF;
    PERFORM @extschema@.webhook_verify_signature(raw_body, signature, signed_at);
    IF raw_body IS NOT NULL THEN
        BEGIN
            payload := raw_body::jsonb;
        EXCEPTION WHEN invalid_text_representation OR untranslatable_character THEN
            RAISE EXCEPTION 'webhook raw_body is not JSON: %', SQLERRM
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Send a flat object such as {"email": "ana@example.com", "name": "Ana"}.';
        END;
    END IF;
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
COMMENT ON FUNCTION @extschema@.webhook_receive(jsonb, text, text, text, text, text, text, bigint) IS
    'Stores an inbound event (lead.upsert, lead.optout) for the worker, from payload or from a signed raw_body (signature, signed_at: see webhook_verify_signature); a replayed event id returns the stored event and has no effect.';
REVOKE ALL ON FUNCTION @extschema@.webhook_verify_signature(text, text, bigint),
    @extschema@.webhook_receive(jsonb, text, text, text, text, text, text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.webhook_receive(jsonb, text, text, text, text, text, text, bigint)
    TO dwu_crm_app;

-- 0.2.0: move_captured_changes() locks crm_capture_mover_lock instead of an advisory lock any
-- role could take.
-- The lock of move_captured_changes() (one mover at a time). It holds no rows and is granted to
-- no role: only the function's owner can lock it, so no application can hold the movers back.
CREATE TABLE @extschema@.crm_capture_mover_lock ();
COMMENT ON TABLE @extschema@.crm_capture_mover_lock IS
    'Internal (move_captured_changes): locked by the one transaction moving captured changes; no rows, no grants.';

-- DELETE, the changed fields for UPDATE (none changed: no row). One mover at a time: a lock on
-- crm_capture_mover_lock to the end of the transaction, so the caller's transaction should be
-- short; wait => false returns NULL at once if another transaction holds it. Returns how many
-- captured rows moved.
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
    -- A table lock, not an advisory one: any role can take any advisory lock, and would stop
    -- every capture from moving; nobody but this function's owner may lock this table.
    IF coalesce(wait, true) THEN
        LOCK TABLE @extschema@.crm_capture_mover_lock IN SHARE ROW EXCLUSIVE MODE;
    ELSE
        BEGIN
            LOCK TABLE @extschema@.crm_capture_mover_lock IN SHARE ROW EXCLUSIVE MODE NOWAIT;
        EXCEPTION WHEN lock_not_available THEN
            RETURN NULL;
        END;
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

-- 0.2.0: pull_apply_contact() looks for a local change (queued, in flight or captured) in one
-- statement, so a mover committing in between cannot hide it.
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
            -- A captured change not moved into the queue yet is as good as queued. One statement,
            -- one snapshot: a mover committing between two would hide the change from both.
            SELECT coalesce(bool_or(q.dwu_status = 'queued'), false)
                   OR EXISTS (SELECT 1 FROM @extschema@.crm_captured_changes c
                               WHERE c.dwu_entity_type = 'lead' AND c.dwu_entity_id = lead AND c.dwu_sync),
                   coalesce(bool_or(q.dwu_status = 'processing'), false)
              INTO has_queued, has_processing
              FROM @extschema@.crm_sync_queue q
             WHERE q.dwu_lead_id = lead AND q.dwu_status IN ('queued', 'processing');
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

-- Retention deletes the oldest completed jobs first (dwu_crm.finished_jobs_ttl, the worker).
CREATE INDEX crm_sync_queue_completed_idx ON @extschema@.crm_sync_queue (dwu_completed_at)
    WHERE dwu_status = 'completed';

-- The CRM's own data is the user's: leads, contacts, opportunities and the audit log leave the
-- extension (their rows untouched), so DROP EXTENSION never deletes them and pg_dump dumps them
-- as user tables. See the end of dwu_crm--0.2.0.sql.
DO $ownership$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['crm_leads', 'crm_opportunities', 'crm_contacts', 'crm_audit_log'] LOOP
        EXECUTE pg_catalog.format('ALTER EXTENSION dwu_crm DROP TABLE @extschema@.%I', t);
        EXECUTE pg_catalog.format('ALTER EXTENSION dwu_crm DROP SEQUENCE %s',
                                  pg_catalog.pg_get_serial_sequence(pg_catalog.format('@extschema@.%I', t), 'dwu_id'));
    END LOOP;
END
$ownership$;

-- The extension's own tables keep their sequences through a dump and restore too. One call per
-- statement: each rewrites the extension's catalog row.
DO $sequences$
DECLARE
    seq text;
BEGIN
    FOR seq IN SELECT pg_catalog.pg_get_serial_sequence(a.attrelid::regclass::text, a.attname)
                 FROM pg_catalog.pg_extension e
                 CROSS JOIN LATERAL pg_catalog.unnest(e.extconfig) AS c(oid)
                 JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attidentity <> '' AND NOT a.attisdropped
                WHERE e.extname = 'dwu_crm'
    LOOP
        PERFORM pg_catalog.pg_extension_config_dump(seq, '');
    END LOOP;
END
$sequences$;

-- A restored copy calls Dinamize only when an admin says so: an account that arrives through a
-- restore (pg_restore, or pg_dump's SQL run by psql: both set row_security off, as applications
-- seldom do) arrives paused. pg_upgrade copies the data files: nothing is paused there.
CREATE FUNCTION @extschema@.crm_dinamize_accounts_restore_paused() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.dwu_enabled AND (current_setting('row_security') = 'off' OR current_setting('application_name') = 'pg_restore') THEN
        NEW.dwu_enabled := false;
        RAISE WARNING 'dwu_crm: Dinamize account % restored paused', NEW.dwu_name
            USING DETAIL = 'A restored copy sends nothing to Dinamize until an admin resumes its accounts.',
                  HINT = format('To let this copy sync, run SELECT dwu_crm.dinamize_set_account_enabled(%L, true).',
                                NEW.dwu_name);
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER crm_dinamize_accounts_restore_paused
    BEFORE INSERT ON @extschema@.crm_dinamize_accounts
    FOR EACH ROW EXECUTE FUNCTION @extschema@.crm_dinamize_accounts_restore_paused();
COMMENT ON FUNCTION @extschema@.crm_dinamize_accounts_restore_paused() IS
    'Trigger function of crm_dinamize_accounts_restore_paused: an account restored from a dump arrives paused.';
REVOKE ALL ON FUNCTION @extschema@.crm_dinamize_accounts_restore_paused() FROM PUBLIC;

-- Reads what is live, not the whole history: queued, processing and failed jobs through their
-- partial indexes, completed ones of the last hour through crm_sync_queue_completed_idx (the cost
-- does not grow with the jobs finished before).
CREATE OR REPLACE VIEW @extschema@.sync_queue_depth AS
SELECT q.dwu_status AS status,
       a.dwu_name AS account,
       count(*) AS jobs,
       now() - min(q.created_at) AS oldest_age,
       count(*) FILTER (WHERE q.dwu_status = 'queued' AND q.dwu_next_attempt_at > now()) AS waiting_for_retry
  FROM @extschema@.crm_sync_queue q
  LEFT JOIN @extschema@.crm_dinamize_accounts a ON a.dwu_id = q.dwu_account_id
 WHERE q.dwu_status = 'queued' OR q.dwu_status = 'processing' OR q.dwu_status = 'failed'
    OR (q.dwu_status = 'completed' AND q.dwu_completed_at > now() - interval '1 hour')
 GROUP BY q.dwu_status, a.dwu_name
UNION ALL
SELECT 'captured', NULL, count(*), now() - min(c.created_at), 0
  FROM @extschema@.crm_captured_changes c
 WHERE c.dwu_sync
HAVING count(*) > 0;
COMMENT ON VIEW @extschema@.sync_queue_depth IS
    'Queue depth by status and account (completed: in the last hour; captured: not moved into the queue yet), age of the oldest job in each, and queued jobs waiting for a retry.';


-- ---------------------------------------------------------------------------------------------
-- Erasure (LGPD Art. 18): one call removes a person — leads and contacts with the address, their
-- values in the audit log, job payloads, sync logs, the pull's snapshot, conflicts and webhook
-- events — and deletes the contact in Dinamize through the queue. The rows that record that
-- something happened stay; the personal values go.
-- ---------------------------------------------------------------------------------------------

-- The values of an audit row's before/after objects, each replaced by "[erased]" (ids kept).
CREATE FUNCTION @extschema@.erased_changes(changes jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN jsonb_typeof(changes) <> 'object' THEN to_jsonb('[erased]'::text)
           ELSE coalesce((SELECT jsonb_object_agg(side, CASE WHEN jsonb_typeof(v) <> 'object' THEN to_jsonb('[erased]'::text)
                           ELSE coalesce((SELECT jsonb_object_agg(k, CASE WHEN k IN ('dwu_id', 'dwu_account_id') THEN x
                                                                        ELSE to_jsonb('[erased]'::text) END)
                                            FROM jsonb_each(v) AS f(k, x)), '{}') END)
                            FROM jsonb_each(changes) AS s(side, v)), '{}') END
$$;
COMMENT ON FUNCTION @extschema@.erased_changes(jsonb) IS
    'Internal (erase_person): an audit row''s changes with every value but ids replaced by "[erased]".';

CREATE FUNCTION @extschema@.erase_person(email text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    address text := lower(btrim(email));
    lead_ids bigint[];
    contact_ids bigint[];
    audit_before text := current_setting('dwu_crm.audit_row_changes');
    capture_before text := current_setting('dwu_crm.capture_changes');
    result jsonb;
    n_leads bigint; n_contacts bigint; n_deletes bigint; n_jobs bigint; n_logs bigint; n_audit bigint;
    n_snapshot bigint; n_conflicts bigint; n_events bigint;
BEGIN
    IF address IS NULL OR address = '' THEN
        RAISE EXCEPTION 'erase_person needs the person''s e-mail address'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- Writes of the person not yet moved become jobs and audit rows first, scrubbed below.
    PERFORM @extschema@.move_captured_changes();
    SELECT coalesce(array_agg(l.dwu_id ORDER BY l.dwu_id), '{}') INTO lead_ids
      FROM @extschema@.crm_leads l WHERE lower(l.dwu_email) = address;
    SELECT coalesce(array_agg(c.dwu_id ORDER BY c.dwu_id), '{}') INTO contact_ids
      FROM @extschema@.crm_contacts c WHERE lower(c.dwu_email) = address;

    -- The deletes go through the capture (a delete job per lead, for Dinamize), without audit
    -- rows that would hold the values: this call's own audit row says what went.
    PERFORM set_config('dwu_crm.capture_changes', 'on', true);
    PERFORM set_config('dwu_crm.audit_row_changes', 'off', true);
    DELETE FROM @extschema@.crm_leads WHERE dwu_id = ANY (lead_ids);
    GET DIAGNOSTICS n_leads = ROW_COUNT;
    DELETE FROM @extschema@.crm_contacts WHERE dwu_id = ANY (contact_ids);
    GET DIAGNOSTICS n_contacts = ROW_COUNT;
    PERFORM @extschema@.move_captured_changes();
    PERFORM set_config('dwu_crm.audit_row_changes', audit_before, true);
    PERFORM set_config('dwu_crm.capture_changes', capture_before, true);

    -- The delete jobs keep the address only while they may need it to find the contact (no code
    -- known yet); crm_sync_queue_erasure_done removes it when the job completes.
    UPDATE @extschema@.crm_sync_queue
       SET dwu_payload = CASE WHEN dwu_payload ? 'contact_code' THEN dwu_payload - 'email' ELSE dwu_payload END
                         || '{"erasure": true}'
     WHERE dwu_lead_id = ANY (lead_ids) AND dwu_operation = 'delete' AND dwu_status = 'queued';
    GET DIAGNOSTICS n_deletes = ROW_COUNT;
    UPDATE @extschema@.crm_sync_queue
       SET dwu_payload = dwu_payload - 'email',
           dwu_last_error = CASE WHEN strpos(lower(dwu_last_error), address) > 0 THEN '[erased]' ELSE dwu_last_error END
     WHERE dwu_lead_id = ANY (lead_ids) AND NOT (dwu_payload ? 'erasure')
       AND (dwu_payload ? 'email' OR strpos(lower(dwu_last_error), address) > 0);
    GET DIAGNOSTICS n_jobs = ROW_COUNT;
    UPDATE @extschema@.crm_sync_logs SET dwu_error_message = '[erased]'
     WHERE strpos(lower(dwu_error_message), address) > 0;
    GET DIAGNOSTICS n_logs = ROW_COUNT;
    UPDATE @extschema@.crm_audit_log SET dwu_changes = @extschema@.erased_changes(dwu_changes)
     WHERE dwu_changes IS NOT NULL
       AND ((dwu_entity_type = 'lead' AND dwu_entity_id = ANY (lead_ids))
            OR (dwu_entity_type = 'contact' AND dwu_entity_id = ANY (contact_ids))
            OR strpos(lower(dwu_changes::text), address) > 0);
    GET DIAGNOSTICS n_audit = ROW_COUNT;
    UPDATE @extschema@.crm_remote_contacts SET dwu_fields = '{}'
     WHERE dwu_lead_id = ANY (lead_ids) OR lower(dwu_fields ->> 'dwu_email') = address;
    GET DIAGNOSTICS n_snapshot = ROW_COUNT;
    UPDATE @extschema@.crm_sync_conflicts
       SET dwu_local = '{}', dwu_remote = '{}', dwu_base = NULL, dwu_resolved = '{}'
     WHERE dwu_lead_id = ANY (lead_ids);
    GET DIAGNOSTICS n_conflicts = ROW_COUNT;
    -- Events of the address, applied or not: none may bring the person back.
    UPDATE @extschema@.crm_webhook_events
       SET dwu_payload = '{}', dwu_email_key = '[erased]', dwu_processed = true,
           dwu_processed_at = coalesce(dwu_processed_at, now()), dwu_error = coalesce(dwu_error, 'erased (erase_person)')
     WHERE dwu_email_key = address;
    GET DIAGNOSTICS n_events = ROW_COUNT;

    result := jsonb_build_object('leads', n_leads, 'lead_ids', to_jsonb(lead_ids), 'contacts', n_contacts,
                                 'contact_ids', to_jsonb(contact_ids), 'dinamize_deletes_queued', n_deletes,
                                 'jobs', n_jobs, 'sync_logs', n_logs, 'audit_rows', n_audit,
                                 'pull_snapshot', n_snapshot, 'conflicts', n_conflicts, 'webhook_events', n_events);
    INSERT INTO @extschema@.crm_audit_log (dwu_action, dwu_entity_type, dwu_entity_id, dwu_changes)
    VALUES ('DELETE', 'person', NULL, jsonb_build_object('erasure', result));
    RETURN result;
END;
$$;
COMMENT ON FUNCTION @extschema@.erase_person(text) IS
    'Erases a person by e-mail (LGPD Art. 18): leads and contacts, their values in audit rows, job payloads, logs, pull snapshot, conflicts and webhook events; queues the Dinamize delete. Returns what it erased.';

-- A completed delete of an erasure keeps no address.
CREATE FUNCTION @extschema@.crm_sync_queue_erasure_done() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.dwu_payload := NEW.dwu_payload - 'email';
    RETURN NEW;
END;
$$;
CREATE TRIGGER crm_sync_queue_erasure_done
    BEFORE UPDATE ON @extschema@.crm_sync_queue
    FOR EACH ROW WHEN (NEW.dwu_status = 'completed' AND NEW.dwu_payload ? 'erasure' AND NEW.dwu_payload ? 'email')
    EXECUTE FUNCTION @extschema@.crm_sync_queue_erasure_done();
COMMENT ON FUNCTION @extschema@.crm_sync_queue_erasure_done() IS
    'Trigger function of crm_sync_queue_erasure_done: a completed erasure delete drops the e-mail from its payload.';

REVOKE ALL ON FUNCTION @extschema@.erased_changes(jsonb), @extschema@.erase_person(text),
    @extschema@.crm_sync_queue_erasure_done() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.erase_person(text) TO dwu_crm_admin;

-- ---------------------------------------------------------------------------------------------
-- Adopting an existing CRM in place (the design documents' dwu_crm_mvp): its crm_leads moves into
-- this schema with its rows, ids and sequence, gets the columns, checks, indexes and capture of
-- dwu_crm's, and its crm_lead_sync links to Dinamize contacts are carried over, so a linked lead
-- is never created again. Rows that do not fit are reported and nothing changes, unless
-- accept_invalid: then the checks are added NOT VALID (new writes are checked, old rows kept).
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.adopt_crm(source_schema text DEFAULT 'public', accept_invalid boolean DEFAULT false)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    src regclass := to_regclass(format('%I.crm_leads', source_schema));
    src_sync regclass := to_regclass(format('%I.crm_lead_sync', source_schema));
    account bigint := @extschema@.default_account_id();
    -- dwu_crm's columns of crm_leads: the ones the existing table lacks are added.
    wanted constant text[][] := ARRAY[
        ['dwu_account_id', 'bigint'], ['dwu_name', 'varchar(150)'], ['dwu_phone', 'varchar(30)'],
        ['dwu_origin', 'varchar(20) NOT NULL DEFAULT ''Manual'''], ['dwu_tags', 'text[] NOT NULL DEFAULT ''{}'''],
        ['dwu_source_data', 'jsonb'], ['dwu_country', 'char(2)'], ['dwu_city', 'varchar(100)'],
        ['dwu_state', 'varchar(100)'], ['dwu_address', 'text'], ['dwu_company_name', 'varchar(150)'],
        ['dwu_website', 'varchar(200)'], ['dwu_source_url', 'text'], ['dwu_campaign', 'varchar(100)'],
        ['dwu_email_status', 'varchar(20) NOT NULL DEFAULT ''valid'''], ['dwu_email_status_at', 'timestamptz'],
        ['dwu_converted_at', 'timestamptz'], ['dwu_converted_to_opportunity_id', 'bigint'],
        ['created_at', 'timestamptz NOT NULL DEFAULT now()'], ['updated_at', 'timestamptz NOT NULL DEFAULT now()']];
    -- The checks, each by name, on the columns they need.
    checks constant text[][] := ARRAY[
        ['crm_leads_email_shape', 'dwu_email', $c$dwu_email IS NOT NULL AND dwu_email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'$c$],
        ['crm_leads_name_not_blank', 'dwu_name', $c$btrim(dwu_name) <> ''$c$],
        ['crm_leads_phone_shape', 'dwu_phone', $c$dwu_phone ~ '^\+?[0-9 ().-]{6,30}$'$c$],
        ['crm_leads_origin_known', 'dwu_origin', $c$dwu_origin IN ('Dinamize', 'Manual', 'CSV', 'Webhook')$c$],
        ['crm_leads_source_data_object', 'dwu_source_data', $c$jsonb_typeof(dwu_source_data) = 'object'$c$]];
    added text[] := '{}';
    not_valid text[] := '{}';
    problems jsonb := '[]';
    found_problems jsonb;
    dup jsonb;
    i int;
    n_leads bigint;
    n_links bigint := 0;
    n_bad_links bigint := 0;
    seq text;
    result jsonb;
BEGIN
    IF src IS NULL THEN
        RAISE EXCEPTION 'no table crm_leads in schema %', source_schema
            USING ERRCODE = 'undefined_table', HINT = 'Name the schema of the CRM to adopt: adopt_crm(''my_schema'').';
    END IF;
    IF EXISTS (SELECT 1 FROM @extschema@.crm_leads) THEN
        RAISE EXCEPTION 'dwu_crm.crm_leads already holds leads: only a fresh install adopts a CRM'
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = src AND attname = 'dwu_id' AND NOT attisdropped)
       OR NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = src AND attname = 'dwu_email' AND NOT attisdropped) THEN
        RAISE EXCEPTION '%.crm_leads has no dwu_id or no dwu_email column', source_schema
            USING ERRCODE = 'undefined_column';
    END IF;
    IF src_sync IS NOT NULL AND account IS NULL THEN
        RAISE EXCEPTION 'the links of %.crm_lead_sync need a default Dinamize account', source_schema
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Configure it first: dinamize_configure(..., make_default => true).';
    END IF;

    -- Two leads with one address would fight over one contact: that must be fixed first.
    EXECUTE format('SELECT jsonb_agg(d) FROM (SELECT lower(dwu_email) AS email, array_agg(dwu_id ORDER BY dwu_id) AS ids
                      FROM %s WHERE dwu_email IS NOT NULL GROUP BY lower(dwu_email) HAVING count(*) > 1
                     ORDER BY 1 LIMIT 10) d', src) INTO dup;
    IF dup IS NOT NULL THEN
        RAISE EXCEPTION '%.crm_leads has leads sharing an e-mail address; nothing was changed', source_schema
            USING ERRCODE = 'unique_violation', DETAIL = 'First ones: ' || dup::text,
                  HINT = 'Merge or delete the duplicates, then call adopt_crm() again.';
    END IF;
    FOR i IN 1 .. array_length(checks, 1) LOOP
        CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = src AND attname = checks[i][2]
                                                                 AND NOT attisdropped);
        EXECUTE format('SELECT jsonb_agg(jsonb_build_object(''dwu_id'', dwu_id, ''check'', %L, %L, %I))
                          FROM (SELECT * FROM %s WHERE NOT coalesce(%s, false) AND (%I IS NOT NULL OR %L = ''dwu_email'')
                                 ORDER BY dwu_id LIMIT 10) r',
                       checks[i][1], checks[i][2], checks[i][2], src, checks[i][3], checks[i][2], checks[i][2])
            INTO found_problems;
        IF found_problems IS NOT NULL THEN
            problems := problems || found_problems;
            not_valid := not_valid || checks[i][1];
        END IF;
    END LOOP;
    IF jsonb_array_length(problems) > 0 AND NOT accept_invalid THEN
        RAISE EXCEPTION '%.crm_leads has rows that do not fit dwu_crm''s checks; nothing was changed', source_schema
            USING ERRCODE = 'check_violation', DETAIL = 'First ones: ' || problems::text,
                  HINT = 'Fix those rows, or call adopt_crm(accept_invalid => true): the checks then hold for new '
                         'writes only.';
    END IF;

    -- The fresh, empty table makes room for the user's.
    DROP TABLE @extschema@.crm_leads;
    EXECUTE format('ALTER TABLE %s SET SCHEMA @extschema@', src);
    FOR i IN 1 .. array_length(wanted, 1) LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = '@extschema@.crm_leads'::regclass
                                                    AND attname = wanted[i][1] AND NOT attisdropped) THEN
            EXECUTE format('ALTER TABLE @extschema@.crm_leads ADD COLUMN %I %s', wanted[i][1], wanted[i][2]);
            added := added || wanted[i][1];
        END IF;
    END LOOP;
    FOR i IN 1 .. array_length(checks, 1) LOOP
        CONTINUE WHEN EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = '@extschema@.crm_leads'::regclass
                                                            AND conname = checks[i][1]);
        EXECUTE format('ALTER TABLE @extschema@.crm_leads ADD CONSTRAINT %I CHECK (%s)%s', checks[i][1], checks[i][3],
                       CASE WHEN checks[i][1] = ANY (not_valid) THEN ' NOT VALID' ELSE '' END);
    END LOOP;
    ALTER TABLE @extschema@.crm_leads
        ADD CONSTRAINT crm_leads_email_status_known
            CHECK (dwu_email_status IN ('valid', 'opted_out', 'spam_complaint', 'bounced', 'soft_bounced', 'invalid')),
        ADD CONSTRAINT crm_leads_dwu_account_id_fkey FOREIGN KEY (dwu_account_id)
            REFERENCES @extschema@.crm_dinamize_accounts (dwu_id),
        ADD CONSTRAINT crm_leads_dwu_converted_to_opportunity_id_fkey FOREIGN KEY (dwu_converted_to_opportunity_id)
            REFERENCES @extschema@.crm_opportunities (dwu_id) ON DELETE SET NULL;
    CREATE UNIQUE INDEX IF NOT EXISTS crm_leads_email_key ON @extschema@.crm_leads (coalesce(dwu_account_id, 0), lower(dwu_email));
    CREATE INDEX IF NOT EXISTS crm_leads_created_idx ON @extschema@.crm_leads (created_at);
    CREATE TRIGGER crm_leads_capture AFTER INSERT OR UPDATE OR DELETE ON @extschema@.crm_leads
        FOR EACH ROW EXECUTE FUNCTION @extschema@.capture_row_change();
    CREATE TRIGGER crm_leads_touch BEFORE UPDATE ON @extschema@.crm_leads
        FOR EACH ROW EXECUTE FUNCTION @extschema@.crm_leads_touch();
    GRANT SELECT, INSERT, UPDATE, DELETE ON @extschema@.crm_leads TO dwu_crm_app;
    seq := pg_get_serial_sequence('@extschema@.crm_leads', 'dwu_id');
    IF seq IS NOT NULL THEN
        EXECUTE format('GRANT USAGE ON SEQUENCE %s TO dwu_crm_app', seq);
    END IF;
    COMMENT ON TABLE @extschema@.crm_leads IS
        'Leads. Inserting a row queues its creation in Dinamize (crm_sync_queue); the worker syncs it.';
    SELECT count(*) INTO n_leads FROM @extschema@.crm_leads;

    -- The existing links: the lead is in Dinamize already, with that contact code.
    IF src_sync IS NOT NULL THEN
        EXECUTE format($q$
            WITH links AS (
                SELECT (r ->> 'dwu_lead_id')::bigint AS lead, r ->> 'dwu_dinamize_contact_id' AS code,
                       r ->> 'dwu_list_id' AS list, coalesce(r ->> 'dwu_last_sync', r ->> 'last_sync')::timestamptz AS at
                  FROM (SELECT to_jsonb(s) AS r FROM %s s) x
            ), fit AS (
                SELECT DISTINCT ON (k.code, k.list) k.* FROM links k JOIN @extschema@.crm_leads l ON l.dwu_id = k.lead
                 WHERE k.code ~ '^[0-9]{1,32}$' AND k.list ~ '^[0-9]{1,32}$' ORDER BY k.code, k.list, k.lead
            ), ins AS (
                INSERT INTO @extschema@.crm_lead_sync (dwu_lead_id, dwu_account_id, dwu_dinamize_contact_id, dwu_list_id,
                                                       dwu_sync_status, dwu_last_sync, dwu_last_successful_sync)
                SELECT lead, $1, code, list, 'synced', at, at FROM fit
                ON CONFLICT DO NOTHING
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM links) - (SELECT count(*) FROM ins)$q$, src_sync)
            INTO n_links, n_bad_links USING account;
    END IF;

    result := jsonb_build_object('leads', n_leads, 'linked', n_links, 'links_not_carried', n_bad_links,
                                 'columns_added', to_jsonb(added), 'checks_not_validated', to_jsonb(not_valid),
                                 'rows_not_fitting', problems);
    INSERT INTO @extschema@.crm_audit_log (dwu_action, dwu_entity_type, dwu_entity_id, dwu_changes)
    VALUES ('CONFIGURE', 'adoption', NULL, jsonb_build_object('source_schema', source_schema) || (result - 'rows_not_fitting'));
    RETURN result;
END;
$$;
COMMENT ON FUNCTION @extschema@.adopt_crm(text, boolean) IS
    'Adopts an existing CRM''s crm_leads in place (rows, ids, sequence kept; columns, checks, capture added) and its crm_lead_sync links. Returns what it did.';

-- Sends the leads no Dinamize contact is linked to (after an adoption): one create job each, so a
-- backlog goes through the bulk import (dwu_crm.import_threshold). Returns how many were queued.
CREATE FUNCTION @extschema@.sync_unlinked_leads() RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    queued bigint;
BEGIN
    INSERT INTO @extschema@.crm_sync_queue (dwu_lead_id, dwu_account_id, dwu_operation, dwu_payload)
    SELECT l.dwu_id, coalesce(l.dwu_account_id, @extschema@.default_account_id()), 'create',
           jsonb_build_object('email', l.dwu_email)
      FROM @extschema@.crm_leads l
     WHERE NOT EXISTS (SELECT 1 FROM @extschema@.crm_lead_sync s
                        WHERE s.dwu_lead_id = l.dwu_id AND s.dwu_dinamize_contact_id IS NOT NULL)
       AND NOT EXISTS (SELECT 1 FROM @extschema@.crm_sync_queue q
                        WHERE q.dwu_lead_id = l.dwu_id AND q.dwu_status IN ('queued', 'processing'))
     ORDER BY l.dwu_id;
    GET DIAGNOSTICS queued = ROW_COUNT;
    IF queued > 0 THEN PERFORM @extschema@.wake_worker_at_commit(); END IF;
    RETURN queued;
END;
$$;
COMMENT ON FUNCTION @extschema@.sync_unlinked_leads() IS
    'Queues a create for every lead no Dinamize contact is linked to (after adopt_crm); returns how many.';

REVOKE ALL ON FUNCTION @extschema@.adopt_crm(text, boolean), @extschema@.sync_unlinked_leads() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.sync_unlinked_leads() TO dwu_crm_admin;

-- ---------------------------------------------------------------------------------------------
-- Response codes are configuration (issue 17). Five conditions have no published code
-- (../shared/dinamize-api.md §15); the real API answers with numbers of its own. What each code
-- means lives in tables: the defaults (the extension's, rebuilt by CREATE EXTENSION; the same rows
-- as src/core/dinamize/dinamize_codes.cpp) and the codes an admin set or dinamize_probe_codes()
-- learned, for every account or for one (dumped with the data). The worker and the SQL functions
-- read the merge (response_codes_of) and reload it when crm_response_codes changes.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE @extschema@.crm_response_code_defaults (
    dwu_code      varchar(50) PRIMARY KEY,
    dwu_meaning   varchar(20) NOT NULL CHECK (dwu_meaning IN ('credentials', 'rate_limited', 'expired_token',
                                              'invalid_field', 'duplicate_email', 'not_found', 'duplicate_title')),
    dwu_category  varchar(20) NOT NULL CHECK (dwu_category IN ('AUTH', 'VALIDATION', 'RATE_LIMIT', 'API_ERROR')),
    dwu_retry     boolean NOT NULL,
    dwu_relogin   boolean NOT NULL,
    dwu_duplicate boolean NOT NULL,
    dwu_not_found boolean NOT NULL,
    dwu_published boolean NOT NULL  -- false: invented, it gives way to a code set or learned for its meaning
);
COMMENT ON TABLE @extschema@.crm_response_code_defaults IS
    'The built-in meaning of Dinamize response codes; the unpublished ones (dwu_published false) are guesses.';
INSERT INTO @extschema@.crm_response_code_defaults VALUES
    ('240002', 'credentials',     'AUTH',       false, false, false, false, true),
    ('240003', 'credentials',     'AUTH',       false, false, false, false, true),
    ('240004', 'credentials',     'AUTH',       false, false, false, false, true),
    ('240029', 'credentials',     'AUTH',       false, false, false, false, true),
    ('240024', 'rate_limited',    'RATE_LIMIT', true,  false, false, false, true),
    ('249001', 'expired_token',   'AUTH',       true,  true,  false, false, false),
    ('249002', 'invalid_field',   'VALIDATION', false, false, false, false, false),
    ('249003', 'duplicate_email', 'VALIDATION', false, false, true,  false, false),
    ('249004', 'not_found',       'VALIDATION', false, false, false, true,  false),
    ('249006', 'duplicate_title', 'VALIDATION', false, false, false, false, false);

CREATE TABLE @extschema@.crm_response_codes (
    dwu_account_id bigint REFERENCES @extschema@.crm_dinamize_accounts (dwu_id),  -- NULL: every account
    dwu_code       varchar(50) NOT NULL CHECK (dwu_code ~ '^[0-9A-Za-z_.-]{1,50}$' AND dwu_code <> '480001'),
    dwu_meaning    varchar(20) NOT NULL CHECK (dwu_meaning IN ('credentials', 'rate_limited', 'expired_token',
                                               'invalid_field', 'duplicate_email', 'not_found', 'duplicate_title',
                                               'other')),
    dwu_category   varchar(20) NOT NULL CHECK (dwu_category IN ('AUTH', 'VALIDATION', 'RATE_LIMIT', 'API_ERROR')),
    dwu_retry      boolean NOT NULL,
    dwu_relogin    boolean NOT NULL,
    dwu_duplicate  boolean NOT NULL DEFAULT false,
    dwu_not_found  boolean NOT NULL DEFAULT false,
    dwu_source     varchar(10) NOT NULL DEFAULT 'admin' CHECK (dwu_source IN ('admin', 'probe')),
    dwu_learned_at timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT crm_response_codes_key UNIQUE NULLS NOT DISTINCT (dwu_account_id, dwu_code)
);
COMMENT ON TABLE @extschema@.crm_response_codes IS
    'Dinamize response codes set by an admin or learned by dinamize_probe_codes(), for every account (NULL) or one; over crm_response_code_defaults.';

-- Every write moves updated_at forward, so (count, max(updated_at)) changes with every change of
-- the table: what the worker and the SQL functions compare before reloading it.
CREATE FUNCTION @extschema@.crm_response_codes_touch() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.updated_at := clock_timestamp();
    RETURN NEW;
END;
$$;
CREATE TRIGGER crm_response_codes_touch
    BEFORE INSERT OR UPDATE ON @extschema@.crm_response_codes
    FOR EACH ROW EXECUTE FUNCTION @extschema@.crm_response_codes_touch();
COMMENT ON FUNCTION @extschema@.crm_response_codes_touch() IS
    'Trigger function of crm_response_codes_touch: every write moves updated_at, the reload signal.';

-- The codes in force for an account (NULL: for every account): its own rows over the rows for
-- every account over the defaults; an invented default gives way to any code set or learned for
-- the same meaning.
CREATE FUNCTION @extschema@.response_codes_of(account_id bigint,
        OUT code text, OUT meaning text, OUT category text, OUT retry boolean, OUT relogin boolean,
        OUT duplicate boolean, OUT not_found boolean, OUT source text, OUT learned_at timestamptz)
    RETURNS SETOF record
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    WITH own AS (
        SELECT DISTINCT ON (c.dwu_code) c.*
          FROM @extschema@.crm_response_codes c
         WHERE c.dwu_account_id IS NULL OR c.dwu_account_id = $1
         ORDER BY c.dwu_code, c.dwu_account_id NULLS LAST
    )
    SELECT o.dwu_code::text, o.dwu_meaning::text, o.dwu_category::text, o.dwu_retry, o.dwu_relogin,
           o.dwu_duplicate, o.dwu_not_found, o.dwu_source::text, o.dwu_learned_at
      FROM own o
    UNION ALL
    SELECT d.dwu_code::text, d.dwu_meaning::text, d.dwu_category::text, d.dwu_retry, d.dwu_relogin,
           d.dwu_duplicate, d.dwu_not_found, 'default', NULL
      FROM @extschema@.crm_response_code_defaults d
     WHERE NOT EXISTS (SELECT 1 FROM own o WHERE o.dwu_code = d.dwu_code)
       AND (d.dwu_published OR NOT EXISTS (SELECT 1 FROM own o WHERE o.dwu_meaning = d.dwu_meaning))
     ORDER BY 1
$$;
COMMENT ON FUNCTION @extschema@.response_codes_of(bigint) IS
    'The Dinamize response codes in force for an account id (NULL: every account), as the worker reads them.';

CREATE FUNCTION @extschema@.dinamize_response_codes(account text DEFAULT NULL,
        OUT code text, OUT meaning text, OUT category text, OUT retry boolean, OUT relogin boolean,
        OUT duplicate boolean, OUT not_found boolean, OUT source text, OUT learned_at timestamptz)
    RETURNS SETOF record
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    id bigint;
BEGIN
    IF account IS NOT NULL THEN
        SELECT a.dwu_id INTO id FROM @extschema@.crm_dinamize_accounts a WHERE a.dwu_name = account;
        IF id IS NULL THEN
            RAISE EXCEPTION 'no Dinamize account named "%"', left(account, 100)
                USING ERRCODE = 'undefined_object',
                      HINT = 'SELECT dwu_name FROM dwu_crm.crm_dinamize_accounts lists them.';
        END IF;
    END IF;
    RETURN QUERY SELECT * FROM @extschema@.response_codes_of(id);
END;
$$;
COMMENT ON FUNCTION @extschema@.dinamize_response_codes(text) IS
    'The Dinamize response codes in force for an account (NULL: what holds for every account), with their meaning and source.';

-- What dinamize_set_code and dinamize_probe_codes store: `code` with the usual handling of
-- `meaning` (that of its default code; 'other': an API error, not retried), for one account or
-- (NULL) every account, from `source` ('admin', or 'probe' with the date it was learned).
CREATE FUNCTION @extschema@.store_response_code(account_id bigint, code text, meaning text, source text)
    RETURNS SETOF @extschema@.crm_response_codes
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO @extschema@.crm_response_codes AS c
           (dwu_account_id, dwu_code, dwu_meaning, dwu_category, dwu_retry, dwu_relogin, dwu_duplicate,
            dwu_not_found, dwu_source, dwu_learned_at)
    SELECT $1, $2, $3, coalesce(d.dwu_category, 'API_ERROR'), coalesce(d.dwu_retry, false),
           coalesce(d.dwu_relogin, false), coalesce(d.dwu_duplicate, false), coalesce(d.dwu_not_found, false),
           $4, CASE WHEN $4 = 'probe' THEN now() END
      FROM (SELECT) one
      LEFT JOIN LATERAL (SELECT x.* FROM @extschema@.crm_response_code_defaults x WHERE x.dwu_meaning = $3
                          ORDER BY x.dwu_code LIMIT 1) d ON true
    ON CONFLICT ON CONSTRAINT crm_response_codes_key DO UPDATE
       SET dwu_meaning = EXCLUDED.dwu_meaning, dwu_category = EXCLUDED.dwu_category, dwu_retry = EXCLUDED.dwu_retry,
           dwu_relogin = EXCLUDED.dwu_relogin, dwu_duplicate = EXCLUDED.dwu_duplicate,
           dwu_not_found = EXCLUDED.dwu_not_found, dwu_source = EXCLUDED.dwu_source,
           dwu_learned_at = EXCLUDED.dwu_learned_at
    RETURNING c.*
$$;
COMMENT ON FUNCTION @extschema@.store_response_code(bigint, text, text, text) IS
    'Stores what a Dinamize response code means for an account (NULL: every account): dinamize_set_code and dinamize_probe_codes.';

-- Sets what a code means, for one account or (account NULL) for every account, with the
-- meaning's usual handling (that of its default code; 'other': an API error, not retried).
-- Finer handling: UPDATE dwu_crm.crm_response_codes directly.
CREATE FUNCTION @extschema@.dinamize_set_code(meaning text, code text, account text DEFAULT NULL)
    RETURNS SETOF @extschema@.crm_response_codes
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    id bigint;
BEGIN
    IF meaning IS NULL OR code IS NULL THEN
        RAISE EXCEPTION 'meaning and code must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF meaning NOT IN ('credentials', 'rate_limited', 'expired_token', 'invalid_field', 'duplicate_email',
                       'not_found', 'duplicate_title', 'other') THEN
        RAISE EXCEPTION 'unknown meaning "%"', left(meaning, 40)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'One of credentials, rate_limited, expired_token, invalid_field, duplicate_email, '
                         'not_found, duplicate_title, other.';
    END IF;
    IF code !~ '^[0-9A-Za-z_.-]{1,50}$' OR code = '480001' THEN
        RAISE EXCEPTION 'invalid response code "%"', left(code, 60)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A Dinamize code: 1-50 letters, digits, ''_'', ''.'' or ''-'' (480001 is success).';
    END IF;
    IF account IS NOT NULL THEN
        SELECT a.dwu_id INTO id FROM @extschema@.crm_dinamize_accounts a WHERE a.dwu_name = account;
        IF id IS NULL THEN
            RAISE EXCEPTION 'no Dinamize account named "%"', left(account, 100)
                USING ERRCODE = 'undefined_object',
                      HINT = 'SELECT dwu_name FROM dwu_crm.crm_dinamize_accounts lists them.';
        END IF;
    END IF;
    RETURN QUERY SELECT * FROM @extschema@.store_response_code(id, code, meaning, 'admin');
END;
$$;
COMMENT ON FUNCTION @extschema@.dinamize_set_code(text, text, text) IS
    'Sets what a Dinamize response code means (for one account, or NULL: every account); the worker and the SQL functions follow at once.';

REVOKE ALL ON FUNCTION @extschema@.crm_response_codes_touch(), @extschema@.response_codes_of(bigint),
    @extschema@.dinamize_response_codes(text), @extschema@.store_response_code(bigint, text, text, text),
    @extschema@.dinamize_set_code(text, text, text) FROM PUBLIC;
-- Not secret: every role that calls Dinamize from SQL reads how its answers are classified.
GRANT SELECT ON @extschema@.crm_response_codes, @extschema@.crm_response_code_defaults TO dwu_crm_app;
GRANT EXECUTE ON FUNCTION @extschema@.response_codes_of(bigint) TO dwu_crm_app;
GRANT INSERT, UPDATE, DELETE ON @extschema@.crm_response_codes TO dwu_crm_admin;
GRANT EXECUTE ON FUNCTION @extschema@.dinamize_response_codes(text), @extschema@.dinamize_set_code(text, text, text),
    @extschema@.store_response_code(bigint, text, text, text) TO dwu_crm_admin;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.crm_response_codes', '');

-- Learning the unpublished codes from the live API (opt-in: an admin calls it). The requests
-- change nothing (core/dinamize/code_probe.h); each counts against the rate limit.
CREATE FUNCTION @extschema@.dinamize_probe_requests(list_code text, account text DEFAULT NULL)
    RETURNS TABLE (meaning text, code text, note text)
    AS 'MODULE_PATHNAME', 'dwu_crm_dinamize_probe_requests'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.dinamize_probe_requests(text, text) IS
    'The requests of dinamize_probe_codes(): what Dinamize answered for each unpublished condition.';

-- Stores what the probe learned for the account (source probe, with the date), unless the code
-- has a published meaning of another kind; returns each finding and whether it was stored.
CREATE FUNCTION @extschema@.dinamize_probe_codes(account text DEFAULT NULL,
        OUT meaning text, OUT code text, OUT stored boolean, OUT note text)
    RETURNS SETOF record
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a record;
    f record;
    published text;
BEGIN
    SELECT x.dwu_id, x.dwu_name, x.dwu_list_code INTO a FROM @extschema@.crm_dinamize_accounts x
     WHERE x.dwu_removed_at IS NULL AND CASE WHEN account IS NULL THEN x.dwu_is_default ELSE x.dwu_name = account END;
    IF a.dwu_id IS NULL THEN
        RAISE EXCEPTION '%', CASE WHEN account IS NULL THEN 'no default Dinamize account'
                                  ELSE format('no Dinamize account named "%s"', left(account, 100)) END
            USING ERRCODE = 'undefined_object',
                  HINT = 'SELECT dwu_name FROM dwu_crm.crm_dinamize_accounts lists them.';
    END IF;
    FOR f IN SELECT * FROM @extschema@.dinamize_probe_requests(a.dwu_list_code, a.dwu_name) LOOP
        meaning := f.meaning;
        code := f.code;
        note := f.note;
        stored := false;
        IF f.code IS NOT NULL THEN
            SELECT x.dwu_meaning INTO published FROM @extschema@.crm_response_code_defaults x
             WHERE x.dwu_code = f.code AND x.dwu_published AND x.dwu_meaning <> f.meaning;
            IF published IS NOT NULL THEN
                note := format('answered %s, published as %s: not stored', f.code, published);
            ELSE
                PERFORM @extschema@.store_response_code(a.dwu_id, f.code, f.meaning, 'probe');
                stored := true;
            END IF;
        END IF;
        RETURN NEXT;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION @extschema@.dinamize_probe_codes(text) IS
    'Learns the response codes Dinamize does not publish with harmless requests, stores them for the account (NULL: the default one) and reports what it could not learn.';
REVOKE ALL ON FUNCTION @extschema@.dinamize_probe_requests(text, text), @extschema@.dinamize_probe_codes(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.dinamize_probe_requests(text, text), @extschema@.dinamize_probe_codes(text)
    TO dwu_crm_admin;

-- The version of the loaded library (dwu_crm.control's default_version when it was built). After a
-- package update and before ALTER EXTENSION dwu_crm UPDATE it differs from pg_extension.extversion.
CREATE FUNCTION @extschema@.library_version() RETURNS text
    AS 'MODULE_PATHNAME', 'dwu_crm_library_version'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.library_version() IS
    'The version of the loaded dwu_crm library; compare with pg_extension.extversion after a package update.';
REVOKE ALL ON FUNCTION @extschema@.library_version() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.library_version() TO dwu_crm_admin, dwu_crm_app;
