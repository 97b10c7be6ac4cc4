// webhook_verify_signature(raw_body, signature, signed_at): the signature check of signed webhooks,
// which webhook_receive() (plpgsql, SECURITY DEFINER) calls before it parses or stores anything.
// The HMAC, the constant-time compare and the secret file are the core's
// (core/crypto/webhook_signature.h); here: the settings, the clock and the SQLSTATEs. Not granted
// to anyone: only webhook_receive calls it. Its errors never hold a secret.
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>

#include "core/crypto/webhook_signature.h"
#include "pg/functions/sql_args.h"  // before any PostgreSQL header: it brings nlohmann/json
#include "pg/cpp_boundary.h"
#include "pg/pg_headers.h"
#include "pg/pull_settings.h"

namespace {

// A signature that fails: the sender is not authenticated (28000, as a Dinamize AUTH failure),
// which an endpoint answers with HTTP 401. Not 42501: the calling role has every privilege it
// needs, and a DBA reading "insufficient privilege" would look for a missing GRANT.
constexpr int kRefused = ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION;

const char* const kSchemeHint =
    "The signature is the hex HMAC-SHA256, under a secret of dwu_crm.webhook_secret_file, of "
    "'<signed_at>.<raw_body>' with the body exactly as received.";

dwu::WebhookSecrets load_secrets() {
    const char* path = dwu_webhook_secret_file;
    if (path == nullptr || *path == '\0')
        throw SqlStateError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                            "dwu_crm.webhook_secret_file is not set: webhook signatures cannot be checked",
                            "A superuser names a file of secrets (one per line, mode 600) in postgresql.conf "
                            "and reloads the configuration.");
    try {
        return dwu::WebhookSecrets::load_file(path);
    } catch (const dwu::WebhookSecretError& e) {
        throw SqlStateError(ERRCODE_CONFIG_FILE_ERROR, std::string("dwu_crm.webhook_secret_file: ") + e.what(),
                            "One secret per line (16 to 1024 bytes; blank and # lines are ignored), in a file only "
                            "the server's user can read (chmod 600).");
    }
}

// True: a valid signature. False: an unsigned call, accepted because no signature is required.
// Anything else raises, and webhook_receive stores nothing.
Datum verify_signature(FunctionCallInfo fcinfo) {
    const std::optional<std::string> signature = dwu_text_arg(fcinfo, 1);
    if (!signature) {
        if (!dwu_webhook_require_signature) return BoolGetDatum(false);
        throw SqlStateError(kRefused, "webhook signature required: dwu_crm.webhook_require_signature is on",
                            "Pass the sender's signature and timestamp headers and the body as received: "
                            "webhook_receive(raw_body => ..., signature => ..., signed_at => ...).");
    }
    const std::optional<std::string> raw_body = dwu_text_arg(fcinfo, 0);
    if (!raw_body)
        throw SqlStateError(ERRCODE_NULL_VALUE_NOT_ALLOWED,
                            "a signed webhook needs raw_body, the request body exactly as received",
                            "The signature covers the body's text, which a jsonb payload no longer has: pass "
                            "raw_body instead of payload.");
    if (PG_ARGISNULL(2))
        throw SqlStateError(kRefused, "signed webhook has no timestamp (signed_at)",
                            "Pass the sender's timestamp header (Unix seconds) as signed_at: the signature covers it.");
    const std::int64_t signed_at = PG_GETARG_INT64(2);

    const dwu::WebhookSecrets secrets = load_secrets();
    const std::int64_t max_age = dwu_webhook_max_age_seconds;
    const dwu::WebhookCheck check =
        dwu::verify_webhook_signature(secrets, *raw_body, *signature, signed_at, std::time(nullptr), max_age);
    switch (check.verdict) {
        case dwu::WebhookVerdict::Valid:
            return BoolGetDatum(true);
        case dwu::WebhookVerdict::MalformedSignature:
            throw SqlStateError(kRefused, "webhook signature is not 64 hex digits (a hex HMAC-SHA256)", kSchemeHint);
        case dwu::WebhookVerdict::BadSignature:
            throw SqlStateError(kRefused, "webhook signature does not match", kSchemeHint);
        case dwu::WebhookVerdict::TooOld:
            throw SqlStateError(kRefused,
                                "webhook timestamp is " + std::to_string(check.age_seconds) +
                                    " seconds old, outside dwu_crm.webhook_max_age_seconds (" +
                                    std::to_string(max_age) + ")",
                                "A replayed or late delivery, or clocks apart: the sender signs each delivery, "
                                "retries too, with the time it sends it.");
        case dwu::WebhookVerdict::TooNew:
            throw SqlStateError(kRefused,
                                "webhook timestamp is " + std::to_string(-check.age_seconds) +
                                    " seconds in the future, outside dwu_crm.webhook_max_age_seconds (" +
                                    std::to_string(max_age) + ")",
                                "Check the clocks of the sender and of the database server (NTP).");
    }
    throw SqlStateError(ERRCODE_INTERNAL_ERROR, "unknown webhook signature verdict");
}

}  // namespace

DWU_SQL_FUNCTION(dwu_crm_webhook_verify_signature, verify_signature)
