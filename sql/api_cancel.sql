-- A Dinamize call in flight is interrupted by statement_timeout (and any query cancel): the
-- second simulator (dwu_test.slow_sim_url) answers every request after 10 s.
SET search_path = dwu_crm, public;
\set VERBOSITY default
SELECT dinamize_configure('slow', current_setting('dwu_test.slow_sim_url'), 'regress@dwu.example', 'Regress-Pa55', '300100', '1') > 0 AS slow;
SELECT dinamize_configure('sim', current_setting('dwu_test.sim_url'), 'regress@dwu.example', 'Regress-Pa55', '300100', '1') > 0 AS sim;

-- The SQLSTATE of a statement, and whether it ended well before the 10 s delay.
CREATE FUNCTION pg_temp.cancelled(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    started timestamptz := clock_timestamp();
BEGIN
    EXECUTE statement;
    RETURN 'no error after ' || round(extract(epoch FROM clock_timestamp() - started)) || ' s';
EXCEPTION WHEN query_canceled THEN
    RETURN SQLSTATE || ': ' || SQLERRM || ', fast: ' || (clock_timestamp() - started < interval '5 s');
END;
$$;

SET statement_timeout = '500ms';
SELECT pg_temp.cancelled($$SELECT * FROM dinamize_search('1', account => 'slow')$$);
SELECT pg_temp.cancelled($$SELECT dinamize_contact_create('1', '{"email": "late@example.com"}', 'slow')$$);
-- Uncaught, psql shows PostgreSQL's own message.
SELECT * FROM dinamize_lists('slow');
RESET statement_timeout;

-- The backend is fine afterwards, and so is its HTTP client for other accounts.
SELECT list_code, title FROM dinamize_lists('sim') WHERE list_code IN ('1', '2') ORDER BY 1;
SELECT 1 AS backend_alive;
