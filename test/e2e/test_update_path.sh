#!/usr/bin/env bash
# The update path: a 0.1.0 install with data, updated by ALTER EXTENSION dwu_crm UPDATE, keeps its
# rows and ends with the very catalog of a fresh install of the default version (0.2.0), compared
# by catalog queries (not pg_dump, which shows an extension's members as one CREATE EXTENSION):
# every object of the schema and every member of the extension, with columns, defaults,
# constraints, indexes, triggers, function definitions and settings, ACLs, initial privileges,
# comments, the config-dump marks and the membership itself. Both databases live in one cluster
# (the roles dwu_crm_app and dwu_crm_admin are cluster-wide). The comparison also proves it can
# fail: a comment and a grant changed in a rolled-back transaction must show up in the diff.
# Around it, the window a DBA goes through: the new library is loaded while the database is still
# at 0.1.0 (the worker waits with a log line, the application's inserts are captured, the new
# library serves every C function 0.1.0 declares with the same arguments), and after the update
# the worker syncs every queued job exactly once with the password 0.1.0 sealed.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/common.sh"
trap dwu_cleanup EXIT

OLD_DB=dwu_upd_updated   # 0.1.0, then ALTER EXTENSION ... UPDATE; the worker's database
NEW_DB=dwu_upd_fresh     # CREATE EXTENSION of the default version
TARGET=0.2.0

dwu_init_workdir
dwu_sim_start "$E2E_USER:$E2E_PASSWORD:$E2E_CLIENT"
dwu_make_key_file "$DWU_WORKDIR/keys"
dwu_pg_start update "$(dwu_free_port)" "dwu_crm.database = '$OLD_DB'" \
    "dwu_crm.encryption_key_file = '$DWU_WORKDIR/keys'" "dwu_crm.redis_host = ''" \
    "dwu_crm.field_map = 'dwu_phone:cmp4,dwu_city:cmp5'"
LOG=$(dwu_pg_log update)
E2E_DB=$OLD_DB E2E_LOG=$LOG   # for common.sh's converged, psql_q and no_crash_in_log

psql_in() { local db=$1; shift; "$PG_BIN/psql" -X -At -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }

