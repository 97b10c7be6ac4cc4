#include "core/sync/sync_job.h"

#include <chrono>
#include <climits>

#include "core/sync/contact_sync.h"
#include "core/dinamize/untrusted_json.h"

namespace dwu {
namespace {

// The job's JSON is PostgreSQL's (to_jsonb of the row, the trigger's payload), bounded by its own
// nesting limit; the parse still goes through the one bounded parser, with room for any lead
// (dwu_source_data is an application's JSON).
constexpr int kMaxStoredJsonDepth = 1000;

nlohmann::json stored_json(const std::string& text, const char* what) {
    UntrustedJson parsed = parse_untrusted_json(text, kMaxStoredJsonDepth);
    if (!parsed.ok)
        throw std::invalid_argument(std::string("job data is not valid JSON: ") + what + ": " + parsed.problem);
    return std::move(parsed.value);
}

std::string payload_string(const std::string& payload_json, const char* key) {
    if (payload_json.empty()) return {};
    const nlohmann::json payload = stored_json(payload_json, "payload");
    auto it = payload.is_object() ? payload.find(key) : payload.end();
    return it != payload.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// crm_lead_sync.dwu_dinamize_contact_id: ^[0-9]{1,32}$.
bool storable_contact_code(const std::string& code) {
    return !code.empty() && code.size() <= 32 && code.find_first_not_of("0123456789") == std::string::npos;
}

long clamp_to_int(long long v) { return v < 0 ? 0 : v > INT_MAX ? INT_MAX : static_cast<long>(v); }

void perform(DinamizeClient& client, const SyncJob& job, const FieldMap& field_map, SyncOutcome& out) {
    const std::string& list_code = job.list_code;
    if (job.operation == "delete") {
        std::string code =
            job.contact_code.empty() ? payload_string(job.payload_json, "contact_code") : job.contact_code;
        // No code known. Only a create that was never sent before is sure to have left nothing in
        // Dinamize; anything else (an earlier attempt whose answer was lost, an import applied
        // after its timeout) may have created the contact: look it up by e-mail.
        const bool never_sent = job.queued_operation == "create" && job.attempt <= 1;
        if (code.empty() && !never_sent) {
            const std::string email = payload_string(job.payload_json, "email");
            if (!email.empty()) code = find_contact_code(client, email, list_code);
        }
        if (code.empty()) {
            out.skipped = true;
            out.message = "no Dinamize contact linked: nothing to delete";
            return;
        }
        try {
            client.call("/emkt/contact/delete", {{"contact_code", code}, {"contact-list_code", list_code}});
        } catch (const DinamizeError& e) {
            // Already gone (deleted on Dinamize's side, or our earlier attempt landed after we gave
            // up waiting for its answer): the delete has its effect. A code we do not know: ask.
            if (!e.not_found() &&
                !(e.unknown_code() &&
                  !contact_still_exists(client, list_code, code, payload_string(job.payload_json, "email"), e)))
                throw;
            out.message = "contact was already absent from Dinamize";
        }
        out.contact_code = code;
        return;
    }
    if (job.operation != "create" && job.operation != "update")
        throw std::invalid_argument("unknown operation \"" + job.operation + "\"");
    if (job.lead_json.empty()) {
        out.skipped = true;
        out.message = "lead no longer exists: nothing to send";
        return;
    }
    const Contact contact = contact_from_lead(stored_json(job.lead_json, "lead"), field_map);
    out.contact_code = upsert_contact(client, contact, list_code, job.contact_code);
}

}  // namespace

SyncOutcome outcome_for(const SyncJob& job) {
    SyncOutcome out;
    out.job_id = job.id;
    out.lead_id = job.lead_id;
    out.account_id = job.account_id;
    out.list_code = job.list_code;
    out.operation = job.operation;
    out.attempt = job.attempt;
    return out;
}

void set_failure(SyncOutcome& out, const DinamizeError& e) {
    out.ok = false;
    out.category = e.category();
    out.error_code = e.dinamize_code();
    out.message = e.what();
    out.retryable = e.retryable();
    out.retry_after_seconds = e.retry_after_seconds();
}

void make_storable(SyncOutcome& o) {
    if (!o.contact_code.empty() && !storable_contact_code(o.contact_code)) {
        const std::string shown = storable_text(o.contact_code, 60);
        o.contact_code.clear();
        if (o.ok) {
            // Not what the protocol allows, and crm_lead_sync would refuse it: the job fails with
            // the reason instead of failing the statement that records the whole batch.
            o.ok = false;
            o.skipped = false;
            o.category = ErrorCategory::Validation;
            o.error_code.clear();
            o.retryable = false;
            o.retry_after_seconds = 0;
            o.message = "Dinamize answered a contact code that is not 1-32 digits: " + shown;
        }
    }
    o.list_code = storable_text(o.list_code, 32);
    o.operation = storable_text(o.operation, 10);
    o.error_code = storable_text(o.error_code, kMaxErrorCodeBytes);
    o.message = storable_text(o.message, kMaxMessageBytes);
    o.request_unique = storable_text(o.request_unique, kMaxRequestUniqueBytes);
    o.attempt = static_cast<int>(clamp_to_int(o.attempt));
    o.retry_after_seconds = static_cast<int>(clamp_to_int(o.retry_after_seconds));
    o.duration_ms = clamp_to_int(o.duration_ms);
}

SyncOutcome run_job(DinamizeClient& client, const SyncJob& job, const FieldMap& field_map) {
    SyncOutcome out = outcome_for(job);
    const auto started = std::chrono::steady_clock::now();
    try {
        perform(client, job, field_map, out);
        out.ok = true;
    } catch (const DinamizeError& e) {
        set_failure(out, e);
    } catch (const nlohmann::json::exception& e) {
        out.category = ErrorCategory::Validation;  // our own stored JSON is unreadable: retrying won't fix it
        out.message = std::string("job data is not valid JSON: ") + e.what();
    } catch (const std::invalid_argument& e) {
        out.category = ErrorCategory::Validation;
        out.message = e.what();
    } catch (const Interrupted&) {
        throw;
    } catch (const std::exception& e) {
        // Nothing else is expected here; should it happen, the job fails (after the retries) with
        // the reason instead of the exception ending the worker's round.
        out.category = ErrorCategory::ApiError;
        out.retryable = true;
        out.message = std::string("unexpected error while sending the job: ") + e.what();
    }
    out.request_unique = client.last_request_unique();
    out.duration_ms = static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
    make_storable(out);
    return out;
}

}  // namespace dwu
