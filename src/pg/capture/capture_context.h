#pragma once
// Who is writing, for the audit trail: the application's user, IP and user agent from the
// dwu_crm.app_* settings (validated by their check hooks). Each returns false for "not set".
#include "pg/pg_headers.h"

bool dwu_app_user_id_value(int64* out);
bool dwu_app_ip_value(Datum* out);          // an inet datum
bool dwu_app_user_agent_value(Datum* out);  // a text datum, at most 500 characters
