-- Dinamize failures as PostgreSQL errors, one per kind (src/pg/dinamize_sqlstate.cpp): the
-- kinds api_contacts does not reach. A simulator allowing one request per minute
-- (dwu_test.limited_sim_url) and one answering malformed JSON (dwu_test.broken_sim_url).
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
    -- the wait in the rate-limit hint depends on the clock: only its shape is shown
    RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' | ' || nullif(detail, ''), '')
           || coalesce(' | hint: ' || regexp_replace(nullif(hint, ''), '\d+ s', 'N s'), '');
END;
$$;
SELECT dinamize_configure('limited', current_setting('dwu_test.limited_sim_url'), 'regress@dwu.example', 'Regress-Pa55', '300100', '1') > 0 AS limited;
-- Another Dinamize account (client code): the limited account's 240024 does not pause it.
SELECT dinamize_configure('broken', current_setting('dwu_test.broken_sim_url'), 'regress@dwu.example', 'Regress-Pa55', '300199', '1') > 0 AS broken;

-- RATE_LIMIT: /auth takes the minute's one request, the search gets 240024 (no retry from SQL).
SELECT pg_temp.error_of($$SELECT * FROM dinamize_search('1', account => 'limited')$$);
-- That 240024 paused the account in dwu_crm's own limiter: the next call fails at once, sending
-- nothing, since the pause is longer than dwu_crm.rate_limit_max_wait.
SET dwu_crm.rate_limit_max_wait = '2s';
SELECT pg_temp.error_of($$SELECT * FROM dinamize_search('1', account => 'limited')$$);
RESET dwu_crm.rate_limit_max_wait;
-- API_ERROR: an answer that is not JSON.
SELECT pg_temp.error_of($$SELECT * FROM dinamize_lists('broken')$$);
-- The error text names no secret: neither the password nor a token.
SELECT pg_temp.error_of($$SELECT * FROM dinamize_lists('broken')$$) ~ 'Regress-Pa55|auth-token' AS leaks_secret;
