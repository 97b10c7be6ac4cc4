#!/usr/bin/env bash
# A streaming standby: the dwu_crm workers do not run there (nothing may write, nothing is sent
# twice), the queue is readable, and on promotion they start and send what the old primary left
# queued — nothing lost, nothing sent twice.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/common.sh"
trap dwu_cleanup EXIT

e2e_start_stack primary "wal_level = replica" "max_wal_senders = 4"
PRIMARY_LOG=$E2E_LOG
psql_q "SELECT dwu_crm.dinamize_set_account_enabled('e2e', false)" >/dev/null  # the jobs wait on the primary
psql_q "INSERT INTO dwu_crm.crm_leads (dwu_name, dwu_email)
        SELECT 'Standby ' || i, 'standby' || i || '@example.com' FROM generate_series(1, 50) i" >/dev/null
move_captured
check "50 jobs are queued on the primary" \
    [ "$(psql_q "select count(*) from dwu_crm.crm_sync_queue where dwu_status = 'queued'")" = 50 ]

# The standby: a base backup of the primary, streaming from it, on its own port and socket.
standby=$DWU_WORKDIR/standby
dwu_as_pg_owner mkdir -p "$standby/sock"
dwu_as_pg_owner "$PG_BIN/pg_basebackup" -h "$PGHOST" -p "$PGPORT" -U postgres -D "$standby/data" -R -X stream
standby_port=$(dwu_free_port)
printf '%s\n' "port = $standby_port" "unix_socket_directories = '$standby/sock'" \
    | dwu_as_pg_owner tee -a "$standby/data/postgresql.conf" >/dev/null
dwu_as_pg_owner "$PG_BIN/pg_ctl" -D "$standby/data" -l "$standby/server.log" -w -t 60 start >/dev/null
DWU_CLUSTERS+=("$standby")
on_standby() { PGHOST=$standby/sock PGPORT=$standby_port psql_q "$1"; }

check "the standby is in recovery" [ "$(on_standby "select pg_is_in_recovery()")" = t ]
replicated() { [ "$(on_standby "select count(*) from dwu_crm.crm_sync_queue where dwu_status = 'queued'")" = 50 ]; }
check "the queue is replicated and readable on the standby" dwu_wait_for 30 "replication" replicated
check "the queue depth view works on the standby" \
    [ "$(on_standby "select jobs from dwu_crm.sync_queue_depth where status = 'queued'")" = 50 ]
sleep 2
check "no dwu_crm worker runs on the standby" \
    [ "$(on_standby "select count(*) from pg_stat_activity where backend_type like 'dwu_crm%'")" = 0 ]

# Failover: the primary stops at once, the standby is promoted.
dwu_as_pg_owner "$PG_BIN/pg_ctl" -D "$DWU_WORKDIR/primary/data" -m immediate -w stop >/dev/null
dwu_as_pg_owner "$PG_BIN/pg_ctl" -D "$standby/data" -w promote >/dev/null
export PGHOST=$standby/sock PGPORT=$standby_port
E2E_LOG=$standby/server.log
workers_started() { [ "$(psql_q "select count(*) from pg_stat_activity where backend_type = 'dwu_crm sync worker'")" -ge 1 ]; }
check "the workers start on promotion" dwu_wait_for 30 "the workers" workers_started
psql_q "SELECT dwu_crm.dinamize_set_account_enabled('e2e', true)" >/dev/null
check "the promoted server sends the 50 queued leads" dwu_wait_for 60 "sync" queue_drained
check "the simulator equals the CRM (nothing lost)" converged
check "each lead was sent once" \
    [ "$(sim_contacts | jq '[.contacts[] | select(.email | startswith("standby"))] | length')" = 50 ]
check "no crash in either server log" bash -c "! grep -Eq 'PANIC|terminated by signal' '$PRIMARY_LOG' '$E2E_LOG'"

e2e_finish standby_promotion
