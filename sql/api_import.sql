-- The Dinamize API from SQL, bulk import: dinamize_import_leads sends CRM leads in one multipart
-- request; dinamize_import_status reports on it. List 4 of the simulator starts empty.
SET search_path = dwu_crm, public;
\set VERBOSITY default
CREATE FUNCTION pg_temp.error_of(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    detail text;
BEGIN
    EXECUTE statement;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' | ' || nullif(detail, ''), '');
END;
$$;
SELECT dinamize_configure('sim', current_setting('dwu_test.sim_url'), 'regress@dwu.example', 'Regress-Pa55', '300100', '1') > 0 AS sim;

SET dwu_crm.capture_changes = off;  -- these leads go to Dinamize through the import only
INSERT INTO crm_leads (dwu_email, dwu_name) VALUES
    ('imp.one@example.com', 'Import One'), ('imp.two@example.com', 'Import Two'), ('imp.three@example.com', NULL);
RESET dwu_crm.capture_changes;
CREATE TEMP TABLE imported AS
SELECT dinamize_import_leads('4', array_agg(dwu_id ORDER BY dwu_id), 'sim') AS import_code
  FROM crm_leads WHERE dwu_email LIKE 'imp.%';
SELECT import_code ~ '^\d+$' AS has_code FROM imported;
SELECT import_code AS first_import FROM imported \gset
SELECT s.status, s.errors, s.report - 'code' AS report
  FROM imported, dinamize_import_status(import_code, 'sim') s;
-- The contacts are in the list, external_code = the lead id.
SELECT c.email, c.name, c.external_code = l.dwu_id::text AS external_code_is_lead
  FROM dinamize_search('4', order_by => 'email', account => 'sim') c
  JOIN crm_leads l ON lower(l.dwu_email) = c.email;

-- Again with one lead changed: upserted by e-mail, nothing duplicated.
UPDATE crm_leads SET dwu_name = 'Import One (renamed)' WHERE dwu_email = 'imp.one@example.com';
SELECT (dinamize_import_status(dinamize_import_leads('4', ARRAY[l.dwu_id], 'sim'), 'sim')).report - 'code' AS second_report
  FROM crm_leads l WHERE dwu_email = 'imp.one@example.com';
SELECT email, name FROM dinamize_search('4', order_by => 'email', account => 'sim');

-- Errors: unknown import code, unknown or NULL leads, no leads; nothing is sent.
SELECT pg_temp.error_of(s) FROM (VALUES
    ($$SELECT * FROM dinamize_import_status('999', 'sim')$$),
    ($$SELECT * FROM dinamize_import_status('abc', 'sim')$$),
    ($$SELECT dinamize_import_leads('4', ARRAY[-1]::bigint[], 'sim')$$),
    ($$SELECT dinamize_import_leads('4', ARRAY[NULL]::bigint[], 'sim')$$),
    ($$SELECT dinamize_import_leads('4', '{}', 'sim')$$),
    ($$SELECT dinamize_import_leads('4', NULL, 'sim')$$),
    ($$SELECT dinamize_import_leads(NULL, '{1}', 'sim')$$)
) AS t(s);
SELECT count(*) AS still_three FROM dinamize_search('4', account => 'sim');

-- Importing is for the admin; the app may read a report.
SET ROLE dwu_crm_app;
SELECT dinamize_import_leads('4', '{1}', 'sim');
SELECT status, errors FROM dinamize_import_status(:'first_import', 'sim');
RESET ROLE;
