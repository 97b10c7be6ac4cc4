-- The Dinamize API from SQL, what happened to contacts: dinamize_contact_history and
-- dinamize_optouts. scripts/test.sh seeded list 3: historia@example.com (external_code 900) was
-- sent two e-mails, viewed and clicked the first; outro@example.com (901) was sent one and
-- complained of spam (an opt-out with origin D).
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
SELECT dinamize_configure('sim', current_setting('dwu_test.sim_url'), 'regress@dwu.example', 'Regress-Pa55', '300100', '1') > 0 AS sim;

-- The whole history of the list, then one contact's, then by kind and date window.
SELECT kind, kind_name, "time", external_code, generic_info, generic_info2 FROM dinamize_contact_history('3', account => 'sim');
SELECT kind_name, "time", generic_info FROM dinamize_contact_history('3', contact_external_code => '900', account => 'sim');
SELECT kind_name, "time", external_code FROM dinamize_contact_history('3', kinds => '{5,6}', account => 'sim');
SELECT kind_name, "time", external_code FROM dinamize_contact_history('3', '2025-03-02', '2025-03-31', account => 'sim');
SELECT kind_name, "time", external_code FROM dinamize_contact_history('3', '2025-03-01 10:00:00', '2025-03-01 10:15:59', account => 'sim');
SELECT raw FROM dinamize_contact_history('3', kinds => '{9}', account => 'sim');
SELECT count(*) AS history_of_list_1 FROM dinamize_contact_history('1', account => 'sim');

-- Opt-outs.
SELECT email, contact_code, request_date, origin FROM dinamize_optouts('3', account => 'sim');
SELECT count(*) AS optouts_since_april FROM dinamize_optouts('3', '2025-04-01', 'sim');

-- Bounded reads (superuser-only caps of one call, all pages together): past dwu_crm.api_max_rows
-- or api_max_bytes, 54000. contact_external_code narrows after reading, kinds and dates before.
SET dwu_crm.api_max_rows = 3;
SELECT pg_temp.error_of($$SELECT * FROM dinamize_contact_history('3', account => 'sim')$$);
SELECT pg_temp.error_of($$SELECT * FROM dinamize_contact_history('3', contact_external_code => '900', account => 'sim')$$);
SELECT kind_name, "time" FROM dinamize_contact_history('3', kinds => '{5,6}', account => 'sim');
RESET dwu_crm.api_max_rows;
SET dwu_crm.api_max_bytes = '50B';
SELECT regexp_replace(pg_temp.error_of($$SELECT * FROM dinamize_optouts('3', account => 'sim')$$), '\(\d+ bytes', '(N bytes') AS optouts_capped;
RESET dwu_crm.api_max_bytes;

-- Bad input, before any request (the unreachable account would answer 08006).
SELECT dinamize_configure('unreachable', 'http://127.0.0.1:9', 'regress@dwu.example', 'Regress-Pa55', '300100', '1') > 0 AS unreachable;
SELECT pg_temp.error_of(s) FROM (VALUES
    ($$SELECT * FROM dinamize_contact_history(NULL, account => 'unreachable')$$),
    ($$SELECT * FROM dinamize_contact_history('3', kinds => '{4,10}', account => 'unreachable')$$),
    ($$SELECT * FROM dinamize_contact_history('3', kinds => '{4,NULL}', account => 'unreachable')$$),
    ($$SELECT * FROM dinamize_contact_history('3', '2025-02-30 25:00:00', account => 'unreachable')$$),
    ($$SELECT * FROM dinamize_contact_history('3', 'yesterday', account => 'unreachable')$$),
    ($$SELECT * FROM dinamize_contact_history('3', '2025-03-02', '2025-03-01', account => 'unreachable')$$),
    ($$SELECT * FROM dinamize_optouts('3', '2025/04/01', 'unreachable')$$)
) AS t(s);
