#pragma once
// GUCs of the pull, webhook and audit side (issue 8). Plain C storage owned by
// PostgreSQL.
extern int dwu_pull_interval_seconds;  // dwu_crm.pull_interval (per account:
                                       // pull_configure)
extern int dwu_pull_page_size;         // dwu_crm.pull_page_size
extern int dwu_conflict_rule;          // dwu_crm.conflict_rule: 0 last_modified, 1 merge
extern int dwu_webhook_batch_size;     // dwu_crm.webhook_batch_size
extern char* dwu_app_user_id;          // dwu_crm.app_user_id, app_ip, app_user_agent: set by the
extern char* dwu_app_ip;               // application per session or transaction, read by the
extern char* dwu_app_user_agent;       // audit trail (crm_audit_log)
extern bool dwu_audit_row_changes;     // dwu_crm.audit_row_changes

// Signed webhooks (issue 15): webhook_receive's signature check (functions/webhook_functions).
extern char* dwu_webhook_secret_file;       // dwu_crm.webhook_secret_file: the valid secrets
extern bool dwu_webhook_require_signature;  // dwu_crm.webhook_require_signature: refuse unsigned calls
extern int dwu_webhook_max_age_seconds;     // dwu_crm.webhook_max_age_seconds: the timestamp window

// True for a literal IPv4 or IPv6 address (what dwu_crm.app_ip accepts, besides empty).
bool dwu_is_ip_address(const char* s);

// Called by dwu_define_settings before the prefix is reserved.
void dwu_define_pull_settings();
