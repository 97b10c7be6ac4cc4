#include "sim_routes.h"

#include "api_codes.h"
#include "api_error.h"
#include "catalog_routes.h"
#include "envelope.h"
#include "import_routes.h"
#include "invented_codes.h"
#include "json_fields.h"
#include "protocol_faults.h"
#include "search_filter.h"
#include "sim_time.h"

#include <functional>
#include <iostream>
#include <optional>

namespace sim {
namespace {

using nlohmann::json;

// What a route runs once the token and rate limit have passed: returns the envelope's body.
using RouteBody = std::function<json(SimContext&, const std::string& client, const httplib::Request& req)>;

// One envelope to send; `fault` names the injected fault that produced it, if any.
struct Answer {
    std::string code;
    std::string detail;
    json body = json::object();
    std::optional<FaultKind> fault;
};

Answer error_answer(const ApiError& e) { return Answer{e.code(), e.what(), e.body(), std::nullopt}; }

// Sends `answer` and completes the log entry (and the fault count, if a fault produced it).
void send_answer(SimContext& ctx, httplib::Response& res, LoggedRequest& log, const Answer& answer) {
    log.record().outcome = answer.code;
    if (answer.fault) note_fault(ctx, log.record(), *answer.fault, true);
    send_envelope(res, answer.code, answer.detail, answer.body);
}

void check_rate_limit(SimContext& ctx, const std::string& account) {
    if (auto wait = ctx.limiter.admit(account)) {
        ctx.stats.count_rate_limited();
        // retry-after travels inside body, as a string of seconds (§4).
        throw ApiError(codes::kRateLimited, "Requests limit exceeded", json{{"retry-after", std::to_string(*wait)}});
    }
}

// Token first, then rate limit, then body: every data call needs a valid `auth-token` header.
// The expired_token fault acts at the token check, duplicate_email after the rate limit; each
// only when it changes the answer (a token that is invalid anyway gets the ordinary 249001).
Answer run_data_call(SimContext& ctx, const RouteBody& handler, const httplib::Request& req,
                     std::optional<FaultKind> fault) {
    try {
        std::string token = req.get_header_value("auth-token");
        if (fault == FaultKind::kExpiredToken && ctx.state.revoke_token(token))
            return Answer{invented::kInvalidToken, "Invalid or expired auth-token", json::object(), fault};
        auto client = ctx.state.client_for_token(token);
        if (!client) throw ApiError(invented::kInvalidToken, "Invalid or expired auth-token");
        check_rate_limit(ctx, *client);
        if (fault == FaultKind::kDuplicateEmail)
            return Answer{invented::kDuplicateEmail, "E-mail already exists in this list", json::object(), fault};
        return Answer{codes::kSuccess, codes::kSuccessDetail, handler(ctx, *client, req), std::nullopt};
    } catch (const ApiError& e) {
        return error_answer(e);
    }
}

void add_route(httplib::Server& server, SimContext& ctx, const char* path, RouteBody handler, Endpoint endpoint) {
    server.Post(path, [&ctx, handler, endpoint](const httplib::Request& req, httplib::Response& res) {
        ctx.faults.latency();  // before the arrival is logged: the request is still on its way
        LoggedRequest log(ctx.log, req.path);
        log.record().client_code = ctx.state.token_owner(req.get_header_value("auth-token")).value_or("");
        std::optional<FaultKind> fault = ctx.faults.draw(endpoint);
        if (fault && inject_before_processing(ctx, *fault, req, res, log)) return;
        Answer answer = run_data_call(ctx, handler, req, fault);
        if (fault == FaultKind::kLostResponse)
            lose_answer(ctx, req, res, log, answer.code);
        else
            send_answer(ctx, res, log, answer);
    });
}

std::uint64_t contact_code_of(const json& request) {
    return std::stoull(required_numeric_code(request, "contact_code"));
}

json contact_add(SimContext& ctx, const std::string& client, const json& request) {
    std::string list = required_numeric_code(request, "contact-list_code");
    ContactInput input = read_contact_input(request);
    return json{{"code", ctx.state.add_contact(client, list, input)}};
}

json contact_update(SimContext& ctx, const std::string& client, const json& request) {
    std::string list = required_numeric_code(request, "contact-list_code");
    std::uint64_t code = contact_code_of(request);
    ctx.state.update_contact(client, list, code, read_contact_input(request));
    return json::object();
}

json contact_delete(SimContext& ctx, const std::string& client, const json& request) {
    std::string list = required_numeric_code(request, "contact-list_code");
    ctx.state.delete_contact(client, list, contact_code_of(request));
    return json::object();
}

json contact_get(SimContext& ctx, const std::string& client, const json& request) {
    std::string list = required_numeric_code(request, "contact-list_code");
    return to_item(ctx.state.get_contact(client, list, contact_code_of(request)));
}

json contact_search(SimContext& ctx, const std::string& client, const json& request) {
    std::string list = required_numeric_code(request, "contact-list_code");
    SearchQuery query = parse_search_query(request);
    SearchPage page = run_search(ctx.state.contacts(client, list), query, today_local_date());
    json items = json::array();
    for (const auto& c : page.items) items.push_back(to_item(c));
    return json{{"next", page.next}, {"items", std::move(items)}};
}

// client_code as sent: a string, or a number tolerated like other scalars (§1).
std::string client_code_of(const json& request) {
    auto it = request.find("client_code");
    if (it == request.end()) return "";
    if (it->is_string()) return it->get<std::string>();
    if (it->is_number_unsigned()) return std::to_string(it->get<std::uint64_t>());
    return "";
}

Answer run_auth(SimContext& ctx, const std::string& body) {
    try {
        json request = parse_object_body(body);
        std::string client_code = client_code_of(request);
        if (ctx.state.is_account(client_code)) check_rate_limit(ctx, client_code);
        std::string user = optional_string(request, "user").value_or("");
        std::string password = optional_string(request, "password").value_or("");

        std::string token;
        switch (ctx.state.authenticate(user, password, client_code, token)) {
            case AuthOutcome::kOk:
                ctx.stats.count_auth(true);
                return Answer{codes::kSuccess, codes::kSuccessDetail, json{{"auth-token", token}, {"manager", true}},
                              std::nullopt};
            case AuthOutcome::kUserRequired:
                throw ApiError(codes::kUserRequired, "Username is required");
            case AuthOutcome::kPasswordRequired:
                throw ApiError(codes::kPasswordRequired, "Password is required");
            case AuthOutcome::kInvalidCredentials:
                throw ApiError(codes::kInvalidCredentials, "Username or password are invalid");
            case AuthOutcome::kInvalidClientCode:
                throw ApiError(codes::kInvalidClientCode, "The relationship between user and client wasn't found");
        }
        throw ApiError(invented::kInternalError, "Internal simulator error");  // unreachable
    } catch (const ApiError& e) {
        if (e.code() != codes::kRateLimited) ctx.stats.count_auth(false);
        return error_answer(e);
    }
}

// /auth can get the faults that act before processing (http_5xx, reset, delay, malformed_json).
void handle_auth(SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
    ctx.faults.latency();
    LoggedRequest log(ctx.log, req.path);
    // Parsed once more, quietly, so that even a faulted /auth is logged with its account.
    json request = json::parse(req.body, nullptr, false);
    if (request.is_object()) log.record().client_code = client_code_of(request);
    std::optional<FaultKind> fault = ctx.faults.draw(Endpoint::kAuth);
    if (fault && inject_before_processing(ctx, *fault, req, res, log)) return;
    send_answer(ctx, res, log, run_auth(ctx, req.body));
}

bool is_admin_path(const std::string& path) { return path.rfind("/__sim/", 0) == 0; }

std::string envelope_code_of(const std::string& body) {
    json parsed = json::parse(body, nullptr, false);
    if (parsed.is_object() && parsed.contains("code") && parsed["code"].is_string())
        return parsed["code"].get<std::string>();
    return "-";
}

}  // namespace

void add_data_route(httplib::Server& server, SimContext& ctx, const char* path, DataHandler handler,
                    Endpoint endpoint) {
    add_route(
        server, ctx, path,
        [handler](SimContext& c, const std::string& client, const httplib::Request& req) {
            return handler(c, client, parse_object_body(req.body));
        },
        endpoint);
}

void add_raw_data_route(httplib::Server& server, SimContext& ctx, const char* path, RawDataHandler handler,
                        Endpoint endpoint) {
    add_route(server, ctx, path, handler, endpoint);
}

void register_protocol_routes(httplib::Server& server, SimContext& ctx) {
    server.Post("/auth", [&ctx](const httplib::Request& req, httplib::Response& res) { handle_auth(ctx, req, res); });
    add_data_route(server, ctx, "/emkt/contact/add", contact_add, Endpoint::kContactAdd);
    add_data_route(server, ctx, "/emkt/contact/update", contact_update, Endpoint::kData);
    add_data_route(server, ctx, "/emkt/contact/delete", contact_delete, Endpoint::kData);
    add_data_route(server, ctx, "/emkt/contact/get", contact_get, Endpoint::kData);
    add_data_route(server, ctx, "/emkt/contact/search", contact_search, Endpoint::kData);
    register_catalog_routes(server, ctx);
    register_import_routes(server, ctx);
}

void register_fallbacks(httplib::Server& server, SimContext& ctx, bool verbose) {
    // Counted before routing, so the count is visible as soon as the client has its answer.
    server.set_pre_routing_handler([&ctx](const httplib::Request& req, httplib::Response&) {
        if (!is_admin_path(req.path)) ctx.stats.count_request(req.path);
        return httplib::Server::HandlerResponse::Unhandled;
    });

    // Called for every status >= 400; fills only answers nobody wrote: unknown paths (404) and
    // requests httplib rejects before routing, e.g. a POST without Content-Length (400). These
    // never reach a protocol handler, so their log entry is written here.
    server.set_error_handler(
        httplib::Server::HandlerWithResponse([&ctx](const httplib::Request& req, httplib::Response& res) {
            if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
            std::string detail = res.status == 404 ? "Endpoint not found"
                                                   : "Bad request (HTTP " + std::to_string(res.status) +
                                                         "); a POST needs a body or Content-Length: 0";
            if (is_admin_path(req.path)) {
                send_json(res, json{{"error", detail}}, res.status);
            } else {
                const char* code = res.status == 404 ? invented::kUnknownEndpoint : invented::kValidation;
                LoggedRequest log(ctx.log, req.path);
                log.record().client_code = ctx.state.token_owner(req.get_header_value("auth-token")).value_or("");
                log.record().outcome = code;
                send_envelope(res, code, detail, json::object(), res.status);
            }
            return httplib::Server::HandlerResponse::Handled;
        }));

    server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        send_envelope(res, invented::kInternalError, "Internal simulator error", json::object(), 500);
    });

    if (verbose) {
        server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
            std::cerr << "dinamize_sim: " << req.method << ' ' << req.path << " -> " << res.status << ' '
                      << envelope_code_of(res.body) << std::endl;
        });
    }
}

}  // namespace sim
