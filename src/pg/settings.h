#pragma once
// The dwu_crm.* GUCs. Plain C storage, owned by PostgreSQL's GUC machinery.
extern char* dwu_database;
extern char* dwu_encryption_key_file;
extern char* dwu_field_map;
extern bool dwu_verify_tls;
// Retention of history (pg/worker/retention.h), in seconds; 0 keeps the rows.
extern int dwu_finished_jobs_ttl_seconds;
extern int dwu_sync_logs_ttl_seconds;
extern int dwu_audit_log_ttl_seconds;
// Where requests may go and how (superuser-only; see core/dinamize/host_policy.h).
extern char* dwu_allowed_hosts;
extern char* dwu_ca_file;
extern char* dwu_https_proxy;
extern int dwu_batch_size;
extern int dwu_workers;
extern int dwu_request_timeout_ms;
extern int dwu_login_min_interval_ms;
extern int dwu_connect_timeout_ms;
extern int dwu_lease_seconds;
extern int dwu_requests_in_flight;
extern int dwu_max_attempts;
extern int dwu_retry_base_seconds;
extern int dwu_idle_check_seconds;
extern int dwu_retry_max_seconds;
extern bool dwu_capture_changes;
extern int dwu_update_delay_ms;
extern int dwu_import_threshold;
extern int dwu_import_batch;
// The shared rate limiter (see pg/accounts/request_limits.h).
extern char* dwu_redis_host;
extern char* dwu_redis_sentinels;
extern char* dwu_redis_sentinel_master;
extern int dwu_redis_port;
extern char* dwu_redis_password_file;
extern int dwu_redis_database;
extern char* dwu_redis_key_prefix;
extern int dwu_redis_timeout_ms;
extern int dwu_rate_limit;
extern int dwu_rate_limit_window_seconds;
extern int dwu_rate_limit_per_hour;
extern int dwu_rate_limit_margin_ms;
extern int dwu_rate_limit_resync_pause_ms;
extern double dwu_rate_limit_local_share;
extern int dwu_rate_limit_max_wait_ms;
// What the dinamize_* SQL functions may take (superuser-only): rows and bytes of one multi-page
// read, and their share of each account's rate limit (the workers keep the rest).
extern int dwu_api_max_rows;
extern int dwu_api_max_bytes;
extern double dwu_api_rate_share;

// Defines every GUC; the PGC_POSTMASTER ones only when loading through shared_preload_libraries.
void dwu_define_settings(bool preloading);
