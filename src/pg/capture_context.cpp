// Per-row helpers of the change-capture and audit triggers, in C because they run once per
// captured statement or audited row: a SQL function with SET search_path is never inlined and is
// re-planned at every statement, and a plpgsql EXCEPTION block opens a subtransaction per call.
// Each reads a dwu_crm.* setting whose check hook already validated it.
#include <arpa/inet.h>
#include <cstdlib>
#include <cstring>

#include "pg/pg_headers.h"
#include "pg/pull_settings.h"
#include "pg/settings.h"

DWU_SQL_FUNCTION(dwu_crm_capturing_changes)
DWU_SQL_FUNCTION(dwu_crm_auditing_row_changes)
DWU_SQL_FUNCTION(dwu_crm_audit_app_user_id)
DWU_SQL_FUNCTION(dwu_crm_audit_app_ip)
DWU_SQL_FUNCTION(dwu_crm_audit_app_user_agent)

namespace {
constexpr int kMaxUserAgentChars = 500;
}

Datum dwu_crm_capturing_changes(PG_FUNCTION_ARGS) { PG_RETURN_BOOL(dwu_capture_changes); }

Datum dwu_crm_auditing_row_changes(PG_FUNCTION_ARGS) { PG_RETURN_BOOL(dwu_audit_row_changes); }

Datum dwu_crm_audit_app_user_id(PG_FUNCTION_ARGS) {
    const char* v = dwu_app_user_id;
    if (v == nullptr || *v == '\0') PG_RETURN_NULL();
    PG_RETURN_INT64(strtoll(v, nullptr, 10));  // at most 18 digits (check_app_user_id)
}

Datum dwu_crm_audit_app_ip(PG_FUNCTION_ARGS) {
    const char* v = dwu_app_ip;
    if (v == nullptr || !dwu_is_ip_address(v)) PG_RETURN_NULL();
    PG_RETURN_DATUM(DirectFunctionCall1(inet_in, CStringGetDatum(v)));
}

Datum dwu_crm_audit_app_user_agent(PG_FUNCTION_ARGS) {
    const char* v = dwu_app_user_agent;
    if (v == nullptr || *v == '\0') PG_RETURN_NULL();
    int len = static_cast<int>(strlen(v));
    PG_RETURN_TEXT_P(cstring_to_text_with_len(v, pg_mbcharcliplen(v, len, kMaxUserAgentChars)));
}
