#include "core/sync/sync_job.h"

#include <chrono>

#include "core/sync/contact_sync.h"
#include "core/dinamize/dinamize_codes.h"

namespace dwu {
namespace {

std::string payload_string(const std::string& payload_json, const char* key) {
    const nlohmann::json payload = nlohmann::json::parse(payload_json.empty() ? "{}" : payload_json);
    auto it = payload.find(key);
    return it != payload.end() && it->is_string() ? it->get<std::string>() : std::string();
}

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
            // up waiting for its answer): the delete has its effect.
            if (e.dinamize_code() != codes::kNotFound) throw;
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
    const Contact contact = contact_from_lead(nlohmann::json::parse(job.lead_json), field_map);
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

SyncOutcome run_job(DinamizeClient& client, const SyncJob& job, const FieldMap& field_map) {
    SyncOutcome out = outcome_for(job);
    const auto started = std::chrono::steady_clock::now();
    try {
        perform(client, job, field_map, out);
        out.ok = true;
    } catch (const DinamizeError& e) {
        out.category = e.category();
        out.error_code = e.dinamize_code();
        out.message = e.what();
        out.retryable = e.retryable();
        out.retry_after_seconds = e.retry_after_seconds();
    } catch (const nlohmann::json::exception& e) {
        out.category = ErrorCategory::Validation;  // our own stored JSON is unreadable: retrying won't fix it
        out.message = std::string("job data is not valid JSON: ") + e.what();
    } catch (const std::invalid_argument& e) {
        out.category = ErrorCategory::Validation;
        out.message = e.what();
    }
    out.request_unique = client.last_request_unique();
    out.duration_ms = static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
    return out;
}

}  // namespace dwu
