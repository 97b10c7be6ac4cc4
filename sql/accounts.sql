-- Dinamize accounts: configuration with validation, encrypted secrets, rotation, tampering, roles.
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
CREATE FUNCTION pg_temp.key_version(blob bytea) RETURNS int LANGUAGE sql AS $$
    SELECT get_byte(blob, 1) * 256 + get_byte(blob, 2) $$;

-- A first account becomes the default; the password is stored only as a sealed blob.
SELECT dinamize_configure('acme', 'http://127.0.0.1:9', 'crm@acme.example', 'Acme-Pa55-word', '300001', '7') AS acme_id \gset
SELECT dwu_name, dwu_base_url, dwu_client_code, dwu_list_code, dwu_is_default, dwu_enabled, dwu_config_version,
       length(dwu_password) = 31 + length('Acme-Pa55-word') AS sealed_length,
       position('Acme-Pa55-word'::bytea IN dwu_password) = 0 AS no_plaintext,
       pg_temp.key_version(dwu_password) AS key_version
  FROM crm_dinamize_accounts;
SELECT dwu_action, dwu_entity_type, dwu_changes - 'by' AS changes FROM crm_audit_log WHERE dwu_action = 'CONFIGURE';

-- A second account; leads may name theirs, others go to the default.
SELECT dinamize_configure('globex', 'https://api.dinamize.com', 'crm@globex.example', 'Globex-Secret', '300002', '9') AS globex_id \gset
INSERT INTO crm_leads (dwu_email, dwu_account_id) VALUES ('g@globex.example', :globex_id);
INSERT INTO crm_leads (dwu_email) VALUES ('d@default.example');
SELECT move_captured_changes() \g /dev/null
SELECT l.dwu_email, a.dwu_name AS job_account
  FROM crm_sync_queue q JOIN crm_leads l ON l.dwu_id = q.dwu_lead_id JOIN crm_dinamize_accounts a ON a.dwu_id = q.dwu_account_id
 WHERE l.dwu_email IN ('g@globex.example', 'd@default.example') ORDER BY 1;
-- The same e-mail may exist once per account.
INSERT INTO crm_leads (dwu_email, dwu_account_id) VALUES ('d@default.example', :globex_id);

-- Changing settings keeps the password when it is NULL, bumps the version, moves the default.
SELECT dinamize_configure('globex', 'https://api.dinamize.com', 'crm@globex.example', NULL, '300002', '10', true);
SELECT dwu_name, dwu_list_code, dwu_is_default, dwu_config_version FROM crm_dinamize_accounts ORDER BY dwu_id;

-- Bad input: a clear error, nothing changed.
SELECT count(*) AS accounts_before FROM crm_dinamize_accounts \gset
SELECT pg_temp.error_of(s) FROM (VALUES
    ($$SELECT dinamize_configure(NULL, 'https://a.example', 'u', 'p', '1', '1')$$),
    ($$SELECT dinamize_configure('Bad Name', 'https://a.example', 'u', 'p', '1', '1')$$),
    ($$SELECT dinamize_configure('x', 'ftp://a.example', 'u', 'p', '1', '1')$$),
    ($$SELECT dinamize_configure('x', 'https://user:pw@a.example', 'u', 'p', '1', '1')$$),
    ($$SELECT dinamize_configure('x', 'https://a.example/v1', 'u', 'p', '1', '1')$$),
    ($$SELECT dinamize_configure('x', 'https://a.example', '', 'p', '1', '1')$$),
    ($$SELECT dinamize_configure('x', 'https://a.example', 'u', '', '1', '1')$$),
    ($$SELECT dinamize_configure('x', 'https://a.example', 'u', 'p', '30O001', '1')$$),
    ($$SELECT dinamize_configure('x', 'https://a.example', 'u', 'p', '1', 'seven')$$),
    ($$SELECT dinamize_configure('x', 'https://a.example', 'u', NULL, '1', '1')$$),
    ($$SELECT dinamize_configure('x', 'https://a.example', 'u', repeat('p', 1025), '1', '1')$$),
    ($$SELECT dinamize_set_account_enabled('nobody', false)$$),
    ($$SELECT dinamize_remove_account('nobody')$$),
    ($$SELECT requeue_failed(account_name => 'nobody')$$)
) AS t(s);
SELECT count(*) = :accounts_before AS unchanged FROM crm_dinamize_accounts;

-- Rotation: add key version 2 to the key file, re-encrypt everything, old blobs were readable.
DO $$
DECLARE
    path text := current_setting('dwu_crm.encryption_key_file');
    old_keys text := pg_read_file(path);  -- read it before COPY truncates the file
