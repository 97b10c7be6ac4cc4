-- webhook_receive(): inbound events are validated (clear errors with SQLSTATEs), stored once per
-- (source, event id), and applied by the worker in order; a replay has no second effect.
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
-- Waits (up to 30 s: CI runners can be slow) until the worker has handled every event.
CREATE FUNCTION pg_temp.wait_processed() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..300 LOOP
        IF NOT EXISTS (SELECT 1 FROM dwu_crm.crm_webhook_events WHERE NOT dwu_processed) THEN RETURN true; END IF;
        PERFORM pg_sleep(0.1);
    END LOOP;
    RETURN false;
END;
$$;
-- The leads the events create sync to a paused account: they wait in the queue.
SELECT dinamize_configure('hooks', 'http://127.0.0.1:9', 'hooks@dwu.example', 'Hooks-Pa55', '300950', '4') AS hooks_id \gset
SELECT dinamize_set_account_enabled('hooks', false);

-- Malformed payloads are refused before anything is stored.
SELECT statement, pg_temp.error_of(statement) AS error FROM (VALUES
    ($$SELECT webhook_receive(NULL)$$),
    ($$SELECT webhook_receive('[1, 2]')$$),
    ($$SELECT webhook_receive('"ana.hook@example.com"')$$),
    ($$SELECT webhook_receive('{"name": "No Mail"}')$$),
    ($$SELECT webhook_receive('{"email": 42}')$$),
    ($$SELECT webhook_receive('{"email": "not an address"}')$$),
    ($$SELECT webhook_receive('{"email": "ana.hook@example.com", "name": ["A"], "tags": "x"}')$$),
    ($$SELECT webhook_receive('{"email": "ana.hook@example.com"}', 'lead.explode')$$),
    ($$SELECT webhook_receive('{"email": "ana.hook@example.com"}', source => 'bad source!')$$),
    ($$SELECT webhook_receive('{"email": "ana.hook@example.com"}', event_id => '')$$),
    ($$SELECT webhook_receive('{"email": "ana.hook@example.com"}', account => 'nobody')$$),
    ($$SELECT webhook_receive(jsonb_build_object('email', 'big@example.com', 'name', repeat('x', 200000)))$$)
) AS t(statement);
SELECT count(*) AS stored FROM crm_webhook_events;

-- Good events: a new lead, an update of it, an opt-out; one replayed (same id: same row back).
SELECT webhook_receive('{"id": "ev-1", "email": "Ana.Hook@Example.com", "nome": "Ana", "telefone": "+55 51 3333-0001",
                         "tags": ["landing", "promo"], "utm_source": "google"}', account => 'hooks') AS ev1 \gset
SELECT webhook_receive('{"id": "ev-1", "email": "ana.hook@example.com", "nome": "Replayed Ana"}', account => 'hooks') = :ev1
       AS replay_returns_first;
SELECT webhook_receive('{"email": "ana.hook@example.com", "city": "Caxias do Sul"}', 'lead.upsert', 'app', 'ev-2', 'hooks') > :ev1
       AS second_event;
SELECT webhook_receive('{"email": "ana.hook@example.com"}', 'lead.optout', 'app', 'ev-3', 'hooks') > :ev1 AS optout_event;
SELECT webhook_receive('{"email": "ghost@example.com"}', 'lead.optout', 'app', 'ev-4', 'hooks') > :ev1 AS ghost_event;
SELECT pg_temp.wait_processed() AS processed;
SELECT dwu_event_id, dwu_event_type, dwu_source, dwu_processed, dwu_lead_id IS NOT NULL AS has_lead, dwu_error
  FROM crm_webhook_events ORDER BY dwu_id;
SELECT dwu_email, dwu_name, dwu_phone, dwu_city, dwu_tags, dwu_origin, dwu_email_status,
       dwu_source_data ->> 'utm_source' AS utm_source
  FROM crm_leads WHERE lower(dwu_email) = 'ana.hook@example.com';
