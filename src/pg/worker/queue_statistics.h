#pragma once
// The planner's idea of how many jobs are queued, kept near the truth by the worker.
//
// The claim is planned from crm_sync_queue's statistics. After months of sync the table holds
// mostly finished jobs, so a backlog of thousands of new jobs is well under autovacuum's analyze
// threshold (10 % of the table) and the statistics still say "about one queued job": the claim
// then joins the backlog to itself row by row (a 5,000-job import claim took 22 s on a queue of
// 1M finished jobs, bench/run_history.sh). Before a round, after an idle one (a backlog loaded or
// resumed meanwhile) and at most once a second while busy, the worker compares the planner's
// estimate with a count bounded by it, and runs ANALYZE on the queue when the estimate is far too
// low.
void dwu_refresh_queue_statistics(bool after_idle_round);
