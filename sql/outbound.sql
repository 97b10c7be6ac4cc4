-- Where requests and passwords may go: dwu_crm.allowed_hosts (superuser-only) is checked on the
-- base URL when an account is configured and used, and on the address a name resolves to; a stored
-- password is bound to the base URL, user and client code it was given with.
SET search_path = dwu_crm, public;
\set VERBOSITY default
CREATE FUNCTION pg_temp.error_of(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    detail text;
    hint text;
BEGIN
    EXECUTE statement;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RETURN SQLSTATE || ': ' || regexp_replace(regexp_replace(SQLERRM, '127\.0\.0\.1:[0-9]+|localhost:[0-9]+', 'SIM', 'g'),
                                              'connect to \S+:', 'connect to ADDRESS:')
        || coalesce(' | ' || nullif(detail, ''), '') || coalesce(' | hint: ' || nullif(hint, ''), '');
END;
$$;
SHOW dwu_crm.allowed_hosts;

-- Base URLs the list does not allow are refused before anything is stored.
SELECT pg_temp.error_of(s) FROM (VALUES
    ($$SELECT dinamize_configure('intranet', 'https://intranet.corp.example', 'u@x.example', 'pw', '1', '1')$$),
    ($$SELECT dinamize_configure('plain', 'http://api.dinamize.com', 'u@x.example', 'pw', '1', '1')$$),
    ($$SELECT dinamize_configure('metadata', 'http://169.254.169.254', 'u@x.example', 'pw', '1', '1')$$)
) AS t(s);
SELECT count(*) AS none_stored FROM crm_dinamize_accounts WHERE dwu_name IN ('intranet', 'plain', 'metadata');

-- The setting is checked, and only a superuser sets it.
SET dwu_crm.allowed_hosts = 'api dinamize';
SET ROLE dwu_crm_admin;
SET dwu_crm.allowed_hosts = 'intranet.corp.example';
RESET ROLE;

-- The stored password is only ever sent where it was given: changing the base URL, user or
-- client code needs it again; the list code does not.
SELECT dinamize_configure('bound', current_setting('dwu_test.sim_url'), 'regress@dwu.example', 'Regress-Pa55', '300100', '1') > 0 AS bound;
SELECT count(*) > 0 AS bound_lists FROM dinamize_lists('bound');
SELECT pg_temp.error_of(s) FROM (VALUES
    ($$SELECT dinamize_configure('bound', 'http://127.0.0.1:9', 'regress@dwu.example', NULL, '300100', '1')$$),
    ($$SELECT dinamize_configure('bound', current_setting('dwu_test.sim_url'), 'other@dwu.example', NULL, '300100', '1')$$),
    ($$SELECT dinamize_configure('bound', current_setting('dwu_test.sim_url'), 'regress@dwu.example', NULL, '300101', '1')$$)
) AS t(s);
SELECT dinamize_configure('bound', current_setting('dwu_test.sim_url'), 'regress@dwu.example', NULL, '300100', '2') > 0 AS list_code_changed;
SELECT count(*) > 0 AS bound_lists_again FROM dinamize_lists('bound');

-- A base URL changed behind dinamize_configure's back: the password does not open for it.
UPDATE crm_dinamize_accounts SET dwu_base_url = 'http://127.0.0.1:9', dwu_config_version = dwu_config_version + 1
 WHERE dwu_name = 'bound';
SELECT pg_temp.error_of($$SELECT * FROM dinamize_lists('bound')$$);
UPDATE crm_dinamize_accounts SET dwu_base_url = current_setting('dwu_test.sim_url'),
       dwu_config_version = dwu_config_version + 1
 WHERE dwu_name = 'bound';
SELECT count(*) > 0 AS bound_lists_back_home FROM dinamize_lists('bound');

-- A narrower list refuses an account configured before it (42501), with no request sent.
SET dwu_crm.allowed_hosts = 'api.dinamize.com';
SELECT pg_temp.error_of($$SELECT * FROM dinamize_lists('bound')$$);

-- A name that resolves to a loopback address is not connected to unless an address entry covers it.
SET dwu_crm.allowed_hosts = 'http://localhost';
SELECT dinamize_configure('by_name', replace(current_setting('dwu_test.sim_url'), '127.0.0.1', 'localhost'),
                          'regress@dwu.example', 'Regress-Pa55', '300100', '1') > 0 AS by_name;
SELECT pg_temp.error_of($$SELECT * FROM dinamize_lists('by_name')$$);
SET dwu_crm.allowed_hosts = 'http://localhost, 127.0.0.1';
SELECT count(*) > 0 AS by_name_lists FROM dinamize_lists('by_name');
RESET dwu_crm.allowed_hosts;