# Everything the two installs must agree on, one line per fact (sorted by catalog_listing).
CATALOG_SQL=$(cat <<'SQL'
WITH ext AS (SELECT oid, extnamespace FROM pg_extension WHERE extname = 'dwu_crm'),
mem AS (SELECT d.classid, d.objid, d.objsubid FROM pg_depend d, ext
         WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'),
rels AS (SELECT c.* FROM pg_class c, ext
          WHERE c.relnamespace = ext.extnamespace
             OR c.oid IN (SELECT objid FROM mem WHERE classid = 'pg_class'::regclass)),
procs AS (SELECT p.* FROM pg_proc p, ext
           WHERE p.pronamespace = ext.extnamespace
              OR p.oid IN (SELECT objid FROM mem WHERE classid = 'pg_proc'::regclass)),
types AS (SELECT t.* FROM pg_type t, ext
           WHERE t.typnamespace = ext.extnamespace
              OR t.oid IN (SELECT objid FROM mem WHERE classid = 'pg_type'::regclass)),
-- Position among the live columns (what SELECT * shows), not attnum: a dropped column leaves a gap.
-- Options without pg_attver: this server build stamps every column with one, different per table.
cols AS (SELECT a.*, row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum) AS position,
                nullif(array(SELECT o FROM unnest(a.attoptions) o WHERE o NOT LIKE 'pg\_attver=%'), '{}') AS options
           FROM pg_attribute a JOIN rels r ON r.oid = a.attrelid
          WHERE a.attnum > 0 AND NOT a.attisdropped AND r.relkind IN ('r', 'p', 'v', 'm', 'c', 'f'))
SELECT 'extension ' || json_build_array(e.extname, e.extversion, e.extrelocatable, e.extnamespace::regnamespace,
                                        e.extowner::regrole)
  FROM pg_extension e WHERE e.extname = 'dwu_crm'
UNION ALL
SELECT 'config_dump ' || json_build_array(c.tab::regclass, c.cond)
  FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS c(tab, cond) WHERE e.extname = 'dwu_crm'
UNION ALL
SELECT 'member ' || json_build_array(pg_describe_object(classid, objid, objsubid)) FROM mem
UNION ALL
SELECT 'schema ' || json_build_array(n.nspname, n.nspowner::regrole, n.nspacl,
                                     obj_description(n.oid, 'pg_namespace'))
  FROM pg_namespace n, ext WHERE n.oid = ext.extnamespace
UNION ALL
SELECT 'relation ' || json_build_array(r.oid::regclass, r.relkind, r.relowner::regrole, r.relpersistence,
                                       r.reloptions, r.relacl, r.relrowsecurity, r.relforcerowsecurity,
                                       r.relreplident, obj_description(r.oid, 'pg_class'))
  FROM rels r
UNION ALL
SELECT 'column ' || json_build_array(a.attrelid::regclass, a.position, a.attname,
                                     format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity,
                                     a.attgenerated, pg_get_expr(ad.adbin, ad.adrelid),
                                     CASE WHEN a.attcollation <> 0 THEN a.attcollation::regcollation END,
                                     a.attacl, a.options, col_description(a.attrelid, a.attnum))
  FROM cols a LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
UNION ALL
SELECT 'constraint ' || json_build_array(coalesce(c.conrelid::regclass::text, c.contypid::regtype::text),
                                         c.conname, c.contype, pg_get_constraintdef(c.oid), c.convalidated,
                                         obj_description(c.oid, 'pg_constraint'))
  FROM pg_constraint c
 WHERE c.conrelid IN (SELECT oid FROM rels) OR c.contypid IN (SELECT oid FROM types)
UNION ALL
SELECT 'index ' || json_build_array(i.indexrelid::regclass, pg_get_indexdef(i.indexrelid), i.indisprimary,
                                    i.indisreplident)
  FROM pg_index i WHERE i.indrelid IN (SELECT oid FROM rels)
UNION ALL
SELECT 'trigger ' || json_build_array(t.tgrelid::regclass, pg_get_triggerdef(t.oid), t.tgenabled,
                                      obj_description(t.oid, 'pg_trigger'))
  FROM pg_trigger t WHERE t.tgrelid IN (SELECT oid FROM rels) AND NOT t.tgisinternal
UNION ALL
SELECT 'policy ' || json_build_array(p.polrelid::regclass, p.polname, p.polcmd, p.polpermissive,
                                     p.polroles::regrole[], pg_get_expr(p.polqual, p.polrelid),
                                     pg_get_expr(p.polwithcheck, p.polrelid))
  FROM pg_policy p WHERE p.polrelid IN (SELECT oid FROM rels)
UNION ALL
SELECT 'rule ' || json_build_array(w.ev_class::regclass, w.rulename, pg_get_ruledef(w.oid))
  FROM pg_rewrite w WHERE w.ev_class IN (SELECT oid FROM rels) AND w.rulename <> '_RETURN'
UNION ALL
SELECT 'sequence ' || json_build_array(s.seqrelid::regclass, s.seqtypid::regtype, s.seqstart, s.seqincrement,
                                       s.seqmax, s.seqmin, s.seqcache, s.seqcycle)
  FROM pg_sequence s WHERE s.seqrelid IN (SELECT oid FROM rels)
UNION ALL
SELECT 'view ' || r.oid::regclass || ' ' || lpad(l.n::text, 4, '0') || ' ' || l.line
  FROM rels r, regexp_split_to_table(pg_get_viewdef(r.oid, true), E'\n') WITH ORDINALITY AS l(line, n)
 WHERE r.relkind IN ('v', 'm')
UNION ALL
SELECT 'function ' || json_build_array(p.oid::regprocedure, p.prokind, p.proowner::regrole, p.provolatile,
                                       p.prosecdef, p.proleakproof, p.proisstrict, p.proparallel, p.proconfig,
                                       p.proacl, obj_description(p.oid, 'pg_proc'))
  FROM procs p
UNION ALL
SELECT 'function_def ' || p.oid::regprocedure || ' ' || lpad(l.n::text, 4, '0') || ' ' || l.line
  FROM procs p, regexp_split_to_table(pg_get_functiondef(p.oid), E'\n') WITH ORDINALITY AS l(line, n)
 WHERE p.prokind IN ('f', 'p')
UNION ALL
SELECT 'type ' || json_build_array(format_type(t.oid, NULL), t.typtype, t.typowner::regrole, t.typacl,
                                   obj_description(t.oid, 'pg_type'))
  FROM types t
UNION ALL
SELECT 'enum ' || json_build_array(e.enumtypid::regtype, e.enumlabel, e.enumsortorder)
  FROM pg_enum e WHERE e.enumtypid IN (SELECT oid FROM types)
UNION ALL
SELECT 'initial_privileges ' || json_build_array(pg_describe_object(i.classoid, i.objoid, i.objsubid), i.privtype,
                                                 i.initprivs)
  FROM pg_init_privs i
 WHERE (i.classoid, i.objoid) IN (SELECT classid, objid FROM mem)
    OR (i.classoid = 'pg_namespace'::regclass AND i.objoid = (SELECT extnamespace FROM ext));
SQL
)

