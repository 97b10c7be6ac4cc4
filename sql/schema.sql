-- The schema CREATE EXTENSION builds: every table of the original design, in schema dwu_crm.
CREATE EXTENSION dwu_crm;
SELECT extversion, extrelocatable, extnamespace::regnamespace FROM pg_extension WHERE extname = 'dwu_crm';

SELECT c.relname, c.relkind
  FROM pg_class c JOIN pg_depend d ON d.objid = c.oid AND d.deptype = 'e'
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'dwu_crm') AND c.relkind IN ('r', 'v')
 ORDER BY c.relname;

-- Columns of the tables the worker and apps rely on (names of the original design, dwu_ prefix).
SELECT table_name, string_agg(column_name || ':' || data_type, ', ' ORDER BY ordinal_position)
  FROM information_schema.columns
 WHERE table_schema = 'dwu_crm'
   AND table_name IN ('crm_leads', 'crm_lead_sync', 'crm_sync_queue', 'crm_sync_logs', 'crm_auth_tokens', 'crm_settings')
 GROUP BY table_name ORDER BY table_name;

-- The indexes the worker's claim and the uniqueness rules need.
SELECT indexrelid::regclass AS index, indisunique AS unique, pg_get_expr(indpred, indrelid) AS predicate
  FROM pg_index
 WHERE indrelid IN ('dwu_crm.crm_sync_queue'::regclass, 'dwu_crm.crm_leads'::regclass, 'dwu_crm.crm_lead_sync'::regclass)
 ORDER BY indexrelid::regclass::text;

-- Every table is documented.
SELECT count(*) AS undocumented_tables
  FROM pg_class c
 WHERE c.relnamespace = 'dwu_crm'::regnamespace AND c.relkind = 'r' AND obj_description(c.oid, 'pg_class') IS NULL;

-- The CRM's data is the user's: leads, contacts, opportunities and the audit log are not members
-- of the extension, and a plain DROP EXTENSION is refused while their capture depends on it.
SELECT count(*) AS crm_tables_outside_the_extension
  FROM pg_class c
 WHERE c.oid IN ('dwu_crm.crm_leads'::regclass, 'dwu_crm.crm_contacts'::regclass,
                 'dwu_crm.crm_opportunities'::regclass, 'dwu_crm.crm_audit_log'::regclass)
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e');
SET dwu_crm.capture_changes = off;
INSERT INTO dwu_crm.crm_leads (dwu_email) VALUES ('kept@example.com');
RESET dwu_crm.capture_changes;
DO $$
BEGIN
    DROP EXTENSION dwu_crm;
    RAISE EXCEPTION 'DROP EXTENSION was accepted';
EXCEPTION WHEN dependent_objects_still_exist THEN
    DECLARE
        detail text;
        hint text;
    BEGIN
        GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
        RAISE NOTICE 'refused; names the capture trigger: %, the audit defaults: %, the account key: %; hint: %',
            detail LIKE '%trigger crm_leads_capture on table %crm_leads depends on function %capture_row_change()%',
            detail LIKE '%default value for column dwu_user_id of table %crm_audit_log depends on%',
            detail LIKE '%constraint crm_leads_dwu_account_id_fkey on table %crm_leads depends on%', hint;
    END;
END $$;
-- CASCADE removes the extension with the capture, defaults and keys that need it: the rows stay.
\set VERBOSITY terse
DROP EXTENSION dwu_crm CASCADE;
\set VERBOSITY default
SELECT c.relname, (SELECT count(*) FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal) AS triggers
  FROM pg_class c WHERE c.relnamespace = 'dwu_crm'::regnamespace AND c.relkind = 'r' ORDER BY c.relname;
SELECT dwu_email FROM dwu_crm.crm_leads;
INSERT INTO dwu_crm.crm_leads (dwu_email) VALUES ('after@example.com');  -- a plain table now
-- A new install does not take them over unasked.
CREATE EXTENSION dwu_crm;
-- Moved aside, they stay the user's; the extension installs afresh.
CREATE SCHEMA kept_crm;
ALTER TABLE dwu_crm.crm_leads SET SCHEMA kept_crm;
ALTER TABLE dwu_crm.crm_contacts SET SCHEMA kept_crm;
ALTER TABLE dwu_crm.crm_opportunities SET SCHEMA kept_crm;
ALTER TABLE dwu_crm.crm_audit_log SET SCHEMA kept_crm;
CREATE EXTENSION dwu_crm;
SELECT count(*) AS kept_leads FROM kept_crm.crm_leads;
\set VERBOSITY terse
DROP SCHEMA kept_crm CASCADE;
\set VERBOSITY default

-- One version: the library was built as the version of the installed SQL, the control file's default.
SELECT dwu_crm.library_version() = extversion AS library_is_the_sql_version,
       extversion = (SELECT default_version FROM pg_available_extensions WHERE name = 'dwu_crm') AS sql_is_the_default
  FROM pg_extension WHERE extname = 'dwu_crm';
