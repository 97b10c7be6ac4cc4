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

-- pg_cancel_backend from another session: a second connection (dblink) calls the slow
-- simulator; pg_stat_activity shows it waiting (wait event Extension) and the cancel ends it.
CREATE EXTENSION dblink;
SELECT dblink_connect('other', format('host=%s port=%s dbname=%s user=%s', current_setting('unix_socket_directories'),
                                      current_setting('port'), current_database(), current_user)) AS connected;
SELECT other_pid FROM dblink('other', 'SELECT pg_backend_pid()') AS t(other_pid int) \gset
SELECT set_config('dwu_test.other_pid', :'other_pid', false) IS NOT NULL AS pid_noted;
SELECT dblink_send_query('other', $$SELECT * FROM dwu_crm.dinamize_lists('slow')$$) AS sent;
DO $$
BEGIN
    FOR i IN 1..100 LOOP
        PERFORM pg_stat_clear_snapshot();
        EXIT WHEN EXISTS (SELECT 1 FROM pg_stat_activity
                           WHERE pid = current_setting('dwu_test.other_pid')::int AND wait_event_type = 'Extension');
        PERFORM pg_sleep(0.05);
    END LOOP;
END $$;
SELECT state, wait_event_type, wait_event, query FROM pg_stat_activity WHERE pid = :other_pid;
SELECT pg_cancel_backend(:other_pid);
SELECT pg_temp.cancelled($$SELECT * FROM dblink_get_result('other') AS t(list_code text, title text, raw jsonb)$$);
SELECT count(*) AS rest_of_result FROM dblink_get_result('other') AS t(list_code text, title text, raw jsonb);
-- That session, too, goes on working.
SELECT * FROM dblink('other', $$SELECT list_code FROM dwu_crm.dinamize_lists('sim') WHERE list_code = '2'$$) AS t(list_code text);
SELECT dblink_disconnect('other');
DROP EXTENSION dblink;
