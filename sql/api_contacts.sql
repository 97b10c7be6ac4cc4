-- The Dinamize API from SQL, contacts: dinamize_search, dinamize_contact_get/create/update/delete,
-- against the simulator scripts/test.sh started (dwu_test.sim_url; list 1 starts empty).
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
    RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' | ' || nullif(detail, ''), '') || coalesce(' | hint: ' || nullif(hint, ''), '');
END;
$$;

-- This session sends more requests in a minute than the SQL functions' share of the cluster's 60
-- (dwu_crm.api_rate_share, 0.5 by default, superuser-only): a superuser gives them all of it.
SHOW dwu_crm.api_rate_share;
SET dwu_crm.api_rate_share = 1;

-- The simulator's account (not the default one: the worker never sends it anything), one with a
-- wrong password, one nobody listens to (port 9), one paused.
SELECT dinamize_configure('sim', current_setting('dwu_test.sim_url'), 'regress@dwu.example', 'Regress-Pa55', '300100', '1') > 0 AS sim;
SELECT dinamize_configure('sim_badpw', current_setting('dwu_test.sim_url'), 'regress@dwu.example', 'wrong-password', '300100', '1') > 0 AS sim_badpw;
SELECT dinamize_configure('unreachable', 'http://127.0.0.1:9', 'regress@dwu.example', 'Regress-Pa55', '300100', '1') > 0 AS unreachable;
SELECT dinamize_configure('paused', current_setting('dwu_test.sim_url'), 'regress@dwu.example', 'Regress-Pa55', '300100', '1') > 0 AS paused;
SELECT dinamize_set_account_enabled('paused', false);

-- Create three contacts; the codes are Dinamize's.
SELECT dinamize_contact_create('1', '{"email": "ana@example.com", "name": "Ana Souza", "external_code": "L1", "custom_fields": {"cmp4": "1"}}', 'sim') AS ana;
SELECT dinamize_contact_create('1', '{"email": "bruno@example.com", "name": "Bruno Lima", "date_rest": "2030-01-31"}', account => 'sim') AS bruno;
SELECT dinamize_contact_create('1', '{"email": "carla@example.com", "name": "Carla Dias", "custom_fields": {"cmp4": 2}}', account => 'sim') AS carla;

