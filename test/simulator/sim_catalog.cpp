#include "sim_catalog.h"

#include "api_error.h"
#include "contact.h"
#include "invented_codes.h"

#include <algorithm>

namespace sim {
namespace {

[[noreturn]] void field_not_found() { throw ApiError(invented::kNotFound, "Field not found"); }

std::uint64_t numeric(const std::string& code) { return std::stoull(code); }

}  // namespace

Catalog::Catalog(std::vector<std::string> clients, std::vector<ListSeed> seeds)
    : clients_(std::move(clients)), seeds_(std::move(seeds)) {
    std::lock_guard<std::mutex> lock(mutex_);
    seed_locked();
}

void Catalog::seed_locked() {
    lists_.clear();
    fields_.clear();
    for (const auto& client : clients_)
        for (const auto& seed : seeds_) lists_[client][seed.code] = seed.title;
}

void Catalog::reset() {
    std::lock_guard<std::mutex> lock(mutex_);
    seed_locked();
}

void Catalog::put_list(const std::string& client, const std::string& code, const std::string& title) {
    std::lock_guard<std::mutex> lock(mutex_);
    lists_[client][code] = title;
}

std::vector<nlohmann::json> Catalog::lists(const std::string& client,
                                           const std::vector<std::string>& implicit_codes) const {
    std::map<std::uint64_t, std::pair<std::string, std::string>> by_code;
    for (const auto& code : implicit_codes) by_code[numeric(code)] = {code, "Lista " + code};
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = lists_.find(client);
        if (it != lists_.end())
            for (const auto& [code, title] : it->second) by_code[numeric(code)] = {code, title};
    }
    std::vector<nlohmann::json> out;
    for (const auto& entry : by_code)
        out.push_back(nlohmann::json{{"code", entry.second.first}, {"title", entry.second.second}});
    return out;
}

void Catalog::check_title_free(const FieldMap& fields, const std::string& title, std::uint64_t except) {
    const std::string wanted = lower_ascii(title);
    for (const auto& [code, field] : fields)
        if (code != except && lower_ascii(field.def.title) == wanted)
            throw ApiError(invented::kDuplicateTitle, "A field titled '" + title + "' already exists in this list");
}

std::string Catalog::add_field(const std::string& client, const std::string& list, const FieldInput& input) {
    std::lock_guard<std::mutex> lock(mutex_);
    FieldMap& fields = fields_[client][list];
    check_title_free(fields, input.title, 0);
    std::uint64_t code = input.code;
    if (code == 0) {
        code = kFirstFieldCode;
        if (!fields.empty()) code = std::max(code, fields.rbegin()->first + 1);
    } else if (fields.count(code)) {
        throw ApiError(invented::kValidation, "Field code " + std::to_string(code) + " is taken");
    }
    Field f;
    f.def = input;
    f.def.code = code;
    fields.emplace(code, std::move(f));
    return std::to_string(code);
}

void Catalog::update_field(const std::string& client, const std::string& list, std::uint64_t code,
                           const FieldChange& change) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto by_client = fields_.find(client);
    if (by_client == fields_.end()) field_not_found();
    auto by_list = by_client->second.find(list);
    if (by_list == by_client->second.end()) field_not_found();
    auto it = by_list->second.find(code);
    if (it == by_list->second.end()) field_not_found();
    if (change.title) check_title_free(by_list->second, *change.title, code);
    FieldInput& def = it->second.def;
    if (change.title) def.title = *change.title;
    if (change.is_required) def.is_required = *change.is_required;
    if (change.is_uniquevalue) def.is_uniquevalue = *change.is_uniquevalue;
    if (change.is_searchable) def.is_searchable = *change.is_searchable;
}

std::vector<nlohmann::json> Catalog::fields(const std::string& client, const std::string& list) const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<nlohmann::json> out;
    auto by_client = fields_.find(client);
    if (by_client == fields_.end()) return out;
    auto by_list = by_client->second.find(list);
    if (by_list == by_client->second.end()) return out;
    for (const auto& [code, field] : by_list->second) {
        const FieldInput& d = field.def;
        out.push_back(nlohmann::json{{"code", std::to_string(code)},
                                     {"code_name", "cmp" + std::to_string(code)},
                                     {"title", d.title},
                                     {"type", d.type},
                                     {"is_required", d.is_required},
                                     {"is_uniquevalue", d.is_uniquevalue},
                                     {"is_searchable", d.is_searchable}});
    }
    return out;
}

const Catalog::Field* Catalog::find_field(const std::string& client, const std::string& list,
                                          std::uint64_t code) const {
    auto by_client = fields_.find(client);
    if (by_client == fields_.end()) return nullptr;
    auto by_list = by_client->second.find(list);
    if (by_list == by_client->second.end()) return nullptr;
    auto it = by_list->second.find(code);
    return it == by_list->second.end() ? nullptr : &it->second;
}

std::string Catalog::add_lov_value(const std::string& client, const std::string& list, std::uint64_t field_code,
                                   const std::string& value, std::uint64_t code) {
    std::lock_guard<std::mutex> lock(mutex_);
    Field* field = const_cast<Field*>(find_field(client, list, field_code));
    if (!field) field_not_found();
    if (code == 0)
        code = field->lov.empty() ? 1 : field->lov.rbegin()->first + 1;
    else if (field->lov.count(code))
        throw ApiError(invented::kValidation, "Value code " + std::to_string(code) + " is taken");
    field->lov.emplace(code, value);
    return std::to_string(code);
}

std::vector<nlohmann::json> Catalog::lov(const std::string& client, const std::string& list,
                                         std::uint64_t field_code) const {
    std::lock_guard<std::mutex> lock(mutex_);
    const Field* field = find_field(client, list, field_code);
    if (!field) field_not_found();
    std::vector<nlohmann::json> out;
    for (const auto& [code, value] : field->lov)
        out.push_back(nlohmann::json{{"code", std::to_string(code)}, {"value", value}});
    return out;
}

}  // namespace sim
