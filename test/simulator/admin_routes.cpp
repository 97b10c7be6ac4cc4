#include "admin_routes.h"

#include "envelope.h"
#include "json_fields.h"

namespace sim {
namespace {

using nlohmann::json;

void send_error(httplib::Response& res, const std::string& message) {
    send_json(res, json{{"error", message}}, 400);
}

void handle_contacts(SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
    std::string client = req.get_param_value("client_code");
    auto list = canonical_numeric(req.get_param_value("list"));
    if (client.empty() || !list) {
        send_error(res, "query parameters client_code and list (numeric) are required");
        return;
    }
    json contacts = json::array();
    for (const auto& c : ctx.state.contacts(client, *list)) contacts.push_back(to_item(c));
    send_json(res, json{{"contacts", std::move(contacts)}});
}

void handle_config(SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
    json body = json::parse(req.body, nullptr, false);
    auto it = body.is_object() ? body.find("rate_limit_per_minute") : body.end();
    if (!body.is_object() || it == body.end() || !it->is_number_unsigned() ||
        it->get<std::uint64_t>() > 1000000) {
        send_error(res, "expected {\"rate_limit_per_minute\": <0..1000000>}");
        return;
    }
    ctx.limiter.set_limit(it->get<unsigned>());
    send_json(res, json{{"rate_limit_per_minute", ctx.limiter.limit()}});
}

}  // namespace

void register_admin_routes(httplib::Server& server, SimContext& ctx) {
    using Req = httplib::Request;
    using Res = httplib::Response;

    server.Get("/__sim/health", [](const Req&, Res& res) { send_json(res, json{{"ok", true}}); });
    server.Get("/__sim/contacts", [&ctx](const Req& req, Res& res) { handle_contacts(ctx, req, res); });
    server.Get("/__sim/stats", [&ctx](const Req&, Res& res) { send_json(res, ctx.stats.to_json()); });
    server.Post("/__sim/reset", [&ctx](const Req&, Res& res) {
        ctx.state.reset();
        ctx.stats.reset();
        ctx.limiter.reset();
        ctx.limiter.set_limit(ctx.startup_rate_limit);
        send_json(res, json{{"ok", true}});
    });
    server.Post("/__sim/expire-tokens", [&ctx](const Req&, Res& res) {
        ctx.state.expire_all_tokens();
        send_json(res, json{{"ok", true}});
    });
    server.Post("/__sim/config", [&ctx](const Req& req, Res& res) { handle_config(ctx, req, res); });
}

}  // namespace sim