-- The lead syncs as usual: one create job (the city is not synced here), nothing for the replays.
SELECT move_captured_changes() \g /dev/null
SELECT q.dwu_operation, q.dwu_status FROM crm_sync_queue q JOIN crm_leads l ON l.dwu_id = q.dwu_lead_id
 WHERE lower(l.dwu_email) = 'ana.hook@example.com' ORDER BY q.dwu_id;

-- Replaying every event again (the same ids) changes nothing.
SELECT webhook_receive('{"id": "ev-1", "email": "ana.hook@example.com", "nome": "Third Ana"}', account => 'hooks') = :ev1 AS same;
SELECT webhook_receive('{"email": "ana.hook@example.com", "city": "Elsewhere"}', 'lead.upsert', 'app', 'ev-2', 'hooks') > 0 AS same2;
SELECT pg_temp.wait_processed() AS processed;
SELECT count(*) AS events, (SELECT dwu_name || ' / ' || dwu_city FROM crm_leads WHERE lower(dwu_email) = 'ana.hook@example.com') AS lead
  FROM crm_webhook_events;
-- The same id from another source is another event.
SELECT webhook_receive('{"id": "ev-1", "email": "bob@example.com"}', source => 'form', account => 'hooks') <> :ev1 AS other_source;

-- A lead field Postgres refuses is recorded on the event, which is then done; later events go on.
SELECT webhook_receive('{"email": "carl@example.com", "phone": "call me"}', event_id => 'ev-bad', account => 'hooks') > 0 AS bad_phone;
SELECT webhook_receive('{"email": "carl@example.com", "name": "Carl"}', event_id => 'ev-after', account => 'hooks') > 0 AS after_bad;
SELECT pg_temp.wait_processed() AS processed;
SELECT dwu_event_id, dwu_processed, dwu_error FROM crm_webhook_events WHERE dwu_event_id IN ('ev-bad', 'ev-after') ORDER BY dwu_id;
SELECT dwu_name, dwu_phone FROM crm_leads WHERE dwu_email = 'carl@example.com';

-- The app role may call it, but not write the table directly.
SET ROLE dwu_crm_app;
SELECT webhook_receive('{"email": "app@example.com"}', event_id => 'ev-app', account => 'hooks') > 0 AS app_can_receive;
INSERT INTO crm_webhook_events (dwu_event_type, dwu_event_id, dwu_email_key, dwu_payload)
VALUES ('lead.upsert', 'x', 'x@example.com', '{}');
RESET ROLE;
SELECT pg_temp.wait_processed() AS processed;