-- Readable rows (insert_date is the simulator's clock: only its shape is shown).
SELECT contact_code, email, name, external_code, insert_date ~ '^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$' AS dated,
       date_rest, status, optout, spam, custom_fields
  FROM dinamize_search('1', account => 'sim');
SELECT raw - 'insert_date' AS raw FROM dinamize_search('1', '{"email": "ana@example.com"}', account => 'sim');

-- Filters: an object of equalities, or conditions with operators; ordering.
SELECT contact_code, email FROM dinamize_search('1', '[{"field": "email", "operator": "*v*", "value": "r"}]', order_by => 'email DESC', account => 'sim');
SELECT contact_code, email FROM dinamize_search('1', '[{"field": "name", "operator": "v*", "value": "Bru"}]', account => 'sim');
SELECT contact_code, email FROM dinamize_search('1', '[{"field": "cmp4", "operator": ">=", "value": 2}]', account => 'sim');
SELECT contact_code, email FROM dinamize_search('1', '{"name": "Nobody"}', account => 'sim');
SELECT email FROM dinamize_search('1', order_by => 'name desc', account => 'sim');

-- Paging: one page at a time, or every page (body.next) with all_pages.
SELECT email FROM dinamize_search('1', page => 1, page_size => 2, order_by => 'email', account => 'sim');
SELECT email FROM dinamize_search('1', page => 2, page_size => 2, order_by => 'email', account => 'sim');
SELECT email FROM dinamize_search('1', page => 3, page_size => 2, order_by => 'email', account => 'sim');
SELECT count(*) AS all_pages_of_one FROM dinamize_search('1', page_size => 1, all_pages => true, account => 'sim');

-- Bounded reads: what one call reads over its pages is capped by superuser-only settings,
-- dwu_crm.api_max_rows (default 100000) and dwu_crm.api_max_bytes (64MB). Past a cap, or at it
-- with pages left, the call fails with 54000 and asks for no further page; a single page is
-- bounded by its page_size.
SHOW dwu_crm.api_max_rows;
SHOW dwu_crm.api_max_bytes;
SET dwu_crm.api_max_rows = 2;
SELECT pg_temp.error_of($$SELECT * FROM dinamize_search('1', page_size => 1, all_pages => true, account => 'sim')$$);
SELECT pg_temp.error_of($$SELECT * FROM dinamize_search('1', page_size => 10, all_pages => true, account => 'sim')$$);
SELECT count(*) AS narrower_fits FROM dinamize_search('1', '[{"field": "email", "operator": "*v*", "value": "r"}]', page_size => 1, all_pages => true, account => 'sim');
SELECT count(*) AS one_page FROM dinamize_search('1', page_size => 10, account => 'sim');
RESET dwu_crm.api_max_rows;
SET dwu_crm.api_max_bytes = '200B';
SELECT regexp_replace(pg_temp.error_of($$SELECT * FROM dinamize_search('1', page_size => 1, all_pages => true, account => 'sim')$$),
                      '\(\d+ bytes', '(N bytes') AS bytes_capped;
RESET dwu_crm.api_max_bytes;

-- Get, update, delete.
SELECT contact_code, email, name, external_code, custom_fields FROM dinamize_contact_get('1', '100003', 'sim');
SELECT dinamize_contact_update('1', '100003', '{"name": "Ana Souza Lima", "custom_fields": {"cmp4": ["1", "2"]}}', 'sim');
SELECT (dinamize_contact_get('1', '100003', 'sim')).name, (dinamize_contact_get('1', '100003', 'sim')).custom_fields;
SELECT dinamize_contact_delete('1', '100005', 'sim');
SELECT count(*) AS left_after_delete FROM dinamize_search('1', account => 'sim');

-- Dinamize's errors: a SQLSTATE per kind, the Dinamize code in the detail, a hint.
SELECT pg_temp.error_of(s) FROM (VALUES
    ($$SELECT dinamize_contact_get('1', '100005', 'sim')$$),
    ($$SELECT dinamize_contact_delete('1', '100005', 'sim')$$),
    ($$SELECT dinamize_contact_update('1', '999999', '{"name": "x"}', 'sim')$$),
    ($$SELECT dinamize_contact_create('1', '{"email": "ANA@example.com"}', 'sim')$$),
    ($$SELECT dinamize_contact_update('1', '100004', '{"email": "ana@example.com"}', 'sim')$$),
    ($$SELECT * FROM dinamize_search('1', '{"no_such_field": "x"}', account => 'sim')$$),
    ($$SELECT * FROM dinamize_search('1', account => 'sim_badpw')$$),
    ($$SELECT * FROM dinamize_search('1', account => 'unreachable')$$)
) AS t(s);

-- Bad input: a clear error before any request. The unreachable account proves it: a request
-- would have failed with 08006 instead.
SELECT pg_temp.error_of(s) FROM (VALUES
    ($$SELECT * FROM dinamize_search(NULL, account => 'unreachable')$$),
    ($$SELECT * FROM dinamize_search('seven', account => 'unreachable')$$),
    ($$SELECT * FROM dinamize_search('1', page_size => 0, account => 'unreachable')$$),
    ($$SELECT * FROM dinamize_search('1', page_size => 10001, account => 'unreachable')$$),
    ($$SELECT * FROM dinamize_search('1', page => 0, account => 'unreachable')$$),
    ($$SELECT * FROM dinamize_search('1', page => NULL, account => 'unreachable')$$),
    ($$SELECT * FROM dinamize_search('1', '[{"field": "email", "operator": "LIKE", "value": "a%"}]', account => 'unreachable')$$),
    ($$SELECT * FROM dinamize_search('1', '[{"field": "e mail", "value": "a"}]', account => 'unreachable')$$),
    ($$SELECT * FROM dinamize_search('1', '[{"field": "email", "value": {"x": 1}}]', account => 'unreachable')$$),
    ($$SELECT * FROM dinamize_search('1', '[{"field": "email", "value": "a", "op": "="}]', account => 'unreachable')$$),
    ($$SELECT * FROM dinamize_search('1', '"email"', account => 'unreachable')$$),
    ($$SELECT * FROM dinamize_search('1', order_by => 'name sideways', account => 'unreachable')$$),
    ($$SELECT * FROM dinamize_search('1', status_contact => 'SLEEPING', account => 'unreachable')$$),
    ($$SELECT dinamize_contact_create('1', '{"email": "not-an-email"}', 'unreachable')$$),
    ($$SELECT dinamize_contact_create('1', '{"name": "No e-mail"}', 'unreachable')$$),
    ($$SELECT dinamize_contact_create('1', '{"email": "a@b.com", "phone": "1"}', 'unreachable')$$),
    ($$SELECT dinamize_contact_create('1', '{"email": "a@b.com", "custom_fields": {"phone": "1"}}', 'unreachable')$$),
    ($$SELECT dinamize_contact_create('1', '{"email": "a@b.com", "date_rest": "tomorrow"}', 'unreachable')$$),
    ($$SELECT dinamize_contact_create('1', '[]', 'unreachable')$$),
    ($$SELECT dinamize_contact_create('1', NULL, 'unreachable')$$),
    ($$SELECT dinamize_contact_update('1', '100003', '{"email": "bad@"}', 'unreachable')$$),
    ($$SELECT dinamize_contact_update('1', '100003', '{}', 'unreachable')$$),
    ($$SELECT dinamize_contact_get('1', NULL, 'unreachable')$$),
    ($$SELECT dinamize_contact_delete('1', '12a', 'unreachable')$$)
) AS t(s);

-- Accounts: unknown, paused; NULL is the default account.
SELECT pg_temp.error_of(s) FROM (VALUES
    ($$SELECT * FROM dinamize_search('1', account => 'nobody')$$),
    ($$SELECT * FROM dinamize_search('1', account => 'paused')$$)
) AS t(s);
BEGIN;
SELECT dinamize_configure('sim', current_setting('dwu_test.sim_url'), 'regress@dwu.example', NULL, '300100', '1', true) > 0 AS sim_is_default;
SELECT email FROM dinamize_search('1', order_by => 'email');
ROLLBACK;
BEGIN;
UPDATE crm_dinamize_accounts SET dwu_is_default = false;
SELECT pg_temp.error_of($$SELECT * FROM dinamize_search('1')$$);
ROLLBACK;

-- Privileges: the app role reads; writing to Dinamize directly is for the admin.
SET ROLE dwu_crm_app;
SELECT email FROM dinamize_search('1', '{"email": "bruno@example.com"}', account => 'sim');
-- The app role cannot raise what a call may read, the SQL functions' share of the rate limit, or
-- how long they wait for a slot: superuser-only (42501).
SELECT pg_temp.error_of(s) FROM (VALUES
    ($$SET dwu_crm.api_max_rows = 1000000$$),
    ($$SET dwu_crm.api_max_bytes = '1GB'$$),
    ($$SET dwu_crm.api_rate_share = 1$$),
    ($$SET dwu_crm.rate_limit_max_wait = '1h'$$),
    ($$SELECT set_config('dwu_crm.api_max_rows', '1000000', true)$$)
) AS t(s);
SELECT dinamize_contact_create('1', '{"email": "app@example.com"}', 'sim');
SELECT dinamize_contact_delete('1', '100003', 'sim');
RESET ROLE;
SET ROLE dwu_crm_admin;
SELECT dinamize_contact_create('1', '{"email": "admin@example.com"}', 'sim') AS admin_created;
SELECT dinamize_contact_delete('1', '100006', 'sim');
RESET ROLE;

-- Nothing secret in what the functions left behind: no token or password stored by them.
SELECT count(*) AS tokens_written FROM crm_auth_tokens t JOIN crm_dinamize_accounts a ON a.dwu_id = t.dwu_account_id
 WHERE a.dwu_name IN ('sim', 'sim_badpw', 'unreachable', 'paused');
