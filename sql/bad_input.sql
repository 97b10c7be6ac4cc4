-- Bad data gets a clear error with a proper SQLSTATE and changes nothing.
SET search_path = dwu_crm, public;
CREATE FUNCTION pg_temp.error_of(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END;
$$;

SELECT move_captured_changes() \g /dev/null
SELECT count(*) AS leads_before FROM crm_leads \gset
SELECT count(*) AS jobs_before FROM crm_sync_queue \gset

SELECT pg_temp.error_of(s) FROM (VALUES
    ($$INSERT INTO crm_leads (dwu_email) VALUES (NULL)$$),
    ($$INSERT INTO crm_leads (dwu_email) VALUES ('no-at-sign.example.com')$$),
    ($$INSERT INTO crm_leads (dwu_email) VALUES ('two@@example.com')$$),
    ($$INSERT INTO crm_leads (dwu_email) VALUES ('space in@example.com')$$),
    ($$INSERT INTO crm_leads (dwu_email) VALUES ('nodot@example')$$),
    ($$INSERT INTO crm_leads (dwu_email) VALUES (repeat('a', 250) || '@example.com')$$),
    ($$INSERT INTO crm_leads (dwu_email, dwu_country) VALUES ('c1@example.com', 'br')$$),
    ($$INSERT INTO crm_leads (dwu_email, dwu_country) VALUES ('c2@example.com', 'BRA')$$),
    ($$INSERT INTO crm_leads (dwu_email, dwu_origin) VALUES ('o@example.com', 'Facebook')$$),
    ($$INSERT INTO crm_leads (dwu_email, dwu_phone) VALUES ('p@example.com', 'call me maybe')$$),
    ($$INSERT INTO crm_leads (dwu_email, dwu_name) VALUES ('n@example.com', repeat('x', 151))$$),
    ($$INSERT INTO crm_leads (dwu_email, dwu_name) VALUES ('n2@example.com', '   ')$$),
    ($$INSERT INTO crm_leads (dwu_email, dwu_website) VALUES ('w@example.com', 'javascript:alert(1)')$$),
    ($$INSERT INTO crm_leads (dwu_email, dwu_source_data) VALUES ('j@example.com', '[1, 2]')$$),
    ($$INSERT INTO crm_leads (dwu_email, dwu_source_data) VALUES ('j2@example.com', '{bad json')$$),
    ($$INSERT INTO crm_leads (dwu_email, dwu_tags) VALUES ('t@example.com', 'not an array')$$),
    ($$INSERT INTO crm_leads (dwu_email, dwu_converted_to_opportunity_id) VALUES ('f@example.com', 999999)$$),
    ($$INSERT INTO crm_leads (dwu_email, dwu_converted_at, dwu_converted_to_opportunity_id) VALUES ('f@example.com', now(), 999999)$$),
    ($$INSERT INTO crm_leads (dwu_email) VALUES ('ANA@EXAMPLE.COM')$$),
    ($$INSERT INTO crm_sync_queue (dwu_lead_id, dwu_operation) VALUES (1, 'upsert')$$),
    ($$INSERT INTO crm_sync_queue (dwu_lead_id, dwu_operation, dwu_status) VALUES (1, 'create', 'done')$$),
    ($$INSERT INTO crm_sync_queue (dwu_lead_id, dwu_operation, dwu_status) VALUES (1, 'create', 'processing')$$),
    ($$INSERT INTO crm_sync_queue (dwu_lead_id, dwu_operation, dwu_payload) VALUES (1, 'create', '"x"')$$),
    ($$INSERT INTO crm_lead_sync (dwu_lead_id, dwu_list_id, dwu_dinamize_contact_id) VALUES (1, '7', 'abc')$$),
    ($$INSERT INTO crm_lead_sync (dwu_lead_id, dwu_list_id, dwu_sync_status) VALUES (1, '7', 'ok')$$),
    ($$INSERT INTO crm_sync_logs (dwu_operation, dwu_status, dwu_error_category) VALUES ('create', 'error', 'OOPS')$$),
    ($$INSERT INTO crm_sync_logs (dwu_operation, dwu_status) VALUES ('create', 'error')$$),
    ($$INSERT INTO crm_settings (dwu_key, dwu_category) VALUES ('Bad Key', 'system')$$),
    ($$INSERT INTO crm_webhook_events (dwu_event_type, dwu_event_id, dwu_email_key, dwu_payload) VALUES ('nodot', '1', 'a@b.co', '{}')$$),
    ($$INSERT INTO crm_audit_log (dwu_action, dwu_entity_type) VALUES ('HACK', 'lead')$$)
) AS t(s);

SELECT count(*) = :leads_before AS leads_unchanged FROM crm_leads;
SELECT count(*) = :jobs_before AS jobs_unchanged FROM crm_sync_queue;

-- Calling the wake function outside a trigger is harmless.
SELECT dwu_crm.wake_worker_at_commit();