BEGIN
    EXECUTE format('COPY (SELECT line FROM regexp_split_to_table(%L, E''\n'') AS line WHERE line <> '''') TO %L',
                   old_keys || '2:' || encode(sha256(random()::text::bytea), 'hex'), path);
END $$;
SELECT rotate_encryption_key() AS resealed;
SELECT dwu_name, pg_temp.key_version(dwu_password) AS key_version FROM crm_dinamize_accounts ORDER BY dwu_id;
SELECT rotate_encryption_key() AS resealed_again;

-- Tampering: one flipped bit, or a blob copied from another row, is detected, never decrypted.
UPDATE crm_dinamize_accounts SET dwu_password = set_byte(dwu_password, 20, get_byte(dwu_password, 20) # 1)
 WHERE dwu_name = 'acme';
SELECT pg_temp.error_of('SELECT rotate_encryption_key()');
SELECT dinamize_configure('acme', 'http://127.0.0.1:9', 'crm@acme.example', 'Acme-Pa55-word', '300001', '7');
UPDATE crm_dinamize_accounts SET dwu_password = (SELECT dwu_password FROM crm_dinamize_accounts WHERE dwu_name = 'acme')
 WHERE dwu_name = 'globex';
SELECT pg_temp.error_of('SELECT rotate_encryption_key()');
SELECT dinamize_configure('globex', 'https://api.dinamize.com', 'crm@globex.example', 'Globex-Secret', '300002', '10');

-- Disable, enable, remove: history stays, secrets go.
SELECT dinamize_set_account_enabled('globex', false);
SELECT dinamize_set_account_enabled('globex', true);
-- Accounts are retired, never deleted: jobs, links and logs refer to them.
DELETE FROM crm_dinamize_accounts WHERE dwu_name = 'acme';
SELECT dinamize_remove_account('acme');
SELECT dwu_name, dwu_enabled, dwu_removed_at IS NOT NULL AS removed, length(dwu_password) AS secret_bytes
  FROM crm_dinamize_accounts ORDER BY dwu_id;
SELECT count(*) > 0 AS acme_history_kept FROM crm_audit_log WHERE dwu_entity_id = :acme_id;

-- Privileges: the app role writes leads but reads no secret and configures nothing.
SET ROLE dwu_crm_app;
INSERT INTO crm_leads (dwu_email) VALUES ('app@example.com');
SELECT count(*) AS app_sees_leads FROM crm_leads WHERE dwu_email = 'app@example.com';
SELECT dwu_name FROM crm_dinamize_accounts WHERE dwu_is_default;
SELECT dwu_password FROM crm_dinamize_accounts;
SELECT dinamize_configure('evil', 'https://evil.example', 'u', 'p', '1', '1');
INSERT INTO crm_sync_queue (dwu_lead_id, dwu_operation) VALUES (1, 'create');
SELECT rotate_encryption_key();
RESET ROLE;
SET ROLE dwu_crm_admin;
SELECT dinamize_configure('initech', 'https://api.dinamize.com', 'crm@initech.example', 'Initech-Pw', '300003', '3') > 0 AS admin_configures;
SELECT dwu_name, dwu_user FROM crm_dinamize_accounts WHERE dwu_name = 'initech';
SELECT dwu_password FROM crm_dinamize_accounts;
SELECT dwu_token FROM crm_auth_tokens;
RESET ROLE;

-- SECURITY DEFINER functions pin search_path; no function is executable by PUBLIC.
SELECT p.proname, p.proconfig
  FROM pg_proc p WHERE p.pronamespace = 'dwu_crm'::regnamespace AND p.prosecdef ORDER BY 1;
SELECT count(*) AS public_executable
  FROM pg_proc p WHERE p.pronamespace = 'dwu_crm'::regnamespace AND has_function_privilege('public', p.oid, 'EXECUTE');

-- A missing key file is an error naming the setting, not a key.
ALTER SYSTEM SET dwu_crm.encryption_key_file = '/nonexistent/dwu_crm.keys';
SELECT pg_reload_conf();
SELECT pg_sleep(0.3);
SELECT pg_temp.error_of($$SELECT dinamize_configure('acme2', 'https://api.dinamize.com', 'u@acme.example', 'pw', '300001', '7')$$);
SELECT count(*) AS acme2_not_created FROM crm_dinamize_accounts WHERE dwu_name = 'acme2';
ALTER SYSTEM RESET dwu_crm.encryption_key_file;
SELECT pg_reload_conf();
