// Who is writing, for the audit trail: read by the capture trigger for every captured row
// (capture_trigger.cpp) and, as SQL functions, by crm_audit_log's column defaults (the CONFIGURE
// and SYNC rows). Each reads a dwu_crm.app_* setting whose check hook already validated it.
#include <arpa/inet.h>
#include <cstdlib>
#include <cstring>

#include "pg/cpp_boundary.h"
#include "pg/capture/capture_context.h"
#include "pg/pg_headers.h"
#include "pg/pull_settings.h"

namespace {
constexpr int kMaxUserAgentChars = 500;
}

bool dwu_app_user_id_value(int64* out) {
    const char* v = dwu_app_user_id;
    if (v == nullptr || *v == '\0') return false;
    *out = strtoll(v, nullptr, 10);  // at most 18 digits (check_app_user_id)
    return true;
}

bool dwu_app_ip_value(Datum* out) {
    const char* v = dwu_app_ip;
    if (v == nullptr || !dwu_is_ip_address(v)) return false;
    *out = DirectFunctionCall1(inet_in, CStringGetDatum(v));
    return true;
}

bool dwu_app_user_agent_value(Datum* out) {
    const char* v = dwu_app_user_agent;
    if (v == nullptr || *v == '\0') return false;
    int len = static_cast<int>(strlen(v));
    *out = PointerGetDatum(cstring_to_text_with_len(v, pg_mbcharcliplen(v, len, kMaxUserAgentChars)));
    return true;
}

static Datum audit_app_user_id(FunctionCallInfo fcinfo) {
    int64 id = 0;
    if (!dwu_app_user_id_value(&id)) PG_RETURN_NULL();
    PG_RETURN_INT64(id);
}

static Datum audit_app_ip(FunctionCallInfo fcinfo) {
    Datum ip;
    if (!dwu_app_ip_value(&ip)) PG_RETURN_NULL();
    PG_RETURN_DATUM(ip);
}

static Datum audit_app_user_agent(FunctionCallInfo fcinfo) {
    Datum agent;
    if (!dwu_app_user_agent_value(&agent)) PG_RETURN_NULL();
    PG_RETURN_DATUM(agent);
}

DWU_SQL_FUNCTION(dwu_crm_audit_app_user_id, audit_app_user_id)
DWU_SQL_FUNCTION(dwu_crm_audit_app_ip, audit_app_ip)
DWU_SQL_FUNCTION(dwu_crm_audit_app_user_agent, audit_app_user_agent)
