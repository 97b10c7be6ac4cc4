#include "core/sync/backfill.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <unordered_map>

#include "core/dinamize/dinamize_api.h"
#include "core/dinamize/dinamize_errors.h"
#include "core/dinamize/untrusted_json.h"

namespace dwu {
namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::string text_of(const nlohmann::json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_null()) return {};
    if (v.is_number_integer()) return std::to_string(v.get<long long>());
    return v.dump();
}

// "cmp12" → "12"; empty for anything else.
std::string field_number(const std::string& key) {
    if (key.size() < 4 || key.compare(0, 3, "cmp") != 0) return {};
    const std::string n = key.substr(3);
    return std::all_of(n.begin(), n.end(), [](unsigned char c) { return std::isdigit(c); }) ? n : std::string();
}

bool has_array_field(const Contact& c) {
    for (const auto& [key, value] : c.custom_fields.items())
        if (value.is_array()) return true;
    return false;
}

}  // namespace

ImportBuild build_backfill_import(const std::string& list_code, const std::vector<BackfillItem>& items) {
    ImportBuild out;
    out.import.list_code = list_code;
    std::set<std::string> custom;  // cmpN keys any item carries, sorted for a stable file
    for (const auto& item : items)
        if (!has_array_field(item.contact))
            for (const auto& [key, value] : item.contact.custom_fields.items())
                if (!field_number(key).empty()) custom.insert(key);
    out.import.columns = {{import_field::kEmail}, {import_field::kName}, {import_field::kExternalCode}};
    out.import.header = {"email", "name", "external_code"};
    for (const auto& key : custom) {
        out.import.columns.push_back({field_number(key)});
        out.import.header.push_back(key);
    }
    for (const auto& item : items) {
        if (has_array_field(item.contact)) {
            out.left_out.push_back(item.job_id);
            continue;
        }
        std::vector<std::string> row{item.contact.email.value_or(""), item.contact.name.value_or(""),
                                     item.contact.external_code.value_or("")};
        for (const auto& key : custom) row.push_back(text_of(item.contact.custom_fields.value(key, nlohmann::json())));
        out.import.rows.push_back(std::move(row));
        out.included.push_back(item.job_id);
    }
    return out;
}

bool import_finished(const ImportStatus& status) {
    if (!status.errors) return false;
    const auto it = status.body.is_object() ? status.body.find("Status") : status.body.end();
    if (it == status.body.end() || !it->is_string()) return true;
    const std::string s = lower(it->get<std::string>());
    return s != "pending" && s != "processing" && s != "running" && s != "queued";
}

BackfillReport backfill_contacts(DinamizeClient& client, const std::string& list_code,
                                 const std::vector<BackfillItem>& items, const BackfillSleep& sleep,
                                 const BackfillOptions& options) {
    BackfillReport report;
    ImportBuild build = build_backfill_import(list_code, items);
    report.send_one_by_one = build.left_out;
    if (build.included.empty()) return report;

    report.import_code = import_contacts(client, build.import);
    ++report.requests;
    bool finished = false;
    for (size_t poll = 0; !finished; ++poll) {
        const ImportStatus status = get_import(client, report.import_code);
        ++report.requests;
        if (import_finished(status)) {
            report.rejected_rows = *status.errors;
            finished = true;
        } else if (poll >= options.poll_delays_ms.size()) {
            break;  // never reported: read the list anyway; what is not there goes one by one
        } else if (!sleep(options.poll_delays_ms[poll])) {
            throw Interrupted();
        }
    }

    // The list read back, page by page (only the e-mails we imported are kept).
    std::unordered_map<std::string, long long> wanted;  // lower(e-mail) → index in build.included
    for (size_t i = 0; i < build.included.size(); ++i) wanted.emplace(lower(build.import.rows[i][0]), i);
    std::vector<std::string> found(build.included.size());
    ContactQuery query;
    query.list_code = list_code;
    query.page.page_size = options.page_size;
    for (long page = 1;; ++page) {
        query.page.page_number = page;
        const Page p = search_contacts(client, query);
        ++report.requests;
        for (const auto& contact : p.items) {
            if (!contact.is_object()) continue;
            const auto it = wanted.find(lower(text_of(contact.value("email", nlohmann::json()))));
            if (it == wanted.end()) continue;
            // A code that is not one (not 1-18 digits) maps nothing: the lead goes one by one and
            // gets its own answer, rather than a value crm_lead_sync would refuse.
            std::string code = json_scalar_text(contact.value("code", nlohmann::json()));
            if (is_dinamize_code(code)) found[it->second] = std::move(code);
        }
        if (!p.next || p.items.empty()) break;
    }
    for (size_t i = 0; i < build.included.size(); ++i) {
        const long long job = build.included[i];
        if (found[i].empty())
            report.send_one_by_one.push_back(job);
        else
            report.codes.emplace(job, found[i]);
    }
    return report;
}

}  // namespace dwu
