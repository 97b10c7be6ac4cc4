-- Response codes as configuration: the defaults, codes set for every account or one, the merge
-- the worker reads, and what dinamize_set_code refuses.
SET search_path = dwu_crm, public;
\set VERBOSITY default
CREATE FUNCTION pg_temp.error_of(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END;
$$;
SELECT dinamize_configure('codes_a', 'http://127.0.0.1:9', 'a@codes.example', 'Codes-Pa55-a', '300301', '1') > 0 AS a;
SELECT dinamize_configure('codes_b', 'http://127.0.0.1:9', 'b@codes.example', 'Codes-Pa55-b', '300302', '1') > 0 AS b;

-- The defaults: four guessed meanings, the published ones.
SELECT code, meaning, category, retry, relogin, duplicate, not_found, source FROM dinamize_response_codes();

-- A not_found code for every account: the guessed 249004 gives way to it; the published stay.
SELECT dwu_account_id, dwu_code, dwu_meaning, dwu_category, dwu_retry, dwu_relogin, dwu_not_found, dwu_source
  FROM dinamize_set_code('not_found', '310404');
SELECT code, meaning, source FROM dinamize_response_codes() WHERE meaning IN ('not_found', 'rate_limited');
-- One account's own meaning for a code wins over the row for every account, for that account only.
SELECT dwu_code, dwu_meaning, dwu_category FROM dinamize_set_code('other', '310404', 'codes_b');
SELECT code, meaning, category, source FROM dinamize_response_codes('codes_b') WHERE code IN ('310404', '249004');
SELECT code, meaning, source FROM dinamize_response_codes('codes_a') WHERE code IN ('310404', '249004');
-- Set again: updated in place, not a second row.
SELECT dwu_meaning FROM dinamize_set_code('duplicate_email', '310404', 'codes_b');
SELECT count(*) FROM crm_response_codes;

-- Refused, nothing changed.
SELECT pg_temp.error_of($$SELECT dinamize_set_code('teapot', '1')$$);
SELECT pg_temp.error_of($$SELECT dinamize_set_code('not_found', '31 04')$$);
SELECT pg_temp.error_of($$SELECT dinamize_set_code('not_found', '480001')$$);
SELECT pg_temp.error_of($$SELECT dinamize_set_code('not_found', repeat('9', 51))$$);
SELECT pg_temp.error_of($$SELECT dinamize_set_code(NULL, '1')$$);
SELECT pg_temp.error_of($$SELECT dinamize_set_code('not_found', '1', 'nobody')$$);
SELECT pg_temp.error_of($$SELECT * FROM dinamize_response_codes('nobody')$$);
SELECT pg_temp.error_of($$INSERT INTO crm_response_codes (dwu_code, dwu_meaning, dwu_category, dwu_retry, dwu_relogin)
                           VALUES ('1', 'unknown', 'AUTH', false, false)$$);
SELECT count(*) FROM crm_response_codes;

-- The app reads them, only the admin changes them.
SET ROLE dwu_crm_app;
SELECT count(*) > 0 AS app_reads FROM response_codes_of(NULL);
SELECT pg_temp.error_of($$SELECT dinamize_set_code('not_found', '1')$$);
SELECT pg_temp.error_of($$DELETE FROM crm_response_codes$$);
RESET ROLE;
SET ROLE dwu_crm_admin;
SELECT dwu_code, dwu_meaning FROM dinamize_set_code('invalid_field', '310400', 'codes_a');
WITH d AS (DELETE FROM crm_response_codes WHERE dwu_account_id IS NOT NULL RETURNING 1)
SELECT count(*) AS admin_deletes FROM d;
RESET ROLE;
DELETE FROM crm_response_codes;
SELECT code, source FROM dinamize_response_codes() WHERE meaning = 'not_found';
