#include "import_routes.h"

#include "api_error.h"
#include "invented_codes.h"
#include "json_fields.h"
#include "sim_import.h"
#include "sim_routes.h"

namespace sim {
namespace {

using nlohmann::json;

const httplib::MultipartFormData& part(const httplib::Request& req, const char* name) {
    auto it = req.files.find(name);
    if (it == req.files.end()) invalid(std::string("Multipart part '") + name + "' is required");
    return it->second;
}

json import_contacts(SimContext& ctx, const std::string& client, const httplib::Request& req) {
    if (!req.is_multipart_form_data()) invalid("POST /emkt/contact expects multipart/form-data (command=import)");
    if (part(req, "command").content != "import") invalid("Part 'command' must be 'import'");
    ImportParameters params = parse_import_parameters(part(req, "parameters").content);
    ImportPlan plan = plan_import(part(req, "file").content, params);
    auto [inserted, updated] = ctx.state.import_contacts(client, params.list, plan.rows);
    json report{{"contact-list_code", params.list},    {"Status", "FINISHED"},
                {"Lines", std::to_string(plan.lines)}, {"Inserted", std::to_string(inserted)},
                {"Updated", std::to_string(updated)},  {"Errors", std::to_string(plan.errors)}};
    return json{{"code", ctx.imports.add(client, std::move(report))}};
}

json import_get(SimContext& ctx, const std::string& client, const json& request) {
    return ctx.imports.get(client, required_numeric_code(request, "code"));
}

}  // namespace

void register_import_routes(httplib::Server& server, SimContext& ctx) {
    add_raw_data_route(server, ctx, "/emkt/contact", import_contacts, Endpoint::kData);
    add_data_route(server, ctx, "/emkt/import/get", import_get, Endpoint::kData);
}

}  // namespace sim
