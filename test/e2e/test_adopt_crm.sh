#!/usr/bin/env bash
# Adopting an existing CRM in place: the MVP's tables of the design documents (public.crm_leads
# with serial ids, public.crm_lead_sync with links to Dinamize contacts), 10,000 leads of which
# 500 are already in Dinamize. adopt_crm() refuses while a row does not fit (nothing changed),
# then takes the table over with its ids and sequence, carries the links over, and
# sync_unlinked_leads() sends the other 9,500 through the bulk import: every lead is in the
# simulator exactly once, the linked ones under their old contact codes.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/common.sh"
trap dwu_cleanup EXIT

LEADS=10000
LINKED=500
e2e_start_stack adopt "dwu_crm.import_threshold = 500" "dwu_crm.import_batch = 5000"

# The existing CRM, as dwu_crm_mvp has it: ids from 5001 (older rows deleted), its own index.
psql_q "CREATE TABLE public.crm_leads (
            dwu_id serial PRIMARY KEY, dwu_name varchar(255), dwu_email varchar(255) NOT NULL,
            dwu_phone varchar(50), dwu_origin varchar(50) DEFAULT 'Manual', dwu_tags text[],
            dwu_source_data jsonb, created_at timestamp DEFAULT now(), updated_at timestamp DEFAULT now());
        CREATE INDEX idx_crm_leads_email ON public.crm_leads (dwu_email);
        CREATE TABLE public.crm_lead_sync (
            id serial PRIMARY KEY, dwu_lead_id integer NOT NULL, dwu_dinamize_contact_id varchar(50),
            dwu_list_id varchar(50), last_sync timestamp, UNIQUE (dwu_lead_id, dwu_list_id));
        SELECT setval('public.crm_leads_dwu_id_seq', 5000);
        INSERT INTO public.crm_leads (dwu_name, dwu_email, dwu_origin)
        SELECT 'Existing ' || i, 'existing' || i || '@example.com', CASE WHEN i % 3 = 0 THEN 'CSV' ELSE 'Manual' END
          FROM generate_series(1, $LEADS) i" >/dev/null
# The first 500 are in Dinamize already (created there by the old service), linked.
psql_q "DO \$\$
        DECLARE r record; code text;
        BEGIN
            FOR r IN SELECT dwu_id, dwu_email, dwu_name FROM public.crm_leads ORDER BY dwu_id LIMIT $LINKED LOOP
                code := dwu_crm.dinamize_contact_create('$E2E_LIST', jsonb_build_object('email', r.dwu_email, 'name', r.dwu_name, 'external_code', r.dwu_id::text));
                INSERT INTO public.crm_lead_sync (dwu_lead_id, dwu_dinamize_contact_id, dwu_list_id, last_sync)
                VALUES (r.dwu_id, code, '$E2E_LIST', now());
            END LOOP;
        END \$\$" >/dev/null
codes_before=$(psql_q "select json_object_agg(dwu_lead_id, dwu_dinamize_contact_id order by dwu_lead_id) from public.crm_lead_sync" | jq -S -c .)
check "the simulator holds the $LINKED linked contacts" [ "$(sim_contacts | jq '.contacts | length')" = "$LINKED" ]

# A row that does not fit: refused, nothing changed.
psql_q "UPDATE public.crm_leads SET dwu_email = 'not-an-address' WHERE dwu_id = 9000" >/dev/null
refused=$("$PG_BIN/psql" -X -At -d "$E2E_DB" -c "SELECT dwu_crm.adopt_crm()" 2>&1 || true)
names_the_row() { grep -q 'do not fit' <<<"$refused" && grep -q '"dwu_id": 9000' <<<"$refused"; }
check "adopt_crm refuses a row that does not fit, naming it" names_the_row
check "nothing changed: the table is still in public" \
    [ "$(psql_q "select count(*) from public.crm_leads")" = "$LEADS" ]
