-- The audit trail: inserts, updates (changed fields only) and deletes of leads, contacts and
-- opportunities; account configuration and manual syncs; the database user and the application's
-- user, IP and user agent from session settings; never a secret.
SET search_path = dwu_crm, public;
\set VERBOSITY default
SET dwu_crm.capture_changes = off;  -- no sync jobs: this test is about the audit rows
SELECT move_captured_changes() \g /dev/null
-- Rows written since the mark (ids and other tests' keys left out of the output).
CREATE TEMP TABLE mark AS SELECT coalesce(max(dwu_id), 0) AS id FROM crm_audit_log;
CREATE TEMP VIEW audit AS
SELECT dwu_action, dwu_entity_type,
       dwu_changes #- '{after,dwu_id}' #- '{before,dwu_id}' #- '{after,dwu_account_id}'
                   #- '{after,dwu_contact_id}' #- '{before,dwu_contact_id}' AS dwu_changes,
       dwu_user_id, dwu_db_user = session_user AS by_me, dwu_ip_address, dwu_user_agent
  FROM dwu_crm.crm_audit_log, mark WHERE dwu_id > mark.id ORDER BY dwu_id;

-- Without application settings: only the database user.
INSERT INTO crm_leads (dwu_name, dwu_email, dwu_city) VALUES ('Audit One', 'audit1@example.com', 'Recife');
-- Row changes reach the audit log through crm_captured_changes: the worker moves them before each
-- round; the tests move them themselves.
SELECT move_captured_changes() \g /dev/null
SELECT * FROM audit;

-- The application names its user, IP and user agent for the transaction.
BEGIN;
SET LOCAL dwu_crm.app_user_id = '4242';
SET LOCAL dwu_crm.app_ip = '203.0.113.7';
SET LOCAL dwu_crm.app_user_agent = 'crm-web/2.1 (Firefox)';
UPDATE crm_leads SET dwu_city = 'Olinda', dwu_phone = '+55 81 3333-0000' WHERE dwu_email = 'audit1@example.com';
UPDATE crm_leads SET dwu_city = 'Olinda' WHERE dwu_email = 'audit1@example.com';  -- no change, no row
COMMIT;
SELECT move_captured_changes() \g /dev/null
SELECT * FROM audit OFFSET 1;
SHOW dwu_crm.app_user_id;  -- SET LOCAL ended with the transaction

-- Bad settings are refused at SET time.
SET dwu_crm.app_user_id = 'alice';
SET dwu_crm.app_ip = 'not an ip';
SET dwu_crm.app_ip = '10.0.0.300';  -- address characters, not an address

-- A bulk statement: one row per lead; then the deletes.
SET dwu_crm.app_user_id = '7';
INSERT INTO crm_leads (dwu_email) SELECT 'audit.bulk' || i || '@example.com' FROM generate_series(1, 3) i;
UPDATE crm_leads SET dwu_tags = '{vip}' WHERE dwu_email LIKE 'audit.bulk%';
DELETE FROM crm_leads WHERE dwu_email IN ('audit.bulk3@example.com', 'audit1@example.com');
SELECT move_captured_changes() \g /dev/null
SELECT dwu_action, dwu_entity_type, dwu_changes, dwu_user_id FROM audit OFFSET 2;
RESET dwu_crm.app_user_id;

-- Contacts and opportunities.
UPDATE mark SET id = (SELECT max(dwu_id) FROM crm_audit_log);
INSERT INTO crm_contacts (dwu_name, dwu_email) VALUES ('Carla', 'carla@example.com');
INSERT INTO crm_opportunities (dwu_contact_id, dwu_title, dwu_value)
SELECT dwu_id, 'Big deal', 1000 FROM crm_contacts WHERE dwu_email = 'carla@example.com';
UPDATE crm_opportunities SET dwu_stage = 'won', dwu_value = 1200 WHERE dwu_title = 'Big deal';
DELETE FROM crm_opportunities WHERE dwu_title = 'Big deal';
DELETE FROM crm_contacts WHERE dwu_email = 'carla@example.com';
SELECT move_captured_changes() \g /dev/null
SELECT dwu_action, dwu_entity_type, dwu_changes FROM audit;

-- Account configuration (the password is never in it, only whether it changed) and manual syncs.
UPDATE mark SET id = (SELECT max(dwu_id) FROM crm_audit_log);
SET dwu_crm.app_user_agent = 'admin-console';
SELECT dinamize_configure('audited', 'http://127.0.0.1:9', 'audit@dwu.example', 'Audit-Secret-Pa55', '300900', '9') AS audited_id \gset
SELECT dinamize_set_account_enabled('audited', false);
SELECT pull_configure('audited', every => interval '5 minutes', conflict_rule => 'merge');
INSERT INTO crm_leads (dwu_email, dwu_account_id) VALUES ('manual.audit@example.com', :audited_id);
SELECT move_captured_changes() \g /dev/null
SELECT enqueue_sync(dwu_id, 'create') > 0 AS queued FROM crm_leads WHERE dwu_email = 'manual.audit@example.com';
SELECT requeue_failed(category => 'AUTH');
SELECT dinamize_set_account_enabled('audited', true);
SELECT pull_now('audited') IS NOT NULL AS pull_requested;
SELECT dwu_action, dwu_entity_type, dwu_changes - 'by' - 'base_url' - 'job' AS changes, dwu_user_agent FROM audit;
SELECT count(*) AS rows_with_secret FROM crm_audit_log
 WHERE dwu_changes::text ~* 'Audit-Secret-Pa55|password"\s*:\s*"' OR dwu_user_agent ~ 'Audit-Secret';
SELECT dinamize_remove_account('audited');
RESET dwu_crm.app_user_agent;
RESET dwu_crm.capture_changes;

-- IPv6 addresses are recorded too.
SET dwu_crm.app_ip = '2001:db8::7';
INSERT INTO crm_leads (dwu_email) VALUES ('audit.v6@example.com');
SELECT move_captured_changes() \g /dev/null
SELECT dwu_action, dwu_ip_address FROM crm_audit_log ORDER BY dwu_id DESC LIMIT 1;
RESET dwu_crm.app_ip;

-- The row-change audit can be turned off (each audited row costs the writer an insert), by a
-- superuser only; the sync capture goes on.
SET ROLE dwu_crm_app;
SET dwu_crm.audit_row_changes = off;
RESET ROLE;
SET dwu_crm.audit_row_changes = off;
SET dwu_crm.capture_changes = on;
INSERT INTO crm_leads (dwu_email) VALUES ('audit.off@example.com');
UPDATE crm_leads SET dwu_name = 'Off' WHERE dwu_email = 'audit.off@example.com';
SELECT move_captured_changes() \g /dev/null
SELECT count(*) AS audit_rows FROM crm_audit_log WHERE dwu_changes::text LIKE '%audit.off@%';
SELECT dwu_operation FROM crm_sync_queue q JOIN crm_leads l ON l.dwu_id = q.dwu_lead_id
 WHERE l.dwu_email = 'audit.off@example.com' ORDER BY q.dwu_id;
DELETE FROM crm_leads WHERE dwu_email IN ('audit.off@example.com', 'audit.v6@example.com');
SELECT move_captured_changes() \g /dev/null
RESET dwu_crm.audit_row_changes;
SET dwu_crm.capture_changes = off;

-- Nobody writes the audit log by hand; the app cannot even read it.
SET ROLE dwu_crm_app;
SELECT count(*) FROM crm_audit_log;
RESET ROLE;
SET ROLE dwu_crm_admin;
INSERT INTO crm_audit_log (dwu_action, dwu_entity_type) VALUES ('UPDATE', 'lead');
RESET ROLE;
