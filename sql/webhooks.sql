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
SELECT dinamize_remove_account('hooks');