# accept_invalid => true takes the misfit as it is and checks new writes only (tried in a
# transaction rolled back, so the adoption below starts from the same database; the bad row
# carries its own id because a sequence's nextval is not rolled back).
accepted=$("$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$E2E_DB" 2>&1 <<'SQL' || true
BEGIN;
SELECT 'adopted=' || ((r->'checks_not_validated') = '["crm_leads_email_shape"]' AND (r->>'leads')::int > 0) FROM
       (SELECT dwu_crm.adopt_crm(accept_invalid => true) AS r) x;
SELECT 'not_valid=' || NOT convalidated FROM pg_constraint
 WHERE conrelid = 'dwu_crm.crm_leads'::regclass AND conname = 'crm_leads_email_shape';
SELECT 'kept=' || dwu_email FROM dwu_crm.crm_leads WHERE dwu_id = 9000;
SAVEPOINT s;
\set ON_ERROR_STOP 0
INSERT INTO dwu_crm.crm_leads (dwu_id, dwu_name, dwu_email) VALUES (99999, 'Bad', 'also-not-an-address');
ROLLBACK TO s;
\set ON_ERROR_STOP 1
SELECT 'inserted=' || count(*) FROM dwu_crm.crm_leads WHERE dwu_email = 'also-not-an-address';
ROLLBACK;
SQL
)
check "adopt_crm(accept_invalid => true) adopts, the address check NOT VALID" \
    [ "$(grep -cxE 'adopted=true|not_valid=true' <<<"$accepted")" = 2 ]
check "the misfit row is kept as it was" grep -qx 'kept=not-an-address' <<<"$accepted"
check "a new write is still checked" grep -q 'violates check constraint "crm_leads_email_shape"' <<<"$accepted"
check "and nothing of it was inserted" grep -qx 'inserted=0' <<<"$accepted"
check "rolled back: the table is in public again" \
    [ "$(psql_q "select count(*) from public.crm_leads")" = "$LEADS" ]
psql_q "UPDATE public.crm_leads SET dwu_email = 'existing4000@example.com' WHERE dwu_id = 9000" >/dev/null

result=$(psql_q "SELECT dwu_crm.adopt_crm()")
echo "# adopt_crm: $(jq -c 'del(.rows_not_fitting)' <<<"$result")"
check "adopt_crm took $LEADS leads and $LINKED links" [ "$(jq -c '[.leads, .linked]' <<<"$result")" = "[$LEADS,$LINKED]" ]
check "the leads kept their ids" \
    [ "$(psql_q "select min(dwu_id) || '-' || max(dwu_id) from dwu_crm.crm_leads")" = "5001-15000" ]
check "the table is the user's (not an extension member) and public has none left" \
    [ "$(psql_q "select count(*) from pg_depend where objid = 'dwu_crm.crm_leads'::regclass and deptype = 'e'")$(psql_q "select to_regclass('public.crm_leads') is null")" = 0t ]
check "the links were carried over with their codes" \
    [ "$(psql_q "select json_object_agg(dwu_lead_id, dwu_dinamize_contact_id order by dwu_lead_id) from dwu_crm.crm_lead_sync" | jq -S -c .)" = "$codes_before" ]
check "its sequence goes on (a new lead takes id 15001)" \
    [ "$(psql_q "WITH n AS (INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email)
                            VALUES ('New', 'new-after-adoption@example.com') RETURNING dwu_id) SELECT dwu_id FROM n")" = 15001 ]
move_captured
check "the capture is attached (the new lead is queued)" \
    [ "$(psql_q "select count(*) from dwu_crm.crm_sync_queue where dwu_lead_id = 15001 and dwu_operation = 'create'")" = 1 ]

queued=$(psql_q "SELECT dwu_crm.sync_unlinked_leads()")
check "sync_unlinked_leads queues the $((LEADS - LINKED)) unlinked leads" [ "$queued" = "$((LEADS - LINKED))" ]
stats_before=$(sim_admin_get /__sim/stats)
check "everything syncs" dwu_wait_for 180 "the backfill" queue_drained
stats_after=$(sim_admin_get /__sim/stats)
check "every lead is in the simulator exactly once" \
    [ "$(sim_contacts | jq '[.contacts[].email | ascii_downcase] | [length, (unique | length)] | .[0] == .[1] and .[0] == '$((LEADS + 1)))" = true ]
check "the simulator equals the CRM field by field" converged
check "the linked leads kept their contact codes" \
    [ "$(psql_q "select json_object_agg(dwu_lead_id, dwu_dinamize_contact_id order by dwu_lead_id) from dwu_crm.crm_lead_sync
                  where dwu_lead_id < 5001 + $LINKED" | jq -S -c .)" = "$codes_before" ]
check "the unlinked leads went through bulk imports" \
    [ "$(jq -n --argjson a "$stats_after" --argjson b "$stats_before" '($a.requests["/emkt/contact"] // 0) - ($b.requests["/emkt/contact"] // 0)')" -ge 2 ]
check "no crash in the server log" no_crash_in_log

e2e_finish adopt_crm