-- Signed webhooks: the sender signs '<signed_at>.<raw_body>' (hex HMAC-SHA256) with a secret of
-- dwu_crm.webhook_secret_file, which the regress cluster sets; this test reads the secret back to
-- sign like a sender. The HMAC here is SQL (RFC 2104 over sha256()), independent of the
-- extension's C code, and checked against RFC 4231's test case 2 first.
CREATE FUNCTION pg_temp.hmac_sha256(key bytea, message bytea) RETURNS text LANGUAGE sql AS $$
    WITH k AS (SELECT decode(rpad(encode(CASE WHEN length(key) > 64 THEN sha256(key) ELSE key END, 'hex'), 128, '0'),
                             'hex') AS block),
    pads AS (SELECT string_agg(set_byte('\x00'::bytea, 0, get_byte(k.block, i) # 54), ''::bytea ORDER BY i) AS ipad,
                    string_agg(set_byte('\x00'::bytea, 0, get_byte(k.block, i) # 92), ''::bytea ORDER BY i) AS opad
               FROM k, generate_series(0, 63) AS i)
    SELECT encode(sha256(opad || sha256(ipad || message)), 'hex') FROM pads
$$;
SELECT pg_temp.hmac_sha256('Jefe', 'what do ya want for nothing?')
       = '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843' AS rfc4231_case_2;
CREATE FUNCTION pg_temp.sign(body text, ts bigint) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.hmac_sha256(convert_to(split_part(pg_read_file(current_setting('dwu_crm.webhook_secret_file')),
                                                     E'\n', 1), 'UTF8'),
                               convert_to(ts || '.' || body, 'UTF8'))
$$;
-- A call as an app endpoint makes it, with the request's raw body and signature headers.
CREATE FUNCTION pg_temp.signed_call(body text, sig text, ts bigint) RETURNS text LANGUAGE sql AS $$
    SELECT format('SELECT webhook_receive(raw_body => %L, signature => %L, signed_at => %L, account => %L)',
                  body, sig, ts, 'hooks')
$$;
-- The error of a call, with its seconds masked (the clock may tick between signing and checking).
CREATE FUNCTION pg_temp.signed_error(body text, sig text, ts bigint) RETURNS text LANGUAGE sql AS $$
    SELECT regexp_replace(pg_temp.error_of(pg_temp.signed_call(body, sig, ts)), '[0-9]+ seconds', 'N seconds')
$$;
SELECT name, setting, unit FROM pg_settings WHERE name LIKE 'dwu_crm.webhook\_%' AND name <> 'dwu_crm.webhook_secret_file'
 ORDER BY name;

-- A body as the sender wrote it (its spacing and key order): the signature covers these bytes.
SELECT '{"id": "signed-1",  "email": "Sig.Ned@example.com",
  "nome": "Signed"}' AS body, extract(epoch FROM clock_timestamp())::bigint AS ts \gset
SELECT pg_temp.sign(:'body', :ts) AS sig \gset
SELECT webhook_receive(raw_body => :'body', signature => :'sig', signed_at => :ts, account => 'hooks') AS signed1 \gset
SELECT dwu_event_id, dwu_source, dwu_payload FROM crm_webhook_events WHERE dwu_id = :signed1;
-- Delivered again inside the window (a sender's retry): the same event, no second one.
SELECT webhook_receive(raw_body => :'body', signature => :'sig', signed_at => :ts, account => 'hooks') = :signed1
       AS retry_returns_first;

-- Refused, each with its reason; nothing is stored for any of them.
SELECT count(*) AS events_before FROM crm_webhook_events \gset
SELECT label, pg_temp.signed_error(c.body, c.sig, c.ts) AS error
  FROM (SELECT :'body'::text AS body, :'sig'::text AS sig, :ts::bigint AS ts) AS v,
       LATERAL (VALUES
    ('wrong signature', v.body, repeat('ab', 32), v.ts),
    ('signed with another secret', v.body,
     pg_temp.hmac_sha256('another-secret-0123456789abcdef', convert_to(v.ts || '.' || v.body, 'UTF8')), v.ts),
    ('tampered body', replace(v.body, 'Signed', 'Mallory'), v.sig, v.ts),
    ('the body as jsonb re-serialised it', v.body::jsonb::text, v.sig, v.ts),
    ('timestamp changed', v.body, v.sig, v.ts + 1),
    ('stale timestamp (a replay an hour later)', v.body, pg_temp.sign(v.body, v.ts - 3600), v.ts - 3600),
    ('timestamp an hour ahead', v.body, pg_temp.sign(v.body, v.ts + 3600), v.ts + 3600),
    ('malformed signature', v.body, 'sha256=' || v.sig, v.ts),
    ('empty signature', v.body, '', v.ts),
    ('no timestamp', v.body, v.sig, NULL),
    ('signed body that is not JSON', 'email=x@example.com', pg_temp.sign('email=x@example.com', v.ts), v.ts),
    ('body over 64 kB', repeat(' ', 65537), v.sig, v.ts)
  ) AS c(label, body, sig, ts);
SELECT statement, pg_temp.error_of(statement) AS error FROM (VALUES
    ($$SELECT webhook_receive('{"email": "both@example.com"}', raw_body => '{"email": "both@example.com"}')$$),
    ($$SELECT webhook_receive('{"email": "sig@example.com"}', signature => repeat('ab', 32), signed_at => 1)$$)
) AS t(statement);
SELECT count(*) - :events_before AS stored_by_refused_calls,
       (SELECT count(*) FROM crm_leads WHERE dwu_name = 'Mallory' OR dwu_email IN ('both@example.com', 'sig@example.com'))
       AS leads_of_refused_calls
  FROM crm_webhook_events;
-- The check alone: true for a valid signature, false for an unsigned call that is allowed.
SELECT webhook_verify_signature(:'body', :'sig', :ts) AS signed_valid,
       webhook_verify_signature(NULL, NULL, NULL) AS unsigned_allowed;
-- Unsigned calls are accepted while no signature is required, with the body as jsonb (as before)
-- or as raw text.
SELECT webhook_receive(raw_body => '{"email": "raw.unsigned@example.com"}', account => 'hooks') > 0 AS unsigned_raw_body;
SELECT webhook_receive('{"email": "jsonb.unsigned@example.com"}', account => 'hooks') > 0 AS unsigned_payload;

-- The app role calls webhook_receive signed, but not the check itself, nor sees the secret file.
SELECT '{"id": "signed-app", "email": "app.signed@example.com"}' AS app_body \gset
SELECT pg_temp.sign(:'app_body', :ts) AS app_sig \gset
SET ROLE dwu_crm_app;
SELECT webhook_receive(raw_body => :'app_body', signature => :'app_sig', signed_at => :ts, account => 'hooks') > 0
       AS app_signed;
SELECT webhook_verify_signature('{}', repeat('ab', 32), :ts);
SHOW dwu_crm.webhook_secret_file;
RESET ROLE;

-- dwu_crm.webhook_require_signature = on (SIGHUP): unsigned calls are refused, signed ones go on.
ALTER SYSTEM SET dwu_crm.webhook_require_signature = on;
SELECT pg_reload_conf();
SELECT pg_sleep(0.3);
SHOW dwu_crm.webhook_require_signature;
SELECT statement, pg_temp.error_of(statement) AS error FROM (VALUES
    ($$SELECT webhook_receive('{"email": "unsigned.required@example.com"}', account => 'hooks')$$),
    ($$SELECT webhook_receive(raw_body => '{"email": "unsigned.required@example.com"}', signed_at => 1)$$)
) AS t(statement);
SELECT count(*) AS stored_unsigned FROM crm_webhook_events WHERE dwu_email_key = 'unsigned.required@example.com';
SELECT '{"id": "signed-2", "email": "sig.ned@example.com", "city": "Gramado"}' AS body2 \gset
SELECT pg_temp.sign(:'body2', :ts) AS sig2 \gset
SELECT webhook_receive(raw_body => :'body2', signature => :'sig2', signed_at => :ts, account => 'hooks') > :signed1
       AS signed_when_required;
-- A secret file that cannot be read, then none at all: a signed call cannot be checked (and an
-- unsigned one is still refused while signatures are required).
ALTER SYSTEM SET dwu_crm.webhook_secret_file = '/nonexistent/dwu_crm.webhook_secret';
SELECT pg_reload_conf();
SELECT pg_sleep(0.3);
SHOW dwu_crm.webhook_secret_file;
SELECT pg_temp.signed_error(:'body2', :'sig2', :ts) AS unreadable_secret_file;
ALTER SYSTEM SET dwu_crm.webhook_secret_file = '';
ALTER SYSTEM RESET dwu_crm.webhook_require_signature;
SELECT pg_reload_conf();
SELECT pg_sleep(0.3);
SHOW dwu_crm.webhook_require_signature;
SELECT pg_temp.signed_error(:'body2', :'sig2', :ts) AS no_secret_file;
SELECT webhook_receive('{"email": "unsigned.again@example.com"}', account => 'hooks') > 0 AS unsigned_accepted_again;
ALTER SYSTEM RESET dwu_crm.webhook_secret_file;
SELECT pg_reload_conf();
SELECT pg_sleep(0.3);
SELECT current_setting('dwu_crm.webhook_secret_file') <> '' AS secret_file_back;

-- The signed events are applied like any other.
SELECT pg_temp.wait_processed() AS processed;
SELECT dwu_email, dwu_name, dwu_city FROM crm_leads WHERE lower(dwu_email) IN ('sig.ned@example.com', 'app.signed@example.com')
 ORDER BY 1;
SELECT dinamize_remove_account('hooks');
