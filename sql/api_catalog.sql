-- The Dinamize API from SQL, lists and custom fields: dinamize_lists, dinamize_fields,
-- dinamize_field_values, dinamize_field_create, dinamize_field_update. scripts/test.sh seeded
-- the simulator with list 2 "Clientes" and, in list 1, the list-of-values field 4 "Segmento".
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
SELECT dinamize_configure('sim', current_setting('dwu_test.sim_url'), 'regress@dwu.example', 'Regress-Pa55', '300100', '1') > 0 AS sim;

-- Lists: the seeded ones and those holding contacts.
SELECT list_code, title, raw FROM dinamize_lists('sim') ORDER BY list_code;

-- Fields, with their list of values.
SELECT field_code, code_name, title, type, is_required, is_uniquevalue, is_searchable FROM dinamize_fields('1', 'sim');
SELECT * FROM dinamize_field_values('1', '4', 'sim');

-- Create and change fields.
SELECT dinamize_field_create('1', 'Cidade', account => 'sim') AS cidade;
SELECT dinamize_field_create('1', 'Código cliente', 'VC', is_required => false, is_uniquevalue => true, is_searchable => true, account => 'sim') AS codigo;
SELECT dinamize_field_update('1', '5', title => 'Cidade (UF)', is_searchable => true, account => 'sim');
SELECT field_code, code_name, title, type, is_required, is_uniquevalue, is_searchable FROM dinamize_fields('1', 'sim');
SELECT count(*) AS fields_of_list_2 FROM dinamize_fields('2', 'sim');

-- Dinamize's errors.
SELECT pg_temp.error_of(s) FROM (VALUES
    ($$SELECT dinamize_field_create('1', 'cidade (uf)', account => 'sim')$$),
    ($$SELECT dinamize_field_update('1', '5', title => 'Segmento', account => 'sim')$$),
    ($$SELECT dinamize_field_update('1', '99', title => 'X', account => 'sim')$$),
    ($$SELECT * FROM dinamize_field_values('1', '99', 'sim')$$)
) AS t(s);

-- Bad input: refused before any request (the unreachable account would answer 08006).
SELECT dinamize_configure('unreachable', 'http://127.0.0.1:9', 'regress@dwu.example', 'Regress-Pa55', '300100', '1') > 0 AS unreachable;
SELECT pg_temp.error_of(s) FROM (VALUES
    ($$SELECT * FROM dinamize_fields(NULL, 'unreachable')$$),
    ($$SELECT * FROM dinamize_fields('1 ', 'unreachable')$$),
    ($$SELECT * FROM dinamize_field_values('1', NULL, 'unreachable')$$),
    ($$SELECT dinamize_field_create('1', '', account => 'unreachable')$$),
    ($$SELECT dinamize_field_create('1', NULL, account => 'unreachable')$$),
    ($$SELECT dinamize_field_create('1', 'X', 'text', account => 'unreachable')$$),
    ($$SELECT dinamize_field_create('1', 'X', is_required => NULL, account => 'unreachable')$$),
    ($$SELECT dinamize_field_update('1', '5', account => 'unreachable')$$),
    ($$SELECT dinamize_field_update('1', '5', title => '', account => 'unreachable')$$),
    ($$SELECT * FROM dinamize_lists('nobody')$$)
) AS t(s);

-- Privileges: the app role reads the catalog, only the admin changes it.
SET ROLE dwu_crm_app;
SELECT count(*) AS app_sees_fields FROM dinamize_fields('1', 'sim');
SELECT dinamize_field_create('1', 'App field', account => 'sim');
RESET ROLE;