# catalog_listing DB [SQL] — the listing, sorted; SQL runs first in the listing's transaction,
# which is rolled back.
catalog_listing() {
    printf 'BEGIN;\n%s\n%s\nROLLBACK;\n' "${2:-}" "$CATALOG_SQL" | psql_in "$1" -f - | LC_ALL=C sort
}

# Objects of the extension without a comment: tables, views, composite types, functions, and types
# that are not a table's row type or an array; the extension's schema too.
UNDOCUMENTED_SQL="
WITH ext AS (SELECT oid, extnamespace FROM pg_extension WHERE extname = 'dwu_crm'),
mem AS (SELECT d.classid, d.objid FROM pg_depend d, ext
         WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e')
SELECT pg_describe_object(m.classid, m.objid, 0) FROM mem m
  LEFT JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
  LEFT JOIN pg_type t ON m.classid = 'pg_type'::regclass AND t.oid = m.objid
 WHERE (c.relkind IN ('r', 'v', 'm', 'c', 'p', 'f') OR m.classid = 'pg_proc'::regclass
        OR (t.oid IS NOT NULL AND t.typelem = 0
            AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')))
   AND obj_description(m.objid, m.classid::regclass::text) IS NULL
UNION ALL
SELECT 'schema ' || extnamespace::regnamespace FROM ext WHERE obj_description(extnamespace, 'pg_namespace') IS NULL"

# The rows of every table of the extension: count and digest per table.
data_digest() {
    local tables
    tables=$(psql_in "$1" -c "select string_agg(format('select %L, count(*), md5(coalesce(string_agg(x::text, E''\\n'' order by x::text), '''')) from %s x',
                                                      c.relname, c.oid::regclass), ' union all ' order by c.relname)
                                from pg_class c where c.relnamespace = 'dwu_crm'::regnamespace and c.relkind = 'r'")
    psql_in "$1" -F ' ' -c "$tables"
}

# 1. 0.1.0, with data: an account, leads, a contact and an opportunity (captured and moved: queued
#    jobs and audit rows), one job failed for good with its log row. One transaction, ending with
#    the account paused: the worker, connected to this database, leaves the jobs alone.
"$PG_BIN/createdb" "$OLD_DB"
"$PG_BIN/createdb" "$NEW_DB"
psql_in "$OLD_DB" -c "CREATE EXTENSION dwu_crm VERSION '0.1.0'"
check "the extension is at 0.1.0" [ "$(psql_in "$OLD_DB" -c "select extversion from pg_extension where extname = 'dwu_crm'")" = 0.1.0 ]
psql_in "$OLD_DB" -1 -v sim_url="$DWU_SIM_URL" -v user="$E2E_USER" -v password="$E2E_PASSWORD" \
    -v client="$E2E_CLIENT" -v list="$E2E_LIST" <<'SQL' >/dev/null
SELECT dwu_crm.dinamize_configure('upd', :'sim_url', :'user', :'password', :'client', :'list', true);
INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email, dwu_phone, dwu_origin)
SELECT 'Lead ' || i, 'lead' || i || '@example.com', '+55 51 9999-000' || i, 'Manual' FROM generate_series(1, 5) i;
INSERT INTO dwu_crm.crm_contacts (dwu_name, dwu_email) VALUES ('Ana Souza', 'ana@example.com');
INSERT INTO dwu_crm.crm_opportunities (dwu_contact_id, dwu_title, dwu_value) SELECT dwu_id, 'Deal', 1000 FROM dwu_crm.crm_contacts;
UPDATE dwu_crm.crm_leads SET dwu_name = 'Lead 1 (edited)' WHERE dwu_email = 'lead1@example.com';
SELECT dwu_crm.move_captured_changes();
WITH f AS (SELECT min(dwu_id) AS id FROM dwu_crm.crm_sync_queue)
UPDATE dwu_crm.crm_sync_queue q
   SET dwu_status = 'failed', dwu_attempt_count = 5, dwu_last_error = 'connection refused',
       dwu_last_error_category = 'NETWORK', dwu_last_error_code = 'ECONNREFUSED'
  FROM f WHERE q.dwu_id = f.id;
INSERT INTO dwu_crm.crm_sync_logs (dwu_queue_id, dwu_lead_id, dwu_account_id, dwu_operation, dwu_status, dwu_attempt,
                                   dwu_error_category, dwu_error_code, dwu_error_message, dwu_duration_ms)
SELECT dwu_id, dwu_lead_id, dwu_account_id, dwu_operation, 'error', 5, 'NETWORK', 'ECONNREFUSED', 'connection refused', 3
  FROM dwu_crm.crm_sync_queue WHERE dwu_status = 'failed';
SELECT dwu_crm.dinamize_set_account_enabled('upd', false);
SQL
check "the 0.1.0 data is in place (5 leads, queued and failed jobs, audit rows, a log row)" \
    [ "$(psql_in "$OLD_DB" -c "select (select count(*) from dwu_crm.crm_leads) = 5
                                  and (select count(*) from dwu_crm.crm_sync_queue where dwu_status = 'queued') >= 4
                                  and (select count(*) from dwu_crm.crm_sync_queue where dwu_status = 'failed') = 1
                                  and (select count(*) from dwu_crm.crm_audit_log where dwu_action = 'CREATE') >= 7
                                  and (select count(*) from dwu_crm.crm_audit_log where dwu_action = 'CONFIGURE') >= 2
                                  and (select count(*) from dwu_crm.crm_sync_logs) = 1
                                  and (select count(*) from dwu_crm.crm_captured_changes) = 0")" = t ]
check "0.1.0 raises no_data_found for an unknown account (what 0.2.0 changes)" \
    [ "$(psql_in "$OLD_DB" -c "do \$\$ begin perform dwu_crm.dinamize_remove_account('nobody');
                                 exception when others then raise notice '%', sqlstate; end \$\$" 2>&1)" = "NOTICE:  P0002" ]

# 1b. The window between the new library and the update: the worker (this build's library) waits
#     and says why; an application's insert is captured by the 0.1.0 trigger calling this library
#     and left alone; every C function 0.1.0 declares is one this library serves with the same
#     arguments and result (a changed argument list would read arguments that are not there).
waits_for_update() { grep -q "waiting for ALTER EXTENSION dwu_crm UPDATE in database \"$OLD_DB\": the extension there is version 0.1.0, this library is $TARGET" "$LOG"; }
dwu_wait_for 20 "the worker's log line" waits_for_update || true
check "the worker waits for the update, saying which versions" waits_for_update
psql_in "$OLD_DB" -c "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email) VALUES ('Window Lead', 'window@example.com')"
sleep 2
check "an insert during the window is captured and waits for the update" \
    [ "$(psql_in "$OLD_DB" -c "select count(*) from dwu_crm.crm_captured_changes where dwu_entity_type = 'lead'")" = 1 ]
psql_in "$OLD_DB" -c "SELECT dwu_crm.move_captured_changes()" >/dev/null   # 0.1.0's own function
check "0.1.0's move_captured_changes queues it" \
    [ "$(psql_in "$OLD_DB" -c "select count(*) from dwu_crm.crm_sync_queue q join dwu_crm.crm_leads l on l.dwu_id = q.dwu_lead_id
                                 where l.dwu_email = 'window@example.com' and q.dwu_status = 'queued'")" = 1 ]
C_FUNCTIONS_SQL="select format('%s(%s) %s%s', p.prosrc, pg_get_function_identity_arguments(p.oid), p.prorettype::regtype,
                               case when p.proretset then ' setof' else '' end)
                   from pg_proc p join pg_language l on l.oid = p.prolang
                  where l.lanname = 'c' and p.pronamespace = 'dwu_crm'::regnamespace order by 1"
