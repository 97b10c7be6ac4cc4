#include "core/dinamize/code_probe.h"

#include <map>

#include "core/crypto/hex_digest.h"
#include "core/crypto/secret_box.h"
#include "core/dinamize/untrusted_json.h"

namespace dwu {
namespace {

// A contact code no list holds: the largest 18-digit code.
constexpr const char* kNoSuchContact = "999999999999999999";
constexpr const char* kInvalidAddress = "dwu-crm-probe.invalid-address";

std::string made_up_token() { return "dwuprobe" + random_hex(16); }

// The code a refused call answered, or a note saying why nothing was learned.
ProbeFinding refused_with(CodeMeaning meaning, const DinamizeError& e) {
    if (e.dinamize_code().empty()) return {meaning, "", std::string("no code in the answer: ") + e.what()};
    return {meaning, e.dinamize_code(), storable_text(e.what(), 200)};
}

ProbeFinding probe_expired_token(DinamizeClient& client) {
    const CodeMeaning m = CodeMeaning::ExpiredToken;
    if (!client.has_token() || client.token_due_for_renewal()) client.login();
    std::string saved = client.token();
    const Clock::time_point issued = client.token_issued_at(), used = client.token_last_used();
    const std::chrono::milliseconds interval = client.login_interval();
    // A token used a moment ago and a login interval of a day: the refusal comes back as it is,
    // without a new login and a retry.
    struct Restore {
        DinamizeClient& c;
        std::string& token;
        Clock::time_point issued, used;
        std::chrono::milliseconds interval;
        ~Restore() {
            c.adopt_token(std::move(token), issued, used);
            c.set_login_interval(interval);
            wipe(token);
        }
    } restore{client, saved, issued, used, interval};
    client.set_login_interval(std::chrono::hours(24));
    client.adopt_token(made_up_token(), Clock::now(), Clock::now());
    try {
        client.call("/emkt/contact-list/search", {{"page_number", "1"}, {"page_size", "1"}});
    } catch (const DinamizeError& e) {
        return refused_with(m, e);
    }
    return {m, "", "Dinamize accepted a made-up token: nothing to learn"};
}

ProbeFinding probe_not_found(DinamizeClient& client, const std::string& list_code) {
    const CodeMeaning m = CodeMeaning::NotFound;
    try {
        client.call("/emkt/contact/get", {{"contact_code", kNoSuchContact}, {"contact-list_code", list_code}});
    } catch (const DinamizeError& e) {
        return refused_with(m, e);
    }
    return {m, "", std::string("Dinamize answered a contact for code ") + kNoSuchContact + ": nothing to learn"};
}

// An add that succeeded although it should not have: the contact it created goes again.
std::string undo_add(DinamizeClient& client, const std::string& list_code, const nlohmann::json& body) {
    const auto code = body.is_object() ? body.find("code") : body.end();
    const std::string created = code == body.end() ? "" : json_scalar_text(*code);
    if (!is_dinamize_code(created)) return "no contact code in the answer";
    try {
        client.call("/emkt/contact/delete", {{"contact_code", created}, {"contact-list_code", list_code}});
        return "contact " + created + " it created was deleted again";
    } catch (const DinamizeError& e) {
        return "contact " + created + " it created could not be deleted: " + storable_text(e.what(), 120);
    }
}

ProbeFinding probe_invalid_field(DinamizeClient& client, const std::string& list_code) {
    const CodeMeaning m = CodeMeaning::InvalidField;
    nlohmann::json body;
    try {
        body = client.call("/emkt/contact/add", {{"contact-list_code", list_code}, {"email", kInvalidAddress}});
    } catch (const DinamizeError& e) {
        return refused_with(m, e);
    }
    return {m, "", "Dinamize accepted an invalid e-mail; " + undo_add(client, list_code, body)};
}

ProbeFinding probe_duplicate(DinamizeClient& client, const std::string& list_code) {
    const CodeMeaning m = CodeMeaning::DuplicateEmail;
    const nlohmann::json page = client.call(
        "/emkt/contact/search", {{"contact-list_code", list_code}, {"page_number", "1"}, {"page_size", "1"}});
    const auto items = page.is_object() ? page.find("items") : page.end();
    if (items == page.end() || !items->is_array() || items->empty() || !items->front().is_object())
        return {m, "", "skipped: the list is empty (no e-mail to add twice)"};
    const nlohmann::json& item = items->front();
    const std::string existing = item.contains("code") ? json_scalar_text(item["code"]) : "";
    // Its own values, as the search gave them: an API that updates instead of refusing changes nothing.
    nlohmann::json request = {{"contact-list_code", list_code}};
    for (const char* key : {"email", "name", "external_code"}) {
        const auto v = item.find(key);
        if (v != item.end() && v->is_string()) request[key] = *v;
    }
    if (!request.contains("email")) return {m, "", "skipped: the list's first contact has no e-mail"};
    const auto custom = item.find("custom_fields");
    if (custom != item.end() && custom->is_object() && !custom->empty()) request["custom_fields"] = *custom;
    nlohmann::json body;
    try {
        body = client.call("/emkt/contact/add", request);
    } catch (const DinamizeError& e) {
        return refused_with(m, e);
    }
    const auto code = body.is_object() ? body.find("code") : body.end();
    if (code != body.end() && json_scalar_text(*code) == existing)
        return {m, "", "Dinamize updated the existing contact with its own values instead of refusing"};
    return {m, "", "Dinamize added the e-mail twice; " + undo_add(client, list_code, body)};
}

}  // namespace

std::vector<ProbeFinding> probe_codes(DinamizeClient& client, const std::string& list_code) {
    std::vector<ProbeFinding> found;
    // Each probe on its own: a transport failure of one is its finding, the others still run.
    auto attempt = [&](CodeMeaning m, auto&& probe) {
        try {
            found.push_back(probe());
        } catch (const Interrupted&) {
            throw;
        } catch (const DinamizeError& e) {
            found.push_back({m, "", "could not probe: " + storable_text(e.what(), 200)});
        }
    };
    attempt(CodeMeaning::NotFound, [&] { return probe_not_found(client, list_code); });
    attempt(CodeMeaning::ExpiredToken, [&] { return probe_expired_token(client); });
    attempt(CodeMeaning::InvalidField, [&] { return probe_invalid_field(client, list_code); });
    attempt(CodeMeaning::DuplicateEmail, [&] { return probe_duplicate(client, list_code); });
    found.push_back({CodeMeaning::DuplicateTitle, "", "not probed: it would need a field created in the list"});

    std::map<std::string, int> uses;
    for (const auto& f : found)
        if (!f.code.empty()) ++uses[f.code];
    for (auto& f : found)
        if (!f.code.empty() && uses[f.code] > 1) {
            f.note = "answered " + f.code + " for another condition too: not told apart, not stored";
            f.code.clear();
        }
    return found;
}

}  // namespace dwu
