#include "admin_routes.h"

#include "admin_data_routes.h"
#include "envelope.h"
#include "json_fields.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>

namespace sim {
namespace {

using nlohmann::json;

void send_error(httplib::Response& res, const std::string& message) { send_json(res, json{{"error", message}}, 400); }

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

// {"rate_limit_per_minute": N[, "rate_limit_window_seconds": W]} — N requests per W s (default
// window unchanged); N = 0 turns the limit off.
void handle_config(SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
    json body = json::parse(req.body, nullptr, false);
    auto it = body.is_object() ? body.find("rate_limit_per_minute") : body.end();
    auto window = body.is_object() ? body.find("rate_limit_window_seconds") : body.end();
    const bool window_ok =
        !body.is_object() || window == body.end() ||
        (window->is_number_unsigned() && window->get<std::uint64_t>() >= 1 && window->get<std::uint64_t>() <= 3600);
    if (!body.is_object() || it == body.end() || !it->is_number_unsigned() || it->get<std::uint64_t>() > 1000000 ||
        !window_ok) {
        send_error(res,
                   "expected {\"rate_limit_per_minute\": <0..1000000>[, \"rate_limit_window_seconds\": <1..3600>]}");
        return;
    }
    ctx.limiter.set_limit(it->get<unsigned>());
    if (window != body.end()) ctx.limiter.set_window(std::chrono::seconds(window->get<long>()));
    send_json(res, json{{"rate_limit_per_minute", ctx.limiter.limit()},
                        {"rate_limit_window_seconds", ctx.limiter.window().count()}});
}

// A query parameter that must be a whole number in [min, max]; nullopt if absent or bad.
std::optional<std::int64_t> int_param(const httplib::Request& req, const char* name, std::int64_t min,
                                      std::int64_t max) {
    std::string text = req.get_param_value(name);
    std::size_t used = 0;
    long long value = 0;
    try {
        value = std::stoll(text, &used);
    } catch (const std::exception&) {
        return std::nullopt;
    }
    if (used != text.size() || value < min || value > max) return std::nullopt;
    return value;
}

void handle_set_faults(SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
    json body = json::parse(req.body, nullptr, false);
    try {
        send_json(res, to_json(ctx.faults.update(body)));
    } catch (const std::invalid_argument& e) {
        send_error(res, e.what());
    }
}

void handle_requests(SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
    std::optional<std::int64_t> since = 0;
    if (req.has_param("since_ms")) since = int_param(req, "since_ms", 0, std::numeric_limits<std::int64_t>::max());
    if (!since) {
        send_error(res, "since_ms must be a non-negative integer (ms since the Unix epoch)");
        return;
    }
    send_json(res, ctx.log.since(*since));
}

void handle_window(SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
    constexpr std::int64_t kMaxSeconds = 100LL * 365 * 86400;
    std::string client = req.get_param_value("client_code");
    auto seconds = int_param(req, "seconds", 1, kMaxSeconds);
    if (client.empty() || !seconds) {
        send_error(res, "query parameters client_code and seconds (a positive integer) are required");
        return;
    }
    send_json(res, json{{"max_in_window", ctx.log.max_in_window(client, *seconds * 1000)}});
}

}  // namespace

void register_admin_routes(httplib::Server& server, SimContext& ctx) {
    using Req = httplib::Request;
    using Res = httplib::Response;

    server.Get("/__sim/health", [](const Req&, Res& res) { send_json(res, json{{"ok", true}}); });
    server.Get("/__sim/contacts", [&ctx](const Req& req, Res& res) { handle_contacts(ctx, req, res); });
    server.Get("/__sim/stats", [&ctx](const Req&, Res& res) { send_json(res, ctx.stats.to_json()); });
    server.Post("/__sim/reset", [&ctx](const Req& req, Res& res) {
        ctx.state.reset(req.get_param_value("keep_codes") == "true");
        ctx.stats.reset();
        ctx.limiter.reset();
        ctx.limiter.set_limit(ctx.startup_rate_limit);
        ctx.faults.reset();
        ctx.log.reset();
        reset_admin_data(ctx);
        send_json(res, json{{"ok", true}});
    });
    server.Post("/__sim/expire-tokens", [&ctx](const Req&, Res& res) {
        ctx.state.expire_all_tokens();
        send_json(res, json{{"ok", true}});
    });
    server.Post("/__sim/config", [&ctx](const Req& req, Res& res) { handle_config(ctx, req, res); });
    server.Get("/__sim/faults", [&ctx](const Req&, Res& res) { send_json(res, to_json(ctx.faults.settings())); });
    server.Post("/__sim/faults", [&ctx](const Req& req, Res& res) { handle_set_faults(ctx, req, res); });
    server.Get("/__sim/requests", [&ctx](const Req& req, Res& res) { handle_requests(ctx, req, res); });
    server.Get("/__sim/window", [&ctx](const Req& req, Res& res) { handle_window(ctx, req, res); });
    register_admin_data_routes(server, ctx);
}

}  // namespace sim