c_functions_010=$(psql_in "$OLD_DB" -c "$C_FUNCTIONS_SQL")

# 2. The update.
check "0.1.0 has an update path to $TARGET" \
    [ "$(psql_in "$OLD_DB" -c "select path from pg_extension_update_paths('dwu_crm') where source = '0.1.0' and target = '$TARGET'")" = "0.1.0--$TARGET" ]
before=$(data_digest "$OLD_DB")
psql_in "$OLD_DB" -c "ALTER EXTENSION dwu_crm UPDATE"
after=$(data_digest "$OLD_DB")
check "ALTER EXTENSION dwu_crm UPDATE reaches $TARGET" \
    [ "$(psql_in "$OLD_DB" -c "select extversion from pg_extension where extname = 'dwu_crm'")" = "$TARGET" ]
# Every table 0.1.0 had keeps its rows; the tables the update adds start empty (but for the
# extension's own seed of built-in response codes).
after_old=$(awk 'NR == FNR { old[$1] = 1; next } $1 in old' <(echo "$before") <(echo "$after"))
added_rows=$(awk 'NR == FNR { old[$1] = 1; next } !($1 in old) && $1 !~ /crm_response_code_defaults$/ { n += $2 }
                  END { print n + 0 }' <(echo "$before") <(echo "$after"))
check "every row of every table is still there, unchanged" [ "$before" = "$after_old" ]
[ "$before" = "$after_old" ] || diff <(echo "$before") <(echo "$after_old") || true
check "the tables the update adds are empty" [ "$added_rows" = 0 ]
check "the jobs are still there, queued and failed" \
    [ "$(psql_in "$OLD_DB" -c "select count(*) filter (where dwu_status = 'queued') >= 4
                                      and count(*) filter (where dwu_status = 'failed') = 1
                                 from dwu_crm.crm_sync_queue")" = t ]

# 3. A fresh install of the default version next to it.
# (quiet: GRANT dwu_crm_app TO dwu_crm_admin notes that the cluster's roles already are members)
psql_in "$NEW_DB" -c "SET client_min_messages = warning" -c "CREATE EXTENSION dwu_crm"
check "a fresh install is at $TARGET" \
    [ "$(psql_in "$NEW_DB" -c "select extversion from pg_extension where extname = 'dwu_crm'")" = "$TARGET" ]

# 4. The same catalog.
updated=$DWU_WORKDIR/catalog.updated
fresh=$DWU_WORKDIR/catalog.fresh
catalog_listing "$OLD_DB" > "$updated"
catalog_listing "$NEW_DB" > "$fresh"
echo "# $(wc -l < "$fresh") catalog facts compared ($(grep -c '^member ' "$fresh") extension members)"
covers_everything() { [ "$(grep -c '^member ' "$fresh")" -gt 80 ] && [ "$(grep -c '^function_def ' "$fresh")" -gt 1000 ]; }
check "the listing covers the whole extension" covers_everything
# same_catalog WHAT FRESH_LISTING OTHER_LISTING — one check, with the diff when they differ.
same_catalog() {
    if diff -u "$2" "$3" > "$DWU_WORKDIR/catalog.diff"; then
        echo "ok - $1"
    else
        echo "not ok - $1 (- fresh, + the other):"
        head -n 200 "$DWU_WORKDIR/catalog.diff"
        failures=$((failures + 1))
    fi
}
same_catalog "the updated install has the catalog of a fresh $TARGET install" "$fresh" "$updated"
for db in "$NEW_DB" "$OLD_DB"; do
    undocumented=$(psql_in "$db" -c "$UNDOCUMENTED_SQL")
    check "every object of the extension has a comment ($db)" [ -z "$undocumented" ]
    [ -z "$undocumented" ] || echo "$undocumented"
done
for db in "$NEW_DB" "$OLD_DB"; do
    check "an unknown account is undefined_object (42704) in every function ($db)" \
        [ "$(psql_in "$db" -c "do \$\$
               declare s text; states text[] := '{}';
               begin
                 begin perform dwu_crm.dinamize_remove_account('nobody'); exception when others then states := states || sqlstate; end;
                 begin perform dwu_crm.dinamize_set_account_enabled('nobody', true); exception when others then states := states || sqlstate; end;
                 begin perform dwu_crm.requeue_failed(account_name => 'nobody'); exception when others then states := states || sqlstate; end;
                 begin perform dwu_crm.pull_now('nobody'); exception when others then states := states || sqlstate; end;
                 raise notice '%', array_to_string(states, ',');
               end \$\$" 2>&1)" = "NOTICE:  42704,42704,42704,42704" ]
done

# 5. The comparison can fail: a changed comment and an extra grant, in a transaction of the
#    updated database that is rolled back, must both show up; afterwards nothing is left of them.
altered=$DWU_WORKDIR/catalog.altered
catalog_listing "$OLD_DB" "COMMENT ON FUNCTION dwu_crm.pull_claim(integer) IS 'altered by the self-check';
                           GRANT SELECT ON dwu_crm.crm_settings TO dwu_crm_app;" > "$altered"
self_diff=$(diff "$fresh" "$altered" || true)
check "self-check: a changed comment is detected" grep -q "^> function .*pull_claim.*altered by the self-check" <<<"$self_diff"
check "self-check: a changed ACL is detected" grep -q '^> relation \["dwu_crm.crm_settings".*dwu_crm_app=r/' <<<"$self_diff"
check "self-check: a listing missing one line is detected" \
    bash -c "! diff -q <(sed '/^trigger .*crm_leads_touch/d' '$fresh') '$updated' >/dev/null"
check "self-check: the rolled-back changes left nothing behind" \
    diff -q <(catalog_listing "$OLD_DB") "$updated"

c_functions_new=$(psql_in "$NEW_DB" -c "$C_FUNCTIONS_SQL")
changed_c=$(comm -23 <(echo "$c_functions_010") <(echo "$c_functions_new"))
check "every C function of 0.1.0 ($(echo "$c_functions_010" | wc -l)) is declared alike in $TARGET" \
    [ -n "$c_functions_010" ] && [ -z "$changed_c" ]
[ -z "$changed_c" ] || echo "$changed_c"

# 6. The worker goes on: the job that failed under 0.1.0 re-queued, the account resumed; every
#    lead reaches the simulator field by field, each added once (the queued jobs sent once),
#    through a login with the password 0.1.0 sealed; then a lead written after the update.
psql_in "$OLD_DB" -c "SELECT dwu_crm.requeue_failed(account_name => 'upd')" >/dev/null
psql_in "$OLD_DB" -c "SELECT dwu_crm.dinamize_set_account_enabled('upd', true)" >/dev/null
dwu_wait_for 30 "the 0.1.0 leads in the simulator" converged || show_divergence
check "after the update every lead (6) is in Dinamize as in the CRM, with the password 0.1.0 sealed" converged
adds=$(sim_admin_get /__sim/stats | jq '.requests["/emkt/contact/add"] // 0')
check "each lead was added once ($adds contact/add for 6 leads)" [ "$adds" = 6 ]
check "no e-mail twice in the simulator" no_duplicate_contacts
psql_in "$OLD_DB" -c "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email) VALUES ('After Update', 'after@example.com')"
dwu_wait_for 30 "the lead written after the update" converged || show_divergence
check "a lead written after the update is synced" converged
check "nothing is left queued or failed" \
    [ "$(psql_in "$OLD_DB" -c "select count(*) from dwu_crm.crm_sync_queue where dwu_status <> 'completed'")" = 0 ]

# 7. Rollback: ALTER EXTENSION dwu_crm UPDATE TO '0.1.0' gives the catalog of a fresh 0.1.0
#    install and keeps every row of the tables 0.1.0 has; the worker (still this library) waits
#    again while the application's writes are captured; updating once more sends them.
OLD010_DB=dwu_upd_fresh010
"$PG_BIN/createdb" "$OLD010_DB"
psql_in "$OLD010_DB" -c "SET client_min_messages = warning" -c "CREATE EXTENSION dwu_crm VERSION '0.1.0'"
check "0.2.0 has a path back to 0.1.0" \
    [ "$(psql_in "$OLD_DB" -c "select path from pg_extension_update_paths('dwu_crm') where source = '$TARGET' and target = '0.1.0'")" = "$TARGET--0.1.0" ]
before=$(data_digest "$OLD_DB")
psql_in "$OLD_DB" -c "ALTER EXTENSION dwu_crm UPDATE TO '0.1.0'"
after=$(data_digest "$OLD_DB")
kept=$(awk 'NR == FNR { now[$1] = $0; next } $1 in now { print now[$1] }' <(echo "$after") <(echo "$before"))
check "ALTER EXTENSION dwu_crm UPDATE TO '0.1.0' reaches 0.1.0" \
    [ "$(psql_in "$OLD_DB" -c "select extversion from pg_extension where extname = 'dwu_crm'")" = 0.1.0 ]
check "every row of the tables 0.1.0 has is still there, unchanged" \
    [ "$kept" = "$(awk 'NR == FNR { now[$1] = 1; next } $1 in now' <(echo "$after") <(echo "$before"))" ]
check "the downgrade keeps the leads (7)" [ "$(psql_in "$OLD_DB" -c "select count(*) from dwu_crm.crm_leads")" = 7 ]
catalog_listing "$OLD_DB" > "$DWU_WORKDIR/catalog.downgraded"
catalog_listing "$OLD010_DB" > "$DWU_WORKDIR/catalog.fresh010"
same_catalog "the downgraded install has the catalog of a fresh 0.1.0 install" \
    "$DWU_WORKDIR/catalog.fresh010" "$DWU_WORKDIR/catalog.downgraded"
waits_again() { [ "$(grep -c "waiting for ALTER EXTENSION dwu_crm UPDATE in database \"$OLD_DB\": the extension there is version 0.1.0" "$LOG")" -ge 2 ]; }
# The write wakes the idle worker, which then finds the version changed.
psql_in "$OLD_DB" -c "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email) VALUES ('Rolled Back', 'rolled@example.com')"
dwu_wait_for 20 "the worker's second log line" waits_again || true
check "after the downgrade the worker waits again" waits_again
sleep 1
check "the write made at 0.1.0 waits, captured" \
    [ "$(psql_in "$OLD_DB" -c "select count(*) from dwu_crm.crm_captured_changes where dwu_entity_type = 'lead'")" = 1 ]
# The update once more, held open for 3 s: the application's reads and writes of leads go on.
psql_in "$OLD_DB" -c "BEGIN" -c "ALTER EXTENSION dwu_crm UPDATE" -c "SELECT pg_sleep(3)" -c "COMMIT" >/dev/null &
held_update=$!
sleep 1.5
check "while an update runs, leads are read, inserted, updated and deleted (lock_timeout 1 s)" \
    psql_in "$OLD_DB" -c "SET lock_timeout = '1s'" -c "SELECT count(*) FROM dwu_crm.crm_leads" \
        -c "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email) VALUES ('During Update', 'during@example.com')" \
        -c "UPDATE dwu_crm.crm_leads SET dwu_name = 'During Update (edited)' WHERE dwu_email = 'during@example.com'" \
        -c "DELETE FROM dwu_crm.crm_leads WHERE dwu_email = 'during@example.com'" -o /dev/null
check "the held update committed" wait "$held_update"
dwu_wait_for 30 "the lead written while rolled back" converged || show_divergence
check "updated again, the lead written at 0.1.0 is synced" converged
check "each lead added once in all (8)" [ "$(sim_admin_get /__sim/stats | jq '.requests["/emkt/contact/add"] // 0')" = 8 ]
catalog_listing "$OLD_DB" > "$DWU_WORKDIR/catalog.again"
same_catalog "updated again, the catalog is a fresh $TARGET install's" "$fresh" "$DWU_WORKDIR/catalog.again"

check "no crash in the server log" bash -c "! grep -Eq 'PANIC|terminated by signal' '$LOG'"

if [ "$failures" -gt 0 ]; then tail -n 30 "$LOG"; fi
echo "update_path: $failures failure(s)"
[ "$failures" -eq 0 ]
