#include "pg/pull_settings.h"

#include <arpa/inet.h>

#include <cstring>

#include "pg/cpp_boundary.h"
#include "pg/pg_headers.h"

int dwu_pull_interval_seconds = 900;
int dwu_pull_page_size = 10000;
int dwu_conflict_rule = 0;
int dwu_webhook_batch_size = 100;
char* dwu_webhook_secret_file = nullptr;
bool dwu_webhook_require_signature = false;
int dwu_webhook_max_age_seconds = 300;
char* dwu_app_user_id = nullptr;
char* dwu_app_ip = nullptr;
char* dwu_app_user_agent = nullptr;
bool dwu_audit_row_changes = true;

bool dwu_is_ip_address(const char* s) {
    unsigned char address[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, s, address) == 1 || inet_pton(AF_INET6, s, address) == 1;
}

namespace {

const struct config_enum_entry kConflictRules[] = {
    {"last_modified", 0, false}, {"merge", 1, false}, {nullptr, 0, false}};

bool only_chars(const char* s, const char* allowed) { return strspn(s, allowed) == strlen(s); }

bool check_app_user_id(char** newval, void**, GucSource) {
    const char* v = *newval ? *newval : "";
    if (strlen(v) <= 18 && only_chars(v, "0123456789")) return true;
    GUC_check_errdetail(
        "dwu_crm.app_user_id must be the application user's "
        "numeric id (up to 18 digits) or empty.");
    return false;
}

bool check_app_ip(char** newval, void**, GucSource) {
    const char* v = *newval ? *newval : "";
    if (*v == '\0' || dwu_is_ip_address(v)) return true;
    GUC_check_errdetail("dwu_crm.app_ip must be an IPv4 or IPv6 address or empty.");
    return false;
}

}  // namespace

void dwu_define_pull_settings() {
    DefineCustomIntVariable("dwu_crm.pull_interval", "How often each account's Dinamize list is pulled.",
                            "Per account: dwu_crm.pull_configure(account, every "
                            "=> ...). dwu_crm.pull_now() runs one "
                            "at once.",
                            &dwu_pull_interval_seconds, 900, 1, 7 * 86400, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr,
                            nullptr);
    DefineCustomIntVariable("dwu_crm.pull_page_size", "Contacts per Dinamize search request of a pull.",
                            "Each page is one request of the account's budget "
                            "(10,000 is Dinamize's maximum).",
                            &dwu_pull_page_size, 10000, 1, 10000, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomEnumVariable("dwu_crm.conflict_rule",
                             "How a lead changed on both sides since the last sync is resolved.",
                             "last_modified: the newer change wins; merge: local wins on the fields "
                             "changed locally, "
                             "Dinamize on the others. Per account: dwu_crm.pull_configure().",
                             &dwu_conflict_rule, 0, kConflictRules, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("dwu_crm.webhook_batch_size", "Webhook events the worker applies per transaction.", nullptr,
                            &dwu_webhook_batch_size, 100, 1, 10000, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomStringVariable("dwu_crm.webhook_secret_file", "File holding the secrets of signed webhooks.",
                               "One secret per line (several: rotation); webhook_receive checks the HMAC-SHA256 "
                               "signature of '<signed_at>.<raw_body>' under them. Readable only by the server's user.",
                               &dwu_webhook_secret_file, "", PGC_SIGHUP, GUC_SUPERUSER_ONLY, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable("dwu_crm.webhook_require_signature", "Refuse webhooks that carry no signature.",
                             "Off: webhook_receive accepts unsigned calls, and checks those that are signed.",
                             &dwu_webhook_require_signature, false, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "dwu_crm.webhook_max_age_seconds", "How far a signed webhook's timestamp may be from the server's clock.",
        "Older (a replay, a late delivery) or further ahead (clock skew) is refused.", &dwu_webhook_max_age_seconds,
        300, 1, 86400, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr, nullptr);
    DefineCustomStringVariable("dwu_crm.app_user_id", "The application's user id, recorded in crm_audit_log.",
                               "Set by the application per session or transaction (SET LOCAL).", &dwu_app_user_id, "",
                               PGC_USERSET, 0, dwu_c_callback<check_app_user_id>, nullptr, nullptr);
    DefineCustomStringVariable("dwu_crm.app_ip", "The application user's IP address, recorded in crm_audit_log.",
                               nullptr, &dwu_app_ip, "", PGC_USERSET, 0, dwu_c_callback<check_app_ip>, nullptr,
                               nullptr);
    DefineCustomStringVariable("dwu_crm.app_user_agent",
                               "The application user's user agent, recorded in crm_audit_log.", nullptr,
                               &dwu_app_user_agent, "", PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable("dwu_crm.audit_row_changes",
                             "Write a crm_audit_log row for each insert, update and delete of leads, contacts "
                             "and opportunities.",
                             "Off saves an audit row per changed row on every write (see the README's trigger "
                             "benchmark); only a superuser can change it.",
                             &dwu_audit_row_changes, true, PGC_SUSET, 0, nullptr, nullptr, nullptr);
}
